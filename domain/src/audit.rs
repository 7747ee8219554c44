//! Appends audit-log entries inside the caller's transaction.

use entities::audit_log;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::{Actor, DomainResult};

/// Records that `actor` did `action` on `entity` `entity_id`.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    company_id: Option<i32>,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    detail: Option<serde_json::Value>,
) -> DomainResult<()> {
    entry(actor, company_id, action, entity, entity_id, detail).insert(db).await?;
    Ok(())
}

/// The row [`record`] inserts, for callers that insert many at once.
pub(crate) fn entry(
    actor: &Actor,
    company_id: Option<i32>,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    detail: Option<serde_json::Value>,
) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        company_id: Set(company_id),
        actor_user_id: Set(actor.user_id()),
        actor_kind: Set(actor.role_name().to_owned()),
        action: Set(action.to_owned()),
        entity: Set(entity.to_owned()),
        entity_id: Set(Some(entity_id.to_string())),
        detail: Set(detail),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Actions starting with this (`mail.`, `integration_run.reprocess`).
    pub action: Option<String>,
    /// One kind of object (`order`, `company`, …).
    pub entity: Option<String>,
    /// At or after.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// One company (admins; company users always see their own).
    pub company_id: Option<i32>,
}

/// The audit log, newest first: a company's own entries, or (admins) every
/// company's. Read-only: nothing in the API changes or deletes an entry.
pub async fn list(
    ctx: &crate::Ctx,
    actor: &Actor,
    filter: &AuditFilter,
    page: crate::page::PageRequest,
) -> DomainResult<crate::page::Page<audit_log::Model>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    ctx.authz.check(actor, crate::Action::ReadAuditLog)?;
    let mut query = audit_log::Entity::find();
    match (actor.scope(), filter.company_id) {
        (crate::actor::Scope::Company(own), _) | (crate::actor::Scope::All, Some(own)) => {
            query = query.filter(audit_log::Column::CompanyId.eq(own));
        }
        (crate::actor::Scope::All, None) => {}
        (crate::actor::Scope::Customer { .. } | crate::actor::Scope::Nothing, _) => return Err(crate::DomainError::Forbidden),
    }
    if let Some(action) = filter.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        crate::validate::text("filter.action", action, 100)?;
        query = query.filter(audit_log::Column::Action.starts_with(action));
    }
    if let Some(entity) = &filter.entity {
        crate::validate::text("filter.entity", entity, 100)?;
        query = query.filter(audit_log::Column::Entity.eq(entity.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::Column::CreatedAt.lt(to));
    }
crate::page::newest_first(&ctx.db, query, audit_log::Column::Id, page).await
}
