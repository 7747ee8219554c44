//! The server as a whole under hostile traffic, as a separate process: it keeps
//! answering `/healthz` while every kind of hostile request is in flight, and
//! SIGTERM lets the requests in flight finish.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;
use tests::{process::RastroProcess, TestApp};
use tokio::io::AsyncWriteExt;

async fn healthz_ms(http: &reqwest::Client, base: &str) -> f64 {
    let started = Instant::now();
    let response = http.get(format!("{base}/healthz")).send().await.expect("healthz answers");
    assert!(response.status().is_success());
    started.elapsed().as_secs_f64() * 1000.0
}

fn hostile_bodies() -> Vec<String> {
    let deep = format!("{{ __type(name: {}\"x\"{}) {{ name }} }}", "[".repeat(5_000), "]".repeat(5_000));
    let mut fan_out = String::from("query { ...F0 }\n");
    for n in 0..40 {
        fan_out.push_str(&format!("fragment F{n} on QueryRoot {{ ...F{m} ...F{m} }}\n", m = n + 1));
    }
    fan_out.push_str("fragment F40 on QueryRoot { __typename }\n");
    vec![
        json!({ "query": deep }).to_string(),
        json!({ "query": fan_out }).to_string(),
        json!({ "query": "mutation($e: String!) { login(email: $e, password: \"x\") { accessToken } }", "variables": { "e": "a\u{0}b" } }).to_string(),
        json!({ "query": "mutation { login(email: \"who@x.test\", password: \"wrong-password-1\") { accessToken } }" }).to_string(),
        format!("{{\"query\":\"{{ __typename }}\",\"pad\":\"{}\"}}", "x".repeat(400 * 1024)),
    ]
}

#[tokio::test]
async fn healthz_answers_while_hostile_requests_are_in_flight() {
    let app = TestApp::spawn().await;
    let server = RastroProcess::start_with(&app.database_url, &[("RASTRO_HEADER_TIMEOUT_SECS", "5")]).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let base = server.base().to_owned();
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(healthz_ms(&http, &base).await);
    }

    // Ten of each kind, all at once, plus ten connections that never finish
    // their headers.
    let mut slow = Vec::new();
    for _ in 0..10 {
        let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
        stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.push(stream);
    }
    let hostile: Vec<_> = hostile_bodies()
        .into_iter()
        .flat_map(|body| std::iter::repeat_n(body, 10))
        .map(|body| {
            let (http, url) = (http.clone(), format!("{base}/graphql"));
            tokio::spawn(async move { http.post(url).header("content-type", "application/json").body(body).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let mut loaded = Vec::new();
    for _ in 0..10 {
        loaded.push(healthz_ms(&http, &base).await);
    }
    let statuses: Vec<_> = join_all(hostile).await.into_iter().map(|r| r.unwrap()).collect();
    idle.sort_by(f64::total_cmp);
    loaded.sort_by(f64::total_cmp);
    println!(
        "healthz: idle p50 {:.1} ms; with 50 hostile requests and 10 slow connections in flight p50 {:.1} ms, max {:.1} ms",
        idle[5], loaded[5], loaded[9]
    );
    assert!(statuses.iter().all(|s| s.as_ref().is_ok_and(|s| *s < 500)), "every hostile request gets a client error: {statuses:?}");
    // A liveness bound, not a speed claim: the figures are printed above.
    assert!(loaded[9] < 2_000.0, "healthz stalled: {loaded:?}");
    assert!(healthz_ms(&http, &base).await > 0.0, "the server is still up");
    drop(slow);
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "drain").await;
    tests::seed_orders(&app.db, &t.id, &t.destination, 3_000).await;
    let mut server = RastroProcess::start(&app.database_url).await;
    let token = server.login("staff@drain.test", tests::PASSWORD, "drain").await;
    let response = reqwest::Client::new()
        .get(format!("{}/exports/orders.csv", server.base()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // The export is streaming; now ask the server to stop.
    let pid = server.pid().unwrap().to_string();
    let killed = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
    assert!(killed.success());
    let body = response.text().await.expect("the export in flight completes");
    let rows = body.lines().count();
    assert_eq!(rows, 3_001, "header and every order");
    let status = server.wait_exit(Duration::from_secs(30)).await.expect("the server exits after draining");
    assert!(status.success(), "{status:?}");
}
