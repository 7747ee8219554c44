//! A place goods leave from or are delivered to. Its responsible person is the
//! customer who follows the orders delivered there.

use sea_orm::entity::prelude::*;

use crate::enums::LogisticRole;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "localities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub company_id: i32,
    /// The company's own id for it; unique per company.
    pub source_id: String,
    pub name: String,
    pub logistic_role: LogisticRole,
    pub street: Option<String>,
    pub number: Option<String>,
    pub complement: Option<String>,
    pub district: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub zip_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub responsible_name: Option<String>,
    /// Lower-cased; matched against customer accounts of the same company.
    pub responsible_email: Option<String>,
    pub responsible_phone: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When its responsible person and address were erased (LGPD); cleared
    /// when fresh data is written to it.
    pub anonymized_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::company::Entity",
        from = "Column::CompanyId",
        to = "super::company::Column::Id"
    )]
    Company,
}

impl Related<super::company::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Company.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
