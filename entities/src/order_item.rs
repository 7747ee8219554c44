//! One line of an order.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "order_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    pub source_id: String,
    /// SKU / product id.
    pub product_id: String,
    pub name: String,
    pub quantity: f64,
    pub unit_price_cents: i64,
    /// Metres.
    pub height: Option<f64>,
    pub length: Option<f64>,
    pub width: Option<f64>,
    /// Kilograms.
    pub weight: Option<f64>,
    pub origin_locality_id: Option<i32>,
    /// The line's total as its source stated it, in cents; without it the
    /// total is `quantity × unit_price_cents`, rounded.
    pub total_cents: Option<i64>,
    /// The source's other fields of the line, as a JSON object of text.
    pub attributes: Option<String>,
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
