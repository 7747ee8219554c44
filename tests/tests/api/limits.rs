//! The endpoint's safety limits: content type (CSRF), GET mutations, batch size,
//! body size, depth and aliases.

use serde_json::json;
use tests::{error_code, TestApp};

#[tokio::test]
async fn only_json_bodies_are_accepted() {
    let app = TestApp::spawn().await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let response = app
            .http
            .post(format!("{}/graphql", app.base))
            .header("content-type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 415, "{content_type}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), Some("VALIDATION"));
    }
    let (status, body) = app.gql_raw(None, &json!({ "query": "{ __typename }" })).await;
    assert_eq!((status, body["data"]["__typename"].as_str()), (200, Some("QueryRoot")));
}

#[tokio::test]
async fn mutations_over_get_are_refused_with_405_and_queries_work() {
    let app = TestApp::spawn().await;
    let mutation = "mutation { login(email: \"a@b.c\", password: \"x\") { accessToken } }";
    let response = app.http.get(format!("{}/graphql", app.base)).query(&[("query", mutation)]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let response = app.http.get(format!("{}/graphql", app.base)).query(&[("query", "{ __typename }")]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // A mutation beside a query, with no operation named: nothing runs, and
    // the answer says an operation must be named (never the mutation run, and
    // never a 405 that depends on which one the server looked at first).
    let two = "mutation A { login(email: \"a@b.c\", password: \"x\") { accessToken } } query B { __typename }";
    let response = app.http.get(format!("{}/graphql", app.base)).query(&[("query", two)]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!((body["data"].is_null(), error_code(&body)), (true, Some("VALIDATION")), "{body}");
    let get = |name: &'static str| app.http.get(format!("{}/graphql", app.base)).query(&[("query", two), ("operationName", name)]).send();
    assert_eq!(get("A").await.unwrap().status().as_u16(), 405);
    let body: serde_json::Value = get("B").await.unwrap().json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "QueryRoot", "the operation named by `operationName` runs: {body}");
}

#[tokio::test]
async fn batches_are_capped() {
    let app = TestApp::spawn().await;
    let ten: Vec<_> = (0..10).map(|_| json!({ "query": "{ __typename }" })).collect();
    let (status, body) = app.gql_raw(None, &json!(ten)).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().map(Vec::len), Some(10));
    let eleven: Vec<_> = (0..11).map(|_| json!({ "query": "{ __typename }" })).collect();
    let (status, body) = app.gql_raw(None, &json!(eleven)).await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), Some("VALIDATION"));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let padding = " ".repeat(300 * 1024);
    let (status, _) = app.gql_raw(None, &json!({ "query": format!("{{ __typename {padding} }}") })).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn deep_and_alias_heavy_documents_are_refused_with_a_code() {
    let app = TestApp::spawn().await;
    let deep = format!("{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}", "ofType { ".repeat(14), "} ".repeat(14));
    let body = app.gql(None, &deep, json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("nested too deep"), "{body}");

    let aliases: String = (0..31).map(|n| format!("a{n}: __typename ")).collect();
    let body = app.gql(None, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("aliases"), "{body}");

    let body = app.gql(None, "{ me { id ", json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "syntax errors carry a code too");
}

/// What GraphiQL and graphql-js clients send (`getIntrospectionQuery`, with the
/// deepest `TypeRef` recent versions use) must stay within the limits.
#[tokio::test]
async fn the_standard_introspection_query_passes_the_limits() {
    let app = TestApp::spawn().await;
    let type_ref = format!("kind name {} kind name {}", "ofType { kind name ".repeat(9), "} ".repeat(9));
    let query = format!(
        "query IntrospectionQuery {{ __schema {{ queryType {{ name }} mutationType {{ name }} subscriptionType {{ name }} \
         types {{ ...FullType }} directives {{ name description locations args {{ ...InputValue }} }} }} }} \
         fragment FullType on __Type {{ kind name description \
           fields(includeDeprecated: true) {{ name description args {{ ...InputValue }} type {{ ...TypeRef }} isDeprecated deprecationReason }} \
           inputFields {{ ...InputValue }} interfaces {{ ...TypeRef }} \
           enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }} possibleTypes {{ ...TypeRef }} }} \
         fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} defaultValue }} \
         fragment TypeRef on __Type {{ {type_ref} }}"
    );
    let body = app.gql(None, &query, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(body["data"]["__schema"]["types"].as_array().is_some_and(|t| t.len() > 10));
}

#[tokio::test]
async fn an_invalid_token_is_refused_with_401() {
    let app = TestApp::spawn().await;
    let (status, body) = app.gql_raw(Some("garbage"), &json!({ "query": "{ __typename }" })).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}
