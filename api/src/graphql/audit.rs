//! The audit trail: who did what and when. Read-only.

use async_graphql::{
    connection::{Connection, Edge},
    Context, InputObject, Object, SimpleObject, ID,
};
use chrono::{DateTime, Utc};
use domain::{audit, page::PageRequest};
use entities::audit_log;

use super::{
    error::GqlResultExt,
    request::{parse_id, parts},
    types::CountFields,
};

/// One entry of the audit trail.
#[derive(SimpleObject)]
pub struct AuditEntry {
    /// Id.
    pub id: ID,
    /// The company it concerns (none for platform-wide actions).
    pub company_id: Option<ID>,
    /// The user who acted, if a user did.
    pub actor_user_id: Option<ID>,
    /// `admin`, `company`, `integration` or `system`.
    pub actor_kind: String,
    /// What was done, e.g. `mail.template_save`.
    pub action: String,
    /// The kind of object.
    pub entity: String,
    /// The object's id.
    pub entity_id: Option<String>,
    /// Details as JSON text (never secrets or erased personal data).
    pub detail: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(e: audit_log::Model) -> Self {
        AuditEntry {
            id: ID(e.id.to_string()),
            company_id: e.company_id.map(|c| ID(c.to_string())),
            actor_user_id: e.actor_user_id.map(|u| ID(u.to_string())),
            actor_kind: e.actor_kind,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            detail: e.detail.map(|d| d.to_string()),
            created_at: e.created_at,
        }
    }
}

/// Filters of the audit trail.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// Actions starting with this (`mail.`).
    pub action: Option<String>,
    /// One kind of object.
    pub entity: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// One company (admins).
    pub company_id: Option<ID>,
}

/// A page of audit entries.
pub type AuditConnection = Connection<String, AuditEntry, CountFields>;

/// Audit queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail, newest first: the company's own entries (admins: every
    /// company's, or `filter.companyId`'s).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AuditFilter>,
    ) -> async_graphql::Result<AuditConnection> {
        let (domain, actor) = parts(ctx)?;
        let request = PageRequest::parse(first, after.as_deref()).gql()?;
        let filter = filter.unwrap_or_default();
        let filter = audit::AuditFilter {
            action: filter.action,
            entity: filter.entity,
            from: filter.from,
            to: filter.to,
            company_id: filter.company_id.as_ref().map(|c| parse_id("company", c)).transpose()?,
        };
        let page = audit::list(domain, actor, &filter, request).await.gql()?;
        let mut connection =
            Connection::with_additional_fields(request.after.is_some(), page.has_next_page, CountFields { total_count: page.total_count });
        connection.edges.extend(page.items.into_iter().map(|e| Edge::new(domain::page::encode_cursor(e.id), AuditEntry::from(e))));
        Ok(connection)
    }
}
