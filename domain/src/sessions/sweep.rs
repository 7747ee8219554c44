//! Revocations applied to this process's open sockets ([`super::watchers`]):
//! those the event bus brings, at once, and those it missed, found by one look
//! in the database every few seconds instead of every open socket asking the
//! database again about its own token.
//!
//! A push can be missed: a PostgreSQL listener that reconnects does not get
//! what was sent meanwhile, and SQLite's bus does not cross processes (two
//! `rastro` processes on one file). The sweep finds such revocations in the
//! `sessions` table, through an index on `revoked_at`, and applies each.
//! What the bus already brought is left out, so in the usual case a sweep
//! ends nothing.

use std::{collections::HashMap, future::Future, time::Duration};

use chrono::{DateTime, Utc};
use entities::{session, user};
use sea_orm::{
    sea_query::{Alias, Expr, Query},
    ConnectionTrait, FromQueryResult, StatementBuilder,
};
use tokio::sync::broadcast::error::RecvError;

use super::{Revocation, Whose};
use crate::{Ctx, DomainResult};

/// How far before its previous look a sweep starts: a transaction stamps
/// `revoked_at` before it commits, and server processes' clocks differ.
const MARGIN_SECONDS: i64 = 60;

/// Applies revocations to this process's sockets, and looks for missed ones
/// every `every`, until `stop` completes.
pub async fn run(ctx: Ctx, every: Duration, stop: impl Future<Output = ()>) {
    // Heard before the first look, so nothing published meanwhile counts as missed.
    let mut heard = ctx.events.subscribe_revocations();
    let mut sweep = Sweep::new(Utc::now());
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.reset();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => return,
            revocation = heard.recv() => match revocation {
                Ok(revocation) => {
                    ctx.events.watchers().end(*revocation);
                    sweep.heard(*revocation);
                }
                // Some were missed here: the next look applies everything it finds.
                Err(RecvError::Lagged(_)) => sweep.lagged = true,
                Err(RecvError::Closed) => return,
            },
            _ = ticks.tick() => {
                let started = Utc::now();
                match revoked_since(&ctx, sweep.since).await {
                    Ok(found) => {
                        let missed = sweep.missed(&found);
                        if !missed.is_empty() {
                            tracing::info!(sessions = missed.len(), "revocations found by the sweep");
                            ctx.events.verified().forget_all();
                        }
                        for revocation in missed {
                            ctx.events.watchers().end(revocation);
                            sweep.heard(revocation);
                        }
                        sweep.advance(started);
                    }
                    // The next look covers this one's window too.
                    Err(err) => tracing::warn!(error = %err, "revocation sweep"),
                }
            }
        }
    }
}

/// A revoked session: its id, its user, the user's company, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromQueryResult)]
struct Revoked {
    id: i32,
    user_id: i32,
    company_id: Option<i32>,
    revoked_at: DateTime<Utc>,
}

/// Sessions revoked at or after `since`, with their users' companies.
async fn revoked_since(ctx: &Ctx, since: DateTime<Utc>) -> DomainResult<Vec<Revoked>> {
    let query = Query::select()
        .expr_as(Expr::col((session::Entity, session::Column::Id)), Alias::new("id"))
        .expr_as(Expr::col((session::Entity, session::Column::UserId)), Alias::new("user_id"))
        .expr_as(Expr::col((user::Entity, user::Column::CompanyId)), Alias::new("company_id"))
        .expr_as(Expr::col((session::Entity, session::Column::RevokedAt)), Alias::new("revoked_at"))
        .from(session::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id)).equals((session::Entity, session::Column::UserId)),
        )
        .and_where(Expr::col((session::Entity, session::Column::RevokedAt)).gte(since))
        .to_owned();
    let statement = StatementBuilder::build(&query, &ctx.db.get_database_backend());
    Ok(Revoked::find_by_statement(statement).all(&ctx.db).await?)
}

/// Two stamps of one revocation: the one it travelled with and the one the
/// database kept, which PostgreSQL rounds to microseconds.
fn same_stamp(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).abs() <= chrono::Duration::milliseconds(1)
}

/// What one process has heard, and from when the next look starts.
struct Sweep {
    since: DateTime<Utc>,
    /// Revocations heard on the bus, with their stamps: a revocation of a
    /// user covers the sessions it ended, not the user's later sessions.
    heard: HashMap<Whose, Vec<DateTime<Utc>>>,
    /// Whether the bus skipped some since the last look: then every
    /// revocation found is applied again.
    lagged: bool,
}

impl Sweep {
    fn new(now: DateTime<Utc>) -> Self {
        Sweep { since: now - chrono::Duration::seconds(MARGIN_SECONDS), heard: HashMap::new(), lagged: false }
    }

    fn heard(&mut self, revocation: Revocation) {
        self.heard.entry(revocation.whose).or_default().push(revocation.at);
    }

    /// The revocations among `found` that the bus did not bring (all of them
    /// when it skipped some).
    fn missed(&self, found: &[Revoked]) -> Vec<Revocation> {
        let brought = |whose: Whose, at: DateTime<Utc>| {
            !self.lagged && self.heard.get(&whose).is_some_and(|stamps| stamps.iter().any(|s| same_stamp(*s, at)))
        };
        found
            .iter()
            .filter(|r| {
                !(brought(Whose::Session(r.id), r.revoked_at)
                    || brought(Whose::User(r.user_id), r.revoked_at)
                    || r.company_id.is_some_and(|c| brought(Whose::Company(c), r.revoked_at)))
            })
            .map(|r| Revocation { whose: Whose::Session(r.id), at: r.revoked_at })
            .collect()
    }

    /// After a look that started at `started`: the next starts a margin before
    /// it, and what was stamped before that is forgotten.
    fn advance(&mut self, started: DateTime<Utc>) {
        self.lagged = false;
        self.since = started - chrono::Duration::seconds(MARGIN_SECONDS);
        let since = self.since;
        self.heard.retain(|_, stamps| {
            stamps.retain(|at| *at >= since);
            !stamps.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revoked(id: i32, user_id: i32, company_id: Option<i32>, revoked_at: DateTime<Utc>) -> Revoked {
        Revoked { id, user_id, company_id, revoked_at }
    }

    fn session(id: i32, at: DateTime<Utc>) -> Revocation {
        Revocation { whose: Whose::Session(id), at }
    }

    #[test]
    fn what_the_bus_brought_is_not_published_again() {
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(1);
        let mut sweep = Sweep::new(now);
        sweep.heard(session(1, now));
        sweep.heard(Revocation { whose: Whose::User(20), at: now });
        sweep.heard(Revocation { whose: Whose::Company(300), at: now });
        // As PostgreSQL keeps it: rounded to microseconds.
        let kept = now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos() % 1_000));
        let found = [
            revoked(1, 10, Some(100), kept),
            revoked(2, 20, Some(100), kept),
            revoked(3, 30, Some(300), kept),
            revoked(4, 40, Some(100), kept),
            revoked(5, 50, None, kept),
            // A session of the same user, begun after its revocation and revoked since.
            revoked(6, 20, Some(100), later),
            revoked(7, 30, Some(300), later),
        ];
        assert_eq!(sweep.missed(&found), vec![session(4, kept), session(5, kept), session(6, later), session(7, later)]);
        // After the bus skipped some, everything found is applied again.
        sweep.lagged = true;
        assert_eq!(sweep.missed(&found).len(), found.len());
        sweep.advance(now);
        assert!(!sweep.lagged);
    }

    #[test]
    fn each_look_starts_a_margin_before_the_last_and_forgets_what_came_before() {
        let start = Utc::now();
        let mut sweep = Sweep::new(start);
        assert_eq!(sweep.since, start - chrono::Duration::seconds(MARGIN_SECONDS));
        sweep.heard(session(1, start));
        let later = start + chrono::Duration::seconds(MARGIN_SECONDS);
        sweep.heard(session(2, later));
        sweep.advance(later + chrono::Duration::seconds(1));
        assert_eq!(sweep.since, later + chrono::Duration::seconds(1 - MARGIN_SECONDS));
        assert_eq!(sweep.missed(&[revoked(1, 1, None, start), revoked(2, 2, None, later)]), vec![session(1, start)]);
    }
}
