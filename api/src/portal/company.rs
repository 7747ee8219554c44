//! The company area (`/admin`, a company's staff; support sees every
//! company's orders there too): the live dashboard, and
//! every lifecycle action on the order page (status change with the *notify
//! customer* and *visible to customer* flags, comment, hold and release,
//! cancel, invoice, shipment, delivery, refund). Each action is the domain
//! call GraphQL's mutation makes.

use axum::{
    extract::{Path, State},
    http::{StatusCode, Uri},
    response::Response,
    Form,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{
    money, validate,
    orders::{self, dashboard, EventMeta},
    DomainError,
};
use entities::{Locale, OrderStatus};
use minijinja::{context, Value};
use sea_orm::Iterable;
use serde::Deserialize;

use super::{
    account::Area,
    customer::{order_values, status_key},
    i18n,
    session::{self, Visitor},
    support::login_first,
    view::{self, render, when},
};
use crate::state::AppState;

/// Changes listed on the dashboard.
const LATEST: u64 = 15;

/// `GET /admin`: orders per status and the latest changes, live.
pub async fn dashboard(State(state): State<AppState>, visitor: Visitor, uri: Uri) -> Response {
    if let Some(login) = login_first(&visitor, Some(&uri), Area::Company) {
        return login;
    }
    match dashboard_values(&state, &visitor).await {
        Ok(values) => render(&state, &visitor, StatusCode::OK, "dashboard.html", values),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// `GET /admin/live`: the dashboard's changing part.
pub async fn dashboard_live(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.logged_in() {
        return view::message(visitor.locale, StatusCode::UNAUTHORIZED, "login_title", "not_found");
    }
    match dashboard_values(&state, &visitor).await {
        Ok(values) => render(&state, &visitor, StatusCode::OK, "dashboard_live.html", values),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

async fn dashboard_values(state: &AppState, visitor: &Visitor) -> Result<Value, DomainError> {
    let locale = visitor.locale;
    let (counts, latest) = tokio::try_join!(
        dashboard::status_counts(&state.ctx, &visitor.actor),
        dashboard::latest_changes(&state.ctx, &visitor.actor, LATEST)
    )?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    // Every status, in the machine's order, so the tiles never move.
    let tiles: Vec<Value> = OrderStatus::iter()
        .map(|s| {
            let n = counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
            context! { key => status_key(s), label => i18n::status(locale, s), count => n }
        })
        .collect();
    let latest: Vec<Value> = latest
        .iter()
        .map(|c| {
            context! {
                order_id => c.entry.order_id, code => c.order_code, status => i18n::status(locale, c.entry.to_status),
                status_key => status_key(c.entry.to_status), changed => c.entry.from_status != Some(c.entry.to_status),
                comment => c.entry.comment, at => when(c.entry.occurred_at), source => c.entry.source,
                hidden => !c.entry.visible_to_customer,
            }
        })
        .collect();
    Ok(context! { tiles => tiles, total => total, latest => latest, here => "/admin" })
}

/// Every field any action's form may send.
#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    status: Option<String>,
    comment: Option<String>,
    #[serde(default)]
    notify: Option<String>,
    #[serde(default)]
    visible: Option<String>,
    number: Option<String>,
    series: Option<String>,
    key: Option<String>,
    value: Option<String>,
    issued: Option<String>,
    url: Option<String>,
    carrier: Option<String>,
    title: Option<String>,
    tracking: Option<String>,
    amount: Option<String>,
    confirm: Option<String>,
}

/// The lifecycle actions of the order page.
#[derive(Debug, Clone, Copy)]
enum Act {
    Status,
    Comment,
    Hold,
    Release,
    Cancel,
    Invoice,
    Shipment,
    Delivered,
    Refund,
    /// LGPD: erase the order's personal data.
    Anonymize,
}

impl Act {
    fn parse(name: &str) -> Option<Act> {
        Some(match name {
            "status" => Act::Status,
            "comment" => Act::Comment,
            "hold" => Act::Hold,
            "release" => Act::Release,
            "cancel" => Act::Cancel,
            "invoice" => Act::Invoice,
            "shipment" => Act::Shipment,
            "delivered" => Act::Delivered,
            "refund" => Act::Refund,
            "anonymize" => Act::Anonymize,
            _ => return None,
        })
    }
}

/// `POST /orders/{id}/actions/{action}`: one lifecycle action, then back to
/// the order page; a refusal shows the page again with the domain's reason.
pub async fn act(State(state): State<AppState>, visitor: Visitor, Path((id, action)): Path<(String, String)>, Form(form): Form<ActionForm>) -> Response {
    if let Some(login) = login_first(&visitor, None, Area::Company) {
        return login;
    }
    let (Ok(order_id), Some(act)) = (id.parse::<i32>(), Act::parse(&action)) else {
        return view::error_page(visitor.locale, &DomainError::not_found("order", id));
    };
    if !visitor.csrf_matches(&state, &form.csrf) {
        return order_again(&state, &visitor, order_id, StatusCode::FORBIDDEN, i18n::text(visitor.locale, "bad_form").to_owned()).await;
    }
    match perform(&state, &visitor, order_id, act, form).await {
        Ok(()) => session::redirect(&format!("/orders/{order_id}"), &[]),
        Err(err @ (DomainError::Validation { .. } | DomainError::Conflict(_) | DomainError::InvalidTransition { .. })) => {
            order_again(&state, &visitor, order_id, StatusCode::BAD_REQUEST, view::form_error(visitor.locale, &err)).await
        }
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

async fn order_again(state: &AppState, visitor: &Visitor, order_id: i32, status: StatusCode, error: String) -> Response {
    match order_values(state, visitor, order_id).await {
        Ok(values) => render(state, visitor, status, "order.html", context! { error => error, ..values }),
        Err(err) => view::error_page(visitor.locale, &err),
    }
}

/// A checkbox: present (any value) means ticked.
fn ticked(value: &Option<String>) -> bool {
    value.is_some()
}

async fn perform(state: &AppState, visitor: &Visitor, order_id: i32, act: Act, form: ActionForm) -> Result<(), DomainError> {
    let (ctx, actor) = (&state.ctx, &visitor.actor);
    let locale = visitor.locale;
    let meta = EventMeta { comment: validate::given(form.comment.as_deref()), notify_customer: ticked(&form.notify), visible_to_customer: ticked(&form.visible), ..EventMeta::default() };
    match act {
        Act::Status => {
            let wanted = validate::given(form.status.as_deref()).unwrap_or_default();
            let to = OrderStatus::from_name(&wanted).ok_or_else(|| DomainError::validation("status", "choose a status"))?;
            orders::change_status(ctx, actor, order_id, to, meta).await?;
        }
        Act::Comment => {
            orders::add_comment(ctx, actor, order_id, meta).await?;
        }
        Act::Hold => {
            orders::hold(ctx, actor, order_id, meta).await?;
        }
        Act::Release => {
            orders::release(ctx, actor, order_id, meta).await?;
        }
        Act::Cancel => {
            orders::cancel(ctx, actor, order_id, meta).await?;
        }
        Act::Invoice => {
            let invoice = orders::Invoice {
                number: validate::given(form.number.as_deref()).ok_or_else(|| DomainError::validation("invoice.number", "is required"))?,
                key: validate::given(form.key.as_deref()),
                series: validate::given(form.series.as_deref()),
                value_cents: validate::given(form.value.as_deref()).map(|v| cents(locale, "invoice.value", &v)).transpose()?,
                issued_at: validate::given(form.issued.as_deref()).map(|d| day("invoice.issuedAt", &d)).transpose()?,
                url: validate::given(form.url.as_deref()),
            };
            orders::invoice(ctx, actor, order_id, invoice, meta).await?;
        }
        Act::Shipment => {
            let shipment = orders::Shipment {
                carrier: validate::given(form.carrier.as_deref()).ok_or_else(|| DomainError::validation("shipment.carrier", "is required"))?,
                title: validate::given(form.title.as_deref()),
                tracking_number: validate::given(form.tracking.as_deref()).ok_or_else(|| DomainError::validation("shipment.trackingNumber", "is required"))?,
                tracking_url: validate::given(form.url.as_deref()),
                shipped_at: None,
                invoice_number: validate::given(form.number.as_deref()),
            };
            orders::add_shipment(ctx, actor, order_id, shipment, meta).await?;
        }
        Act::Delivered => {
            orders::mark_delivered(ctx, actor, order_id, meta).await?;
        }
        Act::Anonymize => {
            if form.confirm.is_none() {
                return Err(DomainError::validation("confirm", "tick the confirmation: erasing cannot be undone"));
            }
            domain::privacy::anonymize_order(ctx, actor, order_id).await?;
        }
        Act::Refund => {
            let amount = validate::given(form.amount.as_deref()).ok_or_else(|| DomainError::validation("amount", "is required"))?;
            orders::refund(ctx, actor, order_id, cents(locale, "amount", &amount)?, meta).await?;
        }
    }
    Ok(())
}

/// An amount as the visitor's language writes it: `1.299,90` or `1299,90`
/// in Portuguese, `1,299.90` or `1299.90` in English. The other language's
/// mark is taken as the decimal point only where it cannot be a thousands
/// separator (one mark, one or two digits after it: `12.99`). Anything else
/// (`1,2,3`, `12.9999`, `1..2`) is refused, never guessed.
pub(super) fn cents(locale: Locale, field: &str, text: &str) -> Result<i64, DomainError> {
    let text = text.trim();
    let (point, group) = match locale {
        Locale::PtBr => (',', '.'),
        Locale::En => ('.', ','),
    };
    let refused = || DomainError::validation(field, format!("{text:?} is not an amount like {}", if point == ',' { "1.299,90" } else { "1,299.90" }));
    let plain = strict_amount(text, point, group).or_else(|| {
        // `12.99` typed in Portuguese (or `12,99` in English): one mark of the
        // other kind, followed by one or two digits, is a decimal point.
        let (whole, fraction) = text.split_once(group)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (digits(whole) && digits(fraction) && fraction.len() <= 2).then(|| format!("{whole}.{fraction}"))
    });
    plain.and_then(|p| money::parse_cents(&p)).ok_or_else(refused)
}

/// `text` with `point` as the decimal mark and `group` only between groups of
/// three digits, as plain `1299.90`; `None` when it is not such a number.
fn strict_amount(text: &str, point: char, group: char) -> Option<String> {
    let (whole, fraction) = match text.split_once(point) {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut groups = whole.split(group);
    let first = groups.next()?;
    let rest: Vec<&str> = groups.collect();
    let grouped_ok = digits(first) && (rest.is_empty() || (first.len() <= 3 && rest.iter().all(|g| g.len() == 3 && digits(g))));
    let fraction_ok = fraction.is_none_or(|f| digits(f) && f.len() <= 2);
    (grouped_ok && fraction_ok).then(|| {
        let whole: String = whole.chars().filter(|c| *c != group).collect();
        fraction.map_or(whole.clone(), |f| format!("{whole}.{f}"))
    })
}

/// A date typed as `yyyy-mm-dd`, at midnight UTC.
fn day(field: &str, text: &str) -> Result<DateTime<Utc>, DomainError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d))
        .ok_or_else(|| DomainError::validation(field, format!("{text:?} is not a date like 2026-12-05")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_the_visitors_language_writes_them() {
        let pt = |t: &str| cents(Locale::PtBr, "a", t).ok();
        let en = |t: &str| cents(Locale::En, "a", t).ok();
        assert_eq!(pt("1299,90"), Some(129_990));
        assert_eq!(pt("1.299,90"), Some(129_990), "as the page shows it");
        assert_eq!(pt("1.299"), Some(129_900), "three digits after a point are thousands");
        assert_eq!(pt("12.99"), Some(1_299), "a point before two digits is a decimal point");
        assert_eq!(pt("10,5"), Some(1_050));
        assert_eq!(en("1,299.90"), Some(129_990));
        assert_eq!(en("1299.90"), Some(129_990));
        assert_eq!(en("1,500"), Some(150_000));
        assert_eq!(en("12,99"), Some(1_299));
        for bad in ["abc", "1,2,3", "1..2", "12.9999", "1.2999", "1.29.9", "", ",5", "1.2345,00", "12,999,00"] {
            assert_eq!(pt(bad), None, "{bad}");
        }
        assert_eq!(en("12.999"), None);
    }

    #[test]
    fn every_action_has_a_name() {
        for name in ["status", "comment", "hold", "release", "cancel", "invoice", "shipment", "delivered", "refund", "anonymize"] {
            assert!(Act::parse(name).is_some(), "{name}");
        }
        assert!(Act::parse("delete").is_none());
    }
}
