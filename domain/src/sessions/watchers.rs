//! The open sockets (WebSockets, live pages) of this process, by whose
//! session they run on, so a revocation ends exactly the sockets it names.
//!
//! A socket registers once its token is checked and holds a [`Watch`]; its
//! `ended` completes when a revocation names it. Revocations are applied here
//! by one task per process ([`super::sweep::run`]), which hears them on the
//! event bus and finds the missed ones in the database, so a revocation costs
//! a look through this table, not a wake-up of every socket.
//!
//! A revocation may be applied between a socket's token check and its
//! registering: the socket takes a [`Mark`] before the check, revocations of
//! the last minute are kept, and one applied since the mark that names the
//! socket's session ends it at once. (Order of application, not time stamps:
//! a revocation of a user that came before the user's new session must not
//! end it.)

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};

use chrono::{Duration, Utc};
use tokio::sync::oneshot;

use super::Revocation;
use crate::Actor;

/// How long applied revocations are kept for sockets still registering.
const RECENT_SECONDS: i64 = 60;

/// The registry of open sockets.
#[derive(Default)]
pub struct Watchers {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    open: HashMap<u64, Entry>,
    /// Revocations applied so far.
    applied: u64,
    /// The last minute's, with their place in that count.
    recent: VecDeque<(u64, Revocation)>,
}

/// How many revocations had been applied when a socket's check began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark(u64);

struct Entry {
    actor: Actor,
    ended: oneshot::Sender<()>,
}

/// One registered socket; dropping it unregisters.
pub struct Watch {
    watchers: Arc<Watchers>,
    key: u64,
    /// Completes (with `Ok`) when a revocation ends the socket's session.
    pub ended: oneshot::Receiver<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.watchers.lock().open.remove(&self.key);
    }
}

impl Watchers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where application stands now: take it before checking a token.
    pub fn mark(&self) -> Mark {
        Mark(self.lock().applied)
    }

    /// Registers a socket of `actor`, whose token check began at `mark`.
    pub fn watch(self: &Arc<Self>, actor: &Actor, mark: Mark) -> Watch {
        let (ended, receiver) = oneshot::channel();
        let mut inner = self.lock();
        let key = inner.next;
        inner.next += 1;
        if inner.recent.iter().any(|(seq, r)| *seq > mark.0 && r.ends(actor)) {
            let _ = ended.send(());
        } else {
            inner.open.insert(key, Entry { actor: actor.clone(), ended });
        }
        Watch { watchers: self.clone(), key, ended: receiver }
    }

    /// Ends the sockets `revocation` names; returns how many.
    pub fn end(&self, revocation: Revocation) -> usize {
        let mut inner = self.lock();
        let now = Utc::now();
        // By stamp, which need not follow the order of application.
        inner.recent.retain(|(_, r)| r.at >= now - Duration::seconds(RECENT_SECONDS));
        inner.applied += 1;
        let seq = inner.applied;
        inner.recent.push_back((seq, revocation));
        let named: Vec<u64> = inner.open.iter().filter(|(_, e)| revocation.ends(&e.actor)).map(|(k, _)| *k).collect();
        for key in &named {
            if let Some(entry) = inner.open.remove(key) {
                let _ = entry.ended.send(());
            }
        }
        named.len()
    }

    /// Sockets registered now (for tests).
    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().open.len()
    }
}

#[cfg(test)]
mod tests {
    use entities::UserRole;

    use super::*;
    use crate::sessions::Whose;

    fn staff(user_id: i32, company_id: i32, session_id: i32) -> Actor {
        Actor::user(UserRole::Company, user_id, Some(company_id), "s@x.test", false, session_id).expect("staff")
    }

    #[test]
    fn a_revocation_ends_the_sockets_it_names_and_no_other() {
        let watchers = Arc::new(Watchers::default());
        let now = Utc::now();
        let mark = watchers.mark();
        let mut mine = watchers.watch(&staff(1, 10, 100), mark);
        let mut my_other_session = watchers.watch(&staff(1, 10, 101), mark);
        let mut colleague = watchers.watch(&staff(2, 10, 200), mark);
        assert_eq!(watchers.end(Revocation { whose: Whose::Session(100), at: now }), 1);
        assert!(mine.ended.try_recv().is_ok());
        assert!(my_other_session.ended.try_recv().is_err());
        assert_eq!(watchers.end(Revocation { whose: Whose::Company(10), at: now }), 2);
        assert!(my_other_session.ended.try_recv().is_ok());
        assert!(colleague.ended.try_recv().is_ok());
        assert_eq!(watchers.open(), 0);
    }

    #[test]
    fn a_socket_that_registers_after_its_revocation_was_applied_ends_at_once() {
        let watchers = Arc::new(Watchers::default());
        // Applied before the check began: the check saw it (a new session of the user goes on).
        watchers.end(Revocation { whose: Whose::User(2), at: Utc::now() });
        let mark = watchers.mark();
        // Applied while the check ran.
        watchers.end(Revocation { whose: Whose::User(1), at: Utc::now() });
        let mut late = watchers.watch(&staff(1, 10, 100), mark);
        assert!(late.ended.try_recv().is_ok());
        let mut fresh = watchers.watch(&staff(2, 10, 200), mark);
        assert!(fresh.ended.try_recv().is_err());
        assert_eq!(watchers.open(), 1);
        drop(fresh);
        assert_eq!(watchers.open(), 0);
    }

    #[test]
    fn applied_revocations_are_kept_for_a_minute() {
        let watchers = Arc::new(Watchers::default());
        let mark = watchers.mark();
        let now = Utc::now();
        watchers.end(Revocation { whose: Whose::User(1), at: now });
        // Older than a minute by its stamp: forgotten at the next application.
        watchers.end(Revocation { whose: Whose::User(3), at: now - Duration::seconds(2 * RECENT_SECONDS) });
        watchers.end(Revocation { whose: Whose::User(2), at: now });
        let mut recent = watchers.watch(&staff(1, 10, 100), mark);
        assert!(recent.ended.try_recv().is_ok(), "a revocation of a moment ago was forgotten");
        let mut old = watchers.watch(&staff(3, 10, 300), mark);
        assert!(old.ended.try_recv().is_err(), "a revocation older than a minute was kept");
    }
}
