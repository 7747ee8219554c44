//! The company's operations in the portal: a failed import seen in the
//! integrations log, its missing locality created on the localities page,
//! the run reprocessed; the audit log; and the LGPD actions.

use serde_json::json;
use tests::{portal::Visitor, TestApp, PASSWORD};

#[tokio::test]
async fn a_failed_import_is_fixed_on_the_localities_page_and_reprocessed_from_the_log() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let other = app.tenant(&admin, "borealis").await;
    let csv = "source_id,code,status,customer_name,destination,item_source_id,product_id,item_name,quantity,unit_price\n\
               R-1,#R-1,RECEIVED,Maria,LOJA-9,1,SKU-1,Chair,1,10.00\n";
    let company: i32 = t.id.parse().unwrap();
    let failed = domain::ingest::handle(&app.ctx, company, &adapter_rastro_csv::RastroCsv, "import", csv.as_bytes(), None).await.unwrap();
    let theirs = domain::ingest::handle(&app.ctx, other.id.parse().unwrap(), &adapter_rastro_csv::RastroCsv, "import", csv.as_bytes(), None).await.unwrap();

    app.company_user(&admin, &t.id, "acme", "ops@acme.test").await;
    let mut staff = Visitor::new(&app.base);
    staff.log_in("acme", "ops@acme.test", PASSWORD).await;
    let log = staff.get("/admin/integrations?outcome=FAILED").await;
    assert_eq!(log.status, 200, "{}", log.body);
    assert!(log.body.contains(&format!("/admin/integrations/{}", failed.run_id)), "{}", log.body);
    assert!(!log.body.contains(&format!("/admin/integrations/{}\"", theirs.run_id)), "another company's run stays out");
    assert!(log.body.contains(r#"id="monitor""#));
    let run = staff.get(&format!("/admin/integrations/{}", failed.run_id)).await;
    assert!(run.body.contains("LOJA-9") && run.body.contains(r#"id="reprocess""#), "{}", run.body);
    assert_eq!(staff.get(&format!("/admin/integrations/{}", theirs.run_id)).await.status, 404);

    // The missing destination, created on the localities page.
    let form = staff.get("/admin/localities/new").await;
    let csrf = form.csrf();
    let fields = [
        ("csrf", csrf.as_str()), ("source_id", "LOJA-9"), ("name", "Loja 9"), ("role", "DESTINATION"), ("city", "Campinas"), ("state", "SP"),
        ("responsible_name", "Maria"), ("responsible_email", "maria@acme.test"), ("responsible_phone", ""),
    ];
    let created = staff.post("/admin/localities/new", &fields).await;
    assert_eq!(created.location().as_deref(), Some("/admin/localities"), "{}", created.body);
    let list = staff.get("/admin/localities?q=loja").await;
    assert!(list.body.contains("LOJA-9") && list.body.contains("maria@acme.test"), "{}", list.body);
    let refused = staff.post("/admin/localities/new", &fields).await;
    assert_eq!(refused.status, 400, "the same source id twice");

    let again = staff.post(&format!("/admin/integrations/{}/reprocess", failed.run_id), &[("csrf", &csrf)]).await;
    let to = again.location().expect("to the new run");
    let new_run = staff.get(&to).await;
    assert!(new_run.body.contains(r#"id="outcome">sucesso<"#), "{}", new_run.body);
    let order = app.gql(Some(&t.staff), r#"{ orderBySourceId(sourceId: "R-1") { code } }"#, json!({})).await;
    assert_eq!(order["data"]["orderBySourceId"]["code"], "#R-1", "{order}");
    let forged = staff.post(&format!("/admin/integrations/{}/reprocess", theirs.run_id), &[("csrf", &csrf)]).await;
    assert_eq!(forged.status, 404, "another company's run cannot be reprocessed");

    // The audit log names what was done.
    let audit = staff.get("/admin/audit").await;
    assert!(audit.body.contains("integration_run.reprocess"), "{}", audit.body);
    let filtered = staff.get("/admin/audit?action=locality").await;
    assert_eq!(filtered.status, 200);
    assert!(filtered.body.contains("locality.") && !filtered.body.contains("integration_run.reprocess"), "{}", filtered.body);
}

#[tokio::test]
async fn lgpd_actions_erase_a_customer_or_one_order_only_after_confirmation() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let kept = app.create_order(&t.staff, "A-1", &t.destination, None).await;
    let place = app.create_locality(&t.staff, "STORE-2", "DESTINATION", Some("joana@acme.test")).await;
    let erased = app.create_order(&t.staff, "A-2", &place, None).await;
    app.company_user(&admin, &t.id, "acme", "ops@acme.test").await;
    let mut staff = Visitor::new(&app.base);
    staff.log_in("acme", "ops@acme.test", PASSWORD).await;

    let page = staff.get("/admin/privacy").await;
    let csrf = page.csrf();
    let unconfirmed = staff.post("/admin/privacy/customer", &[("csrf", &csrf), ("email", "joana@acme.test")]).await;
    assert_eq!(unconfirmed.status, 400);
    let still = app.gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { anonymizedAt } }", json!({ "id": erased })).await;
    assert!(still["data"]["order"]["anonymizedAt"].is_null(), "nothing erased without the confirmation: {still}");
    let done = staff.post("/admin/privacy/customer", &[("csrf", &csrf), ("email", "joana@acme.test"), ("confirm", "1")]).await;
    assert!(done.body.contains(r#"id="done""#), "{}", done.body);
    let state = app.gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { customerName anonymizedAt } }", json!({ "id": erased })).await;
    assert!(state["data"]["order"]["anonymizedAt"].is_string(), "{state}");

    let order_page = staff.get(&format!("/orders/{kept}")).await;
    let refused = staff.post(&format!("/orders/{kept}/actions/anonymize"), &[("csrf", &order_page.csrf())]).await;
    assert_eq!(refused.status, 400, "not without the confirmation");
    let untouched = app.gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { anonymizedAt } }", json!({ "id": kept })).await;
    assert!(untouched["data"]["order"]["anonymizedAt"].is_null());
    let gone = staff.post(&format!("/orders/{kept}/actions/anonymize"), &[("csrf", &order_page.csrf()), ("confirm", "1")]).await;
    assert_eq!(gone.status, 303, "{}", gone.body);
    let after = app.gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { customerName anonymizedAt } }", json!({ "id": kept })).await;
    assert!(after["data"]["order"]["anonymizedAt"].is_string() && after["data"]["order"]["customerName"].is_null(), "{after}");

    // Customers have none of these pages.
    app.customer(&t.id, "acme", &t.customer_email()).await;
    let mut customer = Visitor::new(&app.base);
    customer.log_in("acme", &t.customer_email(), PASSWORD).await;
    for path in ["/admin/privacy", "/admin/integrations", "/admin/audit", "/admin/localities"] {
        assert_eq!(customer.get(path).await.status, 404, "{path}");
    }
}
