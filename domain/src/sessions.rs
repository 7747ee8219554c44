//! Login sessions: short-lived access tokens, rotating refresh tokens, and the
//! revocations that end them — and the WebSockets opened with them — at once.
//!
//! # Model
//! - A login starts a **session** (one refresh-token *family*). Its id is the
//!   `sid` claim of every access token issued in it, and
//!   [`crate::auth::authenticate`] refuses a token whose session is revoked, in
//!   the same query that loads the user (an `EXISTS` on the session's primary
//!   key). A check that passed answers for the token's next requests for a
//!   moment, until any revocation clears it ([`verified`]).
//! - The client also gets an opaque **refresh token** (32 random bytes, stored
//!   only as its SHA-256, valid [`REFRESH_TTL_DAYS`]). [`refresh`] spends it with
//!   a compare-and-set (`UPDATE … WHERE used_at IS NULL`) and issues the next
//!   access + refresh token of the same session.
//! - **Reuse**: presenting a spent refresh token means two parties hold it (a
//!   thief, or a client that raced itself), so the whole session is revoked.
//!   Of two concurrent refreshes with one token, one wins; the loser is reuse.
//! - [`logout`] revokes the caller's session; a password change or reset and a
//!   deactivation of the user or its company revoke all of the user's (and bump
//!   its token version, which already retires older access tokens).
//!
//! # Revocation signal
//! Every revocation is also published as a [`Revocation`] on the event bus
//! ([`crate::events::EventBus::stage_revocations`]), inside the revoking
//! transaction: in-process on SQLite, `pg_notify` on PostgreSQL so every server
//! process hears it. One task per process ([`sweep`]) applies it to the
//! process's open sockets ([`watchers`]), which close at once; the same task
//! finds the revocations the signal missed in the database. Every revocation
//! also clears the process's remembered token checks ([`verified`]): the
//! revoking process before it answers, the others as the signal arrives. No socket asks
//! the database about its token again, and a socket closes by itself when
//! its token expires.

use chrono::{DateTime, Duration, Utc};
use entities::{company, refresh_token, session, user};
use sea_orm::{
    sea_query::{Expr, Query, SimpleExpr},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};

use crate::{auth::Session, events::Staged, tokens, Action, Actor, Ctx, DomainError, DomainResult};

pub mod sweep;
pub mod verified;
pub mod watchers;

/// How long a refresh token stays valid; each refresh issues a new one.
pub const REFRESH_TTL_DAYS: i64 = 30;
/// Random bytes in a refresh token.
const REFRESH_TOKEN_BYTES: usize = 32;
/// Prefix of refresh tokens, so a leaked one is recognisable.
pub const REFRESH_TOKEN_PREFIX: &str = "rsr_";

/// Sessions that just ended. Open WebSockets close when one names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Whose sessions.
    #[serde(flatten)]
    pub whose: Whose,
    /// The `revoked_at` the revoking transaction wrote on them, by which the
    /// [`sweep`] tells the sessions this revocation ended from later ones.
    pub at: DateTime<Utc>,
}

/// Whose sessions a [`Revocation`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Whose {
    /// Every session of this user (password change, deactivation).
    User(i32),
    /// Every session of this company's users (company deactivation).
    Company(i32),
    /// One session (logout, refresh-token reuse).
    Session(i32),
}

impl Revocation {
    /// Whether this revocation ends `actor`'s session.
    pub fn ends(&self, actor: &Actor) -> bool {
        match self.whose {
            Whose::User(id) => actor.user_id() == Some(id),
            Whose::Company(id) => actor.user_id().is_some() && actor.company_id() == Some(id),
            Whose::Session(id) => actor.session_id() == Some(id),
        }
    }
}

fn new_refresh_token() -> (String, String) {
    let token = format!("{REFRESH_TOKEN_PREFIX}{}", tokens::random_token(REFRESH_TOKEN_BYTES));
    let hash = tokens::token_hash(&token);
    (token, hash)
}

async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    session_id: i32,
    now: DateTime<Utc>,
) -> DomainResult<(String, DateTime<Utc>)> {
    let (token, hash) = new_refresh_token();
    let expires_at = now + Duration::days(REFRESH_TTL_DAYS);
    refresh_token::ActiveModel {
        session_id: Set(session_id),
        token_hash: Set(hash),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((token, expires_at))
}

fn session_of(
    ctx: &Ctx,
    user: user::Model,
    session_id: i32,
    token_version: i32,
    refresh: (String, DateTime<Utc>),
    now: DateTime<Utc>,
) -> DomainResult<Session> {
    let (access_token, exp) = ctx.tokens.issue(user.id, token_version, session_id, now)?;
    Ok(Session {
        access_token,
        expires_at: DateTime::from_timestamp(exp, 0).unwrap_or(now),
        refresh_token: refresh.0,
        refresh_expires_at: refresh.1,
        session_id,
        user,
    })
}

/// Starts a session for `user` (after a login or a password change) and issues
/// its first access and refresh tokens. Also forgets the user's sessions that
/// ended long enough ago to matter no more.
pub(crate) async fn start(ctx: &Ctx, user: user::Model, now: DateTime<Utc>) -> DomainResult<Session> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.id))
        .filter(
            session::Column::RefreshedAt
                .lt(now - Duration::days(REFRESH_TTL_DAYS))
                .or(session::Column::RevokedAt.lt(now - Duration::days(REFRESH_TTL_DAYS))),
        )
        .exec(&txn)
        .await?;
    let row = session::ActiveModel {
        user_id: Set(user.id),
        token_version: Set(user.token_version),
        created_at: Set(now),
        refreshed_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let refresh = insert_refresh_token(&txn, row.id, now).await?;
    txn.commit().await?;
    let version = user.token_version;
    session_of(ctx, user, row.id, version, refresh, now)
}

/// Spends `presented` and issues the next access and refresh token of its
/// session.
///
/// An unknown, expired or spent token is [`DomainError::Unauthenticated`]; a
/// spent one (including the loser of two concurrent refreshes) also revokes
/// the whole session, closing its WebSockets. A deactivated user or company
/// gets [`DomainError::AccountDeactivated`].
pub async fn refresh(ctx: &Ctx, actor: &Actor, presented: &str) -> DomainResult<Session> {
    ctx.authz.check(actor, Action::Login)?;
    let now = Utc::now();
    let hash = tokens::token_hash(presented.trim());
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(&ctx.db)
        .await?
        .ok_or(DomainError::Unauthenticated)?;
    if found.used_at.is_some() {
        revoke_reused(ctx, found.session_id, now).await?;
        return Err(DomainError::Unauthenticated);
    }
    if found.expires_at <= now {
        return Err(DomainError::Unauthenticated);
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    // Compare-and-set: of two concurrent refreshes with one token only one
    // spends it.
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(Some(now)))
        .filter(refresh_token::Column::Id.eq(found.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        txn.rollback().await?;
        revoke_reused(ctx, found.session_id, now).await?;
        return Err(DomainError::Unauthenticated);
    }
    let session = session::Entity::find_by_id(found.session_id)
        .one(&txn)
        .await?
        .filter(|s| s.revoked_at.is_none())
        .ok_or(DomainError::Unauthenticated)?;
    let (user, company) = user::Entity::find_by_id(session.user_id)
        .find_also_related(company::Entity)
        .one(&txn)
        .await?
        .ok_or(DomainError::Unauthenticated)?;
    if !user.active || company.as_ref().is_some_and(|c| !c.active) {
        return Err(DomainError::AccountDeactivated);
    }
    if user.token_version != session.token_version {
        return Err(DomainError::Unauthenticated);
    }
    session::Entity::update_many()
        .col_expr(session::Column::RefreshedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session.id))
        .exec(&txn)
        .await?;
    // Spent tokens are kept until they expire, so their reuse is recognised.
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::SessionId.eq(session.id))
        .filter(refresh_token::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    let next = insert_refresh_token(&txn, session.id, now).await?;
    txn.commit().await?;
    session_of(ctx, user, session.id, session.token_version, next, now)
}

/// Revokes a session whose spent refresh token came back.
async fn revoke_reused(ctx: &Ctx, session_id: i32, now: DateTime<Utc>) -> DomainResult<()> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let revoked = revoke(&txn, session::Column::Id.eq(session_id), now).await?;
    // Signalled only when it ends something: every signal clears every
    // process's token checks, and a spent token can be replayed at will.
    if revoked == 0 {
        return Ok(());
    }
    let staged = ctx.events.stage_revocations(&txn, vec![Revocation { whose: Whose::Session(session_id), at: now }]).await?;
    txn.commit().await?;
    staged.after_commit();
    tracing::warn!(session_id, "refresh token reused; session revoked");
    Ok(())
}

/// Ends the actor's own session: its access and refresh tokens stop working and
/// its WebSockets close. The user's other sessions go on.
pub async fn logout(ctx: &Ctx, actor: &Actor) -> DomainResult<()> {
    ctx.authz.check(actor, Action::Logout)?;
    let session_id = actor.session_id().ok_or(DomainError::Forbidden)?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let now = Utc::now();
    revoke(&txn, session::Column::Id.eq(session_id), now).await?;
    let staged = ctx.events.stage_revocations(&txn, vec![Revocation { whose: Whose::Session(session_id), at: now }]).await?;
    txn.commit().await?;
    staged.after_commit();
    Ok(())
}

/// Inside `txn`, revokes every session of `user_id` and stages the signal that
/// closes its WebSockets; call [`Staged::after_commit`] after the commit.
pub(crate) async fn end_all_of_user(
    ctx: &Ctx,
    txn: &impl ConnectionTrait,
    user_id: i32,
    now: DateTime<Utc>,
) -> DomainResult<Staged<Revocation>> {
    revoke(txn, session::Column::UserId.eq(user_id), now).await?;
    ctx.events.stage_revocations(txn, vec![Revocation { whose: Whose::User(user_id), at: now }]).await
}

/// Inside `txn`, revokes every session of the users of `company_id` and stages
/// the signal that closes their WebSockets.
pub(crate) async fn end_all_of_company(
    ctx: &Ctx,
    txn: &impl ConnectionTrait,
    company_id: i32,
    now: DateTime<Utc>,
) -> DomainResult<Staged<Revocation>> {
    let users = Query::select().column(user::Column::Id).from(user::Entity).and_where(user::Column::CompanyId.eq(company_id)).to_owned();
    revoke(txn, session::Column::UserId.in_subquery(users), now).await?;
    ctx.events.stage_revocations(txn, vec![Revocation { whose: Whose::Company(company_id), at: now }]).await
}

async fn revoke(db: &impl ConnectionTrait, which: SimpleExpr, now: DateTime<Utc>) -> DomainResult<u64> {
    let result = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Some(now)))
        .filter(which)
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_travel_as_small_json() -> anyhow::Result<()> {
        let revocation = Revocation { whose: Whose::Company(7), at: "2026-12-06T10:00:00.123456Z".parse()? };
        let json = serde_json::to_string(&revocation)?;
        assert_eq!(json, r#"{"kind":"company","id":7,"at":"2026-12-06T10:00:00.123456Z"}"#);
        assert_eq!(serde_json::from_str::<Revocation>(&json)?, revocation);
        Ok(())
    }

    #[test]
    fn a_revocation_names_users_companies_or_one_session() -> anyhow::Result<()> {
        let staff = Actor::user(entities::UserRole::Company, 3, Some(9), "a@b.c", false, 42).ok_or_else(|| anyhow::anyhow!("actor"))?;
        let of = |whose| Revocation { whose, at: Utc::now() };
        assert!(of(Whose::User(3)).ends(&staff));
        assert!(of(Whose::Company(9)).ends(&staff));
        assert!(of(Whose::Session(42)).ends(&staff));
        assert!(!of(Whose::User(4)).ends(&staff));
        assert!(!of(Whose::Company(8)).ends(&staff));
        assert!(!of(Whose::Session(41)).ends(&staff));
        assert!(!of(Whose::Company(9)).ends(&Actor::integration(9)));
        Ok(())
    }
}
