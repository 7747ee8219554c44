//! Rastro's generic status event: the documented example and variations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_storefront::generic::{read_events, record, Event, MAX_EVENTS};
use std::sync::Arc;

use domain::{
    ingest::{Command, Context},
    status_mappings::StatusMappings,
};
use entities::{OrderStatus, WebhookPlatform};
use serde_json::{json, Value};

const EXAMPLE: &str = include_str!("fixtures/generic-event.json");

fn event(changes: Value) -> Event {
    let mut body: Value = serde_json::from_str(EXAMPLE).unwrap();
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    read_events(body.to_string().as_bytes()).unwrap().remove(0)
}

#[test]
fn the_documented_example_ships_the_order_with_its_tracking() {
    let events = read_events(EXAMPLE.as_bytes()).unwrap();
    let record = record(&events[0], &Context::default());
    assert_eq!(record.source_id, "PED-1");
    assert!(record.refusals.is_empty());
    // IN_TRANSIT with tracking is the shipment alone: it is what moves the order.
    let [Command::Ship { shipment, meta }] = record.commands.as_slice() else { panic!("{:?}", record.commands) };
    assert_eq!((shipment.carrier.as_str(), shipment.tracking_number.as_str()), ("Jadlog", "JD123"));
    assert_eq!(shipment.tracking_url.as_deref(), Some("https://www.jadlog.com.br/rastreio?c=JD123"));
    assert_eq!(shipment.shipped_at.unwrap().to_rfc3339(), "2026-12-05T13:00:00+00:00");
    assert_eq!(meta.event_id.as_deref(), Some("evt-000123:shipment"));
    assert_eq!(meta.occurred_at.unwrap().to_rfc3339(), "2026-12-05T13:00:00+00:00");
    assert_eq!(meta.comment.as_deref(), Some("Saiu do centro de distribuição"));
    assert!(meta.notify_customer && meta.visible_to_customer);
    assert_eq!(meta.source, "storefront");
}

#[test]
fn a_status_with_a_shipment_moves_after_it_and_alone_moves_alone() {
    let delivered = record(&event(json!({ "status": "DELIVERED" })), &Context::default());
    let names: Vec<&str> = delivered.commands.iter().map(Command::name).collect();
    assert_eq!(names, ["shipment", "reach"]);
    let Command::Reach { to, meta } = &delivered.commands[1] else { panic!() };
    assert_eq!((*to, meta.event_id.as_deref()), (OrderStatus::Delivered, Some("evt-000123")));

    let alone = record(&event(json!({ "status": " CANCELLED ", "tracking": null, "notifyCustomer": false, "visibleToCustomer": false })), &Context::default());
    let [Command::ChangeStatus { to, meta }] = alone.commands.as_slice() else { panic!("{:?}", alone.commands) };
    assert_eq!(*to, OrderStatus::Cancelled);
    assert!(!meta.notify_customer && !meta.visible_to_customer);

    let moving = record(&event(json!({ "tracking": null })), &Context::default());
    let [Command::Reach { to: OrderStatus::InTransit, .. }] = moving.commands.as_slice() else { panic!("{:?}", moving.commands) };
    // Cancelling, refunding and holding are changes, judged as they come.
    for (name, to) in [("CANCELLED", OrderStatus::Cancelled), ("REFUNDED", OrderStatus::Refunded), ("ON_HOLD", OrderStatus::OnHold)] {
        let change = record(&event(json!({ "status": name, "tracking": null })), &Context::default());
        assert!(matches!(change.commands.as_slice(), [Command::ChangeStatus { to: got, .. }] if *got == to), "{name}: {:?}", change.commands);
    }
    for stage in ["RECEIVED", "APPROVED", "IN_PRODUCTION", "INVOICED", "IN_SEPARATION", "DELIVERY_FAILED", "DELIVERED"] {
        let reach = record(&event(json!({ "status": stage, "tracking": null })), &Context::default());
        assert!(matches!(reach.commands.as_slice(), [Command::Reach { .. }]), "{stage}: {:?}", reach.commands);
    }

    // Neither a status nor a shipment: the comment alone, moving nothing.
    let note = record(&event(json!({ "status": null, "tracking": null, "notifyCustomer": null })), &Context::default());
    let [Command::Track(meta)] = note.commands.as_slice() else { panic!("{:?}", note.commands) };
    assert!(meta.notify_customer, "mailed unless told not to");
    // A shipment with no status: the shipment alone.
    let shipped = record(&event(json!({ "status": null })), &Context::default());
    assert_eq!(shipped.commands.iter().map(Command::name).collect::<Vec<_>>(), ["shipment"]);
}

#[test]
fn long_event_ids_stay_within_what_is_kept_and_apart() {
    let id = |event_id: String| {
        let record = record(&event(json!({ "eventId": event_id, "status": "DELIVERED" })), &Context::default());
        record.commands.iter().map(|c| match c {
            Command::Ship { meta, .. } | Command::Reach { meta, .. } => meta.event_id.clone().unwrap(),
            other => panic!("{other:?}"),
        }).collect::<Vec<_>>()
    };
    let fits = id("e".repeat(91));
    assert_eq!(fits, [format!("{}:shipment", "e".repeat(91)), "e".repeat(91)]);
    let long = id("e".repeat(92));
    assert!(long[0].starts_with("sha256:") && long[0].len() == 23, "{long:?}");
    assert_eq!(long[1], "e".repeat(92), "the id alone still fits");
    assert_ne!(id("f".repeat(150)), id("g".repeat(150)));
}

#[test]
fn an_unknown_status_or_a_bad_date_refuses_the_event_saying_why() {
    let unknown = record(&event(json!({ "status": "SHIPPED" })), &Context::default());
    assert!(unknown.commands.is_empty());
    let refusal = &unknown.refusals[0];
    assert_eq!((refusal.code, refusal.field.as_deref()), ("UNKNOWN_STATUS", Some("status")));
    assert!(refusal.message.contains("\"SHIPPED\"") && refusal.message.contains("IN_TRANSIT, DELIVERY_FAILED"), "{}", refusal.message);
    let undated = record(&event(json!({ "occurredAt": "05/12/2026" })), &Context::default());
    assert_eq!((undated.refusals[0].code, undated.refusals[0].field.as_deref()), ("VALIDATION", Some("occurredAt")));
    assert_eq!(undated.source_id, "PED-1");
}

#[test]
fn calls_are_one_event_or_an_array_of_them_and_nothing_else() {
    let one: Value = serde_json::from_str(EXAMPLE).unwrap();
    assert_eq!(read_events(json!([one, one]).to_string().as_bytes()).unwrap().len(), 2);
    assert_eq!(read_events(json!(vec![one.clone(); MAX_EVENTS]).to_string().as_bytes()).unwrap().len(), MAX_EVENTS);
    assert_eq!(read_events(json!(vec![one.clone(); MAX_EVENTS + 1]).to_string().as_bytes()).unwrap_err().code, "TOO_LARGE");
    for bad in ["", "[]", "42", "{", r#"{"eventId":"e"}"#] {
        assert_eq!(read_events(bad.as_bytes()).unwrap_err().code, "MALFORMED", "{bad}");
    }
    // A field it does not know is a mistake worth telling, not ignoring.
    let mut typo = one.clone();
    typo["statuss"] = json!("DELIVERED");
    let error = read_events(typo.to_string().as_bytes()).unwrap_err();
    assert!(error.message.contains("statuss"), "{}", error.message);
    let mut nested = one;
    nested["tracking"]["numbr"] = json!("x");
    assert_eq!(read_events(nested.to_string().as_bytes()).unwrap_err().code, "MALFORMED");
}

#[test]
fn a_custom_status_is_read_through_the_company_mapping_then_the_back_office_defaults() {
    let company = Context {
        mappings: Arc::new(StatusMappings::from_rows([
            (WebhookPlatform::Generic, "Aguardando Coleta".to_owned(), Some(OrderStatus::InSeparation)),
            (WebhookPlatform::Generic, "shipped".to_owned(), None),
            (WebhookPlatform::Shopify, "separado".to_owned(), Some(OrderStatus::Approved)),
        ])),
        ..Context::default()
    };
    let custom = |code: &str| record(&event(json!({ "status": null, "customStatus": code, "tracking": null })), &company);
    let mapped = custom("aguardando-coleta");
    assert!(matches!(mapped.commands[..], [Command::Reach { to: OrderStatus::InSeparation, .. }]), "{mapped:?}");
    // The seed back office's statuses are mapped unless the company says otherwise.
    let default = custom("Nota Fiscal Emitida");
    assert!(matches!(default.commands[..], [Command::Reach { to: OrderStatus::Invoiced, .. }]), "{default:?}");
    let held = custom("on_hold");
    assert!(matches!(held.commands[..], [Command::ChangeStatus { to: OrderStatus::OnHold, .. }]), "{held:?}");
    // Mapped to nothing: read, and recorded as skipped.
    let ignored = record(&event(json!({ "status": null, "customStatus": "shipped", "tracking": null, "comment": null })), &company);
    assert!(ignored.commands.is_empty() && ignored.skipped.as_deref().is_some_and(|r| r.contains("shipped")), "{ignored:?}");
    // Its shipment and comment still count.
    let shipped = record(&event(json!({ "status": null, "customStatus": "shipped" })), &company);
    assert!(matches!(shipped.commands[..], [Command::Ship { .. }]), "{shipped:?}");
    let noted = record(&event(json!({ "status": null, "customStatus": "shipped", "tracking": null })), &company);
    assert!(matches!(noted.commands[..], [Command::Track(_)]), "{noted:?}");
    // Another platform's mapping is not this one's.
    let unmapped = custom("Separado");
    assert!(unmapped.commands.is_empty());
    let refusal = &unmapped.refusals[0];
    assert_eq!((refusal.code, refusal.field.as_deref()), ("UNMAPPED_STATUS", Some("customStatus")));
    assert!(
        refusal.message.contains("\"separado\"") && refusal.message.contains("setStatusMapping(companyId, platform: GENERIC"),
        "{}",
        refusal.message
    );
    let both = record(&event(json!({ "status": "DELIVERED", "customStatus": "entregue" })), &company);
    assert_eq!((both.refusals[0].code, both.refusals[0].field.as_deref()), ("VALIDATION", Some("customStatus")));
}
