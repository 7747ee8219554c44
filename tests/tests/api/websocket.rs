use std::time::Duration;

use serde_json::json;
use tests::{
    ws::{WsClient, WsEvent},
    TestApp,
};

#[tokio::test]
async fn a_socket_that_never_initialises_is_closed_with_4408() {
    let app = TestApp::spawn().await;
    let mut socket = WsClient::connect(&app.base).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Closed(4408));
}

#[tokio::test]
async fn a_socket_with_a_bad_token_is_refused() {
    let app = TestApp::spawn().await;
    let mut socket = WsClient::connect(&app.base).await;
    socket.init("not-a-token").await;
    match socket.next(Duration::from_secs(5)).await {
        WsEvent::Closed(code) => assert_eq!(code, 4403),
        other => panic!("expected a 4403 close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_socket_with_a_valid_token_is_acknowledged_and_stays_open() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut socket = WsClient::connect(&app.base).await;
    socket.init(&admin).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Json(json!({ "type": "connection_ack" })));
    // Past the init deadline the authenticated socket is still open.
    tokio::time::sleep(Duration::from_millis(800)).await;
    socket.send(json!({ "type": "ping" })).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Json(json!({ "type": "pong" })));
}
