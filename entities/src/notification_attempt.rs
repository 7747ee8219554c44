//! Each delivery attempt of a notification and its outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub notification_id: i32,
    pub attempted_at: DateTimeUtc,
    pub succeeded: bool,
    /// The SMTP server's answer or the connection error.
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
