//! The two options of VTEX Tracking's own integration (seed `002_…`), per
//! company, both off until the company turns them on:
//! - `vtex_require_invoice_file`: import only orders whose invoices came with
//!   their file (`invoiceUrl` or `embeddedInvoice`);
//! - `vtex_status_updates`: let VTEX's hook notifications move orders.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    VtexRequireInvoiceFile,
    VtexStatusUpdates,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Companies::VtexRequireInvoiceFile, Companies::VtexStatusUpdates] {
            m.alter_table(Table::alter().table(Companies::Table).add_column(boolean(column).default(false)).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Companies::VtexStatusUpdates, Companies::VtexRequireInvoiceFile] {
            m.alter_table(Table::alter().table(Companies::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
