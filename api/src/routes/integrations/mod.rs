//! Integration endpoints: external systems push their orders and events here,
//! authenticated by their company's integration token. Each route is thin:
//! bound the body, authenticate, hand the bytes to `domain::ingest::handle`
//! with its adapter, and answer what the adapter rendered.

pub mod storefront;
pub mod totvs_r2;
pub mod vtex;

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use domain::{companies, Actor, DomainError};
use tokio::sync::Semaphore;

use crate::state::AppState;

/// Integration calls at work in this process; see
/// [`crate::config::IntegrationLimits::concurrent`].
#[derive(Debug, Clone)]
pub struct IntegrationSlots(pub Arc<Semaphore>);

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Over the size limit (by its `Content-Length` or as it arrived).
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The connection failed while reading.
    #[error("the request body could not be read")]
    Unreadable,
}

/// Reads the body whole, refusing it as soon as it is known to be too large.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        // `to_bytes` reports an overrun as a length-limit error in its chain.
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            BodyError::TooLarge(limit)
        } else {
            BodyError::Unreadable
        }
    })
}

/// The integration token a request carries: the `user.token` header (what
/// TOTVS clients send), `Authorization: Bearer`, or `in_body` (a credential
/// the protocol carries inside the message).
pub fn token<'a>(headers: &'a HeaderMap, in_body: Option<&'a str>) -> Option<&'a str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    header("user.token")
        .or_else(|| header(header::AUTHORIZATION.as_str()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim))
        .or(in_body)
}

/// A header's value as text, when it is.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The company's integration actor for `token`, or why not.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> Result<Actor, DomainError> {
    let token = token.ok_or(DomainError::Unauthenticated)?;
    companies::authenticate_integration(&state.ctx, token).await
}

/// A JSON answer; a 4xx is marked as the client's fault for the logs.
pub fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status.is_client_error() {
        response.extensions_mut().insert(crate::telemetry::ClientFault);
    }
    response
}

/// Our failure in a JSON route: logged in full, answered in general terms.
pub fn server_error(route: &'static str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, route, "integration call failed");
    json(StatusCode::INTERNAL_SERVER_ERROR, br#"{"error":{"code":"INTERNAL","message":"internal error; try again later"}}"#.to_vec())
}
