//! Public tracking links: a random key per order once a link is revoked,
//! mixed into the signed link its status mails carry (`/track/{token}`).
//! Until then the key is empty; storing a new one revokes every link handed
//! out before. Rows are never deleted (only with their order): a deleted row
//! would bring the first links back. An anonymized order shows nothing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TrackingLinks {
    Table,
    OrderId,
    Key,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TrackingLinks::Table)
                .col(integer(TrackingLinks::OrderId).primary_key())
                .col(string_len(TrackingLinks::Key, 64))
                .col(timestamp_with_time_zone(TrackingLinks::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tracking_links_order")
                        .from(TrackingLinks::Table, TrackingLinks::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TrackingLinks::Table).to_owned()).await
    }
}
