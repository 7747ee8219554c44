//! Rastro's generic status event against the running server: signed with
//! the company's secret over timestamp and body, at-least-once and out of
//! order, refused whole (401, a rejected run, nothing else written) when the
//! signature or its time is wrong.

use adapter_storefront::signature::generic_headers;
use chrono::{Duration, Utc};
use entities::{integration_run, order, shipment, OrderStatus, RunOutcome};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use tests::{Tenant, TestApp};

const SECRET: &str = "whsec_generic-test-secret-0001";

async fn set_secret(app: &TestApp, t: &Tenant, secret: &str, grace: i32) {
    let set = "mutation($id: ID!, $s: String!, $g: Int) { setWebhookSecret(companyId: $id, platform: GENERIC, secret: $s, graceHours: $g) { platform } }";
    let body = app.gql(Some(&t.staff), set, json!({ "id": t.id, "s": secret, "g": grace })).await;
    assert!(body["errors"].is_null(), "{body}");
}

/// Posts `body` to the company's events URL signed with `secret` at `at`.
async fn send(app: &TestApp, company: &str, secret: &str, body: &str, at: chrono::DateTime<Utc>) -> (u16, Value) {
    let (timestamp, signature) = generic_headers(secret.as_bytes(), body.as_bytes(), at);
    send_signed(app, company, &timestamp, &signature, body).await
}

async fn send_signed(app: &TestApp, company: &str, timestamp: &str, signature: &str, body: &str) -> (u16, Value) {
    let request = app
        .http
        .post(format!("{}/integrations/events/{company}", app.base))
        .header("content-type", "application/json")
        .header("X-Rastro-Timestamp", timestamp)
        .header("X-Rastro-Signature", signature)
        .body(body.to_owned());
    tests::json_answer(request).await
}

fn event(id: &str, order: &str, status: &str, minutes_ago: i64, tracking: Option<&str>) -> String {
    let mut event = json!({ "eventId": id, "orderId": order, "status": status,
        "occurredAt": (Utc::now() - Duration::minutes(minutes_ago)).to_rfc3339(), "comment": format!("{status} by the store") });
    if let Some(number) = tracking {
        event["tracking"] = json!({ "carrier": "Jadlog", "number": number, "url": format!("https://www.jadlog.com.br/rastreio?c={number}") });
    }
    event.to_string()
}

async fn runs(app: &TestApp, company_id: i32) -> Vec<integration_run::Model> {
    integration_run::Entity::find().filter(integration_run::Column::CompanyId.eq(company_id)).order_by_asc(integration_run::Column::Id).all(&app.db).await.unwrap()
}

#[tokio::test]
async fn signed_events_move_orders_once_in_order_and_say_why_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company_id: i32 = t.id.parse().unwrap();
    let order_id: i32 = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await.parse().unwrap();
    set_secret(&app, &t, SECRET, 24).await;
    let status = || async { order::Entity::find_by_id(order_id).one(&app.db).await.unwrap().unwrap().status };

    // Shipped, with its tracking page.
    let (code, answer) = send(&app, "acme", SECRET, &event("e-1", "A-1", "IN_TRANSIT", 10, Some("JD1")), Utc::now()).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("applied")), "{answer}");
    assert_eq!(status().await, OrderStatus::InTransit);
    let shipped = shipment::Entity::find().filter(shipment::Column::OrderId.eq(order_id)).all(&app.db).await.unwrap();
    assert_eq!(shipped.len(), 1);
    assert_eq!(shipped[0].tracking_url.as_deref(), Some("https://www.jadlog.com.br/rastreio?c=JD1"));

    // At least once: the same event again is 200 and changes nothing.
    let (code, answer) = send(&app, "acme", SECRET, &event("e-1", "A-1", "IN_TRANSIT", 10, Some("JD1")), Utc::now()).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("skipped")), "{answer}");
    // Out of order: an event from before the last change is recorded, not applied.
    let (_, answer) = send(&app, "acme", SECRET, &event("e-0", "A-1", "DELIVERED", 20, None), Utc::now()).await;
    assert_eq!(answer["events"][0]["outcome"], "skipped", "{answer}");
    assert_eq!(status().await, OrderStatus::InTransit);
    // An order the company does not have, a status there is none of: failed records that say so.
    let batch = format!("[{},{}]", event("e-2", "A-404", "DELIVERED", 1, None), event("e-3", "A-1", "SHIPPED", 1, None));
    let (code, answer) = send(&app, "acme", SECRET, &batch, Utc::now()).await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!((answer["events"][0]["code"].clone(), answer["events"][1]["code"].clone()), (json!("NOT_FOUND"), json!("UNKNOWN_STATUS")), "{answer}");
    let (_, answer) = send(&app, "acme", SECRET, &event("e-4", "A-1", "DELIVERED", 1, None), Utc::now()).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    assert_eq!(status().await, OrderStatus::Delivered);
    assert!(shipment::Entity::find().filter(shipment::Column::OrderId.eq(order_id)).all(&app.db).await.unwrap().len() == 1);

    // Signed, but not an event: a 400 recorded as rejected.
    let (code, answer) = send(&app, "acme", SECRET, r#"{"eventId": "#, Utc::now()).await;
    assert_eq!((code, answer["error"]["code"].clone()), (400, json!("MALFORMED")), "{answer}");
    assert_eq!(runs(&app, company_id).await.last().unwrap().outcome, RunOutcome::Rejected);
}

#[tokio::test]
async fn a_wrong_signature_or_time_is_a_401_and_only_the_rejected_run_is_written() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company_id: i32 = t.id.parse().unwrap();
    app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let body = event("e-1", "A-1", "IN_TRANSIT", 1, None);

    // No secret set yet: nothing is accepted, and the company's log says why.
    let (code, answer) = send(&app, "acme", SECRET, &body, Utc::now()).await;
    assert_eq!((code, answer["error"]["code"].clone()), (401, json!("UNAUTHENTICATED")), "{answer}");
    let generic = answer["error"]["message"].clone();
    let logged = runs(&app, company_id).await.pop().unwrap();
    assert!(logged.error.as_deref().unwrap().contains("setWebhookSecret"), "{logged:?}");
    // Not the stranger's bytes: only their size.
    assert_eq!((logged.request.as_str(), logged.request_bytes, logged.request_truncated), ("", body.len() as i64, true));
    set_secret(&app, &t, SECRET, 24).await;

    let before = tests::fingerprint(&app.db, &["integration_runs", "integration_run_items"]).await;
    let runs_before = runs(&app, company_id).await.len();
    let (timestamp, signature) = generic_headers(SECRET.as_bytes(), body.as_bytes(), Utc::now());
    let flipped = body.replacen("IN_TRANSIT", "IN_TRANSIU", 1);
    let cases = [
        send_signed(&app, "acme", &timestamp, &signature, &flipped).await,
        send(&app, "acme", "whsec_another-secret-entirely", &body, Utc::now()).await,
        send(&app, "acme", SECRET, &body, Utc::now() - Duration::minutes(6)).await,
        send(&app, "acme", SECRET, &body, Utc::now() + Duration::minutes(6)).await,
        send_signed(&app, "acme", &timestamp, "", &body).await,
    ];
    // The same answer whatever went wrong: a stranger learns nothing.
    for (code, answer) in &cases {
        assert_eq!((*code, answer["error"]["code"].clone(), answer["error"]["message"].clone()), (401, json!("UNAUTHENTICATED"), generic.clone()), "{answer}");
    }
    let recorded = runs(&app, company_id).await;
    assert_eq!(recorded.len(), runs_before + cases.len());
    assert!(recorded[runs_before..].iter().all(|r| r.outcome == RunOutcome::Rejected && r.adapter == "storefront" && r.request.is_empty()));
    let reasons: Vec<&str> = recorded[runs_before..].iter().map(|r| r.error.as_deref().unwrap()).collect();
    assert_eq!(reasons[0], "the signature does not match");
    assert!(reasons[2].contains("away from now") && reasons[3].contains("away from now"), "{reasons:?}");
    assert_eq!(reasons[4], "the X-Rastro-Signature header is missing");
    // An unknown company: the same 401, and nowhere to record it.
    let (code, answer) = send(&app, "nobody", SECRET, &body, Utc::now()).await;
    assert_eq!((code, answer["error"]["message"].clone()), (401, generic.clone()));
    assert_eq!(tests::fingerprint(&app.db, &["integration_runs", "integration_run_items"]).await, before, "nothing but the log changed");

    // Rotated: the old secret signs through its grace period, and not after a rotation without one.
    set_secret(&app, &t, "whsec_the-new-secret-0002", 24).await;
    let (code, answer) = send(&app, "acme", SECRET, &body, Utc::now()).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("applied")), "{answer}");
    set_secret(&app, &t, "whsec_the-newest-secret-0003", 0).await;
    let (code, _) = send(&app, "acme", "whsec_the-new-secret-0002", &event("e-2", "A-1", "DELIVERED", 0, None), Utc::now()).await;
    assert_eq!(code, 401);
    let (code, _) = send(&app, "acme", "whsec_the-newest-secret-0003", &event("e-2", "A-1", "DELIVERED", 0, None), Utc::now()).await;
    assert_eq!(code, 200);
}

/// The fenced block of `lang` in the adapter's README.
fn documented(lang: &str) -> String {
    let readme = include_str!("../../../adapters/storefront/README.md");
    let start = readme.find(&format!("```{lang}\n")).unwrap_or_else(|| panic!("no {lang} example")) + lang.len() + 4;
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_owned()
}

/// Runs `program` with the example's environment; its output, as JSON.
async fn run_example(program: &str, code: &str, url: &str) -> Value {
    let output = tokio::process::Command::new(program)
        .arg("-c")
        .arg(code)
        .env("RASTRO_EVENTS_URL", url)
        .env("RASTRO_SECRET", SECRET)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program} cannot run: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{program}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{program} printed no JSON: {stdout}"))
}

#[tokio::test]
async fn the_documented_shell_and_python_examples_sign_as_the_server_checks() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order_id: i32 = app.create_order(&t.staff, "PED-1", &t.destination, Some("INVOICED")).await.parse().unwrap();
    set_secret(&app, &t, SECRET, 24).await;
    let url = format!("{}/integrations/events/acme", app.base);
    // The examples' dates, moved to just after the order was created.
    let soon = |minutes: i64| (Utc::now() + Duration::minutes(minutes)).format("%Y-%m-%dT%H:%M:%SZ").to_string();

    let shell = documented("sh").replace("2026-12-05T13:00:00Z", &soon(1));
    let answer = run_example("sh", &shell, &url).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    let python = documented("python").replace("2026-12-05T15:00:00Z", &soon(2));
    let answer = run_example("python3", &python, &url).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    let stored = order::Entity::find_by_id(order_id).one(&app.db).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Delivered);
}

#[tokio::test]
async fn a_custom_status_is_read_as_the_company_mapped_it_and_an_unmapped_one_says_where_to_map_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order_id: i32 = app.create_order(&t.staff, "A-1", &t.destination, Some("APPROVED")).await.parse().unwrap();
    set_secret(&app, &t, SECRET, 24).await;
    let status = || async { order::Entity::find_by_id(order_id).one(&app.db).await.unwrap().unwrap().status };
    let custom = |id: &str, code: &str, minutes_ago: i64| {
        json!({ "eventId": id, "orderId": "A-1", "customStatus": code, "occurredAt": (Utc::now() - Duration::minutes(minutes_ago)).to_rfc3339() })
            .to_string()
    };

    // The store's own status, before the company maps it: failed, saying where.
    let (code, answer) = send(&app, "acme", SECRET, &custom("c-1", "Aguardando Coleta", 5), Utc::now()).await;
    let event = &answer["events"][0];
    assert_eq!((code, event["outcome"].clone(), event["code"].clone()), (200, json!("failed"), json!("UNMAPPED_STATUS")), "{answer}");
    assert!(event["message"].as_str().unwrap().contains("setStatusMapping(companyId, platform: GENERIC, code: \"aguardando_coleta\""), "{answer}");
    assert_eq!(status().await, OrderStatus::Approved);

    let map = "mutation($id: ID!, $c: String!, $s: OrderStatus) { setStatusMapping(companyId: $id, platform: GENERIC, code: $c, status: $s) { code status custom } }";
    let mapped = app.gql(Some(&t.staff), map, json!({ "id": t.id, "c": "aguardando coleta", "s": "IN_SEPARATION" })).await;
    assert_eq!(mapped["data"]["setStatusMapping"], json!({ "code": "aguardando_coleta", "status": "IN_SEPARATION", "custom": true }), "{mapped}");
    let (_, answer) = send(&app, "acme", SECRET, &custom("c-2", "AGUARDANDO-COLETA", 4), Utc::now()).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    assert_eq!(status().await, OrderStatus::InSeparation);

    // A back-office status is mapped by default; the company may read it as nothing.
    let ignore = app.gql(Some(&t.staff), map, json!({ "id": t.id, "c": "Em Transporte", "s": null })).await;
    assert_eq!(ignore["data"]["setStatusMapping"]["status"], Value::Null, "{ignore}");
    let (_, answer) = send(&app, "acme", SECRET, &custom("c-3", "em transporte", 3), Utc::now()).await;
    assert_eq!(answer["events"][0]["outcome"], "skipped", "{answer}");
    let (_, answer) = send(&app, "acme", SECRET, &custom("c-4", "Pedido Entregue", 2), Utc::now()).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    assert_eq!(status().await, OrderStatus::Delivered);
}

#[tokio::test]
async fn a_signed_event_costs_a_few_statements_more_than_a_status_change_in_graphql() {
    // No mail worker: its polling would count as the calls' statements.
    let app = TestApp::spawn_with(|config| config.run_mail_worker = false).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let by_event: i32 = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await.parse().unwrap();
    let by_graphql = app.create_order(&t.staff, "A-2", &t.destination, Some("INVOICED")).await;
    set_secret(&app, &t, SECRET, 24).await;
    // Warm: the first call of each kind loads what is cached afterwards.
    send(&app, "acme", SECRET, &event("w-1", "A-1", "IN_SEPARATION", 5, None), Utc::now()).await;
    let update = "mutation($id: ID!) { updateOrderStatus(id: $id, status: IN_SEPARATION) { applied } }";
    app.gql(Some(&t.staff), update, json!({ "id": by_graphql })).await;

    // The least of three each, should anything else run meanwhile.
    let (mut signed, mut graphql) = (u64::MAX, u64::MAX);
    for (n, status) in ["IN_TRANSIT", "DELIVERY_FAILED", "DELIVERED"].iter().enumerate() {
        let before = app.statements_run().await;
        let (_, answer) = send(&app, "acme", SECRET, &event(&format!("e-{n}"), "A-1", status, 3 - n as i64, None), Utc::now()).await;
        assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
        signed = signed.min(app.statements_run().await - before);
        let before = app.statements_run().await;
        // Mailed alike: the event notifies the customer unless told otherwise.
        let update = "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s, notifyCustomer: true) { applied } }";
        let changed = app.gql(Some(&t.staff), update, json!({ "id": by_graphql, "s": status })).await;
        assert_eq!(changed["data"]["updateOrderStatus"]["applied"], true, "{changed}");
        graphql = graphql.min(app.statements_run().await - before);
    }
    eprintln!("statements: signed event {signed}, GraphQL status change {graphql}");
    // The event's own, 7 on SQLite and 8 on PostgreSQL: the company
    // and its secret, the run begun and finished (each its own transaction),
    // its item, the company's mappings, the order by its source id (GraphQL's
    // own: the user). Constant: it does not grow with anything.
    assert!(signed <= graphql + 10, "signed event {signed} statements, GraphQL {graphql}");
    assert_eq!(order::Entity::find_by_id(by_event).one(&app.db).await.unwrap().unwrap().status, OrderStatus::Delivered);
}
