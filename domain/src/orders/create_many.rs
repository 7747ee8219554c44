//! Creating many orders of one company together, for the ingestion
//! pipeline's batches: every order's rows go in a few multi-row statements
//! instead of eight statements per order.

use std::collections::HashMap;

use entities::{order, order_status_history};
use sea_orm::{Set, TryIntoModel};

use super::{
    create::{conflict_on_duplicate, creation_entry, Prepared},
    lifecycle::event_of,
    work::Work,
};
use crate::{
    audit,
    insert_rows::{insert_rows, insert_rows_returning},
    Action, Actor, Ctx, DomainError, DomainResult,
};

/// Inserts orders of the actor's company, each already checked as
/// [`super::create_in`] checks it (its localities included), inside `work`:
/// the orders, their lines, classifications and attributes, their first
/// history entries and audit entries, and their events once committed.
/// `responsible` gives the responsible e-mail of each destination locality
/// for the events. Returns the orders in the order given.
pub(crate) async fn insert_prepared(
    ctx: &Ctx,
    work: &mut Work,
    actor: &Actor,
    prepared: Vec<Prepared>,
    responsible: &HashMap<i32, String>,
) -> DomainResult<Vec<order::Model>> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let company_id = actor.company_id().ok_or(DomainError::Forbidden)?;
    let txn = work.txn();
    let mut models = Vec::with_capacity(prepared.len());
    let mut children = Vec::with_capacity(prepared.len());
    for Prepared { model, items, pairs, status, .. } in prepared {
        models.push(model);
        children.push((items, pairs, status));
    }
    // Only the ids come back; the rest of each order is what was sent.
    let rows = insert_rows_returning(txn, models.clone(), &[order::Column::Id, order::Column::SourceId]).await.map_err(conflict_on_duplicate)?;
    // RETURNING does not promise the order of the VALUES: match by source id.
    let mut id_of: HashMap<String, i32> = HashMap::with_capacity(rows.len());
    for row in rows {
        id_of.insert(row.try_get_by_index(1)?, row.try_get_by_index(0)?);
    }
    let mut orders = Vec::with_capacity(models.len());
    for mut model in models {
        let source_id = model.source_id.try_as_ref().map(String::as_str).unwrap_or_default();
        let id = id_of.get(source_id).copied();
        let id = id.ok_or_else(|| DomainError::Unexpected(anyhow::anyhow!("order {source_id} was not returned")))?;
        model.id = Set(id);
        orders.push(model.try_into_model()?);
    }
    let mut items = Vec::new();
    let mut pairs = Vec::new();
    let mut entries = Vec::with_capacity(orders.len());
    let mut audits = Vec::with_capacity(orders.len());
    for (order, (order_items, order_pairs, status)) in orders.iter().zip(children) {
        items.extend(order_items.into_iter().map(|mut row| {
            row.order_id = Set(order.id);
            row
        }));
        pairs.extend(order_pairs.into_iter().map(|mut row| {
            row.order_id = Set(order.id);
            row
        }));
        entries.push(creation_entry(order, actor, status));
        audits.push(audit::entry(actor, Some(company_id), "order.create", "order", order.id, None));
    }
    insert_rows(txn, items).await?;
    insert_rows(txn, pairs).await?;
    insert_rows(txn, audits).await?;
    let rows = insert_rows_returning(txn, entries.clone(), &[order_status_history::Column::Id, order_status_history::Column::OrderId]).await?;
    let mut id_of: HashMap<i32, i32> = HashMap::with_capacity(rows.len());
    for row in rows {
        id_of.insert(row.try_get_by_index(1)?, row.try_get_by_index(0)?);
    }
    let mut entry_of: HashMap<i32, order_status_history::Model> = HashMap::with_capacity(orders.len());
    for mut entry in entries {
        let order_id = entry.order_id.try_as_ref().copied().unwrap_or_default();
        let id = id_of.get(&order_id).copied();
        entry.id = Set(id.ok_or_else(|| DomainError::Unexpected(anyhow::anyhow!("no history entry for order {order_id}")))?);
        entry_of.insert(order_id, entry.try_into_model()?);
    }
    for order in &orders {
        let entry = entry_of.get(&order.id).ok_or_else(|| DomainError::Unexpected(anyhow::anyhow!("no history entry for order {}", order.id)))?;
        let email = order.destination_locality_id.and_then(|id| responsible.get(&id).cloned());
        work.publish(event_of(order, entry, None, email));
    }
    Ok(orders)
}
