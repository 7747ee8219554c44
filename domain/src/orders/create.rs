//! Creating and editing orders.

use chrono::Utc;
use entities::{locality, order, order_attribute, order_item, order_status_history, LogisticRole, OrderStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

use super::{
    input::{
        apply_address, check_priority, check_windows, validate_items, validate_pairs, NewOrder,
        OrderPatch,
    },
    lifecycle::{event_for, history_entry, lock_for_write},
    work::Work,
};
use crate::{audit, error::is_unique_violation, validate, Action, Actor, Ctx, DomainError, DomainResult};

/// Checks that the destination and the items' origins are localities of the
/// company with fitting roles.
async fn check_localities(
    db: &impl ConnectionTrait,
    company_id: i32,
    destination: Option<i32>,
    origins: &[Option<i32>],
) -> DomainResult<()> {
    let mut ids: Vec<i32> = origins.iter().flatten().copied().collect();
    ids.extend(destination);
    if ids.is_empty() {
        return Ok(());
    }
    let found = locality::Entity::find()
        .filter(locality::Column::CompanyId.eq(company_id))
        .filter(locality::Column::Id.is_in(ids))
        .all(db)
        .await?;
    check_roles(destination, origins, |id| found.iter().find(|l| l.id == id).map(|l| l.logistic_role))
}

/// The rule behind [`check_localities`], given the role of each of the
/// company's localities (`None`: not one of them).
pub(crate) fn check_roles(
    destination: Option<i32>,
    origins: &[Option<i32>],
    role: impl Fn(i32) -> Option<LogisticRole>,
) -> DomainResult<()> {
    if let Some(id) = destination {
        match role(id) {
            None => return Err(DomainError::validation("destinationLocalityId", "is not a locality of this company")),
            Some(LogisticRole::Origin) => {
                return Err(DomainError::validation("destinationLocalityId", "has the logistic role ORIGIN only"))
            }
            Some(LogisticRole::Destination | LogisticRole::Both) => {}
        }
    }
    for (n, origin) in origins.iter().enumerate() {
        let Some(id) = *origin else { continue };
        let field = format!("items[{n}].originLocalityId");
        match role(id) {
            None => return Err(DomainError::validation(field, "is not a locality of this company")),
            Some(LogisticRole::Destination) => return Err(DomainError::validation(field, "has the logistic role DESTINATION only")),
            Some(LogisticRole::Origin | LogisticRole::Both) => {}
        }
        if Some(id) == destination {
            return Err(DomainError::validation(field, "must differ from the destination"));
        }
    }
    Ok(())
}

/// The refusal of an order whose source id the company's live orders have.
pub(crate) fn source_id_taken() -> DomainError {
    DomainError::Conflict("an order with this sourceId already exists in the company".into())
}

pub(super) fn conflict_on_duplicate(err: sea_orm::DbErr) -> DomainError {
    if is_unique_violation(&err) {
        source_id_taken()
    } else {
        err.into()
    }
}

/// Creates an order with its lines, classifications and attributes, and its
/// first history entry, in one transaction.
pub async fn create(ctx: &Ctx, actor: &Actor, input: NewOrder) -> DomainResult<order::Model> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let mut work = Work::begin(ctx).await?;
    let order = create_in(ctx, &mut work, actor, input).await?;
    work.commit(ctx).await?;
    Ok(order)
}

/// An order checked by everything [`create_in`] checks without the
/// database, ready to insert.
pub(crate) struct Prepared {
    /// The order's row (no id yet).
    pub(crate) model: order::ActiveModel,
    /// Its lines (no order id yet).
    pub(crate) items: Vec<order_item::ActiveModel>,
    /// Its classifications and attributes (no order id yet).
    pub(crate) pairs: Vec<order_attribute::ActiveModel>,
    /// The status it starts in.
    pub(crate) status: OrderStatus,
    /// Its destination locality, whose role is still to check.
    pub(crate) destination: Option<i32>,
    /// Each line's origin locality, whose roles are still to check.
    pub(crate) origins: Vec<Option<i32>>,
}

/// Checks a new order of `company_id` as far as it can be without the
/// database.
pub(crate) fn prepare(company_id: i32, input: NewOrder) -> DomainResult<Prepared> {
    let status = input.status.unwrap_or(OrderStatus::Received);
    if matches!(status, OrderStatus::OnHold | OrderStatus::Cancelled | OrderStatus::Refunded) {
        return Err(DomainError::validation("status", format!("an order cannot start as {}", status.as_str())));
    }
    check_windows(input.pickup_start, input.pickup_end, input.delivery_start, input.delivery_end)?;
    let priority = check_priority(input.priority)?;
    match (&input.destination_locality_id, &input.address) {
        (None, None) => {
            return Err(DomainError::validation("destinationLocalityId", "give a destination locality or an address"))
        }
        (None, Some(address)) if !address.is_complete() => {
            return Err(DomainError::validation("address.zipCode", "give a zip code, or city and state"))
        }
        _ => {}
    }
    let origins: Vec<Option<i32>> = input.items.iter().map(|i| i.origin_locality_id).collect();
    let (items, total_cents) = validate_items(input.items)?;
    let pairs = validate_pairs(input.classifications, input.attributes)?;
    let now = Utc::now();
    let mut model = order::ActiveModel {
        company_id: Set(company_id),
        source_id: Set(validate::text("sourceId", &input.source_id, 30)?),
        code: Set(validate::text("code", &input.code, 255)?),
        status: Set(status),
        status_before_hold: Set(None),
        // The creation entry is visible: customers start from the same status.
        customer_status: Set(status),
        customer_name: Set(validate::optional_text("customerName", input.customer_name.as_deref(), 200)?),
        destination_locality_id: Set(input.destination_locality_id),
        pickup_start: Set(input.pickup_start),
        pickup_end: Set(input.pickup_end),
        delivery_start: Set(input.delivery_start),
        delivery_end: Set(input.delivery_end),
        priority: Set(priority),
        incoterm: Set(input.incoterm),
        source_digest: Set(input.source_digest),
        total_cents: Set(total_cents),
        reference: Set(validate::optional_text("reference", input.reference.as_deref(), 500)?),
        observations: Set(validate::optional_text("observations", input.observations.as_deref(), 500)?),
        invoice_number: Set(None),
        invoice_key: Set(None),
        invoice_series: Set(None),
        invoice_value_cents: Set(None),
        invoice_issued_at: Set(None),
        invoice_url: Set(None),
        refunded_cents: Set(0),
        // No status event yet: the first one from a feed may predate the import.
        last_event_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        anonymized_at: Set(None),
        ..Default::default()
    };
    apply_address(&mut model, input.address)?;
    Ok(Prepared { model, items, pairs, status, destination: input.destination_locality_id, origins })
}

/// The first history entry of a created order.
pub(crate) fn creation_entry(order: &order::Model, actor: &Actor, status: OrderStatus) -> order_status_history::ActiveModel {
    order_status_history::ActiveModel {
        source: Set(match actor.kind() {
            crate::actor::ActorKind::Integration { .. } => "integration".into(),
            _ => "manual".into(),
        }),
        ..history_entry(order, actor, None, status, order.created_at)
    }
}

/// [`create`] inside `work`.
pub(crate) async fn create_in(ctx: &Ctx, work: &mut Work, actor: &Actor, input: NewOrder) -> DomainResult<order::Model> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let company_id = actor.company_id().ok_or(DomainError::Forbidden)?;
    let Prepared { model, items, pairs, status, destination, origins } = prepare(company_id, input)?;
    let txn = work.txn();
    check_localities(txn, company_id, destination, &origins).await?;
    let order = model.insert(txn).await.map_err(conflict_on_duplicate)?;
    insert_children(txn, order.id, items, pairs).await?;
    let entry = creation_entry(&order, actor, status).insert(txn).await?;
    audit::record(txn, actor, Some(company_id), "order.create", "order", order.id, None).await?;
    let event = event_for(txn, &order, &entry, None).await?;
    work.publish(event);
    Ok(order)
}

async fn insert_children(
    db: &impl ConnectionTrait,
    order_id: i32,
    items: Vec<order_item::ActiveModel>,
    pairs: Vec<order_attribute::ActiveModel>,
) -> DomainResult<()> {
    let items: Vec<_> = items.into_iter().map(|mut i| {
        i.order_id = Set(order_id);
        i
    }).collect();
    for chunk in items.chunks(200) {
        order_item::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    let pairs: Vec<_> = pairs.into_iter().map(|mut p| {
        p.order_id = Set(order_id);
        p
    }).collect();
    for chunk in pairs.chunks(200) {
        order_attribute::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Edits an order. Status changes go through the lifecycle functions instead.
pub async fn update(ctx: &Ctx, actor: &Actor, order_id: i32, patch: OrderPatch) -> DomainResult<order::Model> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let mut work = Work::begin(ctx).await?;
    let order = update_in(ctx, &mut work, actor, order_id, patch).await?;
    work.commit(ctx).await?;
    Ok(order)
}

/// [`update`] inside `work`.
/// Sets attributes of an order by key, leaving the others as they are: what
/// a source that learns one fact at a time (a trip, a vehicle) records.
pub(crate) async fn annotate_in(ctx: &Ctx, work: &mut Work, actor: &Actor, order_id: i32, pairs: Vec<(String, String)>) -> DomainResult<()> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let txn = work.txn();
    lock_for_write(txn, actor, order_id).await?;
    let rows = validate_pairs(vec![], pairs)?;
    let keys: Vec<String> = rows.iter().filter_map(|r| r.key.clone().take()).collect();
    order_attribute::Entity::delete_many()
        .filter(order_attribute::Column::OrderId.eq(order_id))
        .filter(order_attribute::Column::Kind.eq(entities::AttributeKind::Attribute))
        .filter(order_attribute::Column::Key.is_in(keys))
        .exec(txn)
        .await?;
    if !rows.is_empty() {
        let rows = rows.into_iter().map(|mut row| {
            row.order_id = Set(order_id);
            row
        });
        order_attribute::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    order::Entity::update_many()
        .col_expr(order::Column::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(order::Column::Id.eq(order_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(crate) async fn update_in(ctx: &Ctx, work: &mut Work, actor: &Actor, order_id: i32, patch: OrderPatch) -> DomainResult<order::Model> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let txn = work.txn();
    let order = lock_for_write(txn, actor, order_id).await?;
    let company_id = order.company_id;
    let pickup_start = patch.pickup_start.or(order.pickup_start);
    let pickup_end = patch.pickup_end.or(order.pickup_end);
    let delivery_start = patch.delivery_start.or(order.delivery_start);
    let delivery_end = patch.delivery_end.or(order.delivery_end);
    check_windows(pickup_start, pickup_end, delivery_start, delivery_end)?;
    let destination = patch.destination_locality_id.or(order.destination_locality_id);
    let mut model = order.clone().into_active_model();
    if let Some(code) = &patch.code {
        model.code = Set(validate::text("code", code, 255)?);
    }
    if let Some(name) = &patch.customer_name {
        model.customer_name = Set(validate::optional_text("customerName", Some(name), 200)?);
    }
    if let Some(reference) = &patch.reference {
        model.reference = Set(validate::optional_text("reference", Some(reference), 500)?);
    }
    if let Some(observations) = &patch.observations {
        model.observations = Set(validate::optional_text("observations", Some(observations), 500)?);
    }
    if patch.priority.is_some() {
        model.priority = Set(check_priority(patch.priority)?);
    }
    if patch.incoterm.is_some() {
        model.incoterm = Set(patch.incoterm);
    }
    if let Some(address) = patch.address {
        if !address.is_complete() && destination.is_none() {
            return Err(DomainError::validation("address.zipCode", "give a zip code, or city and state"));
        }
        apply_address(&mut model, Some(address))?;
    }
    model.destination_locality_id = Set(destination);
    model.pickup_start = Set(pickup_start);
    model.pickup_end = Set(pickup_end);
    model.delivery_start = Set(delivery_start);
    model.delivery_end = Set(delivery_end);
    model.updated_at = Set(Utc::now());

    let mut origins = Vec::new();
    let new_items = match patch.items {
        Some(items) => {
            origins = items.iter().map(|i| i.origin_locality_id).collect();
            let (rows, total) = validate_items(items)?;
            model.total_cents = Set(total);
            Some(rows)
        }
        None => None,
    };
    let new_pairs = match (patch.classifications, patch.attributes) {
        (None, None) => None,
        (c, a) => Some(validate_pairs(c.unwrap_or_default(), a.unwrap_or_default())?),
    };
    check_localities(txn, company_id, destination, &origins).await?;
    let updated = model.update(txn).await?;
    if let Some(rows) = new_items {
        order_item::Entity::delete_many().filter(order_item::Column::OrderId.eq(order_id)).exec(txn).await?;
        insert_children(txn, order_id, rows, vec![]).await?;
    }
    if let Some(rows) = new_pairs {
        order_attribute::Entity::delete_many().filter(order_attribute::Column::OrderId.eq(order_id)).exec(txn).await?;
        insert_children(txn, order_id, vec![], rows).await?;
    }
    // Edits are part of the order's story too; the entry is for the company's
    // eyes only and changes no status.
    order_status_history::ActiveModel {
        comment: Set(Some("order details updated".into())),
        visible_to_customer: Set(false),
        ..history_entry(&updated, actor, Some(updated.status), updated.status, Utc::now())
    }
    .insert(txn)
    .await?;
    audit::record(txn, actor, Some(company_id), "order.update", "order", order_id, None).await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_needs_a_destination_or_an_address_and_says_which_field() {
        let new = NewOrder { source_id: "A-1".into(), code: "A-1".into(), ..NewOrder::default() };
        match prepare(1, new) {
            Err(DomainError::Validation { field, .. }) => assert_eq!(field, "destinationLocalityId"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("an order without a destination was prepared"),
        }
    }
}
