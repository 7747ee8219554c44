//! One event of a shipment's timeline as its carrier reports it: where it
//! was, what happened, when. A carrier's report replaces the shipment's
//! timeline whole.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "tracking_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub shipment_id: i32,
    /// Copied from the shipment so an order's timeline is one lookup.
    pub order_id: i32,
    /// Copied from the order so tenant scoping needs no join.
    pub company_id: i32,
    /// Its place in the carrier's report, from 0.
    pub position: i32,
    /// When it happened, when the carrier said.
    #[serde(deserialize_with = "crate::stored::optional_timestamp")]
    pub occurred_at: Option<DateTimeUtc>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub description: String,
    #[serde(deserialize_with = "crate::stored::timestamp")]
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::shipment::Entity",
        from = "Column::ShipmentId",
        to = "super::shipment::Column::Id",
        on_delete = "Cascade"
    )]
    Shipment,
}

impl Related<super::shipment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shipment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
