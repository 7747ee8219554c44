//! Rendering pages: the templates compiled into the binary (minijinja, HTML
//! auto-escaped), the values every page gets, and the error pages.

use std::sync::OnceLock;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use domain::DomainError;
use entities::Locale;
use minijinja::{context, Environment, Value};

use super::{i18n, session::Visitor};
use crate::state::AppState;

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../portal/templates/base.html")),
    ("login.html", include_str!("../../portal/templates/login.html")),
    ("forgot.html", include_str!("../../portal/templates/forgot.html")),
    ("reset.html", include_str!("../../portal/templates/reset.html")),
    ("orders.html", include_str!("../../portal/templates/orders.html")),
    ("order.html", include_str!("../../portal/templates/order.html")),
    ("order_live.html", include_str!("../../portal/templates/order_live.html")),
    ("parcels.html", include_str!("../../portal/templates/parcels.html")),
    ("track.html", include_str!("../../portal/templates/track.html")),
    ("message.html", include_str!("../../portal/templates/message.html")),
    ("order_actions.html", include_str!("../../portal/templates/order_actions.html")),
    ("dashboard.html", include_str!("../../portal/templates/dashboard.html")),
    ("dashboard_live.html", include_str!("../../portal/templates/dashboard_live.html")),
    ("mail.html", include_str!("../../portal/templates/mail.html")),
    ("mail_template.html", include_str!("../../portal/templates/mail_template.html")),
    ("localities.html", include_str!("../../portal/templates/localities.html")),
    ("locality.html", include_str!("../../portal/templates/locality.html")),
    ("integrations.html", include_str!("../../portal/templates/integrations.html")),
    ("integration_run.html", include_str!("../../portal/templates/integration_run.html")),
    ("audit.html", include_str!("../../portal/templates/audit.html")),
    ("privacy.html", include_str!("../../portal/templates/privacy.html")),
    ("secret.html", include_str!("../../portal/templates/secret.html")),
    ("support.html", include_str!("../../portal/templates/support.html")),
    ("support_company.html", include_str!("../../portal/templates/support_company.html")),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            if let Err(err) = env.add_template(name, source) {
                // Templates are compiled in and tested; a broken one is a build bug.
                tracing::error!(%name, error = %err, "portal template does not compile");
            }
        }
        env
    })
}

/// Renders `template` with `values` and what every page has (texts, language,
/// the visitor's CSRF token and login state).
pub fn render(state: &AppState, visitor: &Visitor, status: StatusCode, template: &str, values: Value) -> Response {
    // Where the language switch comes back to: the page asked for, or (after
    // a form's POST) the page the handler names.
    let named = values.get_attr("here").ok().filter(|v| !v.is_undefined() && !v.is_none()).map(|v| v.to_string());
    let here = visitor.here.clone().or(named).unwrap_or_else(|| "/".to_owned());
    let page = context! {
        t => i18n::texts(visitor.locale),
        lang => i18n::text(visitor.locale, "lang_code"),
        csrf => visitor.csrf(state),
        logged_in => visitor.logged_in(),
        area => super::account::Area::of(&visitor.actor).name(),
        here => here,
        ..values
    };
    let response = match environment().get_template(template).and_then(|t| t.render(page)) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(%template, error = %err, "rendering a portal page");
            plain_error(visitor.locale)
        }
    };
    visitor.finish(state, response)
}

/// The page for a domain error: 404 for anything not found or not allowed (so
/// another company's order looks like a missing one), 500 without details
/// otherwise.
pub fn error_page(locale: Locale, err: &DomainError) -> Response {
    match err {
        DomainError::Unexpected(inner) => {
            tracing::error!(error = ?inner, "portal page failed");
            plain_error(locale)
        }
        // Logged in with a temporary password: nothing but changing it.
        DomainError::PasswordChangeRequired => super::session::redirect("/password", &[]),
        _ => message(locale, StatusCode::NOT_FOUND, "not_found_title", "not_found"),
    }
}

/// A page with a title and one sentence (both text keys).
pub fn message(locale: Locale, status: StatusCode, title: &str, text: &str) -> Response {
    message_text(locale, status, title, i18n::text(locale, text))
}

/// A page with a title (a text key) and a sentence of its own.
pub fn message_text(locale: Locale, status: StatusCode, title: &str, text: &str) -> Response {
    let page = context! {
        t => i18n::texts(locale),
        lang => i18n::text(locale, "lang_code"),
        csrf => "",
        logged_in => false,
        area => "customer",
        title => i18n::text(locale, title),
        text => text,
    };
    match environment().get_template("message.html").and_then(|t| t.render(page)) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => plain_error(locale),
    }
}

fn plain_error(locale: Locale) -> Response {
    let text = format!("{} — {}", i18n::text(locale, "error_title"), i18n::text(locale, "error_retry"));
    (StatusCode::INTERNAL_SERVER_ERROR, text).into_response()
}

/// The text for a refused form, from the error's code.
pub fn form_error(locale: Locale, err: &DomainError) -> String {
    let key = match err {
        DomainError::InvalidCredentials => "invalid_credentials",
        DomainError::AccountDeactivated => "deactivated",
        DomainError::RateLimited { .. } => "rate_limited",
        DomainError::PasswordChangeRequired => "password_change_required",
        // The domain's own sentence names the field and the rule.
        DomainError::Validation { .. } | DomainError::Conflict(_) | DomainError::InvalidTransition { .. } => {
            return err.client_message()
        }
        _ => "error_retry",
    };
    i18n::text(locale, key).to_owned()
}

/// A time for a page: `<time>` carries the instant and the visitor's browser
/// shows it in its own zone; this is what shows without scripts.
pub fn when(at: DateTime<Utc>) -> Value {
    context! { iso => at.to_rfc3339(), text => at.format("%d/%m/%Y %H:%M UTC").to_string() }
}

/// An amount as the visitor's language writes it: `4.256,60` in Portuguese,
/// `4,256.60` in English.
pub fn money(locale: Locale, cents: i64) -> String {
    let plain = domain::money::format_cents(cents);
    let (whole, fraction) = plain.split_once('.').unwrap_or((plain.as_str(), "00"));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let (group, point) = match locale {
        Locale::PtBr => ('.', ','),
        Locale::En => (',', '.'),
    };
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}{point}{fraction}")
}

/// The headers of every portal response: a Content-Security-Policy with no
/// inline scripts or styles, no framing, no referrer (reset and tracking
/// links carry tokens), no sniffing.
pub fn secure_headers(response: &mut Response) {
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_in_the_visitors_language() {
        assert_eq!(money(Locale::PtBr, 425_660), "4.256,60");
        assert_eq!(money(Locale::En, 425_660), "4,256.60");
        assert_eq!(money(Locale::PtBr, 123_456_789), "1.234.567,89");
        assert_eq!(money(Locale::En, 5), "0.05");
        assert_eq!(money(Locale::PtBr, 99_999), "999,99");
    }

    #[test]
    fn every_text_a_template_names_exists() {
        let texts = i18n::texts(Locale::En);
        for (name, source) in TEMPLATES {
            for (at, _) in source.match_indices("t.") {
                let before = source[..at].chars().last().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' || before == '.' {
                    continue;
                }
                let key: String = source[at + 2..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !key.is_empty() {
                    assert!(texts.contains_key(key.as_str()), "{name} uses t.{key}, which has no text");
                }
            }
        }
    }

    #[test]
    fn every_text_a_template_builds_from_a_prefix_exists() {
        let texts = i18n::texts(Locale::En);
        for outcome in ["SUCCESS", "PARTIAL", "FAILED", "REJECTED"] {
            assert!(texts.contains_key(format!("outcome_{outcome}").as_str()), "outcome_{outcome}");
        }
        for field in ["street", "number", "complement", "district", "city", "state", "country", "zip_code"] {
            assert!(texts.contains_key(format!("addr_{field}").as_str()), "addr_{field}");
        }
    }

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(environment().get_template(name).is_ok(), "{name}");
        }
    }
}
