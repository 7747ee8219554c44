//! VTEX's tracking calls (`PATCH …/invoice/{n}` and `PUT …/invoice/{n}/tracking`),
//! from VTEX's own examples (`fixtures/tracking-*.json`) and variations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_vtex::{
    tracking::{moment, tracking_number_record, tracking_record, Addressed},
    Vtex, TRACKING, TRACKING_NUMBER,
};
use domain::{
    ingest::{Adapter, Command, Context, ItemReport, Report},
    orders::{EventMeta, TrackingUpdate, MAX_TRACKING_EVENTS},
};
use entities::ItemOutcome;
use serde_json::{json, Value};

fn call(body: &str) -> Addressed {
    Addressed::new(" 1172452900788-01 ", "24382", body.as_bytes()).unwrap()
}

fn timeline(body: &str) -> (TrackingUpdate, EventMeta) {
    let record = tracking_record(&call(body)).unwrap();
    assert_eq!(record.source_id, "1172452900788-01");
    match record.commands.as_slice() {
        [Command::Timeline { update, meta }] => (update.clone(), meta.clone()),
        other => panic!("not one timeline: {other:?}"),
    }
}

#[test]
fn the_envelope_keeps_the_path_and_the_body_as_sent() {
    let sent = include_str!("fixtures/tracking-put.json");
    let addressed = call(sent);
    assert_eq!((addressed.order_id.as_str(), addressed.invoice_number.as_str()), ("1172452900788-01", "24382"));
    assert_eq!(Addressed::read(&addressed.to_bytes()).unwrap(), addressed);
    assert_eq!(addressed.body, sent);
    // Bytes that are not text cannot be enveloped; a bare body is not an envelope.
    assert!(Addressed::new("1", "2", &[0xff, 0xfe]).is_none());
    assert_eq!(Addressed::read(sent.as_bytes()).unwrap_err().code, "MALFORMED");
    assert_eq!(Addressed::read(br#"{"orderId":"1","invoiceNumber":"2","body":"{}","extra":1}"#).unwrap_err().code, "MALFORMED");
}

#[test]
fn the_documented_report_is_a_timeline_in_the_carriers_order() {
    let (update, meta) = timeline(include_str!("fixtures/tracking-put.json"));
    assert_eq!(update.invoice_number, "24382");
    assert!(!update.delivered);
    assert_eq!(update.delivered_at, None);
    let events: Vec<_> = update.events.iter().map(|e| (e.city.as_deref(), e.state.as_deref(), e.description.as_str())).collect();
    assert_eq!(
        events,
        [
            (Some("Rio de Janeiro"), Some("RJ"), "Coletado pela transportadora"),
            (Some("Sao Paulo"), Some("SP"), "A caminho de Curitiba"),
        ]
    );
    assert_eq!(update.events[1].occurred_at.unwrap().to_rfc3339(), "2015-06-24T00:00:00+00:00");
    // The entry's text is the latest event; it is mailed if it moves the order.
    assert_eq!(meta.comment.as_deref(), Some("Sao Paulo/SP: A caminho de Curitiba"));
    assert!(meta.notify_customer && meta.visible_to_customer);
    // Dated on arrival: a carrier's dates are older than the order's record.
    assert_eq!(meta.occurred_at, None);
    assert_eq!(meta.source, "vtex");
}

#[test]
fn the_latest_event_is_the_latest_date_whatever_the_order_listed() {
    let newest_first = r#"{"isDelivered":false,"deliveredDate":null,"events":[
        {"city":"Curitiba","state":"PR","description":"Saiu para entrega","date":"2026-12-03 09:30"},
        {"city":"","state":"SP","description":"Em trânsito","date":"2026-12-02"}]}"#;
    let (update, meta) = timeline(newest_first);
    assert_eq!(meta.comment.as_deref(), Some("Curitiba/PR: Saiu para entrega"));
    assert_eq!(update.events[0].occurred_at.unwrap().to_rfc3339(), "2026-12-03T09:30:00+00:00");
    // A blank city is none; the place is then the state alone.
    assert_eq!(update.events[1].city, None);
    let undated = r#"{"isDelivered":false,"events":[{"description":"um"},{"state":"SP","description":"dois"}]}"#;
    assert_eq!(timeline(undated).1.comment.as_deref(), Some("SP: dois"));
    let only_city = r#"{"isDelivered":false,"events":[{"city":"Recife","description":"tres","date":"2026-12-01T10:00:00-03:00"}]}"#;
    let (update, meta) = timeline(only_city);
    assert_eq!(meta.comment.as_deref(), Some("Recife: tres"));
    assert_eq!(update.events[0].occurred_at.unwrap().to_rfc3339(), "2026-12-01T13:00:00+00:00");
}

#[test]
fn a_delivery_says_so_and_keeps_its_date() {
    let delivered = r#"{"isDelivered":true,"deliveredDate":"2026-12-04 16:20","events":[
        {"city":"Curitiba","state":"PR","description":"Entregue","date":"2026-12-04 16:20"}]}"#;
    let (update, meta) = timeline(delivered);
    assert!(update.delivered);
    assert_eq!(update.delivered_at.unwrap().to_rfc3339(), "2026-12-04T16:20:00+00:00");
    assert_eq!(meta.comment.as_deref(), Some("Delivered"));
    // Delivered with no events at all is still a delivery.
    let (update, _) = timeline(r#"{"isDelivered":true,"deliveredDate":null,"events":[]}"#);
    assert!(update.delivered && update.events.is_empty() && update.delivered_at.is_none());
}

#[test]
fn the_same_report_has_the_same_id_and_another_report_another() {
    let body = include_str!("fixtures/tracking-put.json");
    let (_, first) = timeline(body);
    let (_, again) = timeline(body);
    assert_eq!(first.event_id, again.event_id);
    let id = first.event_id.unwrap();
    assert!(id.starts_with("vtex:tracking:24382:") && id.len() == "vtex:tracking:24382:".len() + 16, "{id}");
    let (_, other) = timeline(&body.replace("Curitiba", "Londrina"));
    assert_ne!(other.event_id.as_deref(), Some(id.as_str()));
    // The same report for another invoice is another event.
    let record = tracking_record(&Addressed::new("1172452900788-01", "24383", body.as_bytes()).unwrap()).unwrap();
    let Command::Timeline { meta, .. } = &record.commands[0] else { panic!() };
    assert_ne!(meta.event_id.as_deref(), Some(id.as_str()));
}

#[test]
fn long_ids_make_short_event_ids() {
    let long = "9".repeat(300);
    let record = tracking_number_record(&Addressed::new(&long, &long, br#"{"trackingNumber":"T","courier":"c"}"#).unwrap()).unwrap();
    let Command::Ship { meta, .. } = &record.commands[0] else { panic!() };
    let id = meta.event_id.clone().unwrap();
    assert!(id.starts_with("vtex:shipment:") && id.len() == "vtex:shipment:".len() + 16, "{id}");
    assert_eq!(adapter_vtex::event_id("invoice", &["o", "n"]), "vtex:invoice:o:n");
}

#[test]
fn bad_reports_are_malformed_with_the_field_named() {
    let cases = [
        ("{", "not a VTEX tracking update"),
        (r#"{"deliveredDate":null,"events":[]}"#, "isDelivered"),
        (r#"{"isDelivered":"yes","events":[]}"#, "not a VTEX tracking update"),
        (r#"{"isDelivered":false,"events":[{"city":"x"}]}"#, "description"),
        (r#"{"isDelivered":false,"events":[{"description":"x","date":"23/06/2015"}]}"#, "events[0].date"),
        (r#"{"isDelivered":true,"deliveredDate":"ontem"}"#, "deliveredDate"),
    ];
    for (body, named) in cases {
        let error = tracking_record(&call(body)).unwrap_err();
        assert_eq!(error.code, "MALFORMED", "{body}");
        assert!(error.message.contains(named), "{body}: {}", error.message);
    }
    let mut events: Vec<Value> = (0..MAX_TRACKING_EVENTS).map(|n| json!({ "description": format!("e{n}") })).collect();
    let (update, _) = timeline(&json!({ "isDelivered": false, "events": events }).to_string());
    assert_eq!(update.events.len(), MAX_TRACKING_EVENTS, "at the bound is fine");
    events.push(json!({ "description": "one too many" }));
    let error = tracking_record(&call(&json!({ "isDelivered": false, "events": events }).to_string())).unwrap_err();
    assert_eq!(error.code, "TOO_LARGE");
}

#[test]
fn a_tracking_number_is_a_shipment_of_that_invoice_as_an_import_would_make_it() {
    let record = tracking_number_record(&call(include_str!("fixtures/tracking-number-patch.json"))).unwrap();
    let [Command::Ship { shipment, meta }] = record.commands.as_slice() else { panic!("{:?}", record.commands) };
    assert_eq!(shipment.carrier, "carrierOne");
    assert_eq!(shipment.tracking_number, "87658");
    assert_eq!(shipment.tracking_url.as_deref(), Some("https://www.tracking.com/url"));
    assert_eq!(shipment.invoice_number.as_deref(), Some("24382"));
    assert_eq!(shipment.shipped_at.unwrap().to_rfc3339(), "2022-02-08T13:16:13.461765300+00:00");
    assert_eq!(meta.event_id.as_deref(), Some("vtex:shipment:1172452900788-01:24382:87658"));
    assert_eq!(meta.comment.as_deref(), Some("Shipped by carrierOne: 87658"));
    for bad in [r#"{"trackingNumber":"  "}"#, r#"{"courier":"c"}"#, r#"{"trackingNumber":"1","dispatchedDate":"soon"}"#] {
        assert_eq!(tracking_number_record(&call(bad)).unwrap_err().code, "MALFORMED", "{bad}");
    }
}

#[test]
fn dates_take_the_shapes_vtex_writes() {
    let at = |text: &str| moment("d", Some(text)).unwrap().unwrap().to_rfc3339();
    assert_eq!(at("2015-06-23"), "2015-06-23T00:00:00+00:00");
    assert_eq!(at("2015-06-23 14:05"), "2015-06-23T14:05:00+00:00");
    assert_eq!(at("2015-06-23 14:05:09"), "2015-06-23T14:05:09+00:00");
    assert_eq!(at("2015-06-23T14:05"), "2015-06-23T14:05:00+00:00");
    assert_eq!(at("2015-06-23T14:05:09"), "2015-06-23T14:05:09+00:00");
    assert_eq!(at(" 2015-06-23T14:05:09-03:00 "), "2015-06-23T17:05:09+00:00");
    assert_eq!(moment("d", Some("  ")).unwrap(), None);
    assert_eq!(moment("d", None).unwrap(), None);
}

#[test]
fn the_adapter_reads_recorded_calls_and_answers_with_a_receipt() {
    let vtex = Vtex;
    let context = Context::default();
    let put = call(include_str!("fixtures/tracking-put.json")).to_bytes();
    assert!(matches!(vtex.parse(TRACKING, &put, &context).unwrap().records[0].commands[0], Command::Timeline { .. }));
    let patch = call(include_str!("fixtures/tracking-number-patch.json")).to_bytes();
    assert!(matches!(vtex.parse(TRACKING_NUMBER, &patch, &context).unwrap().records[0].commands[0], Command::Ship { .. }));
    // The body alone, without its path, is not a call.
    assert_eq!(vtex.parse(TRACKING, include_bytes!("fixtures/tracking-put.json"), &context).unwrap_err().code, "MALFORMED");

    let item = ItemReport {
        position: 0,
        source_id: "1172452900788-01".into(),
        outcome: ItemOutcome::Applied,
        order_id: Some(7),
        notes: vec!["timeline: DELIVERED".into()],
        error: None,
        refusals: vec![],
    };
    let report = Report { run_id: 41, items: vec![item], applied: 1, skipped: 0, failed: 0 };
    let answer: Value = serde_json::from_slice(&vtex.render(TRACKING, &report)).unwrap();
    assert_eq!(answer, json!({ "orderId": "1172452900788-01", "outcome": "applied", "notes": ["timeline: DELIVERED"], "receipt": "41" }));
    let answer: Value = serde_json::from_slice(&vtex.render(TRACKING_NUMBER, &Report { run_id: 42, ..Report::default() })).unwrap();
    assert_eq!(answer, json!({ "receipt": "42" }));
}
