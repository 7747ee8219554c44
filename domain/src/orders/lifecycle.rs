//! Moving orders through their lifecycle. Every command runs in one
//! transaction: lock the order, check the move with the status machine, apply
//! side effects (invoice, shipment, refund), append one history entry, stage the
//! subscriber event; then commit and publish.

use chrono::{DateTime, Utc};
use entities::{locality, order, order_status_history, refund, OrderStatus};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, Set,
};

use super::{
    input::{validate_invoice, validate_shipment, validate_tracking, Invoice, Shipment, TrackingUpdate},
    shipping,
    work::Work,
};
use crate::{actor::Scope, events::OrderStatusEvent, status, validate, Action, Actor, Ctx, DomainError, DomainResult};

/// What accompanies a change: the history entry's text and flags, and, for
/// events from other systems, when it happened and its id for de-duplication.
#[derive(Debug, Clone)]
pub struct EventMeta {
    /// Comment for the history.
    pub comment: Option<String>,
    /// Whether the customer should be e-mailed.
    pub notify_customer: bool,
    /// Whether the customer sees the entry.
    pub visible_to_customer: bool,
    /// When it happened at the source (default: now). Older than the order's
    /// last change means stale: recorded, not applied.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The source's event id; a repeat is recorded, not applied.
    pub event_id: Option<String>,
    /// `manual` or the adapter's name.
    pub source: String,
}

impl Default for EventMeta {
    fn default() -> Self {
        EventMeta {
            comment: None,
            notify_customer: false,
            visible_to_customer: true,
            occurred_at: None,
            event_id: None,
            source: "manual".into(),
        }
    }
}

/// The result of a lifecycle command.
#[derive(Debug, Clone)]
pub struct StatusOutcome {
    /// The order after the command.
    pub order: order::Model,
    /// The history entry written.
    pub entry: order_status_history::Model,
    /// False when the event was stale or a repeat and was only recorded.
    pub applied: bool,
}

/// One lifecycle change, as [`execute_in`] applies it.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Move(OrderStatus),
    Hold,
    Release,
    Invoice(Invoice),
    Ship(Shipment),
    Refund(i64),
    Comment,
    Timeline(TrackingUpdate),
    /// A feed's stage: a move unless the order is there or past it already
    /// (see [`status::reached`]), which is recorded as skipped.
    Reach(OrderStatus),
}

/// A history entry of `order` by `actor` moving `from → to` at `at`, with the
/// usual defaults (no comment, not mailed, visible, applied, manual); callers
/// override fields with struct-update syntax.
pub(crate) fn history_entry(
    order: &order::Model,
    actor: &Actor,
    from: Option<OrderStatus>,
    to: OrderStatus,
    at: DateTime<Utc>,
) -> order_status_history::ActiveModel {
    order_status_history::ActiveModel {
        order_id: Set(order.id),
        company_id: Set(order.company_id),
        from_status: Set(from),
        to_status: Set(to),
        comment: Set(None),
        notify_customer: Set(false),
        visible_to_customer: Set(true),
        source: Set("manual".into()),
        actor_user_id: Set(actor.user_id()),
        event_id: Set(None),
        applied: Set(true),
        skip_reason: Set(None),
        occurred_at: Set(at),
        recorded_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Locks the order row for the rest of the transaction and loads it, if the
/// actor may change it. The lock is a no-op `UPDATE`, which takes the row lock
/// on PostgreSQL and the write lock on SQLite *before* the read, so two
/// concurrent commands on one order run one after the other instead of one
/// failing to upgrade its lock.
pub(crate) async fn lock_for_write(txn: &DatabaseTransaction, actor: &Actor, order_id: i32) -> DomainResult<order::Model> {
    let company = match actor.scope() {
        Scope::All => None,
        Scope::Company(company_id) => Some(company_id),
        Scope::Customer { .. } | Scope::Nothing => return Err(DomainError::Forbidden),
    };
    let mut lock = order::Entity::update_many()
        .col_expr(order::Column::Id, Expr::col(order::Column::Id).into())
        .filter(order::Column::Id.eq(order_id));
    if let Some(company_id) = company {
        lock = lock.filter(order::Column::CompanyId.eq(company_id));
    }
    if lock.exec(txn).await?.rows_affected == 0 {
        return Err(DomainError::not_found("order", order_id));
    }
    let order = order::Entity::find_by_id(order_id).one(txn).await?.ok_or_else(|| DomainError::not_found("order", order_id))?;
    if order.anonymized_at.is_some() {
        // Its story ended with the erasure: a comment or an edit would bring
        // personal data back.
        return Err(DomainError::validation("id", "the order was anonymized (LGPD) and cannot change any more"));
    }
    Ok(order)
}

/// The subscriber event for a history entry; `customer_before` is the status
/// customers saw before it (none for a new order), `order` is as after it.
pub(crate) async fn event_for(
    db: &impl ConnectionTrait,
    order: &order::Model,
    entry: &order_status_history::Model,
    customer_before: Option<OrderStatus>,
) -> DomainResult<OrderStatusEvent> {
    let responsible_email = match order.destination_locality_id {
        Some(id) => locality::Entity::find_by_id(id).one(db).await?.and_then(|l| l.responsible_email),
        None => None,
    };
    Ok(event_of(order, entry, customer_before, responsible_email))
}

/// [`event_for`], given the responsible person of the order's destination.
pub(crate) fn event_of(
    order: &order::Model,
    entry: &order_status_history::Model,
    customer_before: Option<OrderStatus>,
    responsible_email: Option<String>,
) -> OrderStatusEvent {
    OrderStatusEvent {
        order_id: order.id,
        company_id: order.company_id,
        responsible_email,
        order_code: order.code.clone(),
        order_source_id: order.source_id.clone(),
        customer_name: order.customer_name.clone(),
        total_cents: order.total_cents,
        history_id: entry.id,
        from: entry.from_status,
        to: entry.to_status,
        customer_from: customer_before,
        customer_to: order.customer_status,
        comment: entry.comment.clone(),
        visible_to_customer: entry.visible_to_customer,
        notify_customer: entry.notify_customer,
        source: entry.source.clone(),
        occurred_at: entry.occurred_at,
        recorded_at: entry.recorded_at,
    }
}

/// Why an event is recorded without being applied, if it is stale or a repeat.
async fn skip_reason(txn: &DatabaseTransaction, order: &order::Model, meta: &EventMeta) -> DomainResult<Option<String>> {
    if let Some(event_id) = &meta.event_id {
        let seen = order_status_history::Entity::find()
            .filter(order_status_history::Column::OrderId.eq(order.id))
            .filter(order_status_history::Column::EventId.eq(event_id.as_str()))
            .filter(order_status_history::Column::Applied.eq(true))
            .count(txn)
            .await?;
        if seen > 0 {
            return Ok(Some(format!("duplicate event {event_id}")));
        }
    }
    if let (Some(occurred), Some(last)) = (meta.occurred_at, order.last_event_at) {
        if occurred < last {
            return Ok(Some(format!("stale event: it happened at {occurred}, before the order's last change at {last}")));
        }
    }
    Ok(None)
}

async fn execute(ctx: &Ctx, actor: &Actor, order_id: i32, command: Change, meta: EventMeta) -> DomainResult<StatusOutcome> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let mut work = Work::begin(ctx).await?;
    let outcome = execute_in(ctx, &mut work, actor, order_id, command, meta).await?;
    work.commit(ctx).await?;
    Ok(outcome)
}

/// Applies one lifecycle change inside `work`: lock the order, judge the event
/// (stale or repeated: recorded as skipped), check the move, apply its side
/// effects, append the history entry, queue the mail, stage the event.
pub(crate) async fn execute_in(
    ctx: &Ctx,
    work: &mut Work,
    actor: &Actor,
    order_id: i32,
    command: Change,
    meta: EventMeta,
) -> DomainResult<StatusOutcome> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let comment = validate::optional_text("comment", meta.comment.as_deref(), 5_000)?;
    if let Some(event_id) = &meta.event_id {
        validate::text("eventId", event_id, crate::ingest::MAX_EVENT_ID)?;
    }
    match &command {
        Change::Invoice(invoice) => validate_invoice(invoice)?,
        Change::Ship(shipment) => validate_shipment(shipment)?,
        Change::Timeline(update) => validate_tracking(update)?,
        Change::Refund(amount) if *amount <= 0 => return Err(DomainError::validation("amount", "must be greater than zero")),
        Change::Move(_) | Change::Reach(_) | Change::Hold | Change::Release | Change::Refund(_) | Change::Comment => {}
    }
    let now = Utc::now();
    let occurred_at = meta.occurred_at.unwrap_or(now);
    if occurred_at > now + chrono::Duration::minutes(5) {
        return Err(DomainError::validation("occurredAt", "is in the future"));
    }
    let txn = work.txn();
    let order = lock_for_write(txn, actor, order_id).await?;
    let from = order.status;

    let history = |to: OrderStatus, applied: bool, skip: Option<String>| order_status_history::ActiveModel {
        comment: Set(comment.clone()),
        notify_customer: Set(meta.notify_customer),
        visible_to_customer: Set(meta.visible_to_customer),
        source: Set(meta.source.clone()),
        event_id: Set(meta.event_id.clone()),
        applied: Set(applied),
        skip_reason: Set(skip),
        recorded_at: Set(now),
        ..history_entry(&order, actor, Some(from), to, occurred_at)
    };

    // Stale or repeated events are recorded as skipped before anything else is
    // judged: a replayed release or invoice is not an error.
    let intended = match &command {
        Change::Move(to) => *to,
        Change::Hold => OrderStatus::OnHold,
        Change::Release => order.status_before_hold.unwrap_or(from),
        Change::Invoice(_) => OrderStatus::Invoiced,
        Change::Ship(_) => OrderStatus::InTransit,
        Change::Refund(_) => OrderStatus::Refunded,
        Change::Comment => from,
        Change::Timeline(_) => from,
        Change::Reach(to) => *to,
    };
    // A carrier's report is judged against the shipment it is about.
    let judged = match &command {
        Change::Timeline(update) => Some(shipping::judge(txn, &order, update).await?),
        _ => None,
    };
    let reached = match &command {
        Change::Reach(to) => status::reached(from, *to),
        _ => None,
    };
    let late = judged.as_ref().and_then(|j| j.late.clone());
    if let Some(reason) = skip_reason(txn, &order, &meta).await?.or(reached).or(late) {
        let entry = history(intended, false, Some(reason)).insert(txn).await?;
        return Ok(StatusOutcome { order, entry, applied: false });
    }

    let target = match &command {
        Change::Move(to) => Some(*to),
        Change::Hold => Some(OrderStatus::OnHold),
        Change::Release => match (from, order.status_before_hold) {
            (OrderStatus::OnHold, Some(before)) => Some(before),
            _ => return Err(DomainError::validation("orderId", format!("the order is {}, not on hold", from.as_str()))),
        },
        Change::Invoice(_) => {
            if status::is_final(from) || from == OrderStatus::OnHold {
                return Err(DomainError::InvalidTransition { from, to: OrderStatus::Invoiced });
            }
            status::allowed(from, OrderStatus::Invoiced, None).then_some(OrderStatus::Invoiced)
        }
        // A later parcel of an order whose others arrived adds its shipment
        // and moves nothing: the order does not go back on its way.
        Change::Ship(_) => match from {
            OrderStatus::InTransit | OrderStatus::Delivered => None,
            _ => Some(OrderStatus::InTransit),
        },
        Change::Refund(_) => Some(OrderStatus::Refunded),
        Change::Comment => None,
        Change::Timeline(update) => timeline_status(from, update, judged.as_ref().is_some_and(|j| j.others_on_the_way)),
        Change::Reach(to) => Some(*to),
    };
    if let Some(to) = target {
        status::check(from, to, order.status_before_hold)?;
    }
    let is_comment = matches!(command, Change::Comment);

    let customer_before = order.customer_status;
    let mut model = order.clone().into_active_model();
    match command {
        Change::Invoice(invoice) => {
            let kept = shipping::record_invoice(txn, &order, &invoice, now).await?;
            model.invoice_number = Set(Some(kept.number));
            model.invoice_key = Set(kept.key);
            model.invoice_series = Set(kept.series);
            model.invoice_value_cents = Set(Some(kept.value_cents));
            model.invoice_issued_at = Set(Some(kept.issued_at));
            model.invoice_url = Set(kept.url);
        }
        Change::Ship(shipment) => shipping::add_shipment(txn, &order, shipment, occurred_at, now).await?,
        Change::Timeline(update) => {
            let shipment = judged.map(|j| j.shipment).ok_or_else(|| DomainError::Unexpected(anyhow::anyhow!("a report judged")))?;
            shipping::replace_timeline(txn, &order, shipment, update, occurred_at, now).await?
        }
        Change::Refund(amount) => {
            let refundable = order.total_cents - order.refunded_cents;
            if amount > refundable {
                return Err(DomainError::validation("amount", format!("must not exceed the refundable {refundable} cents")));
            }
            refund::ActiveModel {
                order_id: Set(order.id),
                company_id: Set(order.company_id),
                amount_cents: Set(amount),
                comment: Set(comment.clone()),
                actor_user_id: Set(actor.user_id()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            model.refunded_cents = Set(order.refunded_cents + amount);
        }
        Change::Move(_) | Change::Reach(_) | Change::Hold | Change::Release | Change::Comment => {}
    }
    if let Some(to) = target {
        model.status = Set(to);
        model.status_before_hold = Set(if to == OrderStatus::OnHold { Some(from) } else { None });
        model.customer_status =
            Set(super::visibility::customer_status_after(order.customer_status, from, to, meta.visible_to_customer));
        // Only status changes move the mark stale events are judged against.
        model.last_event_at = Set(Some(order.last_event_at.map_or(occurred_at, |last| last.max(occurred_at))));
    }
    model.updated_at = Set(now);
    let order = model.update(txn).await?;
    let entry = history(target.unwrap_or(from), true, None).insert(txn).await?;
    let mailed = if target.is_some() || is_comment {
        crate::notifications::outbox::enqueue_status_change(ctx, txn, &order, &entry, customer_before).await?
    } else {
        false
    };
    if target.is_some() {
        let event = event_for(txn, &order, &entry, Some(customer_before)).await?;
        work.publish(event);
    }
    work.queued_mail(mailed);
    Ok(StatusOutcome { order, entry, applied: true })
}

/// Where a carrier's report takes an order from `from`: delivered is
/// `DELIVERED` (unless it already is; a move the machine refuses fails the
/// report) once no other shipment of the order is still on its way;
/// otherwise events are `IN_TRANSIT` where the machine allows it (after a
/// failed delivery, the carrier is on its way again), and nothing where it
/// does not (a delivered order's late events only fill its timeline).
fn timeline_status(from: OrderStatus, update: &TrackingUpdate, others_on_the_way: bool) -> Option<OrderStatus> {
    if update.delivered && !others_on_the_way {
        return (from != OrderStatus::Delivered).then_some(OrderStatus::Delivered);
    }
    (!update.events.is_empty() && status::allowed(from, OrderStatus::InTransit, None)).then_some(OrderStatus::InTransit)
}

/// Moves an order to `to` (any status the machine allows).
pub async fn change_status(ctx: &Ctx, actor: &Actor, order_id: i32, to: OrderStatus, meta: EventMeta) -> DomainResult<StatusOutcome> {
    let command = match to {
        OrderStatus::OnHold => Change::Hold,
        other => Change::Move(other),
    };
    execute(ctx, actor, order_id, command, meta).await
}

/// Freezes an order; [`release`] returns it to the status it had.
pub async fn hold(ctx: &Ctx, actor: &Actor, order_id: i32, meta: EventMeta) -> DomainResult<StatusOutcome> {
    execute(ctx, actor, order_id, Change::Hold, meta).await
}

/// Returns a held order to the status it had before the hold.
pub async fn release(ctx: &Ctx, actor: &Actor, order_id: i32, meta: EventMeta) -> DomainResult<StatusOutcome> {
    execute(ctx, actor, order_id, Change::Release, meta).await
}

/// Cancels an order (only before it is in transit).
pub async fn cancel(ctx: &Ctx, actor: &Actor, order_id: i32, meta: EventMeta) -> DomainResult<StatusOutcome> {
    execute(ctx, actor, order_id, Change::Move(OrderStatus::Cancelled), meta).await
}

/// Records the fiscal invoice and moves the order to `INVOICED` when that is a
/// step forward (an order already further on keeps its status).
pub async fn invoice(ctx: &Ctx, actor: &Actor, order_id: i32, invoice: Invoice, meta: EventMeta) -> DomainResult<StatusOutcome> {
    execute(ctx, actor, order_id, Change::Invoice(invoice), meta).await
}

/// Adds a shipment with its tracking code and moves the order to `IN_TRANSIT`
/// (unless it already is).
pub async fn add_shipment(ctx: &Ctx, actor: &Actor, order_id: i32, shipment: Shipment, meta: EventMeta) -> DomainResult<StatusOutcome> {
    execute(ctx, actor, order_id, Change::Ship(shipment), meta).await
}

/// Marks an order delivered.
pub async fn mark_delivered(ctx: &Ctx, actor: &Actor, order_id: i32, meta: EventMeta) -> DomainResult<StatusOutcome> {
    execute(ctx, actor, order_id, Change::Move(OrderStatus::Delivered), meta).await
}

/// Refunds `amount_cents` and closes the order as `REFUNDED`.
pub async fn refund(ctx: &Ctx, actor: &Actor, order_id: i32, amount_cents: i64, meta: EventMeta) -> DomainResult<StatusOutcome> {
    execute(ctx, actor, order_id, Change::Refund(amount_cents), meta).await
}

/// Adds a comment to the history without changing the status.
pub async fn add_comment(ctx: &Ctx, actor: &Actor, order_id: i32, meta: EventMeta) -> DomainResult<StatusOutcome> {
    if meta.comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(DomainError::validation("comment", "must not be empty"));
    }
    execute(ctx, actor, order_id, Change::Comment, meta).await
}
