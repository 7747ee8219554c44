//! Invoices kept apart and shipments' tracking timelines.
//! - `invoices`: every fiscal invoice of an order, by number (a VTEX order
//!   can be invoiced in parts). The order's `invoice_*` columns keep the
//!   latest one, as before; existing orders' invoices are copied here.
//! - `shipments.invoice_number`: the invoice a shipment carries, so a
//!   carrier's update addressed by invoice finds its shipment;
//!   `shipments.delivered_at`: when the carrier delivered it.
//! - `tracking_events`: a shipment's timeline as its carrier reports it
//!   (where, what, when), replaced whole by each report.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    CompanyId,
    InvoiceNumber,
    InvoiceKey,
    InvoiceSeries,
    InvoiceValueCents,
    InvoiceIssuedAt,
    InvoiceUrl,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
    OrderId,
    CompanyId,
    Number,
    Key,
    Series,
    ValueCents,
    IssuedAt,
    Url,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Shipments {
    Table,
    Id,
    InvoiceNumber,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum TrackingEvents {
    Table,
    Id,
    ShipmentId,
    OrderId,
    CompanyId,
    Position,
    OccurredAt,
    City,
    State,
    Description,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Invoices::Table)
                .col(pk_auto(Invoices::Id))
                .col(integer(Invoices::OrderId))
                .col(integer(Invoices::CompanyId))
                .col(string_len(Invoices::Number, 30))
                .col(string_len_null(Invoices::Key, 60))
                .col(string_len_null(Invoices::Series, 10))
                .col(big_integer(Invoices::ValueCents))
                .col(timestamp_with_time_zone(Invoices::IssuedAt))
                .col(string_len_null(Invoices::Url, 500))
                .col(timestamp_with_time_zone(Invoices::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_invoices_order")
                        .from(Invoices::Table, Invoices::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_invoices_order_number")
                .table(Invoices::Table)
                .col(Invoices::OrderId)
                .col(Invoices::Number)
                .unique()
                .to_owned(),
        )
        .await?;
        let copy = Query::insert()
            .into_table(Invoices::Table)
            .columns([
                Invoices::OrderId,
                Invoices::CompanyId,
                Invoices::Number,
                Invoices::Key,
                Invoices::Series,
                Invoices::ValueCents,
                Invoices::IssuedAt,
                Invoices::Url,
                Invoices::CreatedAt,
            ])
            .select_from(
                Query::select()
                    .columns([
                        Orders::Id,
                        Orders::CompanyId,
                        Orders::InvoiceNumber,
                        Orders::InvoiceKey,
                        Orders::InvoiceSeries,
                        Orders::InvoiceValueCents,
                        Orders::InvoiceIssuedAt,
                        Orders::InvoiceUrl,
                        Orders::UpdatedAt,
                    ])
                    .from(Orders::Table)
                    .and_where(Expr::col(Orders::InvoiceNumber).is_not_null())
                    .and_where(Expr::col(Orders::InvoiceValueCents).is_not_null())
                    .and_where(Expr::col(Orders::InvoiceIssuedAt).is_not_null())
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        m.exec_stmt(copy).await?;

        m.alter_table(Table::alter().table(Shipments::Table).add_column(string_len_null(Shipments::InvoiceNumber, 30)).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Shipments::Table).add_column(timestamp_with_time_zone_null(Shipments::DeliveredAt)).to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table(TrackingEvents::Table)
                .col(pk_auto(TrackingEvents::Id))
                .col(integer(TrackingEvents::ShipmentId))
                .col(integer(TrackingEvents::OrderId))
                .col(integer(TrackingEvents::CompanyId))
                .col(integer(TrackingEvents::Position))
                .col(timestamp_with_time_zone_null(TrackingEvents::OccurredAt))
                .col(string_len_null(TrackingEvents::City, 100))
                .col(string_len_null(TrackingEvents::State, 100))
                .col(string_len(TrackingEvents::Description, 500))
                .col(timestamp_with_time_zone(TrackingEvents::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tracking_events_shipment")
                        .from(TrackingEvents::Table, TrackingEvents::ShipmentId)
                        .to(Shipments::Table, Shipments::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_tracking_events_order").table(TrackingEvents::Table).col(TrackingEvents::OrderId).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_tracking_events_shipment")
                .table(TrackingEvents::Table)
                .col(TrackingEvents::ShipmentId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TrackingEvents::Table).to_owned()).await?;
        for column in [Shipments::DeliveredAt, Shipments::InvoiceNumber] {
            m.alter_table(Table::alter().table(Shipments::Table).drop_column(column).to_owned()).await?;
        }
        m.drop_table(Table::drop().table(Invoices::Table).to_owned()).await
    }
}
