//! The store a webhook secret is for (Shopify's shop domain, Nuvemshop's
//! store id): an app's secret can be shared by every store that installs
//! it, so a call signed with it is only this company's when it names this
//! store.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookSecrets {
    Table,
    Account,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(WebhookSecrets::Table).add_column(string_len_null(WebhookSecrets::Account, 255)).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(WebhookSecrets::Table).drop_column(WebhookSecrets::Account).to_owned()).await
    }
}
