//! Subscriptions that ask the same question from the same staff viewpoint
//! share one execution.
//!
//! A dashboard's staff all send the same document: with one execution each,
//! an event was resolved, shaped and checked once per socket, although every
//! answer came out the same. Now, once a second socket asks what another
//! already asks, the asking starts a *group*: one task runs the operation and
//! hands each answer to every member, whose socket only copies and writes it.
//! The group stops when its last member leaves.
//!
//! A subscription asked once runs on its own, as every subscription did: a
//! group (a task and a channel of [`BUFFER`] answers) is only worth its cost
//! when shared, and most one-order subscriptions never are.
//!
//! Shared or not, such a subscription runs as its viewpoint's stand-in
//! ([`domain::Viewpoint::stand_in`]), never as the user who asked first: a
//! field that depended on who is asking would find nobody, not a colleague.
//!
//! Only subscriptions of staff share, keyed by viewpoint and a digest of the
//! document, operation name and variables; a request with extensions, a query
//! or a mutation over the socket, and every customer's subscription run on
//! their own, as does an operation that answers at once (an error, most often).
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
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use crate::graphql::limits::Parsed;

/// Answers a slow member may fall behind before it skips ahead: as many as a
/// company's event channel holds, so a batch of a few hundred orders fits.
const BUFFER: usize = 1024;
/// Fewest entries before the first sweep of ended ones.
const FIRST_SWEEP: usize = 64;

/// What makes two subscriptions the same: the viewpoint, and a digest of the
/// document, operation name and variables (so the map keeps 32 bytes of each,
/// not its text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    viewpoint: domain::Viewpoint,
    digest: [u8; 32],
}

impl Key {
    /// The key of `parsed` seen from `viewpoint`, if it is a subscription
    /// that may be shared.
    pub(super) fn of(viewpoint: &domain::Viewpoint, parsed: &Parsed) -> Option<Key> {
        let request = parsed.request();
        if !request.extensions.is_empty() || !request.uploads.is_empty() {
            return None;
        }
        if parsed.operation_type()? != OperationType::Subscription {
            return None;
        }
        // Variables as JSON: equal maps give equal text at the top level (a
        // nested object in another order only misses a chance to share).
        let variables = serde_json::to_string(&request.variables).ok()?;
        let mut digest = Sha256::new();
        for part in [request.query.as_str(), request.operation_name.as_deref().unwrap_or(""), variables.as_str()] {
            // Each part's length first, so no two splits of one text collide.
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part.as_bytes());
        }
        digest.update([u8::from(request.operation_name.is_some())]);
        Some(Key { viewpoint: viewpoint.clone(), digest: digest.finalize().into() })
    }

    /// The actor the subscription runs as.
    pub(super) fn stand_in(&self) -> domain::Actor {
        self.viewpoint.stand_in()
    }
}

/// The groups of this process.
pub struct SharedSubscriptions {
    entries: Mutex<Entries>,
    /// Groups running now (`graphql_ws_shared_executions`).
    running: IntGauge,
}

struct Entries {
    by_key: HashMap<Key, Entry>,
    /// Ended entries are dropped from the map when it reaches this size, which
    /// then doubles: amortised constant work per subscription, and a map no
    /// larger than twice the live entries.
    sweep_at: usize,
}

/// Who runs a key now.
enum Entry {
    /// One subscription, on its own; alive while it is.
    Alone(Weak<()>),
    /// A group.
    Shared(Weak<Group>),
}

impl Entry {
    fn alive(&self) -> bool {
        match self {
            Entry::Alone(token) => token.strong_count() > 0,
            Entry::Shared(group) => group.strong_count() > 0,
        }
    }
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

/// What `join` found for a key.
enum Found {
    Member(BoxStream<'static, Response>),
    /// Nobody asks it: run alone.
    Nobody,
    /// Someone asks it alone: start a group.
    Asked,
}

impl SharedSubscriptions {
    /// No groups yet; `running` counts the groups that run.
    pub fn new(running: IntGauge) -> Self {
        SharedSubscriptions { entries: Mutex::new(Entries { by_key: HashMap::new(), sweep_at: FIRST_SWEEP }), running }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stream of a subscription of `key`: a member's of the running group;
    /// else a group's first member's, if another subscription asks the same
    /// alone; else its own. `start` starts the operation, which is primed (run
    /// up to its first wait) before this returns.
    pub(super) fn join(self: &Arc<Self>, key: Key, start: impl FnOnce() -> BoxStream<'static, Response>) -> BoxStream<'static, Response> {
        let found = {
            let entries = self.lock();
            // Joined under the lock: a group that is forgotten (ending) after
            // this is one whose last answers this member hears.
            match entries.by_key.get(&key) {
                Some(Entry::Shared(group)) => match group.upgrade().and_then(Group::join) {
                    Some(member) => Found::Member(member),
                    None => Found::Nobody,
                },
                Some(alone @ Entry::Alone(_)) if alone.alive() => Found::Asked,
                _ => Found::Nobody,
            }
        };
        match found {
            Found::Member(member) => member,
            Found::Nobody => self.alone(key, start),
            Found::Asked => self.start_group(key, start),
        }
    }

    /// Runs the subscription on its own, marked in the map while it runs.
    fn alone(&self, key: Key, start: impl FnOnce() -> BoxStream<'static, Response>) -> BoxStream<'static, Response> {
        let token = Arc::new(());
        self.lock().insert(key, Entry::Alone(Arc::downgrade(&token)));
        Primed::prime(start())
            .into_stream()
            .map(move |answer| {
                let _asking = &token;
                answer
            })
            .boxed()
    }

    /// Starts a group whose first member this is.
    fn start_group(self: &Arc<Self>, key: Key, start: impl FnOnce() -> BoxStream<'static, Response>) -> BoxStream<'static, Response> {
        // Primed without the lock: another socket may start the same group
        // meanwhile, and then this one joins it instead.
        let stream = match Primed::prime(start()) {
            Primed::Waiting(stream) => stream,
            answered @ Primed::Answered(_) => return answered.into_stream(),
        };
        let mut entries = self.lock();
        if let Some(Entry::Shared(group)) = entries.by_key.get(&key) {
            if let Some(member) = group.upgrade().and_then(Group::join) {
                return member;
            }
        }
        let (sender, _) = broadcast::channel(BUFFER);
        let group = Arc::new(Group { answers: Mutex::new(Some(sender.clone())), driver: Mutex::new(None), running: self.running.clone() });
        self.running.inc();
        entries.insert(key.clone(), Entry::Shared(Arc::downgrade(&group)));
        // The member's receiver before the driver: it may answer at once.
        let member = group.clone().join();
        drop(entries);
        let ending = Ending { registry: self.clone(), key, group: Arc::downgrade(&group) };
        let driver = tokio::spawn(drive(stream, sender, ending));
        *group.driver.lock().unwrap_or_else(PoisonError::into_inner) = Some(driver.abort_handle());
        member.unwrap_or_else(|| futures::stream::empty().boxed())
    }

    /// Takes the group for `key` out of the map, if it is still `group`: later
    /// subscriptions start afresh.
    fn forget(&self, key: &Key, group: &Weak<Group>) {
        let mut entries = self.lock();
        if matches!(entries.by_key.get(key), Some(Entry::Shared(found)) if found.ptr_eq(group)) {
            entries.by_key.remove(key);
        }
    }

    /// Entries in the map, ended ones included (for tests).
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.lock().by_key.len()
    }
}

impl Entries {
    fn insert(&mut self, key: Key, entry: Entry) {
        if self.by_key.len() >= self.sweep_at {
            self.by_key.retain(|_, entry| entry.alive());
            self.sweep_at = (self.by_key.len() * 2).max(FIRST_SWEEP);
        }
        self.by_key.insert(key, entry);
    }
}

/// A group's end, however its driver ends (the operation finished, the last
/// member left, or a panic): nobody joins it any more, and its members, once
/// they have read what was sent, end too.
struct Ending {
    registry: Arc<SharedSubscriptions>,
    key: Key,
    group: Weak<Group>,
}

impl Drop for Ending {
    fn drop(&mut self) {
        self.registry.forget(&self.key, &self.group);
        if let Some(group) = self.group.upgrade() {
            group.answers.lock().unwrap_or_else(PoisonError::into_inner).take();
        }
    }
}

/// Runs a group's operation, handing each answer to its members.
async fn drive(mut stream: BoxStream<'static, Response>, answers: broadcast::Sender<Arc<Response>>, ending: Ending) {
    while let Some(answer) = stream.next().await {
        // An answer with errors may be the operation's last (a subscription
        // whose order is not found): whoever subscribes next runs it anew
        // rather than join an execution about to end.
        if !answer.errors.is_empty() {
            ending.registry.forget(&ending.key, &ending.group);
        }
        // No receiver: every member left, and the group's drop stops this task.
        let _ = answers.send(Arc::new(answer));
    }
    // `ending` and the last sender go here: members read what is left, then end.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(request: async_graphql::Request) -> Option<Parsed> {
        Parsed::within(request, &crate::graphql::budget(&crate::config::GraphqlLimits::default())).ok()
    }

    fn registry() -> Arc<SharedSubscriptions> {
        Arc::new(SharedSubscriptions::new(gauge()))
    }

    fn gauge() -> IntGauge {
        IntGauge::new("shared_test", "test").unwrap()
    }

    fn key(variables: &str) -> Key {
        let viewpoint = domain::Viewpoint::new(Some(1), false);
        let request = async_graphql::Request::new("subscription($id: ID) { orderStatusChanged(orderId: $id) { orderId } }")
            .variables(async_graphql::Variables::from_json(serde_json::json!({ "id": variables })));
        Key::of(&viewpoint, &parsed(request).unwrap()).unwrap()
    }

    /// A stream that waits, then gives what `sender` sends.
    fn waiting() -> (tokio::sync::mpsc::UnboundedSender<Response>, impl FnOnce() -> BoxStream<'static, Response>) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        (sender, move || tokio_stream::wrappers::UnboundedReceiverStream::new(receiver).boxed())
    }

    #[test]
    fn only_subscriptions_are_keyed() {
        let viewpoint = domain::Viewpoint::new(Some(1), false);
        let of = |query: &str, name: Option<&str>| {
            let mut request = async_graphql::Request::new(query);
            request.operation_name = name.map(str::to_owned);
            parsed(request).and_then(|parsed| Key::of(&viewpoint, &parsed)).is_some()
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
        assert!(Key::of(&viewpoint, &parsed(extended).unwrap()).is_none());
        // Valid GraphQL, but nested deeper than the budget allows: it is never
        // `Parsed`, so never keyed (the socket answers its error alone).
        let deep = format!("subscription {{ orderStatusChanged {{ {}a{} }} }}", "a { ".repeat(100), " }".repeat(100));
        assert!(!of(&deep, None));
    }

    /// The next answer of `stream`, failing the test after 5 s.
    async fn next(stream: &mut BoxStream<'static, Response>) -> Option<Response> {
        tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await.expect("an answer within 5 s")
    }

    /// A group of `key("1")`: one subscription asking alone (kept while the
    /// first value lives), then the member whose asking started the group,
    /// with the sender of the group's operation.
    fn grouped(registry: &Arc<SharedSubscriptions>) -> (impl Sized, tokio::sync::mpsc::UnboundedSender<Response>, BoxStream<'static, Response>) {
        let (alone, start_alone) = waiting();
        let asking = (alone, registry.join(key("1"), start_alone));
        let (answers, start) = waiting();
        (asking, answers, registry.join(key("1"), start))
    }

    /// Whether a subscription of `key("1")` now starts an execution of its own
    /// (rather than join one).
    fn starts_afresh(registry: &Arc<SharedSubscriptions>) -> bool {
        let (_fresh, start_fresh) = waiting();
        let mut started = false;
        let _next = registry.join(key("1"), || {
            started = true;
            start_fresh()
        });
        started
    }

    fn answer(n: i32) -> Response {
        Response::new(async_graphql::Value::from(n))
    }

    #[tokio::test]
    async fn a_key_asked_once_runs_alone_and_the_second_asking_starts_a_group() {
        let registry = registry();
        let (alone, start_alone) = waiting();
        let mut first = registry.join(key("1"), start_alone);
        assert_eq!(registry.running.get(), 0, "one asking is not worth a group");
        let (answers, start) = waiting();
        let mut second = registry.join(key("1"), start);
        let mut third = registry.join(key("1"), || panic!("a third execution of the same key"));
        assert_eq!(registry.running.get(), 1);
        alone.send(answer(6)).unwrap();
        answers.send(answer(7)).unwrap();
        assert_eq!(next(&mut first).await.unwrap().data, answer(6).data);
        assert_eq!(next(&mut second).await.unwrap().data, answer(7).data);
        assert_eq!(next(&mut third).await.unwrap().data, answer(7).data);
        // The member that started the group leaves; the group goes on.
        drop(second);
        answers.send(answer(8)).unwrap();
        assert_eq!(next(&mut third).await.unwrap().data, answer(8).data);
        drop(third);
        assert_eq!(registry.running.get(), 0);
        // The driver was stopped: its stream (and so the receiving end) is gone.
        tokio::time::timeout(std::time::Duration::from_secs(5), answers.closed()).await.unwrap();
    }

    #[tokio::test]
    async fn other_variables_run_apart_and_an_ended_group_is_not_joined() {
        let registry = registry();
        let (_asking, one, mut member) = grouped(&registry);
        let (_two, start_two) = waiting();
        let _other = registry.join(key("2"), start_two);
        assert_eq!(registry.running.get(), 1, "key 2 is asked once");
        drop(one);
        assert!(next(&mut member).await.is_none(), "the member ends with its execution");
        let (three, start_three) = waiting();
        let mut again = registry.join(key("1"), start_three);
        three.send(answer(9)).unwrap();
        assert_eq!(next(&mut again).await.unwrap().data, answer(9).data);
    }

    #[tokio::test]
    async fn an_operation_that_answers_at_once_never_starts_a_group() {
        let registry = registry();
        let at_once = || futures::stream::iter([answer(1)]).boxed();
        let mut alone = registry.join(key("1"), at_once);
        let mut again = registry.join(key("1"), at_once);
        for stream in [&mut alone, &mut again] {
            assert_eq!(next(stream).await.unwrap().data, answer(1).data);
            assert!(next(stream).await.is_none());
        }
        assert_eq!(registry.running.get(), 0);
    }

    #[tokio::test]
    async fn an_answer_with_errors_lets_the_next_subscription_start_afresh() {
        let registry = registry();
        let (_asking, answers, mut member) = grouped(&registry);
        answers.send(Response::from_errors(vec![async_graphql::ServerError::new("not found", None)])).unwrap();
        assert_eq!(next(&mut member).await.unwrap().errors.len(), 1);
        assert!(starts_afresh(&registry), "joined an execution that had failed");
    }

    #[tokio::test]
    async fn a_driver_that_panics_ends_its_members_and_is_never_joined_again() {
        let registry = registry();
        let (_alone, start_alone) = waiting();
        let _first = registry.join(key("1"), start_alone);
        let (answers, start) = waiting();
        let panicking = move || start().map(|answer| if answer.data == answer_data(0) { panic!("a resolver panicked") } else { answer }).boxed();
        let mut member = registry.join(key("1"), panicking);
        answers.send(answer(0)).unwrap();
        assert!(next(&mut member).await.is_none(), "the member ends with the panicked execution");
        assert_eq!(registry.kept(), 0, "the panicked group is out of the map");
        assert!(starts_afresh(&registry), "joined an execution that had panicked");
    }

    fn answer_data(n: i32) -> async_graphql::Value {
        answer(n).data
    }
}
