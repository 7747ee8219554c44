//! HTTP routes.

pub mod exports;
pub mod graphql_http;
pub mod graphql_ws;
pub mod health;
pub mod integrations;

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::Response,
    routing::{get, patch, post, put, MethodRouter},
    Extension, Router,
};

use crate::{
    graphql::error::code,
    ratelimit::{ClientIp, Exhausted},
    state::AppState,
    telemetry,
};

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.limits.body_bytes;
    // An integration route bounds its own body, to answer in its protocol.
    let integration = |route: MethodRouter<AppState>| {
        route.layer(DefaultBodyLimit::disable()).route_layer(middleware::from_fn_with_state(state.clone(), charge_one))
    };
    Router::new()
        .route("/graphql", get(graphql_http::get).post(graphql_http::post))
        .route("/graphql/ws", get(graphql_ws::upgrade).route_layer(middleware::from_fn_with_state(state.clone(), charge_one)))
        .route("/graphiql", get(graphql_http::graphiql))
        .route("/exports/orders.csv", get(exports::orders_csv).route_layer(middleware::from_fn_with_state(state.clone(), charge_one)))
        .route(
            "/exports/order-lines.csv",
            get(exports::order_lines_csv).route_layer(middleware::from_fn_with_state(state.clone(), charge_one)),
        )
        .route("/exports/orders.xml", get(exports::orders_xml).route_layer(middleware::from_fn_with_state(state.clone(), charge_one)))
        .route(integrations::totvs_r2::PATH, integration(get(integrations::totvs_r2::describe).post(integrations::totvs_r2::call)))
        .route(integrations::storefront::EVENTS_PATH, integration(post(integrations::storefront::events)))
        .route(integrations::storefront::SHOPIFY_PATH, integration(post(integrations::storefront::shopify)))
        .route(integrations::storefront::MAGENTO_PATH, integration(post(integrations::storefront::magento)))
        .route(integrations::storefront::NUVEMSHOP_PATH, integration(post(integrations::storefront::nuvemshop)))
        .route(integrations::vtex::ORDERS_PATH, integration(post(integrations::vtex::orders)))
        .route(integrations::vtex::HOOK_PATH, integration(post(integrations::vtex::hook)))
        .route(integrations::vtex::INVOICE_PATH, integration(patch(integrations::vtex::tracking_number)))
        .route(integrations::vtex::OMS_INVOICE_PATH, integration(patch(integrations::vtex::tracking_number)))
        .route(integrations::vtex::TRACKING_PATH, integration(put(integrations::vtex::tracking)))
        .route(integrations::vtex::OMS_TRACKING_PATH, integration(put(integrations::vtex::tracking)))
        .merge(crate::portal::pages().route_layer(middleware::from_fn_with_state(state.clone(), charge_one)))
        .merge(crate::portal::assets())
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), edge))
        .layer(middleware::from_fn_with_state(state.clone(), telemetry::track))
        .layer(tower_http::trace::TraceLayer::new(tower_http::classify::SharedClassifier::new(crate::telemetry::ServerFailures)))
        .with_state(state)
}

/// Names the client (the peer, or what a trusted proxy says) for every handler,
/// and bounds the time a request may take to produce its response. A request
/// cut off here is dropped, so its open transaction rolls back: nothing is
/// written half.
async fn edge(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = crate::serve::peer(request.extensions()).map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.ip());
    let forwarded_for = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = state.config.trusted_proxies.client(peer, forwarded_for);
    request.extensions_mut().insert(ClientIp(client));
    match tokio::time::timeout(state.config.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%client, "request timed out");
            graphql_http::refuse(StatusCode::SERVICE_UNAVAILABLE, "the request took too long and was stopped", code::TIMEOUT)
        }
    }
}

/// Charges one request to the client's budget before the handler runs.
async fn charge_one(State(state): State<AppState>, Extension(client): Client, request: Request, next: Next) -> Response {
    match charge_requests(&state, client, 1) {
        Ok(()) => next.run(request).await,
        Err(refused) => refused,
    }
}

/// Charges one request (or `n`, for a batch) to the client's budget; the
/// refusal is a 429 with `Retry-After` and a GraphQL-shaped body. (The refusal
/// is the response itself, ready to return; it is not kept or passed around.)
#[allow(clippy::result_large_err)]
pub(crate) fn charge_requests(state: &AppState, client: ClientIp, n: usize) -> Result<(), Response> {
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    state.limits.charge_requests(client.0, n).map_err(too_many)
}

/// `429 Too Many Requests` with `Retry-After` and a body with `RATE_LIMITED`.
pub(crate) fn too_many(exhausted: Exhausted) -> Response {
    let mut response = graphql_http::refuse(StatusCode::TOO_MANY_REQUESTS, &exhausted.to_string(), code::RATE_LIMITED);
    set_retry_after(&mut response, exhausted.retry_after_secs);
    response
}

/// Sets `Retry-After` to `seconds`.
pub(crate) fn set_retry_after(response: &mut Response, seconds: u64) {
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// The client as the edge middleware named it.
pub(crate) type Client = Extension<ClientIp>;
