//! The order pages: the history and one order with its live status. Each handler reads the
//! visitor, calls the same domain functions GraphQL calls (so the same access
//! rules apply), and renders a template.

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, Uri},
    response::Response,
};

use chrono::{NaiveDate, TimeZone, Utc};
use domain::{
    orders::{self, Lists, OrderFilter, OrderSort},
    DomainError,
};
use entities::{locality, order, OrderStatus};
use minijinja::{context, Value};
use sea_orm::Iterable;
use serde::Deserialize;

use super::{
    i18n,
    session::{self, Visitor},
    view::{self, render, when},
};
use crate::state::AppState;

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

/// Filters of the order list, as the form sends them. Staff get more of
/// them (product, customer, total range), as in the back office.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    code: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    product: Option<String>,
    customer: Option<String>,
    min: Option<String>,
    max: Option<String>,
    after: Option<String>,
    company: Option<String>,
}

impl ListQuery {
    /// The filters given, by their names in the page's URL.
    fn given(&self) -> Params {
        let fields = [
            ("code", &self.code),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
            ("product", &self.product),
            ("customer", &self.customer),
            ("min", &self.min),
            ("max", &self.max),
        ];
        fields.into_iter().filter_map(|(k, v)| Some((k, v.as_deref().map(str::trim).filter(|s| !s.is_empty())?.to_owned()))).collect()
    }
}

/// A `yyyy-mm-dd` day's first instant (UTC), or the next day's for an end.
fn day_start(text: &str, next: bool) -> Option<chrono::DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let day = if next { day.succ_opt()? } else { day };
    Some(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?))
}

/// Query parameters, by name.
type Params = Vec<(&'static str, String)>;

/// The page's filters as the domain's, and as the export routes' parameters.
fn filter_of(locale: entities::Locale, given: &[(&'static str, String)]) -> Result<(OrderFilter, Params), DomainError> {
    let mut filter = OrderFilter::default();
    let mut export = Vec::new();
    for (key, value) in given {
        match *key {
            "code" => filter.code = Some(value.clone()),
            "product" => filter.product = Some(value.clone()),
            "customer" => filter.customer_name = Some(value.clone()),
            "status" => {
                let status = OrderStatus::from_name(value).ok_or_else(|| DomainError::validation("status", "unknown status"))?;
                filter.statuses = vec![status];
            }
            "from" => filter.created_from = Some(day_start(value, false).ok_or_else(|| DomainError::validation("from", "must be a date"))?),
            "to" => filter.created_to = Some(day_start(value, true).ok_or_else(|| DomainError::validation("to", "must be a date"))?),
            "min" => filter.min_total_cents = Some(super::company::cents(locale, "min", value)?),
            "max" => filter.max_total_cents = Some(super::company::cents(locale, "max", value)?),
            _ => continue,
        }
        let name = match *key {
            "customer" => "customerName",
            "from" => "createdFrom",
            "to" => "createdTo",
            "min" => "minTotal",
            "max" => "maxTotal",
            other => other,
        };
        let value = match *key {
            "from" => filter.created_from.map(|d| d.to_rfc3339()).unwrap_or_default(),
            "to" => filter.created_to.map(|d| d.to_rfc3339()).unwrap_or_default(),
            "min" => filter.min_total_cents.map(domain::money::format_cents).unwrap_or_default(),
            "max" => filter.max_total_cents.map(domain::money::format_cents).unwrap_or_default(),
            _ => value.clone(),
        };
        export.push((name, value));
    }
    Ok((filter, export))
}

/// `GET /orders`: the order list with the seed's filters and keyset pages;
/// staff also get the back office's filters and the export buttons.
pub async fn orders(State(state): State<AppState>, visitor: Visitor, uri: Uri, Query(query): Query<ListQuery>) -> Response {
    if !visitor.logged_in() {
        return to_login(&uri, query.company.as_deref());
    }
    let locale = visitor.locale;
    let given = query.given();
    let status = given.iter().find(|(k, _)| *k == "status").and_then(|(_, s)| OrderStatus::from_name(s));
    let refused = |err: DomainError| {
        let values = list_values(&visitor, &query, status, Vec::new(), 0, None, Value::from(()), Some(view::form_error(locale, &err)));
        render(&state, &visitor, StatusCode::BAD_REQUEST, "orders.html", values)
    };
    let (filter, export) = match filter_of(locale, &given) {
        Ok(found) => found,
        Err(err) => return refused(err),
    };
    // One past the bound tells "exactly 1,000" from "more than 1,000".
    let up_to = orders::COUNT_UP_TO + 1;
    let read = orders::list(&state.ctx, &state.ctx.db, &visitor.actor, &filter, OrderSort::default(), PAGE_SIZE, query.after.as_deref(), Lists::default(), Some(up_to))
        .await;
    let (page, total) = match read {
        Ok(page) => {
            let total = page.total.unwrap_or(0);
            (page, total)
        }
        Err(err @ DomainError::Validation { .. }) => return refused(err),
        Err(err) => return view::error_page(locale, &err),
    };
    let next = page.has_next_page.then(|| page.items.last().map(|o| orders::cursor_of(o, OrderSort::default().field))).flatten();
    let next_link = next.map(|cursor| {
        let mut params = given.clone();
        params.push(("after", cursor));
        format!("/orders?{}", serde_urlencoded::to_string(params).unwrap_or_default())
    });
    let exports = serde_urlencoded::to_string(&export).unwrap_or_default();
    let exports = context! {
        csv => format!("/exports/orders.csv?{exports}"), lines => format!("/exports/order-lines.csv?{exports}"), xml => format!("/exports/orders.xml?{exports}"),
    };
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|o| {
            let shown = orders::shown_status(&visitor.actor, o);
            context! {
                id => o.id, code => o.code, created => when(o.created_at), total => view::money(locale, o.total_cents),
                status => i18n::status(locale, shown), status_key => status_key(shown), customer => o.customer_name,
            }
        })
        .collect();
    let values = list_values(&visitor, &query, status, rows, total, next_link, exports, None);
    render(&state, &visitor, StatusCode::OK, "orders.html", values)
}

#[allow(clippy::too_many_arguments)]
fn list_values(
    visitor: &Visitor,
    query: &ListQuery,
    status: Option<OrderStatus>,
    rows: Vec<Value>,
    total: u64,
    next: Option<String>,
    exports: Value,
    error: Option<String>,
) -> Value {
    let staff = visitor.actor.audience() == domain::Audience::Staff;
    let statuses: Vec<Value> = OrderStatus::iter()
        .filter(|s| *s != OrderStatus::OnHold || staff)
        .map(|s| context! { key => status_key(s), label => i18n::status(visitor.locale, s), chosen => Some(s) == status })
        .collect();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    context! {
        rows => rows, total => total.min(orders::COUNT_UP_TO), more => total > orders::COUNT_UP_TO, next => next, error => error, statuses => statuses, staff => staff, exports => exports,
        code => text(&query.code), from => text(&query.from), to => text(&query.to), product => text(&query.product),
        customer => text(&query.customer), min => text(&query.min), max => text(&query.max),
        paged => query.after.is_some(), here => "/orders",
    }
}

/// A status as the URL and the page's styles name it (`IN_TRANSIT`).
pub(super) fn status_key(status: OrderStatus) -> String {
    status.as_str().to_owned()
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
pub(super) async fn order_values(state: &AppState, visitor: &Visitor, id: i32) -> Result<Value, DomainError> {
    let ctx = &state.ctx;
    let actor = &visitor.actor;
    let locale = visitor.locale;
    // The order and everything the page shows of it in one statement.
    let lists = Lists { items: true, shipments: true, invoices: true, history: true, destination: true, ..Lists::default() };
    let (order, nested) = orders::get_with(ctx, &ctx.db, actor, id, lists).await?;
    let destination = destination_of(&order, nested.destinations);
    let items = of_order(nested.items, order.id);
    let shipments = of_order(nested.shipments, order.id);
    let invoices = of_order(nested.invoices, order.id);
    let history = of_order(nested.history, order.id);
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
                hidden => !h.visible_to_customer, applied => h.applied, skip_reason => h.skip_reason, source => h.source,
                notified => h.notify_customer,
            }
        })
        .collect();
    Ok(context! {
        id => order.id, code => order.code, status => i18n::status(locale, shown), status_key => status_key(shown),
        created => when(order.created_at), total => view::money(locale, order.total_cents),
        window_from => order.delivery_start.map(when), window_to => order.delivery_end.map(when),
        destination => destination, items => items, shipments => shipments, invoices => invoices, history => history,
        here => format!("/orders/{}", order.id),
        staff => actor.audience() == domain::Audience::Staff,
        held => order.status == OrderStatus::OnHold,
        statuses => OrderStatus::iter().filter(|s| *s != OrderStatus::OnHold).map(|s| context! { key => status_key(s), label => i18n::status(locale, s) }).collect::<Vec<_>>(),
        source_id => order.source_id,
        customer_name => order.customer_name,
        error => Value::from(()),
    })
}

/// The delivery address in one line: the order's own, or its destination's.
fn destination_of(order: &order::Model, localities: Option<domain::orders::ById<locality::Model>>) -> Option<String> {
    let join = |parts: [&Option<String>; 6]| {
        let text: Vec<&str> = parts.iter().filter_map(|p| p.as_deref()).map(str::trim).filter(|p| !p.is_empty()).collect();
        (!text.is_empty()).then(|| text.join(", "))
    };
    if order.address_city.is_some() || order.address_street.is_some() {
        let o = order;
        return join([&o.address_street, &o.address_number, &o.address_district, &o.address_city, &o.address_state, &o.address_zip_code]);
    }
    let locality = order.destination_locality_id.and_then(|id| localities?.remove(&id))?;
    let l = &locality;
    join([&l.street, &l.number, &l.district, &l.city, &l.state, &l.zip_code])
}

/// One order's list from lists read by order id.
fn of_order<T>(list: Option<domain::orders::ById<Vec<T>>>, order_id: i32) -> Vec<T> {
    list.and_then(|mut l| l.remove(&order_id)).unwrap_or_default()
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
