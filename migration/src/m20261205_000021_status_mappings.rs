//! Per-company status mappings: a platform's status code (a custom status
//! of the company's store, or a standard one it reads otherwise) onto a
//! canonical status, or onto nothing (the event is recorded as skipped).
//! Rows override the platform's defaults, which live with the adapters.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum StatusMappings {
    Table,
    CompanyId,
    Platform,
    Code,
    Status,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StatusMappings::Table)
                .col(integer(StatusMappings::CompanyId))
                .col(string_len(StatusMappings::Platform, 20))
                .col(string_len(StatusMappings::Code, 100))
                .col(string_len_null(StatusMappings::Status, 20))
                .col(timestamp_with_time_zone(StatusMappings::UpdatedAt))
                .primary_key(Index::create().col(StatusMappings::CompanyId).col(StatusMappings::Platform).col(StatusMappings::Code))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_status_mappings_company")
                        .from(StatusMappings::Table, StatusMappings::CompanyId)
                        .to(Companies::Table, Companies::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StatusMappings::Table).to_owned()).await
    }
}
