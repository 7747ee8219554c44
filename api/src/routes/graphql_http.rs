//! GraphQL over HTTP: `POST /graphql` (JSON only), `GET /graphql` (queries only),
//! and GraphiQL.
//!
//! The body is read here, under axum's body limit, instead of by
//! async-graphql-axum's extractor, which reads whatever it is sent.

use async_graphql::{
    http::GraphiQLSource,
    parser::types::OperationType,
    BatchRequest, BatchResponse,
};
use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
    Extension, Json,
};
use domain::{Actor, DomainError};

use super::Client;
use crate::{
    graphql::{
        error::{code, ensure_code, error_body},
        limits::Parsed,
    },
    state::AppState,
};

pub(crate) fn refuse(status: StatusCode, message: &str, code: &str) -> Response {
    (status, Json(error_body(message, code))).into_response()
}

/// Only `application/json` bodies are accepted: a browser can send
/// `text/plain` or form bodies cross-site without a CORS preflight, so accepting
/// them would allow cross-site request forgery.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || v == "application/graphql-response+json")
}

/// The actor behind the request's bearer token; anonymous without one.
pub(crate) async fn actor_from_headers(state: &AppState, headers: &HeaderMap) -> Result<Actor, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Actor::anonymous());
    };
    let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    let refused = || {
        let mut response = refuse(StatusCode::UNAUTHORIZED, "invalid or expired access token", code::UNAUTHENTICATED);
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        response
    };
    let Some(token) = token else {
        return Err(refused());
    };
    match domain::auth::authenticate(&state.ctx, token).await {
        Ok(actor) => Ok(actor),
        Err(DomainError::Unexpected(err)) => {
            tracing::error!(error = ?err, "authenticating request");
            Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error", code::INTERNAL))
        }
        Err(_) => Err(refused()),
    }
}

/// The request's actor, once its user (if any) has budget for `operations`.
async fn budgeted_actor(state: &AppState, headers: &HeaderMap, operations: usize) -> Result<Actor, Response> {
    let actor = actor_from_headers(state, headers).await?;
    if let Some(user_id) = actor.user_id() {
        let n = u32::try_from(operations).unwrap_or(u32::MAX);
        state.limits.charge_user_requests(user_id, n).map_err(super::too_many)?;
    }
    Ok(actor)
}

/// The JSON answer; every error gets a code, and a `RATE_LIMITED` error sets
/// `Retry-After` to its longest wait.
fn respond(mut response: BatchResponse) -> Response {
    let errors: Vec<&mut async_graphql::ServerError> = match &mut response {
        BatchResponse::Single(single) => single.errors.iter_mut().collect(),
        BatchResponse::Batch(all) => all.iter_mut().flat_map(|r| r.errors.iter_mut()).collect(),
    };
    let mut retry_after = None::<u64>;
    for error in errors {
        ensure_code(error);
        let wait = error.extensions.as_ref().and_then(|e| e.get("retryAfterSeconds")).and_then(|v| match v {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        });
        retry_after = retry_after.max(wait);
    }
    let mut http = Json(response).into_response();
    if let Some(seconds) = retry_after {
        super::set_retry_after(&mut http, seconds);
    }
    http
}

/// `POST /graphql`: one operation or a batch, as JSON.
pub async fn post(State(state): State<AppState>, Extension(client): Client, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let message = match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => format!("request body too large (limit {} bytes)", state.config.limits.body_bytes),
                _ => format!("could not read the request body: {rejection}"),
            };
            return refuse(rejection.status(), &message, code::VALIDATION);
        }
    };
    if !is_json(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "GraphQL requests must be sent with Content-Type: application/json",
            code::VALIDATION,
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(err) => return refuse(StatusCode::BAD_REQUEST, &format!("invalid GraphQL request: {err}"), code::VALIDATION),
    };
    if let BatchRequest::Batch(operations) = &batch {
        let limit = state.config.limits.batch;
        if operations.is_empty() || operations.len() > limit {
            let message = format!("a batch must hold 1 to {limit} operations");
            return refuse(StatusCode::BAD_REQUEST, &message, code::VALIDATION);
        }
    }
    let operations = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(all) => all.len(),
    };
    if let Err(refused) = super::charge_requests(&state, client, operations) {
        return refused;
    }
    let actor = match budgeted_actor(&state, &headers, operations).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    respond(state.graphql.execute_batch(batch.data(actor).data(client)).await)
}

/// A GET request's parameters, by their GraphQL-over-HTTP names.
/// (async-graphql's `parse_query_string` reads `operation_name` and ignores
/// `operationName`, so a named operation could not be chosen; its spelling is
/// still accepted.)
#[derive(serde::Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName", alias = "operation_name")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn get_request(raw: &str) -> Result<async_graphql::Request, String> {
    let params: GetParams = serde_urlencoded::from_str(raw).map_err(|err| err.to_string())?;
    let mut request = async_graphql::Request::new(params.query);
    request.operation_name = params.operation_name;
    if let Some(variables) = params.variables {
        request.variables = serde_json::from_str(&variables).map_err(|err| format!("invalid variables: {err}"))?;
    }
    if let Some(extensions) = params.extensions {
        request.extensions = serde_json::from_str(&extensions).map_err(|err| format!("invalid extensions: {err}"))?;
    }
    Ok(request)
}

/// `GET /graphql?query=…`: queries only; mutations and subscriptions get 405, since
/// GET requests must not change anything.
pub async fn get(State(state): State<AppState>, Extension(client): Client, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    if let Err(refused) = super::charge_requests(&state, client, 1) {
        return refused;
    }
    let request = match get_request(raw.as_deref().unwrap_or_default()) {
        Ok(request) => request,
        Err(err) => return refuse(StatusCode::BAD_REQUEST, &format!("invalid GraphQL request: {err}"), code::VALIDATION),
    };
    // A document over the budget is answered with its error, once the caller is known.
    let parsed = state.graphql.parse(request);
    if matches!(parsed.as_ref().ok().and_then(Parsed::operation_type), Some(OperationType::Mutation | OperationType::Subscription)) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations and subscriptions cannot be sent with GET; use POST (or the WebSocket endpoint)",
            code::VALIDATION,
        );
        response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let actor = match budgeted_actor(&state, &headers, 1).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    respond(BatchResponse::Single(match parsed {
        Ok(parsed) => state.graphql.execute_parsed(parsed.data(actor).data(client)).await,
        Err(error) => async_graphql::Response::from_errors(vec![error]),
    }))
}

/// `GET /graphiql`: the in-browser IDE.
pub async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql/ws").title("Rastro GraphiQL").finish())
}
