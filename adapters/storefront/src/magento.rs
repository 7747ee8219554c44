//! Magento 2 / Adobe Commerce (`POST /integrations/magento/{company}`): an
//! order as Adobe Commerce webhooks send it (`{"data": {"order": {…}}}`), as
//! Adobe I/O Events do (`{"data": {"value": {…}}}`) or bare, as
//! `GET /V1/orders/{id}` returns it; or a shipment track the same three ways.
//!
//! - The order's `entity_id` is its source id, `increment_id` its code.
//! - Its **state** says where it is, read through the company's status
//!   mappings (platform `MAGENTO`; see [`crate::mapping`]). The merchant's
//!   **status** is a label, kept in the history, unless the company mapped
//!   it as `status:<code>`, which then wins over the state.
//! - `holded` holds the order; any other state of a held order releases it
//!   to the status it had (Magento's `unhold`), then reaches the state's.
//!   History entries come first (they are older), then the release, the
//!   shipments and the stage.
//! - `status_histories` become history entries with their
//!   `is_customer_notified` / `is_visible_on_front` flags; the newest entry
//!   of the current status is the status change's own comment and flags.
//! - `tracks` (`carrier_code`, `title`, `track_number`) become shipments.
//!
//! Magento sends no event id: a change is identified by the order and its
//! `updated_at`, so a repeated call changes nothing, and dated by it, so an
//! older one is recorded as skipped.

use chrono::{DateTime, NaiveDateTime, Utc};
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

/// Lines, history entries or tracks one order may carry.
pub const MAX_PARTS: usize = 1_000;

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        other => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
    }
}

fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) => Ok(given(Some(&s))),
        Some(other) => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
    }
}

/// Magento's 0/1 flags (sometimes booleans, sometimes null).
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::Number(n)) => Some(n.as_f64().is_some_and(|n| n != 0.0)),
        Some(Value::String(s)) => Some(!matches!(s.trim(), "" | "0" | "false")),
        _ => None,
    })
}

/// A quantity: a number, or its text (`"2.0000"`, as model data sends it).
fn quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| serde::de::Error::custom(format!("{s:?} is not a quantity"))),
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not a quantity"))),
    }
}

/// Street lines: an array (REST), or one text with a line per row (model data).
fn lines<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.lines().map(str::to_owned).collect()),
        Some(Value::Array(items)) => Ok(items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()),
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not a street"))),
    }
}

/// The parts of an order read here.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    /// Magento's id: the source id.
    #[serde(deserialize_with = "id")]
    pub entity_id: String,
    /// `000000123`: the code.
    #[serde(default, deserialize_with = "optional_id")]
    pub increment_id: Option<String>,
    /// new, pending_payment, processing, complete, closed, canceled, holded, payment_review.
    #[serde(default)]
    pub state: Option<String>,
    /// The merchant's status under the state.
    #[serde(default)]
    pub status: Option<String>,
    /// Last changed at (`yyyy-mm-dd hh:mm:ss`, UTC).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// The customer's e-mail.
    #[serde(default)]
    pub customer_email: Option<String>,
    /// First name.
    #[serde(default)]
    pub customer_firstname: Option<String>,
    /// Last name.
    #[serde(default)]
    pub customer_lastname: Option<String>,
    /// Its lines.
    #[serde(default)]
    pub items: Vec<Item>,
    /// The billing address (the shipping one when there is none).
    #[serde(default)]
    pub billing_address: Option<MagentoAddress>,
    /// Where the shipping address is.
    #[serde(default)]
    pub extension_attributes: Option<Extension>,
    /// Its status history.
    #[serde(default)]
    pub status_histories: Vec<History>,
    /// Its shipments' tracks.
    #[serde(default)]
    pub tracks: Vec<Track>,
}

/// An order line.
#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    /// Its id.
    #[serde(default, deserialize_with = "optional_id")]
    pub item_id: Option<String>,
    /// The configurable parent, for a child line (not a line of its own).
    #[serde(default, deserialize_with = "optional_id")]
    pub parent_item_id: Option<String>,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// Product name.
    #[serde(default)]
    pub name: Option<String>,
    /// Units ordered.
    #[serde(default, deserialize_with = "quantity")]
    pub qty_ordered: Option<f64>,
    /// Unit price (a number, or decimal text).
    #[serde(default)]
    pub price: Option<Value>,
}

/// An address.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MagentoAddress {
    /// First name.
    #[serde(default)]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default)]
    pub lastname: Option<String>,
    /// Street lines.
    #[serde(default, deserialize_with = "lines")]
    pub street: Vec<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State code.
    #[serde(default)]
    pub region_code: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postcode: Option<String>,
    /// ISO alpha-2.
    #[serde(default)]
    pub country_id: Option<String>,
    /// Phone.
    #[serde(default)]
    pub telephone: Option<String>,
}

/// `extension_attributes`: where REST puts the shipping address.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Extension {
    /// Its shipping assignments.
    #[serde(default)]
    pub shipping_assignments: Vec<Assignment>,
}

/// A shipping assignment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Assignment {
    /// Its shipping.
    #[serde(default)]
    pub shipping: Option<Shipping>,
}

/// A shipping.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Shipping {
    /// Its address.
    #[serde(default)]
    pub address: Option<MagentoAddress>,
}

/// A status history entry.
#[derive(Debug, Clone, Deserialize)]
pub struct History {
    /// Its id.
    #[serde(default, deserialize_with = "optional_id")]
    pub entity_id: Option<String>,
    /// The merchant's words.
    #[serde(default)]
    pub comment: Option<String>,
    /// The status it was written with.
    #[serde(default)]
    pub status: Option<String>,
    /// When.
    #[serde(default)]
    pub created_at: Option<String>,
    /// E-mailed to the customer.
    #[serde(default, deserialize_with = "flag")]
    pub is_customer_notified: Option<bool>,
    /// Shown on the storefront.
    #[serde(default, deserialize_with = "flag")]
    pub is_visible_on_front: Option<bool>,
}

/// A shipment track.
#[derive(Debug, Clone, Deserialize)]
pub struct Track {
    /// Its id.
    #[serde(default, deserialize_with = "optional_id")]
    pub entity_id: Option<String>,
    /// Its order's `entity_id` (on a track sent alone).
    #[serde(default, deserialize_with = "optional_id")]
    pub order_id: Option<String>,
    /// The tracking number.
    #[serde(default)]
    pub track_number: Option<String>,
    /// The carrier's name as shown.
    #[serde(default)]
    pub title: Option<String>,
    /// The carrier's code (`custom`, `ups`, …).
    #[serde(default)]
    pub carrier_code: Option<String>,
    /// When.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// Magento's dates: `yyyy-mm-dd hh:mm:ss` in UTC, or RFC 3339.
fn instant(text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok().map(|n| n.and_utc()))
}

/// A price as cents: `199`, `199.9`, `"199.9900"`.
fn cents(value: &Value) -> Option<i64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    let text = match text.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() { whole.to_owned() } else { format!("{whole}.{fraction}") }
        }
        None => text,
    };
    domain::money::parse_cents(&text)
}

/// What a call carries.
enum Payload {
    /// The order, and the digest of it as sent.
    Order(Box<Order>, String),
    Track(Track),
}

/// The object a call carries, under whichever envelope it came in.
fn payload(body: &[u8]) -> Result<Payload, WireError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| WireError::malformed(format!("not JSON: {e}")))?;
    let object = ["/data/order", "/data/value", "/data/track", "/data"]
        .iter()
        .find_map(|path| value.pointer(path).filter(|v| v.is_object()))
        .unwrap_or(&value)
        .clone();
    let malformed = |what: &str, e: serde_json::Error| WireError::malformed(format!("not a Magento {what}: {e}"));
    if object.get("track_number").is_some() {
        return serde_json::from_value(object).map(Payload::Track).map_err(|e| malformed("shipment track", e));
    }
    if object.get("entity_id").is_none() {
        return Err(WireError::malformed(
            "neither an order (entity_id, state, …) nor a shipment track (track_number) under data.order, data.value, data or the body",
        ));
    }
    let digest = domain::ingest::digest16(object.to_string().as_bytes());
    let order: Order = serde_json::from_value(object).map_err(|e| malformed("order", e))?;
    if [order.items.len(), order.status_histories.len(), order.tracks.len()].iter().any(|n| *n > MAX_PARTS) {
        return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_PARTS} items, history entries or tracks") });
    }
    Ok(Payload::Order(Box::new(order), digest))
}

/// Reads a call into its one record.
pub fn read(body: &[u8], context: &Context) -> Result<Record, WireError> {
    match payload(body)? {
        Payload::Order(order, digest) => Ok(order_record(&order, &digest, context)),
        Payload::Track(track) => {
            let order_id = track.order_id.clone().ok_or_else(|| WireError::malformed("the shipment track has no order_id"))?;
            // Undated: a track is often saved after the order's change that
            // completes it, and would be judged stale, and lost.
            let stamp = Stamp { order_id: order_id.clone(), updated_at: None, key: String::new() };
            match shipment(&track, &stamp) {
                Some(command) => Ok(Record::new(order_id, vec![command])),
                None => Err(WireError::malformed("the shipment track has no track_number")),
            }
        }
    }
}

/// What a call's changes share: the order, and its `updated_at` (what
/// dates them and identifies them; the digest of the order as sent where a
/// webhook's field list left the date out, so that changes never collide).
struct Stamp {
    order_id: String,
    updated_at: Option<String>,
    key: String,
}

impl Stamp {
    fn meta(&self, suffix: &str, comment: Option<String>, notify: bool, visible: bool) -> EventMeta {
        let at = given(self.updated_at.as_deref()).unwrap_or_else(|| self.key.clone());
        EventMeta {
            comment,
            notify_customer: notify,
            visible_to_customer: visible,
            occurred_at: instant(self.updated_at.as_deref()),
            event_id: Some(event_id(&format!("magento:{}:{at}", self.order_id), suffix)),
            source: "magento".to_owned(),
        }
    }
}

fn shipment(track: &Track, stamp: &Stamp) -> Option<Command> {
    let number = given(track.track_number.as_deref())?;
    let carrier = given(track.title.as_deref()).or_else(|| given(track.carrier_code.as_deref())).unwrap_or_else(|| "Magento".to_owned());
    let mut meta = stamp.meta("", Some(format!("Shipped by {carrier}: {number}")), true, true);
    // The same track is one shipment whichever call tells of it.
    meta.event_id = Some(event_id(&format!("magento:track:{}:{number}", stamp.order_id), ""));
    Some(Command::Ship {
        shipment: Shipment {
            carrier,
            title: given(track.carrier_code.as_deref()),
            tracking_number: number,
            tracking_url: None,
            shipped_at: instant(track.created_at.as_deref()),
            invoice_number: None,
        },
        meta,
    })
}

fn address(sent: &MagentoAddress) -> Address {
    let mut street = sent.street.iter().filter_map(|s| given(Some(s)));
    Address {
        street: street.next(),
        number: street.next(),
        complement: {
            let rest: Vec<String> = street.collect();
            (!rest.is_empty()).then(|| rest.join(", "))
        },
        city: given(sent.city.as_deref()),
        state: given(sent.region_code.as_deref()),
        country: given(sent.country_id.as_deref()).map(|c| c.to_uppercase()),
        zip_code: given(sent.postcode.as_deref()),
        ..Address::default()
    }
}

fn items(order: &Order) -> Result<Vec<NewItem>, ItemError> {
    order
        .items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.parent_item_id.is_none())
        .map(|(n, item)| {
            let unit = match &item.price {
                None | Some(Value::Null) => 0,
                Some(price) => cents(price).ok_or_else(|| ItemError {
                    code: "VALIDATION",
                    field: Some(format!("items[{n}].price")),
                    message: format!("items[{n}].price: {price} is not an amount"),
                })?,
            };
            let sku = given(item.sku.as_deref());
            let quantity = item.qty_ordered.unwrap_or(1.0);
            Ok(NewItem {
                source_id: item.item_id.clone().unwrap_or_else(|| (n + 1).to_string()),
                product_id: sku.clone().unwrap_or_else(|| (n + 1).to_string()),
                name: given(item.name.as_deref()).or(sku).unwrap_or_else(|| format!("item {}", n + 1)),
                quantity,
                unit_price_cents: unit,
                ..NewItem::default()
            })
        })
        .collect()
}

fn creation(order: &Order) -> Result<Vec<Command>, ItemError> {
    let shipping = order
        .extension_attributes
        .as_ref()
        .and_then(|e| e.shipping_assignments.iter().find_map(|a| a.shipping.as_ref()?.address.clone()))
        .or_else(|| order.billing_address.clone())
        .unwrap_or_default();
    let receiver = [given(shipping.firstname.as_deref()), given(shipping.lastname.as_deref())].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let customer = [given(order.customer_firstname.as_deref()), given(order.customer_lastname.as_deref())].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name = [receiver, customer].into_iter().find(|n| !n.is_empty());
    let new = NewOrder {
        source_id: order.entity_id.clone(),
        code: order.increment_id.clone().unwrap_or_else(|| order.entity_id.clone()),
        customer_name: name.clone(),
        items: items(order)?,
        attributes: vec![("magento.entityId".to_owned(), order.entity_id.clone())],
        ..NewOrder::default()
    };
    let customer = Customer {
        email: given(order.customer_email.as_deref()),
        name,
        phone: given(shipping.telephone.as_deref()),
        address: address(&shipping),
    };
    Ok(creation::commands("magento", new, customer))
}

/// What the order's state (or its status, when the company mapped it) means.
fn stage(order: &Order, context: &Context) -> Result<Option<OrderStatus>, ItemError> {
    if let Some(status) = given(order.status.as_deref()) {
        let own = context.mappings.resolve(WebhookPlatform::Magento, &[], &format!("status:{status}"));
        match own {
            domain::status_mappings::Mapped::To(to) => return Ok(Some(to)),
            domain::status_mappings::Mapped::Ignored => return Ok(None),
            domain::status_mappings::Mapped::Unmapped => {}
        }
    }
    let state = given(order.state.as_deref()).ok_or_else(|| ItemError {
        code: "VALIDATION",
        field: Some("state".to_owned()),
        message: "state: the order has no state (new, processing, complete, …)".to_owned(),
    })?;
    mapping::resolve(context, WebhookPlatform::Magento, &state, "state")
}

fn order_record(order: &Order, digest: &str, context: &Context) -> Record {
    let refuse = |error: ItemError| Record::refused(order.entity_id.clone(), vec![error]);
    let stamp = Stamp { order_id: order.entity_id.clone(), updated_at: order.updated_at.clone(), key: digest.to_owned() };
    let mut commands = match creation(order) {
        Ok(commands) => commands,
        Err(error) => return refuse(error),
    };
    let to = match stage(order, context) {
        Ok(to) => to,
        Err(error) => return refuse(error),
    };
    // The newest entry written with the current status is the change's own.
    let status = given(order.status.as_deref());
    let mut histories: Vec<&History> = order.status_histories.iter().collect();
    histories.sort_by_key(|h| (instant(h.created_at.as_deref()), h.entity_id.clone()));
    let own = histories.iter().rposition(|h| status.is_some() && given(h.status.as_deref()) == status);
    for (n, history) in histories.iter().enumerate() {
        let Some(comment) = given(history.comment.as_deref()) else { continue };
        if Some(n) == own && to.is_some() {
            continue;
        }
        let key = history.entity_id.clone().unwrap_or_else(|| format!("{}:{n}", history.created_at.as_deref().unwrap_or("")));
        commands.push(Command::Track(EventMeta {
            comment: Some(comment),
            notify_customer: history.is_customer_notified.unwrap_or(false),
            visible_to_customer: history.is_visible_on_front.unwrap_or(false),
            occurred_at: instant(history.created_at.as_deref()),
            event_id: Some(event_id(&format!("magento:history:{}:{key}", order.entity_id), "")),
            source: "magento".to_owned(),
        }));
    }
    // Released before anything else of this moment: a held order takes no
    // shipment, and the stage is judged against the status it had.
    let holded = given(order.state.as_deref()).as_deref() == Some("holded") || to == Some(OrderStatus::OnHold);
    if !holded {
        commands.push(Command::Resume(stamp.meta(":release", Some("Released in Magento".to_owned()), true, true)));
    }
    commands.extend(order.tracks.iter().filter_map(|track| shipment(track, &stamp)));
    if let Some(to) = to {
        let label = status.as_deref().unwrap_or("?");
        let state = order.state.as_deref().unwrap_or("?");
        let (comment, notify, visible) = match own.map(|n| histories[n]) {
            Some(entry) => (
                given(entry.comment.as_deref()).unwrap_or_else(|| format!("Magento: {label}")),
                entry.is_customer_notified.unwrap_or(true),
                entry.is_visible_on_front.unwrap_or(true),
            ),
            None => (format!("Magento: {label} ({state})"), true, true),
        };
        commands.push(Command::Reach { to, meta: stamp.meta(":state", Some(comment), notify, visible) });
    }
    Record::new(order.entity_id.clone(), commands)
}
