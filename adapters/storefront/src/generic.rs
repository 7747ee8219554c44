//! Rastro's generic status event, for every platform without an adapter of
//! its own: one event, or an array of them, per signed call (see
//! [`crate::signature::generic`]).
//!
//! ```json
//! {
//!   "eventId": "evt-000123",
//!   "orderId": "PED-1",
//!   "status": "IN_TRANSIT",
//!   "customStatus": null,
//!   "occurredAt": "2026-12-05T10:00:00-03:00",
//!   "comment": "Saiu do centro de distribuição",
//!   "notifyCustomer": true,
//!   "visibleToCustomer": true,
//!   "tracking": { "carrier": "Jadlog", "number": "JD123", "url": "https://www.jadlog.com.br/rastreio?c=JD123" }
//! }
//! ```
//!
//! `status` is a canonical status name, or `customStatus` one of the
//! store's own codes, mapped by the company (`setStatusMapping`, platform
//! `GENERIC`; the seed back office's statuses are mapped by default: see
//! [`crate::mapping`]); `tracking` records a shipment (and
//! puts the order `IN_TRANSIT`); an event with neither and a `comment` is a
//! history entry that moves nothing. `eventId` makes a repeat harmless and
//! `occurredAt` makes a late event recorded as skipped, not applied.

use chrono::{DateTime, Utc};
use domain::{
    ingest::{Command, Context, ItemError, Record, WireError},
    orders::{EventMeta, Shipment},
    validate::given,
};
use entities::{OrderStatus, WebhookPlatform};

use crate::mapping;
use serde::Deserialize;

/// Events one call may carry.
pub const MAX_EVENTS: usize = 500;

/// One event, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Event {
    /// The sender's id of this event; a repeat is recorded, not applied.
    pub event_id: String,
    /// The order's source id.
    pub order_id: String,
    /// Its new canonical status (`IN_TRANSIT`, …).
    #[serde(default)]
    pub status: Option<String>,
    /// Or the store's own status code, as the company mapped it.
    #[serde(default)]
    pub custom_status: Option<String>,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
    /// Text for the history (and the customer's mail).
    #[serde(default)]
    pub comment: Option<String>,
    /// E-mail the customer about it (default: yes).
    #[serde(default)]
    pub notify_customer: Option<bool>,
    /// Show it to the customer (default: yes).
    #[serde(default)]
    pub visible_to_customer: Option<bool>,
    /// The shipment it went out in.
    #[serde(default)]
    pub tracking: Option<Tracking>,
}

/// A shipment's carrier and tracking number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tracking {
    /// The carrier.
    pub carrier: String,
    /// Its tracking number.
    pub number: String,
    /// Its tracking page.
    #[serde(default)]
    pub url: Option<String>,
}

/// Reads a call: one event or an array of them, at most [`MAX_EVENTS`].
pub fn read_events(body: &[u8]) -> Result<Vec<Event>, WireError> {
    let malformed = |e: serde_json::Error| WireError::malformed(format!("not a status event: {e}"));
    let events: Vec<Event> = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => serde_json::from_slice(body).map_err(malformed)?,
        Some(b'{') => vec![serde_json::from_slice(body).map_err(malformed)?],
        _ => return Err(WireError::malformed("the body is neither a JSON object nor an array of events")),
    };
    if events.is_empty() {
        return Err(WireError::malformed("the array holds no event"));
    }
    if events.len() > MAX_EVENTS {
        return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_EVENTS} events in one call") });
    }
    Ok(events)
}

fn refused(event: &Event, code: &'static str, field: &str, message: String) -> Record {
    Record::refused(event.order_id.clone(), vec![ItemError { code, field: Some(field.to_owned()), message }])
}

/// The id of the event's command: the sender's id and `suffix` when they
/// fit; else 16 hex digits of their SHA-256, as unique, so a long id is
/// never refused for what this adapter added to it.
pub(crate) fn event_id(id: &str, suffix: &str) -> String {
    let whole = format!("{id}{suffix}");
    if whole.chars().count() <= domain::ingest::MAX_EVENT_ID {
        return whole;
    }
    format!("sha256:{}", domain::ingest::digest16(whole.as_bytes()))
}

/// The record of one event: a shipment when it names one, then its status
/// (unless the shipment already is it: `IN_TRANSIT`), or only its comment.
pub fn record(event: &Event, context: &Context) -> Record {
    let occurred_at = match DateTime::parse_from_rfc3339(event.occurred_at.trim()) {
        Ok(at) => at.with_timezone(&Utc),
        Err(_) => return refused(event, "VALIDATION", "occurredAt", format!("occurredAt: {:?} is not an RFC 3339 date-time", event.occurred_at)),
    };
    // A custom status mapped to nothing moves nothing; the event's shipment
    // and comment still count.
    let mut ignored = None;
    let status = match (event.status.as_deref().map(str::trim), event.custom_status.as_deref()) {
        (Some(_), Some(_)) => {
            return refused(event, "VALIDATION", "customStatus", "give status or customStatus, not both".to_owned());
        }
        (None, None) => None,
        (Some(name), None) => match OrderStatus::from_name(name) {
            Some(status) => Some(status),
            None => {
                let known: Vec<&str> = domain::status::ALL.iter().map(|s| s.as_str()).collect();
                let message = format!("status {name:?} is none of {}; a store's own status goes in customStatus", known.join(", "));
                return refused(event, "UNKNOWN_STATUS", "status", message);
            }
        },
        (None, Some(code)) => match mapping::resolve(context, WebhookPlatform::Generic, code, "customStatus") {
            Ok(Some(status)) => Some(status),
            Ok(None) => {
                ignored = Some(format!("customStatus {code:?} is mapped to nothing"));
                None
            }
            Err(error) => return Record::refused(event.order_id.clone(), vec![error]),
        },
    };
    let meta = |suffix: &str| EventMeta {
        comment: event.comment.clone(),
        notify_customer: event.notify_customer.unwrap_or(true),
        visible_to_customer: event.visible_to_customer.unwrap_or(true),
        occurred_at: Some(occurred_at),
        event_id: Some(event_id(event.event_id.trim(), suffix)),
        source: crate::NAME.to_owned(),
    };
    let mut commands = Vec::new();
    if let Some(tracking) = &event.tracking {
        let shipment = Shipment {
            carrier: tracking.carrier.clone(),
            title: None,
            tracking_number: tracking.number.clone(),
            tracking_url: tracking.url.clone(),
            shipped_at: Some(occurred_at),
            invoice_number: None,
        };
        commands.push(Command::Ship { shipment, meta: meta(":shipment") });
    }
    match status {
        Some(OrderStatus::InTransit) if event.tracking.is_some() => {}
        Some(to) => commands.push(mapping::status_command(to, meta(""))),
        None if !commands.is_empty() => {}
        None => match (ignored, given(event.comment.as_deref())) {
            (Some(reason), None) => return Record::skipped(event.order_id.clone(), reason),
            _ => commands.push(Command::Track(meta(""))),
        },
    }
    Record::new(event.order_id.clone(), commands)
}
