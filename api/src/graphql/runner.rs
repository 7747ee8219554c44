//! The schema as every transport runs it: a request's document is checked and
//! parsed within the budget ([`limits`](super::limits)), and the request gets
//! loaders of its own ([`loaders`](super::loaders)), before async-graphql sees it.
//!
//! This is done here, not in async-graphql extensions: with any extension
//! registered, async-graphql resolves every field on its slow path (a lookup
//! of the field's type in the registry and a boxed future per extension); a
//! page of orders cost 14 % more server CPU that way (BENCHMARKS.md).
//!
//! The schema is only reachable through a `Runner`; one built from
//! [`super::builder`] alone runs documents without their budget.

use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse, Data, Executor, Request, Response, ServerResult};
use domain::{Actor, Ctx};
use futures::{stream::BoxStream, StreamExt};

use super::{
    limits::{Budget, Documents, Parsed},
    loaders::Loaders,
    RastroSchema,
};
use crate::config::GraphqlLimits;

/// The schema with the documents it has parsed. Cloned once per socket, so
/// one pointer: a copy of the domain context per socket cost 4–5 KiB per
/// subscriber (BENCHMARKS.md).
#[derive(Clone)]
pub struct Runner(Arc<Parts>);

struct Parts {
    schema: RastroSchema,
    /// What the loaders read.
    db: sea_orm::DatabaseConnection,
    budget: Budget,
    documents: Documents,
}

impl Runner {
    /// The schema with `limits`, for `ctx` and the request budgets `rates`.
    pub fn new(limits: &GraphqlLimits, ctx: Ctx, rates: Arc<crate::ratelimit::Limits>) -> Self {
        let db = ctx.db.clone();
        let schema = super::builder(limits).data(ctx).data(rates).finish();
        Runner(Arc::new(Parts { schema, db, budget: super::budget(limits), documents: Documents::new() }))
    }

    /// `request` with its document checked and parsed (or taken from the
    /// documents kept); the error is the client's.
    pub fn parse(&self, request: Request) -> ServerResult<Parsed> {
        self.0.documents.parse_request(request, &self.0.budget)
    }

    /// Runs one operation; the request's data holds its actor (anonymous
    /// without one).
    pub async fn execute(&self, request: Request) -> Response {
        match self.parse(request) {
            Ok(parsed) => self.execute_parsed(parsed).await,
            Err(error) => Response::from_errors(vec![error]),
        }
    }

    /// Runs a parsed operation.
    pub async fn execute_parsed(&self, parsed: Parsed) -> Response {
        let actor = actor_of(&parsed.request().data, None);
        self.0.schema.execute(self.with_loaders(parsed, actor)).await
    }

    /// Runs the operations of `batch` concurrently, answering in their
    /// order, as async-graphql does.
    pub async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match batch {
            BatchRequest::Single(request) => BatchResponse::Single(self.execute(request).await),
            BatchRequest::Batch(requests) => {
                BatchResponse::Batch(futures::future::join_all(requests.into_iter().map(|r| self.execute(r))).await)
            }
        }
    }

    /// The answers of a parsed operation over a socket; the actor is the
    /// request's, else the socket's (`session_data`).
    pub fn execute_stream(&self, parsed: Parsed, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let actor = actor_of(&parsed.request().data, session_data.as_deref());
        Executor::execute_stream(&self.0.schema, self.with_loaders(parsed, actor), session_data)
    }

    fn with_loaders(&self, parsed: Parsed, actor: Actor) -> Request {
        parsed.into_request().data(Arc::new(Loaders::new(&self.0.db, actor)))
    }
}

/// One answer: the error of a request that could not run.
pub(crate) fn refused(error: async_graphql::ServerError) -> BoxStream<'static, Response> {
    futures::stream::once(async move { Response::from_errors(vec![error]) }).boxed()
}

/// HTTP puts the actor in the request; a WebSocket in the connection.
fn actor_of(request: &Data, session: Option<&Data>) -> Actor {
    let of = |data: &Data| data.get(&std::any::TypeId::of::<Actor>()).and_then(|d| d.downcast_ref::<Actor>()).cloned();
    of(request).or_else(|| session.and_then(of)).unwrap_or_else(Actor::anonymous)
}
