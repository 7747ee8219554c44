//! `notifications.render_context`: a status mail is queued with what it will
//! say (the variables, the language and the status whose template applies),
//! and the worker renders it outside the status change's write transaction, so
//! one company's template never holds the database's write lock for others.
//! `NULL` once the subject and bodies are rendered.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    RenderContext,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Notifications::Table).add_column(text_null(Notifications::RenderContext)).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Notifications::Table).drop_column(Notifications::RenderContext).to_owned()).await
    }
}
