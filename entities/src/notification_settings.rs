//! Which status changes e-mail the customer, and in which language.

use sea_orm::entity::prelude::*;

use crate::enums::Locale;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub company_id: i32,
    pub locale: Locale,
    /// Comma-separated status names, e.g. `IN_SEPARATION,IN_TRANSIT,DELIVERED`.
    pub statuses: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
