//! Documents built to crash or stall the server: deep input values (a stack
//! overflow aborted the process), fragment chains that double at every level
//! (minutes of CPU), NUL characters (PostgreSQL refused them as INTERNAL), and
//! over-size bodies. Each is refused with `VALIDATION` and the server goes on.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::{
    error_code,
    ws::{WsClient, WsEvent},
    TestApp,
};

const LEVELS: usize = 5_000;

fn deep_documents() -> Vec<(&'static str, String)> {
    let open = |s: &str| s.repeat(LEVELS);
    vec![
        ("list literal", format!("{{ __type(name: {}\"Order\"{}) {{ name }} }}", open("["), open("]"))),
        ("object literal", format!("{{ __type(name: {}1{}) {{ name }} }}", open("{a: "), open("}"))),
        ("variable default", format!("query($v: String = {}1{}) {{ __typename }}", open("["), open("]"))),
        ("unknown argument", format!("{{ __typename(nope: {}1{}) }}", open("{b: ["), open("]}"))),
        ("list type", format!("query($v: {}String{}) {{ __typename }}", open("["), open("]"))),
        ("selection sets", format!("{{ {} __typename {} }}", open("a { "), open("} "))),
    ]
}

/// A chain of 40 fragments, each spreading the next twice: 2⁴⁰ selections once
/// inlined, in about 2 KB.
fn doubling_fragments() -> String {
    let mut query = String::from("query { ...F0 }\n");
    for n in 0..40 {
        query.push_str(&format!("fragment F{n} on QueryRoot {{ ...F{m} ...F{m} }}\n", m = n + 1));
    }
    query.push_str("fragment F40 on QueryRoot { __typename }\n");
    query
}

fn assert_refused(body: &Value, needle: &str, what: &str) {
    assert_eq!(error_code(body), Some("VALIDATION"), "{what}: {body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{what}: expected {needle:?} in {message:?}");
}

async fn assert_alive(app: &TestApp) {
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, 200, "the server must still answer");
}

#[tokio::test]
async fn deeply_nested_documents_are_refused_over_post_get_and_batches() {
    let app = TestApp::spawn().await;
    for (what, query) in deep_documents() {
        let started = Instant::now();
        let body = app.gql(None, &query, json!({})).await;
        println!("{what}: refused in {} ms", started.elapsed().as_millis());
        let needle = if what == "selection sets" { "too deep" } else { "brackets too deep" };
        assert_refused(&body, needle, what);

        // URLs are capped by clients and proxies: the shorter ones go over GET too.
        if query.len() <= 12_000 {
            let response = app.http.get(format!("{}/graphql", app.base)).query(&[("query", &query)]).send().await.unwrap();
            let body: Value = response.json().await.unwrap();
            assert_refused(&body, needle, &format!("{what} over GET"));
        }

        let batch = json!([{ "query": "{ __typename }" }, { "query": query }]);
        let (status, body) = app.gql_raw(None, &batch).await;
        assert_eq!(status, 200);
        assert_eq!(body[0]["data"]["__typename"], "QueryRoot", "the good operation of the batch runs");
        assert_refused(&body[1], needle, &format!("{what} in a batch"));
    }
    assert_alive(&app).await;
}

#[tokio::test]
async fn deeply_nested_json_variables_are_refused_without_crashing() {
    let app = TestApp::spawn().await;
    // serde_json stops at 128 levels; just under it must not overflow either.
    let mut deep = json!("x");
    for _ in 0..120 {
        deep = json!([deep]);
    }
    let body = app.gql(None, "query($v: [String]) { __typename }", json!({ "v": deep })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let text = format!("{{\"query\":\"query($v: [String]) {{ __typename }}\",\"variables\":{{\"v\":{}1{}}}}}", "[".repeat(LEVELS), "]".repeat(LEVELS));
    let response = app.http.post(format!("{}/graphql", app.base)).header("content-type", "application/json").body(text).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("VALIDATION"));
    assert_alive(&app).await;
}

#[tokio::test]
async fn fragments_that_fan_out_are_refused_at_once() {
    let app = TestApp::spawn().await;
    let started = Instant::now();
    // The client's own timeout bounds the test; before the fix this ran for minutes.
    let body = app.gql(None, &doubling_fragments(), json!({})).await;
    println!("doubling fragment chain refused in {} ms", started.elapsed().as_millis());
    assert_refused(&body, "too many fields once fragments are expanded", "fragment chain");

    let cycle = "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { __typename ...A }";
    assert_refused(&app.gql(None, cycle, json!({})).await, "spreads itself", "fragment cycle");

    let many: String = (0..65).map(|n| format!("fragment G{n} on QueryRoot {{ __typename }} ")).collect();
    assert_refused(&app.gql(None, &format!("query {{ ...G0 }} {many}"), json!({})).await, "too many fragments", "fragments");
    assert_alive(&app).await;
}

#[tokio::test]
async fn introspection_counts_toward_the_budget_and_can_be_turned_off() {
    let app = TestApp::spawn().await;
    let wide: String = (0..700).map(|_| "name kind description ").collect();
    let body = app.gql(None, &format!("{{ __schema {{ types {{ {wide} }} }} }}"), json!({})).await;
    assert_refused(&body, "too many fields", "wide introspection");

    let closed = TestApp::spawn_with(|c| c.limits.introspection = false).await;
    for query in ["{ __schema { types { name } } }", "{ a: __type(name: \"Order\") { name } }", "query { ...F } fragment F on QueryRoot { __schema { queryType { name } } }"] {
        let body = closed.gql(None, query, json!({})).await;
        assert_refused(&body, "introspection is turned off", query);
    }
    let body = closed.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "QueryRoot");
}

#[tokio::test]
async fn websocket_documents_are_bounded_too() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut ws = WsClient::connect(&app.base).await;
    ws.init(&admin).await;
    assert!(matches!(ws.next(Duration::from_secs(5)).await, WsEvent::Json(m) if m["type"] == "connection_ack"));
    let deep = format!("subscription {{ orderStatusChanged(orderId: {}\"1\"{}) {{ orderId }} }}", "[".repeat(LEVELS), "]".repeat(LEVELS));
    // A 64 KiB message cap applies to sockets; stay under it.
    assert!(deep.len() < 60 * 1024);
    for (id, query) in [("deep", deep), ("fan-out", doubling_fragments().replace("query {", "subscription {"))] {
        ws.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } })).await;
        let message = loop {
            match ws.next(Duration::from_secs(10)).await {
                WsEvent::Json(message) if message["type"] == "complete" => continue,
                WsEvent::Json(message) => break message,
                other => panic!("{id}: {other:?}"),
            }
        };
        // async-graphql answers a refused document with `next` carrying the errors.
        assert_eq!(message["id"], id, "{message}");
        let errors = if message["type"] == "error" { &message["payload"] } else { &message["payload"]["errors"] };
        assert_eq!(errors[0]["extensions"]["code"], "VALIDATION", "{id}: {message}");
    }
    ws.send(json!({ "type": "ping" })).await;
    loop {
        match ws.next(Duration::from_secs(5)).await {
            WsEvent::Json(m) if m["type"] == "complete" => continue,
            WsEvent::Json(m) if m["type"] == "pong" => break,
            other => panic!("the socket must stay usable: {other:?}"),
        }
    }
    assert_alive(&app).await;
}

#[tokio::test]
async fn nul_characters_are_validation_errors_on_every_database() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = app
        .gql(None, "mutation($e: String!) { login(email: $e, password: \"x\") { accessToken } }", json!({ "e": "a\u{0}@b.c" }))
        .await;
    assert_refused(&body, "NUL", "NUL in a variable");
    let body = app.gql(None, "mutation { login(email: \"a\\u0000@b.c\", password: \"x\") { accessToken } }", json!({})).await;
    assert_refused(&body, "NUL", "NUL in a literal");
    let body = app
        .gql(
            Some(&admin),
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } } }",
            json!({ "i": { "identifier": "nul-co", "email": "x\u{0}@nul.test", "phone": "+55 11 3333-4444", "cnpj": "11.222.333/0001-81" } }),
        )
        .await;
    assert_refused(&body, "NUL", "NUL in an input object");
    assert!(!tests::database_contains(&app, "nul-co").await, "nothing is written");
}

#[tokio::test]
async fn oversized_bodies_get_a_graphql_error_with_a_code() {
    let app = TestApp::spawn().await;
    let padding = " ".repeat(300 * 1024);
    let (status, body) = app.gql_raw(None, &json!({ "query": format!("{{ __typename {padding} }}") })).await;
    assert_eq!(status, 413);
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("too large"), "{body}");
}
