//! Nuvemshop notifications: with the order a relay fetched, and id-only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_storefront::{Storefront, NUVEMSHOP};
use domain::ingest::{Adapter, Command, Context, Record};
use entities::OrderStatus;
use serde_json::{json, Value};

const PAID: &str = include_str!("fixtures/nuvemshop/order-paid.json");

fn with(changes: Value) -> Value {
    let mut body: Value = serde_json::from_str(PAID).unwrap();
    for (key, change) in changes.as_object().unwrap() {
        body["order"][key] = change.clone();
    }
    body
}

fn read(body: &Value) -> Record {
    Storefront.parse(NUVEMSHOP, body.to_string().as_bytes(), &Context::default()).unwrap().records.remove(0)
}

fn reached(record: &Record) -> Vec<OrderStatus> {
    record.commands.iter().filter_map(|c| if let Command::Reach { to, .. } = c { Some(*to) } else { None }).collect()
}

#[test]
fn a_paid_order_is_created_with_its_customer_and_approved() {
    let record = read(&serde_json::from_str(PAID).unwrap());
    assert_eq!(record.source_id, "871254203");
    let [Command::NewOrderDestination(customer), Command::Import(order), Command::Reach { to: OrderStatus::Approved, meta }] = &record.commands[..] else {
        panic!("{:#?}", record.commands);
    };
    assert_eq!((customer.name.as_str(), customer.address.district.as_deref()), ("Maria Souza", Some("Catete")));
    let address = &customer.address;
    assert_eq!((address.street.as_deref(), address.number.as_deref(), address.country.as_deref()), (Some("Rua do Catete"), Some("311"), Some("BR")));
    assert_eq!((order.code.as_str(), order.observations.as_deref()), ("1042", Some("Presente: embrulhar")));
    let lines: Vec<_> = order.items.iter().map(|i| (i.product_id.as_str(), i.quantity, i.unit_price_cents)).collect();
    assert_eq!(lines, [("CAN-001", 2.0, 4_990), ("1069053830", 1.0, 9_000)]);
    assert_eq!(meta.occurred_at.unwrap().to_rfc3339(), "2026-12-02T12:30:00+00:00");
}

#[test]
fn a_shipped_order_is_a_shipment_and_a_cancelled_one_ends_last() {
    let shipped = read(&with(json!({ "shipping_status": "shipped", "shipping_tracking_number": "PAC123", "shipping_tracking_url": "https://rastreamento.correios.com.br/?objetos=PAC123" })));
    let ship = shipped.commands.iter().find_map(|c| if let Command::Ship { shipment, .. } = c { Some(shipment) } else { None }).unwrap();
    assert_eq!((ship.carrier.as_str(), ship.tracking_number.as_str()), ("Correios - PAC", "PAC123"));
    assert_eq!(reached(&shipped), [OrderStatus::Approved, OrderStatus::InTransit]);
    let cancelled = read(&with(json!({ "status": "cancelled", "payment_status": "voided", "cancel_reason": "inventory" })));
    assert_eq!(reached(&cancelled), [OrderStatus::Cancelled, OrderStatus::Cancelled]);
    let Some(Command::Reach { meta, .. }) = cancelled.commands.last() else { panic!() };
    assert_eq!(meta.comment.as_deref(), Some("Cancelled in Nuvemshop (inventory)"));
}

#[test]
fn an_id_only_notification_says_its_stage_or_is_skipped_saying_why() {
    let paid = read(&json!({ "store_id": 1, "event": "order/paid", "id": 871254203 }));
    assert_eq!(reached(&paid), [OrderStatus::Approved]);
    let packed = read(&json!({ "store_id": 1, "event": "order/packed", "id": "871254203" }));
    assert_eq!(reached(&packed), [OrderStatus::InSeparation]);
    let updated = read(&json!({ "store_id": 1, "event": "order/updated", "id": 871254203 }));
    assert!(updated.commands.is_empty() && updated.skipped.as_deref().unwrap().contains("cannot fetch"), "{updated:?}");
    let unknown = read(&json!({ "store_id": 1, "event": "order/teleported", "id": 871254203 }));
    assert_eq!((unknown.refusals[0].code, unknown.refusals[0].field.as_deref()), ("UNMAPPED_STATUS", Some("event")));
}

#[test]
fn what_is_not_a_notification_is_refused_whole() {
    let parse = |body: &str| Storefront.parse(NUVEMSHOP, body.as_bytes(), &Context::default()).unwrap_err().code;
    assert_eq!(parse("{}"), "MALFORMED");
    assert_eq!(parse(r#"{"event":"order/paid","id":null}"#), "MALFORMED");
    assert_eq!(parse(r#"{"event":"order/paid","id":" "}"#), "MALFORMED");
    let most = with(json!({ "products": vec![json!({ "id": 1 }); 1000] }));
    assert_eq!(read(&most).source_id, "871254203", "1,000 products are taken");
    let many = with(json!({ "products": vec![json!({ "id": 1 }); 1001] }));
    assert_eq!(parse(&many.to_string()), "TOO_LARGE");
    let bad = read(&with(json!({ "products": [{ "id": 1, "quantity": "two" }] })));
    assert_eq!(bad.refusals[0].field.as_deref(), Some("order.products[0].quantity"));
}

#[test]
fn every_field_of_the_order_its_lines_and_its_customer_is_read() {
    let record = read(&serde_json::from_str(PAID).unwrap());
    let [Command::NewOrderDestination(customer), Command::Import(order), ..] = &record.commands[..] else { panic!("{:#?}", record.commands) };
    let a = &customer.address;
    assert_eq!(
        (a.complement.as_deref(), a.city.as_deref(), a.state.as_deref(), a.zip_code.as_deref()),
        (Some("apto 201"), Some("Rio de Janeiro"), Some("RJ"), Some("22220-001"))
    );
    assert_eq!((order.source_id.as_str(), order.customer_name.as_deref()), ("871254203", Some("Maria Souza")));
    assert_eq!(order.attributes, [("nuvemshop.id".to_owned(), "871254203".to_owned())]);
    let lines: Vec<_> = order.items.iter().map(|i| (i.source_id.as_str(), i.name.as_str())).collect();
    assert_eq!(lines, [("1069053829", "Caneca Esmaltada"), ("1069053830", "Bule")]);
}

#[test]
fn a_voided_payment_cancels_after_the_shipment_and_the_carrier_may_be_an_object() {
    let body = with(json!({ "payment_status": "voided", "shipping_status": "shipped", "shipping_tracking_number": "PAC1",
        "shipping_option": { "name": "Jadlog .Package" } }));
    let record = read(&body);
    assert_eq!(reached(&record), [OrderStatus::InTransit, OrderStatus::Cancelled]);
    let carrier = record.commands.iter().find_map(|c| if let Command::Ship { shipment, .. } = c { Some(shipment.carrier.clone()) } else { None });
    assert_eq!(carrier.as_deref(), Some("Jadlog .Package"));
    // A cancel reason is the cancellation's words only.
    let company = Context {
        mappings: std::sync::Arc::new(domain::status_mappings::StatusMappings::from_rows([(
            entities::WebhookPlatform::Nuvemshop,
            "status:closed".to_owned(),
            Some(OrderStatus::Delivered),
        )])),
        ..Context::default()
    };
    let closed = Storefront
        .parse(NUVEMSHOP, with(json!({ "status": "closed", "cancel_reason": "other" })).to_string().as_bytes(), &company)
        .unwrap()
        .records
        .remove(0);
    let comments: Vec<_> = closed.commands.iter().filter_map(|c| if let Command::Reach { meta, .. } = c { meta.comment.clone() } else { None }).collect();
    assert_eq!(comments, ["Nuvemshop: payment_status paid", "Nuvemshop: status closed"]);
}
