//! Shipments made before invoices were kept apart carried no invoice
//! number; their order had one invoice at most, the one in its own columns.
//! They get that number, so a carrier's report addressed by invoice finds
//! the shipment.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    InvoiceNumber,
}

#[derive(DeriveIden)]
enum Shipments {
    Table,
    OrderId,
    InvoiceNumber,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let number = Query::select()
            .column((Orders::Table, Orders::InvoiceNumber))
            .from(Orders::Table)
            .and_where(Expr::col((Orders::Table, Orders::Id)).equals((Shipments::Table, Shipments::OrderId)))
            .to_owned();
        let fill = Query::update()
            .table(Shipments::Table)
            .value(Shipments::InvoiceNumber, SimpleExpr::SubQuery(None, Box::new(number.into_sub_query_statement())))
            .and_where(Expr::col((Shipments::Table, Shipments::InvoiceNumber)).is_null())
            .to_owned();
        m.exec_stmt(fill).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        // The numbers stay: they are true of the shipments either way.
        Ok(())
    }
}
