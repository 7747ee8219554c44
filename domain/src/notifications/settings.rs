//! A company's mail settings: its SMTP sender (with the write-only password),
//! which statuses notify, the language, and its own templates.

use chrono::Utc;
use entities::{
    notification, notification_settings, notification_template, smtp_settings, Locale, NotificationState, OrderStatus,
    SmtpSecurity,
};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
};

use super::{mailer, smtp_host, templates};
use crate::{audit, validate, Action, Actor, Ctx, DomainError, DomainResult};

/// SMTP settings as a client sends them.
#[derive(Clone)]
pub struct SmtpInput {
    /// Server host name.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Connection security.
    pub security: SmtpSecurity,
    /// User name, if the server wants authentication.
    pub username: Option<String>,
    /// `None` keeps the stored password; `Some("")` removes it.
    pub password: Option<String>,
    /// Sender address.
    pub from_address: String,
    /// Sender name.
    pub from_name: Option<String>,
    /// Reply-to address.
    pub reply_to: Option<String>,
    /// Connections the worker may hold to the server (1 to
    /// [`MAX_CONNECTIONS`]); `None` keeps the stored value (new: 4).
    pub max_connections: Option<i32>,
    /// Mails a second at most (1 to [`MAX_PER_SECOND`], `0`: no limit);
    /// `None` keeps the stored value (new: no limit).
    pub max_per_second: Option<i32>,
}

/// The most connections a company's server may be sent through at once.
pub const MAX_CONNECTIONS: i32 = 32;
/// The highest rate a company can set, in mails a second.
pub const MAX_PER_SECOND: i32 = 10_000;
/// Connections to a company's server when it has not said.
pub const DEFAULT_CONNECTIONS: i32 = 4;

impl std::fmt::Debug for SmtpInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpInput").field("host", &self.host).field("port", &self.port).finish_non_exhaustive()
    }
}

/// A company's notification rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefs {
    /// Language of built-in templates and labels.
    pub locale: Locale,
    /// Statuses that e-mail the customer.
    pub statuses: Vec<OrderStatus>,
}

/// One status's template, the company's own or the built-in one.
#[derive(Debug, Clone)]
pub struct StatusTemplate {
    /// The status.
    pub status: OrderStatus,
    /// The template.
    pub parts: templates::MailParts,
    /// Whether the company wrote it.
    pub custom: bool,
}

fn company_of(actor: &Actor) -> DomainResult<i32> {
    actor.company_id().ok_or(DomainError::Forbidden)
}

/// The company's SMTP settings, if saved. Callers never get the password.
pub async fn smtp(ctx: &Ctx, actor: &Actor) -> DomainResult<Option<smtp_settings::Model>> {
    ctx.authz.check(actor, Action::ManageMail)?;
    Ok(smtp_settings::Entity::find_by_id(company_of(actor)?).one(&ctx.db).await?)
}

/// Saves the SMTP settings; mails held for lack of them are released.
pub async fn save_smtp(ctx: &Ctx, actor: &Actor, input: SmtpInput) -> DomainResult<smtp_settings::Model> {
    ctx.authz.check(actor, Action::ManageMail)?;
    let company_id = company_of(actor)?;
    let host = validate::text("host", &input.host, 253)?;
    if host.contains(char::is_whitespace) || host.contains('/') {
        return Err(DomainError::validation("host", "must be a host name or IP address"));
    }
    let port = match u16::try_from(input.port) {
        Ok(port) if port >= 1 => port,
        _ => return Err(DomainError::validation("port", "must be between 1 and 65535")),
    };
    if !ctx.mail.allow_private_smtp {
        // A name that does not resolve now is let through: it is checked again
        // right before every connection, which is what protects.
        match smtp_host::resolve_allowed(&host, port).await {
            Ok(_) | Err(smtp_host::HostError::Unresolvable { .. }) => {}
            Err(err @ smtp_host::HostError::Internal { .. }) => return Err(DomainError::validation("host", err.to_string())),
        }
    }
    let from_address = validate::email("fromAddress", &input.from_address)?;
    let reply_to = input.reply_to.as_deref().filter(|r| !r.trim().is_empty()).map(|r| validate::email("replyTo", r)).transpose()?;
    let from_name = validate::optional_text("fromName", input.from_name.as_deref(), 200)?;
    let username = validate::optional_text("username", input.username.as_deref(), 254)?;
    if input.password.as_ref().is_some_and(|p| p.len() > 500) {
        return Err(DomainError::validation("password", "must be at most 500 characters"));
    }
    if input.max_connections.is_some_and(|n| !(1..=MAX_CONNECTIONS).contains(&n)) {
        return Err(DomainError::validation("maxConnections", format!("must be between 1 and {MAX_CONNECTIONS}")));
    }
    if input.max_per_second.is_some_and(|n| !(0..=MAX_PER_SECOND).contains(&n)) {
        return Err(DomainError::validation("maxPerSecond", format!("must be between 1 and {MAX_PER_SECOND}, or 0 for no limit")));
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let existing = smtp_settings::Entity::find_by_id(company_id).one(&txn).await?;
    let max_connections = input.max_connections.or(existing.as_ref().map(|e| e.max_connections)).unwrap_or(DEFAULT_CONNECTIONS);
    let max_per_second = match input.max_per_second {
        Some(0) => None,
        Some(rate) => Some(rate),
        None => existing.as_ref().and_then(|e| e.max_per_second),
    };
    // The write-only password goes only to the server it was typed for: a new
    // host or port without a new password drops it, so whoever can change the
    // settings cannot send it to a server of their choosing.
    let same_server = |e: &smtp_settings::Model| e.host.eq_ignore_ascii_case(&host) && e.port == input.port;
    let password_encrypted = match input.password {
        None => existing.filter(same_server).and_then(|e| e.password_encrypted),
        Some(p) if p.is_empty() => None,
        Some(p) => Some(ctx.mail.secret_key.encrypt(company_id, &p)?),
    };
    let row = smtp_settings::ActiveModel {
        company_id: Set(company_id),
        host: Set(host),
        port: Set(input.port),
        security: Set(input.security),
        username: Set(username),
        password_encrypted: Set(password_encrypted),
        from_address: Set(from_address),
        from_name: Set(from_name),
        reply_to: Set(reply_to),
        max_connections: Set(max_connections),
        max_per_second: Set(max_per_second),
        updated_at: Set(Utc::now()),
    };
    smtp_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(smtp_settings::Column::CompanyId)
                .update_columns([
                    smtp_settings::Column::Host,
                    smtp_settings::Column::Port,
                    smtp_settings::Column::Security,
                    smtp_settings::Column::Username,
                    smtp_settings::Column::PasswordEncrypted,
                    smtp_settings::Column::FromAddress,
                    smtp_settings::Column::FromName,
                    smtp_settings::Column::ReplyTo,
                    smtp_settings::Column::MaxConnections,
                    smtp_settings::Column::MaxPerSecond,
                    smtp_settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let released = notification::Entity::update_many()
        .col_expr(notification::Column::State, Expr::value(NotificationState::Pending))
        .col_expr(notification::Column::NextAttemptAt, Expr::value(Utc::now()))
        .col_expr(notification::Column::LastError, Expr::value(Option::<String>::None))
        .filter(notification::Column::CompanyId.eq(company_id))
        .filter(notification::Column::State.eq(NotificationState::Held))
        .exec(&txn)
        .await?;
    audit::record(&txn, actor, Some(company_id), "smtp.save", "smtp_settings", company_id, Some(serde_json::json!({ "released": released.rows_affected }))).await?;
    let saved = smtp_settings::Entity::find_by_id(company_id).one(&txn).await?.ok_or_else(|| anyhow::anyhow!("settings vanished"))?;
    txn.commit().await?;
    ctx.mail_wakeup.notify_one();
    Ok(saved)
}

/// Connects to the company's SMTP server and sends a test mail to `to` right
/// away. `Ok(Ok(answer))` with the server's answer, `Ok(Err(reason))` with the
/// connection or server error in words.
pub async fn send_test_email(ctx: &Ctx, actor: &Actor, to: &str) -> DomainResult<Result<String, String>> {
    ctx.authz.check(actor, Action::ManageMail)?;
    let company_id = company_of(actor)?;
    let to = validate::email("to", to)?;
    let settings = smtp_settings::Entity::find_by_id(company_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| DomainError::validation("to", "save the SMTP settings first"))?;
    let prefs = prefs_of(&ctx.db, company_id).await?;
    let (subject, body) = match prefs.locale {
        Locale::PtBr => ("Teste de e-mail do Rastro", "Este é um e-mail de teste: as configurações de envio funcionam."),
        Locale::En => ("Rastro test e-mail", "This is a test e-mail: the sender settings work."),
    };
    let attempt = async {
        let transport = mailer::company_transport(&settings, &ctx.mail)?;
        let (from, reply_to) = mailer::company_sender(&settings)?;
        let message_id = format!("<rastro.test.{}@{}>", crate::tokens::random_token(9), mailer::domain_of(&settings.from_address));
        let message = mailer::message(from, reply_to, &to, subject, body, &format!("<p>{body}</p>"), &message_id)?;
        mailer::send(&transport, message).await.map_err(|(text, _)| text)
    };
    // The SMTP timeout bounds each step; this bounds the whole conversation,
    // which a slow server could otherwise stretch step by step.
    let limit = ctx.mail.test_email_timeout;
    Ok(tokio::time::timeout(limit, attempt)
        .await
        .unwrap_or_else(|_| Err(format!("the SMTP server did not finish within {} s", limit.as_secs_f32()))))
}

pub(crate) async fn prefs_of(db: &impl ConnectionTrait, company_id: i32) -> DomainResult<Prefs> {
    Ok(match notification_settings::Entity::find_by_id(company_id).one(db).await? {
        Some(row) => Prefs {
            locale: row.locale,
            statuses: row.statuses.split(',').filter_map(|s| OrderStatus::from_name(s.trim())).collect(),
        },
        None => Prefs { locale: Locale::PtBr, statuses: templates::DEFAULT_STATUSES.to_vec() },
    })
}

/// The company's notification rules.
pub async fn prefs(ctx: &Ctx, actor: &Actor) -> DomainResult<Prefs> {
    ctx.authz.check(actor, Action::ManageMail)?;
    prefs_of(&ctx.db, company_of(actor)?).await
}

/// Saves which statuses notify and the language.
pub async fn save_prefs(ctx: &Ctx, actor: &Actor, prefs: Prefs) -> DomainResult<Prefs> {
    ctx.authz.check(actor, Action::ManageMail)?;
    let company_id = company_of(actor)?;
    let mut statuses = prefs.statuses;
    statuses.dedup();
    let names: Vec<&str> = crate::status::ALL.iter().filter(|s| statuses.contains(s)).map(|s| s.as_str()).collect();
    let row = notification_settings::ActiveModel {
        company_id: Set(company_id),
        locale: Set(prefs.locale),
        statuses: Set(names.join(",")),
        updated_at: Set(Utc::now()),
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    notification_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(notification_settings::Column::CompanyId)
                .update_columns([
                    notification_settings::Column::Locale,
                    notification_settings::Column::Statuses,
                    notification_settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let detail = serde_json::json!({ "locale": prefs.locale, "statuses": names });
    audit::record(&txn, actor, Some(company_id), "mail.rules_save", "company", company_id, Some(detail)).await?;
    txn.commit().await?;
    prefs_of(&ctx.db, company_id).await
}

pub(crate) async fn template_of(db: &impl ConnectionTrait, company_id: i32, locale: Locale, status: OrderStatus) -> DomainResult<templates::MailParts> {
    let custom = notification_template::Entity::find()
        .filter(notification_template::Column::CompanyId.eq(company_id))
        .filter(notification_template::Column::Status.eq(status))
        .one(db)
        .await?;
    Ok(match custom {
        Some(t) => templates::MailParts { subject: t.subject, html: t.html, text: t.text },
        None => templates::builtin(locale),
    })
}

/// Every status's template, the company's own where it has one.
pub async fn templates(ctx: &Ctx, actor: &Actor) -> DomainResult<Vec<StatusTemplate>> {
    ctx.authz.check(actor, Action::ManageMail)?;
    let company_id = company_of(actor)?;
    let locale = prefs_of(&ctx.db, company_id).await?.locale;
    let custom = notification_template::Entity::find()
        .filter(notification_template::Column::CompanyId.eq(company_id))
        .all(&ctx.db)
        .await?;
    Ok(crate::status::ALL
        .iter()
        .map(|status| match custom.iter().find(|t| t.status == *status) {
            Some(t) => StatusTemplate {
                status: *status,
                parts: templates::MailParts { subject: t.subject.clone(), html: t.html.clone(), text: t.text.clone() },
                custom: true,
            },
            None => StatusTemplate { status: *status, parts: templates::builtin(locale), custom: false },
        })
        .collect())
}

/// Saves the company's template for `status`, after checking it renders.
pub async fn save_template(ctx: &Ctx, actor: &Actor, status: OrderStatus, parts: templates::MailParts) -> DomainResult<StatusTemplate> {
    ctx.authz.check(actor, Action::ManageMail)?;
    let company_id = company_of(actor)?;
    templates::check(&parts).await?;
    let row = notification_template::ActiveModel {
        company_id: Set(company_id),
        status: Set(status),
        subject: Set(parts.subject.clone()),
        html: Set(parts.html.clone()),
        text: Set(parts.text.clone()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    notification_template::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([notification_template::Column::CompanyId, notification_template::Column::Status])
                .update_columns([
                    notification_template::Column::Subject,
                    notification_template::Column::Html,
                    notification_template::Column::Text,
                    notification_template::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let detail = serde_json::json!({ "status": status.as_str() });
    audit::record(&txn, actor, Some(company_id), "mail.template_save", "company", company_id, Some(detail)).await?;
    txn.commit().await?;
    Ok(StatusTemplate { status, parts, custom: true })
}

/// Goes back to the built-in template for `status`.
pub async fn reset_template(ctx: &Ctx, actor: &Actor, status: OrderStatus) -> DomainResult<StatusTemplate> {
    ctx.authz.check(actor, Action::ManageMail)?;
    let company_id = company_of(actor)?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    notification_template::Entity::delete_many()
        .filter(notification_template::Column::CompanyId.eq(company_id))
        .filter(notification_template::Column::Status.eq(status))
        .exec(&txn)
        .await?;
    let detail = serde_json::json!({ "status": status.as_str() });
    audit::record(&txn, actor, Some(company_id), "mail.template_reset", "company", company_id, Some(detail)).await?;
    txn.commit().await?;
    let locale = prefs_of(&ctx.db, company_id).await?.locale;
    Ok(StatusTemplate { status, parts: templates::builtin(locale), custom: false })
}
