//! A company's mapping of one platform status code onto a canonical
//! status; `status` empty means the code is read and ignored (the event is
//! recorded as skipped). A row overrides the platform's default.

use sea_orm::entity::prelude::*;

use crate::enums::{OrderStatus, WebhookPlatform};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_mappings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub company_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub platform: WebhookPlatform,
    /// The platform's code, normalised (see `domain::status_mappings::normalize`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub status: Option<OrderStatus>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
