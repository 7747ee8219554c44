//! Budgets and timeouts: per-address and per-account rate limits with
//! `Retry-After`, lockouts that cannot be turned against an account's owner,
//! the header-read and request timeouts.

use std::time::Duration;

use api::ratelimit::Rate;
use serde_json::{json, Value};
use tests::{error_code, TestApp, PASSWORD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LOGIN: &str = "mutation($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, company: $c) { accessToken } }";

async fn login_from(app: &TestApp, from: &str, email: &str, password: &str, company: Option<&str>) -> (reqwest::StatusCode, Option<String>, Value) {
    let response = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("x-forwarded-for", from)
        .json(&json!({ "query": LOGIN, "variables": { "e": email, "p": password, "c": company } }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.json().await.unwrap())
}

#[tokio::test]
async fn the_graphql_endpoint_has_a_budget_per_address_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.rates.requests_per_ip = Rate::new(1, 5)).await;
    for _ in 0..5 {
        let (status, _) = app.gql_raw(None, &json!({ "query": "{ __typename }" })).await;
        assert_eq!(status, 200);
    }
    let response = app.http.post(format!("{}/graphql", app.base)).json(&json!({ "query": "{ __typename }" })).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    // A batch is charged per operation, and the health check is never charged.
    assert_eq!(app.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn logins_have_a_budget_per_address() {
    let app = TestApp::spawn_with(|c| {
        c.rates.sensitive_per_ip = Rate::new(1, 3);
        c.trusted_proxies = api::ratelimit::TrustedProxies(vec!["127.0.0.1/32".parse().unwrap()]);
    })
    .await;
    for _ in 0..3 {
        let (_, _, body) = login_from(&app, "203.0.113.5", "nobody@x.test", "wrong-password-1", None).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }
    let (status, retry_after, body) = login_from(&app, "203.0.113.5", "nobody@x.test", "wrong-password-1", None).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert_eq!(status, 200, "a resolver's refusal is a GraphQL error");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)), "Retry-After is set");
    // Another address has its own budget.
    let (_, _, body) = login_from(&app, "203.0.113.6", "nobody@x.test", "wrong-password-1", None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

/// A spent refresh token replayed over and over: each try is charged to the
/// address like a login, and only the first ends a session. A revocation
/// clears every process's remembered token checks, so a replay that ended
/// nothing must not signal one.
#[tokio::test]
async fn a_replayed_refresh_token_is_charged_and_signals_one_revocation() {
    let app = TestApp::spawn_with(|c| c.rates.sensitive_per_ip = Rate::new(1, 4)).await;
    let admin = app.admin().await;
    let (company, _) = app.create_company(&admin, "replay").await;
    app.company_user(&admin, &company, "replay", "staff@replay.test").await;
    let (other, _) = app.login_session("staff@replay.test", PASSWORD, Some("replay")).await;
    let (_, spent) = app.login_session("staff@replay.test", PASSWORD, Some("replay")).await;
    let body = app.refresh_body(&spent).await;
    assert!(body["data"]["refreshSession"]["accessToken"].is_string(), "{body}");
    // Each revocation clears the checks once here, and on PostgreSQL once
    // more when this process hears its own signal.
    let per_revocation = if tests::on_postgres() { 2 } else { 1 };
    let forgotten = || app.ctx.events.verified().forgotten();
    let settled = |expected: u64| async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while forgotten() < expected {
            assert!(tokio::time::Instant::now() < deadline, "a revocation's signal never came back");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        forgotten()
    };
    let before = forgotten();
    let body = app.refresh_body(&spent).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "reuse ends the session: {body}");
    assert_eq!(settled(before + per_revocation).await, before + per_revocation, "the reuse that ended a session");
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(error_code(&app.refresh_body(&spent).await).unwrap_or_default().to_owned());
    }
    assert!(codes.iter().any(|c| c == "RATE_LIMITED"), "replays are charged to the address: {codes:?}");
    // A revocation after them: once its signals are in, any of theirs is too.
    let body = app.gql(Some(&other), "mutation { logout }", json!({})).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    let expected = before + 2 * per_revocation;
    assert_eq!(settled(expected).await, expected, "replays that end nothing signal nothing: {codes:?}");
}

#[tokio::test]
async fn an_attacker_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = api::ratelimit::TrustedProxies(vec!["127.0.0.1/32".parse().unwrap()])).await;
    let admin = app.admin().await;
    let (company, _) = app.create_company(&admin, "lockout").await;
    app.company_user(&admin, &company, "lockout", "owner@lockout.test").await;
    let mut locked = false;
    for _ in 0..8 {
        let (_, _, body) = login_from(&app, "198.51.100.66", "owner@lockout.test", "not-the-password-9", Some("lockout")).await;
        locked |= error_code(&body) == Some("RATE_LIMITED");
    }
    assert!(locked, "the attacker's address is slowed down");
    let (_, _, body) = login_from(&app, "198.51.100.66", "owner@lockout.test", PASSWORD, Some("lockout")).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "even the right password waits out the lock from that address");
    let (_, _, body) = login_from(&app, "192.0.2.10", "owner@lockout.test", PASSWORD, Some("lockout")).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "the owner, elsewhere, logs in: {body}");
}

#[tokio::test]
async fn change_password_is_not_a_password_oracle() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (company, _) = app.create_company(&admin, "oracle").await;
    let (token, _) = app.company_user(&admin, &company, "oracle", "staff@oracle.test").await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";
    let mut codes = Vec::new();
    for n in 0..8 {
        let body = app.gql(Some(&token), change, json!({ "c": format!("guess-{n}-password"), "n": "Another-pass-2026" })).await;
        codes.push(error_code(&body).unwrap_or_default().to_owned());
    }
    assert_eq!(codes[0], "VALIDATION");
    assert!(codes.iter().any(|c| c == "RATE_LIMITED"), "guesses are slowed down: {codes:?}");
    let body = app.gql(Some(&token), change, json!({ "c": PASSWORD, "n": "Another-pass-2026" })).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "the lock holds for the right password too: {body}");
}

#[tokio::test]
async fn password_reset_requests_and_test_mails_have_per_account_budgets() {
    let app = TestApp::spawn_with(|c| c.rates.sensitive_per_account = Rate::new(1, 2)).await;
    let reset = "mutation($e: String!) { requestPasswordReset(email: $e, company: \"acme\") }";
    for _ in 0..2 {
        assert_eq!(app.gql(None, reset, json!({ "e": "victim@acme.test" })).await["data"]["requestPasswordReset"], true);
    }
    let body = app.gql(None, reset, json!({ "e": "Victim@acme.test " })).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "one mailbox cannot be flooded: {body}");
    assert_eq!(app.gql(None, reset, json!({ "e": "other@acme.test" })).await["data"]["requestPasswordReset"], true);

    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let test = "mutation { sendTestEmail(to: \"ti@acme.test\") { success } }";
    let codes: Vec<_> = futures::future::join_all((0..3).map(|_| app.gql(Some(&t.staff), test, json!({})))).await;
    assert!(codes.iter().any(|b| error_code(b) == Some("RATE_LIMITED")), "{codes:?}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = TestApp::spawn_with(|c| c.connections.header_read_timeout = Duration::from_millis(500)).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buffer = Vec::new();
    // Bounded by the test's own timeout: before the fix the connection stayed open.
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the server must close a connection whose headers never end");
    assert_eq!(app.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn a_request_that_runs_too_long_is_stopped_with_a_code() {
    // An SMTP server that accepts and never greets holds `sendTestEmail`.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let app = TestApp::spawn_with(|c| c.request_timeout = Duration::from_millis(700)).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "slow").await;
    let save = "mutation($i: SmtpSettingsInput!) { saveSmtpSettings(input: $i) { host } }";
    let saved = app.gql(Some(&t.staff), save, json!({ "i": { "host": "127.0.0.1", "port": port, "security": "NONE", "fromAddress": "a@slow.test" } })).await;
    assert!(saved["errors"].is_null(), "{saved}");
    let response = app
        .http
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&t.staff)
        .json(&json!({ "query": "mutation { sendTestEmail(to: \"x@slow.test\") { success } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("TIMEOUT"), "{body}");
    drop(silent);
}
