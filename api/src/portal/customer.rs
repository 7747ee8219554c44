//! The customer's pages: login, forgot/first access, reset, the order
//! history and one order with its live status. Each handler reads the
//! visitor, calls the same domain functions GraphQL calls (so the same access
//! rules apply), and renders a template.

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, Uri},
    response::Response,
    Form,
};
use chrono::{NaiveDate, TimeZone, Utc};
use domain::{
    auth, localities,
    orders::{self, OrderFilter, OrderSort},
    Actor, DomainError,
};
use entities::{order, OrderStatus};
use minijinja::{context, Value};
use sea_orm::{EntityTrait, Iterable};
use serde::Deserialize;

use super::{
    i18n,
    session::{self, Visitor},
    view::{self, render, when},
};
use crate::{ratelimit::Sensitive, state::AppState};

/// Orders per page of the history.
const PAGE_SIZE: u64 = 20;

/// Where a visitor who must log in is sent, coming back to `uri` afterwards.
fn to_login(uri: &Uri, company: Option<&str>) -> Response {
    let next = uri.path_and_query().map_or("/orders", |p| p.as_str());
    let mut query = vec![("next", next)];
    if let Some(company) = company {
        query.push(("company", company));
    }
    let encoded = serde_urlencoded::to_string(query).unwrap_or_default();
    session::redirect(&format!("/login?{encoded}"), &[])
}

/// `GET /`: the customer's orders, through login if needed.
pub async fn home(visitor: Visitor) -> Response {
    session::redirect(if visitor.logged_in() { "/orders" } else { "/login" }, &[])
}

/// Query of the login page.
#[derive(Deserialize, Default)]
pub struct LoginQuery {
    company: Option<String>,
    next: Option<String>,
}

/// `GET /login`.
pub async fn login_page(State(state): State<AppState>, visitor: Visitor, Query(query): Query<LoginQuery>) -> Response {
    if visitor.logged_in() {
        return session::redirect(session::local_path(query.next.as_deref()).unwrap_or("/orders"), &[]);
    }
    login_form(&state, &visitor, StatusCode::OK, &query, "", None)
}

fn login_form(state: &AppState, visitor: &Visitor, status: StatusCode, query: &LoginQuery, email: &str, error: Option<String>) -> Response {
    let company = query.company.as_deref().map(str::trim).filter(|c| !c.is_empty() && c.len() <= 60);
    let values = context! {
        company => company,
        next => session::local_path(query.next.as_deref()),
        email => email,
        error => error,
        here => "/login",
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

/// `POST /login`: the same checks and throttling as GraphQL's `login`.
pub async fn login(State(state): State<AppState>, visitor: Visitor, Form(form): Form<LoginForm>) -> Response {
    let query = LoginQuery { company: form.company.clone(), next: form.next.clone() };
    if !visitor.csrf_matches(&state, &form.csrf) {
        let error = i18n::text(visitor.locale, "bad_form").to_owned();
        return login_form(&state, &visitor, StatusCode::FORBIDDEN, &query, &form.email, Some(error));
    }
    if let Err(exhausted) = state.limits.check(Sensitive::Login, visitor.client, None) {
        let err = DomainError::from(exhausted);
        return login_form(&state, &visitor, StatusCode::TOO_MANY_REQUESTS, &query, &form.email, Some(view::form_error(visitor.locale, &err)));
    }
    let credentials = auth::Credentials {
        email: form.email.clone(),
        password: form.password,
        company: form.company.filter(|c| !c.trim().is_empty()),
        source: Some(visitor.client),
    };
    match auth::login(&state.ctx, &Actor::anonymous(), credentials).await {
        Ok(session) => logged_in(&state, &session, form.next.as_deref()),
        Err(err @ DomainError::Unexpected(_)) => view::error_page(visitor.locale, &err),
        Err(err) => {
            let status = if matches!(err, DomainError::RateLimited { .. }) { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::UNAUTHORIZED };
            login_form(&state, &visitor, status, &query, &form.email, Some(view::form_error(visitor.locale, &err)))
        }
    }
}

/// Sets the session cookie, drops the pre-login nonce and goes on to `next`.
fn logged_in(state: &AppState, session: &auth::Session, next: Option<&str>) -> Response {
    match session::start(state, session) {
        Ok(cookie) => {
            let nonce = session::clear_cookie(state, session::NONCE_COOKIE);
            session::redirect(session::local_path(next).unwrap_or("/orders"), &[cookie, nonce])
        }
        Err(err) => view::error_page(entities::Locale::PtBr, &err),
    }
}

/// The logout form.
#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /logout`: ends the session server-side and forgets the cookie.
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
    let company = company_of(&state, &visitor.actor).await;
    let to = company.map_or_else(|| "/login".to_owned(), |c| format!("/login?company={c}"));
    session::redirect(&to, &[session::clear_cookie(&state, session::SESSION_COOKIE)])
}

/// The identifier of the actor's company, for links back to its login.
async fn company_of(state: &AppState, actor: &Actor) -> Option<String> {
    let id = actor.company_id()?;
    entities::company::Entity::find_by_id(id).one(&state.ctx.db).await.ok().flatten().map(|c| c.identifier)
}


/// `GET /forgot-password`.
pub async fn forgot_page(State(state): State<AppState>, visitor: Visitor, Query(query): Query<LoginQuery>) -> Response {
    let values = context! { company => query.company, email => "", sent => false, error => Value::from(()), here => "/forgot-password" };
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
    let again = |status, error: String| {
        let values = context! { company => company.clone(), email => form.email.clone(), sent => false, error => error, here => "/forgot-password" };
        render(&state, &visitor, status, "forgot.html", values)
    };
    if !visitor.csrf_matches(&state, &form.csrf) {
        return again(StatusCode::FORBIDDEN, i18n::text(visitor.locale, "bad_form").to_owned());
    }
    let account = format!("{}|{}", company.as_deref().unwrap_or(""), form.email.trim());
    if let Err(exhausted) = state.limits.check(Sensitive::RequestPasswordReset, visitor.client, Some(&account)) {
        return again(StatusCode::TOO_MANY_REQUESTS, view::form_error(visitor.locale, &exhausted.into()));
    }
    match domain::notifications::reset::request(&state.ctx, &Actor::anonymous(), &form.email, company.as_deref()).await {
        Ok(()) => {
            let values = context! { company => company.clone(), email => "", sent => true, error => Value::from(()), here => "/forgot-password" };
            render(&state, &visitor, StatusCode::OK, "forgot.html", values)
        }
        Err(err @ DomainError::Unexpected(_)) => view::error_page(visitor.locale, &err),
        Err(err) => again(StatusCode::BAD_REQUEST, view::form_error(visitor.locale, &err)),
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
    render(&state, &visitor, StatusCode::OK, "reset.html", context! { token => token, error => error, here => "/reset-password" })
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
        render(&state, &visitor, status, "reset.html", context! { token => form.token.clone(), error => error, here => "/reset-password" })
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
        Ok(session) => logged_in(&state, &session, Some("/orders")),
        Err(err @ DomainError::Unexpected(_)) => view::error_page(visitor.locale, &err),
        Err(DomainError::Validation { field, .. }) if field == "token" => {
            again(StatusCode::BAD_REQUEST, i18n::text(visitor.locale, "invalid_token").to_owned())
        }
        Err(err) => again(StatusCode::BAD_REQUEST, view::form_error(visitor.locale, &err)),
    }
}

/// Filters of the history page, as the form sends them.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    code: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    company: Option<String>,
}

/// `GET /orders`: the history with the seed's filters (number, status,
/// creation dates) and keyset pages.
pub async fn orders(State(state): State<AppState>, visitor: Visitor, uri: Uri, Query(query): Query<ListQuery>) -> Response {
    if !visitor.logged_in() {
        return to_login(&uri, query.company.as_deref());
    }
    let locale = visitor.locale;
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let status = blank(&query.status).and_then(|s| OrderStatus::iter().find(|o| status_key(*o) == s));
    let day = |v: &Option<String>| blank(v).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    let (from, to) = (day(&query.from), day(&query.to));
    let filter = OrderFilter {
        code: blank(&query.code),
        statuses: status.into_iter().collect(),
        created_from: from.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| Utc.from_utc_datetime(&d)),
        created_to: to.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| Utc.from_utc_datetime(&d)),
        ..OrderFilter::default()
    };
    let page = match orders::list(&state.ctx, &visitor.actor, &filter, OrderSort::default(), PAGE_SIZE, query.after.as_deref()).await {
        Ok(page) => page,
        Err(err @ DomainError::Validation { .. }) => {
            let values = list_values(&visitor, &query, status, Vec::new(), 0, None, Some(view::form_error(locale, &err)));
            return render(&state, &visitor, StatusCode::BAD_REQUEST, "orders.html", values);
        }
        Err(err) => return view::error_page(locale, &err),
    };
    let next = page.has_next_page.then(|| page.items.last().map(|o| orders::cursor_of(o, OrderSort::default().field))).flatten();
    let next_link = next.map(|cursor| {
        let mut params: Vec<(&str, String)> = Vec::new();
        for (key, value) in [("code", &query.code), ("status", &query.status), ("from", &query.from), ("to", &query.to)] {
            if let Some(v) = blank(value) {
                params.push((key, v));
            }
        }
        params.push(("after", cursor));
        format!("/orders?{}", serde_urlencoded::to_string(params).unwrap_or_default())
    });
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|o| {
            let shown = orders::shown_status(&visitor.actor, o);
            context! {
                id => o.id, code => o.code, created => when(o.created_at), total => view::money(locale, o.total_cents),
                status => i18n::status(locale, shown), status_key => status_key(shown),
            }
        })
        .collect();
    let values = list_values(&visitor, &query, status, rows, page.total_count, next_link, None);
    render(&state, &visitor, StatusCode::OK, "orders.html", values)
}

fn list_values(
    visitor: &Visitor,
    query: &ListQuery,
    status: Option<OrderStatus>,
    rows: Vec<Value>,
    total: u64,
    next: Option<String>,
    error: Option<String>,
) -> Value {
    let statuses: Vec<Value> = OrderStatus::iter()
        .filter(|s| *s != OrderStatus::OnHold || visitor.actor.audience() == domain::Audience::Staff)
        .map(|s| context! { key => status_key(s), label => i18n::status(visitor.locale, s), chosen => Some(s) == status })
        .collect();
    context! {
        rows => rows, total => total, next => next, error => error, statuses => statuses,
        code => query.code.clone().unwrap_or_default(), from => query.from.clone().unwrap_or_default(),
        to => query.to.clone().unwrap_or_default(), paged => query.after.is_some(), here => "/orders",
    }
}

/// A status as the URL and the page's styles name it (`IN_TRANSIT`).
fn status_key(status: OrderStatus) -> String {
    sea_orm::ActiveEnum::to_value(&status)
}

/// Query of an order page (the company comes with the mail's link).
#[derive(Deserialize, Default)]
pub struct OrderQuery {
    company: Option<String>,
}

/// `GET /orders/{id}`: the link in every status mail. Another company's order,
/// or one the customer may not see, is the same 404 as a missing one.
pub async fn order(State(state): State<AppState>, visitor: Visitor, uri: Uri, Path(id): Path<String>, Query(query): Query<OrderQuery>) -> Response {
    if !visitor.logged_in() {
        return to_login(&uri, query.company.as_deref());
    }
    let Ok(id) = id.parse::<i32>() else {
        return view::error_page(visitor.locale, &DomainError::not_found("order", id));
    };
    match order_values(&state, &visitor, id).await {
        Ok(values) => render(&state, &visitor, StatusCode::OK, "order.html", values),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// `GET /orders/{id}/live`: the part of the order page that changes (status,
/// shipments, history), fetched by the page's script when the order moves.
pub async fn order_live(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i32>() else {
        return view::error_page(visitor.locale, &DomainError::not_found("order", id));
    };
    if !visitor.logged_in() {
        return view::message(visitor.locale, StatusCode::UNAUTHORIZED, "login_title", "not_found");
    }
    match order_values(&state, &visitor, id).await {
        Ok(values) => render(&state, &visitor, StatusCode::OK, "order_live.html", values),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// Everything the order page shows, read through the domain as the actor.
async fn order_values(state: &AppState, visitor: &Visitor, id: i32) -> Result<Value, DomainError> {
    let ctx = &state.ctx;
    let actor = &visitor.actor;
    let locale = visitor.locale;
    let order = orders::get(ctx, actor, id).await?;
    let ids = [order.id];
    let items = orders::items_for(&ctx.db, actor, &ids).await?.remove(&order.id).unwrap_or_default();
    let shipments = orders::shipments_for(&ctx.db, actor, &ids).await?.remove(&order.id).unwrap_or_default();
    let invoices = orders::invoices_for(&ctx.db, actor, &ids).await?.remove(&order.id).unwrap_or_default();
    let history = orders::history_for(&ctx.db, actor, &ids).await?.remove(&order.id).unwrap_or_default();
    let destination = destination_of(state, actor, &order).await?;
    let shown = orders::shown_status(actor, &order);
    let items: Vec<Value> = items
        .iter()
        .map(|i| context! { name => i.name, sku => i.product_id, quantity => quantity(i.quantity), price => view::money(locale, i.unit_price_cents) })
        .collect();
    let shipments: Vec<Value> = shipments
        .iter()
        .map(|s| {
            context! {
                carrier => s.title.clone().unwrap_or_else(|| s.carrier.clone()), number => s.tracking_number,
                url => s.tracking_url, shipped => when(s.shipped_at), delivered => s.delivered_at.map(when),
            }
        })
        .collect();
    let invoices: Vec<Value> = invoices
        .iter()
        .map(|i| context! { number => i.number, series => i.series, issued => when(i.issued_at), value => view::money(locale, i.value_cents), url => i.url })
        .collect();
    // Newest first: what happened last is what the customer looks for.
    let history: Vec<Value> = history
        .iter()
        .rev()
        .map(|h| {
            context! {
                status => i18n::status(locale, h.to_status), status_key => status_key(h.to_status),
                changed => h.from_status != Some(h.to_status), comment => h.comment, at => when(h.occurred_at),
            }
        })
        .collect();
    Ok(context! {
        id => order.id, code => order.code, status => i18n::status(locale, shown), status_key => status_key(shown),
        created => when(order.created_at), total => view::money(locale, order.total_cents),
        window_from => order.delivery_start.map(when), window_to => order.delivery_end.map(when),
        destination => destination, items => items, shipments => shipments, invoices => invoices, history => history,
        here => format!("/orders/{}", order.id),
    })
}

/// The delivery address in one line: the order's own, or its destination's.
async fn destination_of(state: &AppState, actor: &Actor, order: &order::Model) -> Result<Option<String>, DomainError> {
    let join = |parts: [&Option<String>; 6]| {
        let text: Vec<&str> = parts.iter().filter_map(|p| p.as_deref()).map(str::trim).filter(|p| !p.is_empty()).collect();
        (!text.is_empty()).then(|| text.join(", "))
    };
    if order.address_city.is_some() || order.address_street.is_some() {
        let o = order;
        return Ok(join([&o.address_street, &o.address_number, &o.address_district, &o.address_city, &o.address_state, &o.address_zip_code]));
    }
    let Some(id) = order.destination_locality_id else { return Ok(None) };
    let found = localities::by_ids(&state.ctx.db, actor, &[id]).await?;
    Ok(found.get(&id).and_then(|l| join([&l.street, &l.number, &l.district, &l.city, &l.state, &l.zip_code])))
}

/// A quantity without a needless fraction.
fn quantity(q: f64) -> String {
    if q.fract() == 0.0 && q.abs() < 1e15 {
        format!("{}", q as i64)
    } else {
        format!("{q}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_show_fractions_only_when_they_have_one() {
        assert_eq!(quantity(2.0), "2");
        assert_eq!(quantity(2.5), "2.5");
    }

    #[test]
    fn a_status_key_is_its_graphql_name() {
        assert_eq!(status_key(OrderStatus::InTransit), "IN_TRANSIT");
    }
}
