//! The web portal: server-rendered pages (minijinja templates compiled into
//! the binary, a small script for the live parts), served by the same
//! process as GraphQL and going through the same domain functions, so there
//! is no second access-control path. No Node toolchain is needed to build
//! or run it.
//!
//! - [`customer`]: `/login`, `/forgot-password`, `/reset-password`,
//!   `/orders`, `/orders/{id}` (the link in the status mails) and its live
//!   part; [`live`]: the server-sent events that keep an open order current.
//! - [`track`]: `/track/{token}`, the public tracking page.
//! - [`session`]: the session cookie and CSRF; [`i18n`]: pt-BR and English;
//!   [`view`]: templates, error pages, security headers.

pub mod assets;
pub mod customer;
pub mod i18n;
pub mod live;
pub mod session;
pub mod track;
pub mod view;

use axum::{extract::Request, middleware::Next, response::Response, routing::get, Router};

use crate::state::AppState;

/// The portal's routes. Pages are charged to the client's request budget like
/// every other route (the caller adds that layer).
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(customer::home))
        .route("/login", get(customer::login_page).post(customer::login))
        .route("/logout", axum::routing::post(customer::logout))
        .route("/forgot-password", get(customer::forgot_page).post(customer::forgot))
        .route("/reset-password", get(customer::reset_page).post(customer::reset))
        .route("/orders", get(customer::orders))
        .route("/orders/{id}", get(customer::order))
        .route("/orders/{id}/live", get(customer::order_live))
        .route("/orders/{id}/events", get(live::events))
        .route("/track/{token}", get(track::page))
        .route("/language", get(i18n::switch))
        .layer(axum::middleware::from_fn(secured))
}

/// The stylesheet and script.
pub fn assets() -> Router<AppState> {
    Router::new().route("/assets/{name}", get(assets::serve)).layer(axum::middleware::from_fn(secured))
}

async fn secured(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    view::secure_headers(&mut response);
    response
}
