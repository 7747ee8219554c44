//! The adapters this server has, by name: reprocessing replays a stored
//! request through the adapter that took it, and `rastro import` picks one.

use domain::ingest::Adapter;

/// Every adapter of this server.
pub fn all() -> [&'static dyn Adapter; 4] {
    static TOTVS_R2: std::sync::LazyLock<adapter_totvs_r2::TotvsR2> = std::sync::LazyLock::new(adapter_totvs_r2::TotvsR2::default);
    [&adapter_rastro_csv::RastroCsv, &*TOTVS_R2, &adapter_vtex::Vtex, &adapter_storefront::Storefront]
}
