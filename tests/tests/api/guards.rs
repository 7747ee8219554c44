//! Guards for rules that no other test would notice breaking: each test here
//! fails if the one line that keeps its rule is deleted. Waits are for the
//! event itself (a message on the socket, a row's final state), with a
//! deadline that fails the test.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::{notification, notification_attempt, NotificationKind, NotificationState};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tests::{
    error_code,
    ws::{WsClient, WsEvent},
    TestApp,
};

const WATCH: &str = "subscription { orderStatusChanged { orderId status } }";
const MOVE: &str = "mutation($id: ID!, $s: OrderStatus!, $at: DateTime, $ev: String) {
  updateOrderStatus(id: $id, status: $s, occurredAt: $at, eventId: $ev) { applied entry { skipReason } } }";
const MOVE_AND_MAIL: &str = "mutation($id: ID!) { updateOrderStatus(id: $id, status: IN_SEPARATION, notifyCustomer: true) { applied } }";

async fn moved(app: &TestApp, token: &str, id: &str, status: &str, at: Option<DateTime<Utc>>, event: Option<&str>) -> Value {
    let body = app.gql(Some(token), MOVE, json!({ "id": id, "s": status, "at": at, "ev": event })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["updateOrderStatus"].clone()
}

/// The order id and status of the next change on the socket.
async fn next_change(socket: &mut WsClient) -> (String, String) {
    loop {
        match socket.next(Duration::from_secs(10)).await {
            WsEvent::Json(m) if m["type"] == "next" => {
                let change = &m["payload"]["data"]["orderStatusChanged"];
                let id = change["orderId"].as_str().unwrap_or_else(|| panic!("{m}")).to_owned();
                return (id, change["status"].as_str().unwrap_or_default().to_owned());
            }
            WsEvent::Json(m) if m["type"] == "ping" || m["type"] == "pong" => continue,
            other => panic!("expected a change, got {other:?}"),
        }
    }
}

/// The orders of the changes a socket receives until `marker` is approved.
async fn orders_until(socket: &mut WsClient, marker: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let (id, status) = next_change(socket).await;
        if id == marker && status == "APPROVED" {
            return seen;
        }
        seen.push(id);
    }
}

/// Creates an order at `destination` and approves it: two changes.
async fn approved(app: &TestApp, staff: &str, source: &str, destination: &str) -> String {
    let id = app.create_order(staff, source, destination, None).await;
    moved(app, staff, &id, "APPROVED", None, None).await;
    id
}

/// Subscribes and makes sure the subscription hears its own company: orders of
/// `destination` are moved until one of their changes arrives.
async fn live_socket(app: &TestApp, token: &str, staff: &str, destination: &str, tag: &str) -> WsClient {
    let mut socket = WsClient::connect_acked(&app.base, token).await;
    socket.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": WATCH } })).await;
    for n in 0..20 {
        let id = app.create_order(staff, &format!("{tag}-WARM-{n}"), destination, None).await;
        moved(app, staff, &id, "APPROVED", None, None).await;
        match socket.next(Duration::from_millis(500)).await {
            WsEvent::Json(m) if m["type"] == "next" => return socket,
            WsEvent::Timeout => continue,
            WsEvent::Json(m) if m["type"] == "ping" => continue,
            other => panic!("expected a change, got {other:?}"),
        }
    }
    panic!("the subscription never heard its own company")
}

#[tokio::test]
async fn an_unfiltered_subscription_hears_only_its_own_company() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    // The same person is a customer of both companies: two accounts.
    let maria = "maria@cliente.test";
    let home_a = app.create_locality(&a.staff, "MARIA", "DESTINATION", Some(maria)).await;
    let home_b = app.create_locality(&b.staff, "MARIA", "DESTINATION", Some(maria)).await;
    let maria_a = app.customer(&a.id, "alpha", maria).await;
    let maria_b = app.customer(&b.id, "beta", maria).await;

    let mut staff_a = live_socket(&app, &a.staff, &a.staff, &a.destination, "SA").await;
    let mut customer_a = live_socket(&app, &maria_a, &a.staff, &home_a, "CA").await;
    let mut customer_b = live_socket(&app, &maria_b, &b.staff, &home_b, "CB").await;
    // Each socket reads past the warm-up changes up to a marker of its company.
    let start_a = approved(&app, &a.staff, "START-A", &home_a).await;
    let start_b = approved(&app, &b.staff, "START-B", &home_b).await;
    for (socket, marker) in [(&mut staff_a, &start_a), (&mut customer_a, &start_a), (&mut customer_b, &start_b)] {
        orders_until(socket, marker).await;
    }

    // Both companies change orders, then each marks the end. Every change a
    // socket gets before its company's end marker must be its own company's.
    let in_b = approved(&app, &b.staff, "B-1", &home_b).await;
    let in_a = approved(&app, &a.staff, "A-1", &home_a).await;
    let in_b2 = approved(&app, &b.staff, "B-2", &home_b).await;
    let end_a = approved(&app, &a.staff, "END-A", &home_a).await;
    let end_b = approved(&app, &b.staff, "END-B", &home_b).await;
    // Each order is heard twice (created, approved); the end marker once
    // before its approval.
    let ours_a = vec![in_a.clone(), in_a.clone(), end_a.clone()];
    let ours_b = vec![in_b.clone(), in_b.clone(), in_b2.clone(), in_b2.clone(), end_b.clone()];
    assert_eq!(orders_until(&mut staff_a, &end_a).await, ours_a, "staff of alpha hears only alpha");
    assert_eq!(orders_until(&mut customer_a, &end_a).await, ours_a, "maria of alpha hears only alpha's orders");
    assert_eq!(orders_until(&mut customer_b, &end_b).await, ours_b, "maria of beta hears only beta's orders");
}

#[tokio::test]
async fn events_at_the_boundary_of_stale_and_repeated() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, None).await;
    let at: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();

    assert_eq!(moved(&app, &t.staff, &order, "APPROVED", Some(at), Some("e1")).await["applied"], true);
    // At exactly the time of the last change: not stale, applied.
    assert_eq!(moved(&app, &t.staff, &order, "IN_PRODUCTION", Some(at), Some("e2")).await["applied"], true);
    // A millisecond before it: stale.
    let stale = moved(&app, &t.staff, &order, "INVOICED", Some(at - chrono::Duration::milliseconds(1)), Some("e3")).await;
    assert_eq!(stale["applied"], false, "{stale}");
    assert!(stale["entry"]["skipReason"].as_str().unwrap().contains("stale"), "{stale}");
    // e3 was recorded but never applied: the same event, on time, is no repeat.
    let later = at + chrono::Duration::minutes(1);
    assert_eq!(moved(&app, &t.staff, &order, "INVOICED", Some(later), Some("e3")).await["applied"], true);
    // e1 was applied: sent again, even on time, it is a repeat.
    let repeat = moved(&app, &t.staff, &order, "IN_SEPARATION", Some(later), Some("e1")).await;
    assert_eq!(repeat["applied"], false, "{repeat}");
    assert!(repeat["entry"]["skipReason"].as_str().unwrap().contains("duplicate"), "{repeat}");

    // Customers never see the skipped entries; staff do.
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;
    let history = "query($id: ID!) { order(id: $id) { history { toStatus } } }";
    let seen = app.gql(Some(&customer), history, json!({ "id": order })).await;
    let statuses: Vec<&str> = seen["data"]["order"]["history"].as_array().unwrap().iter().map(|h| h["toStatus"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["RECEIVED", "APPROVED", "IN_PRODUCTION", "INVOICED"], "{seen}");
    let staff = app.gql(Some(&t.staff), history, json!({ "id": order })).await;
    assert_eq!(staff["data"]["order"]["history"].as_array().unwrap().len(), 6, "{staff}");
}

#[tokio::test]
async fn a_comment_mails_only_when_asked_and_visible() {
    let app = TestApp::spawn_with(|c| c.run_mail_worker = false).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, None).await;
    let comment = "mutation($id: ID!, $n: Boolean!, $v: Boolean!) { addOrderComment(id: $id, comment: \"a note\", notifyCustomer: $n, visibleToCustomer: $v) { applied } }";
    let mails = "query($id: ID!) { orderNotifications(orderId: $id) { kind } }";
    for (notify, visible, expected) in [(true, false, 0), (false, true, 0), (true, true, 1)] {
        let body = app.gql(Some(&t.staff), comment, json!({ "id": order, "n": notify, "v": visible })).await;
        assert_eq!(body["data"]["addOrderComment"]["applied"], true, "{body}");
        // The mail is written in the comment's own transaction: no waiting.
        let queued = app.gql(Some(&t.staff), mails, json!({ "id": order })).await;
        assert_eq!(queued["data"]["orderNotifications"].as_array().unwrap().len(), expected, "notify {notify}, visible {visible}: {queued}");
    }
}

#[tokio::test]
async fn one_status_change_queues_at_most_one_mail() {
    let app = TestApp::spawn_with(|c| c.run_mail_worker = false).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    app.gql(Some(&t.staff), MOVE_AND_MAIL, json!({ "id": order })).await;
    let first = notification::Entity::find().one(&app.db).await.unwrap().expect("the status mail");
    assert_eq!(first.kind, NotificationKind::StatusChange);
    // A second status mail for the same history entry is refused by the
    // database itself, whatever the code that tries.
    let now = Utc::now();
    let second = notification::ActiveModel {
        company_id: Set(first.company_id),
        order_id: Set(first.order_id),
        history_id: Set(first.history_id),
        kind: Set(NotificationKind::StatusChange),
        recipient: Set(first.recipient.clone()),
        subject: Set(String::new()),
        html: Set(String::new()),
        text: Set(String::new()),
        state: Set(NotificationState::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await;
    let refusal = second.expect_err("a second mail for one change was stored").to_string().to_lowercase();
    assert!(refusal.contains("unique") || refusal.contains("duplicate key"), "refused by the unique index: {refusal}");
    // A resend is another kind, and allowed.
    let resend = app.gql(Some(&t.staff), "mutation($id: ID!) { resendNotification(id: $id) { kind } }", json!({ "id": first.id.to_string() })).await;
    assert_eq!(resend["data"]["resendNotification"]["kind"], "RESEND", "{resend}");
}

#[tokio::test]
async fn the_worker_gives_up_after_the_maximum_attempts() {
    let app = TestApp::spawn_with(|c| c.mail.max_attempts = 3).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    // A port nobody listens on: every attempt fails at once.
    let closed = tests::smtp::free_port();
    crate::notifications::use_smtp(&app, &t, closed, None).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    app.gql(Some(&t.staff), MOVE_AND_MAIL, json!({ "id": order })).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mail = loop {
        let mail = notification::Entity::find().one(&app.db).await.unwrap().expect("the status mail");
        if mail.state == NotificationState::Failed {
            break mail;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {:?} after {} attempts", mail.state, mail.attempts);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(mail.attempts, 3);
    let attempts = notification_attempt::Entity::find()
        .filter(notification_attempt::Column::NotificationId.eq(mail.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(attempts, 3, "one recorded attempt each");
    let shown = app.gql(Some(&t.staff), "query($id: ID!) { orderNotifications(orderId: $id) { state attempts lastError } }", json!({ "id": order })).await;
    assert_eq!(shown["data"]["orderNotifications"][0]["state"], "FAILED", "{shown}");
    assert!(error_code(&shown).is_none());
}

#[tokio::test]
async fn a_final_order_takes_no_invoice() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let invoice = "mutation($id: ID!) { invoiceOrder(id: $id, invoice: { number: \"9\" }) { applied order { status } } }";
    let cancelled = app.create_order(&t.staff, "A-1", &t.destination, None).await;
    let body = app.gql(Some(&t.staff), "mutation($id: ID!) { cancelOrder(id: $id) { applied } }", json!({ "id": cancelled })).await;
    assert_eq!(body["data"]["cancelOrder"]["applied"], true, "{body}");
    let refunded = app.create_order(&t.staff, "A-2", &t.destination, Some("APPROVED")).await;
    let body = app.gql(Some(&t.staff), "mutation($id: ID!) { refundOrder(id: $id, amount: \"1.00\") { applied } }", json!({ "id": refunded })).await;
    assert_eq!(body["data"]["refundOrder"]["applied"], true, "{body}");
    for id in [&cancelled, &refunded] {
        let refused = app.gql(Some(&t.staff), invoice, json!({ "id": id })).await;
        assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
        let shown = app.gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { invoice { number } } }", json!({ "id": id })).await;
        assert!(shown["data"]["order"]["invoice"].is_null(), "nothing of the invoice was stored: {shown}");
    }
    // A delivered order takes its invoice late, and keeps its status.
    let delivered = app.create_order(&t.staff, "A-3", &t.destination, Some("DELIVERED")).await;
    let late = app.gql(Some(&t.staff), invoice, json!({ "id": delivered })).await;
    assert_eq!(late["data"]["invoiceOrder"]["order"]["status"], "DELIVERED", "{late}");
}
