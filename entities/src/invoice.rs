//! A fiscal invoice of an order. An order can be invoiced in parts, each
//! invoice by its number; the order's own `invoice_*` columns repeat the
//! latest.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    /// Copied from the order so tenant scoping needs no join.
    pub company_id: i32,
    /// Unique within the order.
    pub number: String,
    /// The 44-digit NF-e access key.
    pub key: Option<String>,
    pub series: Option<String>,
    pub value_cents: i64,
    #[serde(deserialize_with = "crate::stored::timestamp")]
    pub issued_at: DateTimeUtc,
    pub url: Option<String>,
    #[serde(deserialize_with = "crate::stored::timestamp")]
    pub created_at: DateTimeUtc,
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
