//! Order input as received, and its validation into rows.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entities::{order, order_attribute, order_item, AttributeKind, Incoterm, OrderStatus};
use sea_orm::Set;

pub use crate::address::Address;
use crate::{validate, DomainError};

/// One order line.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    /// The line's id at the source; unique within the order.
    pub source_id: String,
    /// SKU / product id.
    pub product_id: String,
    /// Product name.
    pub name: String,
    /// Quantity, > 0.
    pub quantity: f64,
    /// Unit price in cents, ≥ 0.
    pub unit_price_cents: i64,
    /// Height, metres.
    pub height: Option<f64>,
    /// Length, metres.
    pub length: Option<f64>,
    /// Width, metres.
    pub width: Option<f64>,
    /// Weight, kilograms.
    pub weight: Option<f64>,
    /// Where the line ships from (a locality with role origin or both).
    pub origin_locality_id: Option<i32>,
    /// The origin by the company's own locality id (`sourceId`), as other
    /// systems name it; the ingestion pipeline resolves it to
    /// `origin_locality_id`.
    pub origin_source_id: Option<String>,
    /// The line's total in cents when the source states it (TOTVS R2 sends
    /// the value of all units): kept exact, where `quantity × unit price`
    /// would round.
    pub total_cents: Option<i64>,
    /// The source's other fields of the line (key → value).
    pub attributes: Vec<(String, String)>,
}

/// A new order.
#[derive(Debug, Clone, Default)]
pub struct NewOrder {
    /// The company's order id; unique per company.
    pub source_id: String,
    /// Human-facing code / number.
    pub code: String,
    /// Starting status (default `RECEIVED`; an invoiced import starts at `INVOICED`).
    pub status: Option<OrderStatus>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Destination locality (role destination or both).
    pub destination_locality_id: Option<i32>,
    /// The destination by the company's own locality id (`sourceId`), as other
    /// systems name it; the ingestion pipeline resolves it to
    /// `destination_locality_id`.
    pub destination_source_id: Option<String>,
    /// Alternative address, when there is no destination locality.
    pub address: Option<Address>,
    /// Pickup window start.
    pub pickup_start: Option<DateTime<Utc>>,
    /// Pickup window end.
    pub pickup_end: Option<DateTime<Utc>>,
    /// Delivery window start.
    pub delivery_start: Option<DateTime<Utc>>,
    /// Delivery window end.
    pub delivery_end: Option<DateTime<Utc>>,
    /// 0..=10, higher first (default 0).
    pub priority: Option<i32>,
    /// Incoterm.
    pub incoterm: Option<Incoterm>,
    /// Free text.
    pub reference: Option<String>,
    /// Free text.
    pub observations: Option<String>,
    /// Lines; at least one.
    pub items: Vec<NewItem>,
    /// Classifications (key → value).
    pub classifications: Vec<(String, String)>,
    /// Attributes (key → value).
    pub attributes: Vec<(String, String)>,
    /// A digest of the order as its source sent it whole. The ingestion
    /// pipeline recognises a creation that finds its order made from the
    /// same digest as a repeat, and skips it instead of refusing it.
    pub source_digest: Option<String>,
    /// The source's item ids are unique across the company's live orders
    /// (TOTVS R2): the pipeline refuses an item id another order holds.
    pub item_ids_unique_in_company: bool,
}

/// Changes to an order; `None` leaves a field as it is. Items, classifications
/// and attributes are replaced as a whole when given.
#[derive(Debug, Clone, Default)]
pub struct OrderPatch {
    /// Code.
    pub code: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Destination locality.
    pub destination_locality_id: Option<i32>,
    /// Alternative address.
    pub address: Option<Address>,
    /// Pickup window start.
    pub pickup_start: Option<DateTime<Utc>>,
    /// Pickup window end.
    pub pickup_end: Option<DateTime<Utc>>,
    /// Delivery window start.
    pub delivery_start: Option<DateTime<Utc>>,
    /// Delivery window end.
    pub delivery_end: Option<DateTime<Utc>>,
    /// Priority.
    pub priority: Option<i32>,
    /// Incoterm.
    pub incoterm: Option<Incoterm>,
    /// Reference.
    pub reference: Option<String>,
    /// Observations.
    pub observations: Option<String>,
    /// New lines.
    pub items: Option<Vec<NewItem>>,
    /// New classifications.
    pub classifications: Option<Vec<(String, String)>>,
    /// New attributes.
    pub attributes: Option<Vec<(String, String)>>,
}

/// A whole order as a patch that replaces every detail (not the status, which
/// only lifecycle commands change): what a source re-sending an order means.
impl From<NewOrder> for OrderPatch {
    fn from(new: NewOrder) -> Self {
        OrderPatch {
            code: Some(new.code),
            customer_name: new.customer_name,
            destination_locality_id: new.destination_locality_id,
            address: new.address,
            pickup_start: new.pickup_start,
            pickup_end: new.pickup_end,
            delivery_start: new.delivery_start,
            delivery_end: new.delivery_end,
            priority: new.priority,
            incoterm: new.incoterm,
            reference: new.reference,
            observations: new.observations,
            items: Some(new.items),
            classifications: Some(new.classifications),
            attributes: Some(new.attributes),
        }
    }
}

/// A fiscal invoice.
#[derive(Debug, Clone)]
pub struct Invoice {
    /// Number.
    pub number: String,
    /// NF-e access key (44 digits).
    pub key: Option<String>,
    /// Series.
    pub series: Option<String>,
    /// Value in cents (default: the order total).
    pub value_cents: Option<i64>,
    /// When it was issued (default: now).
    pub issued_at: Option<DateTime<Utc>>,
    /// Link to the document.
    pub url: Option<String>,
}

/// A shipment with its tracking code.
#[derive(Debug, Clone)]
pub struct Shipment {
    /// Delivery method / carrier service.
    pub carrier: String,
    /// Carrier's display name.
    pub title: Option<String>,
    /// Tracking number.
    pub tracking_number: String,
    /// Tracking page.
    pub tracking_url: Option<String>,
    /// When it left (default: now).
    pub shipped_at: Option<DateTime<Utc>>,
    /// The order's invoice it carries, by number; the invoice must have
    /// been recorded.
    pub invoice_number: Option<String>,
}

/// A carrier's report on the shipment of one of the order's invoices: its
/// timeline so far (which replaces the one kept) and whether it arrived.
#[derive(Debug, Clone, Default)]
pub struct TrackingUpdate {
    /// The invoice whose shipment it is about; that shipment must exist.
    pub invoice_number: String,
    /// It was delivered.
    pub delivered: bool,
    /// When, if the carrier said.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The timeline, in the carrier's order.
    pub events: Vec<TrackingEvent>,
}

/// One event of a shipment's timeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackingEvent {
    /// When it happened, if the carrier said.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Where: the city.
    pub city: Option<String>,
    /// Where: the state.
    pub state: Option<String>,
    /// What happened.
    pub description: String,
}

/// Events one report may carry: a real shipment has tens.
pub const MAX_TRACKING_EVENTS: usize = 500;

/// Checks the pickup/delivery windows (TOTVS R2 rules).
pub(crate) fn check_windows(
    pickup_start: Option<DateTime<Utc>>,
    pickup_end: Option<DateTime<Utc>>,
    delivery_start: Option<DateTime<Utc>>,
    delivery_end: Option<DateTime<Utc>>,
) -> Result<(), DomainError> {
    let bad = |field: &str, message: &str| Err(DomainError::validation(field, message));
    if let (Some(ps), Some(pe)) = (pickup_start, pickup_end) {
        if ps >= pe {
            return bad("pickupEnd", "must be after pickupStart");
        }
    }
    if let (Some(ps), Some(de)) = (pickup_start, delivery_end) {
        if ps >= de {
            return bad("deliveryEnd", "must be after pickupStart");
        }
    }
    if let (Some(pe), Some(de)) = (pickup_end, delivery_end) {
        if pe > de {
            return bad("pickupEnd", "must not be after deliveryEnd");
        }
    }
    if let (Some(ds), Some(de)) = (delivery_start, delivery_end) {
        if ds > de {
            return bad("deliveryStart", "must not be after deliveryEnd");
        }
    }
    Ok(())
}

pub(crate) fn check_priority(priority: Option<i32>) -> Result<i32, DomainError> {
    match priority.unwrap_or(0) {
        p @ 0..=10 => Ok(p),
        _ => Err(DomainError::validation("priority", "must be between 0 and 10")),
    }
}

/// Validates an alternative address into the order's address columns.
pub(crate) fn apply_address(model: &mut order::ActiveModel, address: Option<Address>) -> Result<(), DomainError> {
    let a = address.unwrap_or_default().cleaned("address.")?;
    model.address_street = Set(a.street);
    model.address_number = Set(a.number);
    model.address_complement = Set(a.complement);
    model.address_district = Set(a.district);
    model.address_city = Set(a.city);
    model.address_state = Set(a.state);
    model.address_country = Set(a.country);
    model.address_zip_code = Set(a.zip_code);
    model.address_latitude = Set(a.latitude);
    model.address_longitude = Set(a.longitude);
    Ok(())
}

/// Validates the lines; returns rows without `order_id` and the total in cents.
pub(crate) fn validate_items(items: Vec<NewItem>) -> Result<(Vec<order_item::ActiveModel>, i64), DomainError> {
    if items.is_empty() {
        return Err(DomainError::validation("items", "an order needs at least one item"));
    }
    let mut seen = HashSet::new();
    let mut total: i64 = 0;
    let mut rows = Vec::with_capacity(items.len());
    for (n, item) in items.into_iter().enumerate() {
        // Checked by the field's own name; its path is written on an error only.
        let at = |err: DomainError| err.under(&format!("items[{n}]."));
        let wrong = |name: &str, message: &str| at(DomainError::validation(name, message));
        let source_id = validate::text("sourceId", &item.source_id, 30).map_err(at)?;
        if !seen.insert(source_id.clone()) {
            return Err(wrong("sourceId", "repeats another item of this order"));
        }
        if !(item.quantity.is_finite() && item.quantity > 0.0) {
            return Err(wrong("quantity", "must be greater than zero"));
        }
        if item.unit_price_cents < 0 {
            return Err(wrong("unitPrice", "must not be negative"));
        }
        for (name, value) in [("height", item.height), ("length", item.length), ("width", item.width), ("weight", item.weight)] {
            if value.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                return Err(wrong(name, "must be greater than zero"));
            }
        }
        let line = match item.total_cents {
            Some(cents) if !(0..=MAX_LINE_CENTS).contains(&cents) => return Err(wrong("total", "must be between zero and 10^15 cents")),
            Some(cents) => cents,
            None => {
                let line = (item.quantity * item.unit_price_cents as f64).round();
                if !line.is_finite() || line > MAX_LINE_CENTS as f64 {
                    return Err(wrong("quantity", "line total is too large"));
                }
                line as i64
            }
        };
        total = total.saturating_add(line);
        let attributes = match item.attributes.is_empty() {
            true => None,
            false => Some(item_attributes(item.attributes).map_err(at)?),
        };
        rows.push(order_item::ActiveModel {
            source_id: Set(source_id),
            product_id: Set(validate::text("productId", &item.product_id, 30).map_err(at)?),
            name: Set(validate::text("name", &item.name, 200).map_err(at)?),
            quantity: Set(item.quantity),
            unit_price_cents: Set(item.unit_price_cents),
            height: Set(item.height),
            length: Set(item.length),
            width: Set(item.width),
            weight: Set(item.weight),
            origin_locality_id: Set(item.origin_locality_id),
            total_cents: Set(item.total_cents),
            attributes: Set(attributes),
            ..Default::default()
        });
    }
    Ok((rows, total))
}

/// Largest line total, in cents.
const MAX_LINE_CENTS: i64 = 1_000_000_000_000_000;

/// A line's attributes as stored: a JSON object of text, keys unique.
fn item_attributes(pairs: Vec<(String, String)>) -> Result<String, DomainError> {
    let mut object = serde_json::Map::with_capacity(pairs.len());
    for (n, (key, value)) in pairs.into_iter().enumerate() {
        let at = |err: DomainError| err.under(&format!("attributes[{n}]."));
        let key = validate::text("key", &key, 60).map_err(at)?;
        let value = validate::text("value", &value, 500).map_err(at)?;
        if object.insert(key, serde_json::Value::String(value)).is_some() {
            return Err(DomainError::validation(format!("attributes[{n}].key"), "appears twice"));
        }
    }
    if object.len() > 50 {
        return Err(DomainError::validation("attributes", "at most 50 per line"));
    }
    Ok(serde_json::Value::Object(object).to_string())
}

/// A stored line's attributes (see [`item_attributes`]), in key order.
pub fn stored_item_attributes(stored: Option<&str>) -> Vec<(String, String)> {
    let Some(Ok(serde_json::Value::Object(object))) = stored.map(serde_json::from_str::<serde_json::Value>) else { return vec![] };
    object.into_iter().map(|(key, value)| (key, value.as_str().unwrap_or_default().to_owned())).collect()
}

/// Validates classifications and attributes into rows without `order_id`.
pub(crate) fn validate_pairs(
    classifications: Vec<(String, String)>,
    attributes: Vec<(String, String)>,
) -> Result<Vec<order_attribute::ActiveModel>, DomainError> {
    let mut rows = Vec::new();
    for (kind, field, pairs) in [
        (AttributeKind::Classification, "classifications", classifications),
        (AttributeKind::Attribute, "attributes", attributes),
    ] {
        let mut seen = HashSet::new();
        for (n, (key, value)) in pairs.into_iter().enumerate() {
            let key = validate::text(&format!("{field}[{n}].key"), &key, 60)?;
            if !seen.insert(key.clone()) {
                return Err(DomainError::validation(format!("{field}[{n}].key"), "appears twice"));
            }
            let value = validate::text(&format!("{field}[{n}].value"), &value, 500)?;
            rows.push(order_attribute::ActiveModel { kind: Set(kind), key: Set(key), value: Set(value), ..Default::default() });
        }
    }
    Ok(rows)
}

/// Validates an invoice.
pub(crate) fn validate_invoice(invoice: &Invoice) -> Result<(), DomainError> {
    validate::text("invoice.number", &invoice.number, 30)?;
    if let Some(key) = &invoice.key {
        if key.len() != 44 || !key.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::validation("invoice.key", "must be the 44-digit NF-e access key"));
        }
    }
    validate::optional_text("invoice.series", invoice.series.as_deref(), 10)?;
    web_link("invoice.url", invoice.url.as_deref())?;
    if invoice.value_cents.is_some_and(|v| v < 0) {
        return Err(DomainError::validation("invoice.value", "must not be negative"));
    }
    Ok(())
}

/// Validates a shipment.
pub(crate) fn validate_shipment(shipment: &Shipment) -> Result<(), DomainError> {
    validate::text("shipment.carrier", &shipment.carrier, 100)?;
    validate::optional_text("shipment.title", shipment.title.as_deref(), 100)?;
    validate::text("shipment.trackingNumber", &shipment.tracking_number, 100)?;
    validate::optional_text("shipment.invoiceNumber", shipment.invoice_number.as_deref(), 30)?;
    web_link("shipment.trackingUrl", shipment.tracking_url.as_deref())
}

/// Validates a carrier's report.
pub(crate) fn validate_tracking(update: &TrackingUpdate) -> Result<(), DomainError> {
    validate::text("tracking.invoiceNumber", &update.invoice_number, 30)?;
    if update.events.len() > MAX_TRACKING_EVENTS {
        return Err(DomainError::validation("tracking.events", format!("at most {MAX_TRACKING_EVENTS} events")));
    }
    for (n, event) in update.events.iter().enumerate() {
        validate::text(&format!("tracking.events[{n}].description"), &event.description, 500)?;
        validate::optional_text(&format!("tracking.events[{n}].city"), event.city.as_deref(), 100)?;
        validate::optional_text(&format!("tracking.events[{n}].state"), event.state.as_deref(), 100)?;
    }
    Ok(())
}

/// An optional link customers open (from mails and the portal): at most 500
/// characters, and http(s) only, never `javascript:` or another scheme.
fn web_link(field: &str, url: Option<&str>) -> Result<(), DomainError> {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else { return Ok(()) };
    validate::text(field, url, 500)?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(DomainError::validation(field, "must be an http(s) URL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn item(source_id: &str) -> NewItem {
        NewItem {
            source_id: source_id.into(),
            product_id: "SKU-1".into(),
            name: "Chair".into(),
            quantity: 2.0,
            unit_price_cents: 1_050,
            height: None,
            length: None,
            width: None,
            weight: Some(1.0),
            ..NewItem::default()
        }
    }

    #[test]
    fn windows_follow_the_r2_rules() {
        let t = Utc::now();
        let h = Duration::hours(1);
        assert!(check_windows(Some(t), Some(t + h), Some(t + h), Some(t + h * 2)).is_ok());
        assert!(check_windows(Some(t), Some(t), None, None).is_err(), "pickup end must be after start");
        assert!(check_windows(Some(t + h), None, None, Some(t)).is_err(), "pickup start before delivery end");
        assert!(check_windows(None, Some(t + h * 3), None, Some(t + h)).is_err(), "pickup end after delivery end");
        assert!(check_windows(None, None, Some(t + h), Some(t)).is_err(), "delivery start after delivery end");
    }

    #[test]
    fn a_stated_line_total_is_kept_within_ten_to_the_fifteen_cents() {
        let stated = |cents: i64| NewItem { total_cents: Some(cents), ..item("1") };
        assert!(validate_items(vec![stated(MAX_LINE_CENTS)]).is_ok());
        for cents in [MAX_LINE_CENTS + 1, -1] {
            match validate_items(vec![stated(cents)]) {
                Err(DomainError::Validation { field, .. }) => assert_eq!(field, "items[0].total", "{cents}"),
                other => panic!("{cents}: {other:?}"),
            }
        }
    }

    #[test]
    fn items_are_checked_and_totalled() {
        let (rows, total) = validate_items(vec![item("1"), item("2")]).unwrap_or_default();
        assert_eq!((rows.len(), total), (2, 4_200));
        assert!(validate_items(vec![]).is_err());
        assert!(validate_items(vec![item("1"), item("1")]).is_err());
        assert!(validate_items(vec![NewItem { quantity: 0.0, ..item("1") }]).is_err());
        assert!(validate_items(vec![NewItem { unit_price_cents: -1, ..item("1") }]).is_err());
        assert!(validate_items(vec![NewItem { weight: Some(-2.0), ..item("1") }]).is_err());
    }

    #[test]
    fn priority_is_zero_to_ten() {
        assert_eq!(check_priority(None).ok(), Some(0));
        assert!(check_priority(Some(11)).is_err());
        assert!(check_priority(Some(-1)).is_err());
    }

    #[test]
    fn an_invoice_key_has_44_digits() {
        let invoice = Invoice { number: "1".into(), key: Some("1".repeat(44)), series: None, value_cents: None, issued_at: None, url: None };
        assert!(validate_invoice(&invoice).is_ok());
        assert!(validate_invoice(&Invoice { key: Some("12".into()), ..invoice.clone() }).is_err());
    }

    #[test]
    fn an_invoice_link_is_http_or_https() {
        let with = |url: &str| Invoice { number: "1".into(), key: None, series: None, value_cents: None, issued_at: None, url: Some(url.into()) };
        assert!(validate_invoice(&with("https://nfe.example/1")).is_ok());
        assert!(validate_invoice(&with("http://nfe.example/1")).is_ok());
        assert!(validate_invoice(&with("")).is_ok());
        assert!(validate_invoice(&with("javascript:alert(1)")).is_err());
        assert!(validate_invoice(&with("ftp://nfe.example/1")).is_err());
    }
}
