//! VTEX Hook notifications (`POST` to the configured hook URL): what each
//! order state means to tracking.
//!
//! A notification names the order and its new state, never the order's
//! body; VTEX sends `{"hookConfig":"ping"}` when the hook is saved and wants
//! a 200 for it. Every state VTEX documents is in [`State`], and [`meaning`]
//! decides each one with no catch-all: tracking starts at the invoice, so the
//! states before it are skipped with their reason.

use chrono::{DateTime, Utc};
use entities::OrderStatus;
use serde::Deserialize;

use domain::{
    ingest::{Command, Record, WireError},
    orders::EventMeta,
};

/// A notification's body, as VTEX sends it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Notification {
    /// `Marketplace` or `Fulfillment`.
    #[serde(default)]
    pub domain: Option<String>,
    /// The order.
    pub order_id: String,
    /// Its new state.
    pub state: String,
    /// The state it left (the guide's example leaves it out).
    #[serde(default)]
    pub last_state: Option<String>,
    /// When it last changed.
    #[serde(default)]
    pub last_change: Option<String>,
    /// When this change happened (the guide's example leaves it out).
    #[serde(default)]
    pub current_change: Option<String>,
    /// The account and app key that configured the hook.
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// Who configured the hook.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Origin {
    /// The VTEX account.
    #[serde(default)]
    pub account: Option<String>,
    /// The app key.
    #[serde(default)]
    pub key: Option<String>,
}

/// What a hook call is.
#[derive(Debug, Clone, PartialEq)]
pub enum HookCall {
    /// VTEX checking the hook when it is saved: answered 200, nothing else.
    Ping,
    /// An order changed state.
    Changed(Notification),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ping {
    hook_config: String,
}

/// Reads a hook call.
pub fn read_hook(body: &[u8]) -> Result<HookCall, WireError> {
    if let Ok(ping) = serde_json::from_slice::<Ping>(body) {
        if ping.hook_config == "ping" {
            return Ok(HookCall::Ping);
        }
    }
    let notification: Notification =
        serde_json::from_slice(body).map_err(|e| WireError::malformed(format!("not a VTEX hook notification: {e}")))?;
    if notification.order_id.trim().is_empty() {
        return Err(WireError::malformed("OrderId is empty"));
    }
    Ok(HookCall::Changed(notification))
}

impl Notification {
    /// When the change happened: `CurrentChange`, else `LastChange`. VTEX
    /// writes up to seven decimals of a second.
    pub fn occurred_at(&self) -> Option<DateTime<Utc>> {
        let at = self.current_change.as_deref().or(self.last_change.as_deref())?;
        DateTime::parse_from_rfc3339(at.trim()).ok().map(|d| d.with_timezone(&Utc))
    }

    /// The change's id: a replayed notification has the same one.
    pub fn event_id(&self) -> String {
        let at = self.current_change.as_deref().or(self.last_change.as_deref()).unwrap_or_default();
        crate::event_id("hook", &[&self.order_id, &self.state, at])
    }
}

/// Every order state VTEX documents (the OMS statuses and the hook filter's
/// list, `../shared/protocols` §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `order-created`.
    OrderCreated,
    /// `order-create-error`.
    OrderCreateError,
    /// `order-creation-error`.
    OrderCreationError,
    /// `order-accepted`.
    OrderAccepted,
    /// `on-order-completed`.
    OnOrderCompleted,
    /// `on-order-completed-ffm`.
    OnOrderCompletedFfm,
    /// `waiting-for-order-authorization`.
    WaitingForOrderAuthorization,
    /// `waiting-for-sellers-confirmation`.
    WaitingForSellersConfirmation,
    /// `waiting-for-seller-decision`.
    WaitingForSellerDecision,
    /// `payment-pending`.
    PaymentPending,
    /// `approve-payment`.
    ApprovePayment,
    /// `payment-approved`.
    PaymentApproved,
    /// `window-to-change-payment`.
    WindowToChangePayment,
    /// `window-to-change-seller`.
    WindowToChangeSeller,
    /// `waiting-for-authorization`.
    WaitingForAuthorization,
    /// `waiting-for-fulfillment`.
    WaitingForFulfillment,
    /// `waiting-ffmt-authorization`.
    WaitingFfmtAuthorization,
    /// `waiting-for-manual-authorization`.
    WaitingForManualAuthorization,
    /// `authorize-fulfillment`.
    AuthorizeFulfillment,
    /// `waiting-for-mkt-authorization`.
    WaitingForMktAuthorization,
    /// `waiting-seller-handling`.
    WaitingSellerHandling,
    /// `window-to-cancel`.
    WindowToCancel,
    /// `ready-for-handling`.
    ReadyForHandling,
    /// `start-handling`.
    StartHandling,
    /// `handling`.
    Handling,
    /// `ready-for-invoicing`.
    ReadyForInvoicing,
    /// `invoice`.
    Invoice,
    /// `invoiced`.
    Invoiced,
    /// `invoice-after-cancellation-deny`.
    InvoiceAfterCancellationDeny,
    /// `request-cancel`.
    RequestCancel,
    /// `cancellation-requested`.
    CancellationRequested,
    /// `cancel`.
    Cancel,
    /// `canceled`.
    Canceled,
    /// `replaced`.
    Replaced,
}

/// Every state with its wire name, in the order of the table above.
pub const STATES: [(State, &str); 34] = [
    (State::OrderCreated, "order-created"),
    (State::OrderCreateError, "order-create-error"),
    (State::OrderCreationError, "order-creation-error"),
    (State::OrderAccepted, "order-accepted"),
    (State::OnOrderCompleted, "on-order-completed"),
    (State::OnOrderCompletedFfm, "on-order-completed-ffm"),
    (State::WaitingForOrderAuthorization, "waiting-for-order-authorization"),
    (State::WaitingForSellersConfirmation, "waiting-for-sellers-confirmation"),
    (State::WaitingForSellerDecision, "waiting-for-seller-decision"),
    (State::PaymentPending, "payment-pending"),
    (State::ApprovePayment, "approve-payment"),
    (State::PaymentApproved, "payment-approved"),
    (State::WindowToChangePayment, "window-to-change-payment"),
    (State::WindowToChangeSeller, "window-to-change-seller"),
    (State::WaitingForAuthorization, "waiting-for-authorization"),
    (State::WaitingForFulfillment, "waiting-for-fulfillment"),
    (State::WaitingFfmtAuthorization, "waiting-ffmt-authorization"),
    (State::WaitingForManualAuthorization, "waiting-for-manual-authorization"),
    (State::AuthorizeFulfillment, "authorize-fulfillment"),
    (State::WaitingForMktAuthorization, "waiting-for-mkt-authorization"),
    (State::WaitingSellerHandling, "waiting-seller-handling"),
    (State::WindowToCancel, "window-to-cancel"),
    (State::ReadyForHandling, "ready-for-handling"),
    (State::StartHandling, "start-handling"),
    (State::Handling, "handling"),
    (State::ReadyForInvoicing, "ready-for-invoicing"),
    (State::Invoice, "invoice"),
    (State::Invoiced, "invoiced"),
    (State::InvoiceAfterCancellationDeny, "invoice-after-cancellation-deny"),
    (State::RequestCancel, "request-cancel"),
    (State::CancellationRequested, "cancellation-requested"),
    (State::Cancel, "cancel"),
    (State::Canceled, "canceled"),
    (State::Replaced, "replaced"),
];

impl State {
    /// The state a wire name stands for; `None` for a name VTEX does not document.
    pub fn parse(name: &str) -> Option<State> {
        STATES.iter().find(|(_, wire)| *wire == name).map(|(state, _)| *state)
    }

    /// Its wire name.
    pub fn as_str(self) -> &'static str {
        STATES.iter().find(|(state, _)| *state == self).map(|(_, wire)| *wire).unwrap_or_default()
    }
}

/// What a state does to a tracked order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// Move the order to this status.
    Move(OrderStatus),
    /// Record the notification as skipped, for this reason.
    Skip(&'static str),
}

const BEFORE_INVOICE: &str = "a state before the invoice: tracking starts when the order is invoiced";
const CANCEL_UNDECIDED: &str = "a cancellation asked for, not yet decided: the order moves when VTEX cancels it";

/// What `state` means to tracking. Only invoiced orders are imported, so the
/// states before the invoice are skipped, and so are the steps of a
/// cancellation until VTEX decides it (`canceled`).
pub fn meaning(state: State) -> Meaning {
    use State::*;
    match state {
        OrderCreated | OrderAccepted | OnOrderCompleted | OnOrderCompletedFfm | WaitingForOrderAuthorization
        | WaitingForSellersConfirmation | WaitingForSellerDecision | PaymentPending | ApprovePayment | PaymentApproved
        | WindowToChangePayment | WindowToChangeSeller | WaitingForAuthorization | WaitingForFulfillment
        | WaitingFfmtAuthorization | WaitingForManualAuthorization | AuthorizeFulfillment | WaitingForMktAuthorization
        | WaitingSellerHandling | WindowToCancel | ReadyForHandling | StartHandling | Handling | ReadyForInvoicing
        | Invoice => Meaning::Skip(BEFORE_INVOICE),
        OrderCreateError | OrderCreationError => Meaning::Skip("the order failed to be created in VTEX"),
        Invoiced => Meaning::Move(OrderStatus::Invoiced),
        InvoiceAfterCancellationDeny => Meaning::Skip("a cancellation was denied and the order stays invoiced"),
        RequestCancel | CancellationRequested | Cancel => Meaning::Skip(CANCEL_UNDECIDED),
        Canceled => Meaning::Move(OrderStatus::Cancelled),
        Replaced => Meaning::Skip("the order was replaced by another order, which is tracked on its own"),
    }
}

/// What a state named on the wire means; a name VTEX does not document is
/// skipped, with its name in the reason.
pub fn meaning_of(name: &str) -> Result<Meaning, String> {
    State::parse(name).map(meaning).ok_or_else(|| format!("state {name:?} is not one VTEX documents"))
}

/// The pipeline's record for a notification: a status change for the states
/// that move an order, dated and identified so that a replay or an older
/// change is recognised; a skipped record, with its reason, for the rest
/// (whether or not the order was ever imported).
pub fn record(notification: &Notification) -> Record {
    match meaning_of(&notification.state) {
        Ok(Meaning::Move(to)) => {
            let meta = EventMeta {
                comment: Some(format!("VTEX: {}", notification.state)),
                notify_customer: true,
                visible_to_customer: true,
                occurred_at: notification.occurred_at(),
                event_id: Some(notification.event_id()),
                source: crate::NAME.to_owned(),
            };
            Record::new(notification.order_id.clone(), vec![Command::ChangeStatus { to, meta }])
        }
        Ok(Meaning::Skip(reason)) => Record::skipped(notification.order_id.clone(), format!("{}: {reason}", notification.state)),
        Err(reason) => Record::skipped(notification.order_id.clone(), reason),
    }
}
