//! Streaming exports: the filtered orders in batches, so memory stays flat
//! however many orders there are.

use entities::{order, order_item};
use futures::{stream, Stream};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

use super::query::{filtered, items_for, OrderFilter};
use crate::{Action, Actor, Ctx, DomainResult};

/// Orders read per batch.
pub const EXPORT_BATCH: u64 = 500;

/// One exported order with its items.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// The order.
    pub order: order::Model,
    /// Its items.
    pub items: Vec<order_item::Model>,
}

/// The orders matching `filter` that the actor may see, oldest first, as a stream
/// of batches: two statements per batch, whatever the total.
pub fn export_batches(
    ctx: &Ctx,
    actor: &Actor,
    filter: OrderFilter,
) -> DomainResult<impl Stream<Item = DomainResult<Vec<ExportRow>>> + Send + 'static> {
    ctx.authz.check(actor, Action::ExportOrders)?;
    let query = filtered(actor, &filter);
    let (db, actor) = (ctx.db.clone(), actor.clone());
    Ok(stream::try_unfold(Some(0_i32), move |after| {
        let (db, actor, query) = (db.clone(), actor.clone(), query.clone());
        async move {
            let (Some(after), Some(query)) = (after, query) else { return Ok(None) };
            let orders = query
                .filter(order::Column::Id.gt(after))
                .order_by_asc(order::Column::Id)
                .limit(EXPORT_BATCH)
                .all(&db)
                .await?;
            if orders.is_empty() {
                return Ok(None);
            }
            let ids: Vec<i32> = orders.iter().map(|o| o.id).collect();
            let mut items = items_for(&db, &actor, &ids).await?;
            let next = (orders.len() as u64 == EXPORT_BATCH).then(|| ids[ids.len() - 1]);
            let rows = orders
                .into_iter()
                .map(|order| ExportRow { items: items.remove(&order.id).unwrap_or_default(), order })
                .collect();
            Ok(Some((rows, next)))
        }
    }))
}
