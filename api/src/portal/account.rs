//! Logging in and out, "forgot password / first access", the reset page the
//! mails link to, and changing a password, for the portal's three areas:
//! customers (`/login`, the default), company staff (`/admin/login`) and
//! platform support (`/support/login`). Every area logs in through the same
//! domain call and throttling as GraphQL's `login`.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    Form,
};
use domain::{auth, Actor, DomainError};
use entities::Locale;
use minijinja::{context, Value};
use sea_orm::EntityTrait;
use serde::Deserialize;

use super::{
    i18n,
    session::{self, Visitor},
    view::{self, render},
};
use crate::{ratelimit::Sensitive, state::AppState};

/// One of the portal's areas, each with its own login page and home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// End customers: `/login`, home `/orders`.
    Customer,
    /// A company's staff: `/admin/login`, home `/admin`.
    Company,
    /// Platform support: `/support/login`, home `/support`.
    Support,
}

impl Area {
    /// The area of the actor's role (anonymous visitors are customers).
    pub fn of(actor: &Actor) -> Area {
        match actor.role_name() {
            "admin" => Area::Support,
            "company" => Area::Company,
            _ => Area::Customer,
        }
    }

    /// The area's name in templates.
    pub fn name(self) -> &'static str {
        match self {
            Area::Customer => "customer",
            Area::Company => "company",
            Area::Support => "support",
        }
    }

    /// Where the area starts.
    pub fn home(self) -> &'static str {
        match self {
            Area::Customer => "/orders",
            Area::Company => "/admin",
            Area::Support => "/support",
        }
    }

    /// The area's login page.
    pub fn login(self) -> &'static str {
        match self {
            Area::Customer => "/login",
            Area::Company => "/admin/login",
            Area::Support => "/support/login",
        }
    }

    /// Whether its login names a company (support logs in without one).
    fn asks_company(self) -> bool {
        match self {
            Area::Customer | Area::Company => true,
            Area::Support => false,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Area::Customer => "login_title",
            Area::Company => "company_area",
            Area::Support => "support_area",
        }
    }
}

/// `GET /`: the visitor's home, through login if needed.
pub async fn home(visitor: Visitor) -> Response {
    let to = if visitor.logged_in() { Area::of(&visitor.actor).home() } else { Area::Customer.login() };
    session::redirect(to, &[])
}

/// Query of a login page.
#[derive(Deserialize, Default)]
pub struct LoginQuery {
    company: Option<String>,
    next: Option<String>,
}

/// `GET /login`.
pub async fn customer_login_page(state: State<AppState>, visitor: Visitor, query: Query<LoginQuery>) -> Response {
    login_page(Area::Customer, state, visitor, query)
}

/// `GET /admin/login`.
pub async fn company_login_page(state: State<AppState>, visitor: Visitor, query: Query<LoginQuery>) -> Response {
    login_page(Area::Company, state, visitor, query)
}

/// `GET /support/login`.
pub async fn support_login_page(state: State<AppState>, visitor: Visitor, query: Query<LoginQuery>) -> Response {
    login_page(Area::Support, state, visitor, query)
}

fn login_page(area: Area, State(state): State<AppState>, visitor: Visitor, Query(query): Query<LoginQuery>) -> Response {
    if visitor.logged_in() {
        let home = Area::of(&visitor.actor).home();
        return session::redirect(session::local_path(query.next.as_deref()).unwrap_or(home), &[]);
    }
    login_form(area, &state, &visitor, StatusCode::OK, &query, "", None)
}

fn login_form(area: Area, state: &AppState, visitor: &Visitor, status: StatusCode, query: &LoginQuery, email: &str, error: Option<String>) -> Response {
    // Only a well-formed identifier is shown: the link's text lands on a real login page.
    let company = query.company.as_deref().and_then(|c| domain::validate::identifier("company", c).ok());
    let values = context! {
        company => company,
        asks_company => area.asks_company(),
        company_label => i18n::text(visitor.locale, if area == Area::Company { "company_staff" } else { "company" }),
        action => area.login(),
        title => i18n::text(visitor.locale, area.title()),
        next => session::local_path(query.next.as_deref()),
        email => email,
        error => error,
        here => area.login(),
    };
    render(state, visitor, status, "login.html", values)
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    email: String,
    password: String,
    company: Option<String>,
    next: Option<String>,
}

/// `POST /login`.
pub async fn customer_login(state: State<AppState>, visitor: Visitor, form: Form<LoginForm>) -> Response {
    login(Area::Customer, state, visitor, form).await
}

/// `POST /admin/login`.
pub async fn company_login(state: State<AppState>, visitor: Visitor, form: Form<LoginForm>) -> Response {
    login(Area::Company, state, visitor, form).await
}

/// `POST /support/login`.
pub async fn support_login(state: State<AppState>, visitor: Visitor, form: Form<LoginForm>) -> Response {
    login(Area::Support, state, visitor, form).await
}

/// The same checks and throttling as GraphQL's `login`; then to `next`, or
/// the home of the account's own area (whichever login page it used).
async fn login(area: Area, State(state): State<AppState>, visitor: Visitor, Form(form): Form<LoginForm>) -> Response {
    let query = LoginQuery { company: form.company.clone(), next: form.next.clone() };
    let again = |status, error: String| login_form(area, &state, &visitor, status, &query, &form.email, Some(error));
    if !visitor.csrf_matches(&state, &form.csrf) {
        return again(StatusCode::FORBIDDEN, i18n::text(visitor.locale, "bad_form").to_owned());
    }
    if let Err(exhausted) = state.limits.check(Sensitive::Login, visitor.client, None) {
        return again(StatusCode::TOO_MANY_REQUESTS, view::form_error(visitor.locale, &exhausted.into()));
    }
    let company = if area.asks_company() { form.company.clone().filter(|c| !c.trim().is_empty()) } else { None };
    let credentials = auth::Credentials { email: form.email.clone(), password: form.password.clone(), company, source: Some(visitor.client) };
    match auth::login(&state.ctx, &Actor::anonymous(), credentials).await {
        Ok(session) => {
            let home = Area::of_role(session.user.role).home();
            let next = if session.user.must_change_password { Some("/password") } else { form.next.as_deref() };
            logged_in(&state, visitor.locale, &session, next, home)
        }
        Err(err @ DomainError::Unexpected(_)) => view::error_page(visitor.locale, &err),
        Err(err) => {
            let status = if matches!(err, DomainError::RateLimited { .. }) { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::UNAUTHORIZED };
            again(status, view::form_error(visitor.locale, &err))
        }
    }
}

/// Sets the session cookie, drops the pre-login nonce and goes on to `next`
/// (a local path) or `home`.
fn logged_in(state: &AppState, locale: Locale, session: &auth::Session, next: Option<&str>, home: &str) -> Response {
    match session::start(state, session) {
        Ok(cookie) => {
            let nonce = session::clear_cookie(state, session::NONCE_COOKIE);
            session::redirect(session::local_path(next).unwrap_or(home), &[cookie, nonce])
        }
        Err(err) => view::error_page(locale, &err),
    }
}

/// A form that carries only its CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    /// The token.
    pub csrf: String,
}

/// `POST /logout`: ends the session server-side and forgets the cookie; back
/// to the login page of the visitor's area (and company).
pub async fn logout(State(state): State<AppState>, visitor: Visitor, Form(form): Form<CsrfOnly>) -> Response {
    if !visitor.logged_in() {
        return session::redirect("/login", &[session::clear_cookie(&state, session::SESSION_COOKIE)]);
    }
    if !visitor.csrf_matches(&state, &form.csrf) {
        return view::message(visitor.locale, StatusCode::FORBIDDEN, "error_title", "bad_form");
    }
    if let Err(err) = domain::sessions::logout(&state.ctx, &visitor.actor).await {
        return view::error_page(visitor.locale, &err);
    }
    let login = Area::of(&visitor.actor).login();
    let to = match company_of(&state, &visitor.actor).await {
        Some(company) => format!("{login}?company={company}"),
        None => login.to_owned(),
    };
    session::redirect(&to, &[session::clear_cookie(&state, session::SESSION_COOKIE)])
}

/// The identifier of the actor's company, for links back to its login.
async fn company_of(state: &AppState, actor: &Actor) -> Option<String> {
    let id = actor.company_id()?;
    entities::company::Entity::find_by_id(id).one(&state.ctx.db).await.ok().flatten().map(|c| c.identifier)
}

/// `GET /forgot-password`.
pub async fn forgot_page(State(state): State<AppState>, visitor: Visitor, Query(query): Query<LoginQuery>) -> Response {
    let company = query.company.as_deref().and_then(|c| domain::validate::identifier("company", c).ok());
    let values = context! { company => company, email => "", sent => false, error => Value::from(()), here => "/forgot-password" };
    render(&state, &visitor, StatusCode::OK, "forgot.html", values)
}

/// The forgot-password form.
#[derive(Deserialize)]
pub struct ForgotForm {
    csrf: String,
    email: String,
    company: Option<String>,
}

/// `POST /forgot-password`: mails a link if the account exists, and says the
/// same either way.
pub async fn forgot(State(state): State<AppState>, visitor: Visitor, Form(form): Form<ForgotForm>) -> Response {
    let company = form.company.clone().filter(|c| !c.trim().is_empty());
    let page = |status, email: &str, sent: bool, error: Option<String>| {
        let values = context! { company => company.clone(), email => email, sent => sent, error => error, here => "/forgot-password" };
        render(&state, &visitor, status, "forgot.html", values)
    };
    if !visitor.csrf_matches(&state, &form.csrf) {
        return page(StatusCode::FORBIDDEN, &form.email, false, Some(i18n::text(visitor.locale, "bad_form").to_owned()));
    }
    let account = format!("{}|{}", company.as_deref().unwrap_or(""), form.email.trim());
    if let Err(exhausted) = state.limits.check(Sensitive::RequestPasswordReset, visitor.client, Some(&account)) {
        return page(StatusCode::TOO_MANY_REQUESTS, &form.email, false, Some(view::form_error(visitor.locale, &exhausted.into())));
    }
    match domain::notifications::reset::request(&state.ctx, &Actor::anonymous(), &form.email, company.as_deref()).await {
        Ok(()) => page(StatusCode::OK, "", true, None),
        Err(err @ DomainError::Unexpected(_)) => view::error_page(visitor.locale, &err),
        Err(err) => page(StatusCode::BAD_REQUEST, &form.email, false, Some(view::form_error(visitor.locale, &err))),
    }
}

/// Query of the reset page: the mailed token.
#[derive(Deserialize)]
pub struct ResetQuery {
    token: Option<String>,
}

/// `GET /reset-password?token=…`: the page the reset and first-access mails
/// link to. The token stays in a hidden field; the page sends no referrer.
pub async fn reset_page(State(state): State<AppState>, visitor: Visitor, Query(query): Query<ResetQuery>) -> Response {
    let token = query.token.unwrap_or_default();
    let error = token.is_empty().then(|| i18n::text(visitor.locale, "invalid_token"));
    let values = context! { token => token, error => error, action => "/reset-password", current => false, here => "/reset-password" };
    render(&state, &visitor, StatusCode::OK, "reset.html", values)
}

/// The reset form.
#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    token: String,
    password: String,
    confirm: String,
}

/// `POST /reset-password`: sets the password, spends the token and logs in.
pub async fn reset(State(state): State<AppState>, visitor: Visitor, Form(form): Form<ResetForm>) -> Response {
    let again = |status, error: String| {
        let values = context! { token => form.token.clone(), error => error, action => "/reset-password", current => false, here => "/reset-password" };
        render(&state, &visitor, status, "reset.html", values)
    };
    if !visitor.csrf_matches(&state, &form.csrf) {
        return again(StatusCode::FORBIDDEN, i18n::text(visitor.locale, "bad_form").to_owned());
    }
    if form.password != form.confirm {
        return again(StatusCode::BAD_REQUEST, i18n::text(visitor.locale, "passwords_differ").to_owned());
    }
    if let Err(exhausted) = state.limits.check(Sensitive::ResetPassword, visitor.client, None) {
        return again(StatusCode::TOO_MANY_REQUESTS, view::form_error(visitor.locale, &exhausted.into()));
    }
    match domain::notifications::reset::reset(&state.ctx, &Actor::anonymous(), &form.token, &form.password).await {
        Ok(session) => {
            let home = Area::of_role(session.user.role).home();
            logged_in(&state, visitor.locale, &session, None, home)
        }
        Err(err @ DomainError::Unexpected(_)) => view::error_page(visitor.locale, &err),
        Err(DomainError::Validation { field, .. }) if field == "token" => {
            again(StatusCode::BAD_REQUEST, i18n::text(visitor.locale, "invalid_token").to_owned())
        }
        Err(err) => again(StatusCode::BAD_REQUEST, view::form_error(visitor.locale, &err)),
    }
}

impl Area {
    /// The area of a user role.
    pub fn of_role(role: entities::UserRole) -> Area {
        match role {
            entities::UserRole::Admin => Area::Support,
            entities::UserRole::Company => Area::Company,
            entities::UserRole::Customer => Area::Customer,
        }
    }
}

/// `GET /password`: change the password (required after logging in with a
/// temporary one).
pub async fn password_page(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.logged_in() {
        return session::redirect("/login?next=/password", &[]);
    }
    let values = context! { token => "", error => Value::from(()), action => "/password", current => true, here => "/password" };
    render(&state, &visitor, StatusCode::OK, "reset.html", values)
}

/// The change-password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    password: String,
    confirm: String,
}

/// `POST /password`: as GraphQL's `changePassword`: every other session of
/// the account ends, and this one goes on with a new cookie.
pub async fn change_password(State(state): State<AppState>, visitor: Visitor, Form(form): Form<PasswordForm>) -> Response {
    if !visitor.logged_in() {
        return session::redirect("/login?next=/password", &[]);
    }
    let again = |status, error: String| {
        let values = context! { token => "", error => error, action => "/password", current => true, here => "/password" };
        render(&state, &visitor, status, "reset.html", values)
    };
    if !visitor.csrf_matches(&state, &form.csrf) {
        return again(StatusCode::FORBIDDEN, i18n::text(visitor.locale, "bad_form").to_owned());
    }
    if form.password != form.confirm {
        return again(StatusCode::BAD_REQUEST, i18n::text(visitor.locale, "passwords_differ").to_owned());
    }
    let account = visitor.actor.user_id().map(|id| id.to_string());
    if let Err(exhausted) = state.limits.check(Sensitive::ChangePassword, visitor.client, account.as_deref()) {
        return again(StatusCode::TOO_MANY_REQUESTS, view::form_error(visitor.locale, &exhausted.into()));
    }
    match auth::change_password(&state.ctx, &visitor.actor, &form.current, &form.password).await {
        Ok(session) => logged_in(&state, visitor.locale, &session, None, Area::of(&visitor.actor).home()),
        Err(err @ DomainError::Unexpected(_)) => view::error_page(visitor.locale, &err),
        Err(err) => again(StatusCode::BAD_REQUEST, view::form_error(visitor.locale, &err)),
    }
}
