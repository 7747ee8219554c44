//! Shopify's webhooks, read from fixtures as Shopify sends them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use adapter_storefront::{shopify::Delivery, Storefront, SHOPIFY};
use domain::{
    ingest::{Adapter, Command, Context, Record},
    status_mappings::StatusMappings,
};
use entities::{OrderStatus, WebhookPlatform};
use serde_json::{json, Value};

const ORDER: &str = include_str!("fixtures/shopify/order.json");
const FULFILLMENT: &str = include_str!("fixtures/shopify/fulfillment.json");
const EVENT: &str = include_str!("fixtures/shopify/fulfillment_event.json");

fn with(body: &str, changes: Value) -> String {
    let mut value: Value = serde_json::from_str(body).unwrap();
    for (key, change) in changes.as_object().unwrap() {
        value[key] = change.clone();
    }
    value.to_string()
}

fn read_in(context: &Context, topic: &str, webhook_id: Option<&str>, body: &str) -> Record {
    let delivery = Delivery::new(topic, webhook_id, body.as_bytes()).unwrap();
    let mut batch = Storefront.parse(SHOPIFY, &delivery.to_bytes(), context).unwrap();
    assert_eq!(batch.records.len(), 1);
    batch.records.remove(0)
}

fn read(topic: &str, body: &str) -> Record {
    read_in(&Context::default(), topic, Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"), body)
}

fn reached(record: &Record) -> Vec<OrderStatus> {
    record.commands.iter().filter_map(|c| if let Command::Reach { to, .. } = c { Some(*to) } else { None }).collect()
}

#[test]
fn orders_create_makes_the_order_with_its_customer_and_reaches_what_it_paid() {
    let record = read("orders/create", ORDER);
    assert_eq!(record.source_id, "820982911946154508");
    assert!(record.refusals.is_empty(), "{:?}", record.refusals);
    let [Command::NewOrderDestination(customer), Command::Import(order), Command::Reach { to: OrderStatus::Approved, meta }] = &record.commands[..] else {
        panic!("{:?}", record.commands);
    };
    assert_eq!(customer.responsible.as_ref().unwrap().email, "jon@example.com");
    assert_eq!(customer.name, "Steve Shipper");
    // Within what a locality's source id holds, and the same for the same person.
    assert!(customer.source_id.starts_with("shopify-") && customer.source_id.len() <= 30, "{}", customer.source_id);
    assert_eq!(customer.source_id, domain::localities::customer_at_key("shopify", " JON@example.com", &customer.address));
    // The same person at another address is another destination: their
    // earlier orders keep going where they were going.
    let mut moved: Value = serde_json::from_str(ORDER).unwrap();
    moved["shipping_address"]["zip"] = json!("04538-133");
    let [Command::NewOrderDestination(elsewhere), ..] = &read("orders/create", &moved.to_string()).commands[..] else { panic!() };
    assert_ne!(elsewhere.source_id, customer.source_id);
    // A phone that is not one is left out, not a refusal.
    let odd = with(ORDER, json!({ "shipping_address": { "name": "Steve Shipper", "zip": "01305-000", "phone": "ligar depois das 18h" } }));
    let [Command::NewOrderDestination(quiet), ..] = &read("orders/create", &odd).commands[..] else { panic!() };
    assert_eq!(quiet.responsible.as_ref().unwrap().phone, None);
    assert_eq!((customer.address.city.as_deref(), customer.address.state.as_deref()), (Some("São Paulo"), Some("SP")));
    assert_eq!(order.destination_source_id.as_deref(), Some(customer.source_id.as_str()));
    assert_eq!((order.code.as_str(), order.observations.as_deref()), ("#9999", Some("Deixar na portaria")));
    let lines: Vec<_> = order.items.iter().map(|i| (i.product_id.as_str(), i.name.as_str(), i.unit_price_cents, i.total_cents)).collect();
    assert_eq!(lines, [("IPOD2008PINK", "IPod Nano - 8GB", 19_900, Some(19_900)), ("141249953214522974", "IPod Nano - 8GB case", 10_200, Some(20_400))]);
    // One webhook's changes are one moment: the order's last change.
    assert_eq!(meta.occurred_at.unwrap().to_rfc3339(), "2026-12-02T12:00:00+00:00");
    // Identified by what is signed: the order and its last change.
    assert_eq!(meta.event_id.as_deref(), Some("shopify:order:820982911946154508:2026-12-02T09:00:00-03:00:financial_status"));
}

#[test]
fn an_order_without_an_email_keeps_its_address_on_the_order() {
    let record = read("orders/paid", &with(ORDER, json!({ "email": null, "customer": null })));
    let [Command::Import(order), ..] = &record.commands[..] else { panic!("{:?}", record.commands) };
    assert_eq!(order.address.as_ref().unwrap().zip_code.as_deref(), Some("01305-000"));
    assert_eq!(order.destination_source_id, None);
}

#[test]
fn a_fulfillment_is_a_shipment_with_its_tracking_page_and_the_stage_its_carrier_reports() {
    let record = read("fulfillments/update", FULFILLMENT);
    assert_eq!(record.source_id, "820982911946154508");
    let [Command::Ship { shipment, meta }, Command::Reach { to: OrderStatus::InTransit, .. }] = &record.commands[..] else {
        panic!("{:?}", record.commands);
    };
    assert_eq!((shipment.carrier.as_str(), shipment.tracking_number.as_str()), ("Jadlog", "JD0001"));
    assert_eq!(shipment.tracking_url.as_deref(), Some("https://www.jadlog.com.br/rastreio?c=JD0001"));
    // The parcel is the same whichever webhook tells of it.
    assert_eq!(meta.event_id.as_deref(), Some("shopify:fulfillment:123456:JD0001"));
    let again = read_in(&Context::default(), "fulfillments/create", Some("another"), FULFILLMENT);
    let Command::Ship { meta: same, .. } = &again.commands[0] else { panic!() };
    assert_eq!(same.event_id, meta.event_id);
    // The same fulfillment inside an order payload is the same parcel too.
    let fulfilled = with(ORDER, json!({ "fulfillment_status": "fulfilled", "fulfillments": [serde_json::from_str::<Value>(FULFILLMENT).unwrap()] }));
    let order = read("orders/fulfilled", &fulfilled);
    assert_eq!(reached(&order), [OrderStatus::Approved, OrderStatus::InTransit, OrderStatus::InTransit]);
    assert!(order.commands.iter().any(|c| matches!(c, Command::Ship { meta: m, .. } if m.event_id == meta.event_id)));
    // A cancelled fulfillment is no parcel.
    let cancelled = read("fulfillments/update", &with(FULFILLMENT, json!({ "status": "cancelled" })));
    assert!(cancelled.commands.is_empty() && cancelled.skipped.as_deref().unwrap().contains("cancelled"), "{cancelled:?}");
}

#[test]
fn every_shipment_status_has_a_stage_or_is_read_and_ignored() {
    let stage = |status: &str| reached(&read("fulfillments/update", &with(FULFILLMENT, json!({ "shipment_status": status, "tracking_numbers": [], "tracking_number": null }))));
    assert_eq!(stage("label_printed"), [OrderStatus::InSeparation]);
    assert_eq!(stage("out_for_delivery"), [OrderStatus::InTransit]);
    assert_eq!(stage("attempted_delivery"), [OrderStatus::DeliveryFailed]);
    assert_eq!(stage("failure"), [OrderStatus::DeliveryFailed]);
    assert_eq!(stage("delivered"), [OrderStatus::Delivered]);
    assert_eq!(stage("picked_up"), [OrderStatus::Delivered]);
    assert_eq!(stage("confirmed"), []);
}

#[test]
fn a_carrier_event_reaches_its_stage_when_it_happened_and_otherwise_is_a_note() {
    let record = read("fulfillment_events/create", EVENT);
    let [Command::Reach { to: OrderStatus::Delivered, meta }] = &record.commands[..] else { panic!("{:?}", record.commands) };
    assert_eq!(meta.occurred_at.unwrap().to_rfc3339(), "2026-12-03T18:30:00+00:00");
    assert_eq!(meta.comment.as_deref(), Some("Entregue ao destinatário (São Paulo - SP)"));
    let delayed = read("fulfillment_events/create", &with(EVENT, json!({ "status": "delayed", "message": null })));
    let [Command::Track(note)] = &delayed.commands[..] else { panic!("{:?}", delayed.commands) };
    assert_eq!((note.comment.as_deref(), note.notify_customer), (Some("delayed (São Paulo - SP)"), false));
}

#[test]
fn cancelling_and_refunding_come_after_every_other_change_of_the_payload() {
    let body = with(
        ORDER,
        json!({ "financial_status": "refunded", "cancelled_at": "2026-12-02T09:00:00-03:00", "cancel_reason": "customer",
                "fulfillments": [serde_json::from_str::<Value>(FULFILLMENT).unwrap()] }),
    );
    let record = read("orders/cancelled", &body);
    assert_eq!(reached(&record), [OrderStatus::InTransit, OrderStatus::Cancelled, OrderStatus::Refunded]);
    let cancel = record.commands.iter().find_map(|c| if let Command::Reach { to: OrderStatus::Cancelled, meta } = c { Some(meta) } else { None });
    assert_eq!(cancel.unwrap().comment.as_deref(), Some("Cancelled in Shopify (customer)"));
}

#[test]
fn an_unmapped_status_fails_the_record_saying_where_to_map_it_and_a_company_mapping_reads_it() {
    let odd = with(FULFILLMENT, json!({ "shipment_status": "teleported" }));
    let refused = read("fulfillments/update", &odd);
    assert!(refused.commands.is_empty());
    assert_eq!((refused.refusals[0].code, refused.refusals[0].field.as_deref()), ("UNMAPPED_STATUS", Some("shipment_status")));
    assert!(refused.refusals[0].message.contains("platform: SHOPIFY, code: \"shipment_status:teleported\""), "{}", refused.refusals[0].message);
    let company = Context {
        mappings: Arc::new(StatusMappings::from_rows([
            (WebhookPlatform::Shopify, "shipment_status:teleported".to_owned(), Some(OrderStatus::Delivered)),
            (WebhookPlatform::Shopify, "financial_status:paid".to_owned(), None),
        ])),
        ..Context::default()
    };
    assert_eq!(reached(&read_in(&company, "fulfillments/update", Some("w"), &odd)), [OrderStatus::Delivered]);
    // The company may also read a standard status otherwise.
    assert_eq!(reached(&read_in(&company, "orders/paid", Some("w"), ORDER)), []);
}

#[test]
fn ids_come_from_what_is_signed_not_from_the_webhook_id_header() {
    let ids = |r: &Record| r.commands.iter().filter_map(|c| if let Command::Reach { meta, .. } = c { meta.event_id.clone() } else { None }).collect::<Vec<_>>();
    let first = read_in(&Context::default(), "orders/updated", Some("w-1"), ORDER);
    // The header is not signed: the same body under another id is the same change.
    let forged = read_in(&Context::default(), "orders/paid", Some("w-2"), ORDER);
    assert_eq!(ids(&first), ids(&forged));
    // The order's next state is another change.
    let next = read_in(&Context::default(), "orders/updated", Some("w-1"), &with(ORDER, json!({ "updated_at": "2026-12-02T10:00:00-03:00" })));
    assert_ne!(ids(&first), ids(&next));
    // Without a date, the body's digest tells states apart.
    let undated = |status: &str| ids(&read("orders/updated", &with(ORDER, json!({ "updated_at": null, "financial_status": status }))));
    assert!(undated("paid")[0].starts_with("shopify:order:820982911946154508:"), "{:?}", undated("paid"));
    assert_ne!(undated("paid"), undated("authorized"));
    // A carrier event is identified by its own id.
    let event = read_in(&Context::default(), "fulfillment_events/create", None, EVENT);
    let Command::Reach { meta, .. } = &event.commands[0] else { panic!() };
    assert_eq!(meta.event_id.as_deref(), Some("shopify:fulfillment_event:944956395"));
}

#[test]
fn what_is_not_a_webhook_rastro_takes_is_refused_whole() {
    let parse = |bytes: &[u8]| Storefront.parse(SHOPIFY, bytes, &Context::default()).unwrap_err();
    let unknown = parse(&Delivery::new("products/create", Some("w"), b"{}").unwrap().to_bytes());
    assert_eq!(unknown.code, "UNKNOWN_TOPIC");
    assert!(unknown.message.contains("fulfillment_events/create"), "{}", unknown.message);
    assert_eq!(parse(b"{\"id\":1}").code, "MALFORMED");
    assert_eq!(parse(&Delivery::new("orders/create", None, b"[1,2]").unwrap().to_bytes()).code, "MALFORMED");
    assert_eq!(parse(&Delivery::new("fulfillments/create", None, br#"{"id":1}"#).unwrap().to_bytes()).code, "MALFORMED");
    let many = with(ORDER, json!({ "line_items": vec![json!({"id": 1, "quantity": 1}); 1001] }));
    assert_eq!(parse(&Delivery::new("orders/create", None, many.as_bytes()).unwrap().to_bytes()).code, "TOO_LARGE");
    let parcels = with(ORDER, json!({ "fulfillments": vec![json!({"id": 1}); 101] }));
    assert_eq!(parse(&Delivery::new("orders/updated", None, parcels.as_bytes()).unwrap().to_bytes()).code, "TOO_LARGE");
    let numbers = with(FULFILLMENT, json!({ "tracking_numbers": vec!["X"; 101] }));
    assert_eq!(parse(&Delivery::new("fulfillments/update", None, numbers.as_bytes()).unwrap().to_bytes()).code, "TOO_LARGE");
    let urls = with(FULFILLMENT, json!({ "tracking_urls": vec!["https://x.example"; 101] }));
    assert_eq!(parse(&Delivery::new("fulfillments/update", None, urls.as_bytes()).unwrap().to_bytes()).code, "TOO_LARGE");
    // At the limits, taken.
    let most = with(ORDER, json!({ "line_items": vec![json!({"id": 1, "quantity": 1}); 1000],
        "fulfillments": vec![json!({"id": 1, "status": "cancelled", "tracking_numbers": vec!["X"; 100], "tracking_urls": vec!["https://x.example"; 100]}); 100] }));
    assert!(read("orders/updated", &most).refusals.is_empty());
    // An unmapped code is echoed cut, not whole.
    let long = read("fulfillment_events/create", &with(EVENT, json!({ "status": "x".repeat(5_000) })));
    assert!(long.refusals[0].message.len() < 600, "{}", long.refusals[0].message.len());
    let price = read("orders/create", &with(ORDER, json!({ "line_items": [{ "id": 1, "quantity": 1, "price": "1,99" }] })));
    assert_eq!((price.refusals[0].code, price.refusals[0].field.as_deref()), ("VALIDATION", Some("line_items[0].price")));
}

#[test]
fn every_field_of_the_order_its_lines_and_its_customer_is_read() {
    let record = read("orders/create", ORDER);
    let [Command::NewOrderDestination(customer), Command::Import(order), ..] = &record.commands[..] else { panic!("{:#?}", record.commands) };
    let a = &customer.address;
    assert_eq!(
        (a.street.as_deref(), a.complement.as_deref(), a.city.as_deref(), a.state.as_deref(), a.country.as_deref(), a.zip_code.as_deref()),
        (Some("Rua Augusta, 123"), Some("Apto 4"), Some("São Paulo"), Some("SP"), Some("BR"), Some("01305-000"))
    );
    assert_eq!((a.latitude, a.longitude), (Some(-23.55), Some(-46.65)));
    assert_eq!((order.source_id.as_str(), order.customer_name.as_deref()), ("820982911946154508", Some("Steve Shipper")));
    assert_eq!(order.attributes, [("shopify.id".to_owned(), "820982911946154508".to_owned())]);
    let lines: Vec<_> = order.items.iter().map(|i| (i.source_id.as_str(), i.name.as_str(), i.quantity)).collect();
    assert_eq!(lines, [("866550311766439020", "IPod Nano - 8GB", 1.0), ("141249953214522974", "IPod Nano - 8GB case", 2.0)]);
    // No receiver's name: the buyer's.
    let unnamed = read("orders/create", &with(ORDER, json!({ "shipping_address": { "zip": "01305-000", "name": null } })));
    let [_, Command::Import(order), ..] = &unnamed.commands[..] else { panic!() };
    assert_eq!(order.customer_name.as_deref(), Some("John Smith"));
}

#[test]
fn a_fulfillment_with_one_tracking_page_gives_it_to_its_first_number() {
    let record = read("fulfillments/update", &with(FULFILLMENT, json!({ "tracking_numbers": ["JD1", "JD2"], "tracking_urls": [] })));
    let urls: Vec<Option<String>> =
        record.commands.iter().filter_map(|c| if let Command::Ship { shipment, .. } = c { Some(shipment.tracking_url.clone()) } else { None }).collect();
    assert_eq!(urls, [Some("https://www.jadlog.com.br/rastreio?c=JD0001".to_owned()), None]);
}

#[test]
fn the_storefront_adapter_reads_the_company_mappings() {
    use domain::ingest::Adapter;
    assert!(Storefront.reads().status_mappings);
    assert!(!Storefront.reads().vtex_options);
}
