//! The GraphQL schema. Resolvers are thin: take the actor from the request,
//! call a domain service, map the result to a GraphQL type.

mod audit;
pub mod error;
pub mod guard;
pub(crate) mod integrations;
pub mod limits;
pub mod loaders;
mod mutation;
mod notifications;
mod orders;
mod privacy;
mod query;
pub mod request;
mod runner;
pub mod scalars;
mod types;
mod webhooks;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use crate::config::GraphqlLimits;

pub use orders::SubscriptionRoot;
pub(crate) use runner::refused;
pub use runner::Runner;

/// Root of all queries.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::AccountQuery,
    orders::OrderQuery,
    orders::LocalityQuery,
    notifications::NotificationQuery,
    integrations::IntegrationQuery,
    webhooks::WebhookQuery,
    audit::AuditQuery,
);

/// Root of all mutations.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    mutation::AccountMutation,
    orders::OrderMutation,
    orders::LocalityMutation,
    notifications::NotificationMutation,
    integrations::IntegrationMutation,
    webhooks::WebhookMutation,
    privacy::PrivacyMutation,
);

/// The executable schema type.
pub type RastroSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The schema with async-graphql's own limits (depth, complexity), before
/// per-server data is attached. Documents reach it through a [`Runner`],
/// which checks their budget first.
pub fn builder(limits: &GraphqlLimits) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    let builder = Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(32)
        .limit_directives(8);
    if limits.introspection {
        builder
    } else {
        builder.disable_introspection()
    }
}

/// The per-document part of the limits.
pub fn budget(limits: &GraphqlLimits) -> limits::Budget {
    limits::Budget {
        nesting: limits.nesting,
        depth: limits.depth,
        selections: limits.selections,
        aliases: limits.aliases,
        fragments: limits.fragments,
        introspection: limits.introspection,
    }
}

/// The SDL the server serves: what `rastro export-schema` prints and what
/// `schema.graphql` must equal.
pub fn sdl() -> String {
    builder(&GraphqlLimits::default()).finish().sdl()
}
