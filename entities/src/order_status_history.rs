//! Every status event of an order, applied or skipped.

use sea_orm::entity::prelude::*;

use crate::enums::OrderStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "order_status_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    /// Copied from the order so tenant scoping needs no join.
    pub company_id: i32,
    #[serde(deserialize_with = "crate::stored::optional_active_enum")]
    pub from_status: Option<OrderStatus>,
    #[serde(deserialize_with = "crate::stored::active_enum")]
    pub to_status: OrderStatus,
    pub comment: Option<String>,
    pub notify_customer: bool,
    pub visible_to_customer: bool,
    /// `manual` or the adapter's name (`totvs-r2`, `vtex`, …).
    pub source: String,
    pub actor_user_id: Option<i32>,
    /// The source's own event id, for de-duplication.
    pub event_id: Option<String>,
    /// False for a stale or repeated event that was recorded but not applied.
    pub applied: bool,
    pub skip_reason: Option<String>,
    #[serde(deserialize_with = "crate::stored::timestamp")]
    pub occurred_at: DateTimeUtc,
    #[serde(deserialize_with = "crate::stored::timestamp")]
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::order::Entity",
        from = "Column::OrderId",
        to = "super::order::Column::Id",
        on_delete = "Cascade"
    )]
    Order,
}

impl Related<super::order::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Order.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
