//! GraphQL over WebSocket (`graphql-transport-ws`, and the legacy
//! `graphql-ws`) at `/graphql/ws`.
//!
//! The client authenticates in the `connection_init` payload with
//! `{"authorization": "Bearer <token>"}` (or `{"token": "<token>"}`), a user's
//! access token. Close codes:
//!
//! - **4408** — `connection_init` did not succeed within `ws_init_timeout`.
//! - **4403** — the token is refused at `connection_init`; or, later, the
//!   socket's session ends. Ending is *pushed*: a logout, a refresh-token reuse,
//!   a password change or reset, or the deactivation of the user or its company
//!   publishes a [`domain::sessions::Revocation`] (in-process on SQLite,
//!   `LISTEN/NOTIFY` across processes on PostgreSQL) and every socket it names
//!   closes at once. Should a signal be lost (a PostgreSQL listener
//!   reconnecting, another process on SQLite), the process's
//!   [`domain::sessions::sweep`] finds the revoked session within
//!   `revocation_sweep`; no socket polls the database. A socket also closes
//!   when its token expires.
//! - **4429** — the user already holds `ws_sockets_per_user` open sockets in
//!   this process: the extra one is refused at `connection_init` (never
//!   acknowledged). The count is per server process, exact under concurrency
//!   (one lock), and released when a socket closes.
//!
//! At most `ws_subscriptions_per_socket` operations (subscriptions, and queries
//! or mutations while they run) are active per socket. One more `subscribe` is
//! not started: it is answered with an `error` message for its id whose
//! `extensions.code` is `RATE_LIMITED`; the socket stays open, and a `complete`
//! (from either side) frees a slot.
//!
//! Every `subscribe` is charged to the same budgets as an HTTP request: the
//! client's address and the socket's user. Over budget, it is answered with an
//! `error` message (`RATE_LIMITED`, `extensions.retryAfterSeconds`) and not run;
//! the socket stays open.
//!
//! Staff subscriptions that ask the same (document, operation, variables) from
//! the same company (or support) run once, whoever sent them: each answer is
//! resolved once and handed to every such socket ([`shared`]).
//!
//! Integration tokens (`rst_…`) are machine credentials for `/integrations/…`
//! and are refused here like any other non-access token, so no socket runs on
//! an integration identity and rotating that token has no socket to close.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicI32, AtomicU16, AtomicUsize, Ordering},
        Arc, Mutex, OnceLock,
    },
};

use async_graphql::{Data, Executor};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
        State,
    },
    response::Response,
};
use futures::{stream::BoxStream, stream::SplitSink, SinkExt, StreamExt};
use tokio::sync::oneshot;

pub use self::shared::SharedSubscriptions;

use crate::{
    graphql::{error::to_gql, Runner},
    state::AppState,
};

mod shared;

/// Small read buffer: axum's default (128 KiB, zero-filled per read) costs far more
/// memory and CPU per subscriber than a GraphQL client ever needs (DESIGN.md).
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Largest message a client may send.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Close code of a refused or ended session.
const CLOSE_FORBIDDEN: u16 = 4403;
/// Close code of a socket over the per-user cap.
const CLOSE_TOO_MANY: u16 = 4429;

/// Open sockets per user in this process.
#[derive(Default)]
pub struct SocketCounts {
    per_user: Mutex<HashMap<i32, usize>>,
}

/// One counted socket; dropping it (the socket closed) frees the slot.
pub(crate) struct SocketPermit {
    counts: Arc<SocketCounts>,
    user_id: i32,
}

impl SocketCounts {
    /// A slot for one more socket of `user_id`, unless it holds `max` already.
    pub(crate) fn acquire(self: &Arc<Self>, user_id: i32, max: usize) -> Option<SocketPermit> {
        let mut map = self.per_user.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = map.entry(user_id).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketPermit { counts: self.clone(), user_id })
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut map = self.counts.per_user.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = map.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(&self.user_id);
            }
        }
    }
}

/// An operation running on a socket; dropping its stream (completed, stopped by
/// the client, or the socket gone) frees the slot.
struct OperationSlot(Arc<AtomicUsize>);

impl OperationSlot {
    fn take(active: &Arc<AtomicUsize>) -> Self {
        active.fetch_add(1, Ordering::SeqCst);
        OperationSlot(active.clone())
    }
}

impl Drop for OperationSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The schema as one socket runs it: counts the socket's active operations,
/// and joins staff subscriptions to others that ask the same ([`shared`]).
#[derive(Clone)]
struct CountingExecutor {
    graphql: Runner,
    active: Arc<AtomicUsize>,
    shared: Arc<SharedSubscriptions>,
    /// The socket's actor's viewpoint, once `connection_init` is accepted.
    viewpoint: Arc<OnceLock<Option<domain::Viewpoint>>>,
}

impl Executor for CountingExecutor {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        self.graphql.execute(request).await
    }

    /// The operation's stream, run up to its first wait now, while
    /// async-graphql handles its `subscribe` message, instead of at the
    /// socket's next turn: a subscription resolver takes its place on the
    /// event bus before it awaits anything (see `graphql/orders/subscription.rs`),
    /// so by the time the server answers a `ping` the client sent after
    /// `subscribe`, the subscription hears every later event. Without this,
    /// the first events after a `subscribe` could be missed, and clients could
    /// only wait and hope. (A shared subscription is joined, or started and
    /// primed the same way, before this returns.)
    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        // Taken when async-graphql starts the operation, before it reads the
        // socket's next message: the count the filter sees is exact.
        let slot = OperationSlot::take(&self.active);
        let stream = match self.graphql.parse(request) {
            Err(error) => crate::graphql::refused(error),
            Ok(parsed) => match self.viewpoint.get().and_then(Option::as_ref).and_then(|viewpoint| shared::Key::of(viewpoint, &parsed)) {
                Some(key) => {
                    // Run as the viewpoint's stand-in, not as this socket's user.
                    let mut data = Data::default();
                    data.insert(key.stand_in());
                    let start = || self.graphql.execute_stream(parsed, Some(Arc::new(data)));
                    self.shared.join(key, start)
                }
                None => shared::Primed::prime(self.graphql.execute_stream(parsed, session_data)).into_stream(),
            },
        };
        stream
            .map(move |response| {
                let _held = &slot;
                response
            })
            .boxed()
    }
}

/// The id of a message that starts an operation (`subscribe`, or `start` in
/// the legacy protocol).
fn starting_operation(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        kind: String,
        id: Option<String>,
    }
    let head: Head = serde_json::from_str(text).ok()?;
    matches!(head.kind.as_str(), "subscribe" | "start").then_some(head.id).flatten()
}

/// What an accepted `connection_init` hands to the socket's loop.
struct Accepted {
    /// Ends when a revocation names the socket's session.
    watch: domain::sessions::watchers::Watch,
    /// When the token expires, and the socket closes.
    expires: tokio::time::Instant,
    _permit: SocketPermit,
}

/// When the token whose `exp` claim is `exp` (seconds since the epoch) expires,
/// on the runtime's clock.
pub(crate) fn expiry(exp: i64) -> tokio::time::Instant {
    let left = (exp - chrono::Utc::now().timestamp()).clamp(0, i64::from(u32::MAX));
    tokio::time::Instant::now() + std::time::Duration::from_secs(left.unsigned_abs())
}

/// `GET /graphql/ws`: upgrades to a GraphQL WebSocket.
pub async fn upgrade(
    State(state): State<AppState>,
    axum::Extension(client): super::Client,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(state, socket, protocol, client))
}

fn bearer_from_payload(payload: &serde_json::Value) -> Option<String> {
    let field = |name: &str| payload.get(name).and_then(|v| v.as_str());
    field("authorization")
        .or_else(|| field("Authorization"))
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v))
        .or_else(|| field("token"))
        .map(|v| v.trim().to_owned())
}

async fn close(to_client: &mut Writer, code: u16, reason: &'static str) {
    let _ = to_client.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
}

/// The socket's writing half, shared by GraphQL and the socket's loop (which
/// writes close frames of its own), both in the socket's one task. GraphQL
/// writes a message whole (ready, send, flush) before it reads on, so the two
/// never interleave within a message. A close frame of a refused
/// `connection_init` gets the refusal's own code (async-graphql closes with 1002).
#[derive(Clone)]
struct Writer {
    socket: Arc<Mutex<SplitSink<WebSocket, Message>>>,
    refusal: Arc<AtomicU16>,
}

impl Writer {
    fn socket(&self) -> std::sync::MutexGuard<'_, SplitSink<WebSocket, Message>> {
        self.socket.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl futures::Sink<Message> for Writer {
    type Error = axum::Error;

    fn poll_ready(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.socket().poll_ready_unpin(cx)
    }

    fn start_send(self: std::pin::Pin<&mut Self>, message: Message) -> Result<(), Self::Error> {
        let message = match (message, self.refusal.load(Ordering::SeqCst)) {
            (Message::Close(_), CLOSE_FORBIDDEN) => Message::Close(Some(CloseFrame { code: CLOSE_FORBIDDEN, reason: "Forbidden".into() })),
            (Message::Close(_), CLOSE_TOO_MANY) => {
                Message::Close(Some(CloseFrame { code: CLOSE_TOO_MANY, reason: "Too many open sockets".into() }))
            }
            (other, _) => other,
        };
        self.socket().start_send_unpin(message)
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.socket().poll_flush_unpin(cx)
    }

    fn poll_close(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.socket().poll_close_unpin(cx)
    }
}

async fn serve(state: AppState, socket: WebSocket, protocol: GraphQLProtocol, client: crate::ratelimit::ClientIp) {
    state.metrics.ws_connections.inc();
    let (to_client, from_client) = socket.split();
    // The writer is shared, so the loop can still write a close frame of its
    // own when the init deadline passes or the session ends.
    let initialised = Arc::new(AtomicBool::new(false));
    // The close code for a refused init (async-graphql itself closes with 1002).
    let refusal = Arc::new(AtomicU16::new(0));
    let mut to_client = Writer { socket: Arc::new(Mutex::new(to_client)), refusal: refusal.clone() };
    let (init_flag, refusal_code) = (initialised.clone(), refusal.clone());
    let (accepted_tx, mut accepted_rx) = oneshot::channel::<Accepted>();
    let ctx = state.ctx.clone();
    let (sockets, max_sockets) = (state.sockets.clone(), state.config.limits.ws_sockets_per_user);

    let active = Arc::new(AtomicUsize::new(0));
    let max_operations = state.config.limits.ws_subscriptions_per_socket;
    // The socket's user, once `connection_init` is accepted (0 before).
    let user = Arc::new(AtomicI32::new(0));
    let (counted, refusals, limits, socket_user) = (active.clone(), to_client.clone(), state.limits.clone(), user.clone());
    let from_client = from_client
        .filter_map(move |message| {
            let (counted, mut refusals, limits, socket_user) = (counted.clone(), refusals.clone(), limits.clone(), socket_user.clone());
            async move {
                let Ok(Message::Text(text)) = &message else { return Some(message) };
                let Some(id) = starting_operation(text) else { return Some(message) };
                // Each operation is charged like a request over HTTP: to the
                // client's address and to the socket's user.
                let user_id = socket_user.load(Ordering::SeqCst);
                let charged = limits
                    .charge_requests(client.0, 1)
                    .and_then(|()| if user_id == 0 { Ok(()) } else { limits.charge_user_requests(user_id, 1) });
                let refusal = match charged {
                    Err(exhausted) => Some((
                        format!("too many requests; try again in {} s", exhausted.retry_after_secs),
                        Some(exhausted.retry_after_secs),
                    )),
                    Ok(()) if counted.load(Ordering::SeqCst) >= max_operations => {
                        Some((format!("at most {max_operations} subscriptions per socket"), None))
                    }
                    Ok(()) => None,
                };
                let Some((text, retry_after)) = refusal else { return Some(message) };
                let mut extensions = serde_json::json!({ "code": crate::graphql::error::code::RATE_LIMITED });
                if let Some(seconds) = retry_after {
                    extensions["retryAfterSeconds"] = seconds.into();
                }
                let error = serde_json::json!({ "type": "error", "id": id, "payload": [{ "message": text, "extensions": extensions }] });
                let _ = refusals.send(Message::Text(error.to_string().into())).await;
                None
            }
        })
        .boxed();
    let viewpoint = Arc::new(OnceLock::new());
    let socket_viewpoint = viewpoint.clone();
    let executor = CountingExecutor { graphql: state.graphql.clone(), active, shared: state.shared.clone(), viewpoint };

    let graphql = GraphQLWebSocket::new_with_pair(to_client.clone(), from_client, executor, protocol)
        .on_connection_init(move |payload| async move {
            // Taken before the check: a revocation applied after it still ends the socket.
            let checked_at = ctx.events.mark();
            let token = bearer_from_payload(&payload);
            let authenticated = match &token {
                Some(token) => domain::auth::authenticate_fresh(&ctx, token).await.map_err(to_gql),
                None => Err(async_graphql::Error::new("missing access token")),
            };
            let actor = authenticated.inspect_err(|_| refusal_code.store(CLOSE_FORBIDDEN, Ordering::SeqCst))?;
            let exp = token.as_deref().and_then(|token| ctx.tokens.verify(token)).map(|claims| claims.exp);
            let (Some(user_id), Some(exp)) = (actor.user_id(), exp) else {
                refusal_code.store(CLOSE_FORBIDDEN, Ordering::SeqCst);
                return Err(async_graphql::Error::new("not a user session"));
            };
            let Some(permit) = sockets.acquire(user_id, max_sockets) else {
                refusal_code.store(CLOSE_TOO_MANY, Ordering::SeqCst);
                return Err(async_graphql::Error::new("too many open sockets"));
            };
            user.store(user_id, Ordering::SeqCst);
            let _ = socket_viewpoint.set(actor.viewpoint());
            // If the loop has already ended, the permit drops here: nothing leaks.
            let watch = ctx.events.watch(&actor, checked_at);
            let _ = accepted_tx.send(Accepted { watch, expires: expiry(exp), _permit: permit });
            init_flag.store(true, Ordering::SeqCst);
            let mut data = Data::default();
            data.insert(actor);
            // Mutations over the socket are charged to the client's address too.
            data.insert(client);
            Ok(data)
        })
        .serve();
    // Run in this task, not one of its own: one task per socket, and a
    // subscription's message goes out in the turn that produced it.
    tokio::pin!(graphql);
    // The init deadline, then (once `connection_init` is accepted) the token's expiry.
    let timer = tokio::time::sleep(state.config.limits.ws_init_timeout);
    tokio::pin!(timer);
    let mut accepted: Option<Accepted> = None;
    let mut awaiting_init = true;
    loop {
        tokio::select! {
            // GraphQL ended: the client left, or it closed the socket itself.
            () = &mut graphql => break,
            init = &mut accepted_rx, if awaiting_init => {
                awaiting_init = false;
                accepted = init.ok();
                if let Some(session) = &accepted {
                    timer.as_mut().reset(session.expires);
                }
            }
            // A revocation named the session (the registry keeps the sender,
            // so the receiver only ever completes with `Ok`).
            _ = async { match accepted.as_mut() { Some(session) => (&mut session.watch.ended).await, None => std::future::pending().await } } => {
                close(&mut to_client, CLOSE_FORBIDDEN, "Forbidden").await;
                break;
            }
            () = &mut timer => {
                if accepted.is_some() {
                    // The token expired.
                    close(&mut to_client, CLOSE_FORBIDDEN, "Forbidden").await;
                    break;
                }
                if !initialised.load(Ordering::SeqCst) {
                    close(&mut to_client, 4408, "Connection initialisation timeout").await;
                    break;
                }
                // Accepted a moment ago; the expiry is set as the acceptance arrives.
                timer.as_mut().reset(tokio::time::Instant::now() + state.config.limits.ws_init_timeout);
            }
        }
    }
    let _ = to_client.close().await;
    // Frees the socket's slot in the per-user count.
    drop(accepted);
    state.metrics.ws_connections.dec();
}

