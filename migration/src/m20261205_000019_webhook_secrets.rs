//! Per-company, per-platform webhook secrets (Shopify, Magento, Nuvemshop,
//! Rastro's generic event), encrypted with the server key, with the previous
//! secret kept valid for a grace period after a rotation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WebhookSecrets {
    Table,
    CompanyId,
    Platform,
    SecretEncrypted,
    PreviousEncrypted,
    PreviousValidUntil,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookSecrets::Table)
                .col(integer(WebhookSecrets::CompanyId))
                .col(string_len(WebhookSecrets::Platform, 20))
                .col(string_len(WebhookSecrets::SecretEncrypted, 1000))
                .col(string_len_null(WebhookSecrets::PreviousEncrypted, 1000))
                .col(timestamp_with_time_zone_null(WebhookSecrets::PreviousValidUntil))
                .col(timestamp_with_time_zone(WebhookSecrets::UpdatedAt))
                .primary_key(Index::create().col(WebhookSecrets::CompanyId).col(WebhookSecrets::Platform))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_webhook_secrets_company")
                        .from(WebhookSecrets::Table, WebhookSecrets::CompanyId)
                        .to(Companies::Table, Companies::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookSecrets::Table).to_owned()).await
    }
}
