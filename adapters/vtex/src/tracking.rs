//! VTEX's tracking calls, addressed to one invoice of one order:
//! - `PATCH …/orders/{orderId}/invoice/{invoiceNumber}` gives the invoice
//!   its tracking number (`{trackingNumber, trackingUrl, courier,
//!   dispatchedDate}`): a shipment of that invoice;
//! - `PUT …/orders/{orderId}/invoice/{invoiceNumber}/tracking` reports the
//!   shipment's progress (`{isDelivered, deliveredDate, events[{city, state,
//!   description, date}]}`): its timeline, and the order `DELIVERED` or
//!   `IN_TRANSIT`.
//!
//! The ids are in the path, not the body, so the route records the call as
//! an [`Addressed`] envelope: the ids and the body as sent (as text). A
//! saved call then replays alone, and the log shows what came.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use domain::{
    validate::given,
    ingest::{Command, Record, WireError},
    orders::{EventMeta, TrackingEvent, TrackingUpdate, MAX_TRACKING_EVENTS},
};
use serde::{Deserialize, Serialize};

/// A call with the ids its path named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Addressed {
    /// The order (VTEX's `orderId`).
    pub order_id: String,
    /// The invoice.
    pub invoice_number: String,
    /// The body as it was sent.
    pub body: String,
}

impl Addressed {
    /// The envelope of a call to `order_id`'s invoice `invoice_number` with
    /// `body`; `None` when the body is not UTF-8 text (then it is not JSON
    /// either, and the call is refused with the bytes as they came).
    pub fn new(order_id: &str, invoice_number: &str, body: &[u8]) -> Option<Self> {
        let body = std::str::from_utf8(body).ok()?;
        Some(Addressed { order_id: order_id.trim().to_owned(), invoice_number: invoice_number.trim().to_owned(), body: body.to_owned() })
    }

    /// The envelope as recorded.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a recorded envelope.
    pub fn read(bytes: &[u8]) -> Result<Self, WireError> {
        serde_json::from_slice(bytes).map_err(|e| WireError::malformed(format!("not a VTEX tracking call: {e}")))
    }
}

/// The body of `PATCH …/invoice/{invoiceNumber}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingNumber {
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// The carrier's tracking page.
    #[serde(default)]
    pub tracking_url: Option<String>,
    /// The carrier.
    #[serde(default)]
    pub courier: Option<String>,
    /// When it left.
    #[serde(default)]
    pub dispatched_date: Option<String>,
}

/// The body of `PUT …/invoice/{invoiceNumber}/tracking`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tracking {
    /// It was delivered.
    pub is_delivered: bool,
    /// When (`yyyy-mm-dd hh:mm`), or null.
    #[serde(default)]
    pub delivered_date: Option<String>,
    /// The carrier's events so far.
    #[serde(default)]
    pub events: Vec<WireEvent>,
}

/// One event of a tracking report.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WireEvent {
    /// Where: the city.
    #[serde(default)]
    pub city: Option<String>,
    /// Where: the state.
    #[serde(default)]
    pub state: Option<String>,
    /// What happened.
    pub description: String,
    /// When (`yyyy-mm-dd`, `yyyy-mm-dd hh:mm` or RFC 3339).
    #[serde(default)]
    pub date: Option<String>,
}

/// A date as VTEX's tracking calls write it: RFC 3339, or a day with an
/// optional `hh:mm[:ss]`, which carries no zone and is read as UTC.
pub fn moment(field: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, WireError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(instant.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Some(naive.and_utc()));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|naive| Some(naive.and_utc()))
        .ok_or_else(|| WireError::malformed(format!("{field}: {text:?} is not a date (yyyy-mm-dd, yyyy-mm-dd hh:mm or RFC 3339)")))
}


/// The record of a `PATCH …/invoice/{invoiceNumber}` call: a shipment of
/// that invoice, with the same event id as an import's shipment of it, so
/// the two never make two shipments.
pub fn tracking_number_record(call: &Addressed) -> Result<Record, WireError> {
    let body: TrackingNumber =
        serde_json::from_str(&call.body).map_err(|e| WireError::malformed(format!("not a VTEX tracking number: {e}")))?;
    let tracking = given(Some(&body.tracking_number)).ok_or_else(|| WireError::malformed("trackingNumber must not be blank"))?;
    let shipped_at = moment("dispatchedDate", body.dispatched_date.as_deref())?;
    let command = crate::convert::shipment(
        &call.order_id,
        &call.invoice_number,
        given(body.courier.as_deref()),
        tracking,
        given(body.tracking_url.as_deref()),
        shipped_at,
    );
    Ok(Record::new(call.order_id.clone(), vec![command]))
}

/// The record of a `PUT …/invoice/{invoiceNumber}/tracking` call: the
/// report as the shipment's timeline. Its id is the digest of the report,
/// so the same report sent again is a repeat; its text is the latest event
/// (or the delivery), and it is mailed when it moves the order.
pub fn tracking_record(call: &Addressed) -> Result<Record, WireError> {
    let body: Tracking =
        serde_json::from_str(&call.body).map_err(|e| WireError::malformed(format!("not a VTEX tracking update: {e}")))?;
    if body.events.len() > MAX_TRACKING_EVENTS {
        return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_TRACKING_EVENTS} events in one update") });
    }
    let delivered_at = moment("deliveredDate", body.delivered_date.as_deref())?;
    let events = body
        .events
        .iter()
        .enumerate()
        .map(|(n, event)| {
            Ok(TrackingEvent {
                occurred_at: moment(&format!("events[{n}].date"), event.date.as_deref())?,
                city: given(event.city.as_deref()),
                state: given(event.state.as_deref()),
                description: event.description.trim().to_owned(),
            })
        })
        .collect::<Result<Vec<_>, WireError>>()?;
    let comment = if body.is_delivered { Some("Delivered".to_owned()) } else { latest(&events).map(place_and_text) };
    let meta = EventMeta {
        comment,
        notify_customer: true,
        visible_to_customer: true,
        // Arrival time: a carrier's dates are often older than the order's
        // record here, and would make the report look stale.
        occurred_at: None,
        event_id: Some(crate::event_id("tracking", &[&call.invoice_number, &domain::ingest::digest16(call.body.as_bytes())])),
        source: crate::NAME.to_owned(),
    };
    let update = TrackingUpdate { invoice_number: call.invoice_number.clone(), delivered: body.is_delivered, delivered_at, events };
    Ok(Record::new(call.order_id.clone(), vec![Command::Timeline { update, meta }]))
}

/// The latest event: the one with the latest date (the last of those, when
/// dates tie), or the last listed when none has a date.
fn latest(events: &[TrackingEvent]) -> Option<&TrackingEvent> {
    events.iter().enumerate().max_by_key(|(n, event)| (event.occurred_at, *n)).map(|(_, event)| event)
}

fn place_and_text(event: &TrackingEvent) -> String {
    match (&event.city, &event.state) {
        (Some(city), Some(state)) => format!("{city}/{state}: {}", event.description),
        (Some(place), None) | (None, Some(place)) => format!("{place}: {}", event.description),
        (None, None) => event.description.clone(),
    }
}
