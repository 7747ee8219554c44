//! Locality queries and mutations.

use async_graphql::{
    connection::{Connection, Edge},
    Context, Object, ID,
};
use domain::{localities, page::PageRequest};

use super::{inputs::LocalityInput, types::Locality};
use crate::graphql::{
    error::GqlResultExt,
    request::{parse_id, parts},
    types::CountFields,
};

/// Locality queries.
#[derive(Default)]
pub struct LocalityQuery;

/// Locality mutations.
#[derive(Default)]
pub struct LocalityMutation;

/// A page of localities.
pub type LocalityConnection = Connection<String, Locality, CountFields>;

#[Object]
impl LocalityQuery {
    /// The company's localities, optionally matching `search` (source id, name,
    /// city or responsible e-mail).
    async fn localities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
    ) -> async_graphql::Result<LocalityConnection> {
        let (domain, actor) = parts(ctx)?;
        let request = PageRequest::parse(first, after.as_deref()).gql()?;
        let page = localities::list(domain, actor, request, search.as_deref()).await.gql()?;
        let mut connection =
            Connection::with_additional_fields(request.after.is_some(), page.has_next_page, CountFields { total_count: page.total_count });
        connection
            .edges
            .extend(page.items.into_iter().map(|l| Edge::new(domain::page::encode_cursor(l.id), Locality(l))));
        Ok(connection)
    }

    /// One locality.
    async fn locality(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Locality> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("locality", &id)?;
        localities::get(domain, actor, id).await.gql().map(Locality)
    }
}

#[Object]
impl LocalityMutation {
    /// Creates a locality.
    async fn create_locality(&self, ctx: &Context<'_>, input: LocalityInput) -> async_graphql::Result<Locality> {
        let (domain, actor) = parts(ctx)?;
        localities::create(domain, actor, input.into()).await.gql().map(Locality)
    }

    /// Replaces a locality's fields.
    async fn update_locality(&self, ctx: &Context<'_>, id: ID, input: LocalityInput) -> async_graphql::Result<Locality> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("locality", &id)?;
        localities::update(domain, actor, id, input.into()).await.gql().map(Locality)
    }

    /// Creates or updates up to 500 localities by `sourceId`, all or nothing.
    async fn upsert_localities(&self, ctx: &Context<'_>, input: Vec<LocalityInput>) -> async_graphql::Result<Vec<Locality>> {
        let (domain, actor) = parts(ctx)?;
        let input = input.into_iter().map(Into::into).collect();
        let stored = localities::upsert_many(domain, actor, input).await.gql()?;
        Ok(stored.into_iter().map(Locality).collect())
    }
}
