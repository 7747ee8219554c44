//! Customer e-mails through a real SMTP server: company sender, rules and
//! templates, the outbox surviving an outage, write-only SMTP passwords,
//! test mails, resends, and password reset / first access.

use std::time::Duration;

use serde_json::{json, Value};
use tests::{
    error_code,
    smtp::{free_port, SmtpServer},
    TestApp, Tenant,
};

pub(crate) const SAVE_SMTP: &str = "mutation($i: SmtpSettingsInput!) { saveSmtpSettings(input: $i) { host port passwordSet fromAddress } }";
pub(crate) const MOVE: &str = "mutation($id: ID!, $s: OrderStatus!, $n: Boolean = false, $c: String) {
  updateOrderStatus(id: $id, status: $s, notifyCustomer: $n, comment: $c) { applied entry { id } } }";

pub(crate) async fn use_smtp(app: &TestApp, t: &Tenant, port: u16, password: Option<&str>) -> Value {
    let body = app
        .gql(
            Some(&t.staff),
            SAVE_SMTP,
            json!({ "i": { "host": "127.0.0.1", "port": port, "security": "NONE", "fromAddress": format!("pedidos@{}.test", t.identifier),
                "fromName": "Acme Logística", "replyTo": "sac@acme.test", "password": password, "username": password.map(|_| "mailer") } }),
        )
        .await;
    assert!(body["data"]["saveSmtpSettings"].is_object(), "{body}");
    body
}

pub(crate) async fn move_order(app: &TestApp, token: &str, id: &str, status: &str, notify: bool) {
    let body = app.gql(Some(token), MOVE, json!({ "id": id, "s": status, "n": notify })).await;
    assert_eq!(body["data"]["updateOrderStatus"]["applied"], true, "{body}");
}

/// Waits until no mail is waiting or being sent: every mail has its final
/// state, so what the SMTP sink holds is all it will get. Fails the test after
/// 30 s.
pub(crate) async fn settle(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let pending = domain::notifications::worker::pending(&app.db).await.unwrap();
        if pending == 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{pending} mails still waiting after 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_notified_status_change_sends_exactly_one_mail_from_the_company() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;

    move_order(&app, &t.staff, &order, "IN_SEPARATION", true).await;
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.envelope_to, [t.customer_email()]);
    assert_eq!(mail.from(), ("pedidos@acme.test".to_owned(), "Acme Logística".to_owned()));
    assert_eq!(mail.reply_to().as_deref(), Some("sac@acme.test"), "answers go where the company said");
    assert_eq!(mail.subject(), "acme: pedido #A-1 — Em separação");
    let link = format!("http://rastro.test/orders/{order}?company=acme");
    assert!(mail.text().contains(&link), "{}", mail.text());
    assert!(mail.html().contains(&format!("href=\"{link}\"")), "{}", mail.html());
    assert!(mail.text().contains("O seu pedido está sendo preparado para o envio."));

    // Not asked to notify, or a status outside the rules: no mail.
    move_order(&app, &t.staff, &order, "IN_TRANSIT", false).await;
    let other = app.create_order(&t.staff, "A-2", &t.destination, Some("APPROVED")).await;
    move_order(&app, &t.staff, &other, "INVOICED", true).await;
    // A notified change afterwards arrives alone: the two above sent nothing.
    move_order(&app, &t.staff, &order, "DELIVERED", true).await;
    settle(&app).await;
    // Every mail has its final state: the sink holds all there will be.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].subject(), "acme: pedido #A-1 — Pedido entregue");

    let listed = app
        .gql(Some(&t.staff), "query($id: ID!) { orderNotifications(orderId: $id) { kind state attempts messageId recipient lastError } }", json!({ "id": order }))
        .await;
    let list = listed["data"]["orderNotifications"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{listed}");
    assert!(list.iter().all(|n| n["state"] == "SENT" && n["attempts"] == 1 && n["lastError"].is_null()));
    assert_eq!(list[1]["messageId"], json!(format!("<{}>", mails[0].message_id())));

    // Customers cannot read the outbox.
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;
    let denied = app.gql(Some(&customer), "query($id: ID!) { orderNotifications(orderId: $id) { id } }", json!({ "id": order })).await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"));

    // An explicit resend goes out again.
    let first_id = list[1]["messageId"].clone();
    let ids = app.gql(Some(&t.staff), "query($id: ID!) { orderNotifications(orderId: $id) { id messageId } }", json!({ "id": order })).await;
    let original = ids["data"]["orderNotifications"].as_array().unwrap().iter().find(|n| n["messageId"] == first_id).unwrap()["id"].clone();
    let resent = app.gql(Some(&t.staff), "mutation($id: ID!) { resendNotification(id: $id) { kind state } }", json!({ "id": original })).await;
    assert_eq!(resent["data"]["resendNotification"]["kind"], "RESEND", "{resent}");
    let mails = smtp.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 3);
    assert_eq!(mails[2].subject(), mails[0].subject());
}

#[tokio::test]
async fn the_test_email_reaches_the_server_and_reports_a_closed_port_in_words() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let test = "mutation($to: String!) { sendTestEmail(to: $to) { success message } }";

    let before = app.gql(Some(&t.staff), test, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(error_code(&before), Some("VALIDATION"), "no settings yet: {before}");

    use_smtp(&app, &t, smtp.port, None).await;
    let ok = app.gql(Some(&t.staff), test, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(ok["data"]["sendTestEmail"]["success"], true, "{ok}");
    assert!(ok["data"]["sendTestEmail"]["message"].as_str().unwrap().starts_with("250"));
    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails[0].envelope_to, ["ti@acme.test"]);
    assert_eq!(mails[0].subject(), "Teste de e-mail do Rastro");

    use_smtp(&app, &t, free_port(), None).await;
    let refused = app.gql(Some(&t.staff), test, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(refused["data"]["sendTestEmail"]["success"], false, "{refused}");
    let message = refused["data"]["sendTestEmail"]["message"].as_str().unwrap().to_lowercase();
    assert!(message.contains("connection refused"), "{message}");

    let mut bad_host = json!({ "host": "no-such-host.invalid", "port": 25, "security": "START_TLS", "fromAddress": "a@acme.test" });
    let saved = app.gql(Some(&t.staff), SAVE_SMTP, json!({ "i": bad_host.take() })).await;
    assert_eq!(saved["data"]["saveSmtpSettings"]["host"], "no-such-host.invalid", "the settings under test are saved: {saved}");
    let unknown = app.gql(Some(&t.staff), test, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(unknown["data"]["sendTestEmail"]["success"], false, "{unknown}");
    assert!(!unknown["data"]["sendTestEmail"]["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_but_loses_and_duplicates_none() {
    let port = free_port();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, port, None).await;
    // On PostgreSQL a second server process runs its own worker on the same
    // outbox: they must share the work without sending anything twice.
    let second = if tests::on_postgres() { Some(tests::process::RastroProcess::start_with_fast_mail(&app.database_url).await) } else { None };

    let mut orders = Vec::new();
    for n in 0..100 {
        orders.push(app.create_order(&t.staff, &format!("O-{n}"), &t.destination, Some("INVOICED")).await);
    }
    for order in &orders {
        move_order(&app, &t.staff, order, "IN_SEPARATION", true).await;
    }
    // The server is down: attempts fail and are recorded.
    let mut refused = false;
    for _ in 0..100 {
        let attempts = entities::notification_attempt::Entity::find().all(&app.db).await.unwrap();
        refused = attempts.iter().any(|a| !a.succeeded && a.detail.as_deref().is_some_and(|d| d.to_lowercase().contains("refused")));
        if refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "no failed attempt was recorded during the outage");
    // The outage lasts until mails have been retried.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let states = entities::notification::Entity::find().all(&app.db).await.unwrap();
        if states.iter().filter(|n| n.attempts >= 2).count() >= 8 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "mails were not retried during the outage");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let smtp = SmtpServer::start_on(port);
    smtp.wait_for(100, Duration::from_secs(30)).await;
    settle(&app).await;
    // Every mail has its final state: the sink holds all there will be.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 100, "every mail arrives exactly once");
    let mut codes: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 100, "no mail twice");
    let states = entities::notification::Entity::find().all(&app.db).await.unwrap();
    assert!(states.iter().all(|n| n.state == entities::NotificationState::Sent), "all sent in the end");
    assert!(states.iter().filter(|n| n.attempts >= 2).count() >= 8, "mails tried during the outage were retried");
    if let Some(second) = second {
        second.stop().await;
    }
}

use sea_orm::EntityTrait;

#[tokio::test]
async fn the_smtp_password_is_write_only_and_encrypted_at_rest() {
    let secret = "Sup3r-Secret-SMTP-pass!";
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let mut responses = vec![use_smtp(&app, &t, 2525, Some(secret)).await];
    let read = app.gql(Some(&t.staff), "{ smtpSettings { host username passwordSet } }", json!({})).await;
    assert_eq!(read["data"]["smtpSettings"]["passwordSet"], true);
    responses.push(read);
    // Saving again (same server) without a password keeps it; the empty string
    // removes it. A new server drops it: see smtp_safety.rs.
    let mut keep = app
        .gql(Some(&t.staff), SAVE_SMTP, json!({ "i": { "host": "127.0.0.1", "port": 2525, "security": "NONE", "fromAddress": "a@acme.test", "username": "mailer" } }))
        .await;
    assert_eq!(keep["data"]["saveSmtpSettings"]["passwordSet"], true);
    responses.push(keep.take());
    let introspection = app.gql(None, "{ __type(name: \"SmtpSettings\") { fields { name } } }", json!({})).await;
    assert!(!introspection.to_string().contains("\"password\""), "{introspection}");
    for response in &responses {
        assert!(!response.to_string().contains(secret), "the password came back: {response}");
    }

    let stored = entities::smtp_settings::Entity::find().all(&app.db).await.unwrap();
    assert!(stored[0].password_encrypted.as_deref().is_some_and(|p| !p.contains(secret)));
    assert!(!tests::database_contains(&app, secret).await, "the password is somewhere in the database in plain text");
    // The scan itself works: it finds what is stored in plain text.
    assert!(tests::database_contains(&app, "a@acme.test").await);

    let cleared = app
        .gql(Some(&t.staff), SAVE_SMTP, json!({ "i": { "host": "127.0.0.1", "port": 2526, "security": "NONE", "fromAddress": "a@acme.test", "password": "" } }))
        .await;
    assert_eq!(cleared["data"]["saveSmtpSettings"]["passwordSet"], false);
}

#[tokio::test]
async fn mails_wait_for_the_companys_smtp_settings() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    // Held when it is queued, in the status change's own transaction.
    move_order(&app, &t.staff, &order, "IN_SEPARATION", true).await;
    let listed = app.gql(Some(&t.staff), "query($id: ID!) { orderNotifications(orderId: $id) { state lastError } }", json!({ "id": order })).await;
    let held = &listed["data"]["orderNotifications"][0];
    assert_eq!(held["state"], "HELD", "{listed}");
    assert!(held["lastError"].as_str().unwrap().contains("no SMTP settings"));

    use_smtp(&app, &t, smtp.port, None).await;
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1, "released once the sender is configured");
}

#[tokio::test]
async fn templates_are_checked_on_save_previewed_and_localised() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let save = "mutation($s: OrderStatus!, $sub: String!, $h: String!, $t: String!) {
      saveNotificationTemplate(status: $s, subject: $sub, html: $h, text: $t) { custom } }";
    let broken = app.gql(Some(&t.staff), save, json!({ "s": "IN_TRANSIT", "sub": "{{ order_code", "h": "<p>x</p>", "t": "x" })).await;
    assert_eq!(error_code(&broken), Some("VALIDATION"), "{broken}");
    assert_eq!(broken["errors"][0]["extensions"]["field"], "subject");
    let typo = app.gql(Some(&t.staff), save, json!({ "s": "IN_TRANSIT", "sub": "ok", "h": "<p>{{ custmer_name }}</p>", "t": "x" })).await;
    assert_eq!(typo["errors"][0]["extensions"]["field"], "html");

    let ok = app
        .gql(Some(&t.staff), save, json!({ "s": "IN_TRANSIT", "sub": "Pedido {{ order_code }} saiu", "h": "<p>Oi {{ customer_name }}</p>", "t": "Oi {{ customer_name }}, veja {{ order_url }}" }))
        .await;
    assert_eq!(ok["data"]["saveNotificationTemplate"]["custom"], true, "{ok}");
    let preview = "query($id: ID!, $s: OrderStatus!) { previewNotification(orderId: $id, status: $s) { to subject html text } }";
    let custom = app.gql(Some(&t.staff), preview, json!({ "id": order, "s": "IN_TRANSIT" })).await;
    assert_eq!(custom["data"]["previewNotification"]["subject"], "Pedido #A-1 saiu", "{custom}");
    assert_eq!(custom["data"]["previewNotification"]["to"], t.customer_email());
    assert_eq!(custom["data"]["previewNotification"]["html"], "<p>Oi Maria Souza</p>");

    let rules = app
        .gql(Some(&t.staff), "mutation { saveNotificationRules(locale: EN, statuses: [IN_TRANSIT, DELIVERED, DELIVERY_FAILED]) { locale statuses } }", json!({}))
        .await;
    assert_eq!(rules["data"]["saveNotificationRules"], json!({ "locale": "EN", "statuses": ["IN_TRANSIT", "DELIVERY_FAILED", "DELIVERED"] }));
    let english = app.gql(Some(&t.staff), preview, json!({ "id": order, "s": "DELIVERED" })).await;
    assert_eq!(english["data"]["previewNotification"]["subject"], "acme: order #A-1 — Delivered", "{english}");
    assert!(english["data"]["previewNotification"]["text"].as_str().unwrap().contains("Your order has been delivered."));

    let reset = app.gql(Some(&t.staff), "mutation { resetNotificationTemplate(status: IN_TRANSIT) { custom subject } }", json!({})).await;
    assert_eq!(reset["data"]["resetNotificationTemplate"]["custom"], false);
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;
    let denied = app.gql(Some(&customer), preview, json!({ "id": order, "s": "DELIVERED" })).await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"));
}

fn token_from(mail: &tests::smtp::ReceivedMail) -> String {
    let text = mail.text();
    let start = text.find("token=").expect("a reset link") + "token=".len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn forgot_password_and_first_access_mail_a_one_time_link() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let request = "mutation($e: String!, $c: String) { requestPasswordReset(email: $e, company: $c) }";
    let reset = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { accessToken user { email role } } }";

    // Unknown e-mail and unknown company: the same answer, and no mail.
    for (email, company) in [("nobody@acme.test", "acme"), (t.customer_email().as_str(), "nope")] {
        let body = app.gql(None, request, json!({ "e": email, "c": company })).await;
        assert_eq!(body, json!({ "data": { "requestPasswordReset": true } }));
    }
    // First access: the destination's responsible person has no account yet.
    let body = app.gql(None, request, json!({ "e": t.customer_email(), "c": "acme" })).await;
    assert_eq!(body, json!({ "data": { "requestPasswordReset": true } }));
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1, "only the first-access mail");
    assert_eq!(mails[0].envelope_to, [t.customer_email()]);
    assert!(mails[0].subject().starts_with("Primeiro acesso"), "{}", mails[0].subject());
    let token = token_from(&mails[0]);
    assert!(!tests::database_contains(&app, &token).await, "only the token's hash is stored");

    let weak = app.gql(None, reset, json!({ "t": token, "p": "short" })).await;
    assert_eq!(weak["errors"][0]["extensions"]["field"], "newPassword");
    let done = app.gql(None, reset, json!({ "t": token, "p": "Minha-senha-2026" })).await;
    assert_eq!(done["data"]["resetPassword"]["user"]["role"], "CUSTOMER", "{done}");
    app.login(&t.customer_email(), "Minha-senha-2026", Some("acme")).await;
    let again = app.gql(None, reset, json!({ "t": token, "p": "Outra-senha-2026" })).await;
    assert_eq!(error_code(&again), Some("VALIDATION"), "a link works once");

    // Forgot password of an existing staff account.
    app.gql(None, request, json!({ "e": format!("staff@{}.test", t.identifier), "c": "acme" })).await;
    let mails = smtp.wait_for(2, Duration::from_secs(10)).await;
    assert!(mails[1].subject().starts_with("Redefinição de senha"));
    let token = token_from(&mails[1]);
    app.gql(None, reset, json!({ "t": token, "p": "Nova-senha-2026" })).await;
    let (status, _) = app.gql_raw(Some(&t.staff), &json!({ "query": "{ me { id } }" })).await;
    assert_eq!(status, 401, "older tokens stop working after a reset");
    app.login(&format!("staff@{}.test", t.identifier), "Nova-senha-2026", Some("acme")).await;
}

/// A mail whose worker stopped mid-send (left `SENDING` past its lease) may have
/// been accepted already: it is marked failed, never sent a second time.
#[tokio::test]
async fn a_mail_interrupted_mid_send_is_not_sent_twice() {
    use sea_orm::{ActiveModelTrait, Set};
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let now = chrono::Utc::now();
    let company_id: i32 = t.id.parse().unwrap();
    let interrupted = entities::notification::ActiveModel {
        company_id: Set(Some(company_id)),
        kind: Set(entities::NotificationKind::Resend),
        recipient: Set("someone@acme.test".into()),
        subject: Set("interrupted".into()),
        html: Set("<p>x</p>".into()),
        text: Set("x".into()),
        state: Set(entities::NotificationState::Sending),
        attempts: Set(1),
        next_attempt_at: Set(now),
        lease_until: Set(Some(now - chrono::Duration::seconds(1))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let mut worker = domain::notifications::worker::Worker::default();
    worker.round(&app.ctx).await.unwrap();
    let after = entities::notification::Entity::find_by_id(interrupted.id).one(&app.db).await.unwrap().unwrap();
    assert_eq!(after.state, entities::NotificationState::Failed);
    assert!(after.last_error.unwrap().contains("outcome unknown"));
    // The round has ended and no mail waits: nothing can be on its way.
    settle(&app).await;
    assert!(smtp.mails().is_empty(), "nothing was sent again");
}

#[tokio::test]
async fn hidden_notes_stay_out_of_mails_and_visible_comments_can_be_mailed() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let hidden = app
        .gql(
            Some(&t.staff),
            "mutation($id: ID!) { updateOrderStatus(id: $id, status: IN_SEPARATION, notifyCustomer: true, visibleToCustomer: false, comment: \"customer owes us money\") { applied } }",
            json!({ "id": order }),
        )
        .await;
    assert_eq!(hidden["data"]["updateOrderStatus"]["applied"], true, "{hidden}");
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    assert!(!mails[0].text().contains("owes") && !mails[0].html().contains("owes"), "{}", mails[0].text());

    let comment = app
        .gql(Some(&t.staff), "mutation($id: ID!) { addOrderComment(id: $id, comment: \"Saiu do centro de distribuição\", notifyCustomer: true) { applied } }", json!({ "id": order }))
        .await;
    assert_eq!(comment["data"]["addOrderComment"]["applied"], true);
    let mails = smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].text().contains("Saiu do centro de distribuição"));
    // A comment without notifyCustomer mails nobody: the next mail, of a later
    // notified comment, is the third.
    app.gql(Some(&t.staff), "mutation($id: ID!) { addOrderComment(id: $id, comment: \"internal\") { applied } }", json!({ "id": order })).await;
    app.gql(Some(&t.staff), "mutation($id: ID!) { addOrderComment(id: $id, comment: \"Marker\", notifyCustomer: true) { applied } }", json!({ "id": order }))
        .await;
    let mails = smtp.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 3);
    assert!(mails[2].text().contains("Marker"), "{}", mails[2].text());
    assert!(mails.iter().all(|m| !m.text().contains("internal")));
}
