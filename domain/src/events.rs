//! Events for live subscribers: order status changes, and session revocations
//! that close open WebSockets ([`crate::sessions::Revocation`]), and finished
//! integration runs ([`RunFinished`]).
//!
//! On SQLite the bus is in-process: events are broadcast after the transaction
//! commits. On PostgreSQL, several `rastro` processes share one database, so an
//! event is sent with `pg_notify` *inside* the transaction (PostgreSQL delivers
//! it only on commit, never for a rolled-back change) and every process —
//! including the sender — receives it through `LISTEN` and broadcasts it to its
//! own subscribers. Each kind of event is a [`Topic`] with a channel of its own;
//! one listener connection per process serves them all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entities::OrderStatus;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::{actor::Scope, sessions::Revocation, Actor, Audience, DomainResult};

mod fanout;
pub use fanout::{Route, Routed};
use fanout::Fanout;

/// The PostgreSQL channel order events travel on.
pub const CHANNEL: &str = "rastro_order_events";
/// The PostgreSQL channel session revocations travel on.
pub const REVOCATION_CHANNEL: &str = "rastro_revocations";
/// The PostgreSQL channel finished integration runs travel on.
pub const RUN_CHANNEL: &str = "rastro_integration_runs";
/// Comments are cut to this many characters in events, keeping the payload far
/// under PostgreSQL's 8000-byte NOTIFY limit; the full text is in the history.
const MAX_COMMENT_CHARS: usize = 1000;

/// A status change (or skipped event) of one order, with what subscribers show.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OrderStatusEvent {
    /// The order.
    pub order_id: i32,
    /// Its company.
    pub company_id: i32,
    /// E-mail of the destination's responsible person: the customer who may see it.
    pub responsible_email: Option<String>,
    /// Order code.
    pub order_code: String,
    /// The company's order id.
    pub order_source_id: String,
    /// Customer name on the order.
    pub customer_name: Option<String>,
    /// Order total in cents.
    pub total_cents: i64,
    /// The history entry.
    pub history_id: i32,
    /// Status before.
    pub from: Option<OrderStatus>,
    /// Status after.
    pub to: OrderStatus,
    /// The status customers saw before (see [`crate::orders::shown_status`]).
    pub customer_from: Option<OrderStatus>,
    /// The status customers see after: unchanged by a change hidden from them.
    pub customer_to: OrderStatus,
    /// Comment (possibly shortened).
    pub comment: Option<String>,
    /// Whether customers may see the entry.
    pub visible_to_customer: bool,
    /// Whether the customer is to be e-mailed.
    pub notify_customer: bool,
    /// `manual` or the adapter's name.
    pub source: String,
    /// When it happened at the source.
    pub occurred_at: DateTime<Utc>,
    /// When the platform recorded it.
    pub recorded_at: DateTime<Utc>,
}

impl OrderStatusEvent {
    /// Whether `actor` may receive this event: admins everything, company users
    /// their company, customers their own orders' visible entries.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        match actor.scope() {
            Scope::All => true,
            Scope::Company(company_id) => company_id == self.company_id,
            Scope::Customer { company_id, email, .. } => {
                company_id == self.company_id
                    && self.visible_to_customer
                    && self.responsible_email.as_deref() == Some(email.as_str())
            }
            Scope::Nothing => false,
        }
    }

    /// The change's statuses (before, after) as `actor` sees them: customers
    /// get the customer status ([`crate::orders::shown_status`]), so an event
    /// after a hidden change does not reveal it.
    pub fn shown_statuses(&self, actor: &Actor) -> (Option<OrderStatus>, OrderStatus) {
        match actor.audience() {
            Audience::Staff => (self.from, self.to),
            Audience::Customer => (self.customer_from, self.customer_to),
        }
    }

    fn shortened(mut self) -> Self {
        if let Some(comment) = &self.comment {
            if comment.chars().count() > MAX_COMMENT_CHARS {
                self.comment = Some(comment.chars().take(MAX_COMMENT_CHARS).collect());
            }
        }
        self
    }
}

/// An integration run that finished (applied, partly failed, or rejected), for
/// live dashboards. Details are read with `integrationRun(id)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunFinished {
    /// The run.
    pub run_id: i32,
    /// Its company, when the call could be tied to one.
    pub company_id: Option<i32>,
    /// The adapter.
    pub adapter: String,
    /// The operation.
    pub operation: String,
    /// How it ended.
    pub outcome: entities::RunOutcome,
}

impl RunFinished {
    /// Whether `actor` may hear of this run: its company's staff and support.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        match actor.scope() {
            Scope::All => true,
            Scope::Company(company_id) => self.company_id == Some(company_id),
            Scope::Customer { .. } | Scope::Nothing => false,
        }
    }
}

impl Routed for OrderStatusEvent {
    fn routes(&self) -> Vec<Route> {
        let mut routes = vec![Route::Company(self.company_id)];
        // The customer's route hears only what customers may see.
        if let (true, Some(email)) = (self.visible_to_customer, &self.responsible_email) {
            routes.push(Route::Customer { company_id: self.company_id, email: email.clone() });
        }
        routes
    }
}

impl Routed for RunFinished {
    fn routes(&self) -> Vec<Route> {
        self.company_id.map(Route::Company).into_iter().collect()
    }
}

/// Every socket hears every revocation and decides with [`Revocation::ends`]:
/// they are rare, and one may name a whole company.
impl Routed for Revocation {
    fn routes(&self) -> Vec<Route> {
        Vec::new()
    }
}

/// One kind of event: its PostgreSQL channel and its in-process fan-out.
pub struct Topic<T> {
    channel: &'static str,
    fanout: Arc<Fanout<T>>,
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Topic { channel: self.channel, fanout: self.fanout.clone() }
    }
}

impl<T: Routed + Serialize + DeserializeOwned + Send + Sync + 'static> Topic<T> {
    fn new(channel: &'static str) -> Self {
        Topic { channel, fanout: Arc::new(Fanout::new()) }
    }

    /// Hands a notification received through `LISTEN` to this process's receivers.
    fn deliver(&self, payload: &str) {
        match serde_json::from_str::<T>(payload) {
            Ok(event) => self.fanout.publish(Arc::new(event)),
            Err(err) => tracing::warn!(error = %err, channel = self.channel, "ignoring malformed event"),
        }
    }
}

/// Fan-out of events to this process's subscribers.
#[derive(Clone)]
pub struct EventBus {
    orders: Topic<OrderStatusEvent>,
    revocations: Topic<Revocation>,
    runs: Topic<RunFinished>,
    /// This process's open sockets, which revocations end.
    watchers: Arc<crate::sessions::watchers::Watchers>,
    /// This process's recent token checks, which revocations forget.
    verified: Arc<crate::sessions::verified::Verified>,
    cross_process: bool,
}

/// Events staged in a transaction, published by [`Staged::after_commit`].
#[must_use = "call after_commit once the transaction has committed"]
pub struct Staged<T = OrderStatusEvent> {
    topic: Topic<T>,
    cross_process: bool,
    events: Vec<T>,
    /// For revocations: the token checks to forget once they commit.
    forgets: Option<Arc<crate::sessions::verified::Verified>>,
}

impl<T: Routed> Staged<T> {
    /// Publishes in-process events; on PostgreSQL the commit already did.
    pub fn after_commit(self) {
        // Before this returns, and so before the revoking request answers: on
        // PostgreSQL the process hears its own signal only a moment later.
        if let Some(verified) = &self.forgets {
            verified.forget_all();
        }
        if !self.cross_process {
            for event in self.events {
                self.topic.fanout.publish(Arc::new(event));
            }
        }
    }
}

impl EventBus {
    /// An in-process bus (SQLite, or tests).
    pub fn local() -> Self {
        Self::local_keeping(crate::sessions::verified::VERIFIED_FOR)
    }

    /// An in-process bus whose token checks answer for `checks_last`.
    fn local_keeping(checks_last: std::time::Duration) -> Self {
        EventBus {
            orders: Topic::new(CHANNEL),
            revocations: Topic::new(REVOCATION_CHANNEL),
            runs: Topic::new(RUN_CHANNEL),
            watchers: Arc::default(),
            verified: Arc::new(crate::sessions::verified::Verified::lasting(checks_last)),
            cross_process: false,
        }
    }

    /// The bus for `db`: cross-process through LISTEN/NOTIFY on PostgreSQL,
    /// in-process otherwise. A token check that passed answers for that
    /// token's requests of the next `checks_last` ([`crate::sessions::verified`]).
    pub async fn for_database(db: &DatabaseConnection, checks_last: std::time::Duration) -> anyhow::Result<Self> {
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(Self::local_keeping(checks_last));
        }
        // The listener holds its connection for good: give it a pool of its own
        // rather than one of the server's query connections.
        let options = (*db.get_postgres_connection_pool().connect_options()).clone();
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_with(options).await?;
        let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
        listener.listen_all([CHANNEL, REVOCATION_CHANNEL, RUN_CHANNEL]).await?;
        let bus = EventBus { cross_process: true, ..Self::local_keeping(checks_last) };
        let (orders, revocations, runs, verified) = (bus.orders.clone(), bus.revocations.clone(), bus.runs.clone(), bus.verified.clone());
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(notification) => match notification.channel() {
                        CHANNEL => orders.deliver(notification.payload()),
                        REVOCATION_CHANNEL => {
                            verified.forget_all();
                            revocations.deliver(notification.payload());
                        }
                        RUN_CHANNEL => runs.deliver(notification.payload()),
                        other => tracing::warn!(channel = other, "notification on an unexpected channel"),
                    },
                    Err(err) => {
                        // PgListener reconnects on the next recv; wait a moment so a
                        // database outage does not spin. Notifications sent while
                        // disconnected are lost: the process's revocation sweep
                        // (`sessions::sweep`) finds the revocations among them.
                        tracing::warn!(error = %err, "event listener error");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(bus)
    }

    /// A receiver of the order events published from now on that `actor` may
    /// see: its company's, or its own visible entries as a customer (admins:
    /// all); `None` for an actor who sees none. Receivers still check
    /// [`OrderStatusEvent::visible_to`], so routing is never the only guard.
    pub fn subscribe(&self, actor: &Actor) -> Option<broadcast::Receiver<Arc<OrderStatusEvent>>> {
        self.orders.fanout.subscribe(actor)
    }

    /// Stages order `events` inside the transaction `txn` of the change they describe.
    pub async fn stage(&self, txn: &impl ConnectionTrait, events: Vec<OrderStatusEvent>) -> DomainResult<Staged> {
        let events: Vec<_> = events.into_iter().map(OrderStatusEvent::shortened).collect();
        self.stage_on(&self.orders, txn, events).await
    }

    /// A receiver of every session revocation published from now on.
    pub(crate) fn subscribe_revocations(&self) -> broadcast::Receiver<Arc<Revocation>> {
        self.revocations.fanout.everything.subscribe()
    }

    /// Where the application of revocations stands: take it before checking
    /// the token of a socket about to open.
    pub fn mark(&self) -> crate::sessions::watchers::Mark {
        self.watchers.mark()
    }

    /// Registers an open socket of `actor`, whose token check began at
    /// `mark`: its `ended` completes when a revocation names it.
    pub fn watch(&self, actor: &Actor, mark: crate::sessions::watchers::Mark) -> crate::sessions::watchers::Watch {
        self.watchers.watch(actor, mark)
    }

    /// This process's recent token checks ([`crate::sessions::verified`]).
    pub fn verified(&self) -> &crate::sessions::verified::Verified {
        &self.verified
    }

    /// The registry of this process's open sockets.
    pub(crate) fn watchers(&self) -> &crate::sessions::watchers::Watchers {
        &self.watchers
    }

    /// Stages `revocations` inside the transaction that makes them.
    pub async fn stage_revocations(
        &self,
        txn: &impl ConnectionTrait,
        revocations: Vec<Revocation>,
    ) -> DomainResult<Staged<Revocation>> {
        let staged = self.stage_on(&self.revocations, txn, revocations).await?;
        Ok(Staged { forgets: Some(self.verified.clone()), ..staged })
    }

    /// A receiver of the finished integration runs published from now on that
    /// `actor` may hear of (see [`Self::subscribe`]).
    pub fn subscribe_runs(&self, actor: &Actor) -> Option<broadcast::Receiver<Arc<RunFinished>>> {
        self.runs.fanout.subscribe(actor)
    }

    /// Stages a finished run inside the transaction that completes it.
    pub async fn stage_run(&self, txn: &impl ConnectionTrait, run: RunFinished) -> DomainResult<Staged<RunFinished>> {
        self.stage_on(&self.runs, txn, vec![run]).await
    }

    async fn stage_on<T: Routed + Serialize>(&self, topic: &Topic<T>, txn: &impl ConnectionTrait, events: Vec<T>) -> DomainResult<Staged<T>> {
        if self.cross_process {
            // One statement for all of them: a batch of 500 created orders
            // notifies in one round trip, not 500 (and none notifies none).
            let payloads = events.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>().map_err(anyhow::Error::from)?;
            let payloads = serde_json::to_string(&payloads).map_err(anyhow::Error::from)?;
            txn.execute(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, payload) FROM json_array_elements_text($2::json) AS payload",
                [topic.channel.into(), payloads.into()],
            ))
            .await?;
        }
        Ok(Staged { topic: topic.clone(), cross_process: self.cross_process, events, forgets: None })
    }
}

#[cfg(test)]
mod tests {
    use entities::{RunOutcome, UserRole};

    use super::*;
    use crate::sessions::Whose;

    fn change(visible_to_customer: bool, responsible_email: Option<&str>) -> OrderStatusEvent {
        let now = Utc::now();
        OrderStatusEvent {
            order_id: 1,
            company_id: 7,
            responsible_email: responsible_email.map(Into::into),
            order_code: "#1".into(),
            order_source_id: "1".into(),
            customer_name: None,
            total_cents: 0,
            history_id: 1,
            from: None,
            to: OrderStatus::Received,
            customer_from: None,
            customer_to: OrderStatus::Received,
            comment: None,
            visible_to_customer,
            notify_customer: false,
            source: "manual".into(),
            occurred_at: now,
            recorded_at: now,
        }
    }

    /// A comment travels cut to its first `MAX_COMMENT_CHARS` characters
    /// (not bytes), so an event stays under PostgreSQL's NOTIFY limit.
    #[test]
    fn a_long_comment_travels_cut_to_its_first_characters() {
        let mut long = change(true, None);
        long.comment = Some("é".repeat(MAX_COMMENT_CHARS + 1));
        assert_eq!(long.shortened().comment, Some("é".repeat(MAX_COMMENT_CHARS)));
        let mut fits = change(true, None);
        fits.comment = Some("é".repeat(MAX_COMMENT_CHARS));
        assert_eq!(fits.clone().shortened(), fits);
    }

    #[test]
    fn an_order_event_goes_to_its_company_and_to_its_customer_only_when_visible() {
        let customer = Route::Customer { company_id: 7, email: "maria@x.test".into() };
        assert_eq!(change(true, Some("maria@x.test")).routes(), vec![Route::Company(7), customer]);
        assert_eq!(change(false, Some("maria@x.test")).routes(), vec![Route::Company(7)]);
        assert_eq!(change(true, None).routes(), vec![Route::Company(7)]);
    }

    /// Routing is never the only guard: a receiver checks each event again.
    #[test]
    fn an_order_event_is_visible_to_its_company_and_its_customer_only() {
        let customer = |company_id, email: &str| Actor::user(UserRole::Customer, 2, Some(company_id), email, false, 12).expect("customer");
        let staff = |company_id| Actor::user(UserRole::Company, 1, Some(company_id), "s@x.test", false, 11).expect("staff");
        let event = change(true, Some("maria@x.test"));
        assert!(event.visible_to(&staff(7)));
        assert!(!event.visible_to(&staff(8)), "another company's staff");
        assert!(event.visible_to(&customer(7, "maria@x.test")));
        assert!(!event.visible_to(&customer(8, "maria@x.test")), "the same e-mail as a customer of another company");
        assert!(!event.visible_to(&customer(7, "joao@x.test")), "another customer of the company");
        assert!(!change(false, Some("maria@x.test")).visible_to(&customer(7, "maria@x.test")), "an entry hidden from customers");
        assert!(event.visible_to(&Actor::user(UserRole::Admin, 3, None, "a@x.test", false, 13).expect("admin")));
        assert!(!event.visible_to(&Actor::anonymous()));
    }

    #[test]
    fn a_run_goes_to_its_company_when_it_has_one() {
        let run = |company_id| RunFinished { run_id: 1, company_id, adapter: "x".into(), operation: "y".into(), outcome: RunOutcome::Success };
        assert_eq!(run(Some(3)).routes(), vec![Route::Company(3)]);
        assert_eq!(run(None).routes(), vec![]);
    }

    #[test]
    fn a_socket_watched_through_the_bus_ends_when_the_bus_applies_its_revocation() {
        let bus = EventBus::local();
        let actor = Actor::user(UserRole::Company, 1, Some(7), "s@x.test", false, 11).expect("staff");
        let mut watch = bus.watch(&actor, bus.mark());
        assert_eq!(bus.watchers().end(Revocation { whose: Whose::Session(11), at: Utc::now() }), 1);
        assert!(watch.ended.try_recv().is_ok());
    }
}
