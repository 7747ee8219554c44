//! Localities: where goods leave from and are delivered to, and the responsible
//! person of each, who is the customer following the orders delivered there.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entities::{locality, LogisticRole};
use sea_orm::{
    sea_query::OnConflict, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    actor::Scope,
    address::Address,
    db::contains,
    audit,
    error::is_unique_violation,
    page::{Page, PageRequest},
    validate, Action, Actor, Ctx, DomainError, DomainResult,
};

/// Most localities one bulk call may carry.
pub const MAX_BULK: usize = 500;

/// The person responsible for a locality.
#[derive(Debug, Clone, Default)]
pub struct Responsible {
    /// Name.
    pub name: String,
    /// E-mail: the customer account that follows this locality's orders.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
}

/// The longest source id a locality has.
pub const MAX_SOURCE_ID: usize = 30;

/// The source id of the locality of a customer a source knows only from
/// their orders: `<prefix>-` and as many hex digits of the SHA-256 of
/// their e-mail (trimmed, lower-cased) as fill [`MAX_SOURCE_ID`]; the same
/// customer is the same locality in every order, and the id says nothing of
/// the e-mail.
pub fn customer_key(prefix: &str, email: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(email.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let room = MAX_SOURCE_ID.saturating_sub(prefix.len() + 1).min(hex.len());
    format!("{prefix}-{}", &hex[..room])
}

/// A locality as a client sends it (create, update and bulk upsert alike).
#[derive(Debug, Clone)]
pub struct LocalityInput {
    /// The company's own id; unique per company.
    pub source_id: String,
    /// Name.
    pub name: String,
    /// Origin, destination or both.
    pub logistic_role: LogisticRole,
    /// Address and coordinates.
    pub address: Address,
    /// The responsible person.
    pub responsible: Option<Responsible>,
}

/// [`customer_key`] for a customer at one address: the same person at
/// another address is another destination, so a new order to a new address
/// does not move the orders already on their way to the old one.
pub fn customer_at_key(prefix: &str, email: &str, address: &Address) -> String {
    let place = [&address.street, &address.number, &address.complement, &address.zip_code, &address.city, &address.country]
        .iter()
        .map(|part| part.as_deref().unwrap_or("").trim().to_lowercase())
        .collect::<Vec<_>>()
        .join("\n");
    customer_key(prefix, &format!("{}\n{place}", email.trim().to_lowercase()))
}

impl LocalityInput {
    /// A customer a source knows only from their orders, as the destination
    /// `key` (see [`customer_key`]): named `name`, else by their e-mail, and
    /// responsible for it, so their e-mail lets them follow their orders. A
    /// phone that is not one is left out (a store's free text should not
    /// refuse the order).
    pub fn customer(key: String, name: Option<String>, email: String, phone: Option<String>, address: Address) -> Self {
        let person = name.unwrap_or_else(|| email.clone());
        let phone = phone.filter(|p| validate::phone("phone", p).is_ok());
        LocalityInput {
            source_id: key,
            name: person.clone(),
            logistic_role: LogisticRole::Destination,
            address,
            responsible: Some(Responsible { name: person, email, phone }),
        }
    }
}

/// Validates `input` into an active model for `company_id`; `prefix` names the
/// input in errors (e.g. `localities[3].`).
fn validated(prefix: &str, company_id: i32, input: LocalityInput) -> Result<locality::ActiveModel, DomainError> {
    let f = |name: &str| format!("{prefix}{name}");
    let address = input.address.cleaned(prefix)?;
    let responsible = match input.responsible {
        None => None,
        Some(r) => Some((
            validate::text(&f("responsible.name"), &r.name, 200)?,
            validate::email(&f("responsible.email"), &r.email)?,
            r.phone.as_deref().map(|p| validate::phone(&f("responsible.phone"), p)).transpose()?,
        )),
    };
    let now = Utc::now();
    Ok(locality::ActiveModel {
        company_id: Set(company_id),
        source_id: Set(validate::text(&f("sourceId"), &input.source_id, 30)?),
        name: Set(validate::text(&f("name"), &input.name, 200)?),
        logistic_role: Set(input.logistic_role),
        street: Set(address.street),
        number: Set(address.number),
        complement: Set(address.complement),
        district: Set(address.district),
        city: Set(address.city),
        state: Set(address.state),
        country: Set(address.country),
        zip_code: Set(address.zip_code),
        latitude: Set(address.latitude),
        longitude: Set(address.longitude),
        responsible_name: Set(responsible.as_ref().map(|r| r.0.clone())),
        responsible_email: Set(responsible.as_ref().map(|r| r.1.clone())),
        responsible_phone: Set(responsible.and_then(|r| r.2)),
        // Fresh data written over an anonymized locality is live again.
        anonymized_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
}

/// The company a writing actor acts for.
fn writing_company(actor: &Actor) -> DomainResult<i32> {
    actor.company_id().ok_or(DomainError::Forbidden)
}

/// Creates a locality.
pub async fn create(ctx: &Ctx, actor: &Actor, input: LocalityInput) -> DomainResult<locality::Model> {
    ctx.authz.check(actor, Action::WriteLocalities)?;
    let company_id = writing_company(actor)?;
    let model = validated("", company_id, input)?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let created = model.insert(&txn).await.map_err(duplicate_source)?;
    audit::record(&txn, actor, Some(company_id), "locality.create", "locality", created.id, None).await?;
    txn.commit().await?;
    Ok(created)
}

fn duplicate_source(err: sea_orm::DbErr) -> DomainError {
    if is_unique_violation(&err) {
        DomainError::Conflict("a locality with this sourceId already exists in the company".into())
    } else {
        err.into()
    }
}

/// Replaces every field of a locality of the actor's company.
pub async fn update(ctx: &Ctx, actor: &Actor, id: i32, input: LocalityInput) -> DomainResult<locality::Model> {
    ctx.authz.check(actor, Action::WriteLocalities)?;
    let company_id = writing_company(actor)?;
    let existing = locality::Entity::find_by_id(id)
        .filter(locality::Column::CompanyId.eq(company_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| DomainError::not_found("locality", id))?;
    let mut model = validated("", company_id, input)?;
    model.id = Set(existing.id);
    model.created_at = Set(existing.created_at);
    let txn = crate::db::begin_write(&ctx.db).await?;
    let updated = model.update(&txn).await.map_err(duplicate_source)?;
    audit::record(&txn, actor, Some(company_id), "locality.update", "locality", id, None).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Creates or updates many localities by `sourceId`, all or nothing. Errors name
/// the offending entry (`localities[3].latitude`).
pub async fn upsert_many(ctx: &Ctx, actor: &Actor, inputs: Vec<LocalityInput>) -> DomainResult<Vec<locality::Model>> {
    ctx.authz.check(actor, Action::WriteLocalities)?;
    let company_id = writing_company(actor)?;
    if inputs.is_empty() || inputs.len() > MAX_BULK {
        return Err(DomainError::validation("localities", format!("must hold 1 to {MAX_BULK} localities")));
    }
    let mut seen = HashSet::new();
    let mut models = Vec::with_capacity(inputs.len());
    for (n, input) in inputs.into_iter().enumerate() {
        let prefix = format!("localities[{n}].");
        if !seen.insert(input.source_id.trim().to_owned()) {
            return Err(DomainError::validation(format!("{prefix}sourceId"), "appears twice in this call"));
        }
        models.push(validated(&prefix, company_id, input)?);
    }
    let source_ids: Vec<String> = seen.into_iter().collect();
    let txn = crate::db::begin_write(&ctx.db).await?;
    write(&txn, &models).await?;
    let stored = locality::Entity::find()
        .filter(locality::Column::CompanyId.eq(company_id))
        .filter(locality::Column::SourceId.is_in(source_ids))
        .order_by_asc(locality::Column::Id)
        .all(&txn)
        .await?;
    audit::record(&txn, actor, Some(company_id), "locality.bulk_upsert", "locality", stored.len(), None).await?;
    txn.commit().await?;
    Ok(stored)
}

/// Inserts `models`, or updates the company's localities with their source
/// ids (an anonymized one becomes live again with the new details).
async fn write(txn: &impl ConnectionTrait, models: &[locality::ActiveModel]) -> DomainResult<()> {
    // Bounded chunks keep each statement under the databases' parameter limits.
    for chunk in models.chunks(100) {
        locality::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([locality::Column::CompanyId, locality::Column::SourceId])
                    .update_columns([
                        locality::Column::Name,
                        locality::Column::LogisticRole,
                        locality::Column::Street,
                        locality::Column::Number,
                        locality::Column::Complement,
                        locality::Column::District,
                        locality::Column::City,
                        locality::Column::State,
                        locality::Column::Country,
                        locality::Column::ZipCode,
                        locality::Column::Latitude,
                        locality::Column::Longitude,
                        locality::Column::ResponsibleName,
                        locality::Column::ResponsibleEmail,
                        locality::Column::ResponsiblePhone,
                        locality::Column::AnonymizedAt,
                        locality::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Creates or updates one locality of the actor's company by its source id,
/// inside a unit of work: what an integration that knows its customers only
/// from their orders does before the order (VTEX's shipping e-mail, say).
pub(crate) async fn upsert_in(txn: &impl ConnectionTrait, actor: &Actor, authz: &crate::Authorizer, input: LocalityInput) -> DomainResult<locality::Model> {
    authz.check(actor, Action::WriteLocalities)?;
    let company_id = writing_company(actor)?;
    let source_id = input.source_id.trim().to_owned();
    write(txn, &[validated("destination.", company_id, input)?]).await?;
    let stored = locality::Entity::find()
        .filter(locality::Column::CompanyId.eq(company_id))
        .filter(locality::Column::SourceId.eq(source_id.as_str()))
        .one(txn)
        .await?
        .ok_or_else(|| DomainError::NotFound { entity: "locality", id: source_id })?;
    audit::record(txn, actor, Some(company_id), "locality.upsert", "locality", stored.id, None).await?;
    Ok(stored)
}

/// One locality of the actor's company.
pub async fn get(ctx: &Ctx, actor: &Actor, id: i32) -> DomainResult<locality::Model> {
    ctx.authz.check(actor, Action::ReadLocalities)?;
    let found = locality::Entity::find_by_id(id).one(&ctx.db).await?;
    found.filter(|l| actor.sees_company(l.company_id)).ok_or_else(|| DomainError::not_found("locality", id))
}

/// Localities of the actor's company, optionally matching `search` in source id,
/// name, city or responsible e-mail.
pub async fn list(ctx: &Ctx, actor: &Actor, page: PageRequest, search: Option<&str>) -> DomainResult<Page<locality::Model>> {
    ctx.authz.check(actor, Action::ReadLocalities)?;
    let mut query = locality::Entity::find();
    match actor.scope() {
        Scope::All => {}
        Scope::Company(c) | Scope::Customer { company_id: c, .. } => query = query.filter(locality::Column::CompanyId.eq(c)),
        Scope::Nothing => return Ok(Page { items: vec![], has_next_page: false, total_count: 0 }),
    }
    if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
        query = query.filter(
            Condition::any()
                .add(contains(locality::Column::SourceId, term))
                .add(contains(locality::Column::Name, term))
                .add(contains(locality::Column::City, term))
                .add(contains(locality::Column::ResponsibleEmail, term)),
        );
    }
    let total_count = query.clone().count(&ctx.db).await?;
    if let Some(after) = page.after {
        query = query.filter(locality::Column::Id.gt(after));
    }
    let mut items = query.order_by_asc(locality::Column::Id).limit(page.first + 1).all(&ctx.db).await?;
    let has_next_page = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page { items, has_next_page, total_count })
}

/// Localities by id for showing them on visible orders (batch loader); only
/// those of companies the actor sees.
pub async fn by_ids(db: &impl ConnectionTrait, actor: &Actor, ids: &[i32]) -> DomainResult<HashMap<i32, locality::Model>> {
    let rows = locality::Entity::find().filter(locality::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().filter(|l| actor.sees_company(l.company_id)).map(|l| (l.id, l)).collect())
}
