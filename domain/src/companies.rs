//! Companies (tenants): creation by platform support, activation, integration
//! tokens.

use chrono::Utc;
use entities::{company, user};
use sea_orm::{
    sea_query::Expr,
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::json;

use crate::{
    actor::Scope,
    audit,
    cnpj::Cnpj,
    error::is_unique_violation,
    page::{Page, PageRequest},
    tokens, validate, Action, Actor, Ctx, DomainError, DomainResult,
};

/// Prefix of integration tokens, so leaked tokens are recognisable by scanners.
pub const TOKEN_PREFIX: &str = "rst_";

/// Input of [`create`], as received.
#[derive(Debug, Clone)]
pub struct NewCompany {
    /// Unique identifier (slug).
    pub identifier: String,
    /// Contact e-mail.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// CNPJ, numeric or alphanumeric, with or without punctuation.
    pub cnpj: String,
}

/// A company with its integration token in clear, returned only by
/// [`create`] and [`rotate_integration_token`].
#[derive(Debug, Clone)]
pub struct CompanyWithToken {
    /// The stored company.
    pub company: company::Model,
    /// The only time the token is ever shown.
    pub integration_token: String,
}

struct ValidCompany {
    identifier: String,
    email: String,
    phone: String,
    cnpj: Cnpj,
}

impl TryFrom<NewCompany> for ValidCompany {
    type Error = DomainError;

    fn try_from(input: NewCompany) -> Result<Self, Self::Error> {
        Ok(ValidCompany {
            identifier: validate::identifier("identifier", &input.identifier)?,
            email: validate::email("email", &input.email)?,
            phone: validate::phone("phone", &input.phone)?,
            cnpj: Cnpj::parse(&input.cnpj)?,
        })
    }
}

fn new_token() -> (String, String, String) {
    let token = format!("{TOKEN_PREFIX}{}", tokens::random_token(32));
    let hash = tokens::token_hash(&token);
    let prefix = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    (token, hash, prefix)
}

/// Creates a company and issues its first integration token.
pub async fn create(ctx: &Ctx, actor: &Actor, input: NewCompany) -> DomainResult<CompanyWithToken> {
    ctx.authz.check(actor, Action::CreateCompany)?;
    let valid = ValidCompany::try_from(input)?;
    let (token, hash, prefix) = new_token();
    let now = Utc::now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    // The unique index decides, not a look first: two concurrent creations
    // cannot both pass it.
    let taken = DomainError::Conflict(format!("a company with identifier {} already exists", valid.identifier));
    let inserted = company::ActiveModel {
        identifier: Set(valid.identifier),
        email: Set(valid.email),
        phone: Set(valid.phone),
        cnpj: Set(valid.cnpj.as_str().to_owned()),
        integration_token_hash: Set(hash),
        integration_token_prefix: Set(prefix),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let company = match inserted {
        Ok(company) => company,
        Err(err) if is_unique_violation(&err) => return Err(taken),
        Err(err) => return Err(err.into()),
    };
    audit::record(&txn, actor, Some(company.id), "company.create", "company", company.id, Some(json!({"identifier": company.identifier}))).await?;
    txn.commit().await?;
    Ok(CompanyWithToken { company, integration_token: token })
}

/// One company, if the actor may see it. Another tenant's company looks exactly
/// like one that does not exist.
pub async fn get(ctx: &Ctx, actor: &Actor, id: i32) -> DomainResult<company::Model> {
    ctx.authz.check(actor, Action::ReadCompany)?;
    find_visible(ctx, actor, id).await
}

/// One company by its identifier, if the actor may see it.
pub async fn by_identifier(ctx: &Ctx, actor: &Actor, identifier: &str) -> DomainResult<company::Model> {
    ctx.authz.check(actor, Action::ReadCompany)?;
    let found = company::Entity::find()
        .filter(company::Column::Identifier.eq(identifier.trim().to_lowercase()))
        .one(&ctx.db)
        .await?
        .filter(|c| actor.sees_company(c.id));
    found.ok_or_else(|| DomainError::not_found("company", identifier))
}

pub(crate) async fn find_visible(ctx: &Ctx, actor: &Actor, id: i32) -> DomainResult<company::Model> {
    if !actor.sees_company(id) {
        return Err(DomainError::not_found("company", id));
    }
    company::Entity::find_by_id(id).one(&ctx.db).await?.ok_or_else(|| DomainError::not_found("company", id))
}

/// Companies the actor may see, by id.
pub async fn list(ctx: &Ctx, actor: &Actor, page: PageRequest) -> DomainResult<Page<company::Model>> {
    ctx.authz.check(actor, Action::ListCompanies)?;
    let mut query = company::Entity::find();
    match actor.scope() {
        Scope::All => {}
        Scope::Company(id) | Scope::Customer { company_id: id, .. } => {
            query = query.filter(company::Column::Id.eq(id));
        }
        Scope::Nothing => return Ok(Page { items: vec![], has_next_page: false, total_count: 0 }),
    }
    let total_count = query.clone().count(&ctx.db).await?;
    if let Some(after) = page.after {
        query = query.filter(company::Column::Id.gt(after));
    }
    let mut items = query.order_by_asc(company::Column::Id).limit(page.first + 1).all(&ctx.db).await?;
    let has_next_page = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page { items, has_next_page, total_count })
}

/// Activates or deactivates a company. While inactive, none of its users can log
/// in and their tokens stop working; its integration token is refused too.
/// Deactivation retires the users' tokens and sessions for good and closes
/// their WebSockets at once: re-activation revives none of them.
pub async fn set_active(ctx: &Ctx, actor: &Actor, id: i32, active: bool) -> DomainResult<company::Model> {
    ctx.authz.check(actor, Action::DeactivateCompany)?;
    let company = find_visible(ctx, actor, id).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut model = company.into_active_model();
    model.active = Set(active);
    model.updated_at = Set(Utc::now());
    let company = model.update(&txn).await?;
    if !active {
        // Retire every token of the company's users, so re-activation does not
        // revive them.
        user::Entity::update_many()
            .col_expr(user::Column::TokenVersion, Expr::col(user::Column::TokenVersion).add(1))
            .filter(user::Column::CompanyId.eq(id))
            .exec(&txn)
            .await?;
    }
    let action = if active { "company.activate" } else { "company.deactivate" };
    audit::record(&txn, actor, Some(id), action, "company", id, None).await?;
    // Deactivation ends the users' sessions and closes their WebSockets at once.
    let ended = if active { None } else { Some(crate::sessions::end_all_of_company(ctx, &txn, id, Utc::now()).await?) };
    txn.commit().await?;
    if let Some(ended) = ended {
        ended.after_commit();
    }
    Ok(company)
}

/// Issues a new integration token; the old one stops working at once.
///
/// The integration token is a machine credential for the `/integrations/…`
/// routes only: it cannot open a GraphQL WebSocket (those take user access
/// tokens), so there is no socket for a rotation to close, and no user session
/// is touched.
pub async fn rotate_integration_token(ctx: &Ctx, actor: &Actor, id: i32) -> DomainResult<CompanyWithToken> {
    ctx.authz.check(actor, Action::RotateIntegrationToken)?;
    let company = find_visible(ctx, actor, id).await?;
    let (token, hash, prefix) = new_token();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut model = company.into_active_model();
    model.integration_token_hash = Set(hash);
    model.integration_token_prefix = Set(prefix);
    model.updated_at = Set(Utc::now());
    let company = model.update(&txn).await?;
    audit::record(&txn, actor, Some(id), "company.rotate_token", "company", id, None).await?;
    txn.commit().await?;
    Ok(CompanyWithToken { company, integration_token: token })
}

/// The integration actor of the active company owning `token`.
pub async fn authenticate_integration(ctx: &Ctx, token: &str) -> DomainResult<Actor> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(DomainError::Unauthenticated);
    }
    company::Entity::find()
        .filter(company::Column::IntegrationTokenHash.eq(tokens::token_hash(token)))
        .filter(company::Column::Active.eq(true))
        .one(&ctx.db)
        .await?
        .map(|c| Actor::integration(c.id))
        .ok_or(DomainError::Unauthenticated)
}

/// The options of VTEX Tracking's integration a company has chosen (seed
/// `002_…`); both off until turned on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VtexOptions {
    /// Import only orders whose invoices came with their file.
    pub require_invoice_file: bool,
    /// Let VTEX's hook notifications move orders.
    pub status_updates: bool,
}

/// The VTEX options of a company, for the ingestion pipeline's calls.
pub(crate) async fn vtex_options_of(ctx: &Ctx, company_id: i32) -> DomainResult<VtexOptions> {
    let company = company::Entity::find_by_id(company_id).one(&ctx.db).await?.ok_or_else(|| DomainError::not_found("company", company_id))?;
    Ok(VtexOptions { require_invoice_file: company.vtex_require_invoice_file, status_updates: company.vtex_status_updates })
}

/// Sets a company's VTEX options (its own staff, or platform support); audited.
pub async fn set_vtex_options(ctx: &Ctx, actor: &Actor, id: i32, options: VtexOptions) -> DomainResult<company::Model> {
    ctx.authz.check(actor, Action::ConfigureIntegrations)?;
    let company = find_visible(ctx, actor, id).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut model = company.into_active_model();
    model.vtex_require_invoice_file = Set(options.require_invoice_file);
    model.vtex_status_updates = Set(options.status_updates);
    model.updated_at = Set(Utc::now());
    let company = model.update(&txn).await?;
    let detail = serde_json::json!({ "requireInvoiceFile": options.require_invoice_file, "statusUpdates": options.status_updates });
    audit::record(&txn, actor, Some(id), "company.vtex_options", "company", id, Some(detail)).await?;
    txn.commit().await?;
    Ok(company)
}
