//! Guards for tenancy rules that only show with two companies holding
//! look-alike data: the same customer e-mail, localities, mail templates,
//! integration runs. Each test fails if the one company filter that keeps its
//! rule is dropped.

use domain::{
    ingest::{self, Batch, Command, Record, RunMeta},
    orders::EventMeta,
    Actor,
};
use entities::OrderStatus;
use serde_json::{json, Value};
use tests::{error_code, fingerprint, TestApp, PASSWORD};

use crate::notifications::move_order;

async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let body = app.gql(Some(token), query, variables).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

const ANONYMIZE_CUSTOMER: &str = "mutation($e: String!, $c: ID) { anonymizeCustomer(email: $e, companyId: $c) {
  orders localities accounts mailsCancelled mailsErased integrationRunsErased } }";

#[tokio::test]
async fn anonymizing_a_customer_leaves_the_same_email_in_another_company_alone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    // One person, a customer of both companies: a home and an order in each.
    let maria = "maria@x.test";
    let home_a = app.create_locality(&a.staff, "MARIA", "DESTINATION", Some(maria)).await;
    let home_b = app.create_locality(&b.staff, "MARIA", "DESTINATION", Some(maria)).await;
    let order_a = app.create_order(&a.staff, "A-1", &home_a, Some("INVOICED")).await;
    let order_b = app.create_order(&b.staff, "B-1", &home_b, Some("INVOICED")).await;
    // Neither company has SMTP settings: both mails to Maria wait, HELD, and
    // the anonymization cancels what it reaches.
    move_order(&app, &a.staff, &order_a, "IN_SEPARATION", true).await;
    move_order(&app, &b.staff, &order_b, "IN_SEPARATION", true).await;
    let maria_b = app.customer(&b.id, "beta", maria).await;

    let first = json!({ "orders": 1, "localities": 1, "accounts": 1, "mailsCancelled": 1, "mailsErased": 1, "integrationRunsErased": 0 });
    // Alpha's data is gone after the first round: the second closes only an
    // account opened again, through support's path.
    let again = json!({ "orders": 0, "localities": 0, "accounts": 1, "mailsCancelled": 0, "mailsErased": 0, "integrationRunsErased": 0 });
    for (who, token, company, expected) in [("alpha's staff", &a.staff, None, first), ("support", &admin, Some(&a.id), again)] {
        let maria_a = app.customer(&a.id, "alpha", maria).await;
        let done = ok(&app, token, ANONYMIZE_CUSTOMER, json!({ "e": maria, "c": company })).await;
        assert_eq!(done["anonymizeCustomer"], expected, "{who}: only alpha's data counts");
        assert!(!app.token_works(&maria_a).await, "{who}: alpha's account is closed");

        assert!(app.token_works(&maria_b).await, "{who}: Maria's beta account was closed by alpha's request");
        let login = app.login_body(maria, PASSWORD, Some("beta")).await;
        assert!(login["data"]["login"]["accessToken"].is_string(), "{who}: Maria can no longer log in to beta: {login}");
        let mails = ok(&app, &b.staff, "query($id: ID!) { orderNotifications(orderId: $id) { state recipient erasedAt } }", json!({ "id": order_b })).await;
        assert_eq!(mails["orderNotifications"], json!([{ "state": "HELD", "recipient": maria, "erasedAt": null }]), "{who}: beta's mail");
        let home = ok(&app, &b.staff, "query($id: ID!) { locality(id: $id) { anonymizedAt responsible { email } } }", json!({ "id": home_b })).await;
        assert_eq!(home["locality"], json!({ "anonymizedAt": null, "responsible": { "email": maria } }), "{who}: beta's locality");
        let order = ok(&app, &b.staff, "query($id: ID!) { order(id: $id) { customerName anonymizedAt } }", json!({ "id": order_b })).await;
        assert_eq!(order["order"], json!({ "customerName": "Maria Souza", "anonymizedAt": null }), "{who}: beta's order");
    }
}

#[tokio::test]
async fn the_localities_list_shows_only_the_companys_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    let list = "query($s: String) { localities(first: 100, search: $s) { totalCount nodes { sourceId responsible { email phone } } } }";

    let all = ok(&app, &b.staff, list, json!({ "s": null })).await;
    assert_eq!(all["localities"]["totalCount"], 2, "{all}");
    assert_eq!(all["localities"]["nodes"].as_array().unwrap().len(), 2, "{all}");
    assert!(!all.to_string().contains("@alpha"), "beta sees alpha's responsible people: {all}");
    let searched = ok(&app, &b.staff, list, json!({ "s": "customer@alpha" })).await;
    assert_eq!(searched["localities"], json!({ "totalCount": 0, "nodes": [] }));
    // The same search finds the locality for its own company.
    let own = ok(&app, &a.staff, list, json!({ "s": "customer@alpha" })).await;
    assert_eq!(own["localities"]["totalCount"], 1, "{own}");
}

#[tokio::test]
async fn a_companys_mail_template_is_its_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    let order_a = app.create_order(&a.staff, "A-1", &a.destination, Some("INVOICED")).await;
    let order_b = app.create_order(&b.staff, "B-1", &b.destination, Some("INVOICED")).await;
    let save = "mutation { saveNotificationTemplate(status: IN_SEPARATION, subject: \"ALPHA-ONLY {{ order_code }}\", html: \"<p>ALPHA-ONLY</p>\", text: \"ALPHA-ONLY\") { custom } }";
    assert_eq!(ok(&app, &a.staff, save, json!({})).await["saveNotificationTemplate"]["custom"], true);
    let templates = "{ notificationTemplates { status subject html text custom } }";
    let preview = "query($id: ID!) { previewNotification(orderId: $id, status: IN_SEPARATION) { subject } }";

    let listed = ok(&app, &b.staff, templates, json!({})).await;
    let list = listed["notificationTemplates"].as_array().unwrap();
    assert!(!list.is_empty() && list.iter().all(|t| t["custom"] == false), "{listed}");
    assert!(!listed.to_string().contains("ALPHA-ONLY"), "{listed}");
    // The preview renders with the template the worker would use.
    let shown = ok(&app, &b.staff, preview, json!({ "id": order_b })).await;
    assert_eq!(shown["previewNotification"]["subject"], "beta: pedido #B-1 — Em separação");
    let shown = ok(&app, &a.staff, preview, json!({ "id": order_a })).await;
    assert_eq!(shown["previewNotification"]["subject"], "ALPHA-ONLY #A-1");

    let reset = ok(&app, &b.staff, "mutation { resetNotificationTemplate(status: IN_SEPARATION) { custom } }", json!({})).await;
    assert_eq!(reset["resetNotificationTemplate"]["custom"], false);
    let kept = ok(&app, &a.staff, templates, json!({})).await;
    let ours = kept["notificationTemplates"].as_array().unwrap().iter().find(|t| t["status"] == "IN_SEPARATION").unwrap().clone();
    assert_eq!((&ours["custom"], &ours["subject"]), (&json!(true), &json!("ALPHA-ONLY {{ order_code }}")), "beta's reset removed alpha's template");
}

#[tokio::test]
async fn an_order_edit_cannot_point_at_another_companys_locality() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    let order = app.create_order(&b.staff, "B-1", &b.destination, None).await;
    let update = "mutation($id: ID!, $i: UpdateOrderInput!) { updateOrder(id: $id, input: $i) { id } }";
    let before = fingerprint(&app.db, &[]).await;

    let moved = app.gql(Some(&b.staff), update, json!({ "id": order, "i": { "destinationLocalityId": a.destination } })).await;
    assert_eq!(error_code(&moved), Some("VALIDATION"), "{moved}");
    assert_eq!(moved["errors"][0]["extensions"]["field"], "destinationLocalityId");
    let items = json!([{ "sourceId": "1", "productId": "SKU-CHAIR", "name": "Office chair", "quantity": 1, "unitPrice": "459.90", "originLocalityId": a.origin }]);
    let picked = app.gql(Some(&b.staff), update, json!({ "id": order, "i": { "items": items } })).await;
    assert_eq!(error_code(&picked), Some("VALIDATION"), "{picked}");
    assert_eq!(picked["errors"][0]["extensions"]["field"], "items[0].originLocalityId");

    assert!(before == fingerprint(&app.db, &[]).await, "a refused edit wrote something");
    // Beta's mails still go to beta's customer.
    let to = ok(&app, &b.staff, "query($id: ID!) { previewNotification(orderId: $id, status: IN_TRANSIT) { to } }", json!({ "id": order })).await;
    assert_eq!(to["previewNotification"]["to"], b.customer_email());
}

#[tokio::test]
async fn a_company_id_passed_by_staff_does_not_open_another_companys_integration_log() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    app.create_order(&a.staff, "A-1", &a.destination, None).await;
    // One run of alpha's feed, the way a route records it; beta has none.
    let company: i32 = a.id.parse().unwrap();
    let meta = RunMeta { adapter: "test-feed".into(), operation: "push".into(), reprocess_of: None };
    let run = ingest::runs::begin(&app.ctx, Some(company), &meta, b"<request/>").await.unwrap();
    let change = Command::ChangeStatus { to: OrderStatus::Approved, meta: EventMeta { source: "test-feed".into(), ..EventMeta::default() } };
    let batch = Batch { records: vec![Record::new("A-1", vec![change])] };
    let report = ingest::apply(&app.ctx, &Actor::integration(company), &run, batch).await.unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    ingest::runs::finish(&app.ctx, &run, &report, b"<answer/>").await.unwrap();

    let runs = "query($c: ID) { integrationRuns(first: 10, filter: { companyId: $c }) { totalCount } }";
    let monitor = "query($c: ID) { integrationMonitor(companyId: $c) { adapter } }";
    // Alpha and support see the run: there is something to hide.
    for token in [&a.staff, &admin] {
        assert_eq!(ok(&app, token, runs, json!({ "c": a.id })).await["integrationRuns"]["totalCount"], 1);
        assert_eq!(ok(&app, token, monitor, json!({ "c": a.id })).await["integrationMonitor"], json!([{ "adapter": "test-feed" }]));
    }
    let forced = ok(&app, &b.staff, runs, json!({ "c": a.id })).await;
    assert_eq!(forced["integrationRuns"]["totalCount"], 0, "beta reads alpha's runs by naming alpha: {forced}");
    let forced = ok(&app, &b.staff, monitor, json!({ "c": a.id })).await;
    assert_eq!(forced["integrationMonitor"], json!([]), "beta reads alpha's monitor by naming alpha");
}
