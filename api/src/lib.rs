//! The transport layer of Rastro and the `rastro` server.
//!
//! # Layout
//! - [`config`]: the typed configuration, from flags and environment.
//! - [`startup`]: [`startup::Application`] binds, migrates and serves; tests and
//!   `main` start the server the same way.
//! - [`routes`]: axum handlers: GraphQL over HTTP and WebSocket, GraphiQL,
//!   `/healthz`, `/metrics`.
//! - [`graphql`]: the schema: thin resolvers that authenticate, call the domain and
//!   map types; the safety limits; error codes.
//! - [`adapters`]: the adapters this server has, by name; [`import`]: `rastro import`.
//! - [`portal`]: the web pages for customers, and the public tracking page.
//! - [`ratelimit`]: request budgets per client address and per account.
//! - [`serve`]: the accept loop (header-read timeout, connection cap, drain).
//! - [`telemetry`]: tracing and Prometheus metrics.
//!
//! No SQL and no access rules live here: those are in `domain`.

pub mod adapters;
pub mod cli;
pub mod config;
pub mod graphql;
pub mod import;
pub mod portal;
pub mod ratelimit;
pub mod routes;
pub mod serve;
pub mod startup;
pub mod state;
pub mod telemetry;
