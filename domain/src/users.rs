//! Accounts: platform admins, company staff and customers.

use chrono::Utc;
use entities::{company, user, UserRole};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::{
    audit, auth::hash_password, error::is_unique_violation, password, tokens, validate, Action, Actor, Ctx,
    DomainError, DomainResult,
};

/// Input of [`create_company_user`].
#[derive(Debug, Clone)]
pub struct NewCompanyUser {
    /// The company the user works for.
    pub company_id: i32,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Temporary password; generated when `None`.
    pub temporary_password: Option<String>,
}

/// A created account and, when the platform generated it, its temporary password
/// (shown this once).
#[derive(Debug, Clone)]
pub struct CreatedUser {
    /// The stored account.
    pub user: user::Model,
    /// The generated temporary password, if one was generated.
    pub generated_password: Option<String>,
}

/// Creates a staff account for a company with a temporary password that must be
/// changed at first login.
pub async fn create_company_user(ctx: &Ctx, actor: &Actor, input: NewCompanyUser) -> DomainResult<CreatedUser> {
    ctx.authz.check(actor, Action::CreateCompanyUser)?;
    if !actor.sees_company(input.company_id) {
        return Err(DomainError::not_found("company", input.company_id));
    }
    let company = company::Entity::find_by_id(input.company_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| DomainError::not_found("company", input.company_id))?;
    let email = validate::email("email", &input.email)?;
    let name = validate::text("name", &input.name, 200)?;
    let (password, generated) = match input.temporary_password {
        Some(p) => {
            password::check_policy("temporaryPassword", &p)?;
            (p, false)
        }
        None => (tokens::random_token(12), true),
    };
    let hash = hash_password(password.clone()).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let user = insert_user(&txn, Some(company.id), UserRole::Company, &email, &name, hash, true).await?;
    audit::record(&txn, actor, Some(company.id), "user.create", "user", user.id, Some(json!({"email": email, "role": "company"}))).await?;
    txn.commit().await?;
    Ok(CreatedUser { user, generated_password: generated.then_some(password) })
}

/// Creates a platform admin. Used by the
/// `create-admin` command with the system actor.
pub async fn create_admin(ctx: &Ctx, actor: &Actor, email: &str, password: &str) -> DomainResult<user::Model> {
    if !matches!(actor.kind(), crate::actor::ActorKind::System { .. }) {
        return Err(DomainError::Forbidden);
    }
    let email = validate::email("email", email)?;
    password::check_policy("password", password)?;
    let exists = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .filter(user::Column::CompanyId.is_null())
        .count(&ctx.db)
        .await?;
    if exists > 0 {
        return Err(DomainError::Conflict(format!("an admin with e-mail {email} already exists")));
    }
    let hash = hash_password(password.to_owned()).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let user = insert_user(&txn, None, UserRole::Admin, &email, "Platform admin", hash, false).await?;
    audit::record(&txn, actor, None, "user.create", "user", user.id, Some(json!({"email": email, "role": "admin"}))).await?;
    txn.commit().await?;
    Ok(user)
}

/// Creates a customer account of a company (demo data; first access comes with
/// the notifications work).
pub async fn create_customer(
    ctx: &Ctx,
    actor: &Actor,
    company_id: i32,
    email: &str,
    name: &str,
    password: &str,
) -> DomainResult<user::Model> {
    if !matches!(actor.kind(), crate::actor::ActorKind::System { .. }) {
        return Err(DomainError::Forbidden);
    }
    let email = validate::email("email", email)?;
    let name = validate::text("name", name, 200)?;
    password::check_policy("password", password)?;
    let hash = hash_password(password.to_owned()).await?;
    insert_user(&ctx.db, Some(company_id), UserRole::Customer, &email, &name, hash, false).await
}

/// The users of one company, oldest first.
pub async fn list_company_users(ctx: &Ctx, actor: &Actor, company_id: i32) -> DomainResult<Vec<user::Model>> {
    ctx.authz.check(actor, Action::ListCompanyUsers)?;
    if !actor.sees_company(company_id) {
        return Err(DomainError::not_found("company", company_id));
    }
    let exists = company::Entity::find_by_id(company_id).count(&ctx.db).await? > 0;
    if !exists {
        return Err(DomainError::not_found("company", company_id));
    }
    Ok(user::Entity::find()
        .filter(user::Column::CompanyId.eq(company_id))
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await?)
}

pub(crate) async fn insert_user(
    db: &impl ConnectionTrait,
    company_id: Option<i32>,
    role: UserRole,
    email: &str,
    name: &str,
    password_hash: String,
    must_change_password: bool,
) -> DomainResult<user::Model> {
    let now = Utc::now();
    let result = user::ActiveModel {
        company_id: Set(company_id),
        role: Set(role),
        email: Set(email.to_owned()),
        name: Set(name.to_owned()),
        password_hash: Set(password_hash),
        must_change_password: Set(must_change_password),
        active: Set(true),
        token_version: Set(0),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    match result {
        Ok(user) => Ok(user),
        Err(err) if is_unique_violation(&err) => {
            Err(DomainError::Conflict(format!("an account with e-mail {email} already exists in this company")))
        }
        Err(err) => Err(err.into()),
    }
}

/// Activates or deactivates a company user or customer. A deactivated account
/// cannot log in, its sessions are revoked (re-activation does not revive
/// them) and its open WebSockets close at once.
pub async fn set_active(ctx: &Ctx, actor: &Actor, user_id: i32, active: bool) -> DomainResult<user::Model> {
    ctx.authz.check(actor, Action::DeactivateUser)?;
    let found = user::Entity::find_by_id(user_id).one(&ctx.db).await?;
    let user = found
        .filter(|u| u.company_id.is_some_and(|c| actor.sees_company(c)))
        .ok_or_else(|| DomainError::not_found("user", user_id))?;
    if actor.user_id() == Some(user.id) {
        return Err(DomainError::validation("userId", "you cannot deactivate your own account"));
    }
    let company_id = user.company_id;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let version = user.token_version + i32::from(!active);
    let mut model: user::ActiveModel = user.into();
    model.active = Set(active);
    // Deactivation retires every token, so re-activation does not revive them.
    model.token_version = Set(version);
    model.updated_at = Set(Utc::now());
    let user = model.update(&txn).await?;
    let action = if active { "user.activate" } else { "user.deactivate" };
    audit::record(&txn, actor, company_id, action, "user", user.id, None).await?;
    // Deactivation ends every session and closes the user's WebSockets at once.
    let ended = if active { None } else { Some(crate::sessions::end_all_of_user(ctx, &txn, user.id, Utc::now()).await?) };
    txn.commit().await?;
    if let Some(ended) = ended {
        ended.after_commit();
    }
    Ok(user)
}
