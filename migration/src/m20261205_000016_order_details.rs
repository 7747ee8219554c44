//! What R2 sends per line and per trip:
//! - `order_items.total_cents`: the line's total when the source states it
//!   (R2's `price` is the value of all the line's units), so the order's
//!   total is exact where `quantity × unit price` would round;
//! - `order_items.attributes`: the line's fields Rastro has no column for
//!   (wrapper, units in shipment units, MIT/DSK, …), as a JSON object of text;
//! - an index on `order_attributes (key, value)`, so the orders of a trip
//!   (`tre.tripId`) are found at a cost that does not grow with the table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    TotalCents,
    Attributes,
}

#[derive(DeriveIden)]
enum OrderAttributes {
    Table,
    Key,
    Value,
}

const KEY_VALUE_INDEX: &str = "ix_order_attributes_key_value";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(OrderItems::Table).add_column(big_integer_null(OrderItems::TotalCents)).to_owned()).await?;
        m.alter_table(Table::alter().table(OrderItems::Table).add_column(text_null(OrderItems::Attributes)).to_owned()).await?;
        m.create_index(
            Index::create().name(KEY_VALUE_INDEX).table(OrderAttributes::Table).col(OrderAttributes::Key).col(OrderAttributes::Value).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(KEY_VALUE_INDEX).table(OrderAttributes::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(OrderItems::Table).drop_column(OrderItems::Attributes).to_owned()).await?;
        m.alter_table(Table::alter().table(OrderItems::Table).drop_column(OrderItems::TotalCents).to_owned()).await
    }
}
