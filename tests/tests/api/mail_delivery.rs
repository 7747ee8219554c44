//! How the mail worker drives a company's SMTP server: no more connections
//! than the company allows, reused from mail to mail, no faster than its
//! rate, a new connection when the server ends a session, and TLS from the
//! first byte (port 465) as well as STARTTLS.

use std::time::Duration;

use entities::{notification, notification_attempt, NotificationState};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{
    error_code,
    smtp::{pending_mail, MeteredRelay, RelayRules, SmtpServer},
    TestApp, Tenant,
};

use crate::notifications::settle;

const SAVE: &str = "mutation($i: SmtpSettingsInput!) { saveSmtpSettings(input: $i) { maxConnections maxPerSecond } }";
const READ: &str = "{ smtpSettings { host maxConnections maxPerSecond } }";

fn settings(port: u16, limits: Value) -> Value {
    let mut input = json!({ "host": "127.0.0.1", "port": port, "security": "NONE", "fromAddress": "pedidos@acme.test" });
    input.as_object_mut().unwrap().extend(limits.as_object().unwrap().clone());
    json!({ "i": input })
}

/// Queues `count` mails of the tenant, due now, as the outbox holds them.
async fn queue(app: &TestApp, t: &Tenant, count: usize) {
    let recipients: Vec<String> = (0..count).map(|n| format!("cliente{n}@acme.test")).collect();
    queue_to(app, t, &recipients).await;
}

/// Queues a mail of the tenant to each of `recipients`, due now.
async fn queue_to(app: &TestApp, t: &Tenant, recipients: &[String]) {
    let company_id = t.id.parse().unwrap();
    let rows = recipients.iter().enumerate().map(|(n, to)| pending_mail(company_id, to, &format!("Pedido #{n}"), &format!("Pedido #{n} a caminho.")));
    notification::Entity::insert_many(rows).exec_without_returning(&app.db).await.unwrap();
}

/// Every queued mail was sent in one attempt.
async fn all_sent_once(app: &TestApp, count: u64) {
    let sent = notification::Entity::find()
        .filter(notification::Column::State.eq(NotificationState::Sent))
        .filter(notification::Column::Attempts.eq(1))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(sent, count, "every mail sent, in one attempt");
    let attempts = notification_attempt::Entity::find().filter(notification_attempt::Column::Succeeded.eq(true)).count(&app.db).await.unwrap();
    assert_eq!(attempts, count, "one successful attempt recorded each");
}

/// A second worker beside the server's, as a second server process runs
/// one: among other things, it writes off every claim found past its lease.
fn other_worker(app: &TestApp) -> tokio::task::JoinHandle<()> {
    let ctx = app.ctx.clone();
    tokio::spawn(async move {
        let mut worker = domain::notifications::worker::Worker::default();
        loop {
            let _ = worker.round(&ctx).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// A company, `acme`, whose mails go to the relay on `port` with `limits`.
async fn sending_to(app: &TestApp, port: u16, limits: Value) -> Tenant {
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let saved = app.gql(Some(&t.staff), SAVE, settings(port, limits)).await;
    assert!(saved["data"]["saveSmtpSettings"].is_object(), "{saved}");
    t
}

/// Delivers `count` mails of a company sending through `relay` with
/// `limits` while [`other_worker`] writes off claims past their lease, and
/// checks that each arrived once and is `SENT` after one attempt.
async fn sent_once_beside_a_second_worker(app: &TestApp, relay: &MeteredRelay, limits: Value, count: usize) {
    let t = sending_to(app, relay.port, limits).await;
    queue(app, &t, count).await;
    let other = other_worker(app);
    settle(app).await;
    other.abort();
    assert_eq!(relay.arrivals().len(), count, "each mail arrived once");
    all_sent_once(app, count as u64).await;
}

#[tokio::test]
async fn the_sending_limits_are_checked_and_kept_by_each_save() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let first = app.gql(Some(&t.staff), SAVE, settings(2525, json!({}))).await;
    assert_eq!(first["data"]["saveSmtpSettings"], json!({ "maxConnections": 4, "maxPerSecond": null }), "defaults: {first}");
    let set = app.gql(Some(&t.staff), SAVE, settings(2525, json!({ "maxConnections": 2, "maxPerSecond": 50 }))).await;
    assert_eq!(set["data"]["saveSmtpSettings"], json!({ "maxConnections": 2, "maxPerSecond": 50 }), "{set}");
    let kept = app.gql(Some(&t.staff), SAVE, settings(2526, json!({}))).await;
    assert_eq!(kept["data"]["saveSmtpSettings"], json!({ "maxConnections": 2, "maxPerSecond": 50 }), "omitted, kept: {kept}");
    let unlimited = app.gql(Some(&t.staff), SAVE, settings(2526, json!({ "maxPerSecond": 0 }))).await;
    assert_eq!(unlimited["data"]["saveSmtpSettings"], json!({ "maxConnections": 2, "maxPerSecond": null }), "{unlimited}");

    for (field, value) in [("maxConnections", 0), ("maxConnections", -1), ("maxConnections", 33), ("maxPerSecond", -1), ("maxPerSecond", 10_001), ("maxPerSecond", i32::MAX)] {
        let refused = app.gql(Some(&t.staff), SAVE, settings(2600, json!({ field: value }))).await;
        assert_eq!(error_code(&refused), Some("VALIDATION"), "{field} = {value}: {refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], field, "{refused}");
    }
    let stored = app.gql(Some(&t.staff), READ, json!({})).await;
    assert_eq!(stored["data"]["smtpSettings"], json!({ "host": "127.0.0.1", "maxConnections": 2, "maxPerSecond": null }), "nothing of a refused save: {stored}");
    let customer = app.gql(None, READ, json!({})).await;
    assert!(customer["data"].is_null() || customer["data"]["smtpSettings"].is_null(), "{customer}");
}

#[tokio::test]
async fn mails_share_the_connections_the_company_allows_and_reuse_them() {
    let relay = MeteredRelay::start(RelayRules::default());
    let app = TestApp::spawn().await;
    let t = sending_to(&app, relay.port, json!({ "maxConnections": 2 })).await;
    queue(&app, &t, 40).await;
    settle(&app).await;
    assert_eq!(relay.arrivals().len(), 40, "each mail arrived once");
    assert_eq!(relay.most_open(), 2, "both connections used, never a third");
    assert_eq!(relay.opened(), 2, "and kept from mail to mail");
    assert_eq!(relay.heard("NOOP"), 0, "a connection that just delivered is used without a check");
    all_sent_once(&app, 40).await;
}

#[tokio::test]
async fn a_relay_that_ends_sessions_gets_the_next_mail_on_a_new_connection() {
    let relay = MeteredRelay::start(RelayRules { mails_per_session: Some(5), ..RelayRules::default() });
    let app = TestApp::spawn().await;
    let t = sending_to(&app, relay.port, json!({ "maxConnections": 1 })).await;
    queue(&app, &t, 12).await;
    settle(&app).await;
    assert_eq!(relay.arrivals().len(), 12, "each mail arrived once");
    assert_eq!(relay.opened(), 3, "five mails a session");
    all_sent_once(&app, 12).await;
}

#[tokio::test]
async fn a_company_rate_spreads_its_mails_over_time() {
    let relay = MeteredRelay::start(RelayRules::default());
    let app = TestApp::spawn().await;
    let t = sending_to(&app, relay.port, json!({ "maxConnections": 8, "maxPerSecond": 10 })).await;
    queue(&app, &t, 25).await;
    settle(&app).await;
    let arrivals = relay.arrivals();
    assert_eq!(arrivals.len(), 25);
    // A second's worth at once, then one every 100 ms: the last 15 take at
    // least 1.5 s. Only the lower bound is certain on a busy machine.
    let spread = arrivals[24].duration_since(arrivals[0]);
    assert!(spread >= Duration::from_millis(1_300), "25 mails at 10 a second arrived within {spread:?}");
    all_sent_once(&app, 25).await;
}

#[tokio::test]
async fn mail_goes_out_over_tls_from_the_first_byte_to_a_relay_vouched_for() {
    let relay = SmtpServer::start_implicit_tls();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let mut input = settings(relay.port, json!({}));
    input["i"]["security"] = json!("TLS");
    app.gql(Some(&t.staff), SAVE, input.clone()).await;
    let test = app.gql(Some(&t.staff), "mutation { sendTestEmail(to: \"ti@acme.test\") { success message } }", json!({})).await;
    assert_eq!(test["data"]["sendTestEmail"]["success"], true, "{test}");
    queue(&app, &t, 3).await;
    settle(&app).await;
    let mails = relay.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 4, "the test mail and three more");

    // A server that trusts only the public roots refuses the relay's certificate.
    let strict = TestApp::spawn_with(|c| c.mail.extra_root_certificates.clear()).await;
    let admin = strict.admin().await;
    let t = strict.tenant(&admin, "acme").await;
    strict.gql(Some(&t.staff), SAVE, input).await;
    let refused = strict.gql(Some(&t.staff), "mutation { sendTestEmail(to: \"ti@acme.test\") { success message } }", json!({})).await;
    assert_eq!(refused["data"]["sendTestEmail"]["success"], false, "{refused}");
    assert!(refused["data"]["sendTestEmail"]["message"].as_str().unwrap().to_lowercase().contains("certificate"), "{refused}");
    assert_eq!(relay.mails().len(), 4, "nothing more got through");
}

#[tokio::test]
async fn a_refused_recipient_is_not_tried_again_on_another_connection() {
    let relay = MeteredRelay::start(RelayRules { refused: Some("recusado"), ..RelayRules::default() });
    let app = TestApp::spawn().await;
    let t = sending_to(&app, relay.port, json!({ "maxConnections": 1 })).await;
    queue_to(&app, &t, &["um@acme.test".into(), "recusado@acme.test".into(), "tres@acme.test".into()]).await;
    settle(&app).await;
    assert_eq!(relay.arrivals().len(), 2);
    assert_eq!(relay.heard("RCPT TO:<RECUSADO@ACME.TEST>"), 1, "a refusal is not a closed session");
    let failed = notification::Entity::find().filter(notification::Column::State.eq(NotificationState::Failed)).all(&app.db).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].recipient.as_str(), failed[0].attempts), ("recusado@acme.test", 1));
    assert!(failed[0].last_error.as_deref().unwrap_or_default().contains("550"), "{:?}", failed[0].last_error);
}

#[tokio::test]
async fn an_idle_connection_is_checked_before_use_and_closed_after_the_idle_limit() {
    let relay = MeteredRelay::start(RelayRules::default());
    let app = TestApp::spawn_with(|c| c.mail.smtp_idle = Duration::from_secs(5)).await;
    let t = sending_to(&app, relay.port, json!({})).await;
    queue(&app, &t, 1).await;
    settle(&app).await;
    assert_eq!(relay.open(), 1, "kept open for the next mail");
    // Idle long enough to be checked, not long enough to be closed.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    queue(&app, &t, 1).await;
    settle(&app).await;
    assert_eq!((relay.opened(), relay.heard("NOOP")), (1, 1), "the same connection, checked first");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while relay.open() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!((relay.open(), relay.heard("QUIT")), (0, 1), "closed with a goodbye once idle past the limit");
    all_sent_once(&app, 2).await;
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced() {
    let relay = MeteredRelay::start(RelayRules { idle_close: Some(Duration::from_millis(500)), ..RelayRules::default() });
    let app = TestApp::spawn().await;
    let t = sending_to(&app, relay.port, json!({})).await;
    queue(&app, &t, 1).await;
    settle(&app).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(relay.open(), 0, "the server hung up");
    queue(&app, &t, 1).await;
    settle(&app).await;
    assert_eq!(relay.opened(), 2);
    all_sent_once(&app, 2).await;
}

#[tokio::test]
async fn a_mail_whose_lease_would_run_out_before_its_turn_is_given_back_untried() {
    let relay = MeteredRelay::start(RelayRules::default());
    // Two seconds to send in (twice the SMTP timeout) out of a four-second lease.
    let app = TestApp::spawn_with(|c| {
        c.mail.lease = Duration::from_secs(4);
        c.mail.smtp_timeout = Duration::from_secs(1);
    })
    .await;
    // A mail still waiting for its turn when its lease runs out must already
    // be back in the queue, not sent late and written off.
    sent_once_beside_a_second_worker(&app, &relay, json!({ "maxConnections": 1, "maxPerSecond": 1 }), 6).await;
}

#[tokio::test]
async fn no_mail_starts_out_when_its_send_could_outlive_the_lease() {
    // Each mail takes the relay 1.6 s; the SMTP timeout is 2 s, so a send
    // needs up to 4 s of a 6-second lease: the first two of a round go out
    // (6 and 4.4 s left), the third (2.8 s left) goes back to the queue.
    let relay = MeteredRelay::start(RelayRules { delay: Some(Duration::from_millis(1_600)), ..RelayRules::default() });
    let app = TestApp::spawn_with(|c| {
        c.mail.lease = Duration::from_secs(6);
        c.mail.smtp_timeout = Duration::from_secs(2);
    })
    .await;
    // A send that began too late would end after its lease, written off.
    sent_once_beside_a_second_worker(&app, &relay, json!({ "maxConnections": 1 }), 4).await;
}
