//! Nuvemshop / Tiendanube (`POST /integrations/nuvemshop/{company}`).
//!
//! Nuvemshop's webhooks carry ids only: `{"store_id", "event", "id"}`, and
//! its integrators then `GET /v1/{store_id}/orders/{id}`. Rastro cannot call
//! Nuvemshop's API (it holds no store's API token, and this platform reaches
//! no store), so the order comes in the same call: the notification with
//! the order as Nuvemshop's API returns it under `order`, signed over the
//! whole body with `X-Linkedstore-HMAC-SHA256` (what a relay that fetched
//! the order sends). An id-only notification is still read: its `event`
//! alone says a stage (`order/paid`, `order/packed`, `order/fulfilled`,
//! `order/cancelled`), through the company's mappings (`event:<name>`); it
//! cannot create an order.
//!
//! With the order: it is created when unknown (customer as a destination,
//! lines), then its `payment_status`, `shipping_status` and `status` reach
//! their stages (platform `NUVEMSHOP`, codes `payment_status:paid`, …), and a
//! `shipping_tracking_number` is a shipment. Nuvemshop has no event id: a
//! change is identified by event, order and `updated_at`, and dated by it.

use chrono::{DateTime, Utc};
use domain::{
    address::Address,
    ingest::{Command, Context, ItemError, Record, WireError},
    orders::{EventMeta, NewItem, NewOrder, Shipment},
    validate::given,
};
use entities::{OrderStatus, WebhookPlatform};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{
    creation::{self, Customer},
    generic::event_id,
    mapping,
};

/// Lines one order may carry.
pub const MAX_PRODUCTS: usize = 1_000;

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        other => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
    }
}

/// A notification, with the order when a relay fetched it.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    /// The store.
    #[serde(default)]
    pub store_id: Option<Value>,
    /// `order/paid`, `order/fulfilled`, …
    pub event: String,
    /// The order's id: its source id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// The order, as `GET /v1/{store_id}/orders/{id}` returns it.
    #[serde(default)]
    pub order: Option<Order>,
}

/// The parts of an order read here.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    /// The store's order number: the code.
    #[serde(default)]
    pub number: Option<Value>,
    /// Last changed at (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// open, closed, cancelled.
    #[serde(default)]
    pub status: Option<String>,
    /// pending, authorized, paid, abandoned, refunded, voided.
    #[serde(default)]
    pub payment_status: Option<String>,
    /// unpacked, unshipped, shipped, fulfilled, …
    #[serde(default)]
    pub shipping_status: Option<String>,
    /// The carrier's tracking number.
    #[serde(default)]
    pub shipping_tracking_number: Option<String>,
    /// Its tracking page.
    #[serde(default)]
    pub shipping_tracking_url: Option<String>,
    /// The carrier or shipping option's name.
    #[serde(default)]
    pub shipping_option: Option<Value>,
    /// When it was shipped.
    #[serde(default)]
    pub shipped_at: Option<String>,
    /// customer, fraud, inventory, other.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// The customer's e-mail.
    #[serde(default)]
    pub contact_email: Option<String>,
    /// The customer's name.
    #[serde(default)]
    pub contact_name: Option<String>,
    /// The customer's phone.
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// The merchant's note.
    #[serde(default)]
    pub owner_note: Option<String>,
    /// Where it goes.
    #[serde(default)]
    pub shipping_address: Option<NuvemAddress>,
    /// Its lines.
    #[serde(default)]
    pub products: Vec<Product>,
}

/// A shipping address.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NuvemAddress {
    /// Who receives it.
    #[serde(default)]
    pub name: Option<String>,
    /// Street.
    #[serde(default)]
    pub address: Option<String>,
    /// Number.
    #[serde(default)]
    pub number: Option<String>,
    /// Complement.
    #[serde(default)]
    pub floor: Option<String>,
    /// District.
    #[serde(default)]
    pub locality: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State.
    #[serde(default)]
    pub province: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub zipcode: Option<String>,
    /// ISO alpha-2.
    #[serde(default)]
    pub country: Option<String>,
}

/// An order line.
#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    /// The line's id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// Unit price, decimal text (`"99.90"`).
    #[serde(default)]
    pub price: Option<String>,
    /// Units (a number, or its text).
    #[serde(default)]
    pub quantity: Option<Value>,
}

fn text(value: &Option<Value>) -> Option<String> {
    match value.as_ref()? {
        Value::String(s) => given(Some(s)),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("name").and_then(Value::as_str).and_then(|s| given(Some(s))),
        _ => None,
    }
}

/// Reads a call into its one record.
pub fn read(body: &[u8], context: &Context) -> Result<Record, WireError> {
    let digest = domain::ingest::digest16(body);
    let notification: Notification =
        serde_json::from_slice(body).map_err(|e| WireError::malformed(format!("not a Nuvemshop notification: {e}")))?;
    if notification.order.as_ref().is_some_and(|o| o.products.len() > MAX_PRODUCTS) {
        return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_PRODUCTS} products") });
    }
    let event = notification.event.trim();
    Ok(match &notification.order {
        None => id_only(&notification.id, event, context),
        Some(order) => order_record(&notification.id, &digest, order, context),
    })
}

fn meta(base: &str, suffix: &str, comment: String, occurred_at: Option<DateTime<Utc>>) -> EventMeta {
    EventMeta {
        comment: Some(comment),
        notify_customer: true,
        visible_to_customer: true,
        occurred_at,
        event_id: Some(event_id(base, suffix)),
        source: "nuvemshop".to_owned(),
    }
}

/// A notification without its order: only its event is known.
fn id_only(order_id: &str, event: &str, context: &Context) -> Record {
    match mapping::resolve(context, WebhookPlatform::Nuvemshop, &format!("event:{event}"), "event") {
        Ok(Some(to)) => {
            let command = Command::Reach { to, meta: meta(&format!("nuvemshop:{event}:{order_id}"), "", format!("Nuvemshop: {event}"), None) };
            Record::new(order_id, vec![command])
        }
        Ok(None) => Record::skipped(
            order_id,
            format!("{event} says nothing to track without the order; send it under \"order\" (Rastro cannot fetch it from Nuvemshop)"),
        ),
        Err(error) => Record::refused(order_id, vec![error]),
    }
}

fn items(order: &Order) -> Result<Vec<NewItem>, ItemError> {
    order
        .products
        .iter()
        .enumerate()
        .map(|(n, product)| {
            let invalid = |field: &str, what: String| ItemError {
                code: "VALIDATION",
                field: Some(format!("order.products[{n}].{field}")),
                message: format!("order.products[{n}].{field}: {what}"),
            };
            let unit = match given(product.price.as_deref()) {
                None => 0,
                Some(price) => domain::money::parse_cents(&price).ok_or_else(|| invalid("price", format!("{price:?} is not a decimal amount")))?,
            };
            let quantity = match &product.quantity {
                None | Some(Value::Null) => 1.0,
                Some(Value::Number(n)) => n.as_f64().unwrap_or(1.0),
                Some(Value::String(s)) => s.trim().parse().map_err(|_| invalid("quantity", format!("{s:?} is not a number")))?,
                Some(other) => return Err(invalid("quantity", format!("{other} is not a number"))),
            };
            let sku = given(product.sku.as_deref());
            Ok(NewItem {
                source_id: product.id.clone(),
                product_id: sku.clone().unwrap_or_else(|| product.id.clone()),
                name: given(product.name.as_deref()).or(sku).unwrap_or_else(|| product.id.clone()),
                quantity,
                unit_price_cents: unit,
                ..NewItem::default()
            })
        })
        .collect()
}

fn creation(order_id: &str, order: &Order) -> Result<Vec<Command>, ItemError> {
    let sent = order.shipping_address.clone().unwrap_or_default();
    let address = Address {
        street: given(sent.address.as_deref()),
        number: given(sent.number.as_deref()),
        complement: given(sent.floor.as_deref()),
        district: given(sent.locality.as_deref()),
        city: given(sent.city.as_deref()),
        state: given(sent.province.as_deref()),
        country: given(sent.country.as_deref()).map(|c| c.to_uppercase()),
        zip_code: given(sent.zipcode.as_deref()),
        ..Address::default()
    };
    let name = given(sent.name.as_deref()).or_else(|| given(order.contact_name.as_deref()));
    let new = NewOrder {
        source_id: order_id.to_owned(),
        code: text(&order.number).unwrap_or_else(|| order_id.to_owned()),
        customer_name: name.clone(),
        observations: given(order.owner_note.as_deref()),
        items: items(order)?,
        attributes: vec![("nuvemshop.id".to_owned(), order_id.to_owned())],
        ..NewOrder::default()
    };
    let customer = Customer { email: given(order.contact_email.as_deref()), name, phone: given(order.contact_phone.as_deref()), address };
    Ok(creation::commands("nuvemshop", new, customer))
}

/// The changes of an order as a relay sent it, identified by its
/// `updated_at`, else by the digest of the call (never by the event alone:
/// two states would collide).
fn order_record(order_id: &str, digest: &str, order: &Order, context: &Context) -> Record {
    let at = instant(order.updated_at.as_deref());
    let base = format!("nuvemshop:{order_id}:{}", given(order.updated_at.as_deref()).unwrap_or_else(|| digest.to_owned()));
    let commands = creation(order_id, order).and_then(|mut commands| {
        let mut stages = Vec::new();
        for (field, value) in [("payment_status", &order.payment_status), ("shipping_status", &order.shipping_status), ("status", &order.status)] {
            let Some(code) = given(value.as_deref()) else { continue };
            if let Some(to) = mapping::resolve(context, WebhookPlatform::Nuvemshop, &format!("{field}:{code}"), field)? {
                let comment = match (field, given(order.cancel_reason.as_deref())) {
                    ("status", Some(reason)) if to == OrderStatus::Cancelled => format!("Cancelled in Nuvemshop ({reason})"),
                    _ => format!("Nuvemshop: {field} {code}"),
                };
                stages.push(Command::Reach { to, meta: meta(&base, &format!(":{field}"), comment, at) });
            }
        }
        if let Some(number) = given(order.shipping_tracking_number.as_deref()) {
            let carrier = text(&order.shipping_option).unwrap_or_else(|| "Nuvemshop".to_owned());
            let mut ship = meta(&base, "", format!("Shipped by {carrier}: {number}"), at);
            ship.event_id = Some(event_id(&format!("nuvemshop:shipment:{order_id}:{number}"), ""));
            let shipment = Shipment {
                carrier,
                title: None,
                tracking_number: number,
                tracking_url: given(order.shipping_tracking_url.as_deref()),
                shipped_at: instant(order.shipped_at.as_deref()),
                invoice_number: None,
            };
            commands.push(Command::Ship { shipment, meta: ship });
        }
        stages.sort_by_key(mapping::finality);
        commands.extend(stages);
        Ok(commands)
    });
    match commands {
        Ok(commands) => Record::new(order_id, commands),
        Err(error) => Record::refused(order_id, vec![error]),
    }
}

/// Nuvemshop's dates: `2026-12-02T10:00:00+0000` (its API), or RFC 3339.
fn instant(text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?.trim();
    DateTime::parse_from_rfc3339(text).or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")).ok().map(|d| d.with_timezone(&Utc))
}
