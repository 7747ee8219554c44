//! Status from TRE: the trips it plans and the tracking of their deliveries.
//!
//! - `publishReleasedTrip` is TRE's own publication of a released trip
//!   (`protocols/README.md` §1.5): the `orderSourceId` of each delivery unit
//!   is one of our orders, which moves to `IN_SEPARATION` with the trip,
//!   carrier and vehicle recorded as its attributes (`tre.tripId`, …). It is
//!   read tolerantly: only the elements named here matter, wherever TRE
//!   nests them.
//! - `publishTrackingEvents` is Rastro's own operation, in the same style,
//!   because TRE's tracking format is not public: one event per order or per
//!   trip, each with its id (a repeat is skipped), type, time and optional
//!   location.

use std::collections::HashSet;

use domain::{
    ingest::{Command, Context, Group, ItemError, Record, WireError},
    orders::EventMeta,
};
use entities::OrderStatus;

use crate::{
    fields::Fields,
    rules::{Rule, Violation},
    xml::Element,
    NAME,
};

/// TRE's trip publication.
pub const PUBLISH_RELEASED_TRIP: &str = "publishReleasedTrip";
/// Rastro's tracking events.
pub const PUBLISH_TRACKING_EVENTS: &str = "publishTrackingEvents";

/// The order attribute a released trip records, by which a trip's tracking
/// events find its orders.
pub const TRIP_ATTRIBUTE: &str = "tre.tripId";

/// Every descendant of `element` named `name`, in document order.
fn descendants<'e, 'a>(element: &'e Element<'a>, name: &str, found: &mut Vec<&'e Element<'a>>) {
    for child in &element.children {
        if child.name == name {
            found.push(child);
        }
        descendants(child, name, found);
    }
}

fn text_of(element: &Element, name: &str) -> Option<String> {
    element.child(name).map(|e| e.text.trim().chars().take(255).collect::<String>()).filter(|t| !t.is_empty())
}

/// The records of a released trip: per order, its trip attributes and the
/// move to `IN_SEPARATION`.
pub fn released_trip(operation: &Element, context: &Context) -> Result<Vec<Record>, WireError> {
    let mut trips = Vec::new();
    descendants(operation, "tripReleaseRequest", &mut trips);
    if trips.is_empty() {
        return Err(WireError::malformed("publishReleasedTrip carries no tripReleaseRequest"));
    }
    let mut records = Vec::new();
    let mut seen = HashSet::new();
    for trip in trips {
        let mut units = Vec::new();
        descendants(trip, "orderSourceId", &mut units);
        let orders: Vec<String> = units.iter().map(|u| u.text.trim().to_owned()).filter(|id| !id.is_empty()).collect();
        let Some(trip_id) = text_of(trip, "identifier") else {
            for order in orders.into_iter().filter(|o| seen.insert(o.clone())) {
                let missing = Violation::new(Rule::Mandatory, "tripReleaseRequest.identifier", "is mandatory");
                records.push(Record::refused(order, vec![missing.into()]));
            }
            continue;
        };
        let mut attributes = vec![(TRIP_ATTRIBUTE.to_owned(), trip_id.clone())];
        for (key, name) in [
            ("tre.carrierId", "carrierId"),
            ("tre.vehicleId", "vehicleId"),
            ("tre.vehicleDescription", "vehicleDescription"),
            ("tre.truckLicensePlate", "truckLicensePlate"),
        ] {
            if let Some(value) = text_of(trip, name) {
                attributes.push((key.to_owned(), value));
            }
        }
        let carrier = text_of(trip, "carrierId").map(|c| format!(", carrier {c}")).unwrap_or_default();
        for order in orders {
            // An order in several loads of one trip moves once.
            if !seen.insert(order.clone()) {
                continue;
            }
            let meta = EventMeta {
                comment: Some(format!("Trip {trip_id} released{carrier}")),
                occurred_at: Some(context.now),
                event_id: Some(format!("{NAME}:trip:{trip_id}:{order}")),
                source: NAME.to_owned(),
                ..EventMeta::default()
            };
            let commands = vec![Command::Annotate(attributes.clone()), Command::ChangeStatus { to: OrderStatus::InSeparation, meta }];
            records.push(Record::new(order, commands));
        }
    }
    if records.is_empty() {
        return Err(WireError::malformed("publishReleasedTrip names no orderSourceId"));
    }
    Ok(records)
}

/// A tracking event's type and the status it moves the order to; a
/// checkpoint moves none.
fn status_of(kind: &str) -> Option<Option<OrderStatus>> {
    match kind {
        "IN_TRANSIT" => Some(Some(OrderStatus::InTransit)),
        "DELIVERY_FAILED" => Some(Some(OrderStatus::DeliveryFailed)),
        "DELIVERED" => Some(Some(OrderStatus::Delivered)),
        "CHECKPOINT" => Some(None),
        _ => None,
    }
}

/// The records of `publishTrackingEvents`: one per event.
pub fn tracking_events(operation: &Element) -> Result<Vec<Record>, WireError> {
    let events: Vec<&Element> =
        operation.children.iter().flat_map(|c| if c.name == "events" { c.children.iter().collect() } else { vec![c] }).collect();
    if events.is_empty() {
        return Err(WireError::malformed("publishTrackingEvents carries no event"));
    }
    let mut records = Vec::with_capacity(events.len());
    for (n, event) in events.into_iter().enumerate() {
        let mut f = Fields::new(event, "");
        let event_id = f.text("eventId", true, 100);
        let order = f.text("orderSourceId", false, 30);
        let trip = f.text("tripId", false, 255);
        let named = |name: &str| event.child(name).is_some_and(|e| !e.text.trim().is_empty());
        if named("orderSourceId") == named("tripId") {
            f.violate(Rule::EventTarget, "orderSourceId", "name the order (orderSourceId) or the trip (tripId), not both or neither");
        }
        let kind = f.text("type", true, 20);
        let occurred_at = f.datetime("occurredAt", true);
        let location = f.text("location", false, 200);
        let comment = f.text("comment", false, 500);
        let status = kind.as_deref().and_then(|k| {
            let status = status_of(k);
            if status.is_none() {
                f.violate(Rule::EventType, "type", format!("{k:?} is not IN_TRANSIT, DELIVERY_FAILED, DELIVERED or CHECKPOINT"));
            }
            status
        });
        if status == Some(None) && location.is_none() && comment.is_none() {
            f.violate(Rule::Mandatory, "comment", "a CHECKPOINT needs its location or comment");
        }
        let mut violations = f.finish();
        if event.name != "event" {
            violations.push(Violation::new(Rule::UnknownField, event.name.clone(), "is not an event"));
        }
        let source_id = order.clone().or_else(|| trip.clone()).unwrap_or_else(|| format!("events[{n}]"));
        let (Some(event_id), Some(status), true) = (event_id, status, violations.is_empty()) else {
            records.push(Record::refused(source_id, violations.into_iter().map(ItemError::from).collect()));
            continue;
        };
        let text = match (location, comment) {
            (Some(l), Some(c)) => Some(format!("{l}: {c}")),
            (l, c) => l.or(c),
        };
        let meta = EventMeta {
            comment: text,
            occurred_at,
            event_id: Some(format!("{NAME}:event:{event_id}")),
            source: NAME.to_owned(),
            ..EventMeta::default()
        };
        let command = match status {
            Some(to) => Command::ChangeStatus { to, meta },
            None => Command::Track(meta),
        };
        records.push(match trip {
            Some(trip) if order.is_none() => Record::for_group(source_id, Group { key: TRIP_ATTRIBUTE.to_owned(), value: trip }, vec![command]),
            _ => Record::new(source_id, vec![command]),
        });
    }
    Ok(records)
}
