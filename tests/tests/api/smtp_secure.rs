//! Mail through a relay as companies really have them: STARTTLS with a
//! certificate from a private CA (`RASTRO_SMTP_CA_FILE`), and AUTH required,
//! with the password the company stored, which the server keeps encrypted and
//! decrypts only to authenticate.

use std::time::Duration;

use serde_json::json;
use tests::{smtp::SmtpServer, TestApp};

use crate::notifications::{settle, SAVE_SMTP};

const TEST_MAIL: &str = "mutation($to: String!) { sendTestEmail(to: $to) { success message } }";
const SECRET: &str = "Relay-secret-2026";

#[tokio::test]
async fn mail_goes_out_over_starttls_authenticated_with_the_stored_password() {
    let relay = SmtpServer::start_secure("mailer", SECRET);
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let settings = |security: &str, password: Option<&str>| {
        json!({ "i": { "host": "127.0.0.1", "port": relay.port, "security": security, "fromAddress": "pedidos@acme.test",
            "username": "mailer", "password": password } })
    };
    let saved = app.gql(Some(&t.staff), SAVE_SMTP, settings("START_TLS", Some(SECRET))).await;
    assert_eq!(saved["data"]["saveSmtpSettings"]["passwordSet"], true, "{saved}");
    assert!(!tests::database_contains(&app, SECRET).await, "the password is stored in plain text");

    // The test mail and a customer's status mail, each authenticated over TLS
    // (the relay offers AUTH only after STARTTLS).
    let test = app.gql(Some(&t.staff), TEST_MAIL, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(test["data"]["sendTestEmail"]["success"], true, "{test}");
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    crate::notifications::move_order(&app, &t.staff, &order, "IN_SEPARATION", true).await;
    let mails = relay.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().all(|m| m.authenticated_as.as_deref() == Some("mailer")), "{mails:?}");
    assert_eq!(mails[1].envelope_to, [t.customer_email()]);

    // Without TLS the relay offers no AUTH, so the password never travels in
    // clear text and the relay refuses the mail.
    let plain = app.gql(Some(&t.staff), SAVE_SMTP, settings("NONE", None)).await;
    assert_eq!(plain["data"]["saveSmtpSettings"]["passwordSet"], true, "the password is kept when omitted: {plain}");
    let refused = app.gql(Some(&t.staff), TEST_MAIL, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(refused["data"]["sendTestEmail"]["success"], false, "{refused}");

    // A wrong password is the relay's refusal, in words.
    app.gql(Some(&t.staff), SAVE_SMTP, settings("START_TLS", Some("not-the-password"))).await;
    let wrong = app.gql(Some(&t.staff), TEST_MAIL, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(wrong["data"]["sendTestEmail"]["success"], false, "{wrong}");
    assert!(wrong["data"]["sendTestEmail"]["message"].as_str().unwrap().contains("535"), "{wrong}");
    settle(&app).await;
    assert_eq!(relay.mails().len(), 2, "nothing more got through");
}

#[tokio::test]
async fn a_relay_whose_certificate_nobody_vouches_for_is_refused() {
    let relay = SmtpServer::start_secure("mailer", SECRET);
    // This server trusts only the public roots.
    let app = TestApp::spawn_with(|c| c.mail.extra_root_certificates.clear()).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let saved = app
        .gql(Some(&t.staff), SAVE_SMTP, json!({ "i": { "host": "127.0.0.1", "port": relay.port, "security": "START_TLS",
            "fromAddress": "pedidos@acme.test", "username": "mailer", "password": SECRET } }))
        .await;
    assert!(saved["data"]["saveSmtpSettings"].is_object(), "{saved}");
    let test = app.gql(Some(&t.staff), TEST_MAIL, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(test["data"]["sendTestEmail"]["success"], false, "{test}");
    let message = test["data"]["sendTestEmail"]["message"].as_str().unwrap().to_lowercase();
    assert!(message.contains("certificate"), "{message}");
    assert!(relay.mails().is_empty());
}
