//! `POST /integrations/totvs-r2/OrderAcquisitionService`: TOTVS TOL/TRE R2
//! order acquisition over SOAP 1.1 (`adapters/totvs-r2`), and
//! `GET …/OrderAcquisitionService?wsdl`, its description.
//!
//! Faults follow the WS-I Basic Profile: HTTP 500 with a SOAP Fault, except a
//! missing or wrong token (401) and a body over the limit (413), which are
//! refused before the body is read as XML. Every authenticated call is an
//! integration run, a refused one included.

use adapter_totvs_r2::{answer, preamble, wsdl, TotvsR2};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use domain::ingest::{self, Handled, WireError};

use super::{authenticate, read_body, token, BodyError};
use crate::state::AppState;

/// The path of the service.
pub const PATH: &str = "/integrations/totvs-r2/OrderAcquisitionService";

fn xml(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"));
    response
}

fn fault(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    let error = WireError { code, message: message.into() };
    xml(status, answer::fault(&TotvsR2::default().namespace, &error))
}

/// The WSDL, with the endpoint at this server's public address.
pub async fn describe(State(state): State<AppState>) -> Response {
    let location = format!("{}{PATH}", state.config.public_base_url.trim_end_matches('/'));
    xml(StatusCode::OK, wsdl(&TotvsR2::default().namespace, &location).into_bytes())
}

/// One SOAP call.
pub async fn call(State(state): State<AppState>, headers: HeaderMap, request: Request) -> Response {
    let limits = &state.config.integrations;
    let unauthenticated = || fault(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "a valid integration token is required (header user.token)");
    // A token in the headers is checked before the body is read: a stranger
    // does not get us to read megabytes.
    let early = match token(&headers, None) {
        Some(header_token) => match authenticate(&state, Some(header_token)).await {
            Ok(actor) => Some(actor),
            Err(domain::DomainError::Unauthenticated) => return unauthenticated(),
            Err(error) => return server_fault(&error),
        },
        None => None,
    };
    let body = match read_body(&headers, request.into_body(), limits.body_bytes).await {
        Ok(body) => body,
        Err(error @ BodyError::TooLarge(_)) => return fault(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", error.to_string()),
        Err(error @ BodyError::Unreadable) => return fault(StatusCode::BAD_REQUEST, "MALFORMED", error.to_string()),
    };
    let found = preamble(&body);
    let actor = match early {
        Some(actor) => actor,
        None => match authenticate(&state, found.password.as_deref()).await {
            Ok(actor) => actor,
            Err(domain::DomainError::Unauthenticated) => return unauthenticated(),
            Err(error) => return server_fault(&error),
        },
    };
    let Some(company_id) = actor.company_id() else { return fault(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "no company") };
    // Parsing and applying cost memory in proportion to the body: only so
    // many at once.
    let Ok(_slot) = state.integration_slots.0.acquire().await else { return server_fault(&"closing") };
    let operation = found.operation.unwrap_or_else(|| "unknown".to_owned());
    match ingest::handle(&state.ctx, company_id, &TotvsR2::default(), &operation, &body, None).await {
        Ok(answer) => match answer.handled {
            Handled::Applied(_) => xml(StatusCode::OK, answer.body),
            Handled::Rejected(_) => {
                let mut response = xml(StatusCode::INTERNAL_SERVER_ERROR, answer.body);
                response.extensions_mut().insert(crate::telemetry::ClientFault);
                response
            }
        },
        Err(error) => server_fault(&error),
    }
}

/// Our failure: logged in full, answered in general terms.
fn server_fault(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "totvs-r2 call failed");
    fault(StatusCode::INTERNAL_SERVER_ERROR, answer::SERVER, "internal error; try again later")
}
