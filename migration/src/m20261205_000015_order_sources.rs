//! What sources that send whole orders need:
//! - `orders.source_digest`: a digest of the order as its source last sent
//!   it, so a repeated identical creation (a retry after a lost answer) is
//!   recognised and answered without a second order;
//! - an index on `order_items.source_id`, so a source whose item ids are
//!   unique across the company's orders (TOTVS R2) has them checked at a cost
//!   that does not grow with the table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    SourceDigest,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    SourceId,
}

const ITEM_SOURCE_INDEX: &str = "ix_order_items_source_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Orders::Table).add_column(string_len_null(Orders::SourceDigest, 64)).to_owned()).await?;
        m.create_index(Index::create().name(ITEM_SOURCE_INDEX).table(OrderItems::Table).col(OrderItems::SourceId).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(ITEM_SOURCE_INDEX).table(OrderItems::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Orders::Table).drop_column(Orders::SourceDigest).to_owned()).await
    }
}
