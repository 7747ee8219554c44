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
pub mod wire;

pub use adapter::{Vtex, HOOK, IMPORT};
pub use import::{importable, Refusal};
pub use wire::{read_orders, Order};

/// The adapter's name in runs and URLs.
pub const NAME: &str = "vtex";
