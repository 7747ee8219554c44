//! HTTP routes.

pub mod exports;
pub mod graphql_http;
pub mod graphql_ws;
pub mod health;

use axum::{
    extract::DefaultBodyLimit,
    middleware,
    routing::get,
    Router,
};

use crate::{state::AppState, telemetry};

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.limits.body_bytes;
    Router::new()
        .route("/graphql", get(graphql_http::get).post(graphql_http::post))
        .route("/graphql/ws", get(graphql_ws::upgrade))
        .route("/graphiql", get(graphql_http::graphiql))
        .route("/exports/orders.csv", get(exports::orders_csv))
        .route("/exports/orders.xml", get(exports::orders_xml))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), telemetry::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
