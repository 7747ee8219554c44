//! A transport/sales order of one company.

use sea_orm::entity::prelude::*;

use crate::enums::{Incoterm, OrderStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub company_id: i32,
    /// The company's own order id; unique per company.
    pub source_id: String,
    /// Human-facing order code / number.
    pub code: String,
    pub status: OrderStatus,
    /// The status to restore on release while `status` is `ON_HOLD`.
    pub status_before_hold: Option<OrderStatus>,
    /// The status customers see: `status` as of the newest change visible to
    /// them (a hidden hold leaves it where it was). Written with every change.
    pub customer_status: OrderStatus,
    pub customer_name: Option<String>,
    pub destination_locality_id: Option<i32>,
    pub address_street: Option<String>,
    pub address_number: Option<String>,
    pub address_complement: Option<String>,
    pub address_district: Option<String>,
    pub address_city: Option<String>,
    pub address_state: Option<String>,
    pub address_country: Option<String>,
    pub address_zip_code: Option<String>,
    pub address_latitude: Option<f64>,
    pub address_longitude: Option<f64>,
    pub pickup_start: Option<DateTimeUtc>,
    pub pickup_end: Option<DateTimeUtc>,
    pub delivery_start: Option<DateTimeUtc>,
    pub delivery_end: Option<DateTimeUtc>,
    /// 0..=10, higher first.
    pub priority: i32,
    pub incoterm: Option<Incoterm>,
    pub total_cents: i64,
    pub reference: Option<String>,
    pub observations: Option<String>,
    pub invoice_number: Option<String>,
    pub invoice_key: Option<String>,
    pub invoice_series: Option<String>,
    pub invoice_value_cents: Option<i64>,
    pub invoice_issued_at: Option<DateTimeUtc>,
    pub invoice_url: Option<String>,
    pub refunded_cents: i64,
    /// `occurred_at` of the newest applied status event; older events are stale.
    pub last_event_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When its personal data was erased (LGPD); it is read-only from then on.
    pub anonymized_at: Option<DateTimeUtc>,
    /// Digest of the order as its source last sent it whole (see
    /// `domain::ingest::Command::Create`); erased with the order's personal data.
    pub source_digest: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::company::Entity",
        from = "Column::CompanyId",
        to = "super::company::Column::Id"
    )]
    Company,
    #[sea_orm(
        belongs_to = "super::locality::Entity",
        from = "Column::DestinationLocalityId",
        to = "super::locality::Column::Id"
    )]
    Destination,
    #[sea_orm(has_many = "super::order_item::Entity")]
    Items,
    #[sea_orm(has_many = "super::order_status_history::Entity")]
    History,
}

impl Related<super::locality::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Destination.def()
    }
}

impl Related<super::order_item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Items.def()
    }
}

impl Related<super::order_status_history::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::History.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
