//! What a company's live dashboard shows: how many orders are at each status,
//! and the latest changes. Both read only the orders the actor may see, with
//! the status its audience sees.

use std::collections::HashMap;

use entities::{order, order_status_history, OrderStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

use super::{visibility::status_column, visible_orders};
use crate::{Action, Actor, Ctx, DomainResult};

/// Longest list of latest changes.
pub const MAX_LATEST: u64 = 50;

/// One recent change and the order it moved.
#[derive(Debug, Clone)]
pub struct Change {
    /// The history entry.
    pub entry: order_status_history::Model,
    /// The order's code.
    pub order_code: String,
}

/// Orders per status the actor sees (statuses without orders are left out).
pub async fn status_counts(ctx: &Ctx, actor: &Actor) -> DomainResult<Vec<(OrderStatus, u64)>> {
    ctx.authz.check(actor, Action::ReadOrders)?;
    let Some(query) = visible_orders(actor) else { return Ok(Vec::new()) };
    let column = status_column(actor);
    let rows: Vec<(OrderStatus, i64)> = query
        .select_only()
        .column(column)
        .column_as(order::Column::Id.count(), "n")
        .group_by(column)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    Ok(rows.into_iter().map(|(status, n)| (status, u64::try_from(n).unwrap_or(0))).collect())
}

/// The newest applied status changes of the orders the actor sees (staff
/// only: customers follow their own orders), newest first.
pub async fn latest_changes(ctx: &Ctx, actor: &Actor, limit: u64) -> DomainResult<Vec<Change>> {
    ctx.authz.check(actor, Action::ReadOrders)?;
    if actor.audience() == crate::Audience::Customer {
        return Err(crate::DomainError::Forbidden);
    }
    let Some(visible) = visible_orders(actor) else { return Ok(Vec::new()) };
    let ids = visible.select_only().column(order::Column::Id).into_query();
    let entries = order_status_history::Entity::find()
        .filter(order_status_history::Column::OrderId.in_subquery(ids))
        .filter(order_status_history::Column::Applied.eq(true))
        .order_by_desc(order_status_history::Column::Id)
        .limit(limit.min(MAX_LATEST))
        .all(&ctx.db)
        .await?;
    let order_ids: Vec<i32> = entries.iter().map(|e| e.order_id).collect();
    let codes: HashMap<i32, String> = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .column(order::Column::Code)
        .filter(order::Column::Id.is_in(order_ids))
        .into_tuple()
        .all(&ctx.db)
        .await?
        .into_iter()
        .collect();
    Ok(entries.into_iter().map(|entry| Change { order_code: codes.get(&entry.order_id).cloned().unwrap_or_default(), entry }).collect())
}
