//! VTEX's tracking calls against the running server: a tracking number for
//! an invoice, then the carrier's reports, until the customer's order is
//! delivered, with one mail for it; the timeline in GraphQL.

use entities::{integration_run, notification, order, order_status_history, shipment, tracking_event, OrderStatus, RunOutcome};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tests::TestApp;

use crate::vtex::{invoiced, post};

const ORDER: &str = "1172452900788-01";

/// Sends `body` with `method` to a VTEX path with VTEX's header pair.
async fn send(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: &str) -> (u16, Value) {
    let request = app
        .http
        .request(method, format!("{}/integrations/vtex/{path}", app.base))
        .header("content-type", "application/json")
        .header("X-VTEX-API-AppKey", "vtexappkey-luxstore")
        .header("X-VTEX-API-AppToken", token)
        .body(body.to_owned());
    tests::json_answer(request).await
}

async fn put(app: &TestApp, token: &str, invoice: &str, body: &str) -> (u16, Value) {
    send(app, reqwest::Method::PUT, &format!("orders/{ORDER}/invoice/{invoice}/tracking"), token, body).await
}

async fn patch(app: &TestApp, token: &str, invoice: &str, body: &str) -> (u16, Value) {
    send(app, reqwest::Method::PATCH, &format!("orders/{ORDER}/invoice/{invoice}"), token, body).await
}

const TRACKING_NUMBER: &str = include_str!("../../../adapters/vtex/tests/fixtures/tracking-number-patch.json");
const REPORT: &str = include_str!("../../../adapters/vtex/tests/fixtures/tracking-put.json");
const DELIVERED: &str = r#"{"isDelivered":true,"deliveredDate":"2026-12-04 16:20","events":[
    {"city":"Rio de Janeiro","state":"RJ","description":"Coletado pela transportadora","date":"2026-12-02"},
    {"city":"Sao Paulo","state":"SP","description":"A caminho de Curitiba","date":"2026-12-03"},
    {"city":"Curitiba","state":"PR","description":"Entregue a Rodrigo","date":"2026-12-04 16:20"}]}"#;

const SHIPMENTS: &str = "{ orders(first: 5) { nodes { status invoices { number value } shipments { invoiceNumber trackingNumber carrier deliveredAt events { occurredAt city state description } } history { toStatus comment } } } }";

#[tokio::test]
async fn a_tracking_number_then_the_carriers_reports_deliver_the_order_with_one_mail() {
    let smtp = tests::smtp::SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    crate::notifications::use_smtp(&app, &tenant, smtp.port, None).await;
    let company_id: i32 = tenant.id.parse().unwrap();
    let token = tenant.integration_token.as_str();

    // Imported invoiced, without a tracking number yet.
    let mut untracked = invoiced();
    untracked["packageAttachment"]["packages"][0]["trackingNumber"] = Value::Null;
    let (status, answer) = post(&app, "orders", Some(token), untracked.to_string()).await;
    assert_eq!((status, answer["applied"].clone()), (200, json!(1)), "{answer}");
    let stored = order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).filter(order::Column::SourceId.eq(ORDER)).one(&app.db).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Invoiced);

    // A report before the invoice has a tracking number: refused, as VTEX does.
    let (status, answer) = put(&app, token, "24382", REPORT).await;
    assert_eq!((status, answer["outcome"].clone(), answer["code"].clone()), (400, json!("failed"), json!("VALIDATION")), "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("no tracking number yet"), "{answer}");
    assert!(answer["receipt"].is_string(), "{answer}");
    // An invoice the order does not have, an order the company does not have.
    let (status, answer) = patch(&app, token, "99999", TRACKING_NUMBER).await;
    assert_eq!((status, answer["code"].clone()), (404, json!("NOT_FOUND")), "{answer}");
    let (status, answer) = send(&app, reqwest::Method::PUT, "orders/v404-01/invoice/24382/tracking", token, REPORT).await;
    assert_eq!((status, answer["code"].clone()), (404, json!("NOT_FOUND")), "{answer}");
    let shipments = || shipment::Entity::find().filter(shipment::Column::OrderId.eq(stored.id)).all(&app.db);
    assert!(shipments().await.unwrap().is_empty());
    assert_eq!(tracking_event::Entity::find().count(&app.db).await.unwrap(), 0);

    // The tracking number ships the invoice; sent again, it is one shipment still.
    let (status, answer) = patch(&app, token, "24382", TRACKING_NUMBER).await;
    assert_eq!((status, answer["outcome"].clone()), (200, json!("applied")), "{answer}");
    let (status, answer) = patch(&app, token, "24382", TRACKING_NUMBER).await;
    assert_eq!((status, answer["outcome"].clone()), (200, json!("skipped")), "{answer}");
    let shipped = shipments().await.unwrap();
    assert_eq!(shipped.len(), 1);
    assert_eq!((shipped[0].invoice_number.as_deref(), shipped[0].tracking_number.as_str()), (Some("24382"), "87658"));

    // The documented report: the timeline, and the order stays in transit.
    let (status, answer) = put(&app, token, "24382", REPORT).await;
    assert_eq!((status, answer["outcome"].clone()), (200, json!("applied")), "{answer}");
    let customer = app.customer(&tenant.id, &tenant.identifier, "rodrigo.smith@email.com").await;
    let seen = app.gql(Some(&customer), SHIPMENTS, json!({})).await;
    let node = &seen["data"]["orders"]["nodes"][0];
    assert_eq!(node["status"], "IN_TRANSIT", "{seen}");
    assert_eq!(node["invoices"], json!([{ "number": "24382", "value": "10.15" }]));
    assert_eq!(node["shipments"][0]["events"], json!([
        { "occurredAt": "2015-06-23T00:00:00+00:00", "city": "Rio de Janeiro", "state": "RJ", "description": "Coletado pela transportadora" },
        { "occurredAt": "2015-06-24T00:00:00+00:00", "city": "Sao Paulo", "state": "SP", "description": "A caminho de Curitiba" },
    ]), "{seen}");
    let (_, answer) = put(&app, token, "24382", REPORT).await;
    assert_eq!(answer["outcome"], "skipped", "the same report again: {answer}");

    // Delivered, through VTEX's own path: the timeline is replaced, one mail.
    let oms = format!("api/oms/pvt/orders/{ORDER}/invoice/24382/tracking");
    let (status, answer) = send(&app, reqwest::Method::PUT, &oms, token, DELIVERED).await;
    assert_eq!((status, answer["outcome"].clone(), answer["notes"].clone()), (200, json!("applied"), json!(["timeline: DELIVERED"])), "{answer}");
    let (_, answer) = send(&app, reqwest::Method::PUT, &oms, token, DELIVERED).await;
    assert_eq!(answer["outcome"], "skipped", "{answer}");
    let seen = app.gql(Some(&customer), SHIPMENTS, json!({})).await;
    let node = &seen["data"]["orders"]["nodes"][0];
    assert_eq!(node["status"], "DELIVERED", "{seen}");
    let shipment = &node["shipments"][0];
    assert_eq!(shipment["deliveredAt"], "2026-12-04T16:20:00+00:00");
    let places: Vec<&str> = shipment["events"].as_array().unwrap().iter().map(|e| e["city"].as_str().unwrap()).collect();
    assert_eq!(places, ["Rio de Janeiro", "Sao Paulo", "Curitiba"]);
    let last = node["history"].as_array().unwrap().last().unwrap();
    assert_eq!((last["toStatus"].clone(), last["comment"].clone()), (json!("DELIVERED"), json!("Delivered")), "{seen}");

    let delivered_entries: Vec<i32> = order_status_history::Entity::find()
        .filter(order_status_history::Column::OrderId.eq(stored.id))
        .filter(order_status_history::Column::ToStatus.eq(OrderStatus::Delivered))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(delivered_entries.len(), 2, "applied, and the replay recorded as skipped");
    let delivered_mails =
        notification::Entity::find().filter(notification::Column::HistoryId.is_in(delivered_entries)).count(&app.db).await.unwrap();
    assert_eq!(delivered_mails, 1, "one mail for the delivery, none for its replay");
    let queued = notification::Entity::find().filter(notification::Column::OrderId.eq(stored.id)).count(&app.db).await.unwrap();
    let mails = smtp.wait_for(usize::try_from(queued).unwrap(), std::time::Duration::from_secs(10)).await;
    let subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    assert!(subjects.iter().any(|s| s.ends_with("Pedido entregue")), "{subjects:?}");
    assert!(mails.iter().all(|m| m.envelope_to == ["rodrigo.smith@email.com"]), "{subjects:?}");

    // Every call is in the integrations log, the path's ids with its body.
    let tracking_runs = integration_run::Entity::find()
        .filter(integration_run::Column::CompanyId.eq(company_id))
        .filter(integration_run::Column::Operation.eq("tracking"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(tracking_runs.len(), 6);
    assert!(tracking_runs.iter().all(|r| r.outcome != RunOutcome::Rejected));
}

#[tokio::test]
async fn bad_reports_are_refused_whole_and_recorded() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    let company_id: i32 = tenant.id.parse().unwrap();
    let token = tenant.integration_token.as_str();
    let (status, _) = post(&app, "orders", Some(token), invoiced().to_string()).await;
    assert_eq!(status, 200);
    let before = tests::fingerprint(&app.db, &["integration_runs", "integration_run_items"]).await;
    for body in ["{\"isDelivered\": ", r#"{"isDelivered":false,"events":[{"description":"x","date":"ontem"}]}"#, r#"{"trackingNumber":1}"#] {
        let (status, answer) = put(&app, token, "24382", body).await;
        assert_eq!((status, answer["error"]["code"].clone()), (400, json!("MALFORMED")), "{body}: {answer}");
    }
    let (status, answer) = patch(&app, token, "24382", "[]").await;
    assert_eq!((status, answer["error"]["code"].clone()), (400, json!("MALFORMED")), "{answer}");
    // Not text at all.
    let (status, answer) = send(&app, reqwest::Method::PATCH, &format!("orders/{ORDER}/invoice/24382"), token, "\u{0}").await;
    assert_eq!(status, 400, "{answer}");
    let response = app
        .http
        .put(format!("{}/integrations/vtex/orders/{ORDER}/invoice/24382/tracking", app.base))
        .header("X-VTEX-API-AppToken", token)
        .body(vec![0xff_u8, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(tests::fingerprint(&app.db, &["integration_runs", "integration_run_items"]).await, before, "nothing but the log changed");
    let rejected = integration_run::Entity::find()
        .filter(integration_run::Column::CompanyId.eq(company_id))
        .filter(integration_run::Column::Outcome.eq(RunOutcome::Rejected))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rejected, 6);
    // Strangers: 401 on every tracking path, nothing written.
    let before = tests::fingerprint(&app.db, &[]).await;
    for (method, path) in [(reqwest::Method::PUT, format!("orders/{ORDER}/invoice/24382/tracking")), (reqwest::Method::PATCH, format!("api/oms/pvt/orders/{ORDER}/invoice/24382"))] {
        let (status, answer) = send(&app, method, &path, "rtk_not-a-token", TRACKING_NUMBER).await;
        assert_eq!((status, answer["error"]["code"].clone()), (401, json!("UNAUTHENTICATED")), "{path}: {answer}");
    }
    assert_eq!(tests::fingerprint(&app.db, &[]).await, before);
}

#[tokio::test]
async fn a_partly_invoiced_order_keeps_each_sale_invoice_with_its_own_shipment_and_no_return() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    let token = tenant.integration_token.as_str();
    let mut order = invoiced();
    let first = order["packageAttachment"]["packages"][0].clone();
    let mut second = first.clone();
    second["invoiceNumber"] = json!("24383");
    second["invoiceValue"] = json!(145);
    second["trackingNumber"] = json!("87659");
    let mut giving_back = first.clone();
    giving_back["invoiceNumber"] = json!("R-1");
    giving_back["type"] = json!("Input");
    order["packageAttachment"]["packages"] = json!([first, giving_back, second]);
    let (status, answer) = post(&app, "orders", Some(token), order.to_string()).await;
    assert_eq!((status, answer["applied"].clone()), (200, json!(1)), "{answer}");

    // Each invoice's carrier reports on its own shipment.
    let (status, answer) = put(&app, token, "24383", r#"{"isDelivered":false,"events":[{"city":"Niterói","state":"RJ","description":"Em rota"}]}"#).await;
    assert_eq!((status, answer["outcome"].clone()), (200, json!("applied")), "{answer}");
    let query = "{ orders(first: 5) { nodes { invoice { number } invoices { number value } shipments { invoiceNumber trackingNumber events { city } } } } }";
    let seen = app.gql(Some(&tenant.staff), query, json!({})).await;
    let node = &seen["data"]["orders"]["nodes"][0];
    assert_eq!(node["invoices"], json!([{ "number": "24382", "value": "10.15" }, { "number": "24383", "value": "1.45" }]), "{seen}");
    assert_eq!(node["invoice"]["number"], "24383", "the latest: {seen}");
    assert_eq!(node["shipments"], json!([
        { "invoiceNumber": "24382", "trackingNumber": "TRK-48960684", "events": [] },
        { "invoiceNumber": "24383", "trackingNumber": "87659", "events": [{ "city": "Niterói" }] },
    ]), "{seen}");
}
