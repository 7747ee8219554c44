//! Recording integration runs: begun when a call arrives (as `FAILED`,
//! "interrupted", so a run that never finishes still shows), completed when it
//! ends. Items are written by [`super::apply`], each in the transaction of its
//! record, so an item says `APPLIED` exactly when its data is there.

use std::time::Instant;

use chrono::Utc;
use entities::{integration_run, RunOutcome};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Set};

use super::apply::Report;
use crate::{events::RunFinished, orders::Work, Ctx, DomainError, DomainResult};

/// Largest part of a raw request or response kept with a run, in bytes; the
/// full size and whether it was cut are recorded beside it.
pub const PAYLOAD_CAP: usize = 256 * 1024;

/// What a run says until it finishes.
const INTERRUPTED: &str = "interrupted: the run did not finish (the server stopped while it ran)";

/// Where a call came in.
#[derive(Debug, Clone)]
pub struct RunMeta {
    /// The adapter's name (`totvs-r2`, `rastro-csv`, …).
    pub adapter: String,
    /// The adapter's operation (`createOrders`, `import`, …).
    pub operation: String,
    /// The run this call reprocesses, if it is a reprocessing.
    pub reprocess_of: Option<i32>,
}

/// A run under way.
#[derive(Debug)]
pub struct RunHandle {
    /// The run's id.
    pub id: i32,
    /// Its company, when known.
    pub company_id: Option<i32>,
    adapter: String,
    operation: String,
    started: Instant,
}

impl RunHandle {
    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

/// `bytes` as stored text: at most [`PAYLOAD_CAP`] bytes (invalid UTF-8
/// replaced), and whether it was cut.
pub fn capped(bytes: &[u8]) -> (String, bool) {
    let cut = bytes.len() > PAYLOAD_CAP;
    let kept = &bytes[..bytes.len().min(PAYLOAD_CAP)];
    let mut text = String::from_utf8_lossy(kept).into_owned();
    // A multi-byte character split by the cut shows as one replacement mark.
    if cut && text.ends_with('\u{FFFD}') {
        text.pop();
    }
    // PostgreSQL text cannot hold NUL.
    if text.contains('\0') {
        text = text.replace('\0', "\u{FFFD}");
    }
    (text, cut)
}

fn len(bytes: &[u8]) -> i64 {
    i64::try_from(bytes.len()).unwrap_or(i64::MAX)
}

/// Records that a call arrived, before anything else is done with it.
pub async fn begin(ctx: &Ctx, company_id: Option<i32>, meta: &RunMeta, request: &[u8]) -> DomainResult<RunHandle> {
    begin_large(ctx, company_id, meta, request, request.len() as u64).await
}

/// [`begin`] for a request too large to hold (a file being imported): `head`
/// is its start, `total_bytes` its size.
pub async fn begin_large(ctx: &Ctx, company_id: Option<i32>, meta: &RunMeta, head: &[u8], total_bytes: u64) -> DomainResult<RunHandle> {
    let started = Instant::now();
    let (text, cut) = capped(head);
    let truncated = cut || total_bytes > head.len() as u64;
    let adapter: String = meta.adapter.chars().take(40).collect();
    let operation: String = meta.operation.chars().take(60).collect();
    let row = integration_run::ActiveModel {
        company_id: Set(company_id),
        adapter: Set(adapter.clone()),
        operation: Set(operation.clone()),
        outcome: Set(RunOutcome::Failed),
        received_at: Set(Utc::now()),
        finished_at: Set(None),
        duration_ms: Set(None),
        received: Set(0),
        applied: Set(0),
        skipped: Set(0),
        failed: Set(0),
        error: Set(Some(INTERRUPTED.to_owned())),
        request: Set(text),
        request_bytes: Set(i64::try_from(total_bytes).unwrap_or(i64::MAX)),
        request_truncated: Set(truncated),
        response: Set(None),
        response_bytes: Set(0),
        response_truncated: Set(false),
        reprocess_of: Set(meta.reprocess_of),
        ..Default::default()
    };
    // The arrival does not wait for the disk: the commit of the run's records
    // (or of its rejection) syncs past it, so no record is ever there without
    // its run, and an arrival that only a crash of the machine or of
    // PostgreSQL could lose belongs to a call that had no answer yet.
    // Only the id comes back: the row holds up to 256 KiB of request.
    let insert = integration_run::Entity::insert(row);
    let id = if ctx.db.get_database_backend() == DatabaseBackend::Postgres {
        let txn = crate::db::begin_write(&ctx.db).await?;
        txn.execute_unprepared("SET LOCAL synchronous_commit = off").await?;
        let id = insert.exec(&txn).await?.last_insert_id;
        txn.commit().await?;
        id
    } else {
        insert.exec(ctx.relaxed_db.as_ref().unwrap_or(&ctx.db)).await?.last_insert_id
    };
    Ok(RunHandle { id, company_id, adapter, operation, started })
}

/// Writes the run's outcome in `work` (its last records' transaction) or, without
/// one, in a transaction of its own, and commits.
async fn complete(
    ctx: &Ctx,
    work: Option<Work>,
    run: &RunHandle,
    outcome: RunOutcome,
    counts: [usize; 4],
    error: Option<String>,
    response: &[u8],
) -> DomainResult<()> {
    let (text, truncated) = capped(response);
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let [received, applied, skipped, failed] = counts;
    let work = match work {
        Some(work) => work,
        None => Work::begin(ctx).await?,
    };
    // Nothing comes back: the row holds up to 256 KiB of request.
    let finished = integration_run::Entity::update_many()
        .set(integration_run::ActiveModel {
            outcome: Set(outcome),
            finished_at: Set(Some(Utc::now())),
            duration_ms: Set(Some(run.elapsed_ms())),
            received: Set(count(received)),
            applied: Set(count(applied)),
            skipped: Set(count(skipped)),
            failed: Set(count(failed)),
            error: Set(error),
            response: Set(Some(text)),
            response_bytes: Set(len(response)),
            response_truncated: Set(truncated),
            ..Default::default()
        })
        .filter(integration_run::Column::Id.eq(run.id))
        .exec(work.txn())
        .await?;
    if finished.rows_affected != 1 {
        return Err(DomainError::not_found("integration run", run.id));
    }
    let event = RunFinished {
        run_id: run.id,
        company_id: run.company_id,
        adapter: run.adapter.clone(),
        operation: run.operation.clone(),
        outcome,
    };
    let staged = ctx.events.stage_run(work.txn(), event).await?;
    work.commit(ctx).await?;
    staged.after_commit();
    Ok(())
}

/// Completes a run refused before its records were read (bad credentials, a
/// malformed body), with the answer that was sent.
pub async fn reject(ctx: &Ctx, run: &RunHandle, reason: &str, response: &[u8]) -> DomainResult<()> {
    complete(ctx, None, run, RunOutcome::Rejected, [0; 4], Some(reason.to_owned()), response).await
}

/// Completes a run that stopped partway (a part of an import could not be
/// read): what was applied stays, the run is failed with the reason.
pub async fn abort(ctx: &Ctx, run: &RunHandle, report: &Report, reason: &str, response: &[u8]) -> DomainResult<()> {
    let counts = [report.received(), report.applied, report.skipped, report.failed];
    complete(ctx, None, run, RunOutcome::Failed, counts, Some(reason.to_owned()), response).await
}

/// Completes a run whose records were applied, with the answer rendered from
/// its report.
pub async fn finish(ctx: &Ctx, run: &RunHandle, report: &Report, response: &[u8]) -> DomainResult<()> {
    finish_in(ctx, None, run, report, response).await
}

/// [`finish`] inside `work`, the still open transaction of the run's last
/// records, when there is one.
pub(super) async fn finish_in(ctx: &Ctx, work: Option<Work>, run: &RunHandle, report: &Report, response: &[u8]) -> DomainResult<()> {
    let counts = [report.received(), report.applied, report.skipped, report.failed];
    complete(ctx, work, run, report.outcome(), counts, None, response).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_cut_at_the_cap_on_a_character_boundary() {
        let (text, cut) = capped(b"<ok/>");
        assert_eq!((text.as_str(), cut), ("<ok/>", false));
        let mut big = vec![b'a'; PAYLOAD_CAP - 1];
        big.extend("é".as_bytes());
        let (text, cut) = capped(&big);
        assert!(cut);
        assert_eq!(text.len(), PAYLOAD_CAP - 1, "the split character is dropped, not mangled");
        let (text, _) = capped(b"a\0b");
        assert_eq!(text, "a\u{FFFD}b");
    }
}
