//! `POST /integrations/vtex/orders` (VTEX orders to import) and
//! `POST /integrations/vtex/hook` (VTEX Hook notifications), through
//! `adapters/vtex`.
//!
//! Authenticated by the company's integration token: `user.token`,
//! `Authorization: Bearer`, or VTEX's own header pair with the token as
//! `X-VTEX-API-AppToken`. A missing or wrong token is a 401 and a body over
//! the limit a 413, before the body is read; a body that is not what the
//! path takes is a 400 with a message, recorded as a rejected run. VTEX's
//! `{"hookConfig":"ping"}` is answered 200 and recorded nowhere. A
//! notification is one record, applied at once: nothing slow runs inline
//! (mail goes through the outbox), well within VTEX's 5 s.

use adapter_vtex::{hook, Vtex, HOOK, IMPORT};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use domain::{
    ingest::{self, Adapter, Handled, WireError},
    DomainError,
};

use super::{authenticate, read_body, token, BodyError};
use crate::state::AppState;

/// The import path.
pub const ORDERS_PATH: &str = "/integrations/vtex/orders";
/// The hook path.
pub const HOOK_PATH: &str = "/integrations/vtex/hook";

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn refusal(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    let error = WireError { code, message: message.into() };
    let mut response = json(status, Vtex.render_rejection("", &error));
    response.extensions_mut().insert(crate::telemetry::ClientFault);
    response
}

/// `POST /integrations/vtex/orders`.
pub async fn orders(state: State<AppState>, headers: HeaderMap, request: Request) -> Response {
    call(state, headers, request, IMPORT).await
}

/// `POST /integrations/vtex/hook`.
pub async fn hook(state: State<AppState>, headers: HeaderMap, request: Request) -> Response {
    call(state, headers, request, HOOK).await
}

async fn call(State(state): State<AppState>, headers: HeaderMap, request: Request, operation: &str) -> Response {
    let app_token = headers.get("x-vtex-api-apptoken").and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let actor = match authenticate(&state, token(&headers, app_token)).await {
        Ok(actor) => actor,
        Err(DomainError::Unauthenticated) => {
            return refusal(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "a valid integration token is required (X-VTEX-API-AppToken, user.token or Authorization: Bearer)")
        }
        Err(error) => return server_error(&error),
    };
    let Some(company_id) = actor.company_id() else { return refusal(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "no company") };
    let body = match read_body(&headers, request.into_body(), state.config.integrations.body_bytes).await {
        Ok(body) => body,
        Err(error @ BodyError::TooLarge(_)) => return refusal(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", error.to_string()),
        Err(error @ BodyError::Unreadable) => return refusal(StatusCode::BAD_REQUEST, "MALFORMED", error.to_string()),
    };
    if operation == HOOK && matches!(hook::read_hook(&body), Ok(hook::HookCall::Ping)) {
        return json(StatusCode::OK, br#"{"hookConfig":"pong"}"#.to_vec());
    }
    // Parsing and applying cost memory in proportion to the body: only so
    // many at once.
    let Ok(_slot) = state.integration_slots.0.acquire().await else { return server_error(&"closing") };
    match ingest::handle(&state.ctx, company_id, &Vtex, operation, &body, None).await {
        Ok(answer) => match answer.handled {
            Handled::Applied(_) => json(StatusCode::OK, answer.body),
            Handled::Rejected(_) => {
                let mut response = json(StatusCode::BAD_REQUEST, answer.body);
                response.extensions_mut().insert(crate::telemetry::ClientFault);
                response
            }
        },
        Err(error) => server_error(&error),
    }
}

/// Our failure: logged in full, answered in general terms.
fn server_error(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "vtex call failed");
    json(StatusCode::INTERNAL_SERVER_ERROR, br#"{"error":{"code":"INTERNAL","message":"internal error; try again later"}}"#.to_vec())
}
