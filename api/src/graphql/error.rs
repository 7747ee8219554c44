//! The one mapping from domain errors to GraphQL errors with a stable
//! `extensions.code`. Infrastructure details are logged here and never sent.

use async_graphql::{ErrorExtensions, ServerError};
use domain::DomainError;

/// Stable error codes clients can branch on.
pub mod code {
    /// No or invalid credentials.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// Not allowed for this role.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// No such object (or not visible to the caller).
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// Bad input.
    pub const VALIDATION: &str = "VALIDATION";
    /// Conflicts with existing data.
    pub const CONFLICT: &str = "CONFLICT";
    /// Too many attempts.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The request took longer than the server allows.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// Something broke on our side.
    pub const INTERNAL: &str = "INTERNAL";
}

/// The stable code (and finer reason) of a domain error: the one mapping every
/// transport uses.
pub fn classify(err: &DomainError) -> (&'static str, Option<&'static str>) {
    let reason = match err {
        DomainError::AccountDeactivated => Some("ACCOUNT_DEACTIVATED"),
        DomainError::PasswordChangeRequired => Some("PASSWORD_CHANGE_REQUIRED"),
        _ => None,
    };
    (err.code(), reason)
}

/// The HTTP status for a domain error, for plain HTTP endpoints (exports).
pub fn http_status(err: &DomainError) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match classify(err).0 {
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::VALIDATION => StatusCode::BAD_REQUEST,
        code::CONFLICT => StatusCode::CONFLICT,
        code::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The client-facing message: internal details are logged here, never sent.
pub fn client_message(err: &DomainError) -> String {
    err.client_message()
}

/// Converts a domain error into a GraphQL error with its code.
pub fn to_gql(err: DomainError) -> async_graphql::Error {
    let (code, reason) = classify(&err);
    let message = client_message(&err);
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", code);
        if let Some(reason) = reason {
            e.set("reason", reason);
        }
        match &err {
            DomainError::Validation { field, .. } => e.set("field", field.as_str()),
            DomainError::RateLimited { retry_after_secs } => e.set("retryAfterSeconds", *retry_after_secs),
            _ => {}
        }
    })
}

/// `.gql()` on domain results, for resolvers.
pub trait GqlResultExt<T> {
    /// Maps the error with [`to_gql`].
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, DomainError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_gql)
    }
}

/// Gives every error without a code one: errors raised by async-graphql itself
/// (syntax, unknown fields, limits, bad argument types) are the client's input.
pub fn ensure_code(error: &mut ServerError) {
    let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if !has_code {
        error.extensions.get_or_insert_with(Default::default).set("code", code::VALIDATION);
    }
}

/// A response body holding one error with `code`, for refusals made before
/// GraphQL runs (content type, body size, batch size).
pub fn error_body(message: &str, code: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}
