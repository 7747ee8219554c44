//! The web portal: server-rendered pages (minijinja templates compiled into
//! the binary, a small script for the live parts), served by the same
//! process as GraphQL and going through the same domain functions, so there
//! is no second access-control path. No Node toolchain is needed to build
//! or run it.
//!
//! - [`account`]: the three areas' logins (`/login` for customers,
//!   `/admin/login` for company staff, `/support/login` for platform
//!   support), logout, `/forgot-password`, `/reset-password`, `/password`.
//! - [`customer`]: `/orders` and `/orders/{id}` (the link in the status
//!   mails) with its live part; [`live`]: the server-sent events that keep an
//!   open order current.
//! - [`track`]: `/track/{token}`, the public tracking page.
//! - [`company`]: `/admin`, the company's live dashboard, and the lifecycle
//!   actions of the order page.
//! - [`places`]: `/admin/localities`, origins and destinations with their
//!   responsible person.
//! - [`operations`]: the integrations log and monitor with reprocessing, the
//!   audit log, and the LGPD actions.
//! - [`mail`]: `/admin/mail`, the company's SMTP server (with the test
//!   button), notification rules and templates (with preview).
//! - [`support`]: `/support`, platform support's companies and their staff.
//! - [`session`]: the session cookie and CSRF; [`i18n`]: pt-BR and English;
//!   [`view`]: templates, error pages, security headers.

pub mod account;
pub mod assets;
pub mod company;
pub mod customer;
pub mod i18n;
pub mod live;
pub mod mail;
pub mod operations;
pub mod places;
pub mod session;
pub mod support;
pub mod track;
pub mod view;

use axum::{
    extract::Request,
    middleware::Next,
    response::Response,
    routing::{get, post},
    Router,
};

use crate::state::AppState;

/// The portal's routes. Pages are charged to the client's request budget like
/// every other route (the caller adds that layer).
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(account::home))
        .route("/login", get(account::customer_login_page).post(account::customer_login))
        .route("/admin/login", get(account::company_login_page).post(account::company_login))
        .route("/support/login", get(account::support_login_page).post(account::support_login))
        .route("/logout", post(account::logout))
        .route("/password", get(account::password_page).post(account::change_password))
        .route("/forgot-password", get(account::forgot_page).post(account::forgot))
        .route("/reset-password", get(account::reset_page).post(account::reset))
        .route("/orders", get(customer::orders))
        .route("/orders/{id}", get(customer::order))
        .route("/orders/{id}/live", get(customer::order_live))
        .route("/orders/{id}/events", get(live::events))
        .route("/orders/{id}/actions/{action}", post(company::act))
        .route("/admin", get(company::dashboard))
        .route("/admin/live", get(company::dashboard_live))
        .route("/admin/events", get(live::dashboard_events))
        .route("/admin/localities", get(places::list))
        .route("/admin/localities/{id}", get(places::edit).post(places::save))
        .route("/admin/integrations", get(operations::runs))
        .route("/admin/integrations/{id}", get(operations::run))
        .route("/admin/integrations/{id}/reprocess", post(operations::reprocess))
        .route("/admin/audit", get(operations::audit))
        .route("/admin/privacy", get(operations::privacy_page))
        .route("/admin/privacy/customer", post(operations::erase_customer))
        .route("/admin/mail", get(mail::page))
        .route("/admin/mail/smtp", post(mail::save_smtp))
        .route("/admin/mail/test", post(mail::test))
        .route("/admin/mail/rules", post(mail::save_rules))
        .route("/admin/mail/templates/{status}", get(mail::template).post(mail::save_template))
        .route("/track/{token}", get(track::page))
        .route("/support", get(support::companies))
        .route("/support/secret", get(support::show_secret))
        .route("/support/companies", post(support::create_company))
        .route("/support/companies/{id}", get(support::company))
        .route("/support/companies/{id}/active", post(support::set_company_active))
        .route("/support/companies/{id}/token", post(support::rotate_token))
        .route("/support/companies/{id}/users", post(support::create_user))
        .route("/support/users/{id}/active", post(support::set_user_active))
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
