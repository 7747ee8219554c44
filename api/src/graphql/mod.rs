//! The GraphQL schema. Resolvers are thin: take the actor from the request,
//! call a domain service, map the result to a GraphQL type.

pub mod error;
pub mod limits;
mod mutation;
mod query;
pub mod request;
mod types;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};

use crate::config::GraphqlLimits;

pub use mutation::MutationRoot;
pub use query::QueryRoot;

/// The executable schema type.
pub type RastroSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema with its safety limits, before per-server data is attached.
pub fn builder(limits: &GraphqlLimits) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(32)
        .limit_directives(8)
        .extension(limits::DocumentLimits { aliases: limits.aliases, depth: limits.depth })
}

/// The SDL the server serves: what `rastro export-schema` prints and what
/// `schema.graphql` must equal.
pub fn sdl() -> String {
    builder(&GraphqlLimits::default()).finish().sdl()
}
