//! The integrations log and monitor: every inbound call as a run, its
//! records, and per-flow health (seeds `000_…` "Integrations" and `004_…`).

use async_graphql::{
    connection::{Connection, Edge},
    ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID,
};
use chrono::{DateTime, Utc};
use domain::{ingest::log, page::PageRequest};
use entities::{integration_run, integration_run_item};

use super::{
    error::GqlResultExt,
    request::{parse_id, parts},
    types::CountFields,
};

/// How an integration call ended.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::RunOutcome")]
pub enum RunOutcome {
    /// Every record applied or skipped.
    Success,
    /// Some records failed.
    Partial,
    /// Every record failed, or the run was interrupted.
    Failed,
    /// Refused before its records were read (credentials, malformed body).
    Rejected,
}

/// What became of one record.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::ItemOutcome")]
pub enum RunItemOutcome {
    /// Applied, whole.
    Applied,
    /// Nothing to do: stale or repeated events only.
    Skipped,
    /// Refused; nothing of it was applied.
    Failed,
}

/// One inbound call.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct IntegrationRun {
    /// Id.
    pub id: ID,
    /// The company (none for a call whose credentials named none).
    pub company_id: Option<ID>,
    /// The adapter (`totvs-r2`, `rastro-csv`, …).
    pub adapter: String,
    /// The adapter's operation.
    pub operation: String,
    /// How it ended.
    pub outcome: RunOutcome,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// When it ended; none for a run that was interrupted.
    pub finished_at: Option<DateTime<Utc>>,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// Records received.
    pub received: i32,
    /// Records applied.
    pub applied: i32,
    /// Records skipped (stale or repeated).
    pub skipped: i32,
    /// Records refused.
    pub failed: i32,
    /// Why the run as a whole was rejected or stopped.
    pub error: Option<String>,
    /// The request's size in bytes.
    pub request_bytes: i64,
    /// Whether the stored request was cut at the cap.
    pub request_truncated: bool,
    /// The answer's size in bytes.
    pub response_bytes: i64,
    /// Whether the stored answer was cut at the cap.
    pub response_truncated: bool,
    /// The run this one reprocessed.
    pub reprocess_of: Option<ID>,
    /// When its raw request and answer were erased because they carried an
    /// anonymized order (LGPD); such a run cannot be reprocessed.
    pub payload_erased_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    detail: Option<Detail>,
}

/// What only `integrationRun(id)` loads: the payloads and the records.
struct Detail {
    request: String,
    response: Option<String>,
    items: Vec<integration_run_item::Model>,
}

impl IntegrationRun {
    fn with_detail(mut run: integration_run::Model, items: Vec<integration_run_item::Model>) -> Self {
        let detail = Detail { request: std::mem::take(&mut run.request), response: run.response.take(), items };
        IntegrationRun::new(run, Some(detail))
    }

    fn new(run: integration_run::Model, detail: Option<Detail>) -> Self {
        IntegrationRun {
            id: ID(run.id.to_string()),
            company_id: run.company_id.map(|c| ID(c.to_string())),
            adapter: run.adapter,
            operation: run.operation,
            outcome: run.outcome.into(),
            received_at: run.received_at,
            finished_at: run.finished_at,
            duration_ms: run.duration_ms,
            received: run.received,
            applied: run.applied,
            skipped: run.skipped,
            failed: run.failed,
            error: run.error,
            request_bytes: run.request_bytes,
            request_truncated: run.request_truncated,
            response_bytes: run.response_bytes,
            response_truncated: run.response_truncated,
            reprocess_of: run.reprocess_of.map(|r| ID(r.to_string())),
            payload_erased_at: run.payload_erased_at,
            detail,
        }
    }
}

#[ComplexObject]
impl IntegrationRun {
    /// The raw request as stored (at most 256 KiB). Only on `integrationRun`.
    async fn request(&self) -> Option<&str> {
        self.detail.as_ref().map(|d| d.request.as_str())
    }

    /// The answer sent back as stored. Only on `integrationRun`.
    async fn response(&self) -> Option<&str> {
        self.detail.as_ref().and_then(|d| d.response.as_deref())
    }

    /// One entry per record, in the order received. Only on `integrationRun`
    /// (empty in lists, which would otherwise read every run's records).
    async fn items(&self) -> Vec<IntegrationRunItem> {
        self.detail.as_ref().map(|d| d.items.iter().map(IntegrationRunItem::from).collect()).unwrap_or_default()
    }
}

/// One record of a run.
#[derive(SimpleObject)]
pub struct IntegrationRunItem {
    /// Its place in the request, from 0.
    pub position: i32,
    /// The source's id of the order.
    pub source_id: Option<String>,
    /// What became of it.
    pub outcome: RunItemOutcome,
    /// The order it created or changed.
    pub order_id: Option<ID>,
    /// The error's code (`VALIDATION`, `NOT_FOUND`, `CONFLICT`, …).
    pub error_code: Option<String>,
    /// The input field the error is about.
    pub error_field: Option<String>,
    /// The error in words.
    pub error_message: Option<String>,
    /// What was applied and what was skipped, in words.
    pub applied: Vec<String>,
}

impl From<&integration_run_item::Model> for IntegrationRunItem {
    fn from(item: &integration_run_item::Model) -> Self {
        IntegrationRunItem {
            position: item.position,
            source_id: item.source_id.clone(),
            outcome: item.outcome.into(),
            order_id: item.order_id.map(|o| ID(o.to_string())),
            error_code: item.error_code.clone(),
            error_field: item.error_field.clone(),
            error_message: item.error_message.clone(),
            applied: item.applied.as_deref().and_then(|a| serde_json::from_str(a).ok()).unwrap_or_default(),
        }
    }
}

/// Filters of the integrations log.
#[derive(InputObject, Default)]
pub struct IntegrationRunFilter {
    /// One adapter.
    pub adapter: Option<String>,
    /// One operation.
    pub operation: Option<String>,
    /// Any of these outcomes.
    pub outcomes: Option<Vec<RunOutcome>>,
    /// Received at or after.
    pub received_from: Option<DateTime<Utc>>,
    /// Received before.
    pub received_to: Option<DateTime<Utc>>,
    /// Runs with a record for this order source id.
    pub source_id: Option<String>,
    /// One company (admins).
    pub company_id: Option<ID>,
}

impl IntegrationRunFilter {
    fn into_domain(self) -> async_graphql::Result<log::RunFilter> {
        Ok(log::RunFilter {
            adapter: self.adapter,
            operation: self.operation,
            outcomes: self.outcomes.unwrap_or_default().into_iter().map(Into::into).collect(),
            received_from: self.received_from,
            received_to: self.received_to,
            source_id: self.source_id,
            company_id: self.company_id.as_ref().map(|c| parse_id("company", c)).transpose()?,
        })
    }
}

/// Runs by outcome over a window.
#[derive(SimpleObject)]
pub struct OutcomeCounts {
    /// Successful runs.
    pub success: u64,
    /// Partly failed runs.
    pub partial: u64,
    /// Failed or interrupted runs.
    pub failed: u64,
    /// Rejected calls.
    pub rejected: u64,
}

impl From<log::OutcomeCounts> for OutcomeCounts {
    fn from(c: log::OutcomeCounts) -> Self {
        OutcomeCounts { success: c.success, partial: c.partial, failed: c.failed, rejected: c.rejected }
    }
}

/// One flow of the monitor: an adapter's operation and how it has been doing.
#[derive(SimpleObject)]
pub struct IntegrationFlow {
    /// The adapter.
    pub adapter: String,
    /// The operation.
    pub operation: String,
    /// Runs over the last 24 hours.
    #[graphql(name = "last24h")]
    pub last_24h: OutcomeCounts,
    /// Runs over the last 7 days.
    #[graphql(name = "last7d")]
    pub last_7d: OutcomeCounts,
    /// The newest successful run's arrival.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The newest failed, partial or rejected run's arrival.
    pub last_failure_at: Option<DateTime<Utc>>,
}

/// What a reprocessing did.
#[derive(SimpleObject)]
pub struct Reprocessed {
    /// The new run, linked to the old one by `reprocessOf`.
    pub run: IntegrationRun,
}

/// Integrations mutations.
#[derive(Default)]
pub struct IntegrationMutation;

#[Object]
impl IntegrationMutation {
    /// Replays a failed or partial run's stored request through the same
    /// adapter, as a new run linked to it (`reprocessOf`). Records that were
    /// applied the first time are skipped or re-applied as the adapter's
    /// commands say (imports and event ids make them no-ops).
    async fn reprocess_integration_run(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Reprocessed> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("integrationRun", &id)?;
        let adapters = crate::adapters::all();
        let answer = domain::ingest::reprocess(domain, actor, id, &adapters).await.gql()?;
        let (run, items) = log::get(domain, actor, answer.run_id).await.gql()?;
        Ok(Reprocessed { run: IntegrationRun::with_detail(run, items) })
    }
}

/// A finished run, as live dashboards hear of it.
#[derive(SimpleObject)]
pub struct RunFinishedEvent {
    /// The run; `integrationRun(id)` has its records.
    pub run_id: ID,
    /// Its company.
    pub company_id: Option<ID>,
    /// The adapter.
    pub adapter: String,
    /// The operation.
    pub operation: String,
    /// How it ended.
    pub outcome: RunOutcome,
}

impl From<&domain::events::RunFinished> for RunFinishedEvent {
    fn from(e: &domain::events::RunFinished) -> Self {
        RunFinishedEvent {
            run_id: ID(e.run_id.to_string()),
            company_id: e.company_id.map(|c| ID(c.to_string())),
            adapter: e.adapter.clone(),
            operation: e.operation.clone(),
            outcome: e.outcome.into(),
        }
    }
}

/// A page of runs.
pub type IntegrationRunConnection = Connection<String, IntegrationRun, CountFields>;

/// Integrations queries.
#[derive(Default)]
pub struct IntegrationQuery;

#[Object]
impl IntegrationQuery {
    /// Inbound integration calls, newest first: the company's own (admins:
    /// every company's, or `filter.companyId`'s).
    async fn integration_runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<IntegrationRunFilter>,
    ) -> async_graphql::Result<IntegrationRunConnection> {
        let (domain, actor) = parts(ctx)?;
        let request = PageRequest::parse(first, after.as_deref()).gql()?;
        let filter = filter.unwrap_or_default().into_domain()?;
        let page = log::list(domain, actor, &filter, request).await.gql()?;
        let mut connection =
            Connection::with_additional_fields(request.after.is_some(), page.has_next_page, CountFields { total_count: page.total_count });
        connection.edges.extend(
            page.items.into_iter().map(|run| Edge::new(domain::page::encode_cursor(run.id), IntegrationRun::new(run, None))),
        );
        Ok(connection)
    }

    /// One run with its records and payloads.
    async fn integration_run(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<IntegrationRun> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("integrationRun", &id)?;
        let (run, items) = log::get(domain, actor, id).await.gql()?;
        Ok(IntegrationRun::with_detail(run, items))
    }

    /// Per adapter and operation: runs by outcome over the last 24 hours and
    /// 7 days, and the last success and failure.
    async fn integration_monitor(&self, ctx: &Context<'_>, company_id: Option<ID>) -> async_graphql::Result<Vec<IntegrationFlow>> {
        let (domain, actor) = parts(ctx)?;
        let company_id = company_id.as_ref().map(|c| parse_id("company", c)).transpose()?;
        let flows = log::monitor(domain, actor, company_id, Utc::now()).await.gql()?;
        Ok(flows
            .into_iter()
            .map(|f| IntegrationFlow {
                adapter: f.adapter,
                operation: f.operation,
                last_24h: f.last_day.into(),
                last_7d: f.last_week.into(),
                last_success_at: f.last_success_at,
                last_failure_at: f.last_failure_at,
            })
            .collect())
    }
}
