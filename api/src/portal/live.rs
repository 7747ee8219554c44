//! `GET /orders/{id}/events` and `GET /admin/events`: server-sent events that
//! tell an open order page (or the company's dashboard) that an order moved,
//! so the page fetches its changing part again without a reload. The events come from the same bus, filtered by the same rule, as
//! GraphQL's `orderStatusChanged`; a stream carries no order data, only
//! "changed". As a WebSocket does, a stream ends when its session does: at
//! once on a revocation (pushed, or found by the process's sweep), and when
//! its token expires. Streams count against the same per-user cap as
//! WebSockets.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use domain::{events::OrderStatusEvent, Actor};
use futures::{stream, Stream};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{
    session::{self, Visitor},
    view,
};
use crate::state::AppState;

/// `GET /orders/{id}/events`.
pub async fn events(State(state): State<AppState>, visitor: Visitor, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (Ok(order_id), Some(user_id)) = (id.parse::<i32>(), visitor.actor.user_id()) else {
        return view::message(visitor.locale, StatusCode::NOT_FOUND, "not_found_title", "not_found");
    };
    // Only an order the visitor may open gets a stream.
    if let Err(err) = domain::orders::get(&state.ctx, &state.ctx.db, &visitor.actor, order_id).await {
        return view::error_page(visitor.locale, &err);
    }
    stream(&state, &headers, &visitor, user_id, Some(order_id))
}

/// `GET /admin/events`: any change of the company's orders (staff only).
pub async fn dashboard_events(State(state): State<AppState>, visitor: Visitor, headers: HeaderMap) -> Response {
    let Some(user_id) = visitor.actor.user_id().filter(|_| visitor.actor.audience() == domain::Audience::Staff) else {
        return view::message(visitor.locale, StatusCode::NOT_FOUND, "not_found_title", "not_found");
    };
    // The domain decides, as for the dashboard itself (a temporary password, a role without orders).
    if let Err(err) = domain::orders::dashboard::status_counts(&state.ctx, &visitor.actor).await {
        return view::error_page(visitor.locale, &err);
    }
    stream(&state, &headers, &visitor, user_id, None)
}

fn stream(state: &AppState, headers: &HeaderMap, visitor: &Visitor, user_id: i32, order_id: Option<i32>) -> Response {
    let actor = visitor.actor.clone();
    let Some(token) = session::cookie(headers, session::SESSION_COOKIE) else {
        return (StatusCode::UNAUTHORIZED, "log in first").into_response();
    };
    let (Some(claims), Some(events)) = (state.ctx.tokens.verify(&token), state.ctx.events.subscribe(&actor)) else {
        return (StatusCode::UNAUTHORIZED, "log in first").into_response();
    };
    let Some(permit) = state.sockets.acquire(user_id, state.config.limits.ws_sockets_per_user) else {
        return (StatusCode::TOO_MANY_REQUESTS, "too many live pages open").into_response();
    };
    let watch = Watch {
        expired: Box::pin(tokio::time::sleep_until(crate::routes::graphql_ws::expiry(claims.exp))),
        session: state.ctx.events.watch(&actor, visitor.checked_at),
        actor,
        order_id,
        events,
        _permit: permit,
    };
    Sse::new(changes(watch)).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))).into_response()
}

struct Watch {
    /// Completes when the token expires.
    expired: std::pin::Pin<Box<tokio::time::Sleep>>,
    actor: Actor,
    /// The one order watched, or every order the actor sees.
    order_id: Option<i32>,
    events: broadcast::Receiver<Arc<OrderStatusEvent>>,
    /// Ends when a revocation names the session.
    session: domain::sessions::watchers::Watch,
    _permit: crate::routes::graphql_ws::SocketPermit,
}

/// One `changed` event per change of the order the visitor may see; a lagging
/// receiver sends one too (something may have been missed), and a revoked
/// session or a closed bus ends the stream.
fn changes(watch: Watch) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(watch, |mut watch| async move {
        loop {
            tokio::select! {
                event = watch.events.recv() => match event {
                    Ok(event) if watch.order_id.is_none_or(|id| id == event.order_id) && event.visible_to(&watch.actor) => break,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return None,
                },
                _ = &mut watch.session.ended => return None,
                () = &mut watch.expired => return None,
            }
        }
        Some((Ok(Event::default().event("changed").data("{}")), watch))
    })
}
