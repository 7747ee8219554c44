//! The adapters this server has, by name: reprocessing replays a stored
//! request through the adapter that took it, and `rastro import` picks one.

use domain::ingest::Adapter;

/// Every adapter of this server.
pub fn all() -> [&'static dyn Adapter; 1] {
    [&adapter_rastro_csv::RastroCsv]
}
