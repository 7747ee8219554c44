//! Reprocessing: a failed or partial run's stored request fed through the same
//! adapter again, as a new run linked to the old one.

use super::{
    adapter::Adapter,
    handle::{handle, Answer},
    log,
};
use crate::{audit, Action, Actor, Ctx, DomainError, DomainResult};

/// Replays run `id` through its adapter (found in `adapters` by name).
pub async fn reprocess(ctx: &Ctx, actor: &Actor, id: i32, adapters: &[&dyn Adapter]) -> DomainResult<Answer> {
    ctx.authz.check(actor, Action::ReprocessIntegrations)?;
    let (run, _) = log::get(ctx, actor, id).await?;
    if run.payload_erased_at.is_some() {
        return Err(DomainError::validation("id", "its request was erased with an anonymized order (LGPD); it cannot be replayed"));
    }
    use entities::RunOutcome::{Failed, Partial, Rejected, Success};
    match run.outcome {
        Failed | Partial => {}
        Success | Rejected => {
            return Err(DomainError::validation("id", format!("only failed or partial runs are reprocessed; this one is {:?}", run.outcome)))
        }
    }
    if run.request_truncated {
        return Err(DomainError::validation("id", "the stored request was cut at the size cap; it cannot be replayed"));
    }
    let company_id = run.company_id.ok_or_else(|| DomainError::validation("id", "the run belongs to no company"))?;
    let adapter = adapters
        .iter()
        .find(|a| a.name() == run.adapter)
        .ok_or_else(|| DomainError::validation("id", format!("no adapter {} on this server", run.adapter)))?;
    let answer = handle(ctx, company_id, *adapter, &run.operation, run.request.as_bytes(), Some(run.id)).await?;
    let detail = serde_json::json!({ "newRunId": answer.run_id });
    audit::record(&ctx.db, actor, Some(company_id), "integration_run.reprocess", "integration_run", run.id, Some(detail)).await?;
    Ok(answer)
}
