//! Mail through a relay as companies really have them: STARTTLS with a
//! certificate from a private CA (`RASTRO_SMTP_CA_FILE`), and AUTH required,
//! with the password the company stored, which the server keeps encrypted and
//! decrypts only to authenticate.

use std::time::Duration;

use serde_json::json;
use tests::{smtp::SmtpServer, TestApp};

use crate::notifications::{settle, SAVE_SMTP};

/// A relay that offers AUTH without TLS (as a misconfigured or hostile server
/// would) and notes whether a client sent AUTH.
struct PlaintextAuthRelay {
    port: u16,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    auth: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl PlaintextAuthRelay {
    fn start() -> Self {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let auth = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, heard) = (connections.clone(), auth.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                seen.fetch_add(1, Ordering::SeqCst);
                let mut writer = stream.try_clone().unwrap();
                let _ = writer.write_all(b"220 plain.test ESMTP\r\n");
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let reply: &[u8] = match line.to_ascii_uppercase() {
                        l if l.starts_with("EHLO") => b"250-plain.test\r\n250 AUTH PLAIN LOGIN\r\n",
                        l if l.starts_with("AUTH") => {
                            heard.store(true, Ordering::SeqCst);
                            b"535 no\r\n"
                        }
                        l if l.starts_with("QUIT") => b"221 bye\r\n",
                        _ => b"250 ok\r\n",
                    };
                    let _ = writer.write_all(reply);
                }
            }
        });
        PlaintextAuthRelay { port, connections, auth }
    }

    fn heard_auth(&self) -> bool {
        self.auth.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

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

    // Without TLS the password is not sent, even to a server that asks for it
    // in clear text: the sender is refused before connecting.
    let plain = PlaintextAuthRelay::start();
    let saved = app
        .gql(Some(&t.staff), SAVE_SMTP, json!({ "i": { "host": "127.0.0.1", "port": plain.port, "security": "NONE",
            "fromAddress": "pedidos@acme.test", "username": "mailer", "password": SECRET } }))
        .await;
    assert_eq!(saved["data"]["saveSmtpSettings"]["passwordSet"], true, "{saved}");
    let refused = app.gql(Some(&t.staff), TEST_MAIL, json!({ "to": "ti@acme.test" })).await;
    assert_eq!(refused["data"]["sendTestEmail"]["success"], false, "{refused}");
    assert!(refused["data"]["sendTestEmail"]["message"].as_str().unwrap().contains("only over TLS"), "{refused}");
    assert!(!plain.heard_auth(), "the password went out in clear text");
    assert_eq!(plain.connections(), 0, "refused before connecting");

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

#[tokio::test]
async fn the_extra_ca_file_is_checked_when_the_server_starts() {
    let app = TestApp::spawn().await;
    let dir = std::env::temp_dir().join(format!("rastro-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, content: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    };
    let empty = write("empty.pem", b"not a certificate\n");
    let broken = write("broken.pem", b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
    for (path, says) in [(empty.as_str(), "no PEM certificate"), (broken.as_str(), "unreadable certificate"), ("/nonexistent/ca.pem", "No such file")] {
        let (refused, stderr) = tests::process::RastroProcess::refused_start(&app.database_url, &[("RASTRO_SMTP_CA_FILE", path)]).await;
        assert!(refused && stderr.contains("RASTRO_SMTP_CA_FILE") && stderr.contains(says), "{path}: {stderr}");
    }
    // A good one is taken.
    let good = write("good.pem", &tests::smtp::test_ca_pem());
    let server = tests::process::RastroProcess::start_with(&app.database_url, &[("RASTRO_SMTP_CA_FILE", good.as_str())]).await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
