//! Per-request DataLoaders for the nested fields of orders. A page or an
//! order read with its lists in one statement ([`domain::orders::Lists`])
//! hands them to these caches ([`Loaders::feed`]); what was not read ahead
//! is batched, one statement per kind for all the orders that ask, not one
//! per order. Built for each operation
//! ([`super::Runner`]), over HTTP or a WebSocket, with its actor, so nothing
//! is cached across operations and the domain scopes every batch. (The
//! members of a shared subscription share its one operation, run as their
//! viewpoint's stand-in: routes/graphql_ws/shared.rs.)

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use domain::{orders, Actor};
use entities::{invoice, locality, order_attribute, order_item, order_status_history, refund, shipment, tracking_event};
use sea_orm::{DatabaseConnection, ModelTrait};

use super::error::to_gql;
use super::orders::types::{HistoryEntry, Invoice, Order, OrderItem, Refund, Shipment, TrackingEvent};

/// One batch function over order ids.
pub struct Batch<T> {
    db: DatabaseConnection,
    actor: Arc<Actor>,
    kind: std::marker::PhantomData<fn() -> T>,
}

/// An order's list as read with some of its rows' columns left unread
/// ([`orders::Unread`]). Each reading is cached apart, so a list read narrow
/// for one selection never answers another that wants more of its rows.
pub type ListKey<E> = (i32, orders::Unread<E>);

macro_rules! order_children {
    ($model:ty, $function:path) => {
        impl Loader<ListKey<<$model as ModelTrait>::Entity>> for Batch<$model> {
            type Value = Vec<$model>;
            type Error = async_graphql::Error;

            async fn load(
                &self,
                keys: &[ListKey<<$model as ModelTrait>::Entity>],
            ) -> Result<HashMap<ListKey<<$model as ModelTrait>::Entity>, Self::Value>, Self::Error> {
                // A batch reads every column: more than a narrow key needs.
                let ids: Vec<i32> = keys.iter().map(|(id, _)| *id).collect();
                let found = $function(&self.db, &self.actor, &ids).await.map_err(to_gql)?;
                Ok(each_key(found, keys))
            }
        }
    };
}

/// The rows `found` by order id, answered for each of `keys` (an empty list
/// for an order without rows, so the cache never asks again). Moved, not
/// copied, unless one order is asked for under two readings.
fn each_key<K: Copy + Eq + std::hash::Hash, T: Clone>(mut found: HashMap<i32, Vec<T>>, keys: &[(i32, K)]) -> HashMap<(i32, K), Vec<T>> {
    let mut answer = HashMap::with_capacity(keys.len());
    for (at, key) in keys.iter().enumerate() {
        let again = keys[at + 1..].iter().any(|later| later.0 == key.0);
        let rows = if again { found.get(&key.0).cloned() } else { found.remove(&key.0) };
        answer.insert(*key, rows.unwrap_or_default());
    }
    answer
}

order_children!(order_item::Model, orders::items_for);
order_children!(order_status_history::Model, orders::history_for);
order_children!(shipment::Model, orders::shipments_for);
order_children!(order_attribute::Model, orders::attributes_for);
order_children!(refund::Model, orders::refunds_for);
order_children!(invoice::Model, orders::invoices_for);
order_children!(tracking_event::Model, orders::tracking_events_for);

impl Loader<i32> for Batch<locality::Model> {
    type Value = locality::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        domain::localities::by_ids(&self.db, &self.actor, keys).await.map_err(to_gql)
    }
}

/// A loader whose cache hashes its keys (database ids, with the columns a
/// list was read with) with foldhash rather than SipHash: a page makes
/// thousands of lookups.
type Cached<T> = DataLoader<Batch<T>, HashMapCache<foldhash::fast::RandomState>>;

/// The loaders of one request. They cache what they load, or are fed, for
/// this request only, so the lists read with a page ([`Loaders::feed`]) are
/// what every order's fields then read.
pub struct Loaders {
    /// Items by order id.
    pub items: Cached<order_item::Model>,
    /// History by order id.
    pub history: Cached<order_status_history::Model>,
    /// Shipments by order id.
    pub shipments: Cached<shipment::Model>,
    /// Classifications and attributes by order id.
    pub attributes: Cached<order_attribute::Model>,
    /// Refunds by order id.
    pub refunds: Cached<refund::Model>,
    /// Invoices by order id.
    pub invoices: Cached<invoice::Model>,
    /// Shipments' tracking events by order id.
    pub tracking: Cached<tracking_event::Model>,
    /// Localities by id.
    pub localities: Cached<locality::Model>,
}

/// The lists of an order its selections ask for (a page's `edges.node` and
/// `nodes`, or an `order` field), to be read with the order itself, and the
/// columns of the order and of its lists' rows that no field reads.
pub fn lists_of(selections: &[async_graphql::Lookahead<'_>]) -> orders::Lists {
    let any = |field: &str| selections.iter().any(|s| s.field(field).exists());
    let under = |field: &str| selections.iter().map(|s| s.field(field)).collect::<Vec<_>>();
    let shipments = under("shipments");
    let events: Vec<_> = shipments.iter().map(|s| s.field("events")).collect();
    orders::Lists {
        items: any("items"),
        history: any("history"),
        shipments: any("shipments"),
        attributes: any("classifications") || any("attributes"),
        refunds: any("refunds"),
        invoices: any("invoices"),
        tracking: events.iter().any(|e| e.exists()),
        destination: any("destination"),
        unread: unread_by(selections, Order::columns_of),
        unread_in_lists: orders::UnreadInLists {
            items: unread_by(&under("items"), OrderItem::columns_of),
            history: unread_by(&under("history"), HistoryEntry::columns_of),
            shipments: unread_by(&shipments, Shipment::columns_of),
            refunds: unread_by(&under("refunds"), Refund::columns_of),
            invoices: unread_by(&under("invoices"), Invoice::columns_of),
            tracking: unread_by(&events, TrackingEvent::columns_of),
        },
    }
}

/// The optional columns of `E` no field of `selections` reads, given the
/// columns each field of their type reads (`columns_of`; `None` for a field
/// it does not know, which reads them all).
fn unread_by<E: orders::Pruned>(
    selections: &[async_graphql::Lookahead<'_>],
    columns_of: fn(&str) -> Option<&'static [E::Column]>,
) -> orders::Unread<E> {
    let mut wanted = Vec::new();
    for selected in selections.iter().flat_map(|s| s.selection_fields()) {
        for field in selected.selection_set() {
            match columns_of(field.name()) {
                Some(columns) => wanted.extend_from_slice(columns),
                None => return orders::Unread::default(),
            }
        }
    }
    orders::Unread::all_but(&wanted)
}

impl Loaders {
    /// Fresh loaders for one caller, reading `db`.
    pub fn new(db: &DatabaseConnection, actor: Actor) -> Self {
        fn loader<T: Send + Sync + 'static>(db: &DatabaseConnection, actor: &Arc<Actor>) -> Cached<T> {
            let batch = Batch { db: db.clone(), actor: actor.clone(), kind: std::marker::PhantomData };
            DataLoader::with_cache(batch, tokio::spawn, HashMapCache::new())
        }
        let actor = &Arc::new(actor);
        Loaders {
            items: loader(db, actor),
            history: loader(db, actor),
            shipments: loader(db, actor),
            attributes: loader(db, actor),
            refunds: loader(db, actor),
            invoices: loader(db, actor),
            tracking: loader(db, actor),
            localities: loader(db, actor),
        }
    }
}

impl Loaders {
    /// Hands the lists read with some orders ([`orders::Nested`]) to the
    /// loaders' caches, so resolving each order's fields only reads the cache.
    /// Without this the batches would depend on timing: large lists are
    /// resolved in several passes, and a batch can leave before the last pass
    /// adds its keys.
    pub async fn feed(&self, nested: orders::Nested) {
        async fn feed<T>(loader: &Cached<T>, found: Option<orders::ById<Vec<T>>>, unread: orders::Unread<T::Entity>)
        where
            T: ModelTrait + Clone + Send + Sync + 'static,
            Batch<T>: Loader<ListKey<T::Entity>, Value = Vec<T>>,
        {
            if let Some(found) = found {
                loader.feed_many(found.into_iter().map(|(id, rows)| ((id, unread), rows))).await;
            }
        }
        let unread = nested.unread;
        feed(&self.items, nested.items, unread.items).await;
        feed(&self.history, nested.history, unread.history).await;
        feed(&self.shipments, nested.shipments, unread.shipments).await;
        feed(&self.attributes, nested.attributes, orders::Unread::default()).await;
        feed(&self.refunds, nested.refunds, unread.refunds).await;
        feed(&self.invoices, nested.invoices, unread.invoices).await;
        feed(&self.tracking, nested.tracking, unread.tracking).await;
        if let Some(destinations) = nested.destinations {
            self.localities.feed_many(destinations).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_gets_its_orders_rows_even_when_one_order_is_read_twice() {
        let found = HashMap::from([(1, vec!["a", "b"]), (2, vec!["c"])]);
        let answer = each_key(found, &[(1, 'n'), (2, 'n'), (1, 'w'), (3, 'n')]);
        assert_eq!(answer[&(1, 'n')], ["a", "b"]);
        assert_eq!(answer[&(1, 'w')], ["a", "b"]);
        assert_eq!(answer[&(2, 'n')], ["c"]);
        assert!(answer[&(3, 'n')].is_empty(), "an order without rows is answered too");
        assert_eq!(answer.len(), 4);
    }
}
