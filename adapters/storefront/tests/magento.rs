//! Magento / Adobe Commerce orders and tracks, read from fixtures in the
//! shapes Adobe Commerce webhooks, Adobe I/O Events and the REST API send.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use adapter_storefront::{Storefront, MAGENTO};
use domain::{
    ingest::{Adapter, Command, Context, Record},
    status_mappings::StatusMappings,
};
use entities::{OrderStatus, WebhookPlatform};
use serde_json::{json, Value};

const ORDER: &str = include_str!("fixtures/magento/order.json");
const TRACK: &str = include_str!("fixtures/magento/track.json");

fn order(changes: Value) -> Value {
    let mut value: Value = serde_json::from_str(ORDER).unwrap();
    for (key, change) in changes.as_object().unwrap() {
        value[key] = change.clone();
    }
    value
}

fn read_in(context: &Context, body: &Value) -> Record {
    let mut batch = Storefront.parse(MAGENTO, body.to_string().as_bytes(), context).unwrap();
    batch.records.remove(0)
}

fn read(body: &Value) -> Record {
    read_in(&Context::default(), body)
}

#[test]
fn an_order_is_read_alike_from_a_webhook_an_io_event_and_the_rest_api() {
    let bare = order(json!({}));
    let shapes = [json!({ "eventName": "observer.sales_order_save_after", "data": { "order": bare } }), json!({ "data": { "value": bare } }), bare.clone()];
    let read: Vec<String> = shapes.iter().map(|body| format!("{:?}", read(body).commands)).collect();
    assert!(read.iter().all(|r| r == &read[0]), "{read:?}");
}

#[test]
fn an_order_is_created_with_its_customer_then_its_history_then_its_state() {
    let record = read(&order(json!({})));
    assert_eq!(record.source_id, "3");
    let [Command::NewOrderDestination(customer), Command::Import(new), Command::Track(received), Command::Track(note), Command::Resume(_), Command::Reach { to, meta }] =
        &record.commands[..]
    else {
        panic!("{:#?}", record.commands);
    };
    assert_eq!((customer.name.as_str(), customer.responsible.as_ref().unwrap().email.as_str()), ("Veronica Costello", "roni_cost@example.com"));
    let address = &customer.address;
    assert_eq!((address.street.as_deref(), address.number.as_deref(), address.complement.as_deref()), (Some("Rua XV de Novembro"), Some("200"), Some("Sala 3")));
    assert_eq!(address.zip_code.as_deref(), Some("80020-310"), "the shipping address, not the billing one");
    assert_eq!(new.code, "000000003");
    assert_eq!(new.attributes, [("magento.entityId".to_owned(), "3".to_owned())]);
    // The configurable's child is not a line of its own; prices to the cent.
    let lines: Vec<_> = new.items.iter().map(|i| (i.product_id.as_str(), i.quantity, i.unit_price_cents)).collect();
    assert_eq!(lines, [("WS03-XS-Red", 2.0, 2_990), ("24-MB01", 1.0, 17_620)]);
    // The history in time order, with Magento's flags.
    assert_eq!((received.comment.as_deref(), received.notify_customer, received.visible_to_customer), (Some("Pedido recebido; aguardando pagamento"), false, true));
    assert_eq!((note.notify_customer, note.visible_to_customer), (false, false));
    assert_eq!(received.occurred_at.unwrap().to_rfc3339(), "2026-12-02T11:40:00+00:00");
    // The state's stage carries the newest entry of the current status: its words and flags.
    assert_eq!(*to, OrderStatus::Approved);
    assert_eq!((meta.comment.as_deref(), meta.notify_customer, meta.visible_to_customer), (Some("Pagamento confirmado pelo gateway"), true, true));
    assert_eq!(meta.event_id.as_deref(), Some("magento:3:2026-12-02 12:00:00:state"));
}

#[test]
fn model_data_spells_quantities_and_streets_as_text() {
    let mut body = order(json!({ "items": [{ "item_id": 5, "sku": "A", "qty_ordered": "2.0000", "price": "10.5000" }] }));
    body["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]["street"] = json!("Rua XV de Novembro\n200");
    let record = read(&body);
    let [_, Command::Import(new), ..] = &record.commands[..] else { panic!("{:#?}", record.commands) };
    assert_eq!((new.items[0].quantity, new.items[0].unit_price_cents), (2.0, 1_050));
    let Command::NewOrderDestination(customer) = &record.commands[0] else { panic!() };
    assert_eq!((customer.address.street.as_deref(), customer.address.number.as_deref()), (Some("Rua XV de Novembro"), Some("200")));
}

#[test]
fn flags_come_as_numbers_booleans_or_text() {
    let entry = |notified: Value| {
        let histories = json!([{ "entity_id": 1, "comment": "Nota", "status": null, "created_at": "2026-12-02 11:00:00", "is_customer_notified": notified, "is_visible_on_front": "0" }]);
        let record = read(&order(json!({ "status_histories": histories })));
        let note = record.commands.iter().find_map(|c| if let Command::Track(meta) = c { Some(meta.clone()) } else { None }).unwrap();
        (note.notify_customer, note.visible_to_customer)
    };
    assert_eq!(entry(json!("1")), (true, false));
    assert_eq!(entry(json!(true)), (true, false));
    assert_eq!(entry(json!(1)), (true, false));
    assert_eq!(entry(json!("0")), (false, false));
    assert_eq!(entry(json!(null)), (false, false));
}

#[test]
fn holded_holds_and_any_other_state_releases_first() {
    let held = read(&order(json!({ "state": "holded", "status": "holded", "status_histories": [] })));
    assert!(matches!(held.commands[..], [_, _, Command::Reach { to: OrderStatus::OnHold, .. }]), "{:#?}", held.commands);
    let back = read(&order(json!({ "status_histories": [], "tracks": [{ "track_number": "BR1", "title": "Correios" }] })));
    assert!(
        matches!(back.commands[..], [_, _, Command::Resume(_), Command::Ship { .. }, Command::Reach { to: OrderStatus::Approved, .. }]),
        "{:#?}",
        back.commands
    );
}

#[test]
fn a_track_is_a_shipment_of_its_order() {
    let record = read(&serde_json::from_str(TRACK).unwrap());
    assert_eq!(record.source_id, "3");
    let [Command::Ship { shipment, meta }] = &record.commands[..] else { panic!("{:#?}", record.commands) };
    assert_eq!((shipment.carrier.as_str(), shipment.title.as_deref(), shipment.tracking_number.as_str()), ("Correios - SEDEX", Some("custom"), "BR123456789BR"));
    assert_eq!(shipment.shipped_at.unwrap().to_rfc3339(), "2026-12-03T09:00:00+00:00");
    // The same track inside an order is the same shipment.
    let inside = read(&order(json!({ "tracks": [serde_json::from_str::<Value>(TRACK).unwrap()["data"]["track"]] })));
    assert!(inside.commands.iter().any(|c| matches!(c, Command::Ship { meta: m, .. } if m.event_id == meta.event_id)));
}

#[test]
fn states_map_by_default_statuses_by_the_company_and_an_unknown_state_says_where_to_map_it() {
    let reached = |record: &Record| record.commands.iter().find_map(|c| if let Command::Reach { to, .. } = c { Some(*to) } else { None });
    assert_eq!(reached(&read(&order(json!({ "state": "complete", "status": "complete" })))), Some(OrderStatus::InTransit));
    assert_eq!(reached(&read(&order(json!({ "state": "canceled", "status": "canceled" })))), Some(OrderStatus::Cancelled));
    // A merchant's status under processing: the state's stage, unless the company mapped the status.
    let custom = order(json!({ "state": "processing", "status": "em_producao" }));
    assert_eq!(reached(&read(&custom)), Some(OrderStatus::Approved));
    let company = Context {
        mappings: Arc::new(StatusMappings::from_rows([
            (WebhookPlatform::Magento, "status:em_producao".to_owned(), Some(OrderStatus::InProduction)),
            (WebhookPlatform::Magento, "fraud_check".to_owned(), None),
        ])),
        ..Context::default()
    };
    assert_eq!(reached(&read_in(&company, &custom)), Some(OrderStatus::InProduction));
    let unknown = read(&order(json!({ "state": "fraud_check", "status": "fraud" })));
    assert_eq!((unknown.refusals[0].code, unknown.refusals[0].field.as_deref()), ("UNMAPPED_STATUS", Some("state")));
    assert!(unknown.refusals[0].message.contains("platform: MAGENTO, code: \"fraud_check\""), "{}", unknown.refusals[0].message);
    // Mapped to nothing: no stage, but the history and a release still come.
    let ignored = read_in(&company, &order(json!({ "state": "fraud_check", "status": "fraud" })));
    assert_eq!(reached(&ignored), None);
    assert!(ignored.refusals.is_empty());
}

#[test]
fn what_is_not_an_order_or_a_track_is_refused_whole() {
    let parse = |body: &str| Storefront.parse(MAGENTO, body.as_bytes(), &Context::default()).unwrap_err();
    assert_eq!(parse("<xml/>").code, "MALFORMED");
    assert_eq!(parse(r#"{"data":{"product":{"sku":"x"}}}"#).code, "MALFORMED");
    assert_eq!(parse(r#"{"data":{"track":{"track_number":"X"}}}"#).code, "MALFORMED");
    assert_eq!(parse(r#"{"entity_id":{"nested":1}}"#).code, "MALFORMED");
    assert_eq!(parse(r#"{"entity_id":"  ","state":"new"}"#).code, "MALFORMED");
    let many = order(json!({ "items": vec![json!({ "sku": "x" }); 1001] }));
    assert_eq!(parse(&many.to_string()).code, "TOO_LARGE");
    let price = read(&order(json!({ "items": [{ "sku": "x", "price": "1,99" }] })));
    assert_eq!((price.refusals[0].code, price.refusals[0].field.as_deref()), ("VALIDATION", Some("items[0].price")));
}

#[test]
fn every_field_of_the_order_its_lines_and_its_customer_is_read() {
    let record = read(&order(json!({ "entity_id": "3" })));
    let [Command::NewOrderDestination(customer), Command::Import(new), ..] = &record.commands[..] else { panic!("{:#?}", record.commands) };
    let a = &customer.address;
    assert_eq!((a.city.as_deref(), a.state.as_deref(), a.country.as_deref()), (Some("Curitiba"), Some("PR"), Some("BR")));
    assert_eq!((new.source_id.as_str(), new.customer_name.as_deref()), ("3", Some("Veronica Costello")));
    let lines: Vec<_> = new.items.iter().map(|i| (i.source_id.as_str(), i.name.as_str())).collect();
    assert_eq!(lines, [("5", "Iris Workout Top"), ("7", "Joust Duffle Bag")]);
    // Lines without ids or names are numbered from 1.
    let bare = read(&order(json!({ "items": [{ "sku": "A" }, {}] })));
    let [_, Command::Import(new), ..] = &bare.commands[..] else { panic!() };
    let lines: Vec<_> = new.items.iter().map(|i| (i.source_id.as_str(), i.product_id.as_str(), i.name.as_str())).collect();
    assert_eq!(lines, [("1", "A", "A"), ("2", "2", "item 2")]);
    // At the limit, taken.
    assert!(read(&order(json!({ "items": vec![json!({ "sku": "x" }); 1000] }))).refusals.is_empty());
}

#[test]
fn a_state_the_company_reads_as_on_hold_does_not_release() {
    let company = Context {
        mappings: Arc::new(StatusMappings::from_rows([(WebhookPlatform::Magento, "suspected_fraud".to_owned(), Some(OrderStatus::OnHold))])),
        ..Context::default()
    };
    let held = read_in(&company, &order(json!({ "state": "suspected_fraud", "status": "fraud", "status_histories": [] })));
    assert!(matches!(held.commands[..], [_, _, Command::Reach { to: OrderStatus::OnHold, .. }]), "{:#?}", held.commands);
}
