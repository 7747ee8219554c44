//! Append-only record of who did what, for support and for the tenant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub company_id: Option<i32>,
    pub actor_user_id: Option<i32>,
    /// `admin`, `company`, `customer`, `integration` or `system`.
    pub actor_kind: String,
    /// Dotted action name, e.g. `company.create`.
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub detail: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
