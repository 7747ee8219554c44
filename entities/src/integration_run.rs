//! One inbound integration call (an adapter request, an import file, a
//! reprocessing), recorded whatever happened to the business data.

use sea_orm::entity::prelude::*;

use crate::enums::RunOutcome;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `NULL` when the caller could not be tied to a company (a bad token).
    pub company_id: Option<i32>,
    /// Which adapter took the call (`totvs-r2`, `rastro-csv`, …).
    pub adapter: String,
    /// The adapter's operation (`createOrders`, `import`, …).
    pub operation: String,
    /// `FAILED` until the run finishes, so an interrupted run shows as failed.
    pub outcome: RunOutcome,
    pub received_at: DateTimeUtc,
    /// `NULL` while running, and forever for a run that was interrupted.
    pub finished_at: Option<DateTimeUtc>,
    pub duration_ms: Option<i64>,
    pub received: i32,
    pub applied: i32,
    pub skipped: i32,
    pub failed: i32,
    /// Why the run as a whole was rejected or stopped.
    pub error: Option<String>,
    /// The raw request, cut at the cap (`request_truncated`).
    pub request: String,
    /// The request's full size in bytes.
    pub request_bytes: i64,
    pub request_truncated: bool,
    /// The answer sent back, cut at the cap.
    pub response: Option<String>,
    pub response_bytes: i64,
    pub response_truncated: bool,
    /// The run this one reprocessed.
    pub reprocess_of: Option<i32>,
    /// When its raw request and answer were erased because they held
    /// personal data of an anonymized order (LGPD); it cannot be replayed.
    pub payload_erased_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
