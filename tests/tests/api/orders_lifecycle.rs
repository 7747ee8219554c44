//! The order lifecycle through the API: every move of the status machine, hold
//! and release, invoices, shipments, refunds, comments, stale and repeated
//! events, and one history entry per change.

use entities::{order_status_history, OrderStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{error_code, TestApp};

const MOVE: &str = "mutation($id: ID!, $s: OrderStatus!, $at: DateTime, $ev: String, $c: String) {
  updateOrderStatus(id: $id, status: $s, occurredAt: $at, eventId: $ev, comment: $c) {
    applied order { status statusBeforeHold } entry { fromStatus toStatus applied skipReason comment } } }";

const ALL: [&str; 11] = [
    "RECEIVED", "APPROVED", "IN_PRODUCTION", "INVOICED", "IN_SEPARATION", "IN_TRANSIT", "DELIVERY_FAILED", "DELIVERED",
    "CANCELLED", "REFUNDED", "ON_HOLD",
];

/// DESIGN.md's rules, written out: from → the statuses it may move to.
const ALLOWED: [(&str, &[&str]); 10] = [
    ("RECEIVED", &["APPROVED", "IN_PRODUCTION", "INVOICED", "IN_SEPARATION", "IN_TRANSIT", "DELIVERY_FAILED", "DELIVERED", "CANCELLED", "ON_HOLD"]),
    ("APPROVED", &["IN_PRODUCTION", "INVOICED", "IN_SEPARATION", "IN_TRANSIT", "DELIVERY_FAILED", "DELIVERED", "CANCELLED", "REFUNDED", "ON_HOLD"]),
    ("IN_PRODUCTION", &["INVOICED", "IN_SEPARATION", "IN_TRANSIT", "DELIVERY_FAILED", "DELIVERED", "CANCELLED", "REFUNDED", "ON_HOLD"]),
    ("INVOICED", &["IN_SEPARATION", "IN_TRANSIT", "DELIVERY_FAILED", "DELIVERED", "CANCELLED", "REFUNDED", "ON_HOLD"]),
    ("IN_SEPARATION", &["IN_TRANSIT", "DELIVERY_FAILED", "DELIVERED", "CANCELLED", "REFUNDED", "ON_HOLD"]),
    ("IN_TRANSIT", &["DELIVERY_FAILED", "DELIVERED", "REFUNDED", "ON_HOLD"]),
    ("DELIVERY_FAILED", &["IN_TRANSIT", "DELIVERED", "REFUNDED", "ON_HOLD"]),
    ("DELIVERED", &["REFUNDED", "ON_HOLD"]),
    ("CANCELLED", &[]),
    ("REFUNDED", &[]),
];

/// Brings a new order to `status` through allowed moves.
async fn order_in(app: &TestApp, token: &str, destination: &str, n: &mut u32, status: &str) -> String {
    *n += 1;
    let source = format!("O-{n}");
    let (start, then): (&str, &[&str]) = match status {
        "CANCELLED" => ("RECEIVED", &["CANCELLED"]),
        "REFUNDED" => ("APPROVED", &["REFUNDED"]),
        "ON_HOLD" => ("APPROVED", &["ON_HOLD"]),
        other => (other, &[]),
    };
    let id = app.create_order(token, &source, destination, Some(start)).await;
    for to in then {
        let body = app.gql(Some(token), MOVE, json!({ "id": id, "s": to })).await;
        assert_eq!(body["data"]["updateOrderStatus"]["applied"], true, "{body}");
    }
    id
}

#[tokio::test]
async fn every_move_of_the_status_machine_is_allowed_or_refused_as_designed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let mut n = 0;
    let mut mismatches = Vec::new();
    for (from, allowed) in ALLOWED.iter().chain([("ON_HOLD", &["APPROVED", "CANCELLED", "REFUNDED"][..])].iter()) {
        for to in ALL {
            let id = order_in(&app, &t.staff, &t.destination, &mut n, from).await;
            let body = app.gql(Some(&t.staff), MOVE, json!({ "id": id, "s": to })).await;
            let expected = allowed.contains(&to);
            let moved = body["data"]["updateOrderStatus"]["order"]["status"] == to;
            if expected != moved {
                mismatches.push(format!("{from} -> {to}: expected {expected}, got {body}"));
            }
            if !expected {
                let message = body["errors"][0]["message"].as_str().unwrap_or_default();
                let names_both = from == &to || (message.contains(from) && message.contains(to));
                if error_code(&body) != Some("VALIDATION") || !names_both {
                    mismatches.push(format!("{from} -> {to}: refusal should be VALIDATION naming both: {body}"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn hold_and_release_return_to_the_previous_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let id = app.create_order(&t.staff, "O-1", &t.destination, Some("INVOICED")).await;

    let held = app
        .gql(Some(&t.staff), "mutation($id: ID!) { holdOrder(id: $id, comment: \"credit check\") { order { status statusBeforeHold } } }", json!({ "id": id }))
        .await;
    assert_eq!(held["data"]["holdOrder"]["order"], json!({ "status": "ON_HOLD", "statusBeforeHold": "INVOICED" }));
    // A held order cannot move on until it is released.
    let body = app.gql(Some(&t.staff), MOVE, json!({ "id": id, "s": "IN_TRANSIT" })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let again = app.gql(Some(&t.staff), "mutation($id: ID!) { holdOrder(id: $id) { applied } }", json!({ "id": id })).await;
    assert_eq!(error_code(&again), Some("VALIDATION"));

    let released = app
        .gql(Some(&t.staff), "mutation($id: ID!) { releaseOrder(id: $id) { order { status statusBeforeHold } entry { fromStatus toStatus } } }", json!({ "id": id }))
        .await;
    assert_eq!(released["data"]["releaseOrder"]["order"], json!({ "status": "INVOICED", "statusBeforeHold": null }));
    assert_eq!(released["data"]["releaseOrder"]["entry"], json!({ "fromStatus": "ON_HOLD", "toStatus": "INVOICED" }));
    let not_held = app.gql(Some(&t.staff), "mutation($id: ID!) { releaseOrder(id: $id) { applied } }", json!({ "id": id })).await;
    assert_eq!(error_code(&not_held), Some("VALIDATION"));
}

#[tokio::test]
async fn stale_and_repeated_events_are_recorded_as_skipped_and_not_applied() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let id = app.create_order(&t.staff, "O-1", &t.destination, Some("APPROVED")).await;
    let now = chrono::Utc::now();
    let at = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();

    // The first status event sets the mark; one from before it is stale.
    let first = app.gql(Some(&t.staff), MOVE, json!({ "id": id, "s": "INVOICED", "at": at(10) })).await;
    assert_eq!(first["data"]["updateOrderStatus"]["applied"], true, "{first}");
    let stale = app.gql(Some(&t.staff), MOVE, json!({ "id": id, "s": "IN_SEPARATION", "at": at(60) })).await;
    let result = &stale["data"]["updateOrderStatus"];
    assert_eq!(result["applied"], false, "{stale}");
    assert_eq!(result["order"]["status"], "INVOICED");
    assert!(result["entry"]["skipReason"].as_str().unwrap().contains("stale"));
    // A comment is not a status event: it does not make later events stale.
    app.gql(Some(&t.staff), "mutation($id: ID!) { addOrderComment(id: $id, comment: \"note\") { applied } }", json!({ "id": id })).await;

    let applied = app.gql(Some(&t.staff), MOVE, json!({ "id": id, "s": "IN_SEPARATION", "ev": "evt-1", "at": at(5) })).await;
    assert_eq!(applied["data"]["updateOrderStatus"]["applied"], true, "{applied}");
    let repeat = app.gql(Some(&t.staff), MOVE, json!({ "id": id, "s": "IN_SEPARATION", "ev": "evt-1" })).await;
    let result = &repeat["data"]["updateOrderStatus"];
    assert_eq!(result["applied"], false, "a repeat is not an error: {repeat}");
    assert!(result["entry"]["skipReason"].as_str().unwrap().contains("duplicate"));

    // Both skipped events are in the history, marked; the status moved once each.
    let order_id: i32 = id.parse().unwrap();
    let history = order_status_history::Entity::find()
        .filter(order_status_history::Column::OrderId.eq(order_id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(history.len(), 6, "creation, invoiced, stale, comment, applied, repeat");
    assert_eq!(history.iter().filter(|h| !h.applied).count(), 2);
    assert_eq!(history.iter().filter(|h| h.applied && h.to_status == OrderStatus::InSeparation).count(), 1);

    let future = app
        .gql(Some(&t.staff), MOVE, json!({ "id": id, "s": "IN_SEPARATION", "at": (now + chrono::Duration::hours(2)).to_rfc3339() }))
        .await;
    assert_eq!(error_code(&future), Some("VALIDATION"));
}

#[tokio::test]
async fn invoice_shipment_delivery_refund_and_comments_each_write_one_history_entry() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let id = app.create_order(&t.staff, "O-1", &t.destination, Some("APPROVED")).await;
    let call = |query: &'static str, vars: Value| {
        let app = &app;
        let staff = t.staff.clone();
        async move { app.gql(Some(&staff), query, vars).await }
    };

    let invoiced = call(
        "mutation($id: ID!) { invoiceOrder(id: $id, invoice: { number: \"50123\", series: \"1\", key: \"35261111222333000181550010000501231000000000\" }) { order { status invoice { number value } } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(invoiced["data"]["invoiceOrder"]["order"]["status"], "INVOICED", "{invoiced}");
    assert_eq!(invoiced["data"]["invoiceOrder"]["order"]["invoice"], json!({ "number": "50123", "value": "2218.80" }));
    let bad_key = call("mutation($id: ID!) { invoiceOrder(id: $id, invoice: { number: \"1\", key: \"123\" }) { applied } }", json!({ "id": id })).await;
    assert_eq!(bad_key["errors"][0]["extensions"]["field"], "invoice.key");

    let shipped = call(
        "mutation($id: ID!) { addShipment(id: $id, shipment: { carrier: \"Correios\", title: \"SEDEX\", trackingNumber: \"BR123456789XX\", trackingUrl: \"https://rastreio.example/BR123456789XX\" }) { order { status shipments { carrier trackingNumber } } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(shipped["data"]["addShipment"]["order"]["status"], "IN_TRANSIT", "{shipped}");
    assert_eq!(shipped["data"]["addShipment"]["order"]["shipments"][0]["trackingNumber"], "BR123456789XX");

    let comment = call("mutation($id: ID!) { addOrderComment(id: $id, comment: \"Left the hub\") { order { status } entry { fromStatus toStatus comment } } }", json!({ "id": id })).await;
    assert_eq!(comment["data"]["addOrderComment"]["entry"], json!({ "fromStatus": "IN_TRANSIT", "toStatus": "IN_TRANSIT", "comment": "Left the hub" }));

    let cancel = call("mutation($id: ID!) { cancelOrder(id: $id) { applied } }", json!({ "id": id })).await;
    assert_eq!(error_code(&cancel), Some("VALIDATION"), "no cancelling once in transit");
    assert!(cancel["errors"][0]["message"].as_str().unwrap().contains("IN_TRANSIT"));

    let delivered = call("mutation($id: ID!) { markDelivered(id: $id, comment: \"Signed by Ana\") { order { status } } }", json!({ "id": id })).await;
    assert_eq!(delivered["data"]["markDelivered"]["order"]["status"], "DELIVERED");

    let too_much = call("mutation($id: ID!) { refundOrder(id: $id, amount: \"9999.99\") { applied } }", json!({ "id": id })).await;
    assert_eq!(too_much["errors"][0]["extensions"]["field"], "amount");
    let refunded = call("mutation($id: ID!) { refundOrder(id: $id, amount: \"2218.80\", comment: \"Returned\") { order { status refunded refunds { amount } } } }", json!({ "id": id })).await;
    assert_eq!(refunded["data"]["refundOrder"]["order"]["status"], "REFUNDED", "{refunded}");
    assert_eq!(refunded["data"]["refundOrder"]["order"]["refunds"], json!([{ "amount": "2218.80" }]));

    let order = call("query($id: ID!) { order(id: $id) { history { fromStatus toStatus source } } }", json!({ "id": id })).await;
    let history: Vec<(Value, Value)> = order["data"]["order"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["fromStatus"].clone(), h["toStatus"].clone()))
        .collect();
    let expected: Vec<(Value, Value)> = [
        (json!(null), "APPROVED"),
        (json!("APPROVED"), "INVOICED"),
        (json!("INVOICED"), "IN_TRANSIT"),
        (json!("IN_TRANSIT"), "IN_TRANSIT"),
        (json!("IN_TRANSIT"), "DELIVERED"),
        (json!("DELIVERED"), "REFUNDED"),
    ]
    .into_iter()
    .map(|(from, to)| (from, json!(to)))
    .collect();
    assert_eq!(history, expected, "one entry per change; refused calls wrote none");
}

#[tokio::test]
async fn order_input_is_validated_and_nothing_is_half_written() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let create = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }";
    let base = json!({ "sourceId": "X-1", "code": "#1", "destinationLocalityId": t.destination,
        "items": [{ "sourceId": "1", "productId": "SKU", "name": "Thing", "quantity": 1, "unitPrice": "10.00", "originLocalityId": t.origin }] });
    let cases = [
        ("items", json!({ "items": [] })),
        ("items[0].quantity", json!({ "items": [{ "sourceId": "1", "productId": "SKU", "name": "Thing", "quantity": 0, "unitPrice": "1" }] })),
        ("priority", json!({ "priority": 11 })),
        ("deliveryEnd", json!({ "pickupStart": "2026-12-02T10:00:00Z", "deliveryEnd": "2026-12-01T10:00:00Z" })),
        ("destinationLocalityId", json!({ "destinationLocalityId": t.origin })),
        ("items[0].originLocalityId", json!({ "items": [{ "sourceId": "1", "productId": "SKU", "name": "Thing", "quantity": 1, "unitPrice": "1", "originLocalityId": t.destination }] })),
        ("status", json!({ "status": "ON_HOLD" })),
        ("address.latitude", json!({ "destinationLocalityId": null, "address": { "city": "Rio", "state": "RJ", "latitude": 95.0, "longitude": 1.0 } })),
    ];
    for (field, change) in cases {
        let mut input = base.clone();
        for (k, v) in change.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = app.gql(Some(&t.staff), create, json!({ "i": input })).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{field}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let bad_money = app.gql(Some(&t.staff), create, json!({ "i": { "sourceId": "X", "code": "X", "destinationLocalityId": t.destination, "items": [{ "sourceId": "1", "productId": "S", "name": "N", "quantity": 1, "unitPrice": "1.234" }] } })).await;
    assert_eq!(error_code(&bad_money), Some("VALIDATION"));
    assert_eq!(entities::order::Entity::find().all(&app.db).await.unwrap().len(), 0, "nothing was written");

    let ok = app.gql(Some(&t.staff), create, json!({ "i": base })).await;
    assert!(ok["data"]["createOrder"]["id"].is_string(), "{ok}");
    let duplicate = app.gql(Some(&t.staff), create, json!({ "i": base })).await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"));
    let items = entities::order_item::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(items.len(), 1, "the refused duplicate left no items");
}

#[tokio::test]
async fn editing_an_order_replaces_its_items_and_leaves_a_history_entry() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let id = app.create_order(&t.staff, "O-1", &t.destination, Some("APPROVED")).await;
    let body = app
        .gql(
            Some(&t.staff),
            "mutation($id: ID!, $i: UpdateOrderInput!) { updateOrder(id: $id, input: $i) { code total priority items { productId } } }",
            json!({ "id": id, "i": { "code": "#NEW", "priority": 7,
                "items": [{ "sourceId": "9", "productId": "SKU-NEW", "name": "New", "quantity": 3, "unitPrice": "10.00" }] } }),
        )
        .await;
    assert_eq!(body["data"]["updateOrder"], json!({ "code": "#NEW", "total": "30.00", "priority": 7, "items": [{ "productId": "SKU-NEW" }] }), "{body}");
    let bad = app.gql(Some(&t.staff), "mutation($id: ID!) { updateOrder(id: $id, input: { priority: 12 }) { code } }", json!({ "id": id })).await;
    assert_eq!(error_code(&bad), Some("VALIDATION"));
    let history = app.gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { status history { fromStatus toStatus visibleToCustomer } } }", json!({ "id": id })).await;
    let entries = history["data"]["order"]["history"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{history}");
    assert_eq!(entries[1], json!({ "fromStatus": "APPROVED", "toStatus": "APPROVED", "visibleToCustomer": false }));
}
