//! Live order status changes.

use std::sync::Arc;

use async_graphql::{Context, Object, Subscription, ID};
use chrono::{DateTime, Utc};
use domain::{events::OrderStatusEvent, orders, Action};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use super::types::{HistoryEntry, OrderStatus};
use crate::graphql::{
    error::GqlResultExt,
    guard::StaffOnly,
    request::{parse_id, parts},
    scalars::Money,
};

/// The event's (before, after) statuses as the subscriber sees them.
fn shown(ctx: &Context<'_>, event: &OrderStatusEvent) -> async_graphql::Result<(Option<entities::OrderStatus>, entities::OrderStatus)> {
    let (_, actor) = parts(ctx)?;
    Ok(event.shown_statuses(actor))
}

/// Root of all subscriptions.
#[derive(Default)]
pub struct SubscriptionRoot;

/// A status change as subscribers see it.
pub struct OrderStatusChange(Arc<OrderStatusEvent>);

/// The order a change belongs to, as it was at the change.
pub struct OrderSummary(Arc<OrderStatusEvent>);

#[Object]
impl OrderSummary {
    /// Order id.
    async fn id(&self) -> ID {
        ID(self.0.order_id.to_string())
    }
    /// Order code.
    async fn code(&self) -> &str {
        &self.0.order_code
    }
    /// The company's own order id. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    async fn source_id(&self) -> &str {
        &self.0.order_source_id
    }
    /// Customer name.
    async fn customer_name(&self) -> Option<&str> {
        self.0.customer_name.as_deref()
    }
    /// Order total.
    async fn total(&self) -> Money {
        Money(self.0.total_cents)
    }
    /// Status after the change, as the subscriber sees it.
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<OrderStatus> {
        Ok(shown(ctx, &self.0)?.1.into())
    }
}

#[Object]
impl OrderStatusChange {
    /// The order id.
    async fn order_id(&self) -> ID {
        ID(self.0.order_id.to_string())
    }
    /// The new status. Customers see the status as of the newest change
    /// visible to them (see `Order.status`).
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<OrderStatus> {
        Ok(shown(ctx, &self.0)?.1.into())
    }
    /// The status before (none for a new order), seen the same way.
    async fn previous_status(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<OrderStatus>> {
        Ok(shown(ctx, &self.0)?.0.map(Into::into))
    }
    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// The history entry written for it.
    async fn entry(&self, ctx: &Context<'_>) -> async_graphql::Result<HistoryEntry> {
        let e = &self.0;
        let (from, to) = shown(ctx, e)?;
        Ok(HistoryEntry {
            id: ID(e.history_id.to_string()),
            from_status: from.map(Into::into),
            to_status: to.into(),
            comment: e.comment.clone(),
            notify_customer: e.notify_customer,
            visible_to_customer: e.visible_to_customer,
            source: e.source.clone(),
            event_id: None,
            applied: true,
            skip_reason: None,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
        })
    }
    /// A summary of the order.
    async fn order(&self) -> OrderSummary {
        OrderSummary(self.0.clone())
    }
}

#[Subscription]
impl SubscriptionRoot {
    /// Status changes of one order, or of every order the subscriber may see:
    /// customers their own orders (entries visible to them), company users their
    /// company's, admins all. Authenticate in `connection_init`.
    async fn order_status_changed(
        &self,
        ctx: &Context<'_>,
        order_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = OrderStatusChange>> {
        let (domain, actor) = parts(ctx)?;
        domain.authz.check(actor, Action::ReadOrders).gql()?;
        // On the bus before the first await: the socket primes a new operation
        // up to its first wait (routes/graphql_ws.rs), so a client's `ping`
        // after `subscribe` is answered only once this listens. That holds
        // while everything before this line (guards, argument parsing) is
        // synchronous: an async guard (or an async-graphql extension, of
        // which the schema has none) would need the subscription taken
        // before it.
        let events = domain.events.subscribe(actor).ok_or(domain::DomainError::Forbidden).gql()?;
        let only = match &order_id {
            Some(id) => {
                let id = parse_id("order", id)?;
                // Not found for an order the subscriber may not see.
                orders::get(domain, &domain.db, actor, id).await.gql()?;
                Some(id)
            }
            None => None,
        };
        let actor = actor.clone();
        let stream = BroadcastStream::new(events).filter_map(move |event| {
            let keep = match event {
                Ok(event) if event.visible_to(&actor) && only.is_none_or(|id| id == event.order_id) => {
                    Some(OrderStatusChange(event))
                }
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a slow subscriber skipped order events");
                    None
                }
            };
            futures::future::ready(keep)
        });
        Ok(stream)
    }

    /// Integration runs as they finish: the company's own (admins: every
    /// company's). Authenticate in `connection_init`.
    async fn integration_run_finished(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = crate::graphql::integrations::RunFinishedEvent>> {
        let (domain, actor) = parts(ctx)?;
        domain.authz.check(actor, Action::ReadIntegrations).gql()?;
        // On the bus before any await: see `order_status_changed`.
        let runs = domain.events.subscribe_runs(actor).ok_or(domain::DomainError::Forbidden).gql()?;
        let actor = actor.clone();
        let stream = BroadcastStream::new(runs).filter_map(move |event| {
            let keep = match event {
                Ok(event) if event.visible_to(&actor) => Some(crate::graphql::integrations::RunFinishedEvent::from(event.as_ref())),
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a slow subscriber skipped run events");
                    None
                }
            };
            futures::future::ready(keep)
        });
        Ok(stream)
    }
}
