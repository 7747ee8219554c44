//! Companies, users, login throttling, localities, orders with items, attributes and
//! status history, and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Identifier,
    Email,
    Phone,
    Cnpj,
    IntegrationTokenHash,
    IntegrationTokenPrefix,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    CompanyId,
    Role,
    Email,
    Name,
    PasswordHash,
    MustChangePassword,
    Active,
    TokenVersion,
    LastLoginAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    AccountKey,
    Failures,
    LockedUntil,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Localities {
    Table,
    Id,
    CompanyId,
    SourceId,
    Name,
    LogisticRole,
    Street,
    Number,
    Complement,
    District,
    City,
    State,
    Country,
    ZipCode,
    Latitude,
    Longitude,
    ResponsibleName,
    ResponsibleEmail,
    ResponsiblePhone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    CompanyId,
    SourceId,
    Code,
    Status,
    StatusBeforeHold,
    CustomerName,
    DestinationLocalityId,
    AddressStreet,
    AddressNumber,
    AddressComplement,
    AddressDistrict,
    AddressCity,
    AddressState,
    AddressCountry,
    AddressZipCode,
    AddressLatitude,
    AddressLongitude,
    PickupStart,
    PickupEnd,
    DeliveryStart,
    DeliveryEnd,
    Priority,
    Incoterm,
    TotalCents,
    Reference,
    Observations,
    InvoiceNumber,
    InvoiceKey,
    InvoiceSeries,
    InvoiceValueCents,
    InvoiceIssuedAt,
    InvoiceUrl,
    RefundedCents,
    LastEventAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Id,
    OrderId,
    SourceId,
    ProductId,
    Name,
    Quantity,
    UnitPriceCents,
    Height,
    Length,
    Width,
    Weight,
    OriginLocalityId,
}

#[derive(DeriveIden)]
enum OrderAttributes {
    Table,
    Id,
    OrderId,
    Kind,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum OrderStatusHistory {
    Table,
    Id,
    OrderId,
    CompanyId,
    FromStatus,
    ToStatus,
    Comment,
    NotifyCustomer,
    VisibleToCustomer,
    Source,
    ActorUserId,
    EventId,
    Applied,
    SkipReason,
    OccurredAt,
    RecordedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    CompanyId,
    ActorUserId,
    ActorKind,
    Action,
    Entity,
    EntityId,
    Detail,
    CreatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

fn ts(col: impl IntoIden) -> ColumnDef {
    timestamp_with_time_zone(col)
}

fn ts_null(col: impl IntoIden) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Companies::Table)
                .col(pk_auto(Companies::Id))
                .col(string_len_uniq(Companies::Identifier, 60))
                .col(string_len(Companies::Email, 254))
                .col(string_len(Companies::Phone, 30))
                .col(string_len(Companies::Cnpj, 14))
                .col(string_len(Companies::IntegrationTokenHash, 64))
                .col(string_len(Companies::IntegrationTokenPrefix, 16))
                .col(boolean(Companies::Active).default(true))
                .col(ts(Companies::CreatedAt))
                .col(ts(Companies::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_companies_token_hash")
                .table(Companies::Table)
                .col(Companies::IntegrationTokenHash)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(pk_auto(Users::Id))
                .col(integer_null(Users::CompanyId))
                .col(string_len(Users::Role, 16))
                .col(string_len(Users::Email, 254))
                .col(string_len(Users::Name, 200))
                .col(string_len(Users::PasswordHash, 200))
                .col(boolean(Users::MustChangePassword).default(false))
                .col(boolean(Users::Active).default(true))
                .col(integer(Users::TokenVersion).default(0))
                .col(ts_null(Users::LastLoginAt))
                .col(ts(Users::CreatedAt))
                .col(ts(Users::UpdatedAt))
                .foreign_key(&mut fk("fk_users_company", (Users::Table, Users::CompanyId), (Companies::Table, Companies::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_users_company_email")
                .table(Users::Table)
                .col(Users::CompanyId)
                .col(Users::Email)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_users_email").table(Users::Table).col(Users::Email).to_owned())
            .await?;
        // NULLs are distinct in the index above, so admins (no company) get a
        // partial unique index of their own; the syntax is the same on SQLite and
        // PostgreSQL.
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX ux_users_admin_email ON users (email) WHERE company_id IS NULL")
            .await?;

        m.create_table(
            Table::create()
                .table(LoginThrottle::Table)
                .col(string_len(LoginThrottle::AccountKey, 330).primary_key())
                .col(integer(LoginThrottle::Failures).default(0))
                .col(ts_null(LoginThrottle::LockedUntil))
                .col(ts(LoginThrottle::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Localities::Table)
                .col(pk_auto(Localities::Id))
                .col(integer(Localities::CompanyId))
                .col(string_len(Localities::SourceId, 30))
                .col(string_len(Localities::Name, 200))
                .col(string_len(Localities::LogisticRole, 12))
                .col(string_len_null(Localities::Street, 200))
                .col(string_len_null(Localities::Number, 30))
                .col(string_len_null(Localities::Complement, 30))
                .col(string_len_null(Localities::District, 50))
                .col(string_len_null(Localities::City, 50))
                .col(string_len_null(Localities::State, 2))
                .col(string_len_null(Localities::Country, 2))
                .col(string_len_null(Localities::ZipCode, 10))
                .col(double_null(Localities::Latitude))
                .col(double_null(Localities::Longitude))
                .col(string_len_null(Localities::ResponsibleName, 200))
                .col(string_len_null(Localities::ResponsibleEmail, 254))
                .col(string_len_null(Localities::ResponsiblePhone, 30))
                .col(ts(Localities::CreatedAt))
                .col(ts(Localities::UpdatedAt))
                .foreign_key(&mut fk("fk_localities_company", (Localities::Table, Localities::CompanyId), (Companies::Table, Companies::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_localities_company_source")
                .table(Localities::Table)
                .col(Localities::CompanyId)
                .col(Localities::SourceId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_localities_company_responsible")
                .table(Localities::Table)
                .col(Localities::CompanyId)
                .col(Localities::ResponsibleEmail)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Orders::Table)
                .col(pk_auto(Orders::Id))
                .col(integer(Orders::CompanyId))
                .col(string_len(Orders::SourceId, 30))
                .col(string_len(Orders::Code, 255))
                .col(string_len(Orders::Status, 20))
                .col(string_len_null(Orders::StatusBeforeHold, 20))
                .col(string_len_null(Orders::CustomerName, 200))
                .col(integer_null(Orders::DestinationLocalityId))
                .col(string_len_null(Orders::AddressStreet, 200))
                .col(string_len_null(Orders::AddressNumber, 30))
                .col(string_len_null(Orders::AddressComplement, 30))
                .col(string_len_null(Orders::AddressDistrict, 50))
                .col(string_len_null(Orders::AddressCity, 50))
                .col(string_len_null(Orders::AddressState, 2))
                .col(string_len_null(Orders::AddressCountry, 2))
                .col(string_len_null(Orders::AddressZipCode, 10))
                .col(double_null(Orders::AddressLatitude))
                .col(double_null(Orders::AddressLongitude))
                .col(ts_null(Orders::PickupStart))
                .col(ts_null(Orders::PickupEnd))
                .col(ts_null(Orders::DeliveryStart))
                .col(ts_null(Orders::DeliveryEnd))
                .col(integer(Orders::Priority).default(0))
                .col(string_len_null(Orders::Incoterm, 8))
                .col(big_integer(Orders::TotalCents).default(0))
                .col(string_len_null(Orders::Reference, 500))
                .col(string_len_null(Orders::Observations, 500))
                .col(string_len_null(Orders::InvoiceNumber, 30))
                .col(string_len_null(Orders::InvoiceKey, 60))
                .col(string_len_null(Orders::InvoiceSeries, 10))
                .col(big_integer_null(Orders::InvoiceValueCents))
                .col(ts_null(Orders::InvoiceIssuedAt))
                .col(string_len_null(Orders::InvoiceUrl, 500))
                .col(big_integer(Orders::RefundedCents).default(0))
                .col(ts_null(Orders::LastEventAt))
                .col(ts(Orders::CreatedAt))
                .col(ts(Orders::UpdatedAt))
                .foreign_key(&mut fk("fk_orders_company", (Orders::Table, Orders::CompanyId), (Companies::Table, Companies::Id)))
                .foreign_key(&mut fk(
                    "fk_orders_destination",
                    (Orders::Table, Orders::DestinationLocalityId),
                    (Localities::Table, Localities::Id),
                ))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ux_orders_company_source", vec![Orders::CompanyId, Orders::SourceId]),
            ("ix_orders_company_status", vec![Orders::CompanyId, Orders::Status]),
            // Pages are sorted by (column, id): the id in the index spares a sort.
            ("ix_orders_company_created", vec![Orders::CompanyId, Orders::CreatedAt, Orders::Id]),
            ("ix_orders_company_updated", vec![Orders::CompanyId, Orders::UpdatedAt, Orders::Id]),
            ("ix_orders_company_code", vec![Orders::CompanyId, Orders::Code]),
            ("ix_orders_destination", vec![Orders::DestinationLocalityId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Orders::Table);
            for col in cols {
                index.col(col);
            }
            if name.starts_with("ux_") {
                index.unique();
            }
            m.create_index(index.to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(OrderItems::Table)
                .col(pk_auto(OrderItems::Id))
                .col(integer(OrderItems::OrderId))
                .col(string_len(OrderItems::SourceId, 30))
                .col(string_len(OrderItems::ProductId, 30))
                .col(string_len(OrderItems::Name, 200))
                .col(double(OrderItems::Quantity))
                .col(big_integer(OrderItems::UnitPriceCents).default(0))
                .col(double_null(OrderItems::Height))
                .col(double_null(OrderItems::Length))
                .col(double_null(OrderItems::Width))
                .col(double_null(OrderItems::Weight))
                .col(integer_null(OrderItems::OriginLocalityId))
                .foreign_key(
                    &mut fk("fk_items_order", (OrderItems::Table, OrderItems::OrderId), (Orders::Table, Orders::Id))
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .foreign_key(&mut fk(
                    "fk_items_origin",
                    (OrderItems::Table, OrderItems::OriginLocalityId),
                    (Localities::Table, Localities::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_items_order").table(OrderItems::Table).col(OrderItems::OrderId).to_owned())
            .await?;
        m.create_index(
            Index::create().name("ix_items_product").table(OrderItems::Table).col(OrderItems::ProductId).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OrderAttributes::Table)
                .col(pk_auto(OrderAttributes::Id))
                .col(integer(OrderAttributes::OrderId))
                .col(string_len(OrderAttributes::Kind, 16))
                .col(string_len(OrderAttributes::Key, 60))
                .col(string_len(OrderAttributes::Value, 500))
                .foreign_key(
                    &mut fk("fk_attributes_order", (OrderAttributes::Table, OrderAttributes::OrderId), (Orders::Table, Orders::Id))
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_attributes_order_kind_key")
                .table(OrderAttributes::Table)
                .col(OrderAttributes::OrderId)
                .col(OrderAttributes::Kind)
                .col(OrderAttributes::Key)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OrderStatusHistory::Table)
                .col(pk_auto(OrderStatusHistory::Id))
                .col(integer(OrderStatusHistory::OrderId))
                .col(integer(OrderStatusHistory::CompanyId))
                .col(string_len_null(OrderStatusHistory::FromStatus, 20))
                .col(string_len(OrderStatusHistory::ToStatus, 20))
                .col(text_null(OrderStatusHistory::Comment))
                .col(boolean(OrderStatusHistory::NotifyCustomer).default(false))
                .col(boolean(OrderStatusHistory::VisibleToCustomer).default(true))
                .col(string_len(OrderStatusHistory::Source, 30))
                .col(integer_null(OrderStatusHistory::ActorUserId))
                .col(string_len_null(OrderStatusHistory::EventId, 100))
                .col(boolean(OrderStatusHistory::Applied).default(true))
                .col(string_len_null(OrderStatusHistory::SkipReason, 200))
                .col(ts(OrderStatusHistory::OccurredAt))
                .col(ts(OrderStatusHistory::RecordedAt))
                .foreign_key(
                    &mut fk(
                        "fk_history_order",
                        (OrderStatusHistory::Table, OrderStatusHistory::OrderId),
                        (Orders::Table, Orders::Id),
                    )
                    .on_delete(ForeignKeyAction::Cascade)
                    .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_history_order")
                .table(OrderStatusHistory::Table)
                .col(OrderStatusHistory::OrderId)
                .col(OrderStatusHistory::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_history_order_event")
                .table(OrderStatusHistory::Table)
                .col(OrderStatusHistory::OrderId)
                .col(OrderStatusHistory::EventId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(pk_auto(AuditLog::Id))
                .col(integer_null(AuditLog::CompanyId))
                .col(integer_null(AuditLog::ActorUserId))
                .col(string_len(AuditLog::ActorKind, 16))
                .col(string_len(AuditLog::Action, 60))
                .col(string_len(AuditLog::Entity, 40))
                .col(string_len_null(AuditLog::EntityId, 60))
                .col(json_null(AuditLog::Detail))
                .col(ts(AuditLog::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_company_created")
                .table(AuditLog::Table)
                .col(AuditLog::CompanyId)
                .col(AuditLog::CreatedAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            OrderStatusHistory::Table.into_iden(),
            OrderAttributes::Table.into_iden(),
            OrderItems::Table.into_iden(),
            Orders::Table.into_iden(),
            Localities::Table.into_iden(),
            LoginThrottle::Table.into_iden(),
            Users::Table.into_iden(),
            Companies::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
