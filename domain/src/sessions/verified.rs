//! Access tokens this process checked against the database a moment ago.
//!
//! [`crate::auth::authenticate`] reads the user, its company and its session
//! on every request, so a revoked session or a deactivated account is refused
//! at once. Most of those reads find what the previous one found a
//! millisecond earlier: on a page served in about a millisecond and a half
//! they were a second statement, a round trip and a plan of their own. So a
//! check that passed is kept for a moment ([`VERIFIED_FOR`] by default; the
//! server's `--token-recheck-ms`), and the same token's next requests within
//! it are answered from memory.
//!
//! What keeps it strict:
//! - **Every revocation forgets everything**, in this process synchronously
//!   once the revoking transaction commits ([`crate::events::Staged::after_commit`]),
//!   so a logout's own response comes after it; from other processes (on
//!   PostgreSQL) as their signal arrives, and whatever a signal missed as the
//!   sweep finds it ([`super::sweep`]). Every way an account's standing ends
//!   (logout, refresh-token reuse, a password change or reset, deactivating a
//!   user or a company, anonymizing a customer) is a revocation.
//! - **A check that raced a revocation is not kept**: the epoch is read
//!   before the database, and a result whose epoch moved meanwhile is
//!   dropped, so a read from before a commit never outlives it.
//! - **Nothing is kept longer than that moment**, which bounds what a lost
//!   signal can cost: a revocation through another process on SQLite (whose
//!   signals stay in their process) reaches this one's requests within it.
//! - The token itself (signature, expiry) is still verified on every request,
//!   and the key holds its token version, so nothing here extends a token.
//! - Bounded: at most [`MAX_ENTRIES`] accounts' sessions; a full table drops
//!   the expired ones, or all of them unless that frees a quarter.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use crate::Actor;

/// [`VERIFIED_FOR`] in milliseconds, as the server's flag takes it.
pub const VERIFIED_FOR_MS: u64 = 1_000;
/// How long a check that passed answers for the same token, by default.
pub const VERIFIED_FOR: Duration = Duration::from_millis(VERIFIED_FOR_MS);
/// Most sessions kept at once.
pub const MAX_ENTRIES: usize = 10_000;

/// What a check is kept under: the token's user, session and token version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The `sub` claim.
    pub user_id: i32,
    /// The `sid` claim.
    pub session_id: i32,
    /// The `ver` claim.
    pub version: i32,
}

/// The table of recent checks. See the module's documentation.
#[derive(Debug)]
pub struct Verified {
    /// Moves with every revocation; a check is kept only under the epoch it began in.
    epoch: AtomicU64,
    lasts: Duration,
    entries: Mutex<HashMap<Key, Entry>>,
}

#[derive(Debug)]
struct Entry {
    actor: Actor,
    at: Instant,
    epoch: u64,
}

impl Entry {
    /// Whether this check still answers in `epoch`, for checks that last `lasts`.
    fn live(&self, epoch: u64, lasts: Duration) -> bool {
        self.epoch == epoch && self.at.elapsed() < lasts
    }
}

/// Where a check began: read it before asking the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u64);

impl Default for Verified {
    fn default() -> Self {
        Self::lasting(VERIFIED_FOR)
    }
}

impl Verified {
    /// A table whose checks answer for `lasts`.
    pub fn lasting(lasts: Duration) -> Self {
        Verified { epoch: AtomicU64::new(0), lasts, entries: Mutex::default() }
    }

    /// The current epoch, to hand back to [`Self::keep`].
    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::SeqCst))
    }

    /// The actor of a check of `key` that passed within the table's moment
    /// and that no revocation has forgotten since.
    pub fn recall(&self, key: Key) -> Option<Actor> {
        let now = self.epoch.load(Ordering::SeqCst);
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&key).filter(|entry| entry.live(now, self.lasts)).map(|entry| entry.actor.clone())
    }

    /// Keeps a check of `key` that passed, begun at `began`, unless a
    /// revocation came in between.
    pub fn keep(&self, key: Key, actor: Actor, began: Epoch) {
        if self.lasts.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Read under the lock that `forget_all` clears under: a revocation is
        // either seen here or clears this entry after it is written.
        if self.epoch.load(Ordering::SeqCst) != began.0 {
            return;
        }
        let mut dropped = HashMap::new();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            let lasts = self.lasts;
            entries.retain(|_, entry| entry.live(began.0, lasts));
            // Unless a quarter went, start afresh: a full table of live checks
            // must not cost a scan on every insert.
            if entries.len() > MAX_ENTRIES - MAX_ENTRIES / 4 {
                dropped = std::mem::take(&mut *entries);
            }
        }
        entries.insert(key, Entry { actor, at: Instant::now(), epoch: began.0 });
        drop(entries);
        // Freed after the lock.
        drop(dropped);
    }

    /// Forgets every check: a session somewhere has just ended.
    pub fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let dropped = std::mem::take(&mut *entries);
        drop(entries);
        // Freed after the lock.
        drop(dropped);
    }

    /// How many times every check was forgotten: once per revocation in the
    /// process that made it, once more per revocation signal heard on
    /// PostgreSQL (its own included), and once per sweep that found some.
    pub fn forgotten(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// How many checks are kept (for tests and metrics).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use entities::UserRole;

    use super::*;

    fn key(user_id: i32) -> Key {
        Key { user_id, session_id: 10 + user_id, version: 1 }
    }

    fn actor(user_id: i32) -> Actor {
        Actor::user(UserRole::Company, user_id, Some(1), "staff@acme.test", false, 10 + user_id).expect("a company user")
    }

    #[test]
    fn a_kept_check_answers_for_its_own_key_only() {
        let verified = Verified::default();
        verified.keep(key(1), actor(1), verified.epoch());
        assert_eq!(verified.recall(key(1)), Some(actor(1)));
        assert_eq!(verified.recall(key(2)), None);
        assert_eq!(verified.recall(Key { version: 2, ..key(1) }), None, "another token version");
        assert_eq!(verified.recall(Key { session_id: 99, ..key(1) }), None, "another session");
    }

    #[test]
    fn a_revocation_forgets_every_check() {
        let verified = Verified::default();
        verified.keep(key(1), actor(1), verified.epoch());
        verified.keep(key(2), actor(2), verified.epoch());
        assert!(!verified.is_empty());
        assert_eq!(verified.forgotten(), 0);
        verified.forget_all();
        assert_eq!(verified.forgotten(), 1, "counted");
        assert_eq!(verified.recall(key(1)), None);
        assert_eq!(verified.recall(key(2)), None);
        assert!(verified.is_empty());
    }

    #[test]
    fn a_check_that_raced_a_revocation_is_not_kept() {
        let verified = Verified::default();
        let began = verified.epoch();
        verified.forget_all();
        verified.keep(key(1), actor(1), began);
        assert_eq!(verified.recall(key(1)), None);
        assert!(verified.is_empty());
        // Begun after it, it is.
        verified.keep(key(1), actor(1), verified.epoch());
        assert_eq!(verified.recall(key(1)), Some(actor(1)));
    }

    #[test]
    fn a_check_answers_only_while_it_lasts() {
        let verified = Verified::lasting(Duration::ZERO);
        verified.keep(key(1), actor(1), verified.epoch());
        assert_eq!(verified.recall(key(1)), None);
        assert!(verified.is_empty(), "a table of checks that last no time keeps none");
        let verified = Verified::lasting(Duration::from_millis(500));
        verified.keep(key(1), actor(1), verified.epoch());
        assert_eq!(verified.recall(key(1)), Some(actor(1)));
        std::thread::sleep(Duration::from_millis(550));
        assert_eq!(verified.recall(key(1)), None, "expired");
        let verified = Verified::lasting(Duration::from_secs(3600));
        verified.keep(key(1), actor(1), verified.epoch());
        assert_eq!(verified.recall(key(1)), Some(actor(1)));
    }

    #[test]
    fn the_table_stays_within_its_bound() {
        let most = i32::try_from(MAX_ENTRIES).unwrap();
        let verified = Verified::lasting(Duration::from_secs(3600));
        let began = verified.epoch();
        for user_id in 1..=most + 5 {
            verified.keep(key(user_id), actor(user_id), began);
            assert!(verified.len() <= MAX_ENTRIES);
        }
        assert_eq!(verified.recall(key(most + 5)), Some(actor(most + 5)), "the newest is kept");
        // Up to the bound, every live check is kept.
        let verified = Verified::lasting(Duration::from_secs(3600));
        for user_id in 1..=most {
            verified.keep(key(user_id), actor(user_id), began);
        }
        assert_eq!(verified.len(), MAX_ENTRIES);
        assert_eq!(verified.recall(key(1)), Some(actor(1)), "the oldest of a full table is still there");
        // Expired ones go first, before anything live is dropped.
        let verified = Verified::lasting(Duration::from_millis(50));
        for user_id in 1..=most {
            verified.keep(key(user_id), actor(user_id), began);
        }
        std::thread::sleep(Duration::from_millis(60));
        verified.keep(key(most + 1), actor(most + 1), began);
        assert_eq!(verified.len(), 1);
    }

    #[test]
    fn a_full_table_drops_its_expired_checks_and_keeps_its_live_ones() {
        let most = i32::try_from(MAX_ENTRIES).unwrap();
        let verified = Verified::lasting(Duration::from_secs(1));
        let began = verified.epoch();
        let expiring = most / 2;
        for user_id in 1..=expiring {
            verified.keep(key(user_id), actor(user_id), began);
        }
        std::thread::sleep(Duration::from_millis(1_050));
        for user_id in expiring + 1..=most {
            verified.keep(key(user_id), actor(user_id), began);
        }
        assert_eq!(verified.len(), MAX_ENTRIES);
        verified.keep(key(most + 1), actor(most + 1), began);
        // Half went: enough to go on without starting afresh.
        assert_eq!(verified.len(), MAX_ENTRIES - usize::try_from(expiring).unwrap() + 1);
        assert_eq!(verified.recall(key(most)), Some(actor(most)), "a live check stays");
        assert_eq!(verified.recall(key(1)), None, "an expired one went");
    }
}
