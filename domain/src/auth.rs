//! Logging in, turning an access token back into an [`Actor`], and changing
//! passwords.

use chrono::{DateTime, Duration, Utc};
use entities::{company, login_throttle, user, UserRole};
use sea_orm::{
    sea_query::{Expr, OnConflict}, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    Statement,
};

use crate::{audit, password, sessions::verified::Key, Action, Actor, Ctx, DomainError, DomainResult};

/// Failed attempts allowed before an account key is slowed down.
pub const FREE_ATTEMPTS: i32 = 5;
/// Lock after the [`FREE_ATTEMPTS`]th failure; doubles with each further one.
pub const BASE_LOCK_SECS: i64 = 2;
/// Longest lock after repeated failures.
pub const MAX_LOCK_SECS: i64 = 15 * 60;
/// Failures older than this are forgotten.
pub const FAILURE_MEMORY_SECS: i64 = 15 * 60;

/// What a client presents to log in. `Debug` leaves the password out.
#[derive(Clone)]
pub struct Credentials {
    /// The account's e-mail (any case).
    pub email: String,
    /// The password.
    pub password: String,
    /// The company identifier; `None` for platform admins.
    pub company: Option<String>,
    /// Where the attempt comes from. Failures are counted per account *and*
    /// source, so someone who knows an e-mail cannot lock its owner out from
    /// elsewhere.
    pub source: Option<std::net::IpAddr>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("company", &self.company)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// A successful login (or refresh): a short-lived access token and the
/// refresh token that gets the next one ([`crate::sessions`]). `Debug` leaves
/// both tokens out.
#[derive(Clone)]
pub struct Session {
    /// The signed access token (`Authorization: Bearer …`).
    pub access_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// The opaque refresh token, shown only here; only its hash is stored.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
    /// The session (refresh-token family) both belong to.
    pub session_id: i32,
    /// The logged-in user.
    pub user: user::Model,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expires_at", &self.expires_at)
            .field("session_id", &self.session_id)
            .field("user_id", &self.user.id)
            .finish_non_exhaustive()
    }
}

/// Checks credentials and issues an access token.
///
/// An unknown e-mail, unknown company and wrong password all give
/// [`DomainError::InvalidCredentials`] after the same argon2 work. Attempts are
/// counted per account and source (company + e-mail + client address) in the
/// database *before* the password is checked, so neither parallel requests nor
/// several server processes get extra guesses; from the [`FREE_ATTEMPTS`]th
/// failure on, each one locks that key for twice as long as the last. A success
/// clears the count. The owner, coming from another address, is never locked out
/// by someone else's failures, and a password reset clears every count of the
/// account.
pub async fn login(ctx: &Ctx, actor: &Actor, credentials: Credentials) -> DomainResult<Session> {
    ctx.authz.check(actor, Action::Login)?;
    let email = credentials.email.trim().to_lowercase();
    let company_key = credentials.company.as_deref().map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty());
    if email.len() > 254 || company_key.as_ref().is_some_and(|c| c.len() > 60) {
        verify_password(credentials.password, password::dummy_hash().to_owned()).await?;
        return Err(DomainError::InvalidCredentials);
    }
    let source = credentials.source.map(|ip| ip.to_string()).unwrap_or_default();
    let account_key = format!("{}{source}", throttle_key_prefix(company_key.as_deref().unwrap_or(""), &email));
    let now = Utc::now();
    reserve_attempt(ctx, &account_key, now).await?;

    let found = find_login_account(ctx, company_key.as_deref(), &email).await?;
    let hash = found.as_ref().map_or(password::dummy_hash(), |(u, _)| u.password_hash.as_str()).to_owned();
    let matches = verify_password(credentials.password, hash).await?;
    let Some((user, company)) = found.filter(|_| matches) else {
        tracing::info!("failed login");
        return Err(DomainError::InvalidCredentials);
    };
    login_throttle::Entity::delete_by_id(account_key).exec(&ctx.db).await?;
    if !user.active || company.as_ref().is_some_and(|c| !c.active) {
        return Err(DomainError::AccountDeactivated);
    }
    let mut active = user.into_active_model();
    active.last_login_at = Set(Some(now));
    let user = active.update(&ctx.db).await?;
    crate::sessions::start(ctx, user, now).await
}

/// How long the `failures`th consecutive failure locks an account key.
fn lock_after(failures: i32) -> Option<Duration> {
    (failures >= FREE_ATTEMPTS).then(|| {
        let exponent = u32::try_from(failures - FREE_ATTEMPTS).unwrap_or(0).min(16);
        Duration::seconds((BASE_LOCK_SECS << exponent).min(MAX_LOCK_SECS))
    })
}

/// The start of the login throttle keys of one account (`hash|source`). The
/// e-mail is hashed so the throttle table holds no addresses: a stranger's
/// failed attempts must not store personal data, and an anonymization can
/// still find the account's rows.
pub(crate) fn throttle_key_prefix(company_key: &str, email: &str) -> String {
    format!("{}|", crate::tokens::token_hash(&format!("{company_key}|{email}")))
}

/// Counts an attempt for `account_key`, refusing while the key is locked. The
/// count is changed with a compare-and-set on its previous value, so of several
/// concurrent attempts only one passes per count.
async fn reserve_attempt(ctx: &Ctx, account_key: &str, now: DateTime<Utc>) -> DomainResult<()> {
    let busy = DomainError::RateLimited { retry_after_secs: 1 };
    match login_throttle::Entity::find_by_id(account_key.to_owned()).one(&ctx.db).await? {
        None => {
            // Forget keys nobody has tried for a day, so junk keys do not pile up.
            login_throttle::Entity::delete_many()
                .filter(login_throttle::Column::UpdatedAt.lt(now - Duration::days(1)))
                .exec(&ctx.db)
                .await?;
            let row = login_throttle::ActiveModel {
                account_key: Set(account_key.to_owned()),
                failures: Set(1),
                locked_until: Set(lock_after(1).map(|d| now + d)),
                updated_at: Set(now),
            };
            let inserted = login_throttle::Entity::insert(row)
                .on_conflict(OnConflict::column(login_throttle::Column::AccountKey).do_nothing().to_owned())
                .exec_without_returning(&ctx.db)
                .await?;
            if inserted == 1 {
                Ok(())
            } else {
                Err(busy)
            }
        }
        Some(row) => {
            if let Some(locked_until) = row.locked_until.filter(|l| *l > now) {
                let retry_after_secs = u64::try_from((locked_until - now).num_seconds().max(1)).unwrap_or(1);
                return Err(DomainError::RateLimited { retry_after_secs });
            }
            let remembered = if (now - row.updated_at).num_seconds() < FAILURE_MEMORY_SECS { row.failures } else { 0 };
            let failures = remembered + 1;
            let updated = login_throttle::Entity::update_many()
                .col_expr(login_throttle::Column::Failures, Expr::value(failures))
                .col_expr(login_throttle::Column::LockedUntil, Expr::value(lock_after(failures).map(|d| now + d)))
                .col_expr(login_throttle::Column::UpdatedAt, Expr::value(now))
                .filter(login_throttle::Column::AccountKey.eq(account_key))
                .filter(login_throttle::Column::Failures.eq(row.failures))
                .exec(&ctx.db)
                .await?;
            if updated.rows_affected == 1 {
                Ok(())
            } else {
                Err(busy)
            }
        }
    }
}

async fn find_login_account(
    ctx: &Ctx,
    company: Option<&str>,
    email: &str,
) -> DomainResult<Option<(user::Model, Option<company::Model>)>> {
    Ok(match company {
        Some(identifier) => user::Entity::find()
            .find_also_related(company::Entity)
            .filter(user::Column::Email.eq(email))
            .filter(company::Column::Identifier.eq(identifier))
            .one(&ctx.db)
            .await?
            .filter(|(u, _)| u.role != UserRole::Admin),
        None => user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .filter(user::Column::Role.eq(UserRole::Admin))
            .filter(user::Column::CompanyId.is_null())
            .one(&ctx.db)
            .await?
            .map(|u| (u, None)),
    })
}

/// Turns a bearer token into the actor behind it.
///
/// Besides the signature and expiry, the account is read: a deactivated user,
/// a deactivated company, a token issued before the last password change
/// ([`user::Model::token_version`]) or one of a revoked session (logout,
/// refresh-token reuse) is refused. The session is checked in the same query
/// that loads the user. A check that passed answers for the same token's
/// requests of the next moment (a second by default), until any revocation
/// clears it: in this process at once, in another as its signal arrives
/// ([`crate::sessions::verified`]).
pub async fn authenticate(ctx: &Ctx, bearer: &str) -> DomainResult<Actor> {
    check(ctx, bearer, true).await
}

/// Like [`authenticate`], but always reads the account: for what stays open
/// once it starts (a WebSocket, a page's live events), which a revocation
/// this process has not heard of yet would otherwise leave open until the
/// process's next sweep.
pub async fn authenticate_fresh(ctx: &Ctx, bearer: &str) -> DomainResult<Actor> {
    check(ctx, bearer, false).await
}

async fn check(ctx: &Ctx, bearer: &str, recall: bool) -> DomainResult<Actor> {
    let claims = ctx.tokens.verify(bearer).ok_or(DomainError::Unauthenticated)?;
    let user_id: i32 = claims.sub.parse().map_err(|_| DomainError::Unauthenticated)?;
    let key = Key { user_id, session_id: claims.sid, version: claims.ver };
    let verified = ctx.events.verified();
    if let Some(actor) = recall.then(|| verified.recall(key)).flatten() {
        return Ok(actor);
    }
    let began = verified.epoch();
    let backend = ctx.db.get_database_backend();
    let read = Statement::from_sql_and_values(backend, AUTHENTICATION, [user_id.into(), claims.sid.into()]);
    let row = ctx.db.query_one(read).await?.ok_or(DomainError::Unauthenticated)?;
    let role: UserRole = row.try_get_by_index(1)?;
    let company_id: Option<i32> = row.try_get_by_index(2)?;
    let email: String = row.try_get_by_index(3)?;
    let must_change_password: bool = row.try_get_by_index(4)?;
    let active: bool = row.try_get_by_index(5)?;
    let token_version: i32 = row.try_get_by_index(6)?;
    let company_active: Option<bool> = row.try_get_by_index(7)?;
    if !in_good_standing(active, company_active, token_version, claims.ver) {
        return Err(DomainError::Unauthenticated);
    }
    let actor = Actor::user(role, user_id, company_id, &email, must_change_password, claims.sid).ok_or(DomainError::Unauthenticated)?;
    verified.keep(key, actor.clone(), began);
    Ok(actor)
}

/// Whether a user whose session is live may act on a token of `claimed`
/// version: it is active, its company (if any) is active, and no password
/// change has moved its token version since. (Deactivation and a password
/// change also end the sessions; this holds even where one is missed.)
fn in_good_standing(active: bool, company_active: Option<bool>, token_version: i32, claimed: i32) -> bool {
    active && company_active != Some(false) && token_version == claimed
}

/// What [`authenticate`] reads, by primary key: the user's role, company and
/// standing, its company's standing, and only if the token's session is
/// the user's and not revoked. Written once, not built per request:
/// with sea-query, the user and company whole under aliases, building and
/// decoding it was most of a request's authentication. `$n` are numbered
/// parameters on both databases. No `LIMIT`: PostgreSQL plans a bound one
/// anew on every execution, and a primary key finds one row at most.
const AUTHENTICATION: &str = r#"SELECT u."id", u."role", u."company_id", u."email", u."must_change_password", u."active", u."token_version", c."active"
FROM "users" AS u LEFT JOIN "companies" AS c ON c."id" = u."company_id"
WHERE u."id" = $1 AND EXISTS (SELECT 1 FROM "sessions" AS s WHERE s."id" = $2 AND s."user_id" = u."id" AND s."revoked_at" IS NULL)"#;

/// The actor's own account.
pub async fn me(ctx: &Ctx, actor: &Actor) -> DomainResult<user::Model> {
    ctx.authz.check(actor, Action::ReadOwnAccount)?;
    let id = actor.user_id().ok_or(DomainError::Forbidden)?;
    user::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(DomainError::Unauthenticated)
}

/// Changes the actor's password after checking the current one, clears the
/// temporary-password flag, ends every session of the account (older tokens
/// stop working, open WebSockets close) and starts a fresh one.
pub async fn change_password(ctx: &Ctx, actor: &Actor, current: &str, new: &str) -> DomainResult<Session> {
    ctx.authz.check(actor, Action::ChangeOwnPassword)?;
    let id = actor.user_id().ok_or(DomainError::Forbidden)?;
    let user = user::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(DomainError::Unauthenticated)?;
    // A stolen access token must not become an oracle for the password itself:
    // wrong current passwords are counted and slowed down like failed logins.
    let throttle_key = format!("password-change|{}", user.id);
    reserve_attempt(ctx, &throttle_key, Utc::now()).await?;
    if !verify_password(current.to_owned(), user.password_hash.clone()).await? {
        return Err(DomainError::validation("currentPassword", "is not the current password"));
    }
    login_throttle::Entity::delete_by_id(throttle_key).exec(&ctx.db).await?;
    password::check_policy("newPassword", new)?;
    if new == current {
        return Err(DomainError::validation("newPassword", "must differ from the current password"));
    }
    let hash = hash_password(new.to_owned()).await?;
    let now = Utc::now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    // Compare-and-set on the token version: of two concurrent changes only one
    // wins, so no token of the loser stays valid.
    let changed = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::MustChangePassword, Expr::value(false))
        .col_expr(user::Column::TokenVersion, Expr::value(user.token_version + 1))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::TokenVersion.eq(user.token_version))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(DomainError::Conflict("the password was changed concurrently; log in again".into()));
    }
    audit::record(&txn, actor, user.company_id, "user.change_password", "user", user.id, None).await?;
    let ended = crate::sessions::end_all_of_user(ctx, &txn, user.id, now).await?;
    let user = user::Entity::find_by_id(user.id).one(&txn).await?.ok_or(DomainError::Unauthenticated)?;
    txn.commit().await?;
    ended.after_commit();
    crate::sessions::start(ctx, user, now).await
}

/// Forgets the failed logins of an account from every source (after the
/// owner proved control of the mailbox with a reset link, or when the account
/// is anonymized).
pub(crate) async fn forget_failures(db: &impl sea_orm::ConnectionTrait, company: Option<&str>, email: &str) -> DomainResult<()> {
    let prefix = throttle_key_prefix(&company.unwrap_or("").to_lowercase(), &email.to_lowercase());
    // The prefix is hex and `|`: nothing a LIKE pattern reads as a wildcard.
    login_throttle::Entity::delete_many().filter(login_throttle::Column::AccountKey.starts_with(prefix.as_str())).exec(db).await?;
    Ok(())
}

/// Verifies a password off the async runtime (argon2 is deliberately slow),
/// within the process's cap on concurrent hashes.
async fn verify_password(password: String, hash: String) -> DomainResult<bool> {
    password::off_runtime(move || password::verify(&password, &hash)).await
}

/// Hashes a password off the async runtime (argon2 is deliberately slow),
/// within the process's cap on concurrent hashes.
pub(crate) async fn hash_password(password: String) -> DomainResult<String> {
    Ok(password::off_runtime(move || password::hash(&password)).await??)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_user_of_an_active_company_at_its_token_version_is_in_good_standing() {
        assert!(in_good_standing(true, Some(true), 3, 3));
        assert!(in_good_standing(true, None, 3, 3), "support has no company");
        assert!(!in_good_standing(false, Some(true), 3, 3), "an inactive user");
        assert!(!in_good_standing(false, None, 3, 3), "an inactive support user");
        assert!(!in_good_standing(true, Some(false), 3, 3), "an inactive company");
        assert!(!in_good_standing(true, Some(true), 4, 3), "a token from before a password change");
        assert!(!in_good_standing(true, None, 3, 4), "a token of a version never issued");
    }
}
