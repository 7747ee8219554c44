//! A tenant: a shipper or online store using the platform.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "companies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Unique, human-chosen name; customers type it at login.
    #[sea_orm(unique)]
    pub identifier: String,
    pub email: String,
    pub phone: String,
    /// Digits only (14).
    pub cnpj: String,
    /// SHA-256 of the integration token; the token itself is shown once.
    pub integration_token_hash: String,
    /// First characters of the token, so support can tell tokens apart.
    pub integration_token_prefix: String,
    pub active: bool,
    /// VTEX: import only orders whose invoices came with their file.
    pub vtex_require_invoice_file: bool,
    /// VTEX: hook notifications move orders.
    pub vtex_status_updates: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::user::Entity")]
    Users,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
