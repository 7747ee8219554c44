//! The company's localities (`/admin/localities`): origins and destinations
//! with their responsible person, the customer who follows the orders
//! delivered there. Listing, search, creating and editing go through the
//! same domain calls as GraphQL.

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, Uri},
    response::Response,
    Form,
};
use domain::{
    address::Address,
    localities::{self, LocalityInput, Responsible},
    page::PageRequest,
    validate,
    DomainError,
};
use entities::{locality, LogisticRole};
use minijinja::{context, Value};
use serde::Deserialize;

use super::{
    account::Area,
    i18n,
    session::{self, Visitor},
    support::login_first,
    view::{self, render},
};
use crate::state::AppState;

/// Localities per page.
const PAGE_SIZE: u64 = 50;

/// Query of the list.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    after: Option<i32>,
}

fn role_key(role: LogisticRole) -> &'static str {
    match role {
        LogisticRole::Origin => "ORIGIN",
        LogisticRole::Destination => "DESTINATION",
        LogisticRole::Both => "BOTH",
    }
}

fn role_label(role: LogisticRole) -> &'static str {
    match role {
        LogisticRole::Origin => "role_origin",
        LogisticRole::Destination => "role_destination",
        LogisticRole::Both => "role_both",
    }
}

/// `GET /admin/localities`.
pub async fn list(State(state): State<AppState>, visitor: Visitor, uri: Uri, Query(query): Query<ListQuery>) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if search.is_some_and(|q| q.chars().count() > 200 || q.contains('\0')) {
        return view::message(visitor.locale, StatusCode::BAD_REQUEST, "error_title", "search_too_long");
    }
    let page = match localities::list(&state.ctx, &visitor.actor, PageRequest { first: PAGE_SIZE, after: query.after }, search).await {
        Ok(page) => page,
        Err(err) => return view::error_page(visitor.locale, &err),
    };
    let next = page.has_next_page.then(|| page.items.last().map(|l| {
        let params = [("q", search.unwrap_or("").to_owned()), ("after", l.id.to_string())];
        format!("/admin/localities?{}", serde_urlencoded::to_string(params).unwrap_or_default())
    }))
    .flatten();
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|l| {
            context! {
                id => l.id, source_id => l.source_id, name => l.name, role => i18n::text(visitor.locale, role_label(l.logistic_role)),
                city => l.city, responsible => l.responsible_name, email => l.responsible_email, anonymized => l.anonymized_at.is_some(),
            }
        })
        .collect();
    let values = context! { rows => rows, total => page.total_count, next => next, q => search.unwrap_or(""), here => "/admin/localities" };
    render(&state, &visitor, StatusCode::OK, "localities.html", values)
}

/// `GET /admin/localities/{id}` (`new` for a new one): the form.
pub async fn edit(State(state): State<AppState>, visitor: Visitor, uri: Uri, Path(id): Path<String>) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    if id == "new" {
        return form_page(&state, &visitor, StatusCode::OK, "new", Value::from(()), None);
    }
    let Ok(number) = id.parse::<i32>() else { return view::error_page(visitor.locale, &DomainError::not_found("locality", id)) };
    match localities::get(&state.ctx, &visitor.actor, number).await {
        Ok(found) => form_page(&state, &visitor, StatusCode::OK, &id, entered_of(&found), None),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

fn entered_of(l: &locality::Model) -> Value {
    context! {
        source_id => l.source_id, name => l.name, role => role_key(l.logistic_role), street => l.street, number => l.number,
        complement => l.complement, district => l.district, city => l.city, state => l.state, country => l.country,
        zip_code => l.zip_code, responsible_name => l.responsible_name, responsible_email => l.responsible_email,
        responsible_phone => l.responsible_phone,
    }
}

fn form_page(state: &AppState, visitor: &Visitor, status: StatusCode, id: &str, entered: Value, error: Option<String>) -> Response {
    let roles: Vec<Value> = [LogisticRole::Destination, LogisticRole::Origin, LogisticRole::Both]
        .into_iter()
        .map(|r| context! { key => role_key(r), label => i18n::text(visitor.locale, role_label(r)) })
        .collect();
    let values = context! { id => id, entered => entered, roles => roles, error => error, here => format!("/admin/localities/{id}") };
    render(state, visitor, status, "locality.html", values)
}

/// The locality form.
#[derive(Deserialize)]
pub struct LocalityForm {
    csrf: String,
    source_id: String,
    name: String,
    role: String,
    street: Option<String>,
    number: Option<String>,
    complement: Option<String>,
    district: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    zip_code: Option<String>,
    responsible_name: Option<String>,
    responsible_email: Option<String>,
    responsible_phone: Option<String>,
}

impl LocalityForm {
    fn entered(&self) -> Value {
        context! {
            source_id => self.source_id, name => self.name, role => self.role, street => self.street, number => self.number,
            complement => self.complement, district => self.district, city => self.city, state => self.state,
            country => self.country, zip_code => self.zip_code, responsible_name => self.responsible_name,
            responsible_email => self.responsible_email, responsible_phone => self.responsible_phone,
        }
    }

    fn input(&self) -> Result<LocalityInput, DomainError> {
        if validate::given(self.responsible_email.as_deref()).is_none() && (validate::given(self.responsible_name.as_deref()).is_some() || validate::given(self.responsible_phone.as_deref()).is_some()) {
            return Err(DomainError::validation("responsible.email", "is required for a responsible person (it is how they log in)"));
        }
        let role = match self.role.as_str() {
            "ORIGIN" => LogisticRole::Origin,
            "BOTH" => LogisticRole::Both,
            _ => LogisticRole::Destination,
        };
        let responsible = validate::given(self.responsible_email.as_deref()).map(|email| Responsible {
            name: validate::given(self.responsible_name.as_deref()).unwrap_or_else(|| email.clone()),
            email,
            phone: validate::given(self.responsible_phone.as_deref()),
        });
        Ok(LocalityInput {
            source_id: self.source_id.trim().to_owned(),
            name: self.name.trim().to_owned(),
            logistic_role: role,
            address: Address {
                street: validate::given(self.street.as_deref()),
                number: validate::given(self.number.as_deref()),
                complement: validate::given(self.complement.as_deref()),
                district: validate::given(self.district.as_deref()),
                city: validate::given(self.city.as_deref()),
                state: validate::given(self.state.as_deref()),
                country: validate::given(self.country.as_deref()),
                zip_code: validate::given(self.zip_code.as_deref()),
                latitude: None,
                longitude: None,
            },
            responsible,
        })
    }
}

/// `POST /admin/localities/{id}` (`new` creates one).
pub async fn save(State(state): State<AppState>, visitor: Visitor, Path(id): Path<String>, Form(form): Form<LocalityForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Company) {
        return login;
    }
    if !visitor.csrf_matches(&state, &form.csrf) {
        return form_page(&state, &visitor, StatusCode::FORBIDDEN, &id, form.entered(), Some(i18n::text(visitor.locale, "bad_form").into()));
    }
    let input = match form.input() {
        Ok(input) => input,
        Err(err) => return form_page(&state, &visitor, StatusCode::BAD_REQUEST, &id, form.entered(), Some(view::form_error(visitor.locale, &err))),
    };
    let done = if id == "new" {
        localities::create(&state.ctx, &visitor.actor, input).await
    } else {
        let Ok(number) = id.parse::<i32>() else { return view::error_page(visitor.locale, &DomainError::not_found("locality", id)) };
        // Coordinates are not on the form: an edit keeps the stored ones.
        match localities::get(&state.ctx, &visitor.actor, number).await {
            Ok(stored) => {
                let mut input = input;
                input.address.latitude = stored.latitude;
                input.address.longitude = stored.longitude;
                localities::update(&state.ctx, &visitor.actor, number, input).await
            }
            Err(err) => Err(err),
        }
    };
    match done {
        Ok(_) => session::redirect("/admin/localities", &[]),
        Err(err @ (DomainError::Validation { .. } | DomainError::Conflict(_))) => {
            form_page(&state, &visitor, StatusCode::BAD_REQUEST, &id, form.entered(), Some(view::form_error(visitor.locale, &err)))
        }
        Err(err) => view::error_page(visitor.locale, &err),
    }
}
