//! Forgot password and first access: a one-time link by e-mail.
//!
//! `request` answers the same whether or not the account exists. When it does —
//! or when the e-mail is the responsible person of one of the company's
//! localities but has no account yet (first access: the customer account is
//! created now) — a link valid for one hour and usable once is mailed through
//! the outbox. The token is stored only as a hash.

use chrono::{Duration, Utc};
use entities::{company, locality, password_reset_token, user, NotificationKind, UserRole};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

use super::{outbox, settings, templates};
use crate::{
    audit,
    auth::{hash_password, Session},
    password, tokens, validate, Action, Actor, Ctx, DomainError, DomainResult,
};

/// How long a link works.
pub const TOKEN_TTL_MINUTES: i64 = 60;
/// A new link is not mailed again within this many seconds of the last one.
pub const RESEND_AFTER_SECS: i64 = 60;

#[derive(Serialize)]
struct ResetVars {
    name: String,
    company_name: String,
    reset_url: String,
    first_access: bool,
}

/// Mails a reset (or first-access) link if the account exists; answers the same
/// either way.
pub async fn request(ctx: &Ctx, actor: &Actor, email: &str, company: Option<&str>) -> DomainResult<()> {
    ctx.authz.check(actor, Action::ResetPassword)?;
    let Ok(email) = validate::email("email", email) else { return Ok(()) };
    let company = match company.map(str::trim).filter(|c| !c.is_empty()) {
        Some(identifier) => {
            match company::Entity::find()
                .filter(company::Column::Identifier.eq(identifier.to_lowercase()))
                .filter(company::Column::Active.eq(true))
                .one(&ctx.db)
                .await?
            {
                Some(company) => Some(company),
                None => return Ok(()),
            }
        }
        None => None,
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut query = user::Entity::find().filter(user::Column::Email.eq(&email));
    query = match &company {
        Some(c) => query.filter(user::Column::CompanyId.eq(c.id)),
        None => query.filter(user::Column::CompanyId.is_null()).filter(user::Column::Role.eq(UserRole::Admin)),
    };
    let mut first_access = false;
    let account = match (query.one(&txn).await?, &company) {
        (Some(account), _) => Some(account),
        (None, Some(c)) => {
            // First access: the e-mail is responsible for one of the company's
            // localities, so the customer account is created now.
            let responsible = locality::Entity::find()
                .filter(locality::Column::CompanyId.eq(c.id))
                .filter(locality::Column::ResponsibleEmail.eq(&email))
                .one(&txn)
                .await?;
            match responsible {
                Some(l) => {
                    first_access = true;
                    let unusable = hash_password(tokens::random_token(32)).await?;
                    let name = l.responsible_name.unwrap_or_else(|| email.clone());
                    Some(crate::users::insert_user(&txn, Some(c.id), UserRole::Customer, &email, &name, unusable, false).await?)
                }
                None => None,
            }
        }
        (None, None) => None,
    };
    let Some(account) = account.filter(|a| a.active) else {
        return Ok(());
    };
    let now = Utc::now();
    let recent = password_reset_token::Entity::find()
        .filter(password_reset_token::Column::UserId.eq(account.id))
        .order_by_desc(password_reset_token::Column::Id)
        .one(&txn)
        .await?
        .is_some_and(|t| (now - t.created_at).num_seconds() < RESEND_AFTER_SECS);
    if recent {
        txn.commit().await?;
        return Ok(());
    }
    let token = tokens::random_token(32);
    password_reset_token::ActiveModel {
        user_id: Set(account.id),
        token_hash: Set(tokens::token_hash(&token)),
        expires_at: Set(now + Duration::minutes(TOKEN_TTL_MINUTES)),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let locale = match &company {
        Some(c) => settings::prefs_of(&txn, c.id).await?.locale,
        None => entities::Locale::PtBr,
    };
    let vars = ResetVars {
        name: account.name.clone(),
        company_name: company.as_ref().map_or_else(|| "Rastro".to_owned(), |c| c.identifier.clone()),
        reset_url: format!("{}/reset-password?token={token}", ctx.mail.public_base_url),
        first_access,
    };
    let mut mail = templates::render(&templates::reset_mail(locale), &vars)?;
    // The link is as good as a password until used: its bodies are stored
    // encrypted and wiped once delivered (see the worker).
    mail.text = format!("{}{}", outbox::SEALED, ctx.mail.secret_key.encrypt(0, &mail.text)?);
    mail.html = format!("{}{}", outbox::SEALED, ctx.mail.secret_key.encrypt(0, &mail.html)?);
    let company_has_sender = match &company {
        Some(c) => entities::smtp_settings::Entity::find_by_id(c.id).one(&txn).await?.is_some(),
        None => false,
    };
    let held = (!company_has_sender && ctx.mail.platform_smtp_url.is_none())
        .then_some("neither the company nor the platform has an SMTP sender configured");
    let new = outbox::NewMail {
        kind: NotificationKind::PasswordReset,
        company_id: company.as_ref().map(|c| c.id),
        order_id: None,
        history_id: None,
        recipient: &email,
        mail,
        render_context: None,
        held,
    };
    outbox::insert(&txn, new).await?;
    let action = if first_access { "user.first_access" } else { "user.password_reset_requested" };
    audit::record(&txn, actor, account.company_id, action, "user", account.id, None).await?;
    txn.commit().await?;
    ctx.mail_wakeup.notify_one();
    Ok(())
}

/// Sets a new password with a mailed token; the token is spent and every older
/// access token of the account stops working. Returns a fresh session.
pub async fn reset(ctx: &Ctx, actor: &Actor, token: &str, new_password: &str) -> DomainResult<Session> {
    ctx.authz.check(actor, Action::ResetPassword)?;
    let invalid = || DomainError::validation("token", "is invalid, expired or already used");
    let now = Utc::now();
    let found = password_reset_token::Entity::find()
        .filter(password_reset_token::Column::TokenHash.eq(tokens::token_hash(token.trim())))
        .one(&ctx.db)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(invalid)?;
    password::check_policy("newPassword", new_password)?;
    let hash = hash_password(new_password.to_owned()).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    // Spend the token first, conditionally: of two concurrent uses one wins.
    let spent = password_reset_token::Entity::update_many()
        .col_expr(password_reset_token::Column::UsedAt, Expr::value(Some(now)))
        .filter(password_reset_token::Column::Id.eq(found.id))
        .filter(password_reset_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(invalid());
    }
    let account = user::Entity::find_by_id(found.user_id).one(&txn).await?.filter(|u| u.active).ok_or_else(invalid)?;
    let mut row: user::ActiveModel = account.clone().into();
    row.password_hash = Set(hash);
    row.must_change_password = Set(false);
    row.token_version = Set(account.token_version + 1);
    row.updated_at = Set(now);
    let account = row.update(&txn).await?;
    let company = match account.company_id {
        Some(id) => entities::company::Entity::find_by_id(id).one(&txn).await?.map(|c| c.identifier),
        None => None,
    };
    crate::auth::forget_failures(&txn, company.as_deref(), &account.email).await?;
    audit::record(&txn, actor, account.company_id, "user.password_reset", "user", account.id, None).await?;
    let ended = crate::sessions::end_all_of_user(ctx, &txn, account.id, now).await?;
    txn.commit().await?;
    ended.after_commit();
    crate::sessions::start(ctx, account, now).await
}
