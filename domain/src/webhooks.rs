//! Per-company secrets for the storefront platforms' signed webhooks
//! (Shopify, Magento, Nuvemshop, Rastro's generic event).
//!
//! A secret is set by the company's staff or platform support and never read
//! back: it is stored encrypted with the server key (like the SMTP password),
//! and what can be read is only which platforms have one and when it
//! changed. Rotating keeps the previous secret valid for a grace period, so a
//! platform still signing with the old one is not refused while the new one
//! is being set there; a grace of zero ends the old one at once.

use chrono::{DateTime, Duration, Utc};
use entities::{webhook_secret, WebhookPlatform};
use sea_orm::{sea_query::OnConflict, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use secrecy::{ExposeSecret, SecretString};

use crate::{audit, companies, Action, Actor, Ctx, DomainError, DomainResult};

/// The shortest secret accepted: an HMAC key guessed is a forged webhook.
pub const MIN_SECRET_CHARS: usize = 16;
/// The longest secret accepted.
pub const MAX_SECRET_CHARS: usize = 512;
/// The grace period of a rotated secret unless told otherwise.
pub const DEFAULT_GRACE_HOURS: i64 = 24;
/// The longest grace period of a rotated secret.
pub const MAX_GRACE_HOURS: i64 = 7 * 24;

/// The longest store name kept with a secret.
pub const MAX_ACCOUNT_CHARS: usize = 255;

/// Sets `company_id`'s secret for `platform`. The one it replaces stays
/// valid for `grace_hours` (0 to [`MAX_GRACE_HOURS`]); audited, without the
/// secret. `account` names the store the secret is for (`None` keeps the
/// one set, an empty one clears it).
pub async fn set_secret(
    ctx: &Ctx,
    actor: &Actor,
    company_id: i32,
    platform: WebhookPlatform,
    secret: &SecretString,
    grace_hours: i64,
    account: Option<&str>,
) -> DomainResult<webhook_secret::Model> {
    ctx.authz.check(actor, Action::ConfigureIntegrations)?;
    companies::find_visible(ctx, actor, company_id).await?;
    let plain = secret.expose_secret();
    let length = plain.chars().count();
    if plain.trim() != plain || !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&length) {
        return Err(DomainError::validation(
            "secret",
            format!("must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters, without spaces around it"),
        ));
    }
    if !(0..=MAX_GRACE_HOURS).contains(&grace_hours) {
        return Err(DomainError::validation("graceHours", format!("must be 0 to {MAX_GRACE_HOURS}")));
    }
    let account = match account.map(|a| a.trim().to_lowercase()) {
        Some(a) if a.chars().count() > MAX_ACCOUNT_CHARS => {
            return Err(DomainError::validation("account", format!("must be at most {MAX_ACCOUNT_CHARS} characters")))
        }
        other => other,
    };
    let now = Utc::now();
    let encrypted = ctx.mail.secret_key.encrypt(company_id, plain)?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let existing = webhook_secret::Entity::find_by_id((company_id, platform)).one(&txn).await?;
    let (previous, until) = match &existing {
        Some(old) if grace_hours > 0 => (Some(old.secret_encrypted.clone()), Some(now + Duration::hours(grace_hours))),
        _ => (None, None),
    };
    let account = match account {
        Some(a) if a.is_empty() => None,
        Some(a) => Some(a),
        None => existing.as_ref().and_then(|old| old.account.clone()),
    };
    let row = webhook_secret::ActiveModel {
        company_id: Set(company_id),
        platform: Set(platform),
        secret_encrypted: Set(encrypted),
        previous_encrypted: Set(previous),
        previous_valid_until: Set(until),
        updated_at: Set(now),
        account: Set(account.clone()),
    };
    // An upsert: two first settings at once do not collide on the key.
    let conflict = OnConflict::columns([webhook_secret::Column::CompanyId, webhook_secret::Column::Platform])
        .update_columns([
            webhook_secret::Column::SecretEncrypted,
            webhook_secret::Column::PreviousEncrypted,
            webhook_secret::Column::PreviousValidUntil,
            webhook_secret::Column::UpdatedAt,
            webhook_secret::Column::Account,
        ])
        .to_owned();
    webhook_secret::Entity::insert(row).on_conflict(conflict).exec_without_returning(&txn).await?;
    let saved = webhook_secret::Entity::find_by_id((company_id, platform))
        .one(&txn)
        .await?
        .ok_or_else(|| DomainError::not_found("webhook secret", format!("{platform:?}")))?;
    let detail = serde_json::json!({ "platform": platform, "graceHours": grace_hours, "rotated": until.is_some(), "account": account });
    audit::record(&txn, actor, Some(company_id), "company.webhook_secret", "company", company_id, Some(detail)).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Which platforms `company_id` has a secret for, and since when.
pub async fn secrets_of(ctx: &Ctx, actor: &Actor, company_id: i32) -> DomainResult<Vec<webhook_secret::Model>> {
    ctx.authz.check(actor, Action::ConfigureIntegrations)?;
    companies::find_visible(ctx, actor, company_id).await?;
    Ok(webhook_secret::Entity::find()
        .filter(webhook_secret::Column::CompanyId.eq(company_id))
        .order_by_asc(webhook_secret::Column::Platform)
        .all(&ctx.db)
        .await?)
}

/// The secrets a webhook of `platform` for `company_id` may be signed with
/// at `now`: the current one, then the previous one while its grace lasts.
/// None when the company has set none (its webhooks are then refused). For
/// the routes, before they know who is calling: the signature is the proof.
pub async fn accepted(ctx: &Ctx, company_id: i32, platform: WebhookPlatform, now: DateTime<Utc>) -> DomainResult<Vec<SecretString>> {
    Ok(accepted_for(ctx, company_id, platform, now).await?.secrets)
}

/// What a platform's call for a company must be signed with, and for.
#[derive(Debug, Default)]
pub struct Accepted {
    /// See [`accepted`].
    pub secrets: Vec<SecretString>,
    /// The store the secrets are for, when the company said: a call that
    /// names another store is refused.
    pub account: Option<String>,
}

/// [`accepted`], with the store the secrets are for.
pub async fn accepted_for(ctx: &Ctx, company_id: i32, platform: WebhookPlatform, now: DateTime<Utc>) -> DomainResult<Accepted> {
    let Some(row) = webhook_secret::Entity::find_by_id((company_id, platform)).one(&ctx.db).await? else { return Ok(Accepted::default()) };
    let key = &ctx.mail.secret_key;
    let mut secrets = vec![SecretString::from(key.decrypt(company_id, &row.secret_encrypted)?)];
    if let (Some(previous), Some(until)) = (&row.previous_encrypted, row.previous_valid_until) {
        if now < until {
            secrets.push(SecretString::from(key.decrypt(company_id, previous)?));
        }
    }
    Ok(Accepted { secrets, account: row.account })
}

/// The active company a webhook URL names by its identifier, if any. For
/// the routes: who the call claims to be for, before its signature proves it.
pub async fn company_of(ctx: &Ctx, identifier: &str) -> DomainResult<Option<i32>> {
    use entities::company;
    Ok(company::Entity::find()
        .filter(company::Column::Identifier.eq(identifier))
        .filter(company::Column::Active.eq(true))
        .one(&ctx.db)
        .await?
        .map(|c| c.id))
}
