//! The outbox worker: claims due mails, sends them, records every attempt.

use std::{collections::HashMap, future::Future, time::Duration};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use chrono::{DateTime, Utc};
use entities::{notification, notification_attempt, smtp_settings, NotificationKind, NotificationState};
use lettre::message::Mailbox;
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult,
    QueryFilter, Set, Statement,
};

use super::{
    mailer,
    outbox::{RenderContext, HELD_REASON, SEALED},
};
use crate::{Ctx, DomainError, DomainResult};

/// Mails claimed per round. One transaction claims them and one records how
/// they went, so a mail costs two commits shared 64 ways rather than its own.
const CLAIM: i64 = 64;
/// Mails being sent at once over all companies; each company's own
/// `max_connections` bounds its share.
const IN_FLIGHT: usize = 64;

/// Runs until `shutdown` completes. A round under way when it does finishes the
/// mails already being sent and gives the rest of its claim back (`PENDING`),
/// so a stopped worker leaves no mail `SENDING` and a backlog does not hold up
/// the shutdown.
pub async fn run(ctx: Ctx, shutdown: impl Future<Output = ()>) {
    let mut worker = Worker::default();
    let stopping = CancellationToken::new();
    tokio::pin!(shutdown);
    loop {
        let result = {
            let round = worker.round_until(&ctx, &stopping);
            tokio::pin!(round);
            tokio::select! {
                result = &mut round => result,
                () = &mut shutdown => {
                    stopping.cancel();
                    round.await
                }
            }
        };
        if stopping.is_cancelled() {
            tracing::info!("mail worker stopped");
            return;
        }
        let busy = match result {
            Ok(sent) => sent > 0,
            Err(err) => {
                tracing::error!(error = %err, "mail worker round failed");
                false
            }
        };
        if busy {
            continue;
        }
        worker.close_stale().await;
        tokio::select! {
            () = &mut shutdown => return,
            () = ctx.mail_wakeup.notified() => {}
            () = tokio::time::sleep(ctx.mail.poll_interval) => {}
        }
    }
}

/// Transports kept between rounds, so connections are reused.
#[derive(Default)]
pub struct Worker {
    companies: HashMap<i32, (DateTime<Utc>, mailer::Transport)>,
    platform: Option<mailer::Transport>,
}

enum Outcome {
    Sent { answer: String, message_id: String },
    Retry(String),
    GiveUp(String),
    Hold,
    /// Given back untried (`PENDING`, the attempt not counted): the worker is
    /// stopping, or too little of the lease is left to send within it.
    Release,
}

impl Worker {
    /// One round: fail stale claims, claim due mails, send them. Returns how many
    /// were handled.
    pub async fn round(&mut self, ctx: &Ctx) -> DomainResult<usize> {
        self.round_until(ctx, &CancellationToken::new()).await
    }

    /// [`Worker::round`], giving back each claimed mail not yet being sent once
    /// `stopping` is cancelled.
    async fn round_until(&mut self, ctx: &Ctx, stopping: &CancellationToken) -> DomainResult<usize> {
        fail_stale_claims(ctx).await?;
        let claimed = claim(ctx).await?;
        let count = claimed.len();
        let settings = settings_of(ctx, &claimed).await;
        let mut ready = Vec::with_capacity(count);
        for mut mail in claimed {
            let queued = mail.render_context.is_some();
            let prepared = match render_deferred(ctx, &mut mail).await {
                Ok(()) => self.prepare(ctx, &settings, &mail),
                Err(outcome) => Err(outcome),
            };
            // Rendered here, so the rendered parts are stored with the outcome.
            let rendered = queued && mail.render_context.is_none();
            ready.push((mail, rendered, prepared));
        }
        let margin = ctx.mail.smtp_timeout * 2;
        let done: Vec<_> = futures::stream::iter(ready)
            .map(|(mail, rendered, prepared)| async move {
                let outcome = match prepared {
                    Ok((transport, message, message_id)) => {
                        // A send takes at most a connection and a conversation, each
                        // bounded by the SMTP timeout: one that waited for its turn
                        // past this could outlive the lease, and another worker
                        // could write the mail off while it goes out.
                        let left = mail.lease_until.map_or(Duration::ZERO, |lease| (lease - Utc::now()).to_std().unwrap_or_default());
                        let turn = tokio::select! {
                            biased;
                            () = stopping.cancelled() => None,
                            turn = tokio::time::timeout(left.saturating_sub(margin), transport.turn()) => turn.ok(),
                        };
                        match turn {
                            Some(turn) => match turn.send(message).await {
                                Ok(answer) => Outcome::Sent { answer, message_id },
                                Err((err, true)) => Outcome::GiveUp(err),
                                Err((err, false)) => Outcome::Retry(err),
                            },
                            None => Outcome::Release,
                        }
                    }
                    Err(outcome) => outcome,
                };
                (mail, rendered, outcome)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        record(ctx, done).await?;
        Ok(count)
    }

    /// Says goodbye on connections that idled past use.
    async fn close_stale(&self) {
        for (_, transport) in self.companies.values() {
            transport.close_stale().await;
        }
    }

    /// The transport and message for a mail, or why it cannot be sent now.
    fn prepare(
        &mut self,
        ctx: &Ctx,
        settings: &Result<HashMap<i32, smtp_settings::Model>, String>,
        mail: &notification::Model,
    ) -> Result<(mailer::Transport, lettre::Message, String), Outcome> {
        let settings = match (mail.company_id, settings) {
            (Some(_), Err(err)) => return Err(Outcome::Retry(format!("reading SMTP settings: {err}"))),
            (Some(company_id), Ok(found)) => found.get(&company_id),
            (None, _) => None,
        };
        let sender = match (settings, mail.kind) {
            (Some(settings), _) => self.company(ctx, settings).map(|(t, from, reply_to)| (t.clone(), from, reply_to)),
            // Password mails of companies without a sender go out from the platform.
            (None, NotificationKind::PasswordReset) => match self.platform(ctx) {
                Some(found) => found.map(|(t, from)| (t.clone(), from, None)),
                None => return Err(Outcome::Hold),
            },
            (None, NotificationKind::StatusChange | NotificationKind::Resend) => return Err(Outcome::Hold),
        };
        let (transport, from, reply_to) = match sender {
            Ok(sender) => sender,
            Err(err) => return Err(Outcome::GiveUp(err)),
        };
        let message_id = format!("<rastro.{}@{}>", mail.id, mailer::domain_of(from.email.as_ref()));
        let (text, html) = match (unseal(ctx, &mail.text), unseal(ctx, &mail.html)) {
            (Ok(text), Ok(html)) => (text, html),
            (Err(err), _) | (_, Err(err)) => return Err(Outcome::GiveUp(err)),
        };
        let message = mailer::message(from, reply_to, &mail.recipient, &mail.subject, &text, &html, &message_id)
            .map_err(Outcome::GiveUp)?;
        Ok((transport, message, message_id))
    }

    fn company(
        &mut self,
        ctx: &Ctx,
        settings: &smtp_settings::Model,
    ) -> Result<(&mailer::Transport, Mailbox, Option<Mailbox>), String> {
        let (from, reply_to) = mailer::company_sender(settings)?;
        let fresh = self.companies.get(&settings.company_id).is_some_and(|(at, _)| *at == settings.updated_at);
        if !fresh {
            let transport = mailer::company_transport(settings, &ctx.mail)?;
            self.companies.insert(settings.company_id, (settings.updated_at, transport));
        }
        let (_, transport) = self.companies.get(&settings.company_id).ok_or("transport missing")?;
        Ok((transport, from, reply_to))
    }

    fn platform(&mut self, ctx: &Ctx) -> Option<Result<(&mailer::Transport, Mailbox), String>> {
        use secrecy::ExposeSecret;
        let url = ctx.mail.platform_smtp_url.as_ref()?;
        let from = match ctx.mail.platform_from.parse::<Mailbox>() {
            Ok(from) => from,
            Err(err) => return Some(Err(format!("invalid platform sender: {err}"))),
        };
        if self.platform.is_none() {
            match mailer::url_transport(url.expose_secret(), ctx.mail.smtp_timeout) {
                Ok(transport) => self.platform = Some(transport),
                Err(err) => return Some(Err(err)),
            }
        }
        self.platform.as_ref().map(|t| Ok((t, from)))
    }
}

/// Renders a status mail that was queued with its context, here rather than in
/// the transaction of the status change (see [`super::outbox::RenderContext`]).
/// A template that no longer renders fails the mail with the reason; a database
/// error tries again later.
async fn render_deferred(ctx: &Ctx, mail: &mut notification::Model) -> Result<(), Outcome> {
    let Some(context) = &mail.render_context else { return Ok(()) };
    let context: RenderContext =
        serde_json::from_str(context).map_err(|e| Outcome::GiveUp(format!("unreadable render context: {e}")))?;
    let company_id = mail.company_id.ok_or_else(|| Outcome::GiveUp("a status mail without a company".into()))?;
    match context.render(&ctx.db, company_id).await {
        Ok(parts) => {
            mail.subject = parts.subject;
            mail.html = parts.html;
            mail.text = parts.text;
            mail.render_context = None;
            Ok(())
        }
        Err(DomainError::Validation { field, message }) => Err(Outcome::GiveUp(format!("the {field} template: {message}"))),
        Err(other) => Err(Outcome::Retry(format!("rendering: {other}"))),
    }
}

/// A stored body, decrypted when it was sealed.
fn unseal(ctx: &Ctx, body: &str) -> Result<String, String> {
    match body.strip_prefix(SEALED) {
        Some(sealed) => ctx.mail.secret_key.decrypt(0, sealed).map_err(|e| e.to_string()),
        None => Ok(body.to_owned()),
    }
}

/// Replaces what a sealed body said once it is delivered.
const WIPED: &str = "(removed after delivery: it held a one-time link)";

/// A mail still `SENDING` after its lease belongs to a worker that stopped
/// mid-send: it may have been accepted, so it is not sent again.
async fn fail_stale_claims(ctx: &Ctx) -> DomainResult<()> {
    let now = Utc::now();
    notification::Entity::update_many()
        .col_expr(notification::Column::State, Expr::value(NotificationState::Failed))
        .col_expr(
            notification::Column::LastError,
            Expr::value("delivery outcome unknown: the worker stopped while sending; not sent again automatically (use resend)"),
        )
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::State.eq(NotificationState::Sending))
        .filter(notification::Column::LeaseUntil.lt(now))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// Marks up to [`CLAIM`] due mails `SENDING` under a lease and returns them. On
/// PostgreSQL, `FOR UPDATE SKIP LOCKED` lets workers of several processes claim
/// disjoint rows; SQLite has one writer at a time, so the statement is atomic.
async fn claim(ctx: &Ctx) -> DomainResult<Vec<notification::Model>> {
    let now = Utc::now();
    let lease = now + chrono::Duration::from_std(ctx.mail.lease).unwrap_or(chrono::Duration::minutes(5));
    let backend = ctx.db.get_database_backend();
    let lock = if backend == DatabaseBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE notifications SET state = 'SENDING', lease_until = $1, attempts = attempts + 1, updated_at = $2 \
         WHERE id IN (SELECT id FROM notifications WHERE state = 'PENDING' AND next_attempt_at <= $2 ORDER BY id LIMIT $3{lock}) \
         RETURNING *"
    );
    let statement = Statement::from_sql_and_values(backend, sql, [lease.into(), now.into(), CLAIM.into()]);
    let mut rows = notification::Model::find_by_statement(statement).all(&ctx.db).await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// The SMTP settings of the companies whose mails were claimed, in one query.
async fn settings_of(ctx: &Ctx, claimed: &[notification::Model]) -> Result<HashMap<i32, smtp_settings::Model>, String> {
    let mut companies: Vec<i32> = claimed.iter().filter_map(|m| m.company_id).collect();
    companies.sort_unstable();
    companies.dedup();
    if companies.is_empty() {
        return Ok(HashMap::new());
    }
    let found = smtp_settings::Entity::find()
        .filter(smtp_settings::Column::CompanyId.is_in(companies))
        .all(&ctx.db)
        .await
        .map_err(|e| e.to_string())?;
    Ok(found.into_iter().map(|s| (s.company_id, s)).collect())
}

/// Writes how a round went, in one transaction: each mail's state, and an
/// attempt for each one tried. `rendered` when the worker rendered the mail
/// this round, so the rendered parts are stored with it.
async fn record(ctx: &Ctx, done: Vec<(notification::Model, bool, Outcome)>) -> DomainResult<()> {
    if done.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut attempts = Vec::with_capacity(done.len());
    let mut logs = Vec::with_capacity(done.len());
    for (mail, rendered, outcome) in done {
        let (row, attempt) = written(ctx, &mail, rendered, &outcome, now);
        // Only while still ours: a mail written off as interrupted stays so.
        let updated = notification::Entity::update(row)
            .filter(notification::Column::State.eq(NotificationState::Sending))
            .exec(&txn)
            .await;
        match updated {
            Ok(row) => logs.push((row.id, row.attempts, row.state)),
            Err(sea_orm::DbErr::RecordNotUpdated) => {
                tracing::warn!(notification = mail.id, "mail was written off while being sent; outcome recorded nowhere else");
                continue;
            }
            Err(err) => return Err(err.into()),
        }
        attempts.extend(attempt);
    }
    crate::insert_rows::insert_rows(&txn, attempts).await?;
    txn.commit().await?;
    for (id, attempts, state) in logs {
        tracing::info!(notification = id, attempts, ?state, "mail attempt recorded");
    }
    Ok(())
}

/// The changes to a claimed mail for `outcome`, and the attempt to record.
fn written(
    ctx: &Ctx,
    mail: &notification::Model,
    rendered: bool,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> (notification::ActiveModel, Option<notification_attempt::ActiveModel>) {
    let (state, detail, succeeded) = match outcome {
        Outcome::Sent { answer, .. } => (NotificationState::Sent, Some(answer.clone()), true),
        Outcome::Retry(err) if mail.attempts >= ctx.mail.max_attempts => (NotificationState::Failed, Some(err.clone()), false),
        Outcome::Retry(err) => (NotificationState::Pending, Some(err.clone()), false),
        Outcome::GiveUp(err) => (NotificationState::Failed, Some(err.clone()), false),
        Outcome::Hold => (NotificationState::Held, Some(HELD_REASON.to_owned()), false),
        Outcome::Release => (NotificationState::Pending, None, false),
    };
    let mut row: notification::ActiveModel = mail.clone().into();
    row.state = Set(state);
    row.lease_until = Set(None);
    row.updated_at = Set(now);
    if rendered {
        row.subject = Set(mail.subject.clone());
        row.html = Set(mail.html.clone());
        row.text = Set(mail.text.clone());
        row.render_context = Set(None);
    }
    match outcome {
        Outcome::Sent { message_id, .. } => {
            if mail.text.starts_with(SEALED) {
                row.text = Set(WIPED.to_owned());
                row.html = Set(WIPED.to_owned());
            }
            row.sent_at = Set(Some(now));
            row.message_id = Set(Some(message_id.clone()));
            row.last_error = Set(None);
        }
        Outcome::Hold => {
            // Not an attempt: give it back.
            row.attempts = Set(mail.attempts - 1);
            row.last_error = Set(detail.clone());
        }
        Outcome::Release => row.attempts = Set(mail.attempts - 1),
        Outcome::Retry(_) | Outcome::GiveUp(_) => {
            row.last_error = Set(detail.clone());
            let wait = chrono::Duration::from_std(ctx.mail.backoff(mail.attempts)).unwrap_or(chrono::Duration::minutes(1));
            row.next_attempt_at = Set(now + wait);
        }
    }
    let attempt = match outcome {
        Outcome::Hold | Outcome::Release => None,
        Outcome::Sent { .. } | Outcome::Retry(_) | Outcome::GiveUp(_) => Some(notification_attempt::ActiveModel {
            notification_id: Set(mail.id),
            attempted_at: Set(now),
            succeeded: Set(succeeded),
            detail: Set(detail),
            ..Default::default()
        }),
    };
    (row, attempt)
}

/// Whether any mail is still waiting to be tried (tests and benchmarks wait on it).
pub async fn pending(db: &impl ConnectionTrait) -> DomainResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(notification::Entity::find()
        .filter(notification::Column::State.is_in([NotificationState::Pending, NotificationState::Sending]))
        .count(db)
        .await?)
}
