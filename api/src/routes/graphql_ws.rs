//! GraphQL over WebSocket (`graphql-transport-ws`, and the legacy
//! `graphql-ws`) at `/graphql/ws`.
//!
//! The client authenticates in the `connection_init` payload with
//! `{"authorization": "Bearer <token>"}` (or `{"token": "<token>"}`). A socket that
//! has not completed `connection_init` within the configured time is closed with
//! 4408, and one whose token is refused with 4403, as the protocol prescribes.
//! The token is checked again periodically: when it expires, or the account or
//! its company is deactivated or changes its password, the socket is closed with
//! 4403.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
        State,
    },
    response::Response,
};
use futures::{channel::mpsc, SinkExt, StreamExt};

use crate::{graphql::error::to_gql, state::AppState};

/// Small read buffer: axum's default (128 KiB, zero-filled per read) costs far more
/// memory and CPU per subscriber than a GraphQL client ever needs (DESIGN.md).
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Largest message a client may send.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// `GET /graphql/ws`: upgrades to a GraphQL WebSocket.
pub async fn upgrade(State(state): State<AppState>, protocol: GraphQLProtocol, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(state, socket, protocol))
}

fn bearer_from_payload(payload: &serde_json::Value) -> Option<String> {
    let field = |name: &str| payload.get(name).and_then(|v| v.as_str());
    field("authorization")
        .or_else(|| field("Authorization"))
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v))
        .or_else(|| field("token"))
        .map(|v| v.trim().to_owned())
}

async fn serve(state: AppState, socket: WebSocket, protocol: GraphQLProtocol) {
    state.metrics.ws_connections.inc();
    let (mut to_client, from_client) = socket.split();
    // GraphQL writes into a channel we forward, so we can still write a close
    // frame of our own when the init deadline passes.
    let (outgoing, mut outgoing_rx) = mpsc::channel::<Message>(16);
    let initialised = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicBool::new(false));
    let (init_flag, refused_flag) = (initialised.clone(), refused.clone());
    let accepted_token = Arc::new(std::sync::Mutex::new(None::<String>));
    let token_slot = accepted_token.clone();
    let ctx = state.ctx.clone();
    let graphql = GraphQLWebSocket::new_with_pair(outgoing, from_client, state.schema.clone(), protocol)
        .on_connection_init(move |payload| async move {
            let token = bearer_from_payload(&payload);
            let authenticated = match &token {
                Some(token) => domain::auth::authenticate(&ctx, token).await.map_err(to_gql),
                None => Err(async_graphql::Error::new("missing access token")),
            };
            let actor = authenticated.inspect_err(|_| refused_flag.store(true, Ordering::SeqCst))?;
            if let (Ok(mut slot), Some(token)) = (token_slot.lock(), token) {
                *slot = Some(token);
            }
            init_flag.store(true, Ordering::SeqCst);
            let mut data = Data::default();
            data.insert(actor);
            Ok(data)
        })
        .serve();
    let task = tokio::spawn(graphql);
    let deadline = tokio::time::sleep(state.config.limits.ws_init_timeout);
    tokio::pin!(deadline);
    let mut checked = false;
    let mut recheck = tokio::time::interval(state.config.limits.ws_recheck);
    recheck.reset();
    loop {
        tokio::select! {
            message = outgoing_rx.next() => match message {
                Some(message) => {
                    // async-graphql closes a refused init with 1002; the protocol
                    // says 4403 Forbidden.
                    let message = match message {
                        Message::Close(_) if refused.load(Ordering::SeqCst) => {
                            Message::Close(Some(CloseFrame { code: 4403, reason: "Forbidden".into() }))
                        }
                        other => other,
                    };
                    if to_client.send(message).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            () = &mut deadline, if !checked => {
                checked = true;
                if !initialised.load(Ordering::SeqCst) {
                    task.abort();
                    let frame = CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() };
                    let _ = to_client.send(Message::Close(Some(frame))).await;
                    break;
                }
            }
            _ = recheck.tick() => {
                let token = accepted_token.lock().ok().and_then(|slot| slot.clone());
                let Some(token) = token else { continue };
                match domain::auth::authenticate(&state.ctx, &token).await {
                    Ok(_) | Err(domain::DomainError::Unexpected(_)) => {}
                    Err(_) => {
                        task.abort();
                        let frame = CloseFrame { code: 4403, reason: "Forbidden".into() };
                        let _ = to_client.send(Message::Close(Some(frame))).await;
                        break;
                    }
                }
            }
        }
    }
    task.abort();
    let _ = to_client.close().await;
    state.metrics.ws_connections.dec();
}
