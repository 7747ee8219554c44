//! Rastro's schema migrations: one set that runs on SQLite and PostgreSQL.
//!
//! Each later feature adds its own migration file; released migrations are never
//! edited.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_order_lifecycle;
mod m20261122_000003_notifications;
mod m20261202_000010_customer_status;
mod m20261202_000011_sessions;
mod m20261202_000012_deferred_render;
mod m20261202_000013_integration_runs;
mod m20261204_000014_lgpd;
mod m20261205_000015_order_sources;
mod m20261205_000016_order_details;
mod m20261205_000017_vtex_options;
mod m20261205_000018_invoices_and_tracking;
mod m20261205_000019_webhook_secrets;
mod m20261205_000020_shipment_invoices;
mod m20261205_000021_status_mappings;
mod m20261205_000022_webhook_accounts;
mod m20261205_000023_tracking_links;
mod m20261206_000024_smtp_limits;
mod m20261206_000025_session_revocations;
mod m20261206_000026_order_page_indexes;
mod m20261206_000027_order_search;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_order_lifecycle::Migration),
            Box::new(m20261122_000003_notifications::Migration),
            Box::new(m20261202_000010_customer_status::Migration),
            Box::new(m20261202_000011_sessions::Migration),
            Box::new(m20261202_000012_deferred_render::Migration),
            Box::new(m20261202_000013_integration_runs::Migration),
            Box::new(m20261204_000014_lgpd::Migration),
            Box::new(m20261205_000015_order_sources::Migration),
            Box::new(m20261205_000016_order_details::Migration),
            Box::new(m20261205_000017_vtex_options::Migration),
            Box::new(m20261205_000018_invoices_and_tracking::Migration),
            Box::new(m20261205_000019_webhook_secrets::Migration),
            Box::new(m20261205_000020_shipment_invoices::Migration),
            Box::new(m20261205_000021_status_mappings::Migration),
            Box::new(m20261205_000022_webhook_accounts::Migration),
            Box::new(m20261205_000023_tracking_links::Migration),
            Box::new(m20261206_000024_smtp_limits::Migration),
            Box::new(m20261206_000025_session_revocations::Migration),
            Box::new(m20261206_000026_order_page_indexes::Migration),
            Box::new(m20261206_000027_order_search::Migration),
        ]
    }
}
