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
    .insert(db)
    .await?;
    Ok(())
}
