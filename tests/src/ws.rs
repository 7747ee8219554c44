//! A minimal `graphql-transport-ws` client over a real WebSocket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, http::HeaderValue, Message},
    MaybeTlsStream, WebSocketStream,
};

/// An open GraphQL WebSocket.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How a socket ended or what it said next.
#[derive(Debug, PartialEq)]
pub enum WsEvent {
    /// A JSON protocol message.
    Json(Value),
    /// The server closed with this code.
    Closed(u16),
    /// Nothing arrived in time.
    Timeout,
}

impl WsClient {
    /// Connects to `/graphql/ws` with the `graphql-transport-ws` subprotocol.
    pub async fn connect(base: &str) -> Self {
        let url = format!("{}/graphql/ws", base.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
        let (stream, _) = tokio_tungstenite::connect_async(request).await.expect("websocket connect");
        WsClient { stream }
    }

    /// Sends one protocol message.
    pub async fn send(&mut self, message: Value) {
        self.stream.send(Message::Text(message.to_string().into())).await.expect("send");
    }

    /// Sends `connection_init` with a bearer token.
    pub async fn init(&mut self, token: &str) {
        self.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
    }

    /// Starts a subscription and makes sure the server has taken it: the server
    /// runs a new subscription up to its place on the event bus while it reads
    /// the `subscribe` message, so once a `ping` sent after it is answered, the
    /// subscription hears every later event.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })).await;
        self.send(json!({ "type": "ping" })).await;
        loop {
            match self.next(Duration::from_secs(5)).await {
                WsEvent::Json(message) if message["type"] == "pong" => break,
                WsEvent::Json(message) if message["type"] == "error" || message["type"] == "next" => {
                    panic!("unexpected message while subscribing: {message}")
                }
                WsEvent::Json(_) => continue,
                other => panic!("socket ended while subscribing: {other:?}"),
            }
        }
    }

    /// Connects, initialises with `token` and checks the `connection_ack`.
    pub async fn connect_acked(base: &str, token: &str) -> Self {
        let mut socket = Self::connect(base).await;
        socket.init(token).await;
        assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Json(json!({ "type": "connection_ack" })));
        socket
    }

    /// Waits at most `wait` for the server to close the socket, skipping
    /// messages; the close code, or `None` if it stayed open.
    pub async fn closed_within(&mut self, wait: Duration) -> Option<u16> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                WsEvent::Closed(code) => return Some(code),
                WsEvent::Timeout => return None,
                WsEvent::Json(_) => continue,
            }
        }
    }

    /// Whether the socket still answers a ping.
    pub async fn answers_ping(&mut self) -> bool {
        self.send(json!({ "type": "ping" })).await;
        loop {
            match self.next(Duration::from_secs(5)).await {
                WsEvent::Json(message) if message["type"] == "pong" => return true,
                WsEvent::Json(_) => continue,
                _ => return false,
            }
        }
    }

    /// The next protocol message or close, waiting at most `wait`.
    pub async fn next(&mut self, wait: Duration) -> WsEvent {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Err(_) => return WsEvent::Timeout,
                Ok(None) => return WsEvent::Closed(1006),
                Ok(Some(Err(_))) => return WsEvent::Closed(1006),
                Ok(Some(Ok(Message::Text(text)))) => return WsEvent::Json(serde_json::from_str(&text).unwrap()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return WsEvent::Closed(frame.map_or(1005, |f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}

