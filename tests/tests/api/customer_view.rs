//! What a customer sees of an order: the status as of the newest change
//! visible to it (a hidden hold shows as the status before it) in `orders`,
//! `order(id)`, the status filter and live events; and no staff-only fields.

use std::time::Duration;

use serde_json::{json, Value};
use tests::{
    error_code,
    ws::{WsClient, WsEvent},
    TestApp,
};

const VIEW: &str = "query($id: ID!) { order(id: $id) { status history { fromStatus toStatus comment } } }";
const LIST: &str = "query($f: OrderFilterInput) { orders(first: 10, filter: $f) { totalCount edges { node { id status } } } }";

async fn hold(app: &TestApp, staff: &str, id: &str, visible: bool) {
    let body = app
        .gql(Some(staff), "mutation($id: ID!, $v: Boolean!) { holdOrder(id: $id, comment: \"credit check\", visibleToCustomer: $v) { applied } }", json!({ "id": id, "v": visible }))
        .await;
    assert_eq!(body["data"]["holdOrder"]["applied"], true, "{body}");
}

async fn release(app: &TestApp, staff: &str, id: &str, visible: bool) {
    let body = app
        .gql(Some(staff), "mutation($id: ID!, $v: Boolean!) { releaseOrder(id: $id, comment: \"released\", visibleToCustomer: $v) { applied } }", json!({ "id": id, "v": visible }))
        .await;
    assert_eq!(body["data"]["releaseOrder"]["applied"], true, "{body}");
}

fn statuses_in(list: &Value) -> Vec<(String, String)> {
    list["data"]["orders"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|e| (e["node"]["id"].as_str().unwrap().to_owned(), e["node"]["status"].as_str().unwrap().to_owned()))
        .collect()
}

async fn customer_status_column(app: &TestApp, id: &str) -> entities::OrderStatus {
    use sea_orm::EntityTrait;
    entities::order::Entity::find_by_id(id.parse::<i32>().unwrap()).one(&app.db).await.unwrap().unwrap().customer_status
}

#[tokio::test]
async fn a_hidden_hold_shows_customers_the_status_before_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let held = app.create_order(&t.staff, "HELD", &t.destination, Some("IN_TRANSIT")).await;
    let open = app.create_order(&t.staff, "OPEN", &t.destination, Some("INVOICED")).await;
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;
    hold(&app, &t.staff, &held, false).await;

    // Staff see the hold.
    let staff_view = app.gql(Some(&t.staff), VIEW, json!({ "id": held })).await;
    assert_eq!(staff_view["data"]["order"]["status"], "ON_HOLD");
    let staff_held = app.gql(Some(&t.staff), LIST, json!({ "f": { "statuses": ["ON_HOLD"] } })).await;
    assert_eq!(statuses_in(&staff_held), [(held.clone(), "ON_HOLD".to_owned())]);

    // The customer does not: not in the order, the list, the history, nor the filter.
    let view = app.gql(Some(&customer), VIEW, json!({ "id": held })).await;
    assert_eq!(view["data"]["order"]["status"], "IN_TRANSIT", "{view}");
    assert!(!view.to_string().contains("ON_HOLD"), "{view}");
    assert!(!view.to_string().contains("credit check"), "{view}");
    let list = app.gql(Some(&customer), LIST, json!({})).await;
    let mut seen = statuses_in(&list);
    seen.sort();
    let mut expected = vec![(held.clone(), "IN_TRANSIT".to_owned()), (open.clone(), "INVOICED".to_owned())];
    expected.sort();
    assert_eq!(seen, expected);
    let on_hold = app.gql(Some(&customer), LIST, json!({ "f": { "statuses": ["ON_HOLD"] } })).await;
    assert_eq!(on_hold["data"]["orders"]["totalCount"], 0, "{on_hold}");
    let in_transit = app.gql(Some(&customer), LIST, json!({ "f": { "statuses": ["IN_TRANSIT"] } })).await;
    assert_eq!(statuses_in(&in_transit), [(held.clone(), "IN_TRANSIT".to_owned())]);
    assert_eq!(customer_status_column(&app, &held).await, entities::OrderStatus::InTransit);

    // A visible release tells the customer something happened, but still not
    // that the order was held: its entry runs from the status it saw.
    release(&app, &t.staff, &held, true).await;
    let view = app.gql(Some(&customer), VIEW, json!({ "id": held })).await;
    assert!(!view.to_string().contains("ON_HOLD"), "{view}");
    let history = view["data"]["order"]["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap(), &json!({ "fromStatus": "IN_TRANSIT", "toStatus": "IN_TRANSIT", "comment": "released" }));

    // A visible hold is the customer's to see.
    hold(&app, &t.staff, &open, true).await;
    let view = app.gql(Some(&customer), VIEW, json!({ "id": open })).await;
    assert_eq!(view["data"]["order"]["status"], "ON_HOLD");
    let on_hold = app.gql(Some(&customer), LIST, json!({ "f": { "statuses": ["ON_HOLD"] } })).await;
    assert_eq!(statuses_in(&on_hold), [(open.clone(), "ON_HOLD".to_owned())]);
}

async fn next_change(socket: &mut WsClient) -> Value {
    loop {
        match socket.next(Duration::from_secs(5)).await {
            WsEvent::Json(message) if message["type"] == "next" => return message["payload"].clone(),
            WsEvent::Json(message) if message["type"] == "ping" => continue,
            other => panic!("expected a change, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn live_events_show_customers_the_status_they_see() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("IN_TRANSIT")).await;
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;
    let mut socket = WsClient::connect(&app.base).await;
    socket.init(&customer).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Json(json!({ "type": "connection_ack" })));
    socket
        .subscribe(
            "c",
            "subscription { orderStatusChanged { orderId status previousStatus entry { fromStatus toStatus comment } order { status } } }",
            json!({}),
        )
        .await;
    let mut staff = WsClient::connect(&app.base).await;
    staff.init(&t.staff).await;
    staff.next(Duration::from_secs(5)).await;
    staff.subscribe("s", "subscription { orderStatusChanged { status previousStatus } }", json!({})).await;

    hold(&app, &t.staff, &order, false).await;
    assert_eq!(next_change(&mut staff).await["data"]["orderStatusChanged"], json!({ "status": "ON_HOLD", "previousStatus": "IN_TRANSIT" }));
    release(&app, &t.staff, &order, true).await;
    assert_eq!(next_change(&mut staff).await["data"]["orderStatusChanged"], json!({ "status": "IN_TRANSIT", "previousStatus": "ON_HOLD" }));

    // The customer's first event is the visible release, in its own terms.
    let change = next_change(&mut socket).await;
    assert_eq!(
        change["data"]["orderStatusChanged"],
        json!({ "orderId": order, "status": "IN_TRANSIT", "previousStatus": "IN_TRANSIT",
            "entry": { "fromStatus": "IN_TRANSIT", "toStatus": "IN_TRANSIT", "comment": "released" }, "order": { "status": "IN_TRANSIT" } }),
        "{change}"
    );

    // Staff-only fields of an event are refused to a customer too.
    let mut nosy = WsClient::connect(&app.base).await;
    nosy.init(&customer).await;
    nosy.next(Duration::from_secs(5)).await;
    nosy.subscribe("n", "subscription { orderStatusChanged { status order { sourceId } entry { notifyCustomer source } } }", json!({})).await;
    let body = app
        .gql(Some(&t.staff), "mutation($id: ID!) { markDelivered(id: $id) { applied } }", json!({ "id": order }))
        .await;
    assert_eq!(body["data"]["markDelivered"]["applied"], true, "{body}");
    let change = next_change(&mut nosy).await;
    assert_eq!(change["errors"][0]["extensions"]["code"], "FORBIDDEN", "{change}");
    assert!(!change.to_string().contains("A-1"), "{change}");
    assert!(!change.to_string().contains("manual"), "{change}");
}

/// Every staff-only field, asked by a customer, is refused with FORBIDDEN and
/// its value never sent; staff read them all. What the customer may read is
/// still there.
#[tokio::test]
async fn staff_only_fields_are_refused_to_customers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let body = app
        .gql(
            Some(&t.staff),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": {
                "sourceId": "ERP-SECRET-1", "code": "#1", "destinationLocalityId": t.destination, "status": "DELIVERED",
                "priority": 9, "reference": "margin 42%", "observations": "difficult customer",
                "pickupStart": "2026-01-01T08:00:00Z", "pickupEnd": "2026-01-01T10:00:00Z",
                "items": [{ "sourceId": "LINE-SECRET", "productId": "SKU-1", "name": "Chair", "quantity": 1, "unitPrice": "100.00", "originLocalityId": t.origin }],
                "classifications": [{ "key": "margin", "value": "internal" }],
                "attributes": [{ "key": "erp-batch", "value": "internal" }]
            } }),
        )
        .await;
    let order = body["data"]["createOrder"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let refund = app
        .gql(Some(&t.staff), "mutation($id: ID!) { refundOrder(id: $id, amount: \"10.00\", comment: \"goodwill, do not tell\") { applied } }", json!({ "id": order }))
        .await;
    assert_eq!(refund["data"]["refundOrder"]["applied"], true, "{refund}");
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;

    let staff_only = [
        "sourceId",
        "statusBeforeHold",
        "priority",
        "reference",
        "observations",
        "pickupStart",
        "pickupEnd",
        "classifications { key value }",
        "attributes { key value }",
        "items { sourceId }",
        "items { originLocalityId }",
        "destination { sourceId }",
        "history { notifyCustomer }",
        "history { visibleToCustomer }",
        "history { source }",
        "history { eventId }",
        "history { applied }",
        "history { skipReason }",
        "refunds { comment }",
    ];
    for field in staff_only {
        for query in [
            format!("query($id: ID!) {{ order(id: $id) {{ code {field} }} }}"),
            format!("{{ orders(first: 5) {{ edges {{ node {{ code {field} }} }} }} }}"),
        ] {
            let staff = app.gql(Some(&t.staff), &query, json!({ "id": order })).await;
            assert!(staff["errors"].is_null(), "staff read {field}: {staff}");
            let seen = app.gql(Some(&customer), &query, json!({ "id": order })).await;
            assert_eq!(error_code(&seen), Some("FORBIDDEN"), "a customer read {field}: {seen}");
            for secret in ["ERP-SECRET", "LINE-SECRET", "margin", "difficult", "goodwill", "erp-batch", "STORE-1", "manual"] {
                assert!(!seen.to_string().contains(secret), "{field} leaked {secret}: {seen}");
            }
        }
    }

    let allowed = app
        .gql(
            Some(&customer),
            "query($id: ID!) { order(id: $id) { id code status customerName total refunded createdAt
                destination { name address { city } } items { name productId quantity unitPrice total }
                history { fromStatus toStatus comment occurredAt } shipments { carrier trackingNumber } refunds { amount createdAt } invoice { number } } }",
            json!({ "id": order }),
        )
        .await;
    assert!(allowed["errors"].is_null(), "{allowed}");
    assert_eq!(allowed["data"]["order"]["status"], "REFUNDED");
    assert_eq!(allowed["data"]["order"]["refunds"][0]["amount"], "10.00");
}
