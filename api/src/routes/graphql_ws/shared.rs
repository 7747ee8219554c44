//! Subscriptions that ask the same question from the same staff viewpoint
//! share one execution.
//!
//! A dashboard's staff all send the same document: with one execution each,
//! an event was resolved, shaped and checked once per socket, although every
//! answer came out the same. Now the first such subscription starts a *group*:
//! one task runs the operation (as the first member's actor, whose answers are
//! everyone's: [`domain::Viewpoint`]) and hands each answer to every member,
//! whose socket only writes it. The group stops when its last member leaves.
//!
//! Only subscriptions of staff share, keyed by viewpoint, document, operation
//! name and variables; a request with extensions, a query or a mutation over
//! the socket, and every customer's subscription run on their own, as does an
//! operation that answers at once (an error, most often).
//!
//! A member hears every answer the group gives after it joined. The group may
//! still be resolving an event published just before that, so a new member
//! can also get a change from the moment before its `subscribe` (never one it
//! may not see, and never a gap after it).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, Weak},
    task::{Context, Poll},
};

use async_graphql::{parser::types::OperationType, Response};
use futures::{stream::BoxStream, StreamExt};
use prometheus::IntGauge;
use tokio::sync::broadcast;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use crate::graphql::limits::{parse_within, Budget};

/// Answers a slow member may fall behind before it skips ahead: as many as a
/// company's event channel holds, so a batch of a few hundred orders fits.
const BUFFER: usize = 1024;
/// Fewest groups before the first sweep of ended ones.
const FIRST_SWEEP: usize = 64;

/// What makes two subscriptions the same.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct Key {
    viewpoint: domain::Viewpoint,
    query: String,
    operation_name: Option<String>,
    /// The variables as JSON (their map is ordered, so equal variables give equal text).
    variables: String,
}

impl Key {
    /// The key of `request` seen from `viewpoint`, if it is a subscription
    /// that may be shared. The document is parsed within `budget`, as every
    /// document is; one that does not pass is answered with its error, alone.
    pub(super) fn of(viewpoint: &domain::Viewpoint, request: &async_graphql::Request, budget: &Budget) -> Option<Key> {
        if !request.extensions.is_empty() || !request.uploads.is_empty() {
            return None;
        }
        let document = parse_within(&request.query, &request.variables, budget).ok()?;
        // The operation async-graphql will run: the one named, or the only one.
        let mut operations = document.operations.iter();
        let (_, operation) = match request.operation_name.as_deref() {
            Some(name) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name))?,
            None => operations.next().filter(|_| operations.next().is_none())?,
        };
        if operation.node.ty != OperationType::Subscription {
            return None;
        }
        Some(Key {
            viewpoint: viewpoint.clone(),
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).ok()?,
        })
    }
}

/// The groups of this process.
pub struct SharedSubscriptions {
    groups: Mutex<Groups>,
    /// What a document may cost (the schema's own limits).
    budget: Budget,
    /// Groups running now (`graphql_ws_shared_executions`).
    running: IntGauge,
}

struct Groups {
    by_key: HashMap<Arc<Key>, Weak<Group>>,
    /// Ended groups are dropped from the map when it reaches this size, which
    /// then doubles: amortised constant work per group, and a map no larger
    /// than twice the groups that run.
    sweep_at: usize,
}

/// One shared execution. Each member holds it; when the last lets go, the
/// execution stops.
struct Group {
    /// `None` once the execution has ended: nobody joins it any more.
    answers: Mutex<Option<broadcast::Sender<Arc<Response>>>>,
    driver: Mutex<Option<tokio::task::AbortHandle>>,
    running: IntGauge,
}

impl Group {
    fn join(self: Arc<Self>) -> Option<BoxStream<'static, Response>> {
        let receiver = self.answers.lock().unwrap_or_else(PoisonError::into_inner).as_ref()?.subscribe();
        let stream = BroadcastStream::new(receiver).filter_map(move |answer| {
            let _member = &self;
            futures::future::ready(match answer {
                Ok(answer) => Some(copy(&answer)),
                Err(BroadcastStreamRecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a slow subscriber skipped shared answers");
                    None
                }
            })
        });
        Some(stream.boxed())
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.lock().unwrap_or_else(PoisonError::into_inner).take() {
            driver.abort();
        }
        self.running.dec();
    }
}

/// A member's own copy of a shared answer (async-graphql's `Response` is not `Clone`).
fn copy(answer: &Response) -> Response {
    let mut response = Response::new(answer.data.clone());
    response.extensions.clone_from(&answer.extensions);
    response.errors.clone_from(&answer.errors);
    response
}

/// An operation's stream run up to its first wait.
pub(super) enum Primed {
    /// It waits (a subscription listening for events).
    Waiting(BoxStream<'static, Response>),
    /// It answered, or ended, at once.
    Answered(BoxStream<'static, Response>),
}

impl Primed {
    /// Polls `stream` once, now, with a waker that does nothing: a stream that
    /// waits is polled again, with the socket's own waker, by whoever runs it.
    pub(super) fn prime(mut stream: BoxStream<'static, Response>) -> Primed {
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        match stream.poll_next_unpin(&mut cx) {
            Poll::Pending => Primed::Waiting(stream),
            Poll::Ready(Some(first)) => Primed::Answered(futures::stream::once(async move { first }).chain(stream).boxed()),
            Poll::Ready(None) => Primed::Answered(futures::stream::empty().boxed()),
        }
    }

    /// The stream, whichever it is.
    pub(super) fn into_stream(self) -> BoxStream<'static, Response> {
        match self {
            Primed::Waiting(stream) | Primed::Answered(stream) => stream,
        }
    }
}

impl SharedSubscriptions {
    /// No groups yet; documents are parsed within `budget`, and `running`
    /// counts the groups that run.
    pub fn new(budget: Budget, running: IntGauge) -> Self {
        SharedSubscriptions { groups: Mutex::new(Groups { by_key: HashMap::new(), sweep_at: FIRST_SWEEP }), budget, running }
    }

    /// The key of `request` from `viewpoint`, if it may be shared.
    pub(super) fn key(&self, viewpoint: &domain::Viewpoint, request: &async_graphql::Request) -> Option<Key> {
        Key::of(viewpoint, request, &self.budget)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Groups> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A member's stream of the group for `key`, joining the running one or
    /// starting one with `start`'s operation (primed before this returns).
    pub(super) fn join(self: &Arc<Self>, key: Key, start: impl FnOnce() -> BoxStream<'static, Response>) -> BoxStream<'static, Response> {
        if let Some(member) = self.member(&key) {
            return member;
        }
        // Primed without the lock: another socket may start the same group
        // meanwhile, and then this one joins it instead.
        let stream = match Primed::prime(start()) {
            Primed::Waiting(stream) => stream,
            answered @ Primed::Answered(_) => return answered.into_stream(),
        };
        let mut groups = self.lock();
        if let Some(member) = groups.by_key.get(&key).and_then(Weak::upgrade).and_then(Group::join) {
            return member;
        }
        if groups.by_key.len() >= groups.sweep_at {
            groups.by_key.retain(|_, group| group.strong_count() > 0);
            groups.sweep_at = (groups.by_key.len() * 2).max(FIRST_SWEEP);
        }
        let (sender, _) = broadcast::channel(BUFFER);
        let group = Arc::new(Group { answers: Mutex::new(Some(sender.clone())), driver: Mutex::new(None), running: self.running.clone() });
        self.running.inc();
        let key = Arc::new(key);
        groups.by_key.insert(key.clone(), Arc::downgrade(&group));
        drop(groups);
        // The member's receiver before the driver: it may answer at once.
        let member = group.clone().join();
        let driver = tokio::spawn(drive(self.clone(), key, Arc::downgrade(&group), stream, sender));
        *group.driver.lock().unwrap_or_else(PoisonError::into_inner) = Some(driver.abort_handle());
        member.unwrap_or_else(|| futures::stream::empty().boxed())
    }

    /// A member's stream of the running group for `key`, if there is one.
    fn member(&self, key: &Key) -> Option<BoxStream<'static, Response>> {
        let group = self.lock().by_key.get(key).and_then(Weak::upgrade)?;
        group.join()
    }

    /// Takes the group for `key` out of the map, if it is still `group`: later
    /// subscriptions start afresh.
    fn forget(&self, key: &Key, group: &Weak<Group>) {
        let mut groups = self.lock();
        if groups.by_key.get(key).is_some_and(|found| found.ptr_eq(group)) {
            groups.by_key.remove(key);
        }
    }

    /// Groups in the map, ended ones included (for tests).
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.lock().by_key.len()
    }
}

/// Runs a group's operation, handing each answer to its members.
async fn drive(
    registry: Arc<SharedSubscriptions>,
    key: Arc<Key>,
    group: Weak<Group>,
    mut stream: BoxStream<'static, Response>,
    answers: broadcast::Sender<Arc<Response>>,
) {
    while let Some(answer) = stream.next().await {
        // An answer with errors may be the operation's last (a subscription
        // whose order is not found): whoever subscribes next runs it anew
        // rather than join an execution about to end.
        if !answer.errors.is_empty() {
            registry.forget(&key, &group);
        }
        // No receiver: every member left, and the group's drop stops this task.
        let _ = answers.send(Arc::new(answer));
    }
    registry.forget(&key, &group);
    if let Some(group) = group.upgrade() {
        group.answers.lock().unwrap_or_else(PoisonError::into_inner).take();
    }
    // The last sender goes with this task: members read what is left, then end.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> Budget {
        crate::graphql::budget(&crate::config::GraphqlLimits::default())
    }

    fn registry() -> Arc<SharedSubscriptions> {
        Arc::new(SharedSubscriptions::new(budget(), gauge()))
    }

    fn gauge() -> IntGauge {
        IntGauge::new("shared_test", "test").unwrap()
    }

    fn key(variables: &str) -> Key {
        let viewpoint = domain::Actor::integration(1).viewpoint().unwrap();
        let request = async_graphql::Request::new("subscription($id: ID) { orderStatusChanged(orderId: $id) { orderId } }")
            .variables(async_graphql::Variables::from_json(serde_json::json!({ "id": variables })));
        Key::of(&viewpoint, &request, &budget()).unwrap()
    }

    /// A stream that waits, then gives what `sender` sends.
    fn waiting() -> (tokio::sync::mpsc::UnboundedSender<Response>, impl FnOnce() -> BoxStream<'static, Response>) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        (sender, move || tokio_stream::wrappers::UnboundedReceiverStream::new(receiver).boxed())
    }

    #[test]
    fn only_subscriptions_are_keyed() {
        let viewpoint = domain::Actor::integration(1).viewpoint().unwrap();
        let of = |query: &str, name: Option<&str>| {
            let mut request = async_graphql::Request::new(query);
            request.operation_name = name.map(str::to_owned);
            Key::of(&viewpoint, &request, &budget()).is_some()
        };
        assert!(of("subscription { orderStatusChanged { orderId } }", None));
        assert!(!of("query { me { id } }", None));
        assert!(!of("mutation { logout }", None));
        assert!(!of("subscription {", None));
        let two = "query A { me { id } } subscription B { orderStatusChanged { orderId } }";
        assert!(of(two, Some("B")));
        assert!(!of(two, Some("A")));
        assert!(!of(two, None));
        assert!(!of(two, Some("C")));
        assert!(of("subscription B { orderStatusChanged { orderId } }", None));
        let mut extended = async_graphql::Request::new("subscription { orderStatusChanged { orderId } }");
        extended.extensions.insert("persistedQuery".into(), async_graphql::Value::Null);
        assert!(Key::of(&viewpoint, &extended, &budget()).is_none());
        // A document over the budget is never parsed here (the schema refuses it).
        let deep = format!("subscription {{ orderStatusChanged {}", "{ a ".repeat(10_000));
        assert!(!of(&deep, None));
    }

    #[tokio::test]
    async fn members_of_one_key_share_one_execution_that_stops_with_the_last() {
        let registry = registry();
        let (answers, start) = waiting();
        let mut first = registry.join(key("1"), start);
        let mut second = registry.join(key("1"), || panic!("a second execution of the same key"));
        assert_eq!(registry.running.get(), 1);
        answers.send(Response::new(async_graphql::Value::from(7))).unwrap();
        assert_eq!(first.next().await.unwrap().data, async_graphql::Value::from(7));
        assert_eq!(second.next().await.unwrap().data, async_graphql::Value::from(7));
        drop(first);
        answers.send(Response::new(async_graphql::Value::from(8))).unwrap();
        assert_eq!(second.next().await.unwrap().data, async_graphql::Value::from(8));
        drop(second);
        assert_eq!(registry.running.get(), 0);
        // The driver was stopped: its stream (and so the receiving end) is gone.
        tokio::time::timeout(std::time::Duration::from_secs(5), answers.closed()).await.unwrap();
    }

    #[tokio::test]
    async fn other_variables_run_apart_and_an_ended_group_is_not_joined() {
        let registry = registry();
        let (one, start_one) = waiting();
        let (_two, start_two) = waiting();
        let mut first = registry.join(key("1"), start_one);
        let _other = registry.join(key("2"), start_two);
        assert_eq!(registry.running.get(), 2);
        drop(one);
        assert!(first.next().await.is_none(), "the member ends with its execution");
        let (three, start_three) = waiting();
        let mut again = registry.join(key("1"), start_three);
        three.send(Response::new(async_graphql::Value::from(9))).unwrap();
        assert_eq!(again.next().await.unwrap().data, async_graphql::Value::from(9));
    }

    #[tokio::test]
    async fn an_operation_that_answers_at_once_runs_alone() {
        let registry = registry();
        let mut alone = registry.join(key("1"), || futures::stream::iter([Response::new(async_graphql::Value::from(1))]).boxed());
        assert_eq!(alone.next().await.unwrap().data, async_graphql::Value::from(1));
        assert!(alone.next().await.is_none());
        assert_eq!((registry.running.get(), registry.kept()), (0, 0));
    }

    #[tokio::test]
    async fn an_answer_with_errors_lets_the_next_subscription_start_afresh() {
        let registry = registry();
        let (answers, start) = waiting();
        let mut first = registry.join(key("1"), start);
        answers.send(Response::from_errors(vec![async_graphql::ServerError::new("not found", None)])).unwrap();
        assert_eq!(first.next().await.unwrap().errors.len(), 1);
        let (_fresh, start_fresh) = waiting();
        let mut started = false;
        let _next = registry.join(key("1"), || {
            started = true;
            start_fresh()
        });
        assert!(started, "joined an execution that had failed");
    }
}
