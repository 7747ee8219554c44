//! The company's mail settings (`/admin/mail`): the SMTP server with the
//! **Test** button (the password is write-only: the page says whether one is
//! stored, never what it is), the notification rules (language, and which
//! statuses mail the customer), and each status's template with a preview.
//! Every form is the domain call GraphQL's mutations make.

use axum::{
    extract::{Path, State},
    http::{StatusCode, Uri},
    response::Response,
    Form,
};
use domain::{
    notifications::{settings, templates},
    DomainError,
};
use entities::{Locale, OrderStatus, SmtpSecurity};
use minijinja::{context, Value};
use sea_orm::Iterable;
use serde::Deserialize;

use super::{
    account::Area,
    customer::status_key,
    i18n,
    session::{self, Visitor},
    support::login_first,
    view::{self, render},
};
use crate::state::AppState;

/// What the page says after an action.
struct Note {
    ok: bool,
    text: String,
}

/// `GET /admin/mail`.
pub async fn page(State(state): State<AppState>, visitor: Visitor, uri: Uri) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    mail_page(&state, &visitor, StatusCode::OK, None).await
}

async fn mail_page(state: &AppState, visitor: &Visitor, status: StatusCode, note: Option<Note>) -> Response {
    mail_page_with(state, visitor, status, note, None).await
}

/// The page; `entered` (a refused SMTP form, without its password) stands in
/// for the stored settings, so nothing typed is lost.
async fn mail_page_with(state: &AppState, visitor: &Visitor, status: StatusCode, note: Option<Note>, entered: Option<Value>) -> Response {
    let locale = visitor.locale;
    let found = tokio::try_join!(
        settings::smtp(&state.ctx, &visitor.actor),
        settings::prefs(&state.ctx, &visitor.actor),
        settings::templates(&state.ctx, &visitor.actor)
    );
    let (smtp, prefs, templates) = match found {
        Ok(found) => found,
        Err(err) => return view::error_page(locale, &err),
    };
    let stored_password = smtp.as_ref().is_some_and(|s| s.password_encrypted.is_some());
    let smtp = match entered {
        Some(entered) => Some(context! { password_set => stored_password, ..entered }),
        None => smtp.map(|s| {
            context! {
                host => s.host, port => s.port, security => security_key(s.security), username => s.username,
                password_set => s.password_encrypted.is_some(), from_address => s.from_address, from_name => s.from_name, reply_to => s.reply_to,
                max_connections => s.max_connections, max_per_second => s.max_per_second,
            }
        }),
    };
    let statuses: Vec<Value> = OrderStatus::iter()
        .map(|s| context! { key => status_key(s), label => i18n::status(locale, s), chosen => prefs.statuses.contains(&s) })
        .collect();
    let templates: Vec<Value> = templates
        .iter()
        .map(|t| context! { key => status_key(t.status), label => i18n::status(locale, t.status), custom => t.custom })
        .collect();
    let values = context! {
        smtp => smtp, statuses => statuses, templates => templates, mail_locale => i18n::text(prefs.locale, "lang_code"),
        note => note.map(|n| context! { ok => n.ok, text => n.text }), here => "/admin/mail",
    };
    render(state, visitor, status, "mail.html", values)
}

fn security_key(security: SmtpSecurity) -> &'static str {
    match security {
        SmtpSecurity::None => "NONE",
        SmtpSecurity::StartTls => "STARTTLS",
        SmtpSecurity::Tls => "TLS",
    }
}

/// The SMTP form.
#[derive(Deserialize)]
pub struct SmtpForm {
    csrf: String,
    host: String,
    port: String,
    security: String,
    username: Option<String>,
    password: Option<String>,
    remove_password: Option<String>,
    from_address: String,
    from_name: Option<String>,
    reply_to: Option<String>,
    max_connections: Option<String>,
    max_per_second: Option<String>,
}

/// A whole-number field of a form: `blank` when left empty, `None` when the
/// form did not have it (the stored value stays).
fn number(field: &str, typed: Option<&str>, blank: i32) -> Result<Option<i32>, DomainError> {
    match typed.map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(blank)),
        Some(text) => text.parse().map(Some).map_err(|_| DomainError::validation(field, "must be a whole number")),
    }
}

/// Runs `action` for a company form after the login and CSRF checks; shows
/// the page again with what happened.
async fn checked(state: &AppState, visitor: &Visitor, csrf: &str) -> Option<Response> {
    if let Some(login) = login_first(visitor, None, Area::Company) {
        return Some(login);
    }
    if !visitor.csrf_matches(state, csrf) {
        let note = Note { ok: false, text: i18n::text(visitor.locale, "bad_form").to_owned() };
        return Some(mail_page(state, visitor, StatusCode::FORBIDDEN, Some(note)).await);
    }
    None
}

/// The page after a domain call: a note of success, or the refusal's reason
/// (with what was typed, when given).
async fn after<T>(state: &AppState, visitor: &Visitor, done: Result<T, DomainError>, saved: &str, entered: Option<Value>) -> Response {
    let refused = |status, err: &DomainError| (status, Note { ok: false, text: view::form_error(visitor.locale, err) });
    let (status, note) = match done {
        Ok(_) => return mail_page(state, visitor, StatusCode::OK, Some(Note { ok: true, text: i18n::text(visitor.locale, saved).to_owned() })).await,
        Err(err @ (DomainError::Validation { .. } | DomainError::Conflict(_))) => refused(StatusCode::BAD_REQUEST, &err),
        Err(err @ DomainError::RateLimited { .. }) => refused(StatusCode::TOO_MANY_REQUESTS, &err),
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    mail_page_with(state, visitor, status, Some(note), entered).await
}

/// `POST /admin/mail/smtp`: a blank password keeps the stored one.
pub async fn save_smtp(State(state): State<AppState>, visitor: Visitor, Form(form): Form<SmtpForm>) -> Response {
    if let Some(refused) = checked(&state, &visitor, &form.csrf).await {
        return refused;
    }
    let entered = context! {
        host => form.host, port => form.port, security => form.security, username => form.username,
        from_address => form.from_address, from_name => form.from_name, reply_to => form.reply_to,
        max_connections => form.max_connections, max_per_second => form.max_per_second,
    };
    let security = match form.security.as_str() {
        "NONE" => SmtpSecurity::None,
        "STARTTLS" => SmtpSecurity::StartTls,
        _ => SmtpSecurity::Tls,
    };
    let Ok(port) = form.port.trim().parse::<i32>() else {
        return after::<()>(&state, &visitor, Err(DomainError::validation("port", "must be a number from 1 to 65535")), "saved", Some(entered)).await;
    };
    let limits = (
        number("maxConnections", form.max_connections.as_deref(), settings::DEFAULT_CONNECTIONS),
        number("maxPerSecond", form.max_per_second.as_deref(), 0),
    );
    let (max_connections, max_per_second) = match limits {
        (Ok(connections), Ok(rate)) => (connections, rate),
        (Err(err), _) | (_, Err(err)) => return after::<()>(&state, &visitor, Err(err), "saved", Some(entered)).await,
    };
    let typed = domain::validate::given(form.password.as_deref());
    if form.remove_password.is_some() && typed.is_some() {
        let err = DomainError::validation("password", "type a new password or remove the stored one, not both");
        return after::<()>(&state, &visitor, Err(err), "saved", Some(entered)).await;
    }
    let password = if form.remove_password.is_some() { Some(String::new()) } else { typed.clone() };
    let had_password = matches!(settings::smtp(&state.ctx, &visitor.actor).await, Ok(Some(ref s)) if s.password_encrypted.is_some());
    let input = settings::SmtpInput {
        host: form.host,
        port,
        security,
        username: domain::validate::given(form.username.as_deref()),
        password,
        from_address: form.from_address,
        from_name: domain::validate::given(form.from_name.as_deref()),
        reply_to: domain::validate::given(form.reply_to.as_deref()),
        max_connections,
        max_per_second,
    };
    match settings::save_smtp(&state.ctx, &visitor.actor, input).await {
        // A stored password is kept only for the same server: say so when a
        // change of host or port dropped it.
        Ok(saved) if had_password && saved.password_encrypted.is_none() && form.remove_password.is_none() => {
            let note = Note { ok: false, text: i18n::text(visitor.locale, "password_dropped").to_owned() };
            mail_page(&state, &visitor, StatusCode::OK, Some(note)).await
        }
        done => after(&state, &visitor, done, "saved", Some(entered)).await,
    }
}

/// The test form.
#[derive(Deserialize)]
pub struct TestForm {
    csrf: String,
    to: String,
}

/// `POST /admin/mail/test`: sends a test mail with the saved settings and
/// shows the server's answer in words.
pub async fn test(State(state): State<AppState>, visitor: Visitor, Form(form): Form<TestForm>) -> Response {
    if let Some(refused) = checked(&state, &visitor, &form.csrf).await {
        return refused;
    }
    let account = visitor.actor.company_id().map(|id| format!("company:{id}"));
    if let Err(exhausted) = state.limits.check(crate::ratelimit::Sensitive::SendTestEmail, visitor.client, account.as_deref()) {
        return after::<()>(&state, &visitor, Err(exhausted.into()), "saved", None).await;
    }
    match settings::send_test_email(&state.ctx, &visitor.actor, &form.to).await {
        Ok(Ok(answer)) => {
            let text = format!("{} {answer}", i18n::text(visitor.locale, "test_sent"));
            mail_page(&state, &visitor, StatusCode::OK, Some(Note { ok: true, text })).await
        }
        Ok(Err(problem)) => {
            let text = format!("{} {problem}", i18n::text(visitor.locale, "test_failed"));
            mail_page(&state, &visitor, StatusCode::OK, Some(Note { ok: false, text })).await
        }
        Err(err) => after::<()>(&state, &visitor, Err(err), "saved", None).await,
    }
}

/// The rules form: the language and one checkbox per status.
struct RulesForm {
    csrf: String,
    locale: String,
    status: Vec<String>,
}

/// `POST /admin/mail/rules`.
pub async fn save_rules(State(state): State<AppState>, visitor: Visitor, body: axum::body::Bytes) -> Response {
    // Repeated `status` fields: axum's `Form` keeps only one, so read them all.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let form = RulesForm {
        csrf: field("csrf"),
        locale: field("locale"),
        status: pairs.iter().filter(|(k, _)| k == "status").map(|(_, v)| v.clone()).take(32).collect(),
    };
    if let Some(refused) = checked(&state, &visitor, &form.csrf).await {
        return refused;
    }
    let locale = if form.locale == "en" { Locale::En } else { Locale::PtBr };
    let statuses = OrderStatus::iter().filter(|s| form.status.contains(&status_key(*s))).collect();
    let done = settings::save_prefs(&state.ctx, &visitor.actor, settings::Prefs { locale, statuses }).await;
    after(&state, &visitor, done, "saved", None).await
}

fn status_of(key: &str) -> Result<OrderStatus, DomainError> {
    OrderStatus::from_name(key).ok_or_else(|| DomainError::not_found("template", key))
}

/// `GET /admin/mail/templates/{status}`: the template, to edit and preview.
pub async fn template(State(state): State<AppState>, visitor: Visitor, uri: Uri, Path(key): Path<String>) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    let found = match status_of(&key) {
        Ok(status) => settings::templates(&state.ctx, &visitor.actor).await.map(|all| all.into_iter().find(|t| t.status == status)),
        Err(err) => Err(err),
    };
    match found {
        Ok(Some(t)) => template_page(&state, &visitor, StatusCode::OK, &key, &t.parts, t.custom, None, None),
        Ok(None) => view::error_page(visitor.locale, &DomainError::not_found("template", key)),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

#[allow(clippy::too_many_arguments)]
fn template_page(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    key: &str,
    parts: &templates::MailParts,
    custom: bool,
    preview: Option<&templates::MailParts>,
    error: Option<String>,
) -> Response {
    let label = status_of(key).map(|s| i18n::status(visitor.locale, s)).unwrap_or_default();
    let values = context! {
        key => key, label => label, subject => parts.subject, html => parts.html, text => parts.text, custom => custom,
        preview => preview.map(|p| context! { subject => p.subject, html => p.html, text => p.text }),
        error => error, here => format!("/admin/mail/templates/{key}"),
    };
    render(state, visitor, status, "mail_template.html", values)
}

/// The template form; `action` says whether to save, preview or go back to
/// the built-in template.
#[derive(Deserialize)]
pub struct TemplateForm {
    csrf: String,
    action: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    html: String,
    #[serde(default)]
    text: String,
}

/// `POST /admin/mail/templates/{status}`.
pub async fn save_template(State(state): State<AppState>, visitor: Visitor, Path(key): Path<String>, Form(form): Form<TemplateForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Company) {
        return login;
    }
    let status = match status_of(&key) {
        Ok(status) => status,
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    let parts = templates::MailParts { subject: form.subject, html: form.html, text: form.text };
    // Preview needs the same right as saving: only staff see a company's templates.
    let custom = match settings::templates(&state.ctx, &visitor.actor).await {
        Ok(all) => all.iter().any(|t| t.status == status && t.custom),
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    if !visitor.csrf_matches(&state, &form.csrf) {
        return template_page(&state, &visitor, StatusCode::FORBIDDEN, &key, &parts, custom, None, Some(i18n::text(visitor.locale, "bad_form").into()));
    }
    let done = match form.action.as_str() {
        "preview" => match templates::preview(&parts).await {
            Ok(preview) => return template_page(&state, &visitor, StatusCode::OK, &key, &parts, custom, Some(&preview), None),
            Err(err) => Err(err),
        },
        "reset" => settings::reset_template(&state.ctx, &visitor.actor, status).await.map(|_| ()),
        _ => settings::save_template(&state.ctx, &visitor.actor, status, parts.clone()).await.map(|_| ()),
    };
    match done {
        Ok(()) => session::redirect(&format!("/admin/mail/templates/{key}"), &[]),
        Err(err @ DomainError::Validation { .. }) => {
            template_page(&state, &visitor, StatusCode::BAD_REQUEST, &key, &parts, custom, None, Some(view::form_error(visitor.locale, &err)))
        }
        Err(err) => view::error_page(visitor.locale, &err),
    }
}
