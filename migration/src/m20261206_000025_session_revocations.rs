//! An index on when sessions were revoked: every server process looks, every
//! few seconds, for sessions revoked since its last look (the backstop of the
//! revocation signal, `domain::sessions::sweep`), and that look must cost the
//! same however many sessions the table holds.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    RevokedAt,
}

const INDEX: &str = "idx_sessions_revoked_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(Index::create().name(INDEX).table(Sessions::Table).col(Sessions::RevokedAt).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table(Sessions::Table).to_owned()).await
    }
}
