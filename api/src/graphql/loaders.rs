//! Per-request DataLoaders: nested order fields of a whole page are fetched with
//! one statement per kind, not one per order. Built for each request (or
//! WebSocket connection) with its actor, so results are never shared between
//! callers and the domain scopes every batch.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use domain::{orders, Actor, Ctx};
use entities::{locality, order_attribute, order_item, order_status_history, refund, shipment};

use super::error::to_gql;

/// One batch function over order ids.
pub struct Batch<T> {
    ctx: Ctx,
    actor: Actor,
    kind: std::marker::PhantomData<fn() -> T>,
}

macro_rules! order_children {
    ($model:ty, $function:path) => {
        impl Loader<i32> for Batch<$model> {
            type Value = Vec<$model>;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
                $function(&self.ctx.db, &self.actor, keys).await.map_err(to_gql)
            }
        }
    };
}

order_children!(order_item::Model, orders::items_for);
order_children!(order_status_history::Model, orders::history_for);
order_children!(shipment::Model, orders::shipments_for);
order_children!(order_attribute::Model, orders::attributes_for);
order_children!(refund::Model, orders::refunds_for);

impl Loader<i32> for Batch<locality::Model> {
    type Value = locality::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        domain::localities::by_ids(&self.ctx.db, &self.actor, keys).await.map_err(to_gql)
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Items by order id.
    pub items: DataLoader<Batch<order_item::Model>>,
    /// History by order id.
    pub history: DataLoader<Batch<order_status_history::Model>>,
    /// Shipments by order id.
    pub shipments: DataLoader<Batch<shipment::Model>>,
    /// Classifications and attributes by order id.
    pub attributes: DataLoader<Batch<order_attribute::Model>>,
    /// Refunds by order id.
    pub refunds: DataLoader<Batch<refund::Model>>,
    /// Localities by id.
    pub localities: DataLoader<Batch<locality::Model>>,
}

impl Loaders {
    /// Fresh loaders for one caller.
    pub fn new(ctx: &Ctx, actor: &Actor) -> Self {
        fn loader<T>(ctx: &Ctx, actor: &Actor) -> DataLoader<Batch<T>>
        where
            Batch<T>: Loader<i32>,
        {
            let batch = Batch { ctx: ctx.clone(), actor: actor.clone(), kind: std::marker::PhantomData };
            DataLoader::new(batch, tokio::spawn)
        }
        Loaders {
            items: loader(ctx, actor),
            history: loader(ctx, actor),
            shipments: loader(ctx, actor),
            attributes: loader(ctx, actor),
            refunds: loader(ctx, actor),
            localities: loader(ctx, actor),
        }
    }
}
