//! The integrations log: one `integration_runs` row per inbound call (an
//! adapter's request, an import file, a reprocessing), whatever happened to
//! the business data, and one `integration_run_items` row per record in it.
//!
//! A run is written when the call arrives, as `FAILED` with no `finished_at`,
//! and completed when it ends; so a process that dies midway leaves the run
//! visible as failed ("interrupted"), never missing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum IntegrationRuns {
    Table,
    Id,
    CompanyId,
    Adapter,
    Operation,
    Outcome,
    ReceivedAt,
    FinishedAt,
    DurationMs,
    Received,
    Applied,
    Skipped,
    Failed,
    Error,
    Request,
    RequestBytes,
    RequestTruncated,
    Response,
    ResponseBytes,
    ResponseTruncated,
    ReprocessOf,
}

#[derive(DeriveIden)]
enum IntegrationRunItems {
    Table,
    Id,
    RunId,
    CompanyId,
    Position,
    SourceId,
    Outcome,
    OrderId,
    ErrorCode,
    ErrorField,
    ErrorMessage,
    Applied,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IntegrationRuns::Table)
                .col(pk_auto(IntegrationRuns::Id))
                .col(integer_null(IntegrationRuns::CompanyId))
                .col(string_len(IntegrationRuns::Adapter, 40))
                .col(string_len(IntegrationRuns::Operation, 60))
                .col(string_len(IntegrationRuns::Outcome, 10))
                .col(timestamp_with_time_zone(IntegrationRuns::ReceivedAt))
                .col(timestamp_with_time_zone_null(IntegrationRuns::FinishedAt))
                .col(big_integer_null(IntegrationRuns::DurationMs))
                .col(integer(IntegrationRuns::Received))
                .col(integer(IntegrationRuns::Applied))
                .col(integer(IntegrationRuns::Skipped))
                .col(integer(IntegrationRuns::Failed))
                .col(text_null(IntegrationRuns::Error))
                .col(text(IntegrationRuns::Request))
                .col(big_integer(IntegrationRuns::RequestBytes))
                .col(boolean(IntegrationRuns::RequestTruncated))
                .col(text_null(IntegrationRuns::Response))
                .col(big_integer(IntegrationRuns::ResponseBytes))
                .col(boolean(IntegrationRuns::ResponseTruncated))
                .col(integer_null(IntegrationRuns::ReprocessOf))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_integration_runs_company")
                        .from(IntegrationRuns::Table, IntegrationRuns::CompanyId)
                        .to(Companies::Table, Companies::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_integration_runs_reprocess_of")
                        .from(IntegrationRuns::Table, IntegrationRuns::ReprocessOf)
                        .to(IntegrationRuns::Table, IntegrationRuns::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        // The log, newest first, per company; and the monitor's counts per
        // adapter and operation over a time window.
        m.create_index(
            Index::create()
                .name("idx_integration_runs_company")
                .table(IntegrationRuns::Table)
                .col(IntegrationRuns::CompanyId)
                .col(IntegrationRuns::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_integration_runs_monitor")
                .table(IntegrationRuns::Table)
                .col(IntegrationRuns::CompanyId)
                .col(IntegrationRuns::Adapter)
                .col(IntegrationRuns::Operation)
                .col(IntegrationRuns::ReceivedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(IntegrationRunItems::Table)
                .col(pk_auto(IntegrationRunItems::Id))
                .col(integer(IntegrationRunItems::RunId))
                .col(integer_null(IntegrationRunItems::CompanyId))
                .col(integer(IntegrationRunItems::Position))
                .col(string_len_null(IntegrationRunItems::SourceId, 100))
                .col(string_len(IntegrationRunItems::Outcome, 10))
                .col(integer_null(IntegrationRunItems::OrderId))
                .col(string_len_null(IntegrationRunItems::ErrorCode, 40))
                .col(string_len_null(IntegrationRunItems::ErrorField, 200))
                .col(text_null(IntegrationRunItems::ErrorMessage))
                .col(text_null(IntegrationRunItems::Applied))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_integration_run_items_run")
                        .from(IntegrationRunItems::Table, IntegrationRunItems::RunId)
                        .to(IntegrationRuns::Table, IntegrationRuns::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_integration_run_items_order")
                        .from(IntegrationRunItems::Table, IntegrationRunItems::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_integration_run_items_run")
                .table(IntegrationRunItems::Table)
                .col(IntegrationRunItems::RunId)
                .col(IntegrationRunItems::Position)
                .to_owned(),
        )
        .await?;
        // "Runs that touched this order": filtering the log by source id.
        m.create_index(
            Index::create()
                .name("idx_integration_run_items_source")
                .table(IntegrationRunItems::Table)
                .col(IntegrationRunItems::CompanyId)
                .col(IntegrationRunItems::SourceId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(IntegrationRunItems::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(IntegrationRuns::Table).to_owned()).await?;
        Ok(())
    }
}
