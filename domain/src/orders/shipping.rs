//! The side effects of invoicing and shipping an order, inside the
//! transaction of its lifecycle change: invoices kept by number, shipments
//! tied to the invoice they carry, and a shipment's tracking timeline.

use chrono::{DateTime, Utc};
use entities::{invoice, order, shipment, tracking_event};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set, TryIntoModel};

use super::input::{Invoice, Shipment, TrackingUpdate};
use crate::{DomainError, DomainResult};

/// Records `invoice` for `order`: a new number is a new invoice, a known
/// one is corrected. The order's own columns repeat it (the latest).
pub(crate) async fn record_invoice(
    txn: &DatabaseTransaction,
    order: &order::Model,
    invoice: &Invoice,
    now: DateTime<Utc>,
) -> DomainResult<invoice::Model> {
    let number = invoice.number.trim().to_owned();
    let existing = invoice::Entity::find()
        .filter(invoice::Column::OrderId.eq(order.id))
        .filter(invoice::Column::Number.eq(number.as_str()))
        .one(txn)
        .await?;
    let mut row = match existing {
        Some(found) => found.into(),
        None => invoice::ActiveModel {
            order_id: Set(order.id),
            company_id: Set(order.company_id),
            number: Set(number),
            created_at: Set(now),
            ..Default::default()
        },
    };
    row.key = Set(invoice.key.clone());
    row.series = Set(invoice.series.clone());
    row.value_cents = Set(invoice.value_cents.unwrap_or(order.total_cents));
    row.issued_at = Set(invoice.issued_at.unwrap_or(now));
    row.url = Set(invoice.url.clone());
    Ok(row.save(txn).await?.try_into_model()?)
}

/// Adds `shipment` to `order`, which must have the invoice it names.
pub(crate) async fn add_shipment(
    txn: &DatabaseTransaction,
    order: &order::Model,
    shipment: Shipment,
    shipped_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let invoice_number = shipment.invoice_number.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if let Some(number) = &invoice_number {
        invoice_of(txn, order, number).await?;
    }
    shipment::ActiveModel {
        order_id: Set(order.id),
        company_id: Set(order.company_id),
        carrier: Set(shipment.carrier.trim().to_owned()),
        title: Set(shipment.title),
        tracking_number: Set(shipment.tracking_number.trim().to_owned()),
        tracking_url: Set(shipment.tracking_url.filter(|u| !u.trim().is_empty())),
        shipped_at: Set(shipment.shipped_at.unwrap_or(shipped_at)),
        created_at: Set(now),
        invoice_number: Set(invoice_number),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

async fn invoice_of(txn: &DatabaseTransaction, order: &order::Model, number: &str) -> DomainResult<invoice::Model> {
    invoice::Entity::find()
        .filter(invoice::Column::OrderId.eq(order.id))
        .filter(invoice::Column::Number.eq(number))
        .one(txn)
        .await?
        .ok_or_else(|| DomainError::not_found("invoice", number))
}

/// What a carrier's report is, for the order: the shipment it is about
/// (its invoice's latest), whether another shipment of the order is still on
/// its way (then a delivery is partial), and why it is late, if its events
/// are older than the timeline kept (a report overtaken by a newer one).
pub(crate) struct Judged {
    pub(crate) shipment: shipment::Model,
    pub(crate) others_on_the_way: bool,
    pub(crate) late: Option<String>,
}

/// Judges `update` for `order`; the invoice must have a shipment: a
/// carrier tracks a tracking number.
pub(crate) async fn judge(txn: &DatabaseTransaction, order: &order::Model, update: &TrackingUpdate) -> DomainResult<Judged> {
    let number = update.invoice_number.trim();
    invoice_of(txn, order, number).await?;
    let shipments = shipment::Entity::find().filter(shipment::Column::OrderId.eq(order.id)).order_by_desc(shipment::Column::Id).all(txn).await?;
    let Some(shipment) = shipments.iter().find(|s| s.invoice_number.as_deref() == Some(number)).cloned() else {
        return Err(DomainError::validation(
            "tracking.invoiceNumber",
            format!("invoice {number} has no tracking number yet: send its shipment first"),
        ));
    };
    let others_on_the_way = shipments.iter().any(|s| s.id != shipment.id && s.delivered_at.is_none());
    let kept: Option<DateTime<Utc>> = tracking_event::Entity::find()
        .filter(tracking_event::Column::ShipmentId.eq(shipment.id))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|e| e.occurred_at)
        .max();
    let sent = update.events.iter().filter_map(|e| e.occurred_at).chain(update.delivered_at).max();
    let late = match (sent, kept) {
        (Some(sent), Some(kept)) if sent < kept => Some(format!("stale report: its latest event is at {sent}, before the timeline kept ({kept})")),
        _ => None,
    };
    Ok(Judged { shipment, others_on_the_way, late })
}

/// Replaces `shipment`'s timeline with `update`'s and marks it delivered
/// when it was.
pub(crate) async fn replace_timeline(
    txn: &DatabaseTransaction,
    order: &order::Model,
    shipment: shipment::Model,
    update: TrackingUpdate,
    delivered_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    tracking_event::Entity::delete_many().filter(tracking_event::Column::ShipmentId.eq(shipment.id)).exec(txn).await?;
    let rows: Vec<tracking_event::ActiveModel> = update
        .events
        .into_iter()
        .enumerate()
        .map(|(position, event)| tracking_event::ActiveModel {
            shipment_id: Set(shipment.id),
            order_id: Set(order.id),
            company_id: Set(order.company_id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            occurred_at: Set(event.occurred_at),
            city: Set(event.city.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty())),
            state: Set(event.state.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())),
            description: Set(event.description.trim().to_owned()),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        tracking_event::Entity::insert_many(rows).exec(txn).await?;
    }
    if update.delivered && shipment.delivered_at.is_none() {
        let mut delivered: shipment::ActiveModel = shipment.into();
        delivered.delivered_at = Set(Some(update.delivered_at.unwrap_or(delivered_at)));
        delivered.update(txn).await?;
    }
    Ok(())
}
