//! VTEX OMS ⇄ ingestion commands.
//!
//! VTEX Tracking imports only invoiced orders (seed `002_…`): an order in the
//! shape of `GET /api/oms/pvt/orders/{orderId}` is importable when its status
//! is `invoiced` and it carries an `Output` invoice ([`importable`]). Money is
//! in cents on the wire and stays in integer cents here: a fractional amount
//! is refused as malformed, never rounded through a float.
//!
//! Pure: bytes in, orders out.

pub mod adapter;
pub mod convert;
pub mod hook;
pub mod import;
pub mod tracking;
pub mod wire;

pub use adapter::{Vtex, HOOK, IMPORT, TRACKING, TRACKING_NUMBER};
pub use import::{importable, Refusal};
pub use wire::{read_orders, Order};

/// The adapter's name in runs and URLs.
pub const NAME: &str = "vtex";

/// An event's id: `vtex:{kind}:{parts…}` joined by `:`, readable in the
/// history; when that would be too long (long ids from the wire), the parts
/// are replaced by 16 hex digits of their SHA-256, which stay as unique.
pub fn event_id(kind: &str, parts: &[&str]) -> String {
    let readable = format!("{NAME}:{kind}:{}", parts.join(":"));
    if readable.chars().count() <= domain::ingest::MAX_EVENT_ID {
        return readable;
    }
    format!("{NAME}:{kind}:{}", domain::ingest::digest16(parts.join("\0").as_bytes()))
}
