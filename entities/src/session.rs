//! A login session: one refresh-token family. Access tokens carry its id and
//! stop working once `revoked_at` is set.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// The user's token version when the session began; a later password change
    /// or deactivation bumps the user's, which ends the session too.
    pub token_version: i32,
    pub created_at: DateTimeUtc,
    /// Last successful refresh (or the login).
    pub refreshed_at: DateTimeUtc,
    /// Set by logout, refresh-token reuse, password change or deactivation.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
