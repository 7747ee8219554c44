//! The adapter the routes hand calls to: VTEX orders to import, hook
//! notifications, and tracking calls, under the company's two options (from
//! the pipeline's [`Context`], so a call, a replay and a file import read
//! alike); answers in JSON.

use domain::{
    companies::VtexOptions,
    ingest::{Adapter, Batch, Context, ItemReport, Reads, Record, Report, WireError},
};
use serde_json::{json, Value};

use crate::{
    convert, hook,
    tracking::{self, Addressed},
    wire,
};

/// An import call (`POST /integrations/vtex/orders`, `rastro import`): one
/// order in the `GetOrder` shape, an array of them, or JSON lines.
pub const IMPORT: &str = "import";
/// A hook notification.
pub const HOOK: &str = "hook";
/// `PUT …/orders/{orderId}/invoice/{invoiceNumber}/tracking`, recorded as
/// an [`Addressed`] envelope.
pub const TRACKING: &str = "tracking";
/// `PATCH …/orders/{orderId}/invoice/{invoiceNumber}`, recorded as an
/// [`Addressed`] envelope.
pub const TRACKING_NUMBER: &str = "tracking-number";

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vtex;

/// Why a notification did nothing while the option is off.
pub const UPDATES_OFF: &str = "status updates from VTEX are off for this company";

impl Vtex {
    /// The record of a hook notification, under the company's option.
    fn hook_record(&self, body: &[u8], options: VtexOptions) -> Result<Record, WireError> {
        match hook::read_hook(body)? {
            hook::HookCall::Ping => Err(WireError::malformed("a ping carries no change")),
            hook::HookCall::Changed(notification) if !options.status_updates => Ok(Record::skipped(notification.order_id, UPDATES_OFF)),
            hook::HookCall::Changed(notification) => Ok(hook::record(&notification)),
        }
    }
}

impl Adapter for Vtex {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn operation_of(&self, _body: &[u8]) -> Option<String> {
        // The route says it: the path is the operation.
        None
    }

    fn parse(&self, operation: &str, body: &[u8], context: &Context) -> Result<Batch, WireError> {
        let records = match operation {
            IMPORT => wire::read_orders(body)?.iter().map(|order| convert::record(order, context.vtex.require_invoice_file)).collect(),
            HOOK => vec![self.hook_record(body, context.vtex)?],
            TRACKING => vec![tracking::tracking_record(&Addressed::read(body)?)?],
            TRACKING_NUMBER => vec![tracking::tracking_number_record(&Addressed::read(body)?)?],
            other => return Err(WireError::unknown_operation(other)),
        };
        Ok(Batch { records })
    }

    fn render(&self, operation: &str, report: &Report) -> Vec<u8> {
        if matches!(operation, TRACKING | TRACKING_NUMBER) {
            // VTEX answers these with the order and a receipt: the run.
            let mut answer = report.items.first().map(ItemReport::to_json).unwrap_or_else(|| json!({}));
            answer["receipt"] = json!(report.run_id.to_string());
            return answer.to_string().into_bytes();
        }
        let orders: Vec<Value> = report.items.iter().map(ItemReport::to_json).collect();
        let answer = json!({
            "runId": report.run_id,
            "received": report.received(),
            "applied": report.applied,
            "skipped": report.skipped,
            "failed": report.failed,
            "orders": orders,
        });
        answer.to_string().into_bytes()
    }

    fn render_rejection(&self, _operation: &str, error: &WireError) -> Vec<u8> {
        json!({ "error": { "code": error.code, "message": error.message } }).to_string().into_bytes()
    }

    fn reads(&self) -> Reads {
        Reads { vtex_options: true, ..Reads::default() }
    }
}
