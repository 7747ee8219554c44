//! LGPD anonymization: anonymized orders, localities and customer accounts are
//! marked with the moment it happened, integration runs whose raw payloads
//! were erased likewise, and erased mails.
//!
//! An anonymized order keeps its source id (it is not personal), but it no
//! longer owns it: a later import of the same id creates a fresh order instead
//! of bringing the old one back. So the unique index on `(company_id,
//! source_id)` covers live orders only, and a second partial index finds the
//! anonymized ones.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    AnonymizedAt,
}

#[derive(DeriveIden)]
enum Localities {
    Table,
    AnonymizedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    AnonymizedAt,
}

#[derive(DeriveIden)]
enum IntegrationRuns {
    Table,
    PayloadErasedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    ErasedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Orders::Table).add_column(timestamp_with_time_zone_null(Orders::AnonymizedAt)).to_owned())
            .await?;
        m.alter_table(
            Table::alter().table(Localities::Table).add_column(timestamp_with_time_zone_null(Localities::AnonymizedAt)).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(Users::Table).add_column(timestamp_with_time_zone_null(Users::AnonymizedAt)).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(IntegrationRuns::Table)
                .add_column(timestamp_with_time_zone_null(IntegrationRuns::PayloadErasedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Notifications::Table).add_column(timestamp_with_time_zone_null(Notifications::ErasedAt)).to_owned(),
        )
        .await?;
        // Partial indexes have the same syntax on SQLite and PostgreSQL.
        let db = m.get_connection();
        // Login throttle keys now hash the e-mail; older rows held it in
        // plain text. They are counters that expire within a day anyway.
        db.execute_unprepared("DELETE FROM login_throttle").await?;
        db.execute_unprepared("DROP INDEX ux_orders_company_source").await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_orders_company_source ON orders (company_id, source_id) WHERE anonymized_at IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX ix_orders_company_source_anonymized ON orders (company_id, source_id) WHERE anonymized_at IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX ix_orders_company_source_anonymized").await?;
        db.execute_unprepared("DROP INDEX ux_orders_company_source").await?;
        db.execute_unprepared("CREATE UNIQUE INDEX ux_orders_company_source ON orders (company_id, source_id)").await?;
        m.alter_table(Table::alter().table(Notifications::Table).drop_column(Notifications::ErasedAt).to_owned()).await?;
        m.alter_table(Table::alter().table(IntegrationRuns::Table).drop_column(IntegrationRuns::PayloadErasedAt).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::AnonymizedAt).to_owned()).await?;
        m.alter_table(Table::alter().table(Localities::Table).drop_column(Localities::AnonymizedAt).to_owned()).await?;
        m.alter_table(Table::alter().table(Orders::Table).drop_column(Orders::AnonymizedAt).to_owned()).await
    }
}
