//! Reading the integrations log: runs (filtered, newest first), one run with
//! its items, and the monitor (seed `004_…`'s screen: per adapter and
//! operation, outcomes over the last day and week, last success and failure).
//! Company users see their company's runs; admins see every company's.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entities::{integration_run, integration_run_item, RunOutcome};
use sea_orm::{
    sea_query::{CaseStatement, Expr, Func, Query, SimpleExpr},
    ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    actor::Scope,
    page::{Page, PageRequest},
    Action, Actor, Ctx, DomainError, DomainResult,
};

/// Filters of the log.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// One adapter.
    pub adapter: Option<String>,
    /// One operation.
    pub operation: Option<String>,
    /// Any of these outcomes.
    pub outcomes: Vec<RunOutcome>,
    /// Received at or after.
    pub received_from: Option<DateTime<Utc>>,
    /// Received before.
    pub received_to: Option<DateTime<Utc>>,
    /// Runs with a record for this order source id.
    pub source_id: Option<String>,
    /// One company (admins; ignored for company users, who see their own).
    pub company_id: Option<i32>,
}

/// The company scope of the actor's reads, or `None` for every company.
fn scope(actor: &Actor) -> DomainResult<Option<i32>> {
    match actor.scope() {
        Scope::All => Ok(None),
        Scope::Company(company_id) => Ok(Some(company_id)),
        Scope::Customer { .. } | Scope::Nothing => Err(DomainError::Forbidden),
    }
}

/// Runs matching `filter`, newest first.
pub async fn list(ctx: &Ctx, actor: &Actor, filter: &RunFilter, page: PageRequest) -> DomainResult<Page<integration_run::Model>> {
    ctx.authz.check(actor, Action::ReadIntegrations)?;
    let mut query = integration_run::Entity::find();
    match (scope(actor)?, filter.company_id) {
        (Some(own), _) | (None, Some(own)) => query = query.filter(integration_run::Column::CompanyId.eq(own)),
        (None, None) => {}
    }
    if let Some(adapter) = &filter.adapter {
        query = query.filter(integration_run::Column::Adapter.eq(adapter.as_str()));
    }
    if let Some(operation) = &filter.operation {
        query = query.filter(integration_run::Column::Operation.eq(operation.as_str()));
    }
    if !filter.outcomes.is_empty() {
        query = query.filter(integration_run::Column::Outcome.is_in(filter.outcomes.iter().copied()));
    }
    if let Some(from) = filter.received_from {
        query = query.filter(integration_run::Column::ReceivedAt.gte(from));
    }
    if let Some(to) = filter.received_to {
        query = query.filter(integration_run::Column::ReceivedAt.lt(to));
    }
    if let Some(source_id) = &filter.source_id {
        if source_id.contains('\0') || source_id.chars().count() > 100 {
            return Err(DomainError::validation("filter.sourceId", "must be at most 100 characters, without NUL"));
        }
        let runs = Query::select()
            .column(integration_run_item::Column::RunId)
            .from(integration_run_item::Entity)
            .and_where(Expr::col(integration_run_item::Column::SourceId).eq(source_id.as_str()))
            .to_owned();
        query = query.filter(integration_run::Column::Id.in_subquery(runs));
    }
crate::page::newest_first(&ctx.db, query, integration_run::Column::Id, page).await
}

/// One run with its items, if the actor may see it (another company's run
/// answers exactly like a missing one).
pub async fn get(ctx: &Ctx, actor: &Actor, id: i32) -> DomainResult<(integration_run::Model, Vec<integration_run_item::Model>)> {
    ctx.authz.check(actor, Action::ReadIntegrations)?;
    let own = scope(actor)?;
    let run = integration_run::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|run| own.is_none() || run.company_id == own)
        .ok_or_else(|| DomainError::not_found("integrationRun", id))?;
    let items = integration_run_item::Entity::find()
        .filter(integration_run_item::Column::RunId.eq(run.id))
        .order_by_asc(integration_run_item::Column::Position)
        .all(&ctx.db)
        .await?;
    Ok((run, items))
}

/// Runs by outcome over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    /// `SUCCESS`.
    pub success: u64,
    /// `PARTIAL`.
    pub partial: u64,
    /// `FAILED` (interrupted runs included).
    pub failed: u64,
    /// `REJECTED`.
    pub rejected: u64,
}

impl OutcomeCounts {
    fn add(&mut self, outcome: RunOutcome, n: u64) {
        match outcome {
            RunOutcome::Success => self.success += n,
            RunOutcome::Partial => self.partial += n,
            RunOutcome::Failed => self.failed += n,
            RunOutcome::Rejected => self.rejected += n,
        }
    }
}

/// One flow of the monitor: an adapter's operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The adapter.
    pub adapter: String,
    /// Its operation.
    pub operation: String,
    /// Runs over the last 24 hours.
    pub last_day: OutcomeCounts,
    /// Runs over the last 7 days.
    pub last_week: OutcomeCounts,
    /// When the newest successful run was received.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the newest failed, partial or rejected run was received.
    pub last_failure_at: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct WindowRow {
    adapter: String,
    operation: String,
    outcome: RunOutcome,
    week: i64,
    day: i64,
}


/// The monitor: every flow with a run, by adapter and operation. Three
/// statements, whatever the number of runs or flows.
pub async fn monitor(ctx: &Ctx, actor: &Actor, company_id: Option<i32>, now: DateTime<Utc>) -> DomainResult<Vec<Flow>> {
    ctx.authz.check(actor, Action::ReadIntegrations)?;
    let company = scope(actor)?.or(company_id);
    let scoped = |condition: Condition| match company {
        Some(c) => condition.add(integration_run::Column::CompanyId.eq(c)),
        None => condition,
    };
    let (day_ago, week_ago) = (now - Duration::hours(24), now - Duration::days(7));
    let windows: Vec<WindowRow> = per_flow_and_outcome()
        .column_as(Expr::col(integration_run::Column::Id).count(), "week")
        .column_as(
            SimpleExpr::from(Func::sum(CaseStatement::new().case(integration_run::Column::ReceivedAt.gte(day_ago), 1).finally(0))),
            "day",
        )
        .filter(scoped(Condition::all().add(integration_run::Column::ReceivedAt.gte(week_ago))))
        .into_model()
        .all(&ctx.db)
        .await?;
    // The newest run of each flow and outcome, over all time.
    let newest: Vec<LastRow> = per_flow_and_outcome()
        .column_as(Expr::col(integration_run::Column::Id).max(), "last")
        .filter(scoped(Condition::all()))
        .into_model()
        .all(&ctx.db)
        .await?;
    let ids: Vec<i32> = newest.iter().map(|r| r.last).collect();
    let received: HashMap<i32, DateTime<Utc>> = integration_run::Entity::find()
        .filter(integration_run::Column::Id.is_in(ids))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.received_at))
        .collect();

    let mut flows: Vec<Flow> = Vec::new();
    let mut flow = |adapter: &str, operation: &str| -> usize {
        match flows.iter().position(|f| f.adapter == adapter && f.operation == operation) {
            Some(i) => i,
            None => {
                flows.push(Flow {
                    adapter: adapter.to_owned(),
                    operation: operation.to_owned(),
                    last_day: OutcomeCounts::default(),
                    last_week: OutcomeCounts::default(),
                    last_success_at: None,
                    last_failure_at: None,
                });
                flows.len() - 1
            }
        }
    };
    let mut updates = Vec::new();
    for row in &windows {
        updates.push((flow(&row.adapter, &row.operation), Some(row), None));
    }
    for last in &newest {
        updates.push((flow(&last.adapter, &last.operation), None, Some(last)));
    }
    for (i, window, last) in updates {
        let f = &mut flows[i];
        if let Some(row) = window {
            f.last_week.add(row.outcome, u64::try_from(row.week).unwrap_or(0));
            f.last_day.add(row.outcome, u64::try_from(row.day).unwrap_or(0));
        }
        if let Some(last) = last {
            let at = received.get(&last.last).copied();
            let slot = if last.outcome == RunOutcome::Success { &mut f.last_success_at } else { &mut f.last_failure_at };
            *slot = (*slot).max(at);
        }
    }
    flows.sort_by(|a, b| (&a.adapter, &a.operation).cmp(&(&b.adapter, &b.operation)));
    Ok(flows)
}

/// Runs grouped by adapter, operation and outcome, those three selected.
fn per_flow_and_outcome() -> sea_orm::Select<integration_run::Entity> {
    use integration_run::Column::{Adapter, Operation, Outcome};
    integration_run::Entity::find()
        .select_only()
        .columns([Adapter, Operation, Outcome])
        .group_by(Adapter)
        .group_by(Operation)
        .group_by(Outcome)
}

/// The newest run of one flow with one outcome.
#[derive(FromQueryResult)]
struct LastRow {
    adapter: String,
    operation: String,
    outcome: RunOutcome,
    last: i32,
}
