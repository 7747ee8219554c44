//! Typed domain errors. Transports map each variant once to a stable API code;
//! [`DomainError::Unexpected`] carries infrastructure failures whose details are
//! logged, never shown to clients.

use entities::OrderStatus;

/// Result alias for domain calls.
pub type DomainResult<T> = Result<T, DomainError>;

/// Everything a domain call can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthenticated,
    /// Login failed. One message for unknown e-mail, wrong password or company,
    /// so the answer does not reveal which accounts exist.
    #[error("invalid e-mail, password or company")]
    InvalidCredentials,
    /// The actor's role may not perform this action.
    #[error("not allowed")]
    Forbidden,
    /// The account logged in with a temporary password and must change it first.
    #[error("password change required before anything else")]
    PasswordChangeRequired,
    /// The account or its company is deactivated.
    #[error("account is deactivated")]
    AccountDeactivated,
    /// The object does not exist, or exists in a tenant the actor cannot see.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Kind of object, e.g. `company`.
        entity: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// Input broke a rule.
    #[error("{field}: {message}")]
    Validation {
        /// The offending input field (GraphQL argument path).
        field: String,
        /// What is wrong, in words a user can act on.
        message: String,
    },
    /// A status move the status machine does not allow.
    #[error("cannot change status from {} to {}", from.as_str(), to.as_str())]
    InvalidTransition {
        /// Current status.
        from: OrderStatus,
        /// Requested status.
        to: OrderStatus,
    },
    /// The change conflicts with existing data (duplicate identifier, …).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again later.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// An infrastructure failure (database, I/O). Logged, shown as "internal error".
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl DomainError {
    /// A validation error for one field.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation { field: field.into(), message: message.into() }
    }

    /// The error with `prefix` before its field, for a field checked on its
    /// own and reported inside a list (`items[3].` + `sourceId`): the path is
    /// written only when something is wrong.
    pub fn under(self, prefix: &str) -> Self {
        match self {
            DomainError::Validation { field, message } => DomainError::Validation { field: format!("{prefix}{field}"), message },
            other => other,
        }
    }

    /// The stable code of this error, as clients and the integrations log see
    /// it. The transports show these same codes (`extensions.code`, SOAP fault
    /// codes, HTTP bodies).
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Unauthenticated | DomainError::InvalidCredentials | DomainError::AccountDeactivated => "UNAUTHENTICATED",
            DomainError::Forbidden | DomainError::PasswordChangeRequired => "FORBIDDEN",
            DomainError::NotFound { .. } => "NOT_FOUND",
            DomainError::Validation { .. } | DomainError::InvalidTransition { .. } => "VALIDATION",
            DomainError::Conflict(_) => "CONFLICT",
            DomainError::RateLimited { .. } => "RATE_LIMITED",
            DomainError::Unexpected(_) => "INTERNAL",
        }
    }

    /// What a client (or the integrations log) may be told: the message, or
    /// "internal error" for an infrastructure failure, whose details are
    /// logged here instead.
    pub fn client_message(&self) -> String {
        match self {
            DomainError::Unexpected(inner) => {
                tracing::error!(error = ?inner, "internal error");
                "internal error".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// A not-found error for an entity id.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        DomainError::NotFound { entity, id: id.to_string() }
    }
}

impl From<sea_orm::DbErr> for DomainError {
    fn from(err: sea_orm::DbErr) -> Self {
        DomainError::Unexpected(anyhow::Error::new(err).context("database"))
    }
}

impl From<sea_orm::TransactionError<DomainError>> for DomainError {
    fn from(err: sea_orm::TransactionError<DomainError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

/// True when a database error is a unique-constraint violation, which callers
/// turn into [`DomainError::Conflict`] after a race with a concurrent writer.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}
