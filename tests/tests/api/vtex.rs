//! VTEX orders through the pipeline, as the import route will apply them:
//! VTEX's own `GetOrder` sample, invoiced.

use adapter_vtex::{convert::record, read_orders};
use domain::{
    ingest::{self, Batch, RunMeta},
    Actor,
};
use entities::{integration_run, locality, order, shipment, ItemOutcome, OrderStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tests::TestApp;

pub(crate) fn invoiced() -> Value {
    let mut order: Value = serde_json::from_str(include_str!("../../../adapters/vtex/tests/fixtures/get-order-handling.json")).unwrap();
    order["status"] = json!("invoiced");
    order["packageAttachment"]["packages"][0]["type"] = json!("Output");
    order
}

async fn import(app: &TestApp, company_id: i32, body: &Value) -> ingest::Report {
    let orders = read_orders(body.to_string().as_bytes()).unwrap();
    let batch = Batch { records: orders.iter().map(|o| record(o, false)).collect() };
    let meta = RunMeta { adapter: "vtex".into(), operation: "orders".into(), reprocess_of: None };
    let run = ingest::runs::begin(&app.ctx, Some(company_id), &meta, body.to_string().as_bytes()).await.unwrap();
    let report = ingest::apply(&app.ctx, &Actor::integration(company_id), &run, batch).await.unwrap();
    ingest::runs::finish(&app.ctx, &run, &report, b"{}").await.unwrap();
    assert!(integration_run::Entity::find_by_id(run.id).one(&app.db).await.unwrap().is_some());
    report
}

#[tokio::test]
async fn an_imported_order_reaches_its_customer_with_exact_cents_and_a_reimport_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    let company: i32 = tenant.id.parse().unwrap();

    let report = import(&app, company, &invoiced()).await;
    let item = &report.items[0];
    assert_eq!(item.outcome, ItemOutcome::Applied, "{item:?}");
    let stored = order::Entity::find().filter(order::Column::CompanyId.eq(company)).filter(order::Column::SourceId.eq("1172452900788-01")).one(&app.db).await.unwrap().unwrap();
    // Created at INVOICED; its tracking number shipped it.
    assert_eq!(stored.status, OrderStatus::InTransit);
    assert_eq!((stored.invoice_number.as_deref(), stored.invoice_value_cents), (Some("24382"), Some(1015)));
    assert_eq!(stored.total_cents, 990, "one unit at the selling price, in cents");
    let customer = locality::Entity::find_by_id(stored.destination_locality_id.unwrap()).one(&app.db).await.unwrap().unwrap();
    assert_eq!(customer.responsible_email.as_deref(), Some("rodrigo.smith@email.com"));
    assert_eq!(customer.country.as_deref(), Some("BR"));

    // The customer the e-mail names sees the order.
    let session = app.customer(&tenant.id, &tenant.identifier, "rodrigo.smith@email.com").await;
    let seen = app.gql(Some(&session), "{ orders(first: 5) { edges { node { code status total } } } }", json!({})).await;
    assert_eq!(seen["data"]["orders"]["edges"], json!([{ "node": { "code": "1172452900788-01", "status": "IN_TRANSIT", "total": "9.90" } }]), "{seen}");

    // Re-imported: the same order, no second invoice entry or shipment.
    let again = import(&app, company, &invoiced()).await;
    assert_eq!(again.items[0].outcome, ItemOutcome::Applied, "its details are replaced: {:?}", again.items[0]);
    let orders = order::Entity::find().filter(order::Column::CompanyId.eq(company)).count(&app.db).await.unwrap();
    let shipments = shipment::Entity::find().filter(shipment::Column::OrderId.eq(stored.id)).count(&app.db).await.unwrap();
    assert_eq!((orders, shipments), (1, 1));
    let notes = again.items[0].notes.join("; ");
    assert!(notes.contains("invoice skipped") && notes.contains("shipment skipped"), "{notes}");
}

/// POSTs `body` to a VTEX path with VTEX's header pair; status and JSON answer.
pub(crate) async fn post(app: &TestApp, path: &str, token: Option<&str>, body: String) -> (u16, Value) {
    let mut request = app.http.post(format!("{}/integrations/vtex/{path}", app.base)).header("content-type", "application/json").body(body);
    if let Some(token) = token {
        request = request.header("X-VTEX-API-AppKey", "vtexappkey-luxstore").header("X-VTEX-API-AppToken", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
}

async fn runs(app: &TestApp, company_id: i32) -> Vec<integration_run::Model> {
    use sea_orm::QueryOrder;
    integration_run::Entity::find().filter(integration_run::Column::CompanyId.eq(company_id)).order_by_asc(integration_run::Column::Id).all(&app.db).await.unwrap()
}

fn hook_body(order_id: &str, state: &str, at: &str) -> String {
    json!({ "Domain": "Fulfillment", "OrderId": order_id, "State": state, "LastState": "invoiced", "LastChange": at, "CurrentChange": at, "Origin": { "Account": "luxstore", "Key": "vtexappkey-luxstore" } }).to_string()
}

#[tokio::test]
async fn the_routes_import_orders_and_answer_hooks_under_the_companys_option() {
    use entities::RunOutcome;
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    let company_id: i32 = tenant.id.parse().unwrap();
    let token = tenant.integration_token.as_str();

    // Two orders in one call: one without tracking (it stays INVOICED), one not invoiced.
    let mut untracked = invoiced();
    untracked["packageAttachment"]["packages"][0]["trackingNumber"] = Value::Null;
    let mut handling = invoiced();
    handling["orderId"] = json!("1172452900799-01");
    handling["status"] = json!("handling");
    let (status, answer) = post(&app, "orders", Some(token), json!([untracked, handling]).to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["received"].clone(), answer["applied"].clone(), answer["failed"].clone()), (json!(2), json!(1), json!(1)));
    assert_eq!(answer["orders"][0]["outcome"], "applied");
    assert_eq!(answer["orders"][1]["code"], "VTEX_NOT_INVOICED");
    assert!(answer["orders"][1]["message"].as_str().unwrap().contains("handling"), "{answer}");
    let order_id = "1172452900788-01";
    let db = app.db.clone();
    let stored = || {
        let db = db.clone();
        async move { order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).filter(order::Column::SourceId.eq(order_id)).one(&db).await.unwrap().unwrap() }
    };
    assert_eq!(stored().await.status, OrderStatus::Invoiced);

    // VTEX's ping when the hook is saved: 200, and no run.
    let before = runs(&app, company_id).await.len();
    let (status, _) = post(&app, "hook", Some(token), r#"{"hookConfig":"ping"}"#.into()).await;
    assert_eq!(status, 200);
    assert_eq!(runs(&app, company_id).await.len(), before);

    // Status updates are off by default: a cancellation is recorded as skipped.
    // A minute ago, written as VTEX writes it (seven decimals).
    let at = (chrono::Utc::now() - chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%S%.6f0Z").to_string();
    let canceled = hook_body(order_id, "canceled", &at);
    let (status, answer) = post(&app, "hook", Some(token), canceled.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["orders"][0]["outcome"], "skipped");
    assert_eq!(answer["orders"][0]["notes"], json!([adapter_vtex::adapter::UPDATES_OFF]));
    assert_eq!(stored().await.status, OrderStatus::Invoiced);

    // The company's staff turns updates on; the same notification then cancels it.
    let query = "query($id: ID!) { company(id: $id) { vtex { requireInvoiceFile statusUpdates } } }";
    let shown = app.gql(Some(&tenant.staff), query, json!({ "id": tenant.id })).await;
    assert_eq!(shown["data"]["company"]["vtex"], json!({ "requireInvoiceFile": false, "statusUpdates": false }), "off by default: {shown}");
    let set = "mutation($id: ID!) { setVtexOptions(companyId: $id, requireInvoiceFile: false, statusUpdates: true) { vtex { requireInvoiceFile statusUpdates } } }";
    let changed = app.gql(Some(&tenant.staff), set, json!({ "id": tenant.id })).await;
    assert_eq!(changed["data"]["setVtexOptions"]["vtex"], json!({ "requireInvoiceFile": false, "statusUpdates": true }), "{changed}");
    let audited = entities::audit_log::Entity::find().filter(entities::audit_log::Column::Action.eq("company.vtex_options")).count(&app.db).await.unwrap();
    assert_eq!(audited, 1);
    let earlier = hook_body(order_id, "invoiced", "2000-01-01T10:00:00Z");
    let (status, answer) = post(&app, "hook", Some(token), canceled.clone()).await;
    assert_eq!((status, answer["orders"][0]["outcome"].clone()), (200, json!("applied")), "{answer}");
    assert_eq!(stored().await.status, OrderStatus::Cancelled);
    // Replayed, and an older change arriving late: skipped, not errors.
    let (_, replay) = post(&app, "hook", Some(token), canceled).await;
    assert_eq!(replay["orders"][0]["outcome"], "skipped", "{replay}");
    let (_, late) = post(&app, "hook", Some(token), earlier).await;
    assert_eq!(late["orders"][0]["outcome"], "skipped", "{late}");
    // A state before the invoice, for an order never imported: skipped with its reason.
    let (_, early) = post(&app, "hook", Some(token), hook_body("v1-01", "payment-approved", "2026-01-01T10:00:00Z")).await;
    assert_eq!(early["orders"][0]["outcome"], "skipped");
    assert!(early["orders"][0]["notes"][0].as_str().unwrap().contains("before the invoice"), "{early}");
    // A moving state for an order never imported: not found.
    let (_, unknown) = post(&app, "hook", Some(token), hook_body("v404-01", "canceled", "2026-01-01T10:00:00Z")).await;
    assert_eq!((unknown["orders"][0]["outcome"].clone(), unknown["orders"][0]["code"].clone()), (json!("failed"), json!("NOT_FOUND")), "{unknown}");
    assert_eq!(stored().await.status, OrderStatus::Cancelled);

    // Malformed JSON: a 400 with a message, recorded as a rejected run.
    let (status, answer) = post(&app, "orders", Some(token), "{\"orderId\": ".into()).await;
    assert_eq!((status, answer["error"]["code"].clone()), (400, json!("MALFORMED")), "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().starts_with("not a VTEX order"), "{answer}");
    assert_eq!(runs(&app, company_id).await.last().unwrap().outcome, RunOutcome::Rejected);
}

#[tokio::test]
async fn strangers_and_oversized_bodies_are_refused_before_anything_is_read_or_written() {
    let app = TestApp::spawn_with(|c| c.integrations.body_bytes = 64 * 1024).await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    let before = tests::fingerprint(&app.db, &[]).await;
    for path in ["orders", "hook"] {
        let (status, answer) = post(&app, path, None, invoiced().to_string()).await;
        assert_eq!((status, answer["error"]["code"].clone()), (401, json!("UNAUTHENTICATED")), "{path}: {answer}");
        let (status, _) = post(&app, path, Some("rtk_not-a-token"), invoiced().to_string()).await;
        assert_eq!(status, 401, "{path}");
        // The ping needs the token too: a hook saved without it fails at VTEX.
        let (status, _) = post(&app, path, None, r#"{"hookConfig":"ping"}"#.into()).await;
        assert_eq!(status, 401, "{path}");
    }
    assert_eq!(tests::fingerprint(&app.db, &[]).await, before, "a stranger wrote nothing");
    let huge = format!("[{}]", vec![invoiced().to_string(); 40].join(","));
    let (status, answer) = post(&app, "orders", Some(&tenant.integration_token), huge).await;
    assert_eq!((status, answer["error"]["code"].clone()), (413, json!("TOO_LARGE")), "{answer}");
}

#[tokio::test]
async fn the_invoice_file_option_refuses_an_order_whose_invoice_came_without_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    let set = "mutation($id: ID!) { setVtexOptions(companyId: $id, requireInvoiceFile: true, statusUpdates: false) { id } }";
    // Platform support sets up a tenant's integration too.
    assert!(app.gql(Some(&admin), set, json!({ "id": tenant.id })).await["errors"].is_null());
    let mut bare = invoiced();
    bare["packageAttachment"]["packages"][0]["invoiceUrl"] = Value::Null;
    bare["packageAttachment"]["packages"][0]["embeddedInvoice"] = Value::Null;
    let (status, answer) = post(&app, "orders", Some(&tenant.integration_token), bare.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!((answer["orders"][0]["outcome"].clone(), answer["orders"][0]["code"].clone()), (json!("failed"), json!("VTEX_NO_INVOICE_FILE")), "{answer}");
    let company_id: i32 = tenant.id.parse().unwrap();
    assert_eq!(order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).count(&app.db).await.unwrap(), 0);
    // With its file, the same order is imported.
    let (_, answer) = post(&app, "orders", Some(&tenant.integration_token), invoiced().to_string()).await;
    assert_eq!(answer["orders"][0]["outcome"], "applied", "{answer}");
}

#[tokio::test]
async fn rastro_import_reads_a_file_of_json_lines_through_the_same_path() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    let mut handling = invoiced();
    handling["orderId"] = json!("1172452900799-01");
    handling["status"] = json!("handling");
    let dir = std::env::temp_dir().join(format!("rastro-vtex-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("orders.jsonl");
    std::fs::write(&file, format!("{}\n{}\n", invoiced(), handling)).unwrap();

    let path = file.to_str().unwrap();
    let (status, stdout, stderr) = tests::process::run_command(&app.database_url, &["import", "--company", &tenant.identifier, "--adapter", "vtex", path]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!status.success(), "one order was refused, so the command says so: {stdout}\n{stderr}");
    assert!(stdout.contains("2 orders received, 1 applied, 0 skipped, 1 failed"), "{stdout}\n{stderr}");
    let company_id: i32 = tenant.id.parse().unwrap();
    let imported: Vec<String> = order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).all(&app.db).await.unwrap().into_iter().map(|o| o.source_id).collect();
    assert_eq!(imported, ["1172452900788-01"]);
    let run = runs(&app, company_id).await.pop().unwrap();
    assert_eq!((run.adapter.as_str(), run.operation.as_str(), run.failed), ("vtex", "import", 1));
}
