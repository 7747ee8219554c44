//! What adapters ask of Rastro, in the domain's words.

use entities::OrderStatus;

use super::apply::ItemError;
use crate::{
    localities::LocalityInput,
    orders::{EventMeta, Invoice, NewOrder, OrderPatch, Shipment, TrackingUpdate},
};

/// One change to the order a [`Record`] names.
#[derive(Debug, Clone)]
pub enum Command {
    /// Create or update the company's locality with this source id, as a
    /// destination: the customer a source knows only from its orders, whose
    /// e-mail (the responsible person's) lets them follow their orders. The
    /// order commands that follow name it by its source id. Run whether or
    /// not the order exists.
    Destination(LocalityInput),
    /// [`Command::Destination`] only when the record's order is not known
    /// yet (it is about to be created): what a feed that sends the customer
    /// with every event of the order means, so that a late or repeated
    /// event does not write the customer again.
    NewOrderDestination(LocalityInput),
    /// Create the order; `CONFLICT` when the source id already exists.
    Create(NewOrder),
    /// Create the order, or replace its details (not its status) when the
    /// source id exists: what a source that re-sends whole orders means.
    Upsert(NewOrder),
    /// Replace the details (not the status) of the order with the record's
    /// source id; `NOT_FOUND` when there is none: what a source's "update
    /// order" carrying the whole order means.
    Replace(NewOrder),
    /// Create the order unless one with its source id exists, which is then
    /// left as it is (the record is skipped): what an import means, so
    /// importing the same file twice changes nothing.
    Import(NewOrder),
    /// Change its details.
    Update(OrderPatch),
    /// Set some of its attributes by key, leaving the others (a trip, a
    /// vehicle, learnt one fact at a time).
    Annotate(Vec<(String, String)>),
    /// The source deleted it. The order is cancelled (its history stays, and
    /// customers see why); one already in transit or final cannot be.
    Delete(EventMeta),
    /// Move it to a status (any move the status machine allows).
    ChangeStatus {
        /// The new status.
        to: OrderStatus,
        /// When, the event id, the comment and flags.
        meta: EventMeta,
    },
    /// Bring it to a stage a feed reports with the whole order each time:
    /// a move, unless the order is at that status or past it on the forward
    /// path already, or on hold (recorded as skipped, with why, not failed).
    Reach {
        /// The stage.
        to: OrderStatus,
        /// When, the event id, the comment and flags.
        meta: EventMeta,
    },
    /// Freeze it.
    Hold(EventMeta),
    /// Return it from a hold to the status it had.
    Release(EventMeta),
    /// [`Command::Release`] when it is on hold by a change of the same
    /// source (`meta.source`); nothing (no history entry) otherwise: what a
    /// feed that sends the whole order means when the order it sends is not
    /// held (Magento's `unhold`). A hold placed by the company's staff, or
    /// another source, is theirs to release.
    Resume(EventMeta),
    /// Record its fiscal invoice.
    Invoice {
        /// The invoice.
        invoice: Invoice,
        /// When, the event id, the comment and flags.
        meta: EventMeta,
    },
    /// Record a shipment with carrier and tracking code.
    Ship {
        /// The shipment.
        shipment: Shipment,
        /// When, the event id, the comment and flags.
        meta: EventMeta,
    },
    /// Refund an amount and close it.
    Refund {
        /// Cents refunded, > 0.
        amount_cents: i64,
        /// When, the event id, the comment and flags.
        meta: EventMeta,
    },
    /// A tracking event (a scan at a hub, a delivery attempt note): a history
    /// entry with its text that changes no status. `meta.comment` is required.
    Track(EventMeta),
    /// A carrier's report on the shipment of one of its invoices: the
    /// shipment's timeline is replaced by the report's, and the order moves
    /// to `DELIVERED` when it was delivered, or to `IN_TRANSIT` when it
    /// was not yet on its way.
    Timeline {
        /// The report.
        update: TrackingUpdate,
        /// When, the event id, the comment and flags.
        meta: EventMeta,
    },
}

impl Command {
    /// The command in a word, for run items and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Create(_) => "create",
            Command::Upsert(_) => "upsert",
            Command::Replace(_) => "replace",
            Command::Import(_) => "import",
            Command::Update(_) => "update",
            Command::Annotate(_) => "annotate",
            Command::Delete(_) => "delete",
            Command::ChangeStatus { .. } => "status",
            Command::Reach { .. } => "reach",
            Command::Hold(_) => "hold",
            Command::Release(_) | Command::Resume(_) => "release",
            Command::Invoice { .. } => "invoice",
            Command::Ship { .. } => "shipment",
            Command::Refund { .. } => "refund",
            Command::Track(_) => "tracking",
            Command::Timeline { .. } => "timeline",
            Command::Destination(_) | Command::NewOrderDestination(_) => "destination",
        }
    }
}

/// The commands for one order, applied together or not at all.
#[derive(Debug, Clone)]
pub struct Record {
    /// The source's id of the order (`sourceId`).
    pub source_id: String,
    /// What to do, in order.
    pub commands: Vec<Command>,
    /// Why the adapter refused the record, rule by rule; a record with
    /// refusals fails whole with all of them and its commands are not run.
    pub refusals: Vec<ItemError>,
    /// When set, the record is about every live order of the company with
    /// this attribute (a trip's orders) rather than one order: its commands
    /// run for each of them, each order on its own; `source_id` names the
    /// group when no order has it.
    pub group: Option<Group>,
    /// Why the adapter read the record and found nothing in it for the
    /// order to do (a source's state that means nothing to tracking): it is
    /// recorded as skipped with this reason, whether or not the order
    /// exists, and its commands are not run.
    pub skipped: Option<String>,
}

/// Orders named by an attribute they share (`tre.tripId` = `T-1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The attribute's key.
    pub key: String,
    /// Its value.
    pub value: String,
}

impl Record {
    /// A record of `commands` for the order `source_id`.
    pub fn new(source_id: impl Into<String>, commands: Vec<Command>) -> Self {
        Record { source_id: source_id.into(), commands, refusals: Vec::new(), group: None, skipped: None }
    }

    /// A record of `commands` for every live order whose attribute `group.key`
    /// is `group.value`; `label` names it when there is none.
    pub fn for_group(label: impl Into<String>, group: Group, commands: Vec<Command>) -> Self {
        Record { source_id: label.into(), commands, refusals: Vec::new(), group: Some(group), skipped: None }
    }

    /// A record the adapter refused, with every reason it found.
    pub fn refused(source_id: impl Into<String>, refusals: Vec<ItemError>) -> Self {
        Record { source_id: source_id.into(), commands: Vec::new(), refusals, group: None, skipped: None }
    }

    /// A record the adapter read and skips, for `reason`.
    pub fn skipped(source_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Record { source_id: source_id.into(), commands: Vec::new(), refusals: Vec::new(), group: None, skipped: Some(reason.into()) }
    }
}

/// What one call carries.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Its records, in the order received.
    pub records: Vec<Record>,
}
