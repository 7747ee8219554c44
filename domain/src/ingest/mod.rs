//! The ingestion pipeline every adapter follows (DESIGN.md, "Adapters and
//! ingestion"):
//!
//! ```text
//! adapter::parse(bytes) -> Batch          pure, in adapters/<system>
//! ingest::apply(ctx, actor, run, batch)   one transaction per record
//! adapter::render(&Report) -> answer      pure
//! ```
//!
//! - [`command`]: the vocabulary adapters emit: a [`Batch`] of [`Record`]s,
//!   each the source's id of one order and the [`Command`]s for it.
//! - [`apply`]: applies a batch for a company's integration actor through the
//!   same services GraphQL uses (status machine, stale and repeated events,
//!   outbox, live events). Each record is applied whole or not at all.
//! - [`runs`]: every call is an integration run, recorded as it arrives and
//!   completed when it ends, with one item per record, the raw request and the
//!   answer (capped). A call refused before parsing is a run too.
//! - [`log`]: reading runs back: the log, one run, the monitor.
//! - [`adapter`] is the contract of an adapter crate; [`handle`] is the one
//!   path of every call (routes, `rastro import`, [`reprocess`]).

pub mod adapter;
pub mod apply;
mod bulk;
pub mod command;
pub mod handle;
pub mod log;
pub mod reprocess;
pub mod runs;

pub use adapter::{Adapter, Context, Reads, WireError};
pub use apply::{apply, apply_at, ItemError, ItemReport, Report};
pub use handle::{handle, refuse, Answer, Handled};
pub use reprocess::reprocess;
pub use command::{Batch, Command, Group, Record};
pub use runs::{RunHandle, RunMeta};

/// The longest event id an order's history keeps.
pub const MAX_EVENT_ID: usize = 100;

/// 16 hex digits of the SHA-256 of `bytes`: what an adapter puts in an
/// event id in place of wire ids too long for [`MAX_EVENT_ID`], as unique.
pub fn digest16(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Bounds on what one ingested record may reach.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most orders one group record (a trip, say) moves; a group naming more
    /// is refused whole, so one record cannot turn into unbounded work.
    pub group_orders: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { group_orders: 5_000 }
    }
}
