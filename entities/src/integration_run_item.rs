//! One record of an integration run and what became of it.

use sea_orm::entity::prelude::*;

use crate::enums::ItemOutcome;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_run_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub run_id: i32,
    pub company_id: Option<i32>,
    /// Its place in the request, from 0.
    pub position: i32,
    /// The source system's id of the order.
    pub source_id: Option<String>,
    pub outcome: ItemOutcome,
    /// The order it created or changed.
    pub order_id: Option<i32>,
    /// The error's code (`VALIDATION`, `NOT_FOUND`, …) when it failed.
    pub error_code: Option<String>,
    /// The input field the error is about.
    pub error_field: Option<String>,
    pub error_message: Option<String>,
    /// JSON list of what was applied and what was skipped, in words.
    pub applied: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
