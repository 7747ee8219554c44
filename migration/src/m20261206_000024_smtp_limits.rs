//! How hard the mail worker may drive a company's SMTP server: connections at
//! once and mails a second (`NULL`: no limit). Relays such as SES or a shared
//! host's throttle their senders; these let a company stay under theirs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SmtpSettings {
    Table,
    MaxConnections,
    MaxPerSecond,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        m.alter_table(
            Table::alter().table(SmtpSettings::Table).add_column(integer(SmtpSettings::MaxConnections).default(4)).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(SmtpSettings::Table).add_column(integer_null(SmtpSettings::MaxPerSecond)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(SmtpSettings::Table).drop_column(SmtpSettings::MaxPerSecond).to_owned()).await?;
        m.alter_table(Table::alter().table(SmtpSettings::Table).drop_column(SmtpSettings::MaxConnections).to_owned()).await
    }
}
