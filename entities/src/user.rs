//! Anyone who logs in: admins (no company), company staff and customers.

use sea_orm::entity::prelude::*;

use crate::enums::UserRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// None only for admins. (company_id, email) is unique, so one e-mail may be a
    /// customer of several companies without the accounts mixing.
    pub company_id: Option<i32>,
    pub role: UserRole,
    /// Stored lower-cased.
    pub email: String,
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Set for temporary passwords: the account may only change its password.
    pub must_change_password: bool,
    pub active: bool,
    /// Bumped on password change and deactivation; tokens carry it, so older
    /// tokens stop working.
    pub token_version: i32,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the account's personal data was erased (LGPD); it cannot log in.
    pub anonymized_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::company::Entity",
        from = "Column::CompanyId",
        to = "super::company::Column::Id"
    )]
    Company,
}

impl Related<super::company::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Company.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
