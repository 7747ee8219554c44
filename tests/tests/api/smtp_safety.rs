//! SMTP settings cannot be turned against the platform: no internal hosts
//! (SSRF), the stored password never follows a change of server, a test mail
//! cannot hold a request, and the SQLite files are the owner's only.

use std::{
    io::Read,
    net::TcpListener,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use tests::{error_code, smtp::SmtpServer, TestApp, Tenant};

const SAVE_SMTP: &str = "mutation($i: SmtpSettingsInput!) { saveSmtpSettings(input: $i) { host port passwordSet } }";
const TEST_MAIL: &str = "mutation($to: String!) { sendTestEmail(to: $to) { success message } }";

async fn save(app: &TestApp, t: &Tenant, host: &str, port: u16, password: Option<&str>) -> Value {
    app.gql(
        Some(&t.staff),
        SAVE_SMTP,
        json!({ "i": { "host": host, "port": port, "security": "NONE", "fromAddress": "pedidos@acme.test", "username": password.map(|_| "mailer"), "password": password } }),
    )
    .await
}

async fn stored(app: &TestApp) -> Vec<entities::smtp_settings::Model> {
    use sea_orm::EntityTrait;
    entities::smtp_settings::Entity::find().all(&app.db).await.unwrap()
}

#[tokio::test]
async fn internal_smtp_hosts_are_refused_unless_the_operator_allows_them() {
    let app = TestApp::spawn_with(|c| c.mail.allow_private_smtp = false).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    for host in ["127.0.0.1", "localhost", "10.0.0.1", "169.254.169.254", "[::1]", "100.64.1.1", "192.168.0.10", "[fd00:ec2::254]", "0.0.0.0"] {
        let body = save(&app, &t, host, 25, Some("secret")).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{host}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "host", "{host}: {body}");
    }
    assert!(stored(&app).await.is_empty(), "nothing was saved");

    // Settings that became internal after they were saved (a DNS answer that
    // changed, rows from before this check) are refused right before
    // connecting: the SMTP server on 127.0.0.1 never hears from us.
    let sink = SmtpServer::start();
    {
        use sea_orm::{ActiveModelTrait, Set};
        entities::smtp_settings::ActiveModel {
            company_id: Set(t.id.parse().unwrap()),
            host: Set("127.0.0.1".into()),
            port: Set(i32::from(sink.port)),
            security: Set(entities::SmtpSecurity::None),
            username: Set(None),
            password_encrypted: Set(None),
            from_address: Set("pedidos@acme.test".into()),
            from_name: Set(None),
            reply_to: Set(None),
            max_connections: Set(4),
            max_per_second: Set(None),
            updated_at: Set(chrono::Utc::now()),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let body = app.gql(Some(&t.staff), TEST_MAIL, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(body["data"]["sendTestEmail"]["success"], false, "{body}");
    assert!(body["data"]["sendTestEmail"]["message"].as_str().unwrap().contains("not allowed"), "{body}");
    // The refusal is the answer: the call connected nowhere before it.
    assert!(sink.mails().is_empty(), "the internal server got mail");
}

#[tokio::test]
async fn the_operator_may_allow_internal_smtp_hosts() {
    // The tests' own configuration allows them (their SMTP sink is local).
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let sink = SmtpServer::start();
    let body = save(&app, &t, "127.0.0.1", sink.port, None).await;
    assert_eq!(body["data"]["saveSmtpSettings"]["host"], "127.0.0.1", "{body}");
    let sent = app.gql(Some(&t.staff), TEST_MAIL, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(sent["data"]["sendTestEmail"]["success"], true, "{sent}");
}

#[tokio::test]
async fn changing_the_smtp_server_drops_the_stored_password() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let password_set = |body: &Value| body["data"]["saveSmtpSettings"]["passwordSet"].clone();

    assert_eq!(password_set(&save(&app, &t, "127.0.0.1", 2525, Some("s3cret")).await), true);
    assert_eq!(password_set(&save(&app, &t, "127.0.0.1", 2525, None).await), true, "same server keeps it");
    let moved = save(&app, &t, "localhost", 2525, None).await;
    assert_eq!(password_set(&moved), false, "a new host drops it: {moved}");
    assert_eq!(stored(&app).await[0].password_encrypted, None);

    assert_eq!(password_set(&save(&app, &t, "localhost", 2525, Some("s3cret")).await), true);
    assert_eq!(password_set(&save(&app, &t, "localhost", 2526, None).await), false, "a new port drops it");
    assert_eq!(stored(&app).await[0].password_encrypted, None);

    let retyped = save(&app, &t, "127.0.0.1", 2527, Some("n3w")).await;
    assert_eq!(password_set(&retyped), true, "a new server with its password typed again keeps that one");
    assert!(stored(&app).await[0].password_encrypted.is_some());
}

#[tokio::test]
async fn a_test_mail_to_a_server_that_never_answers_returns_promptly() {
    // A per-step timeout far above the total, so only the total can end it.
    let app = TestApp::spawn_with(|c| {
        c.mail.smtp_timeout = Duration::from_secs(45);
        c.mail.test_email_timeout = Duration::from_secs(1);
    })
    .await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts, then says nothing: no greeting ever comes.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            let _ = held.last_mut().map(|s| s.read(&mut [0; 1]));
        }
    });
    save(&app, &t, "127.0.0.1", port, None).await;

    let started = Instant::now();
    let (test_mail, other) = tokio::join!(app.gql(Some(&t.staff), TEST_MAIL, json!({ "to": "ti@acme.test" })), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let body = app.gql(Some(&t.staff), "{ me { email } }", json!({})).await;
        (body, started.elapsed())
    });
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "sendTestEmail took {took:?}");
    assert_eq!(test_mail["data"]["sendTestEmail"]["success"], false, "{test_mail}");
    assert!(test_mail["data"]["sendTestEmail"]["message"].as_str().unwrap().contains("did not finish"), "{test_mail}");
    let (me, answered_after) = other;
    assert_eq!(me["data"]["me"]["email"], "staff@acme.test");
    assert!(answered_after < Duration::from_secs(1), "the server kept serving meanwhile: {answered_after:?}");
}

#[cfg(unix)]
#[tokio::test]
#[cfg_attr(postgres_tests, ignore = "SQLite only: its files")]
async fn the_sqlite_database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_company(&admin, "acme").await;
    let path = app.database_url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let mode = std::fs::metadata(&file).unwrap_or_else(|e| panic!("{file}: {e}")).permissions().mode();
        assert_eq!(mode & 0o077, 0, "{file} has mode {mode:o}");
    }
}
