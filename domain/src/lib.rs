//! Rastro's business rules, free of any web framework.
//!
//! # Layout
//! - [`Ctx`]: what every domain call needs (database, authorizer, token keys),
//!   built once at startup and passed in; no global state.
//! - [`Actor`]: who is asking. Every service function takes one; tenant scoping
//!   is derived from it in one place ([`actor::Scope`]).
//! - [`authz`]: casbin decides which actions a role may take (`policies/`).
//! - services: [`auth`] (login, tokens), [`sessions`] (refresh tokens, logout,
//!   revocations that close WebSockets), [`companies`], [`users`], [`localities`],
//!   [`orders`], [`notifications`] (SMTP, templates, outbox worker, password
//!   resets); [`ingest`], the pipeline every adapter feeds, and its
//!   integration runs; [`privacy`] (LGPD anonymization); the [`status`] machine; [`events`] for live subscribers.
//! - value types that parse and validate input: [`cnpj`], [`validate`],
//!   [`password`].
//! - [`error::DomainError`]: the typed errors the transports map to API codes.
//! - [`db`]: opening SQLite/PostgreSQL with the right settings, and migrating.
//! - [`demo`]: demo data for `rastro demo`.

pub mod actor;
pub mod address;
pub mod audit;
pub mod auth;
pub mod authz;
mod cells;
pub mod cnpj;
pub mod companies;
pub mod db;
pub mod demo;
pub mod error;
mod insert_rows;
pub mod events;
pub mod ingest;
pub mod localities;
pub mod money;
pub mod notifications;
pub mod orders;
pub mod page;
pub mod password;
pub mod privacy;
pub mod sessions;
pub mod status;
pub mod status_mappings;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod webhooks;

pub use actor::{Actor, Audience, Viewpoint};
pub use authz::{Action, Authorizer};
pub use error::{DomainError, DomainResult};

use sea_orm::DatabaseConnection;

/// Everything a domain call needs besides the actor and its input.
#[derive(Clone)]
pub struct Ctx {
    /// The database pool.
    pub db: DatabaseConnection,
    /// On a SQLite file, a connection whose commits become durable with the
    /// pool's next one ([`db::connect_relaxed`]); `None` elsewhere.
    pub relaxed_db: Option<DatabaseConnection>,
    /// The casbin enforcer for role → action decisions.
    pub authz: Authorizer,
    /// Access-token signing keys and lifetime.
    pub tokens: tokens::TokenKeys,
    /// Order events for live subscribers.
    pub events: events::EventBus,
    /// Mail configuration.
    pub mail: std::sync::Arc<notifications::MailSettings>,
    /// Wakes the mail worker after a commit that queued mail.
    pub mail_wakeup: std::sync::Arc<tokio::sync::Notify>,
    /// Bounds on ingested records.
    pub ingest: ingest::Limits,
}
