//! The company's mail settings in the portal: SMTP with a write-only password
//! and the test button (through a relay that requires STARTTLS and AUTH, with
//! the password stored encrypted), the notification rules, and templates
//! with their preview.

use std::time::Duration;

use serde_json::json;
use tests::{portal::Visitor, smtp::SmtpServer, TestApp, PASSWORD};

async fn staff_of(app: &TestApp, admin: &str, company: &str, id: &str) -> Visitor {
    let email = format!("ops@{company}.test");
    app.company_user(admin, id, company, &email).await;
    let mut staff = Visitor::new(&app.base);
    staff.log_in(company, &email, PASSWORD).await;
    staff
}

/// POSTs a form whose values are owned strings.
async fn post(visitor: &mut Visitor, path: &str, form: Vec<(&'static str, String)>) -> tests::portal::Answer {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    visitor.post(path, &fields).await
}

#[tokio::test]
async fn smtp_settings_keep_their_password_unseen_and_the_test_button_sends_through_them() {
    let relay = SmtpServer::start_secure("mailer", "relay-secret-9f2");
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let mut staff = staff_of(&app, &admin, "acme", &t.id).await;
    let page = staff.get("/admin/mail").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf();
    let port = relay.port.to_string();
    let form = [
        ("csrf", csrf.as_str()), ("host", "127.0.0.1"), ("port", &port), ("security", "STARTTLS"), ("username", "mailer"),
        ("password", "relay-secret-9f2"), ("from_address", "pedidos@acme.test"), ("from_name", "Acme"), ("reply_to", ""),
    ];
    let saved = staff.post("/admin/mail/smtp", &form).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains(r#"id="password-state">Há uma senha guardada"#), "{}", saved.body);
    assert!(!saved.body.contains("relay-secret-9f2"), "the password is never shown");
    assert!(!tests::database_contains(&app, "relay-secret-9f2").await, "nor stored in clear");

    // Saved again with the password left blank: the stored one is kept and used.
    let mut keep = form;
    keep[5] = ("password", "");
    assert_eq!(staff.post("/admin/mail/smtp", &keep).await.status, 200);
    let tested = staff.post("/admin/mail/test", &[("csrf", &csrf), ("to", "ti@acme.test")]).await;
    assert!(tested.body.contains(r#"class="notice" role="status" id="note">Enviado"#), "{}", tested.body);
    let mails = relay.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails[0].envelope_to, ["ti@acme.test"]);

    // A refusal is shown in words; a bad port is the form's error.
    let bad = staff.post("/admin/mail/smtp", &[("csrf", &csrf), ("host", "127.0.0.1"), ("port", "lots"), ("security", "TLS"), ("from_address", "a@acme.test")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains(r#"id="note""#));
    let forged = staff.post("/admin/mail/smtp", &[("csrf", "x"), ("host", "evil.example"), ("port", "25"), ("security", "NONE"), ("from_address", "a@acme.test")]).await;
    assert_eq!(forged.status, 403);
    assert!(bad.body.contains(r#"id="host" name="host" required maxlength="253" value="127.0.0.1""#), "what was typed stays: {}", bad.body);
    let kept = app.gql(Some(&t.staff), "{ smtpSettings { host passwordSet } }", json!({})).await;
    assert_eq!(kept["data"]["smtpSettings"], json!({ "host": "127.0.0.1", "passwordSet": true }), "{kept}");

    // Another server with the password left blank: the old one is dropped, and the page says so.
    let mut moved = keep;
    moved[2] = ("port", "2525");
    let dropped = staff.post("/admin/mail/smtp", &moved).await;
    assert!(dropped.body.contains(r#"class="error" role="alert" id="note">Salvo, mas a senha"#), "{}", dropped.body);
    // Removing it, on purpose.
    let mut again = form;
    again[5] = ("password", "");
    assert!(staff.post("/admin/mail/smtp", &form).await.body.contains("Há uma senha guardada"));
    let removed = staff.post("/admin/mail/smtp", &[again.as_slice(), &[("remove_password", "1")]].concat()).await;
    assert!(removed.body.contains(r#"id="password-state">Nenhuma senha guardada"#), "{}", removed.body);
    let both = staff.post("/admin/mail/smtp", &[form.as_slice(), &[("remove_password", "1")]].concat()).await;
    assert_eq!(both.status, 400, "a new password and its removal at once");
}

#[tokio::test]
async fn the_sending_limits_are_set_on_the_mail_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let mut staff = staff_of(&app, &admin, "acme", &t.id).await;
    let page = staff.get("/admin/mail").await;
    assert!(page.body.contains(r#"id="max-connections" name="max_connections" inputmode="numeric" maxlength="2" value="4""#), "{}", page.body);
    let csrf = page.csrf();
    let form = |connections: &str, rate: &str| {
        vec![
            ("csrf", csrf.clone()), ("host", "127.0.0.1".into()), ("port", "2525".into()), ("security", "NONE".into()),
            ("from_address", "pedidos@acme.test".into()), ("max_connections", connections.into()), ("max_per_second", rate.into()),
        ]
    };
    let read = "{ smtpSettings { maxConnections maxPerSecond } }";
    let saved = post(&mut staff, "/admin/mail/smtp", form("3", "20")).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains(r#"value="3""#) && saved.body.contains(r#"value="20""#), "{}", saved.body);
    assert_eq!(app.gql(Some(&t.staff), read, json!({})).await["data"]["smtpSettings"], json!({ "maxConnections": 3, "maxPerSecond": 20 }));
    // Blank: the default connections and no rate limit.
    assert_eq!(post(&mut staff, "/admin/mail/smtp", form("", "")).await.status, 200);
    assert_eq!(app.gql(Some(&t.staff), read, json!({})).await["data"]["smtpSettings"], json!({ "maxConnections": 4, "maxPerSecond": null }));
    // Words and numbers out of range are the form's errors, with what was typed.
    for (connections, rate) in [("muitas", "1"), ("99", "1"), ("2", "-5"), ("2", "1e9")] {
        let refused = post(&mut staff, "/admin/mail/smtp", form(connections, rate)).await;
        assert_eq!(refused.status, 400, "{connections}/{rate}: {}", refused.body);
        assert!(refused.body.contains(r#"role="alert" id="note""#), "{}", refused.body);
        assert!(refused.body.contains(&format!(r#"name="max_connections" inputmode="numeric" maxlength="2" value="{connections}""#)), "{}", refused.body);
    }
    assert_eq!(app.gql(Some(&t.staff), read, json!({})).await["data"]["smtpSettings"], json!({ "maxConnections": 4, "maxPerSecond": null }));
}

#[tokio::test]
async fn rules_and_templates_are_edited_and_previewed_on_the_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let mut staff = staff_of(&app, &admin, "acme", &t.id).await;
    let csrf = staff.get("/admin/mail").await.csrf();

    let rules = staff.post("/admin/mail/rules", &[("csrf", &csrf), ("locale", "en"), ("status", "INVOICED"), ("status", "DELIVERED")]).await;
    assert_eq!(rules.status, 200, "{}", rules.body);
    let saved = app.gql(Some(&t.staff), "{ notificationRules { locale statuses } }", json!({})).await;
    assert_eq!(saved["data"]["notificationRules"], json!({ "locale": "EN", "statuses": ["INVOICED", "DELIVERED"] }), "{saved}");

    let page = staff.get("/admin/mail/templates/IN_TRANSIT").await;
    assert_eq!(page.status, 200);
    let fields = |subject: &'static str, action: &'static str| {
        vec![("csrf", csrf.clone()), ("action", action.into()), ("subject", subject.into()), ("html", "<p>Oi {{ customer_name }}</p>".into()), ("text", "Oi {{ customer_name }}: {{ track_url }}".into())]
    };
    let path = "/admin/mail/templates/IN_TRANSIT";
    let preview = post(&mut staff, path, fields("Pedido {{ order_code }} saiu", "preview")).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains(r#"id="preview-subject">Pedido #1 saiu<"#), "{}", preview.body);
    assert!(preview.body.contains("Oi Maria: https:"), "sample values, the tracking link among them: {}", preview.body);
    let before = app.gql(Some(&t.staff), "{ notificationTemplates { status custom } }", json!({})).await;
    assert!(!before.to_string().contains("true"), "a preview saves nothing: {before}");

    let saved = post(&mut staff, path, fields("Pedido {{ order_code }} saiu", "save")).await;
    assert_eq!(saved.location().as_deref(), Some("/admin/mail/templates/IN_TRANSIT"), "{}", saved.body);
    let custom = app.gql(Some(&t.staff), "{ notificationTemplates { status custom subject } }", json!({})).await;
    let in_transit = custom["data"]["notificationTemplates"].as_array().unwrap().iter().find(|t| t["status"] == "IN_TRANSIT").cloned().unwrap();
    assert_eq!(in_transit["custom"], true);

    let refused = post(&mut staff, path, fields("{{ order_code | replace('1', 'x') * 1000 }}", "save")).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains(r#"id="form-error""#), "{}", refused.body);
    assert_eq!(staff.get("/admin/mail/templates/NOPE").await.status, 404);

    // Customers have no mail settings.
    app.customer(&t.id, "acme", &t.customer_email()).await;
    let mut customer = Visitor::new(&app.base);
    customer.log_in("acme", &t.customer_email(), PASSWORD).await;
    assert_eq!(customer.get("/admin/mail").await.status, 404);
}
