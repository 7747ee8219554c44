//! The support area (`/support`, platform admins): companies (create with
//! CNPJ validation, the integration token shown once, rotate, activate and
//! deactivate) and their staff (create with a temporary password shown once,
//! activate and deactivate). Every action is the domain call GraphQL makes,
//! so a company user who opens these pages gets the same 404 as for a
//! missing one.

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, Uri},
    response::Response,
    Form,
};
use domain::{companies, page::PageRequest, users, DomainError};
use minijinja::{context, Value};
use serde::Deserialize;

use super::{
    account::Area,
    i18n,
    session::{self, Visitor},
    view::{self, render, when},
};
use crate::state::AppState;

/// Companies per page.
const PAGE_SIZE: u64 = 50;

/// The login page of `area`, coming back afterwards to `page` (a GET's own
/// address; a form's POST comes back to the area's home, as a POST cannot
/// be replayed by a redirect); `None` when the visitor is logged in.
pub fn login_first(visitor: &Visitor, page: Option<&Uri>, area: Area) -> Option<Response> {
    if visitor.logged_in() {
        return None;
    }
    let next = page.and_then(|uri| uri.path_and_query()).map_or(area.home(), |p| p.as_str());
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    Some(session::redirect(&format!("{}?{query}", area.login()), &[]))
}

/// Query of the companies page.
#[derive(Deserialize, Default)]
pub struct CompaniesQuery {
    after: Option<i32>,
}

/// `GET /support`: the companies, and the form that creates one.
pub async fn companies(State(state): State<AppState>, visitor: Visitor, uri: Uri, Query(query): Query<CompaniesQuery>) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Support) {
        return login;
    }
    companies_page(&state, &visitor, &query, StatusCode::OK, Value::from(()), None).await
}

async fn companies_page(
    state: &AppState,
    visitor: &Visitor,
    query: &CompaniesQuery,
    status: StatusCode,
    entered: Value,
    error: Option<String>,
) -> Response {
    let page = match companies::list(&state.ctx, &visitor.actor, PageRequest { first: PAGE_SIZE, after: query.after }).await {
        Ok(page) => page,
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    let next = page.has_next_page.then(|| page.items.last().map(|c| format!("/support?after={}", c.id))).flatten();
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|c| context! { id => c.id, identifier => c.identifier, cnpj => c.cnpj, email => c.email, active => c.active, created => when(c.created_at) })
        .collect();
    let values = context! { rows => rows, total => page.total_count, next => next, entered => entered, error => error, here => "/support" };
    render(state, visitor, status, "support.html", values)
}

/// The create-company form.
#[derive(Deserialize)]
pub struct NewCompanyForm {
    csrf: String,
    identifier: String,
    email: String,
    phone: String,
    cnpj: String,
}

/// `POST /support/companies`: creates the company and shows its integration
/// token, the only time it is ever shown.
pub async fn create_company(State(state): State<AppState>, visitor: Visitor, Form(form): Form<NewCompanyForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Support) {
        return login;
    }
    let entered = context! { identifier => form.identifier, email => form.email, phone => form.phone, cnpj => form.cnpj };
    if !visitor.csrf_matches(&state, &form.csrf) {
        let error = i18n::text(visitor.locale, "bad_form").to_owned();
        return companies_page(&state, &visitor, &CompaniesQuery::default(), StatusCode::FORBIDDEN, entered, Some(error)).await;
    }
    let input = companies::NewCompany { identifier: form.identifier.clone(), email: form.email.clone(), phone: form.phone.clone(), cnpj: form.cnpj.clone() };
    match companies::create(&state.ctx, &visitor.actor, input).await {
        Ok(created) => secret(&state, &visitor, "integration_token", &created.integration_token, &format!("/support/companies/{}", created.company.id)),
        Err(err @ (DomainError::Validation { .. } | DomainError::Conflict(..))) => {
            let error = view::form_error(visitor.locale, &err);
            companies_page(&state, &visitor, &CompaniesQuery::default(), StatusCode::BAD_REQUEST, entered, Some(error)).await
        }
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// The cookie that carries a secret from the POST that made it to the page
/// that shows it (Post/Redirect/Get: reloading the page must not rotate a
/// token again). It is sealed with the server's key for the session that
/// made it, carries its own two-minute expiry, and the page clears it.
const SECRET_COOKIE: &str = "rastro_secret";
/// Where the secret is shown.
const SECRET_PATH: &str = "/support/secret";
/// How long the secret waits to be shown.
const SECRET_SECONDS: i64 = 120;

/// What the sealed secret is bound to: the session that made it, in a range
/// of the key's bindings no company id (positive) uses.
fn sealing(session_id: i32) -> i32 {
    i32::MIN.saturating_add(session_id.max(0))
}

/// Sends the visitor to [`SECRET_PATH`], which shows `value` once.
fn secret(state: &AppState, visitor: &Visitor, what: &str, value: &str, back: &str) -> Response {
    let Some(session_id) = visitor.actor.session_id() else {
        return view::error_page(visitor.locale, &DomainError::Unauthenticated);
    };
    let expires = chrono::Utc::now().timestamp() + SECRET_SECONDS;
    let sealed = serde_json::json!({ "what": what, "secret": value, "back": back, "sid": session_id, "exp": expires }).to_string();
    match state.ctx.mail.secret_key.encrypt(sealing(session_id), &sealed) {
        Ok(sealed) => {
            let cookie = session::set_cookie_at(state, SECRET_COOKIE, &sealed, Some(SECRET_SECONDS.unsigned_abs()), SECRET_PATH);
            session::redirect(SECRET_PATH, &[cookie])
        }
        Err(err) => view::error_page(visitor.locale, &DomainError::Unexpected(err)),
    }
}

/// `GET /support/secret`: the token or password just made, once; the cookie
/// that carried it is cleared.
pub async fn show_secret(State(state): State<AppState>, visitor: Visitor, headers: axum::http::HeaderMap) -> Response {
    let session_id = visitor.actor.session_id();
    let opened = session::cookie(&headers, SECRET_COOKIE)
        .zip(session_id)
        .and_then(|(sealed, sid)| state.ctx.mail.secret_key.decrypt(sealing(sid), &sealed).ok())
        .and_then(|plain| serde_json::from_str::<serde_json::Value>(&plain).ok())
        // Only for the session that made it, and only briefly.
        .filter(|o| o["sid"].as_i64() == session_id.map(i64::from) && o["exp"].as_i64().is_some_and(|exp| exp >= chrono::Utc::now().timestamp()));
    let Some(opened) = opened else {
        return view::message(visitor.locale, StatusCode::NOT_FOUND, "not_found_title", "secret_gone");
    };
    let text = |key: &str| opened[key].as_str().unwrap_or_default().to_owned();
    let back = session::local_path(Some(&text("back"))).unwrap_or("/support").to_owned();
    let values = context! { what => i18n::text(visitor.locale, &text("what")), secret => text("secret"), back => back };
    let mut response = render(&state, &visitor, StatusCode::OK, "secret.html", values);
    session::append(&mut response, &session::set_cookie_at(&state, SECRET_COOKIE, "", Some(0), SECRET_PATH));
    response
}

/// `GET /support/companies/{id}`: a company, its staff, and their actions.
pub async fn company(State(state): State<AppState>, visitor: Visitor, uri: Uri, Path(id): Path<String>) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Support) {
        return login;
    }
    company_page(&state, &visitor, &id, StatusCode::OK, None).await
}

async fn company_page(state: &AppState, visitor: &Visitor, id: &str, status: StatusCode, error: Option<String>) -> Response {
    let Ok(id) = id.parse::<i32>() else {
        return view::error_page(visitor.locale, &DomainError::not_found("company", id));
    };
    let (company, staff) = match tokio::try_join!(
        companies::get(&state.ctx, &visitor.actor, id),
        users::list_company_users(&state.ctx, &visitor.actor, id)
    ) {
        Ok(found) => found,
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    let staff: Vec<Value> = staff
        .iter()
        .filter(|u| u.role == entities::UserRole::Company)
        .map(|u| {
            context! {
                id => u.id, email => u.email, name => u.name, active => u.active,
                must_change => u.must_change_password, last_login => u.last_login_at.map(when),
            }
        })
        .collect();
    let values = context! {
        id => company.id, identifier => company.identifier, cnpj => company.cnpj, email => company.email, phone => company.phone,
        active => company.active, token_prefix => company.integration_token_prefix, created => when(company.created_at),
        staff => staff, error => error, here => format!("/support/companies/{}", company.id),
    };
    render(state, visitor, status, "support_company.html", values)
}

/// The activate/deactivate forms.
#[derive(Deserialize)]
pub struct ActiveForm {
    csrf: String,
    active: bool,
}

/// `POST /support/companies/{id}/active`.
pub async fn set_company_active(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>, Form(form): Form<ActiveForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Support) {
        return login;
    }
    if !visitor.csrf_matches(&state, &form.csrf) {
        return company_page(&state, &visitor, &id, StatusCode::FORBIDDEN, Some(i18n::text(visitor.locale, "bad_form").into())).await;
    }
    let Ok(company) = id.parse::<i32>() else { return view::error_page(visitor.locale, &DomainError::not_found("company", id)) };
    match companies::set_active(&state.ctx, &visitor.actor, company, form.active).await {
        Ok(_) => session::redirect(&format!("/support/companies/{company}"), &[]),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// A form with only its CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /support/companies/{id}/token`: a new integration token, shown
/// once; the old one stops working.
pub async fn rotate_token(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>, Form(form): Form<CsrfForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Support) {
        return login;
    }
    if !visitor.csrf_matches(&state, &form.csrf) {
        return company_page(&state, &visitor, &id, StatusCode::FORBIDDEN, Some(i18n::text(visitor.locale, "bad_form").into())).await;
    }
    let Ok(company) = id.parse::<i32>() else { return view::error_page(visitor.locale, &DomainError::not_found("company", id)) };
    match companies::rotate_integration_token(&state.ctx, &visitor.actor, company).await {
        Ok(rotated) => secret(&state, &visitor, "integration_token", &rotated.integration_token, &format!("/support/companies/{company}")),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// The create-user form.
#[derive(Deserialize)]
pub struct NewUserForm {
    csrf: String,
    email: String,
    name: String,
}

/// `POST /support/companies/{id}/users`: a staff account with a generated
/// temporary password, shown once; it must be changed at the first login.
pub async fn create_user(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>, Form(form): Form<NewUserForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Support) {
        return login;
    }
    if !visitor.csrf_matches(&state, &form.csrf) {
        return company_page(&state, &visitor, &id, StatusCode::FORBIDDEN, Some(i18n::text(visitor.locale, "bad_form").into())).await;
    }
    let Ok(company) = id.parse::<i32>() else { return view::error_page(visitor.locale, &DomainError::not_found("company", id)) };
    let input = users::NewCompanyUser { company_id: company, email: form.email, name: form.name, temporary_password: None };
    match users::create_company_user(&state.ctx, &visitor.actor, input).await {
        Ok(created) => {
            let password = created.generated_password.unwrap_or_default();
            secret(&state, &visitor, "temporary_password", &password, &format!("/support/companies/{company}"))
        }
        Err(err @ (DomainError::Validation { .. } | DomainError::Conflict(..))) => {
            company_page(&state, &visitor, &id, StatusCode::BAD_REQUEST, Some(view::form_error(visitor.locale, &err))).await
        }
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// `POST /support/users/{id}/active`, back to its company's page.
pub async fn set_user_active(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>, Form(form): Form<ActiveForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Support) {
        return login;
    }
    if !visitor.csrf_matches(&state, &form.csrf) {
        return view::message(visitor.locale, StatusCode::FORBIDDEN, "error_title", "bad_form");
    }
    let Ok(user) = id.parse::<i32>() else { return view::error_page(visitor.locale, &DomainError::not_found("user", id)) };
    match users::set_active(&state.ctx, &visitor.actor, user, form.active).await {
        Ok(updated) => match updated.company_id {
            Some(company) => session::redirect(&format!("/support/companies/{company}"), &[]),
            None => session::redirect("/support", &[]),
        },
        Err(err @ (DomainError::Validation { .. } | DomainError::Conflict(_))) => {
            view::message_text(visitor.locale, StatusCode::BAD_REQUEST, "error_title", &view::form_error(visitor.locale, &err))
        }
        Err(err) => view::error_page(visitor.locale, &err),
    }
}
