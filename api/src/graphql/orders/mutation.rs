//! Order mutations: creation, edits and the lifecycle. Each appends one history
//! entry in the same transaction as the change.

use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};
use domain::orders::{self, EventMeta};

use super::{
    inputs::{CreateOrderInput, InvoiceInput, ShipmentInput, UpdateOrderInput},
    types::{Order, OrderStatus, StatusChangeResult},
};
use crate::graphql::{
    error::GqlResultExt,
    request::{parse_id, parts},
    scalars::Money,
};

/// Order mutations.
#[derive(Default)]
pub struct OrderMutation;

fn meta(comment: Option<String>, notify_customer: bool, visible_to_customer: bool, occurred_at: Option<DateTime<Utc>>) -> EventMeta {
    EventMeta { comment, notify_customer, visible_to_customer, occurred_at, ..EventMeta::default() }
}

#[Object]
impl OrderMutation {
    /// Creates an order with its items.
    async fn create_order(&self, ctx: &Context<'_>, input: CreateOrderInput) -> async_graphql::Result<Order> {
        let (domain, actor) = parts(ctx)?;
        orders::create(domain, actor, input.into_domain()?).await.gql().map(Order::from)
    }

    /// Retires every public tracking link of the order handed out so far (a
    /// link forwarded too widely) and answers the new one; later status mails
    /// carry it.
    async fn revoke_tracking_link(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<String> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::public_tracking::revoke(domain, actor, id).await.gql()
    }

    /// Edits an order (not its status).
    async fn update_order(&self, ctx: &Context<'_>, id: ID, input: UpdateOrderInput) -> async_graphql::Result<Order> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::update(domain, actor, id, input.into_domain()?).await.gql().map(Order::from)
    }

    /// Moves an order to a new status. An event older than the order's last
    /// change (`occurredAt`), or a repeated `eventId`, is recorded as skipped and
    /// changes nothing (`applied: false`).
    #[allow(clippy::too_many_arguments)]
    async fn update_order_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: OrderStatus,
        comment: Option<String>,
        #[graphql(default = false)] notify_customer: bool,
        #[graphql(default = true)] visible_to_customer: bool,
        occurred_at: Option<DateTime<Utc>>,
        event_id: Option<String>,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        let meta = EventMeta { event_id, ..meta(comment, notify_customer, visible_to_customer, occurred_at) };
        orders::change_status(domain, actor, id, status.into(), meta).await.gql().map(Into::into)
    }

    /// Freezes an order; `releaseOrder` returns it to the status it had.
    async fn hold_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
        #[graphql(default = false)] visible_to_customer: bool,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::hold(domain, actor, id, meta(comment, false, visible_to_customer, None)).await.gql().map(Into::into)
    }

    /// Returns a held order to the status it had.
    async fn release_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
        #[graphql(default = false)] visible_to_customer: bool,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::release(domain, actor, id, meta(comment, false, visible_to_customer, None)).await.gql().map(Into::into)
    }

    /// Cancels an order (only before it is in transit).
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
        #[graphql(default = false)] notify_customer: bool,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::cancel(domain, actor, id, meta(comment, notify_customer, true, None)).await.gql().map(Into::into)
    }

    /// Records the fiscal invoice; the order moves to INVOICED when that is a
    /// step forward.
    async fn invoice_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        invoice: InvoiceInput,
        comment: Option<String>,
        #[graphql(default = false)] notify_customer: bool,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::invoice(domain, actor, id, invoice.into(), meta(comment, notify_customer, true, None))
            .await
            .gql()
            .map(Into::into)
    }

    /// Adds a shipment with its tracking code; the order moves to IN_TRANSIT.
    async fn add_shipment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        shipment: ShipmentInput,
        comment: Option<String>,
        #[graphql(default = false)] notify_customer: bool,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::add_shipment(domain, actor, id, shipment.into(), meta(comment, notify_customer, true, None))
            .await
            .gql()
            .map(Into::into)
    }

    /// Marks an order delivered.
    async fn mark_delivered(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
        #[graphql(default = false)] notify_customer: bool,
        occurred_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::mark_delivered(domain, actor, id, meta(comment, notify_customer, true, occurred_at)).await.gql().map(Into::into)
    }

    /// Refunds an amount (up to the order total) and closes the order as REFUNDED.
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        amount: Money,
        comment: Option<String>,
        #[graphql(default = false)] notify_customer: bool,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::refund(domain, actor, id, amount.0, meta(comment, notify_customer, true, None)).await.gql().map(Into::into)
    }

    /// Adds a comment to the history without changing the status.
    async fn add_order_comment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: String,
        #[graphql(default = false)] notify_customer: bool,
        #[graphql(default = true)] visible_to_customer: bool,
    ) -> async_graphql::Result<StatusChangeResult> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        orders::add_comment(domain, actor, id, meta(Some(comment), notify_customer, visible_to_customer, None))
            .await
            .gql()
            .map(Into::into)
    }
}
