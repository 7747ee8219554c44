//! Shipments and refunds of orders.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Shipments {
    Table,
    Id,
    OrderId,
    CompanyId,
    Carrier,
    Title,
    TrackingNumber,
    TrackingUrl,
    ShippedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    OrderId,
    CompanyId,
    AmountCents,
    Comment,
    ActorUserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Shipments::Table)
                .col(pk_auto(Shipments::Id))
                .col(integer(Shipments::OrderId))
                .col(integer(Shipments::CompanyId))
                .col(string_len(Shipments::Carrier, 100))
                .col(string_len_null(Shipments::Title, 100))
                .col(string_len(Shipments::TrackingNumber, 100))
                .col(string_len_null(Shipments::TrackingUrl, 500))
                .col(timestamp_with_time_zone(Shipments::ShippedAt))
                .col(timestamp_with_time_zone(Shipments::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_shipments_order")
                        .from(Shipments::Table, Shipments::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_shipments_order").table(Shipments::Table).col(Shipments::OrderId).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_shipments_tracking")
                .table(Shipments::Table)
                .col(Shipments::CompanyId)
                .col(Shipments::TrackingNumber)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Refunds::Table)
                .col(pk_auto(Refunds::Id))
                .col(integer(Refunds::OrderId))
                .col(integer(Refunds::CompanyId))
                .col(big_integer(Refunds::AmountCents))
                .col(text_null(Refunds::Comment))
                .col(integer_null(Refunds::ActorUserId))
                .col(timestamp_with_time_zone(Refunds::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_refunds_order")
                        .from(Refunds::Table, Refunds::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_refunds_order").table(Refunds::Table).col(Refunds::OrderId).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Refunds::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Shipments::Table).to_owned()).await?;
        Ok(())
    }
}
