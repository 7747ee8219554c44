//! What every handler shares.

use std::sync::Arc;

use crate::{config::Config, graphql::Runner, routes::graphql_ws::{SharedSubscriptions, SocketCounts}, telemetry::Metrics};

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// Domain context: database, authorizer, token keys.
    pub ctx: domain::Ctx,
    /// The GraphQL schema, as every transport runs it.
    pub graphql: Runner,
    /// Prometheus metrics of this server.
    pub metrics: Arc<Metrics>,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// Request budgets per client address and account.
    pub limits: Arc<crate::ratelimit::Limits>,
    /// Open WebSockets per user in this process (the per-user cap).
    pub sockets: Arc<SocketCounts>,
    /// Staff subscriptions that share one execution.
    pub shared: Arc<SharedSubscriptions>,
    /// Integration calls at work in this process (the concurrency cap).
    pub integration_slots: crate::routes::integrations::IntegrationSlots,
}
