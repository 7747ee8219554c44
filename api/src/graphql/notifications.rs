//! Mail settings, templates, order mails and password resets in the schema.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::{
    auth,
    notifications::{outbox, reset, settings, templates::MailParts},
    Actor,
};
use entities::{notification, smtp_settings};

use crate::ratelimit::Sensitive;

use super::{
    error::GqlResultExt,
    orders::types::OrderStatus,
    request::{charge, parse_id, parts},
    types::Session,
};

/// Connection security towards an SMTP server.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::SmtpSecurity")]
pub enum SmtpSecurity {
    /// Plain text (local relays only).
    None,
    /// STARTTLS upgrade (usually port 587).
    StartTls,
    /// TLS from the start (usually port 465).
    Tls,
}

/// Language of the built-in templates and status labels.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::Locale")]
pub enum Locale {
    /// Brazilian Portuguese.
    PtBr,
    /// English.
    En,
}

/// Where a mail is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::NotificationState")]
pub enum NotificationState {
    /// Waiting to be sent.
    Pending,
    /// Being sent.
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up (see `lastError`).
    Failed,
    /// Waiting for the company's SMTP settings.
    Held,
    /// Never to be sent: its order or recipient was anonymized (LGPD).
    Cancelled,
}

/// Why a mail is sent.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::NotificationKind")]
pub enum NotificationKind {
    /// An order's status changed.
    StatusChange,
    /// Sent again on request.
    Resend,
    /// Password reset or first access.
    PasswordReset,
}

/// The company's SMTP sender. The password is never shown: only whether one is set.
#[derive(SimpleObject)]
pub struct SmtpSettings {
    /// Host.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Security.
    pub security: SmtpSecurity,
    /// User name.
    pub username: Option<String>,
    /// Whether a password is stored.
    pub password_set: bool,
    /// Sender address.
    pub from_address: String,
    /// Sender name.
    pub from_name: Option<String>,
    /// Reply-to address.
    pub reply_to: Option<String>,
    /// Connections the mail worker holds to the server at most.
    pub max_connections: i32,
    /// Mails a second at most; null: no limit.
    pub max_per_second: Option<i32>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<smtp_settings::Model> for SmtpSettings {
    fn from(s: smtp_settings::Model) -> Self {
        SmtpSettings {
            host: s.host,
            port: s.port,
            security: s.security.into(),
            username: s.username,
            password_set: s.password_encrypted.is_some(),
            from_address: s.from_address,
            from_name: s.from_name,
            reply_to: s.reply_to,
            max_connections: s.max_connections,
            max_per_second: s.max_per_second,
            updated_at: s.updated_at,
        }
    }
}

/// SMTP settings to save.
#[derive(InputObject)]
pub struct SmtpSettingsInput {
    /// Host.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Security.
    pub security: SmtpSecurity,
    /// User name, when the server wants authentication.
    pub username: Option<String>,
    /// Password: omit to keep the stored one, `""` to remove it. Write-only.
    #[graphql(secret)]
    pub password: Option<String>,
    /// Sender address.
    pub from_address: String,
    /// Sender name.
    pub from_name: Option<String>,
    /// Reply-to address.
    pub reply_to: Option<String>,
    /// Connections the mail worker may hold to the server at once, 1 to 32;
    /// omit to keep the stored value (4 at first).
    pub max_connections: Option<i32>,
    /// Mails a second at most, 1 to 10,000, or 0 for no limit; omit to keep
    /// the stored value (no limit at first).
    pub max_per_second: Option<i32>,
}

/// The outcome of a test mail.
#[derive(SimpleObject)]
pub struct TestEmailResult {
    /// Whether the server accepted the mail.
    pub success: bool,
    /// The server's answer, or what went wrong, in words.
    pub message: String,
}

/// Which statuses e-mail the customer, and in which language.
#[derive(SimpleObject)]
pub struct NotificationRules {
    /// Language of built-in templates.
    pub locale: Locale,
    /// Statuses that notify.
    pub statuses: Vec<OrderStatus>,
}

/// A mail template (subject, HTML and text, minijinja syntax).
#[derive(SimpleObject)]
pub struct NotificationTemplate {
    /// The status it is for.
    pub status: OrderStatus,
    /// Subject.
    pub subject: String,
    /// HTML body (auto-escaped).
    pub html: String,
    /// Plain-text body.
    pub text: String,
    /// Whether the company wrote it (otherwise it is the built-in one).
    pub custom: bool,
}

impl From<settings::StatusTemplate> for NotificationTemplate {
    fn from(t: settings::StatusTemplate) -> Self {
        NotificationTemplate { status: t.status.into(), subject: t.parts.subject, html: t.parts.html, text: t.parts.text, custom: t.custom }
    }
}

/// A rendered mail.
#[derive(SimpleObject)]
pub struct RenderedMail {
    /// Recipient, if the order's destination has a responsible person.
    pub to: Option<String>,
    /// Subject.
    pub subject: String,
    /// HTML body.
    pub html: String,
    /// Plain-text body.
    pub text: String,
}

/// A mail in the outbox.
#[derive(SimpleObject)]
pub struct Notification {
    /// Id.
    pub id: ID,
    /// Why it is sent.
    pub kind: NotificationKind,
    /// Recipient.
    pub recipient: String,
    /// Subject. Empty for a status mail not rendered yet: the worker renders
    /// it with the company's template just before its first attempt.
    pub subject: String,
    /// State.
    pub state: NotificationState,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// The last error, or why it is held.
    pub last_error: Option<String>,
    /// When the server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// The mail's Message-ID.
    pub message_id: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When its recipient and bodies were erased (LGPD).
    pub erased_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for Notification {
    fn from(n: notification::Model) -> Self {
        Notification {
            id: ID(n.id.to_string()),
            kind: n.kind.into(),
            recipient: n.recipient,
            subject: n.subject,
            state: n.state.into(),
            attempts: n.attempts,
            last_error: n.last_error,
            sent_at: n.sent_at,
            message_id: n.message_id,
            created_at: n.created_at,
            erased_at: n.erased_at,
        }
    }
}

/// Mail queries.
#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The company's SMTP settings (null until saved).
    async fn smtp_settings(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SmtpSettings>> {
        let (domain, actor) = parts(ctx)?;
        Ok(settings::smtp(domain, actor).await.gql()?.map(Into::into))
    }

    /// Which statuses e-mail the customer, and the language.
    async fn notification_rules(&self, ctx: &Context<'_>) -> async_graphql::Result<NotificationRules> {
        let (domain, actor) = parts(ctx)?;
        let prefs = settings::prefs(domain, actor).await.gql()?;
        Ok(NotificationRules { locale: prefs.locale.into(), statuses: prefs.statuses.into_iter().map(Into::into).collect() })
    }

    /// The template of every status.
    async fn notification_templates(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<NotificationTemplate>> {
        let (domain, actor) = parts(ctx)?;
        Ok(settings::templates(domain, actor).await.gql()?.into_iter().map(Into::into).collect())
    }

    /// The mail a change of the order to `status` would send, rendered now.
    async fn preview_notification(&self, ctx: &Context<'_>, order_id: ID, status: OrderStatus) -> async_graphql::Result<RenderedMail> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &order_id)?;
        let draft = outbox::preview(domain, actor, id, status.into()).await.gql()?;
        Ok(RenderedMail { to: draft.recipient, subject: draft.mail.subject, html: draft.mail.html, text: draft.mail.text })
    }

    /// The mails of an order, newest first.
    async fn order_notifications(&self, ctx: &Context<'_>, order_id: ID) -> async_graphql::Result<Vec<Notification>> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &order_id)?;
        Ok(outbox::for_order(domain, actor, id).await.gql()?.into_iter().map(Into::into).collect())
    }
}

/// Mail mutations.
#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Saves the company's SMTP settings. Mails held for lack of them go out.
    async fn save_smtp_settings(&self, ctx: &Context<'_>, input: SmtpSettingsInput) -> async_graphql::Result<SmtpSettings> {
        let (domain, actor) = parts(ctx)?;
        let input = settings::SmtpInput {
            host: input.host,
            port: input.port,
            security: input.security.into(),
            username: input.username,
            password: input.password,
            from_address: input.from_address,
            from_name: input.from_name,
            reply_to: input.reply_to,
            max_connections: input.max_connections,
            max_per_second: input.max_per_second,
        };
        settings::save_smtp(domain, actor, input).await.gql().map(Into::into)
    }

    /// Connects to the company's SMTP server and sends a test mail now.
    async fn send_test_email(&self, ctx: &Context<'_>, to: String) -> async_graphql::Result<TestEmailResult> {
        let (domain, actor) = parts(ctx)?;
        charge(ctx, Sensitive::SendTestEmail, actor.company_id().map(|id| format!("company:{id}")).as_deref())?;
        Ok(match settings::send_test_email(domain, actor, &to).await.gql()? {
            Ok(answer) => TestEmailResult { success: true, message: answer },
            Err(reason) => TestEmailResult { success: false, message: reason },
        })
    }

    /// Chooses which statuses e-mail the customer, and the language.
    async fn save_notification_rules(
        &self,
        ctx: &Context<'_>,
        locale: Locale,
        statuses: Vec<OrderStatus>,
    ) -> async_graphql::Result<NotificationRules> {
        let (domain, actor) = parts(ctx)?;
        let prefs = settings::Prefs { locale: locale.into(), statuses: statuses.into_iter().map(Into::into).collect() };
        let saved = settings::save_prefs(domain, actor, prefs).await.gql()?;
        Ok(NotificationRules { locale: saved.locale.into(), statuses: saved.statuses.into_iter().map(Into::into).collect() })
    }

    /// Saves the company's own template for a status; syntax errors and unknown
    /// variables are refused.
    async fn save_notification_template(
        &self,
        ctx: &Context<'_>,
        status: OrderStatus,
        subject: String,
        html: String,
        text: String,
    ) -> async_graphql::Result<NotificationTemplate> {
        let (domain, actor) = parts(ctx)?;
        settings::save_template(domain, actor, status.into(), MailParts { subject, html, text }).await.gql().map(Into::into)
    }

    /// Goes back to the built-in template for a status.
    async fn reset_notification_template(&self, ctx: &Context<'_>, status: OrderStatus) -> async_graphql::Result<NotificationTemplate> {
        let (domain, actor) = parts(ctx)?;
        settings::reset_template(domain, actor, status.into()).await.gql().map(Into::into)
    }

    /// Sends a mail again (a new outbox entry with the same content).
    async fn resend_notification(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Notification> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("notification", &id)?;
        outbox::resend(domain, actor, id).await.gql().map(Into::into)
    }

    /// Mails a password reset link — or, for a locality's responsible person
    /// without an account, a first-access link. Always answers `true`, whether or
    /// not the account exists.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String, company: Option<String>) -> async_graphql::Result<bool> {
        let (domain, _) = parts(ctx)?;
        // Per e-mail too, so nobody can flood one mailbox with reset mails.
        charge(ctx, Sensitive::RequestPasswordReset, Some(&format!("{}|{}", company.as_deref().unwrap_or(""), email.trim())))?;
        reset::request(domain, &Actor::anonymous(), &email, company.as_deref()).await.gql()?;
        Ok(true)
    }

    /// Sets a new password with a mailed token (valid 1 hour, once) and logs in.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        #[graphql(secret)] new_password: String,
    ) -> async_graphql::Result<Session> {
        let (domain, _) = parts(ctx)?;
        charge(ctx, Sensitive::ResetPassword, None)?;
        let session: auth::Session = reset::reset(domain, &Actor::anonymous(), &token, &new_password).await.gql()?;
        Ok(session.into())
    }
}
