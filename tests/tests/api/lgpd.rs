//! LGPD anonymization: canaries planted in an order, a locality, a customer
//! account, an integration payload and mails are nowhere in the database
//! afterwards (every table on PostgreSQL; the database and WAL files, byte by
//! byte, on SQLite), while counts and totals still add up; a second run is a
//! no-op; a later import of the same source id creates fresh data and says
//! so; anonymized orders are read-only; tenants stay apart.

use std::time::Duration;

use entities::{integration_run, integration_run_item, order, NotificationState};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use tests::{database_contains, error_code, process::run_command, smtp::SmtpServer, TestApp};

use crate::notifications::{use_smtp, MOVE};

const CUSTOMER_NAME: &str = "Zebulon Canarywood";
const RESPONSIBLE: &str = "Quixote Canaryfield";
const EMAIL: &str = "quixote.canary@cliente.example";
const PHONE: &str = "+55 11 97531-8642";
const STREET: &str = "Rua Xylofone Canario";
const ORDER_STREET: &str = "Avenida Walrus Canario";
const OBSERVATIONS: &str = "ring twice mnemosyne-canary";
const REFERENCE: &str = "behind the pluto-canary bakery";
const COMMENT: &str = "left with halcyon-canary neighbour";
const ATTRIBUTE: &str = "obsidian-canary gate code";
const TRACKING: &str = "TRKCANARY778899";
const INVOICE_URL: &str = "https://nfe.example/danfe-tamarind-canary";
const IMPORTED_NAME: &str = "Yggdrasil Canaryson";
const CARRIER_WORDS: &str = "handed to ulysses-canary at the door";

const CANARIES: &[&str] = &[
    CUSTOMER_NAME,
    RESPONSIBLE,
    EMAIL,
    "97531-8642",
    STREET,
    ORDER_STREET,
    OBSERVATIONS,
    REFERENCE,
    COMMENT,
    ATTRIBUTE,
    TRACKING,
    INVOICE_URL,
    IMPORTED_NAME,
    CARRIER_WORDS,
];

const ANONYMIZE_CUSTOMER: &str = "mutation($e: String!, $c: ID) { anonymizeCustomer(email: $e, companyId: $c) {
  orders localities accounts mailsCancelled mailsErased integrationRunsErased } }";
const ANONYMIZE_ORDER: &str = "mutation($id: ID!) { anonymizeOrder(id: $id) { orders mailsCancelled mailsErased integrationRunsErased } }";
const ANONYMIZE_LOCALITY: &str = "mutation($id: ID!) { anonymizeLocality(id: $id) { localities mailsErased } }";

async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let body = app.gql(Some(token), query, variables).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

/// Orders of a company and the sum of their totals, from the database.
/// A carrier's report on the shipment of `invoice` of order `source_id`, as
/// an integration sends it.
pub(crate) async fn track(app: &TestApp, company_id: i32, source_id: &str, invoice: &str, words: &str) {
    use domain::{
        ingest::{self, Batch, Command, Record, RunMeta},
        orders::{EventMeta, TrackingEvent, TrackingUpdate},
        Actor,
    };
    let meta = RunMeta { adapter: "test-carrier".into(), operation: "tracking".into(), reprocess_of: None };
    let run = ingest::runs::begin(&app.ctx, Some(company_id), &meta, words.as_bytes()).await.unwrap();
    let event = TrackingEvent { description: words.into(), city: Some("Campinas".into()), ..TrackingEvent::default() };
    let update = TrackingUpdate { invoice_number: invoice.into(), events: vec![event], ..TrackingUpdate::default() };
    let timeline = Command::Timeline { update, meta: EventMeta { source: "test-carrier".into(), ..EventMeta::default() } };
    let batch = Batch { records: vec![Record::new(source_id, vec![timeline])] };
    let report = ingest::apply(&app.ctx, &Actor::integration(company_id), &run, batch).await.unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    ingest::runs::finish(&app.ctx, &run, &report, b"{}").await.unwrap();
}

async fn count_and_total(app: &TestApp, company_id: &str) -> (usize, i64) {
    let company_id: i32 = company_id.parse().unwrap();
    let orders = order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).all(&app.db).await.unwrap();
    (orders.len(), orders.iter().map(|o| o.total_cents).sum())
}

#[tokio::test]
async fn anonymizing_a_customer_leaves_no_canary_anywhere_and_reports_still_add_up() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;

    // The customer's home, and someone else's that must keep its data.
    let locality = "mutation($i: LocalityInput!) { createLocality(input: $i) { id } }";
    let home = ok(&app, &t.staff, locality, json!({ "i": { "sourceId": "HOME-1", "name": format!("Casa de {RESPONSIBLE}"), "logisticRole": "DESTINATION",
        "address": { "street": STREET, "number": "42", "city": "Campinas", "state": "SP", "zipCode": "13010-000", "latitude": -22.9, "longitude": -47.06 },
        "responsible": { "name": RESPONSIBLE, "email": EMAIL, "phone": PHONE } } })).await["createLocality"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let control_home = ok(&app, &t.staff, locality, json!({ "i": { "sourceId": "HOME-2", "name": "Casa Controle", "logisticRole": "DESTINATION",
        "address": { "street": "Rua Controle Permanece", "city": "Campinas", "state": "SP" },
        "responsible": { "name": "Control Person Stays", "email": "control@cliente.example" } } })).await["createLocality"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // An order with every kind of personal data, a mailed status change with a
    // comment, an invoice link and a tracking code.
    let order = ok(&app, &t.staff, "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }", json!({ "i": {
        "sourceId": "CAN-1", "code": "#CAN-1", "status": "APPROVED", "destinationLocalityId": home, "customerName": CUSTOMER_NAME,
        "address": { "street": ORDER_STREET, "number": "7", "city": "Campinas", "state": "SP", "zipCode": "13010-001" },
        "observations": OBSERVATIONS, "reference": REFERENCE,
        "items": [{ "sourceId": "1", "productId": "SKU-CHAIR", "name": "Office chair", "quantity": 2, "unitPrice": "459.90" }],
        "attributes": [{ "key": "gate", "value": ATTRIBUTE }] } })).await["createOrder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&app, &t.staff, "mutation($id: ID!, $u: String!) { invoiceOrder(id: $id, invoice: { number: \"1001\", value: \"919.80\", url: $u }) { applied } }",
        json!({ "id": order, "u": INVOICE_URL })).await;
    let moved = ok(&app, &t.staff, MOVE, json!({ "id": order, "s": "IN_SEPARATION", "n": true, "c": COMMENT })).await;
    assert_eq!(moved["updateOrderStatus"]["applied"], true);
    ok(&app, &t.staff, "mutation($id: ID!, $n: String!) { addShipment(id: $id, shipment: { carrier: \"Correios\", trackingNumber: $n, trackingUrl: \"https://rastreio.example/TRKCANARY778899\", invoiceNumber: \"1001\" }) { applied } }",
        json!({ "id": order, "n": TRACKING })).await;
    // The carrier's timeline, in its own words, through the pipeline.
    track(&app, t.id.parse().unwrap(), "CAN-1", "1001", CARRIER_WORDS).await;
    app.create_order(&t.staff, "CTRL-1", &control_home, Some("APPROVED")).await;

    // First access: the customer gets an account (named after the
    // responsible person) through the mailed link, and logs in.
    ok(&app, &t.staff, "mutation($e: String!) { requestPasswordReset(email: $e, company: \"acme\") }", json!({ "e": EMAIL })).await;
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 2, "the status mail and the first-access mail");
    assert!(mails.iter().any(|m| m.text().contains(CUSTOMER_NAME) || m.html().contains(CUSTOMER_NAME)), "the status mail names the customer");
    let link = mails.iter().find(|m| m.text().contains("token=")).expect("a first-access link").text();
    let token = link[link.find("token=").unwrap() + 6..].split_whitespace().next().unwrap().to_owned();
    let reset = app
        .gql(None, "mutation($t: String!) { resetPassword(token: $t, newPassword: \"Canary-pass-2026\") { accessToken } }", json!({ "t": token }))
        .await;
    let customer = reset["data"]["resetPassword"]["accessToken"].as_str().unwrap_or_else(|| panic!("{reset}")).to_owned();
    let seen = ok(&app, &customer, "{ orders(first: 5) { totalCount } }", json!({})).await;
    assert_eq!(seen["orders"]["totalCount"], 1);

    // An integration payload: an order-lines file for the same customer,
    // imported by the real binary.
    let dir = std::env::temp_dir().join(format!("rastro-lgpd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("orders.csv");
    std::fs::write(
        &file,
        format!("source_id,code,status,customer_name,destination,item_source_id,product_id,item_name,quantity,unit_price\nIMP-1,#IMP-1,RECEIVED,{IMPORTED_NAME},HOME-1,1,SKU-DESK,Desk,1,1299.00\n"),
    )
    .unwrap();
    let (status, stdout, stderr) = run_command(&app.database_url, &["import", "--company", "acme", file.to_str().unwrap()]).await;
    assert!(status.success(), "{stdout}\n{stderr}");

    // Every canary is in the database now: the scan can find them.
    for canary in CANARIES {
        assert!(database_contains(&app, canary).await, "{canary} was never stored, so the test proves nothing");
    }
    let before = count_and_total(&app, &t.id).await;
    assert_eq!(before.0, 3);

    let done = ok(&app, &t.staff, ANONYMIZE_CUSTOMER, json!({ "e": EMAIL })).await;
    let done = &done["anonymizeCustomer"];
    assert_eq!(done["orders"], 2, "{done}");
    assert_eq!(done["localities"], 1, "{done}");
    assert_eq!(done["accounts"], 1, "{done}");
    assert_eq!(done["integrationRunsErased"], 2, "the file import and the carrier's report: {done}");
    assert!(done["mailsErased"].as_u64().unwrap() >= 2, "{done}");

    for canary in CANARIES {
        assert!(!database_contains(&app, canary).await, "{canary} is still in the database");
    }
    // What is not personal stays, and only the customer's data went.
    assert_eq!(count_and_total(&app, &t.id).await, before, "order count and totals are unchanged");
    assert!(database_contains(&app, "Control Person Stays").await);
    assert!(database_contains(&app, "SKU-CHAIR").await);
    let shown = ok(&app, &t.staff, "query($id: ID!) { order(id: $id) { status total customerName anonymizedAt observations
        address { street city } invoice { number url } shipments { carrier trackingNumber } history { toStatus comment }
        attributes { key } destination { name anonymizedAt responsible { email } address { street city } } } }", json!({ "id": order }))
        .await;
    let shown = &shown["order"];
    assert_eq!(shown["status"], "IN_TRANSIT");
    assert_eq!(shown["total"], "919.80");
    assert!(shown["anonymizedAt"].is_string(), "{shown}");
    assert!(shown["customerName"].is_null() && shown["observations"].is_null(), "{shown}");
    assert_eq!(shown["address"]["city"], "Campinas", "the city is not personal");
    assert!(shown["address"]["street"].is_null());
    assert_eq!(shown["invoice"]["number"], "1001");
    assert_eq!(shown["shipments"][0]["carrier"], "Correios");
    assert_eq!(shown["attributes"], json!([]));
    assert!(shown["history"].as_array().unwrap().iter().all(|h| h["comment"].is_null()), "{shown}");
    assert!(shown["destination"]["anonymizedAt"].is_string() && shown["destination"]["responsible"].is_null(), "{shown}");

    // The customer is gone: its token stopped working and it cannot log in.
    assert!(!app.token_works(&customer).await);
    let login = app.login_body(EMAIL, "Canary-pass-2026", Some("acme")).await;
    assert_eq!(error_code(&login), Some("UNAUTHENTICATED"), "{login}");
    // Failed attempts keep no address, and asking for a new link creates no
    // account: no locality names the e-mail any more.
    ok(&app, &t.staff, "mutation($e: String!) { requestPasswordReset(email: $e, company: \"acme\") }", json!({ "e": EMAIL })).await;
    assert!(!database_contains(&app, EMAIL).await);

    // The run is marked, its payload gone, and it cannot be replayed.
    let runs = integration_run::Entity::find().all(&app.db).await.unwrap();
    assert!(runs[0].payload_erased_at.is_some() && runs[0].request.is_empty(), "{:?}", runs[0]);
    let reprocess = app.gql(Some(&t.staff), "mutation($id: ID!) { reprocessIntegrationRun(id: $id) { run { id } } }", json!({ "id": runs[0].id.to_string() })).await;
    assert_eq!(error_code(&reprocess), Some("VALIDATION"), "{reprocess}");

    // A second run is a no-op; the audit trail has one entry, with counts.
    let again = ok(&app, &t.staff, ANONYMIZE_CUSTOMER, json!({ "e": EMAIL })).await;
    assert_eq!(again["anonymizeCustomer"], json!({ "orders": 0, "localities": 0, "accounts": 0, "mailsCancelled": 0, "mailsErased": 0, "integrationRunsErased": 0 }));
    let again = ok(&app, &t.staff, ANONYMIZE_ORDER, json!({ "id": order })).await;
    assert_eq!(again["anonymizeOrder"]["orders"], 0);
    let audit = ok(&app, &t.staff, "{ auditLog(first: 10, filter: { action: \"lgpd.\" }) { edges { node { action entity detail } } } }", json!({})).await;
    let entries = audit["auditLog"]["edges"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["node"]["action"], "lgpd.anonymize_customer");

    // The anonymized order is read-only.
    let comment = app.gql(Some(&t.staff), "mutation($id: ID!) { addOrderComment(id: $id, comment: \"new text\") { applied } }", json!({ "id": order })).await;
    assert_eq!(error_code(&comment), Some("VALIDATION"), "{comment}");

    // The same file again: the source id names an anonymized order, so a fresh
    // order is created, and the run's record says so.
    let (status, stdout, stderr) = run_command(&app.database_url, &["import", "--company", "acme", file.to_str().unwrap()]).await;
    assert!(status.success(), "{stdout}\n{stderr}");
    let newest = integration_run::Entity::find().order_by_desc(integration_run::Column::Id).one(&app.db).await.unwrap().unwrap();
    let item = integration_run_item::Entity::find().filter(integration_run_item::Column::RunId.eq(newest.id)).one(&app.db).await.unwrap().unwrap();
    assert!(item.applied.as_deref().unwrap_or_default().contains("created fresh"), "{item:?}");
    let fresh = order::Entity::find().filter(order::Column::SourceId.eq("IMP-1")).order_by_asc(order::Column::Id).all(&app.db).await.unwrap();
    assert_eq!(fresh.len(), 2);
    assert!(fresh[0].anonymized_at.is_some() && fresh[0].customer_name.is_none(), "the old order stays anonymized");
    assert!(fresh[1].anonymized_at.is_none() && fresh[1].id != fresh[0].id && fresh[1].destination_locality_id.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_order_or_a_locality_alone_and_tenants_apart() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    let customer = app.customer(&a.id, "alpha", &a.customer_email()).await;
    let order = app.create_order(&a.staff, "A-1", &a.destination, Some("INVOICED")).await;
    let kept = app.create_order(&a.staff, "A-2", &a.destination, Some("INVOICED")).await;
    // No SMTP: the mail is held, and the anonymization cancels it.
    let moved = ok(&app, &a.staff, MOVE, json!({ "id": order, "s": "IN_SEPARATION", "n": true })).await;
    assert_eq!(moved["updateOrderStatus"]["applied"], true);
    let mails = "query($id: ID!) { orderNotifications(orderId: $id) { state recipient erasedAt lastError } }";
    assert_eq!(ok(&app, &a.staff, mails, json!({ "id": order })).await["orderNotifications"][0]["state"], "HELD");

    // Another company, a customer, and nobody at all are refused, and nothing changes.
    let other = app.gql(Some(&b.staff), ANONYMIZE_ORDER, json!({ "id": order })).await;
    assert_eq!(error_code(&other), Some("NOT_FOUND"), "{other}");
    let other = app.gql(Some(&b.staff), ANONYMIZE_LOCALITY, json!({ "id": a.destination })).await;
    assert_eq!(error_code(&other), Some("NOT_FOUND"), "{other}");
    let other = app.gql(Some(&b.staff), ANONYMIZE_CUSTOMER, json!({ "e": a.customer_email(), "c": a.id })).await;
    assert_eq!(error_code(&other), Some("NOT_FOUND"), "{other}");
    let by_customer = app.gql(Some(&customer), ANONYMIZE_ORDER, json!({ "id": order })).await;
    assert_eq!(error_code(&by_customer), Some("FORBIDDEN"), "{by_customer}");
    let anonymous = app.gql(None, ANONYMIZE_CUSTOMER, json!({ "e": a.customer_email() })).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"), "{anonymous}");
    let no_company = app.gql(Some(&admin), ANONYMIZE_CUSTOMER, json!({ "e": a.customer_email() })).await;
    assert_eq!(error_code(&no_company), Some("VALIDATION"), "{no_company}");
    let untouched = order::Entity::find().filter(order::Column::AnonymizedAt.is_not_null()).all(&app.db).await.unwrap();
    assert!(untouched.is_empty());
    assert!(database_contains(&app, "Maria Souza").await);

    // One order: its mail is cancelled and erased; the other order keeps its data.
    let done = ok(&app, &a.staff, ANONYMIZE_ORDER, json!({ "id": order })).await;
    assert_eq!(done["anonymizeOrder"], json!({ "orders": 1, "mailsCancelled": 1, "mailsErased": 1, "integrationRunsErased": 0 }));
    let mail = ok(&app, &a.staff, mails, json!({ "id": order })).await;
    let mail = &mail["orderNotifications"][0];
    assert_eq!(mail["state"], "CANCELLED");
    assert_eq!(mail["recipient"], "");
    assert!(mail["erasedAt"].is_string(), "{mail}");
    let stored = entities::notification::Entity::find().all(&app.db).await.unwrap();
    assert!(stored.iter().all(|n| n.state == NotificationState::Cancelled && n.render_context.is_none()));
    let kept = ok(&app, &a.staff, "query($id: ID!) { order(id: $id) { customerName anonymizedAt } }", json!({ "id": kept })).await;
    assert_eq!(kept["order"], json!({ "customerName": "Maria Souza", "anonymizedAt": null }));
    // Customers no longer see it: whoever is responsible for the locality
    // later need not be the person it was for.
    let seen = app.gql(Some(&customer), "query($id: ID!) { order(id: $id) { status } }", json!({ "id": order })).await;
    assert_eq!(error_code(&seen), Some("NOT_FOUND"), "{seen}");
    let seen = ok(&app, &customer, "{ orders(first: 5) { totalCount } }", json!({})).await;
    assert_eq!(seen["orders"]["totalCount"], 1);

    // A feed's later event for it is skipped, with the reason on the record.
    let moved = app.gql(Some(&a.staff), MOVE, json!({ "id": order, "s": "IN_TRANSIT" })).await;
    assert_eq!(error_code(&moved), Some("VALIDATION"), "{moved}");
    let run = domain::ingest::runs::begin(
        &app.ctx,
        Some(a.id.parse().unwrap()),
        &domain::ingest::RunMeta { adapter: "test-feed".into(), operation: "push".into(), reprocess_of: None },
        b"{}",
    )
    .await
    .unwrap();
    let batch = domain::ingest::Batch {
        records: vec![domain::ingest::Record::new(
            "A-1",
            vec![domain::ingest::Command::ChangeStatus {
                to: entities::OrderStatus::InTransit,
                meta: domain::orders::EventMeta { comment: Some("scan".into()), source: "test-feed".into(), ..Default::default() },
            }],
        )],
    };
    let report = domain::ingest::apply(&app.ctx, &domain::Actor::integration(a.id.parse().unwrap()), &run, batch).await.unwrap();
    assert_eq!(report.skipped, 1, "{report:?}");
    assert!(report.items[0].notes[0].contains("anonymized"), "{report:?}");

    // One locality: its person and street go, the city stays, and its
    // customer no longer sees the orders delivered there.
    let done = ok(&app, &a.staff, ANONYMIZE_LOCALITY, json!({ "id": a.destination })).await;
    assert_eq!(done["anonymizeLocality"]["localities"], 1);
    let place = ok(&app, &a.staff, "query($id: ID!) { locality(id: $id) { name anonymizedAt responsible { email } address { city latitude } } }", json!({ "id": a.destination })).await;
    assert_eq!(place["locality"]["responsible"], Value::Null);
    assert_eq!(place["locality"]["address"], json!({ "city": "São Paulo", "latitude": null }));
    assert!(place["locality"]["anonymizedAt"].is_string());
    let seen = ok(&app, &customer, "{ orders(first: 5) { totalCount } }", json!({})).await;
    assert_eq!(seen["orders"]["totalCount"], 0);
    // The e-mail that tied the orders delivered there to their customer is
    // gone; they are anonymized through the locality.
    assert!(database_contains(&app, "Maria Souza").await);
    let again = ok(&app, &a.staff, "mutation($id: ID!) { anonymizeLocality(id: $id, orders: true) { orders localities } }", json!({ "id": a.destination })).await;
    assert_eq!(again["anonymizeLocality"], json!({ "orders": 1, "localities": 0 }));
    assert!(!database_contains(&app, "Maria Souza").await);
    let again = ok(&app, &a.staff, "mutation($id: ID!) { anonymizeLocality(id: $id, orders: true) { orders localities } }", json!({ "id": a.destination })).await;
    assert_eq!(again["anonymizeLocality"], json!({ "orders": 0, "localities": 0 }), "a second run is a no-op");
    // Only anonymizeCustomer closes the customer's account.
    assert!(app.token_works(&customer).await);
    // Fresh data written to the locality makes it live again.
    let fresh = ok(&app, &a.staff, "mutation($id: ID!, $i: LocalityInput!) { updateLocality(id: $id, input: $i) { anonymizedAt } }",
        json!({ "id": a.destination, "i": { "sourceId": "STORE-1", "name": "Loja", "logisticRole": "DESTINATION" } })).await;
    assert_eq!(fresh["updateLocality"]["anonymizedAt"], Value::Null);

    // Support anonymizes for any company; the trail shows it to the company.
    let done = ok(&app, &admin, ANONYMIZE_CUSTOMER, json!({ "e": a.customer_email(), "c": a.id })).await;
    assert_eq!(done["anonymizeCustomer"]["accounts"], 1);
    assert!(!app.token_works(&customer).await);
    let trail = ok(&app, &a.staff, "{ auditLog(first: 10, filter: { action: \"lgpd.\" }) { edges { node { action } } } }", json!({})).await;
    let actions: Vec<&str> = trail["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["lgpd.anonymize_customer", "lgpd.anonymize_locality", "lgpd.anonymize_locality", "lgpd.anonymize_order"]);
    let trail_b = ok(&app, &b.staff, "{ auditLog(first: 10, filter: { action: \"lgpd.\" }) { totalCount } }", json!({})).await;
    assert_eq!(trail_b["auditLog"]["totalCount"], 0);
}
