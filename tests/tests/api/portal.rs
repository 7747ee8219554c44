//! The portal's pages over HTTP: the mail's link through first access to the
//! order, tenancy (another company's order is a missing one), CSRF, the
//! session cookie and logout, the public tracking page, and the security
//! headers. The same story in a real browser is in `browser.rs`.

use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::json;
use tests::{
    portal::{link_in, Visitor},
    smtp::SmtpServer,
    TestApp, PASSWORD,
};

use crate::notifications::{move_order, settle, use_smtp};

/// The link in a mail, pointed at the test server (mails name the public URL).
fn local(app: &TestApp, link: &str) -> String {
    link.replace("http://rastro.test", &app.base)
}

/// The seed's story up to its first mail: a company mailing through an SMTP
/// sink, its order moved to IN_SEPARATION (notified) after a comment hidden
/// from customers.
pub(crate) struct Mailed {
    pub smtp: SmtpServer,
    pub app: TestApp,
    pub admin: String,
    pub t: tests::Tenant,
    pub order: String,
    /// The hidden comment.
    pub hidden: &'static str,
    /// The status mail.
    pub mail: tests::smtp::ReceivedMail,
}

pub(crate) async fn mailed_order() -> Mailed {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let hidden = "internal note 7f3a";
    app.gql(
        Some(&t.staff),
        "mutation($id: ID!, $c: String!) { addOrderComment(id: $id, comment: $c, visibleToCustomer: false) { applied } }",
        json!({ "id": order, "c": hidden }),
    )
    .await;
    move_order(&app, &t.staff, &order, "IN_SEPARATION", true).await;
    let mail = smtp.wait_for(1, Duration::from_secs(10)).await.remove(0);
    Mailed { smtp, app, admin, t, order, hidden, mail }
}

#[tokio::test]
async fn a_customer_follows_the_mail_link_through_first_access_to_the_order() {
    let Mailed { smtp, app, t, order, hidden, mail, .. } = mailed_order().await;
    let link = link_in(&mail.text(), "http://rastro.test/orders/").expect("order link in the mail");
    assert_eq!(link, format!("http://rastro.test/orders/{order}?company=acme"));

    // Not logged in: to the login page of the mail's company, and back after.
    let mut customer = Visitor::new(&app.base);
    let first = customer.get(&local(&app, &link)).await;
    assert_eq!(first.status, 303);
    let login = first.location().expect("redirect");
    assert!(login.starts_with("/login?") && login.contains("company=acme"), "{login}");
    let page = customer.get(&login).await;
    assert!(page.body.contains(r#"name="company" value="acme""#), "the company comes from the link: {}", page.body);
    assert!(!page.body.contains(r#"id="company""#), "no company field to type");

    // First access: the e-mail is responsible for a destination, so the
    // account is created and a link mailed.
    let forgot = customer.get("/forgot-password?company=acme").await;
    let sent = customer.post("/forgot-password", &[("csrf", &forgot.csrf()), ("email", &t.customer_email()), ("company", "acme")]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains(r#"id="sent""#));
    let mails = smtp.wait_for(2, Duration::from_secs(10)).await;
    let reset = link_in(&mails[1].text(), "http://rastro.test/reset-password?token=").expect("reset link");
    let form = customer.get(&local(&app, &reset)).await;
    assert_eq!(form.status, 200);
    let token = tests::portal::value_of(&form.body, "token").expect("token field");
    let csrf = form.csrf();
    let differ = customer.post("/reset-password", &[("csrf", &csrf), ("token", &token), ("password", "Nova-senha-2026"), ("confirm", "Other-2026x")]).await;
    assert_eq!(differ.status, 400);
    let done = customer.post("/reset-password", &[("csrf", &csrf), ("token", &token), ("password", "Nova-senha-2026"), ("confirm", "Nova-senha-2026")]).await;
    assert_eq!((done.status, done.location().as_deref()), (303, Some("/orders")), "{}", done.body);
    // The form's token was of the visitor before login; a fresh visitor tries the spent link.
    let mut again = Visitor::new(&app.base);
    let csrf = again.get(&local(&app, &reset)).await.csrf();
    let spent = again.post("/reset-password", &[("csrf", &csrf), ("token", &token), ("password", "Outra-senha-2026"), ("confirm", "Outra-senha-2026")]).await;
    assert_eq!(spent.status, 400, "a reset link works once");
    assert!(spent.body.contains(r#"id="form-error""#));

    // The order page: details and the visible history, never the hidden note.
    let shown = customer.get(&local(&app, &link)).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("#A-1") && shown.body.contains("Em separação") && shown.body.contains("Office chair"));
    assert!(shown.body.contains("1.299,00"), "money in the visitor's language");
    assert!(!shown.body.contains(hidden), "a comment hidden from customers stays hidden");
    let list = customer.get("/orders").await;
    assert!(list.body.contains(&format!("/orders/{order}")) && list.body.contains(r#"id="count">1 pedido<"#), "{}", list.body);

    // The password set on the page is the account's.
    app.login(&t.customer_email(), "Nova-senha-2026", Some("acme")).await;
}

#[tokio::test]
async fn another_companys_order_answers_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "acme").await;
    let b = app.tenant(&admin, "borealis").await;
    let theirs = app.create_order(&b.staff, "B-1", &b.destination, None).await;
    let mine = app.create_order(&a.staff, "A-1", &a.destination, None).await;
    // The same e-mail is a customer of both companies, as two accounts.
    let email = a.customer_email();
    let b_place = app.create_locality(&b.staff, "STORE-2", "DESTINATION", Some(&email)).await;
    let also_theirs = app.create_order(&b.staff, "B-2", &b_place, None).await;
    app.customer(&a.id, "acme", &email).await;
    app.customer(&b.id, "borealis", &email).await;

    let mut customer = Visitor::new(&app.base);
    customer.log_in("acme", &email, PASSWORD).await;
    assert_eq!(customer.get(&format!("/orders/{mine}")).await.status, 200);
    let missing = customer.get("/orders/999999").await;
    assert_eq!(missing.status, 404);
    for id in [&theirs, &also_theirs] {
        for path in [format!("/orders/{id}"), format!("/orders/{id}/live"), format!("/orders/{id}/events")] {
            let answer = customer.get(&path).await;
            assert_eq!(answer.status, 404, "{path}");
            assert_eq!(answer.body, missing.body, "{path} looks like a missing order");
        }
    }
    let list = customer.get("/orders").await;
    assert!(list.body.contains("#A-1") && !list.body.contains("#B-"), "{}", list.body);
    // Staff of A neither.
    let mut staff = Visitor::new(&app.base);
    app.company_user(&admin, &a.id, "acme", "ops2@acme.test").await;
    staff.log_in("acme", "ops2@acme.test", PASSWORD).await;
    assert_eq!(staff.get(&format!("/orders/{theirs}")).await.status, 404);
    assert_eq!(staff.get(&format!("/orders/{mine}")).await.status, 200);
}

#[tokio::test]
async fn forms_without_their_csrf_token_change_nothing() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    app.customer(&t.id, "acme", &t.customer_email()).await;

    let mut attacker_page = Visitor::new(&app.base);
    let page = attacker_page.get("/login?company=acme").await;
    let someone_elses = page.csrf();

    let mut victim = Visitor::new(&app.base);
    let login = [("email", t.customer_email()), ("password", PASSWORD.to_owned()), ("company", "acme".to_owned())];
    for csrf in ["", "0123456789abcdef0123456789abcdef", &someone_elses] {
        let mut form: Vec<(&str, &str)> = login.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("csrf", csrf));
        let refused = victim.post("/login", &form).await;
        assert_eq!(refused.status, 403, "csrf {csrf:?}");
        assert!(!victim.cookies.contains_key("rastro_session"));
    }
    let forgot = victim.post("/forgot-password", &[("csrf", "x"), ("email", &t.customer_email()), ("company", "acme")]).await;
    assert_eq!(forgot.status, 403);
    let tokens = entities::password_reset_token::Entity::find().all(&app.db).await.unwrap();
    assert!(tokens.is_empty(), "no reset was asked for");

    // Logged in: logout needs the session's own token.
    victim.log_in("acme", &t.customer_email(), PASSWORD).await;
    let refused = victim.post("/logout", &[("csrf", &someone_elses)]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(victim.get("/orders").await.status, 200, "still logged in");
    // A missing field is a clear 4xx, not a crash.
    let bad = victim.post("/logout", &[]).await;
    assert!((400..500).contains(&bad.status), "{}", bad.status);
    settle(&app).await;
    assert!(smtp.mails().is_empty());
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_and_cookies_are_httponly() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    app.customer(&t.id, "acme", &t.customer_email()).await;
    let mut customer = Visitor::new(&app.base);
    let page = customer.get("/login?company=acme").await;
    for cookie in page.set_cookies() {
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    }
    let csrf = page.csrf();
    let login = customer.post("/login", &[("csrf", &csrf), ("email", &t.customer_email()), ("password", PASSWORD), ("company", "acme")]).await;
    let session_cookie = login.set_cookies().into_iter().find(|c| c.starts_with("rastro_session=")).expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(session_cookie.contains(flag), "{flag} in {session_cookie}");
    }
    assert!(!session_cookie.contains("Secure"), "the test server's public URL is http");
    let stolen = customer.cookies["rastro_session"].clone();
    let orders = customer.get("/orders").await;
    assert_eq!(orders.status, 200);
    let out = customer.post("/logout", &[("csrf", &orders.csrf())]).await;
    assert_eq!((out.status, out.location().as_deref()), (303, Some("/login?company=acme")));
    assert!(!customer.cookies.contains_key("rastro_session"), "the cookie is cleared");

    // The old cookie, replayed, is dead: the session ended server-side.
    let mut replay = Visitor::new(&app.base);
    replay.cookies.insert("rastro_session".into(), stolen.clone());
    let answer = replay.get("/orders").await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert!(answer.location().unwrap_or_default().starts_with("/login"));
    let (status, graphql) = app.gql_raw(Some(&stolen), &json!({ "query": "{ me { email } }" })).await;
    assert_eq!((status, tests::error_code(&graphql)), (401, Some("UNAUTHENTICATED")), "{graphql}");
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_follow_only_local_paths_after_login() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    app.customer(&t.id, "acme", &t.customer_email()).await;
    let mut visitor = Visitor::new(&app.base);
    for path in ["/login", "/forgot-password", "/reset-password?token=x", "/track/1.00", "/orders/1", "/assets/portal.js"] {
        let answer = visitor.get(path).await;
        let csp = answer.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(answer.headers.get("referrer-policy").and_then(|v| v.to_str().ok()), Some("no-referrer"), "{path}");
    }
    let page = visitor.get("/login").await;
    assert!(!page.body.contains("<script>") && !page.body.contains(" style="), "no inline script or style");

    for (next, to) in [("//evil.example/x", "/orders"), ("https://evil.example", "/orders"), ("/orders?code=A", "/orders?code=A")] {
        let mut v = Visitor::new(&app.base);
        let csrf = v.get("/login?company=acme").await.csrf();
        let form = [("csrf", csrf.as_str()), ("email", &t.customer_email()), ("password", PASSWORD), ("company", "acme"), ("next", next)];
        let answer = v.post("/login", &form).await;
        assert_eq!(answer.location().as_deref(), Some(to), "next={next}");
    }

    // English by Accept-Language; Portuguese by default; the switch remembers.
    let mut english = Visitor::new(&app.base);
    english.language = Some("en-US,en;q=0.9".into());
    assert!(english.get("/login").await.body.contains("Log in"));
    assert!(Visitor::new(&app.base).get("/login").await.body.contains("Entrar"));
    let switched = english.get("/language?to=pt-BR&next=/login").await;
    assert_eq!(switched.location().as_deref(), Some("/login"));
    assert!(english.get("/login").await.body.contains("Entrar"));
}

#[tokio::test]
async fn wrong_passwords_on_the_page_are_throttled_like_the_api() {
    let app = TestApp::spawn_with(|c| c.rates.sensitive_per_ip = api::ratelimit::Rate::new(1, 3)).await;
    let admin = app.admin().await;
    app.tenant(&admin, "acme").await;
    let mut visitor = Visitor::new(&app.base);
    let csrf = visitor.get("/login?company=acme").await.csrf();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let form = [("csrf", csrf.as_str()), ("email", "nobody@acme.test"), ("password", "Wrong-2026xx"), ("company", "acme")];
        statuses.push(visitor.post("/login", &form).await.status);
    }
    assert_eq!(statuses[0], 401);
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
}

#[tokio::test]
async fn the_public_tracking_page_shows_no_personal_data_and_its_link_can_be_revoked() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let shipment = json!({ "carrier": "jadlog", "title": "Jadlog Expresso", "trackingNumber": "JD123", "trackingUrl": "https://jadlog.example/JD123" });
    let shipped = app
        .gql(
            Some(&t.staff),
            "mutation($id: ID!, $s: ShipmentInput!) { addShipment(id: $id, shipment: $s, notifyCustomer: true) { applied } }",
            json!({ "id": order, "s": shipment }),
        )
        .await;
    assert_eq!(shipped["data"]["addShipment"]["applied"], true, "{shipped}");
    let mail = &smtp.wait_for(1, Duration::from_secs(10)).await[0];
    let link = link_in(&mail.text(), "http://rastro.test/track/").expect("a tracking link in the mail");
    assert!(mail.html().contains(&format!("href=\"{link}\"")), "{}", mail.html());

    let mut anyone = Visitor::new(&app.base);
    let page = anyone.get(&local(&app, &link)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in ["#A-1", "Em trânsito", "Jadlog Expresso", "JD123", "São Paulo – SP"] {
        assert!(page.body.contains(shown), "{shown} in {}", page.body);
    }
    let timeline = &page.body[page.body.find(r#"id="history""#).expect("the timeline")..];
    assert!(timeline.contains("Nota fiscal emitida") && timeline.contains("Em trânsito"), "every change customers saw: {timeline}");
    for personal in ["Maria Souza", "customer@acme.test", "Responsible", "Office chair", "1.299", "STORE-1", "Locality"] {
        assert!(!page.body.contains(personal), "{personal} leaked: {}", page.body);
    }
    // Forged and truncated links are one 404.
    let last = if link.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &link[..link.len() - 1]);
    for bad in [forged, format!("http://rastro.test/track/{order}"), "http://rastro.test/track/x.y".into(), format!("http://rastro.test/track/{}", "9".repeat(5000))] {
        assert_eq!(anyone.get(&local(&app, &bad)).await.status, 404, "{bad}");
    }

    // Revoked: the old link dies, the new one works.
    let revoked = app.gql(Some(&t.staff), "mutation($id: ID!) { revokeTrackingLink(id: $id) }", json!({ "id": order })).await;
    let fresh = revoked["data"]["revokeTrackingLink"].as_str().unwrap_or_else(|| panic!("{revoked}")).to_owned();
    assert_ne!(fresh, link);
    assert_eq!(anyone.get(&local(&app, &link)).await.status, 404);
    assert_eq!(anyone.get(&local(&app, &fresh)).await.status, 200);
    // Another company cannot revoke it.
    let other = app.tenant(&admin, "borealis").await;
    let refused = app.gql(Some(&other.staff), "mutation($id: ID!) { revokeTrackingLink(id: $id) }", json!({ "id": order })).await;
    assert_eq!(tests::error_code(&refused), Some("NOT_FOUND"), "{refused}");
    assert_eq!(anyone.get(&local(&app, &fresh)).await.status, 200);

    // Anonymized: nothing shows.
    let erased = app.gql(Some(&t.staff), "mutation($id: ID!) { anonymizeOrder(id: $id) { orders } }", json!({ "id": order })).await;
    assert!(erased["data"]["anonymizeOrder"].is_object(), "{erased}");
    assert_eq!(anyone.get(&local(&app, &fresh)).await.status, 404);
}
