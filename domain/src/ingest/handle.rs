//! The one path every inbound call takes — a route, `rastro import`, a
//! reprocessing: record the run, let the adapter parse, apply, let the adapter
//! answer, complete the run.

use chrono::Utc;

use super::{
    adapter::{Adapter, Context, WireError},
    apply::{apply_leaving_last, Report},
    runs::{self, RunMeta},
};
use crate::{Actor, Ctx, DomainResult};

/// What a call came to.
#[derive(Debug)]
pub enum Handled {
    /// Its records were applied; the report says how each went.
    Applied(Report),
    /// It was refused whole.
    Rejected(WireError),
}

/// The answer for the caller, and what happened.
#[derive(Debug)]
pub struct Answer {
    /// The run it was recorded as.
    pub run_id: i32,
    /// The protocol's answer, rendered by the adapter.
    pub body: Vec<u8>,
    /// What happened.
    pub handled: Handled,
}

/// Handles one call of `operation` for `company_id` through `adapter`, as the
/// company's integration. `reprocess_of` names the run this one replays.
pub async fn handle(
    ctx: &Ctx,
    company_id: i32,
    adapter: &dyn Adapter,
    operation: &str,
    body: &[u8],
    reprocess_of: Option<i32>,
) -> DomainResult<Answer> {
    let meta = RunMeta { adapter: adapter.name().to_owned(), operation: operation.to_owned(), reprocess_of };
    let run = runs::begin(ctx, Some(company_id), &meta, body).await?;
    let reads = adapter.reads();
    let mut context = Context { now: Utc::now(), ..Context::default() };
    if reads.vtex_options {
        context.vtex = crate::companies::vtex_options_of(ctx, company_id).await?;
    }
    if reads.status_mappings {
        context.mappings = std::sync::Arc::new(crate::status_mappings::of_company(ctx, company_id).await?);
    }
    match adapter.parse(operation, body, &context) {
        Err(error) => {
            let answer = adapter.render_rejection(operation, &error);
            runs::reject(ctx, &run, &error.to_string(), &answer).await?;
            Ok(Answer { run_id: run.id, body: answer, handled: Handled::Rejected(error) })
        }
        Ok(batch) => {
            let (report, last) = apply_leaving_last(ctx, &Actor::integration(company_id), &run, batch).await?;
            let answer = adapter.render(operation, &report);
            runs::finish_in(ctx, last, &run, &report, &answer).await?;
            Ok(Answer { run_id: run.id, body: answer, handled: Handled::Applied(report) })
        }
    }
}

/// Records a call refused before its body was read (a bad signature) as a
/// rejected run of `company_id`, with the adapter's rejection as its answer:
/// the company sees in its log that something called, and why it was
/// refused. Its body is not kept, only its size: nothing proves it came
/// from the company, and the log is no place for strangers' bytes.
pub async fn refuse(
    ctx: &Ctx,
    company_id: i32,
    adapter: &dyn Adapter,
    operation: &str,
    body_bytes: u64,
    error: &WireError,
) -> DomainResult<Answer> {
    let meta = RunMeta { adapter: adapter.name().to_owned(), operation: operation.to_owned(), reprocess_of: None };
    let run = runs::begin_large(ctx, Some(company_id), &meta, b"", body_bytes).await?;
    let answer = adapter.render_rejection(operation, error);
    runs::reject(ctx, &run, &error.to_string(), &answer).await?;
    Ok(Answer { run_id: run.id, body: answer, handled: Handled::Rejected(error.clone()) })
}
