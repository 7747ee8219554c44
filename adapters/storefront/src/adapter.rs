//! The adapter the storefront routes hand calls to, once their signature
//! has been checked; answers in JSON, one entry per event.

use domain::ingest::{Adapter, Batch, Context, ItemReport, Reads, Report, WireError};
use serde_json::json;

use crate::{generic, magento, nuvemshop, shopify};

/// Rastro's generic status event (`POST /integrations/events/{company}`).
pub const GENERIC: &str = "generic";
/// A Magento / Adobe Commerce order or track (`POST /integrations/magento/{company}`).
pub const MAGENTO: &str = "magento";
/// A Nuvemshop notification, with its order (`POST /integrations/nuvemshop/{company}`).
pub const NUVEMSHOP: &str = "nuvemshop";
/// A Shopify webhook (`POST /integrations/shopify/{company}`), recorded as a
/// [`crate::shopify::Delivery`].
pub const SHOPIFY: &str = "shopify";

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Storefront;

impl Adapter for Storefront {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn operation_of(&self, _body: &[u8]) -> Option<String> {
        // The route says it: the path names the platform.
        None
    }

    fn parse(&self, operation: &str, body: &[u8], context: &Context) -> Result<Batch, WireError> {
        match operation {
            GENERIC => Ok(Batch { records: generic::read_events(body)?.iter().map(|e| generic::record(e, context)).collect() }),
            MAGENTO => Ok(Batch { records: vec![magento::read(body, context)?] }),
            NUVEMSHOP => Ok(Batch { records: vec![nuvemshop::read(body, context)?] }),
            SHOPIFY => Ok(Batch { records: vec![shopify::read(body, context)?] }),
            other => Err(WireError::unknown_operation(other)),
        }
    }

    fn render(&self, _operation: &str, report: &Report) -> Vec<u8> {
        let answer = json!({
            "runId": report.run_id,
            "received": report.received(),
            "applied": report.applied,
            "skipped": report.skipped,
            "failed": report.failed,
            "events": report.items.iter().map(ItemReport::to_json).collect::<Vec<_>>(),
        });
        answer.to_string().into_bytes()
    }

    fn render_rejection(&self, _operation: &str, error: &WireError) -> Vec<u8> {
        json!({ "error": { "code": error.code, "message": error.message } }).to_string().into_bytes()
    }

    fn reads(&self) -> Reads {
        Reads { status_mappings: true, ..Reads::default() }
    }
}
