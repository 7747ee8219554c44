//! `POST /integrations/vtex/orders` (VTEX orders to import),
//! `POST /integrations/vtex/hook` (VTEX Hook notifications),
//! `PATCH /integrations/vtex/orders/{orderId}/invoice/{invoiceNumber}` (an
//! invoice's tracking number) and `PUT …/invoice/{invoiceNumber}/tracking`
//! (its carrier's report), through `adapters/vtex`. The last two also answer
//! under `/integrations/vtex/api/oms/pvt/orders/…`, VTEX's own paths, so a
//! carrier's integration can take Rastro's base URL in place of the store's.
//!
//! Authenticated by the company's integration token: `user.token`,
//! `Authorization: Bearer`, or VTEX's own header pair with the token as
//! `X-VTEX-API-AppToken`. A missing or wrong token is a 401 and a body over
//! the limit a 413, before the body is read; a body that is not what the
//! path takes is a 400 with a message, recorded as a rejected run. VTEX's
//! `{"hookConfig":"ping"}` is answered 200 and recorded nowhere. A
//! notification is one record, applied at once: nothing slow runs inline
//! (mail goes through the outbox), well within VTEX's 5 s.

use adapter_vtex::{hook, tracking::Addressed, Vtex, HOOK, IMPORT, TRACKING, TRACKING_NUMBER};
use axum::{
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use domain::{
    ingest::{self, Adapter, Handled, WireError},
    DomainError,
};

use super::{authenticate, json, read_body, token, BodyError};
use crate::state::AppState;

/// The import path.
pub const ORDERS_PATH: &str = "/integrations/vtex/orders";
/// The hook path.
pub const HOOK_PATH: &str = "/integrations/vtex/hook";
/// An invoice's path (`PATCH`: its tracking number).
pub const INVOICE_PATH: &str = "/integrations/vtex/orders/{order_id}/invoice/{invoice_number}";
/// An invoice's tracking path (`PUT`: its carrier's report).
pub const TRACKING_PATH: &str = "/integrations/vtex/orders/{order_id}/invoice/{invoice_number}/tracking";
/// [`INVOICE_PATH`] as VTEX spells it.
pub const OMS_INVOICE_PATH: &str = "/integrations/vtex/api/oms/pvt/orders/{order_id}/invoice/{invoice_number}";
/// [`TRACKING_PATH`] as VTEX spells it.
pub const OMS_TRACKING_PATH: &str = "/integrations/vtex/api/oms/pvt/orders/{order_id}/invoice/{invoice_number}/tracking";

fn refusal(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    let error = WireError { code, message: message.into() };
    json(status, Vtex.render_rejection("", &error))
}

/// `POST /integrations/vtex/orders`.
pub async fn orders(state: State<AppState>, headers: HeaderMap, request: Request) -> Response {
    call(state, headers, request, IMPORT).await
}

/// `POST /integrations/vtex/hook`.
pub async fn hook(state: State<AppState>, headers: HeaderMap, request: Request) -> Response {
    call(state, headers, request, HOOK).await
}

/// `PATCH …/orders/{orderId}/invoice/{invoiceNumber}`.
pub async fn tracking_number(state: State<AppState>, Path(ids): Path<(String, String)>, headers: HeaderMap, request: Request) -> Response {
    call_addressed(state, headers, request, TRACKING_NUMBER, ids).await
}

/// `PUT …/orders/{orderId}/invoice/{invoiceNumber}/tracking`.
pub async fn tracking(state: State<AppState>, Path(ids): Path<(String, String)>, headers: HeaderMap, request: Request) -> Response {
    call_addressed(state, headers, request, TRACKING, ids).await
}

async fn call(state: State<AppState>, headers: HeaderMap, request: Request, operation: &str) -> Response {
    call_with(state, headers, request, operation, None).await
}

async fn call_addressed(
    state: State<AppState>,
    headers: HeaderMap,
    request: Request,
    operation: &str,
    (order_id, invoice_number): (String, String),
) -> Response {
    call_with(state, headers, request, operation, Some((order_id, invoice_number))).await
}

/// A call to one invoice of one order is recorded with the path's ids (see
/// [`Addressed`]) and answered like VTEX: 404 when the order or invoice is
/// not known, 400 when the report was refused.
async fn call_with(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    operation: &str,
    addressed: Option<(String, String)>,
) -> Response {
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
    let body = match &addressed {
        Some((order_id, invoice_number)) => {
            Addressed::new(order_id, invoice_number, &body).map_or_else(|| body.to_vec(), |call| call.to_bytes())
        }
        None => body.to_vec(),
    };
    match ingest::handle(&state.ctx, company_id, &Vtex, operation, &body, None).await {
        Ok(answer) => match answer.handled {
            Handled::Applied(report) if addressed.is_some() && report.failed > 0 => {
                let not_found = report.items.iter().filter_map(|i| i.error.as_ref()).any(|e| e.code == "NOT_FOUND");
                let status = if not_found { StatusCode::NOT_FOUND } else { StatusCode::BAD_REQUEST };
                json(status, answer.body)
            }
            Handled::Applied(_) => json(StatusCode::OK, answer.body),
            Handled::Rejected(_) => json(StatusCode::BAD_REQUEST, answer.body),
        },
        Err(error) => server_error(&error),
    }
}

fn server_error(error: &dyn std::fmt::Display) -> Response {
    super::server_error("vtex", error)
}
