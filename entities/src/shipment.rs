//! A shipment of an order: carrier and tracking code.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "shipments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    /// Copied from the order so tenant scoping needs no join.
    pub company_id: i32,
    /// Delivery method / carrier service (seed: "forma de entrega").
    pub carrier: String,
    /// Carrier's display name (seed: "título").
    pub title: Option<String>,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    #[serde(deserialize_with = "crate::stored::timestamp")]
    pub shipped_at: DateTimeUtc,
    #[serde(deserialize_with = "crate::stored::timestamp")]
    pub created_at: DateTimeUtc,
    /// The invoice it carries, when the source said.
    pub invoice_number: Option<String>,
    /// When the carrier delivered it.
    #[serde(deserialize_with = "crate::stored::optional_timestamp")]
    pub delivered_at: Option<DateTimeUtc>,
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
