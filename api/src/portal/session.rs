//! Who is visiting a page: the session cookie, CSRF tokens, the language.
//!
//! - **Session.** Logging in starts a domain session ([`domain::sessions`])
//!   and puts a signed token of it in an HttpOnly, `SameSite=Lax` cookie
//!   (`Secure` when the public URL is https). Every request checks it as
//!   GraphQL checks a bearer token, so logout, a password change or a
//!   deactivation end it at once, server-side.
//! - **CSRF.** Every form carries a token that is a MAC of the session (or,
//!   before login, of a random nonce kept in its own cookie); a POST without
//!   the right one changes nothing. Cookies alone never authorise a change.

use std::time::Duration;

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use domain::{Actor, DomainError};
use entities::Locale;

use crate::{ratelimit::ClientIp, state::AppState};

/// The session cookie.
pub const SESSION_COOKIE: &str = "rastro_session";
/// The pre-login CSRF nonce.
pub const NONCE_COOKIE: &str = "rastro_csrf";
/// How long a portal login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Longest cookie value read.
const MAX_COOKIE: usize = 4096;

/// The visitor of a page.
pub struct Visitor {
    /// Who it is (anonymous without a live session).
    pub actor: Actor,
    /// The language pages speak to it.
    pub locale: Locale,
    /// Where it comes from (for login throttling).
    pub client: std::net::IpAddr,
    /// The path and query of a GET (the language switch comes back to it); a
    /// form's POST cannot be come back to, so its page names where instead.
    pub here: Option<String>,
    /// The pre-login nonce it presented, or the one to hand it.
    nonce: String,
    /// Whether [`Visitor::nonce`] is new and must be set as a cookie.
    new_nonce: bool,
    /// Where revocations stood before the session was checked, so a live
    /// page registered later still ends on a revocation applied since.
    pub checked_at: domain::sessions::watchers::Mark,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let locale = super::i18n::negotiate(&parts.headers);
        let client = parts.extensions.get::<ClientIp>().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0);
        let checked_at = state.ctx.events.mark();
        let actor = match cookie(&parts.headers, SESSION_COOKIE) {
            // Read afresh: a page may open live events, which stay open.
            Some(token) => match domain::auth::authenticate_fresh(&state.ctx, &token).await {
                Ok(actor) => actor,
                Err(DomainError::Unexpected(err)) => {
                    tracing::error!(error = ?err, "authenticating a portal session");
                    return Err(super::view::error_page(locale, &DomainError::Unexpected(err)));
                }
                Err(_) => Actor::anonymous(),
            },
            None => Actor::anonymous(),
        };
        let presented = cookie(&parts.headers, NONCE_COOKIE).filter(|n| n.len() == 43 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let (nonce, new_nonce) = match presented {
            Some(n) => (n, false),
            None => (domain::tokens::random_token(32), true),
        };
        let here = (parts.method == axum::http::Method::GET).then(|| parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned());
        Ok(Visitor { actor, locale, client, here, nonce, new_nonce, checked_at })
    }
}

impl Visitor {
    /// Whether someone is logged in.
    pub fn logged_in(&self) -> bool {
        self.actor.session_id().is_some()
    }

    fn csrf_subject(&self) -> String {
        match self.actor.session_id() {
            Some(sid) => format!("session:{sid}"),
            None => format!("nonce:{}", self.nonce),
        }
    }

    /// The CSRF token for forms on this visitor's pages.
    pub fn csrf(&self, state: &AppState) -> String {
        state.ctx.tokens.mac("csrf", &self.csrf_subject())
    }

    /// Whether `presented` is this visitor's CSRF token.
    pub fn csrf_matches(&self, state: &AppState, presented: &str) -> bool {
        // A nonce the visitor did not present was never in a form it was shown.
        if !self.logged_in() && self.new_nonce {
            return false;
        }
        state.ctx.tokens.mac_matches("csrf", &self.csrf_subject(), presented)
    }

    /// Adds the nonce cookie to `response` when the visitor had none.
    pub fn finish(&self, state: &AppState, mut response: Response) -> Response {
        if self.new_nonce && !self.logged_in() {
            append(&mut response, &set_cookie(state, NONCE_COOKIE, &self.nonce, None));
        }
        response
    }
}

/// The actor of the request's session cookie (anonymous without a live one),
/// for the plain routes the pages link to (the export buttons).
pub async fn cookie_actor(state: &AppState, headers: &HeaderMap) -> Result<Actor, DomainError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(Actor::anonymous()) };
    match domain::auth::authenticate(&state.ctx, &token).await {
        Ok(actor) => Ok(actor),
        Err(err @ DomainError::Unexpected(_)) => Err(err),
        Err(_) => Ok(Actor::anonymous()),
    }
}

/// Adds a `Set-Cookie` to `response`.
pub fn append(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A `Set-Cookie` value: HttpOnly, `SameSite=Lax`, the whole site, `Secure`
/// when the portal is served over https; a session cookie without `max_age`.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<u64>) -> String {
    set_cookie_at(state, name, value, max_age, "/")
}

/// [`set_cookie`] for one path only.
pub fn set_cookie_at(state: &AppState, name: &str, value: &str, max_age: Option<u64>, path: &str) -> String {
    let secure = if state.config.public_base_url.starts_with("https://") { "; Secure" } else { "" };
    let age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax{age}{secure}")
}

/// A `Set-Cookie` value that deletes `name`.
pub fn clear_cookie(state: &AppState, name: &str) -> String {
    set_cookie(state, name, "", Some(0))
}

/// The value of cookie `name`, if the request has it exactly once: a second
/// cookie of the same name (set by a sibling subdomain, or with a narrower
/// path) could fix a victim's session or nonce, so then there is none.
/// Other cookies of the site may be large; only this one's value is bounded.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value.trim())
        });
    let value = found.next()?;
    (found.next().is_none() && value.len() <= MAX_COOKIE).then(|| value.to_owned())
}

/// `next` if it is a path on this site (not `//host` or a scheme), else `None`:
/// redirects after login go nowhere else.
pub fn local_path(next: Option<&str>) -> Option<&str> {
    let next = next?;
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 512
        && !next.chars().any(char::is_control);
    safe.then_some(next)
}

/// The session cookie for a fresh login.
pub fn start(state: &AppState, session: &domain::auth::Session) -> Result<String, DomainError> {
    let now = chrono::Utc::now();
    let (token, _) = state
        .ctx
        .tokens
        .issue_for(session.user.id, session.user.token_version, session.session_id, now, SESSION_TTL)
        .map_err(DomainError::Unexpected)?;
    Ok(set_cookie(state, SESSION_COOKIE, &token, Some(SESSION_TTL.as_secs())))
}

/// A 303 to `to`, with the cookies given.
pub fn redirect(to: &str, cookies: &[String]) -> Response {
    let mut response = axum::response::Redirect::to(to).into_response();
    for c in cookies {
        append(&mut response, c);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_login() {
        assert_eq!(local_path(Some("/orders/7?company=acme")), Some("/orders/7?company=acme"));
        for bad in ["//evil.example/x", "https://evil.example", "/\\evil.example", "orders", "/a\nb"] {
            assert_eq!(local_path(Some(bad)), None, "{bad}");
        }
        assert_eq!(local_path(None), None);
    }

    #[test]
    fn a_cookie_is_read_by_its_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("xrastro_session=no; rastro_session=yes"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("yes"));
        assert_eq!(cookie(&headers, NONCE_COOKIE), None);
        headers.insert(header::COOKIE, HeaderValue::from_static("rastro_session=a; rastro_session=b"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), None, "a second cookie of the name is refused");
        let big = format!("other={}; rastro_session=yes", "x".repeat(10_000));
        headers.insert(header::COOKIE, HeaderValue::from_str(&big).unwrap_or(HeaderValue::from_static("")));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("yes"), "other large cookies do not hide it");
    }
}
