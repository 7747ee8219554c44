//! The company area (`/admin`: dashboard, order actions, filters and exports)
//! and the support area (`/support`: companies and their staff) over HTTP.

use serde_json::json;
use tests::{
    portal::Visitor,
    TestApp, PASSWORD,
};

/// Where a "shown once" page goes on to.
fn continue_link(body: &str) -> String {
    let end = body.find(r#"" id="continue""#).expect("continue link");
    let start = body[..end].rfind("href=\"").expect("href") + 6;
    body[start..end].replace("&#x2f;", "/")
}

/// The secret a "shown once" page shows.
fn secret_of(body: &str) -> String {
    let at = body.find(r#"id="secret" readonly value=""#).unwrap_or_else(|| panic!("no secret in {body}"));
    let rest = &body[at + 28..];
    rest[..rest.find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn staff_run_an_order_from_its_page_and_the_customer_sees_only_what_is_meant_for_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let other = app.tenant(&admin, "borealis").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let theirs = app.create_order(&other.staff, "B-1", &other.destination, Some("INVOICED")).await;
    app.company_user(&admin, &t.id, "acme", "ops@acme.test").await;
    let mut staff = Visitor::new(&app.base);
    let page = staff.get("/admin/login?company=acme").await;
    let form = [("csrf", page.csrf()), ("email", "ops@acme.test".into()), ("password", PASSWORD.into()), ("company", "acme".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let login = staff.post("/admin/login", &form).await;
    assert_eq!(login.location().as_deref(), Some("/admin"), "staff land on the dashboard");

    let dashboard = staff.get("/admin").await;
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.body.contains(r#"id="count-INVOICED">1<"#), "{}", dashboard.body);
    assert!(!dashboard.body.contains("#B-1"), "another company's changes stay out");
    let latest = &dashboard.body[dashboard.body.find(r#"id="latest""#).expect("the latest changes")..];
    assert!(latest.contains("#A-1"), "{latest}");

    let page = staff.get(&format!("/orders/{order}")).await;
    assert!(page.body.contains(r#"id="actions""#));
    let csrf = page.csrf();
    let act = |action: &'static str| format!("/orders/{order}/actions/{action}");
    let hidden = "conferir endereço 5b1";
    for (action, fields) in [
        ("status", vec![("status", "IN_SEPARATION"), ("visible", "1"), ("comment", "Separando")]),
        ("comment", vec![("comment", hidden)]),
        ("hold", vec![]),
        ("release", vec![]),
        ("shipment", vec![("carrier", "jadlog"), ("tracking", "JD9"), ("url", "https://jadlog.example/JD9"), ("visible", "1")]),
        ("refund", vec![("amount", "10,50"), ("visible", "1")]),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let done = staff.post(&act(action), &form).await;
        assert_eq!((done.status, done.location()), (303, Some(format!("/orders/{order}"))), "{action}: {}", done.body);
    }
    // A move the machine refuses is the page again, with the reason.
    let refused = staff.post(&act("status"), &[("csrf", &csrf), ("status", "RECEIVED")]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains(r#"id="form-error""#), "{}", refused.body);
    // Another company's order is not there to act on; nothing changes.
    let before = app.gql(Some(&other.staff), "query($id: ID!) { order(id: $id) { status history { id } } }", json!({ "id": theirs })).await;
    let missing = staff.post(&format!("/orders/{theirs}/actions/cancel"), &[("csrf", &csrf)]).await;
    assert_eq!(missing.status, 404);
    let after = app.gql(Some(&other.staff), "query($id: ID!) { order(id: $id) { status history { id } } }", json!({ "id": theirs })).await;
    assert_eq!(before, after);
    // Without the session's token, nothing happens.
    let forged = staff.post(&act("cancel"), &[("csrf", "00")]).await;
    assert_eq!(forged.status, 403);

    let state = app
        .gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { status refunded shipments { trackingNumber } history { comment visibleToCustomer } } }", json!({ "id": order }))
        .await;
    let o = &state["data"]["order"];
    assert_eq!(o["status"], "REFUNDED", "{state}");
    assert_eq!(o["refunded"], "10.50");
    assert_eq!(o["shipments"][0]["trackingNumber"], "JD9");
    let note = o["history"].as_array().unwrap().iter().find(|h| h["comment"] == hidden).expect("the comment");
    assert_eq!(note["visibleToCustomer"], false, "a comment is hidden unless ticked");

    // The customer's page: the shipment and the visible entries, not the note.
    app.customer(&t.id, "acme", &t.customer_email()).await;
    let mut customer = Visitor::new(&app.base);
    customer.log_in("acme", &t.customer_email(), PASSWORD).await;
    let seen = customer.get(&format!("/orders/{order}")).await;
    assert!(seen.body.contains("JD9") && seen.body.contains("Separando"), "{}", seen.body);
    assert!(!seen.body.contains(hidden) && !seen.body.contains(r#"id="actions""#));
    let denied = customer.post(&act("cancel"), &[("csrf", &seen.csrf())]).await;
    assert_eq!(denied.status, 404, "customers have no actions");
    assert_eq!(customer.get("/admin").await.status, 404);
}

#[tokio::test]
async fn the_staff_list_filters_like_the_back_office_and_exports_with_the_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    app.create_order(&t.staff, "A-2", &t.destination, Some("APPROVED")).await;
    app.company_user(&admin, &t.id, "acme", "ops@acme.test").await;
    let mut staff = Visitor::new(&app.base);
    let page = staff.get("/admin/login?company=acme").await;
    staff.post("/admin/login", &[("csrf", &page.csrf()), ("email", "ops@acme.test"), ("password", PASSWORD), ("company", "acme")]).await;

    let list = staff.get("/orders?status=INVOICED&product=chair&min=100").await;
    assert!(list.body.contains("#A-1") && !list.body.contains("#A-2"), "{}", list.body);
    let csv_link = list.body.find("orders.csv?").map(|at| &list.body[at..]).expect("export buttons");
    let query = &csv_link["orders.csv".len()..csv_link.find('"').unwrap()];
    let query = query.replace("&amp;", "&").replace("&#x2f;", "/");
    let csv = staff.get(&format!("/exports/orders.csv{query}")).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.body.contains("#A-1") && !csv.body.contains("#A-2"), "{}", csv.body);
    let bad = staff.get("/orders?min=lots").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains(r#"id="form-error""#));
    // Without a session the export is refused.
    assert_eq!(Visitor::new(&app.base).get("/exports/orders.csv").await.status, 401);
}

#[tokio::test]
async fn support_creates_a_company_and_its_user_and_secrets_are_shown_once() {
    let app = TestApp::spawn().await;
    domain::users::create_admin(&app.ctx, &domain::Actor::system("test"), "support@rastro.test", PASSWORD).await.unwrap();
    let mut support = Visitor::new(&app.base);
    let page = support.get("/support/login").await;
    assert!(!page.body.contains(r#"name="company""#), "support logs in without a company");
    let login = support.post("/support/login", &[("csrf", &page.csrf()), ("email", "support@rastro.test"), ("password", PASSWORD)]).await;
    assert_eq!(login.location().as_deref(), Some("/support"), "{}", login.body);

    let list = support.get("/support").await;
    let csrf = list.csrf();
    let wrong = support.post("/support/companies", &[("csrf", &csrf), ("identifier", "nova"), ("email", "ti@nova.test"), ("phone", "1140000000"), ("cnpj", "11.222.333/0001-00")]).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("cnpj") && wrong.body.contains(r#"value="nova""#), "the form keeps what was typed: {}", wrong.body);
    let posted = support.post("/support/companies", &[("csrf", &csrf), ("identifier", "nova"), ("email", "ti@nova.test"), ("phone", "1140000000"), ("cnpj", "11.222.333/0001-81")]).await;
    assert_eq!(posted.location().as_deref(), Some("/support/secret"), "{}", posted.body);
    let created = support.get("/support/secret").await;
    assert_eq!(created.status, 200, "{}", created.body);
    let token = secret_of(&created.body);
    // Shown once: a reload shows nothing, and rotates nothing.
    let again = support.get("/support/secret").await;
    assert_eq!(again.status, 404);
    assert!(!again.body.contains(&token));
    // The sealed cookie opens only for the session that made it.
    let posted = support.post("/support/companies", &[("csrf", &csrf), ("identifier", "outra"), ("email", "ti@outra.test"), ("phone", "1140000000"), ("cnpj", "11.444.777/0001-61")]).await;
    assert_eq!(posted.location().as_deref(), Some("/support/secret"));
    let sealed = support.cookies.get("rastro_secret").cloned().expect("the sealed secret");
    let mut other_session = Visitor::new(&app.base);
    other_session.log_in_support("support@rastro.test", PASSWORD).await;
    other_session.cookies.insert("rastro_secret".into(), sealed);
    assert_eq!(other_session.get("/support/secret").await.status, 404, "another session of the same admin");
    assert_eq!(support.get("/support/secret").await.status, 200);
    assert!(token.starts_with("rst_"));
    let company_page = continue_link(&created.body);
    assert!(company_page.starts_with("/support/companies/"), "{company_page}");
    let shown = support.get(&company_page).await;
    assert!(!shown.body.contains(&token), "the token is never shown again");
    let user = support.post(&format!("{company_page}/users"), &[("csrf", &csrf), ("email", "chefe@nova.test"), ("name", "Chefe")]).await;
    assert_eq!(user.location().as_deref(), Some("/support/secret"));
    let password = secret_of(&support.get("/support/secret").await.body);
    assert!(!support.get(&company_page).await.body.contains(&password));

    // The new user logs in with the temporary password and must change it first.
    let mut chefe = Visitor::new(&app.base);
    let page = chefe.get("/admin/login?company=nova").await;
    let login = chefe.post("/admin/login", &[("csrf", &page.csrf()), ("email", "chefe@nova.test"), ("password", &password), ("company", "nova")]).await;
    assert_eq!(login.location().as_deref(), Some("/password"));
    let blocked = chefe.get("/admin").await;
    assert_eq!(blocked.location().as_deref(), Some("/password"), "nothing else until the password is changed");
    let form = chefe.get("/password").await;
    let changed = chefe
        .post("/password", &[("csrf", &form.csrf()), ("current", &password), ("password", "Chefe-nova-2026"), ("confirm", "Chefe-nova-2026")])
        .await;
    assert_eq!(changed.location().as_deref(), Some("/admin"), "{}", changed.body);
    assert_eq!(chefe.get("/admin").await.status, 200);
    // Staff of a company never reach the support list.
    assert_eq!(chefe.get("/support").await.status, 404);

    // The integration token works, and rotating it retires it.
    assert!(domain::companies::authenticate_integration(&app.ctx, &token).await.is_ok());
    let rotated = support.post(&format!("{company_page}/token"), &[("csrf", &csrf)]).await;
    assert_eq!(rotated.location().as_deref(), Some("/support/secret"));
    let fresh = secret_of(&support.get("/support/secret").await.body);
    assert_ne!(fresh, token);
    assert!(domain::companies::authenticate_integration(&app.ctx, &token).await.is_err(), "the old token stops working");
    assert!(domain::companies::authenticate_integration(&app.ctx, &fresh).await.is_ok());
    // Deactivating the company ends its staff's sessions at once.
    let off = support.post(&format!("{company_page}/active"), &[("csrf", &csrf), ("active", "false")]).await;
    assert_eq!(off.status, 303);
    assert_eq!(chefe.get("/admin").await.status, 303, "logged out");
}
