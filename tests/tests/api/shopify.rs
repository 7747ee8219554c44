//! Shopify's webhooks against the running server: signed over the raw body,
//! de-duplicated by webhook id, out of order, and read through the company's
//! status mappings.

use adapter_storefront::signature::sign;
use base64::{engine::general_purpose::STANDARD, Engine};
use entities::{integration_run, notification, order, order_status_history, shipment, OrderStatus, RunOutcome};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use tests::{Tenant, TestApp};

const SECRET: &str = "shpss_shopify-test-secret-0001";
const ORDER: &str = include_str!("../../../adapters/storefront/tests/fixtures/shopify/order.json");
const FULFILLMENT: &str = include_str!("../../../adapters/storefront/tests/fixtures/shopify/fulfillment.json");
const SOURCE_ID: &str = "820982911946154508";

async fn set_secret(app: &TestApp, t: &Tenant, secret: &str, grace: i32) {
    let set = "mutation($id: ID!, $s: String!, $g: Int) { setWebhookSecret(companyId: $id, platform: SHOPIFY, secret: $s, graceHours: $g) { platform } }";
    let body = app.gql(Some(&t.staff), set, json!({ "id": t.id, "s": secret, "g": grace })).await;
    assert!(body["errors"].is_null(), "{body}");
}

/// Posts `body` as Shopify does: `topic`, webhook `id`, signed with `secret`.
async fn send(app: &TestApp, secret: &str, topic: &str, id: &str, body: &str) -> (u16, Value) {
    let hmac = STANDARD.encode(sign(secret.as_bytes(), body.as_bytes()));
    send_signed(app, &hmac, topic, id, body).await
}

async fn send_signed(app: &TestApp, hmac: &str, topic: &str, id: &str, body: &str) -> (u16, Value) {
    let request = app
        .http
        .post(format!("{}/integrations/shopify/acme", app.base))
        .header("content-type", "application/json")
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Hmac-Sha256", hmac)
        .header("X-Shopify-Shop-Domain", "acme.myshopify.com")
        .header("X-Shopify-Webhook-Id", id)
        .body(body.to_owned());
    tests::json_answer(request).await
}

fn with(body: &str, changes: Value) -> String {
    let mut value: Value = serde_json::from_str(body).unwrap();
    for (key, change) in changes.as_object().unwrap() {
        value[key] = change.clone();
    }
    value.to_string()
}

async fn stored(app: &TestApp, company_id: i32) -> order::Model {
    order::Entity::find()
        .filter(order::Column::CompanyId.eq(company_id))
        .filter(order::Column::SourceId.eq(SOURCE_ID))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the order was created")
}

async fn runs(app: &TestApp, company_id: i32) -> Vec<integration_run::Model> {
    integration_run::Entity::find().filter(integration_run::Column::CompanyId.eq(company_id)).order_by_asc(integration_run::Column::Id).all(&app.db).await.unwrap()
}

#[tokio::test]
async fn an_in_transit_fulfillment_ships_the_order_with_its_tracking_page_and_one_mail() {
    let smtp = tests::smtp::SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    crate::notifications::use_smtp(&app, &t, smtp.port, None).await;
    let company_id: i32 = t.id.parse().unwrap();
    set_secret(&app, &t, SECRET, 24).await;

    // The order arrives paid: created, with its customer, and approved.
    let (code, answer) = send(&app, SECRET, "orders/create", "w-create", ORDER).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("applied")), "{answer}");
    let order = stored(&app, company_id).await;
    assert_eq!((order.code.as_str(), order.status), ("#9999", OrderStatus::Approved));

    // The carrier has it: shipped, with its tracking page.
    let (code, answer) = send(&app, SECRET, "fulfillments/create", "w-fulfilled", FULFILLMENT).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("applied")), "{answer}");
    assert_eq!(stored(&app, company_id).await.status, OrderStatus::InTransit);
    let shipped = shipment::Entity::find().filter(shipment::Column::OrderId.eq(order.id)).all(&app.db).await.unwrap();
    assert_eq!(shipped.len(), 1);
    assert_eq!((shipped[0].carrier.as_str(), shipped[0].tracking_number.as_str()), ("Jadlog", "JD0001"));
    assert_eq!(shipped[0].tracking_url.as_deref(), Some("https://www.jadlog.com.br/rastreio?c=JD0001"));

    // Shopify retries the same webhook, and sends the fulfillment again as an
    // update: 200 each time, no second shipment, no second mail.
    let (code, answer) = send(&app, SECRET, "fulfillments/create", "w-fulfilled", FULFILLMENT).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("skipped")), "{answer}");
    let (code, answer) = send(&app, SECRET, "fulfillments/update", "w-update", FULFILLMENT).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("skipped")), "{answer}");
    assert_eq!(shipment::Entity::find().filter(shipment::Column::OrderId.eq(order.id)).count(&app.db).await.unwrap(), 1);
    let in_transit: Vec<i32> = order_status_history::Entity::find()
        .filter(order_status_history::Column::OrderId.eq(order.id))
        .filter(order_status_history::Column::ToStatus.eq(OrderStatus::InTransit))
        .filter(order_status_history::Column::Applied.eq(true))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(in_transit.len(), 1);
    let mails = notification::Entity::find().filter(notification::Column::HistoryId.is_in(in_transit)).count(&app.db).await.unwrap();
    assert_eq!(mails, 1, "one mail for the shipment");
    let queued = notification::Entity::find().filter(notification::Column::OrderId.eq(order.id)).count(&app.db).await.unwrap();
    let sent = smtp.wait_for(usize::try_from(queued).unwrap(), std::time::Duration::from_secs(10)).await;
    assert!(sent.iter().all(|m| m.envelope_to == ["jon@example.com"]), "{:?}", sent.iter().map(|m| m.envelope_to.clone()).collect::<Vec<_>>());
    assert!(sent.iter().any(|m| m.text().contains("JD0001")), "the shipment mail names the tracking number");

    // Out of order: the paid webhook of before the fulfillment comes late.
    let late = with(ORDER, json!({ "updated_at": "2026-12-01T10:20:00-03:00" }));
    let (_, answer) = send(&app, SECRET, "orders/paid", "w-late", &late).await;
    assert_eq!(answer["events"][0]["outcome"], "skipped", "{answer}");
    assert!(answer["events"][0]["notes"].to_string().contains("stale event"), "{answer}");
    assert_eq!(stored(&app, company_id).await.status, OrderStatus::InTransit);

    // Every call is in the log with its topic and webhook id.
    let logged = runs(&app, company_id).await;
    let delivery: Value = serde_json::from_str(&logged[1].request).unwrap();
    assert_eq!((delivery["topic"].clone(), delivery["webhookId"].clone()), (json!("fulfillments/create"), json!("w-fulfilled")));
    assert_eq!(delivery["body"], FULFILLMENT);
}

#[tokio::test]
async fn unknown_orders_and_unmapped_statuses_fail_with_a_reason_and_a_mapping_then_a_replay_reads_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company_id: i32 = t.id.parse().unwrap();
    set_secret(&app, &t, SECRET, 24).await;

    // A fulfillment of an order Rastro never saw.
    let (code, answer) = send(&app, SECRET, "fulfillments/create", "w-1", FULFILLMENT).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone(), answer["events"][0]["code"].clone()), (200, json!("failed"), json!("NOT_FOUND")), "{answer}");

    // A status of a newer API version than Rastro knows.
    send(&app, SECRET, "orders/create", "w-2", ORDER).await;
    let odd = with(FULFILLMENT, json!({ "shipment_status": "handed_to_drone", "updated_at": "2026-12-02T13:00:00-03:00" }));
    let (code, answer) = send(&app, SECRET, "fulfillments/update", "w-3", &odd).await;
    let event = &answer["events"][0];
    assert_eq!((code, event["outcome"].clone(), event["code"].clone()), (200, json!("failed"), json!("UNMAPPED_STATUS")), "{answer}");
    assert!(event["message"].as_str().unwrap().contains("code: \"shipment_status:handed_to_drone\""), "{answer}");
    assert_eq!(stored(&app, company_id).await.status, OrderStatus::Approved, "nothing of the record was written");
    assert_eq!(shipment::Entity::find().count(&app.db).await.unwrap(), 0);

    // The company maps it, and replays the run.
    let map = "mutation($id: ID!) { setStatusMapping(companyId: $id, platform: SHOPIFY, code: \"Shipment_Status:Handed_To_Drone\", status: IN_TRANSIT) { code status custom hasDefault } }";
    let mapped = app.gql(Some(&t.staff), map, json!({ "id": t.id })).await;
    assert_eq!(
        mapped["data"]["setStatusMapping"],
        json!({ "code": "shipment_status:handed_to_drone", "status": "IN_TRANSIT", "custom": true, "hasDefault": false }),
        "{mapped}"
    );
    let failed = runs(&app, company_id).await.pop().unwrap();
    assert_eq!(failed.outcome, RunOutcome::Failed);
    let replay = "mutation($id: ID!) { reprocessIntegrationRun(id: $id) { run { outcome applied } } }";
    let replayed = app.gql(Some(&t.staff), replay, json!({ "id": failed.id.to_string() })).await;
    assert_eq!(replayed["data"]["reprocessIntegrationRun"]["run"], json!({ "outcome": "SUCCESS", "applied": 1 }), "{replayed}");
    assert_eq!(stored(&app, company_id).await.status, OrderStatus::InTransit);
}

#[tokio::test]
async fn a_bad_signature_is_a_401_with_only_the_rejected_run_and_a_rotated_secret_signs_through_its_grace() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company_id: i32 = t.id.parse().unwrap();
    set_secret(&app, &t, SECRET, 24).await;

    let before = tests::fingerprint(&app.db, &["integration_runs", "integration_run_items"]).await;
    let hmac = STANDARD.encode(sign(SECRET.as_bytes(), ORDER.as_bytes()));
    let mut flipped = ORDER.as_bytes().to_vec();
    flipped[40] ^= 1;
    let flipped = String::from_utf8(flipped).unwrap();
    let cases = [
        send_signed(&app, &hmac, "orders/create", "w-1", &flipped).await,
        send(&app, "shpss_not-the-company-secret", "orders/create", "w-1", ORDER).await,
        send_signed(&app, "", "orders/create", "w-1", ORDER).await,
    ];
    for (code, answer) in &cases {
        assert_eq!((*code, answer["error"]["code"].clone()), (401, json!("UNAUTHENTICATED")), "{answer}");
    }
    let logged = runs(&app, company_id).await;
    assert_eq!(logged.len(), 3);
    assert!(logged.iter().all(|r| r.outcome == RunOutcome::Rejected && r.operation == "shopify" && r.request.is_empty()), "{logged:?}");
    assert_eq!(logged[2].error.as_deref(), Some("the X-Shopify-Hmac-Sha256 header is missing"));
    assert_eq!(tests::fingerprint(&app.db, &["integration_runs", "integration_run_items"]).await, before, "nothing but the log changed");

    // Signed, but a topic Rastro does not take: a 400 that says which it takes.
    let (code, answer) = send(&app, SECRET, "products/create", "w-2", "{}").await;
    assert_eq!((code, answer["error"]["code"].clone()), (400, json!("UNKNOWN_TOPIC")), "{answer}");

    // Rotated: the old secret still signs through its grace period.
    set_secret(&app, &t, "shpss_the-new-secret-0002", 24).await;
    let (code, answer) = send(&app, SECRET, "orders/create", "w-3", ORDER).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("applied")), "{answer}");
    set_secret(&app, &t, "shpss_the-newest-secret-0003", 0).await;
    assert_eq!(send(&app, "shpss_the-new-secret-0002", "orders/updated", "w-4", ORDER).await.0, 401);

    // Bound to another shop: this shop's calls are refused, saying why.
    let bind = "mutation($id: ID!) { setWebhookSecret(companyId: $id, platform: SHOPIFY, secret: \"shpss_the-newest-secret-0003\", account: \"Other.myshopify.com\") { account } }";
    assert_eq!(app.gql(Some(&t.staff), bind, json!({ "id": t.id })).await["data"]["setWebhookSecret"]["account"], "other.myshopify.com");
    assert_eq!(send(&app, "shpss_the-newest-secret-0003", "orders/updated", "w-5", ORDER).await.0, 401);
    let reason = runs(&app, company_id).await.pop().unwrap().error.unwrap();
    assert_eq!(reason, "the call is for store \"acme.myshopify.com\"; this company's secret is for \"other.myshopify.com\"");
}

#[tokio::test]
async fn the_same_new_order_in_calls_at_once_is_made_once_and_every_call_is_read() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company_id: i32 = t.id.parse().unwrap();
    set_secret(&app, &t, SECRET, 24).await;
    // What Shopify sends for a new paid order, all at once.
    let calls = ["orders/create", "orders/paid", "orders/updated", "orders/create", "orders/paid", "orders/updated"];
    let answers = futures::future::join_all(calls.iter().enumerate().map(|(n, topic)| {
        let body = with(ORDER, json!({ "updated_at": format!("2026-12-02T09:00:0{n}-03:00") }));
        let app = &app;
        async move { send(app, SECRET, topic, &format!("w-{n}"), &body).await }
    }))
    .await;
    for (code, answer) in &answers {
        assert_eq!(code, &200, "{answer}");
        assert_ne!(answer["events"][0]["outcome"], "failed", "{answer}");
    }
    let made = order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).filter(order::Column::SourceId.eq(SOURCE_ID)).count(&app.db).await.unwrap();
    assert_eq!(made, 1);
    assert_eq!(stored(&app, company_id).await.status, OrderStatus::Approved);
}
