//! The company's operations pages: the integrations log and monitor with
//! reprocessing (`/admin/integrations`), the audit log (`/admin/audit`) and
//! the LGPD actions (`/admin/privacy`, and the order page's button). Each is
//! the domain call GraphQL makes.

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, Uri},
    response::Response,
    Form,
};
use domain::{
    audit::AuditFilter,
    ingest::log::{self, RunFilter},
    page::PageRequest,
    privacy, DomainError,
};
use entities::RunOutcome;
use minijinja::{context, Value};
use serde::Deserialize;

use super::{
    account::Area,
    i18n,
    session::{self, Visitor},
    support::login_first,
    view::{self, render, when},
};
use crate::state::AppState;

/// Rows per page of the logs.
const PAGE_SIZE: u64 = 50;
/// Characters of a stored request or answer shown on a run's page.
const SHOWN_BODY: usize = 20_000;

/// Query of the integrations log.
#[derive(Deserialize, Default)]
pub struct RunsQuery {
    outcome: Option<String>,
    source_id: Option<String>,
    after: Option<i32>,
}

fn outcome_key(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Success => "SUCCESS",
        RunOutcome::Partial => "PARTIAL",
        RunOutcome::Failed => "FAILED",
        RunOutcome::Rejected => "REJECTED",
    }
}

fn outcome_of(key: &str) -> Option<RunOutcome> {
    [RunOutcome::Success, RunOutcome::Partial, RunOutcome::Failed, RunOutcome::Rejected].into_iter().find(|o| outcome_key(*o) == key)
}

/// `GET /admin/integrations`: the monitor (each flow's last day and week)
/// and the log, newest first.
pub async fn runs(State(state): State<AppState>, visitor: Visitor, uri: Uri, Query(query): Query<RunsQuery>) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    let outcome = query.outcome.as_deref().and_then(outcome_of);
    let source_id = query.source_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let filter = RunFilter { outcomes: outcome.into_iter().collect(), source_id: source_id.clone(), ..RunFilter::default() };
    let found = tokio::try_join!(
        log::monitor(&state.ctx, &visitor.actor, None, chrono::Utc::now()),
        log::list(&state.ctx, &visitor.actor, &filter, PageRequest { first: PAGE_SIZE, after: query.after })
    );
    let (flows, page) = match found {
        Ok(found) => found,
        Err(err @ DomainError::Validation { .. }) => {
            return view::message_text(visitor.locale, StatusCode::BAD_REQUEST, "error_title", &view::form_error(visitor.locale, &err));
        }
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    let flows: Vec<Value> = flows
        .iter()
        .map(|f| {
            context! {
                adapter => f.adapter, operation => f.operation,
                day => context! { ok => f.last_day.success, partial => f.last_day.partial, failed => f.last_day.failed, rejected => f.last_day.rejected },
                week => context! { ok => f.last_week.success, partial => f.last_week.partial, failed => f.last_week.failed, rejected => f.last_week.rejected },
                last_success => f.last_success_at.map(when), last_failure => f.last_failure_at.map(when),
            }
        })
        .collect();
    let next = page.has_next_page.then(|| page.items.last().map(|r| {
        let mut params = vec![("after", r.id.to_string())];
        if let Some(o) = outcome {
            params.push(("outcome", outcome_key(o).to_owned()));
        }
        if let Some(s) = &source_id {
            params.push(("source_id", s.clone()));
        }
        format!("/admin/integrations?{}", serde_urlencoded::to_string(params).unwrap_or_default())
    }))
    .flatten();
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|r| {
            context! {
                id => r.id, adapter => r.adapter, operation => r.operation, outcome => outcome_key(r.outcome), received => when(r.received_at),
                counts => format!("{}/{}/{}/{}", r.received, r.applied, r.skipped, r.failed), error => r.error,
            }
        })
        .collect();
    let outcomes: Vec<Value> = [RunOutcome::Success, RunOutcome::Partial, RunOutcome::Failed, RunOutcome::Rejected]
        .into_iter()
        .map(|o| context! { key => outcome_key(o), chosen => Some(o) == outcome })
        .collect();
    let values = context! {
        flows => flows, rows => rows, total => page.total_count, next => next, outcomes => outcomes,
        source_id => source_id.unwrap_or_default(), here => "/admin/integrations",
    };
    render(&state, &visitor, StatusCode::OK, "integrations.html", values)
}

/// The first [`SHOWN_BODY`] characters of a stored body.
fn shown(body: &str) -> String {
    match body.char_indices().nth(SHOWN_BODY) {
        Some((at, _)) => format!("{}…", &body[..at]),
        None => body.to_owned(),
    }
}

/// `GET /admin/integrations/{id}`: one run, its records and its stored
/// request and answer.
pub async fn run(State(state): State<AppState>, visitor: Visitor, uri: Uri, Path(id): Path<String>) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    let Ok(number) = id.parse::<i32>() else { return view::error_page(visitor.locale, &DomainError::not_found("integrationRun", id)) };
    let (run, items) = match log::get(&state.ctx, &visitor.actor, number).await {
        Ok(found) => found,
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            context! {
                position => i.position, source_id => i.source_id, outcome => format!("{:?}", i.outcome).to_uppercase(), order_id => i.order_id,
                code => i.error_code, field => i.error_field, message => i.error_message,
            }
        })
        .collect();
    let values = context! {
        id => run.id, adapter => run.adapter, operation => run.operation, outcome => outcome_key(run.outcome), received => when(run.received_at),
        duration => run.duration_ms, error => run.error, request => shown(&run.request), request_bytes => run.request_bytes,
        response => run.response.as_deref().map(shown), items => items,
        // What the domain would replay: a finished failed or partial run whose
        // whole request is still stored (not erased for LGPD, not cut).
        can_reprocess => matches!(run.outcome, RunOutcome::Failed | RunOutcome::Partial)
            && run.finished_at.is_some() && run.payload_erased_at.is_none() && !run.request_truncated && run.company_id.is_some(),
        erased => run.payload_erased_at.is_some(),
        here => format!("/admin/integrations/{}", run.id),
    };
    render(&state, &visitor, StatusCode::OK, "integration_run.html", values)
}

/// A form with only its CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /admin/integrations/{id}/reprocess`: replays the run's request as a
/// new run, and shows it.
pub async fn reprocess(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>, Form(form): Form<CsrfForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Company) {
        return login;
    }
    if !visitor.csrf_matches(&state, &form.csrf) {
        return view::message(visitor.locale, StatusCode::FORBIDDEN, "error_title", "bad_form");
    }
    let Ok(number) = id.parse::<i32>() else { return view::error_page(visitor.locale, &DomainError::not_found("integrationRun", id)) };
    let adapters = crate::adapters::all();
    match domain::ingest::reprocess(&state.ctx, &visitor.actor, number, &adapters).await {
        Ok(answer) => session::redirect(&format!("/admin/integrations/{}", answer.run_id), &[]),
        Err(err @ (DomainError::Validation { .. } | DomainError::Conflict(_))) => {
            view::message_text(visitor.locale, StatusCode::BAD_REQUEST, "error_title", &view::form_error(visitor.locale, &err))
        }
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// Query of the audit log.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    action: Option<String>,
    after: Option<i32>,
}

/// `GET /admin/audit`: who did what, newest first.
pub async fn audit(State(state): State<AppState>, visitor: Visitor, uri: Uri, Query(query): Query<AuditQuery>) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    let action = query.action.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
    let filter = AuditFilter { action: action.clone(), ..AuditFilter::default() };
    let page = match domain::audit::list(&state.ctx, &visitor.actor, &filter, PageRequest { first: PAGE_SIZE, after: query.after }).await {
        Ok(page) => page,
        Err(err @ DomainError::Validation { .. }) => {
            return view::message_text(visitor.locale, StatusCode::BAD_REQUEST, "error_title", &view::form_error(visitor.locale, &err));
        }
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    let next = page.has_next_page.then(|| page.items.last().map(|a| {
        let params = [("action", action.clone().unwrap_or_default()), ("after", a.id.to_string())];
        format!("/admin/audit?{}", serde_urlencoded::to_string(params).unwrap_or_default())
    }))
    .flatten();
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|a| {
            context! {
                at => when(a.created_at), actor => a.actor_kind, user => a.actor_user_id, action => a.action,
                entity => a.entity, entity_id => a.entity_id, detail => a.detail.as_ref().map(|d| d.to_string()),
            }
        })
        .collect();
    let values = context! { rows => rows, total => page.total_count, next => next, action => action.unwrap_or_default(), here => "/admin/audit" };
    render(&state, &visitor, StatusCode::OK, "audit.html", values)
}

/// `GET /admin/privacy`: the LGPD actions.
pub async fn privacy_page(State(state): State<AppState>, visitor: Visitor, uri: Uri) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    privacy_result(&state, &visitor, StatusCode::OK, None, None)
}

fn privacy_result(state: &AppState, visitor: &Visitor, status: StatusCode, done: Option<&privacy::Anonymized>, error: Option<String>) -> Response {
    // Only staff have these actions; others see the same 404 as elsewhere.
    if visitor.actor.company_id().is_none() || visitor.actor.audience() != domain::Audience::Staff {
        return view::error_page(visitor.locale, &DomainError::Forbidden);
    }
    let done = done.map(|d| context! { orders => d.orders, localities => d.localities, accounts => d.accounts, mails => d.mails_erased + d.mails_cancelled });
    render(state, visitor, status, "privacy.html", context! { done => done, error => error, here => "/admin/privacy" })
}

/// The erase-a-customer form.
#[derive(Deserialize)]
pub struct CustomerForm {
    csrf: String,
    email: String,
    confirm: Option<String>,
}

/// `POST /admin/privacy/customer`: erases a customer's personal data from
/// the company (their orders, their localities, their mails, their account),
/// after an explicit confirmation.
pub async fn erase_customer(State(state): State<AppState>, visitor: Visitor, Form(form): Form<CustomerForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Company) {
        return login;
    }
    if !visitor.csrf_matches(&state, &form.csrf) {
        return privacy_result(&state, &visitor, StatusCode::FORBIDDEN, None, Some(i18n::text(visitor.locale, "bad_form").into()));
    }
    if form.confirm.is_none() {
        return privacy_result(&state, &visitor, StatusCode::BAD_REQUEST, None, Some(i18n::text(visitor.locale, "confirm_needed").into()));
    }
    match privacy::anonymize_customer(&state.ctx, &visitor.actor, None, &form.email).await {
        Ok(done) => privacy_result(&state, &visitor, StatusCode::OK, Some(&done), None),
        Err(err @ DomainError::Validation { .. }) => privacy_result(&state, &visitor, StatusCode::BAD_REQUEST, None, Some(view::form_error(visitor.locale, &err))),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}
