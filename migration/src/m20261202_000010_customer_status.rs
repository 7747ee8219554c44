//! `orders.customer_status`: the status a customer sees. A change hidden from
//! customers (a hold, say) moves `status` but not this one, so listing,
//! filtering and showing orders to customers reads one column, no history.
//!
//! Backfilled as the `to_status` of the newest applied entry visible to
//! customers that changed the status, else of the first entry (the creation),
//! else the current status.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    CustomerStatus,
    CompanyId,
}

const BACKFILL: &str = "UPDATE orders SET customer_status = COALESCE(
    (SELECT h.to_status FROM order_status_history h
      WHERE h.order_id = orders.id AND h.applied AND h.visible_to_customer
        AND (h.from_status IS NULL OR h.from_status <> h.to_status)
      ORDER BY h.id DESC LIMIT 1),
    (SELECT h.to_status FROM order_status_history h WHERE h.order_id = orders.id ORDER BY h.id ASC LIMIT 1),
    status)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds a NOT NULL column only with a default; the backfill and
        // every write set the real value.
        m.alter_table(
            Table::alter()
                .table(Orders::Table)
                .add_column(string_len(Orders::CustomerStatus, 20).default("RECEIVED"))
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(BACKFILL).await?;
        m.create_index(
            Index::create()
                .name("ix_orders_company_customer_status")
                .table(Orders::Table)
                .col(Orders::CompanyId)
                .col(Orders::CustomerStatus)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_orders_company_customer_status").table(Orders::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Orders::Table).drop_column(Orders::CustomerStatus).to_owned()).await?;
        Ok(())
    }
}
