//! Shopify's webhooks (`POST /integrations/shopify/{company}`): the order
//! topics carry the whole order, the fulfillment topics a fulfillment, and
//! `fulfillment_events/create` one carrier event.
//!
//! The route checks `X-Shopify-Hmac-Sha256` over the raw body, then records
//! the call as a [`Delivery`]: the topic and webhook id from the headers with
//! the body as sent, so a saved call replays alone and the log shows what
//! came.
//!
//! - Every order topic creates the order when it is not known yet (Shopify
//!   does not promise `orders/create` comes first), its customer as a
//!   destination, then reaches what its statuses say.
//! - `financial_status`, `fulfillment_status` and a fulfillment's
//!   `shipment_status` are read through the company's status mappings
//!   (platform `SHOPIFY`, codes `financial_status:paid`, …; see
//!   [`crate::mapping`]); `cancelled_at` cancels.
//! - A fulfillment with a tracking number is a shipment, identified by the
//!   fulfillment and number, so the order topics and the fulfillment topics
//!   make one shipment of it.
//! - Each change is identified by what is signed, the resource and its
//!   `updated_at` (a redelivery, or the same state under another topic,
//!   repeats nothing; `X-Shopify-Webhook-Id` is recorded but not signed), and
//!   dated by it (an event older than the order's last change is recorded as
//!   skipped).

use chrono::{DateTime, Utc};
use domain::{
    validate::given,
    address::Address,
    ingest::{Command, Context, ItemError, Record, WireError},
    orders::{EventMeta, NewItem, NewOrder, Shipment},
};
use entities::{OrderStatus, WebhookPlatform};
use serde::{Deserialize, Deserializer, Serialize};

use crate::{
    creation::{self, Customer as Buyer},
    generic::event_id,
    mapping,
};

/// The topics taken, each a whole order.
pub const ORDER_TOPICS: [&str; 6] =
    ["orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled"];
/// The topics taken, each a fulfillment.
pub const FULFILLMENT_TOPICS: [&str; 2] = ["fulfillments/create", "fulfillments/update"];
/// The topic of one carrier event.
pub const FULFILLMENT_EVENT_TOPIC: &str = "fulfillment_events/create";

/// Lines one order may carry.
pub const MAX_LINE_ITEMS: usize = 1_000;
/// Fulfillments one order may carry, and tracking numbers one fulfillment:
/// each is a shipment, written in the record's one transaction.
pub const MAX_PARCELS: usize = 100;

/// A webhook as recorded: its headers' topic and id, and the body as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Delivery {
    /// `X-Shopify-Topic`.
    pub topic: String,
    /// `X-Shopify-Webhook-Id` (the same on every retry of one webhook).
    #[serde(default)]
    pub webhook_id: Option<String>,
    /// The body as it was sent.
    pub body: String,
}

impl Delivery {
    /// The record of a webhook; `None` when the body is not UTF-8 text
    /// (then it is not JSON either, and the call is refused as it came).
    pub fn new(topic: &str, webhook_id: Option<&str>, body: &[u8]) -> Option<Self> {
        let body = std::str::from_utf8(body).ok()?;
        let webhook_id = webhook_id.map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned);
        Some(Delivery { topic: topic.trim().to_owned(), webhook_id, body: body.to_owned() })
    }

    /// The envelope as recorded.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a recorded envelope.
    pub fn read(bytes: &[u8]) -> Result<Self, WireError> {
        serde_json::from_slice(bytes).map_err(|e| WireError::malformed(format!("not a Shopify webhook: {e}")))
    }
}

/// Shopify's ids are numbers; a string is taken too.
fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    Ok(match Id::deserialize(d)? {
        Id::Number(n) => n.to_string(),
        Id::Text(t) => t.trim().to_owned(),
    })
}

/// The parts of an order read here (Shopify sends many more).
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    /// Its id: the source id of the order in Rastro.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// `#1001`: its code.
    #[serde(default)]
    pub name: Option<String>,
    /// The customer's e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Last changed at.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Created at.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Set when cancelled.
    #[serde(default)]
    pub cancelled_at: Option<String>,
    /// Why (customer, fraud, inventory, declined, other).
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// pending, authorized, paid, refunded, …
    #[serde(default)]
    pub financial_status: Option<String>,
    /// null, fulfilled, partial, restocked.
    #[serde(default)]
    pub fulfillment_status: Option<String>,
    /// The merchant's note.
    #[serde(default)]
    pub note: Option<String>,
    /// The customer.
    #[serde(default)]
    pub customer: Option<Customer>,
    /// Where it goes.
    #[serde(default)]
    pub shipping_address: Option<ShippingAddress>,
    /// Its lines.
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// Its fulfillments.
    #[serde(default)]
    pub fulfillments: Vec<Fulfillment>,
}

/// An order's customer.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Customer {
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// An order's shipping address.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShippingAddress {
    /// Who receives it.
    #[serde(default)]
    pub name: Option<String>,
    /// Street and number.
    #[serde(default)]
    pub address1: Option<String>,
    /// Complement.
    #[serde(default)]
    pub address2: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State code.
    #[serde(default)]
    pub province_code: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub zip: Option<String>,
    /// ISO alpha-2.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Latitude.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(default)]
    pub longitude: Option<f64>,
}

/// An order's line.
#[derive(Debug, Clone, Deserialize)]
pub struct LineItem {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// Product title.
    #[serde(default)]
    pub title: Option<String>,
    /// Units.
    #[serde(default)]
    pub quantity: u32,
    /// Unit price, as decimal text (`"199.00"`).
    #[serde(default)]
    pub price: Option<String>,
}

/// A fulfillment: a parcel.
#[derive(Debug, Clone, Deserialize)]
pub struct Fulfillment {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Its order's id (on the fulfillment topics).
    #[serde(default, deserialize_with = "optional_id")]
    pub order_id: Option<String>,
    /// success, cancelled, error, failure (pending, open).
    #[serde(default)]
    pub status: Option<String>,
    /// in_transit, delivered, … (null until the carrier says).
    #[serde(default)]
    pub shipment_status: Option<String>,
    /// The carrier.
    #[serde(default)]
    pub tracking_company: Option<String>,
    /// The first tracking number.
    #[serde(default)]
    pub tracking_number: Option<String>,
    /// Every tracking number.
    #[serde(default)]
    pub tracking_numbers: Vec<String>,
    /// The first tracking page.
    #[serde(default)]
    pub tracking_url: Option<String>,
    /// Every tracking page, as the numbers.
    #[serde(default)]
    pub tracking_urls: Vec<String>,
    /// Created at.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last changed at.
    #[serde(default)]
    pub updated_at: Option<String>,
}

fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
}

/// One carrier event of a fulfillment.
#[derive(Debug, Clone, Deserialize)]
pub struct FulfillmentEvent {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Its order's id.
    #[serde(deserialize_with = "id")]
    pub order_id: String,
    /// Its fulfillment's id.
    #[serde(default, deserialize_with = "optional_id")]
    pub fulfillment_id: Option<String>,
    /// in_transit, delivered, … (a shipment status).
    pub status: String,
    /// The carrier's words.
    #[serde(default)]
    pub message: Option<String>,
    /// When it happened.
    #[serde(default)]
    pub happened_at: Option<String>,
    /// When Shopify learnt it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Where.
    #[serde(default)]
    pub city: Option<String>,
    /// Where.
    #[serde(default)]
    pub province: Option<String>,
}


fn instant(text: &Option<String>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.as_deref()?.trim()).ok().map(|d| d.with_timezone(&Utc))
}

/// What one webhook's changes share: when (the payload's last change, so
/// that all of it is judged as one moment) and whence (see [`base`]).
struct Stamp {
    occurred_at: Option<DateTime<Utc>>,
    base: String,
}

impl Stamp {
    fn meta(&self, suffix: &str, comment: Option<String>, notify: bool) -> EventMeta {
        EventMeta {
            comment,
            notify_customer: notify,
            visible_to_customer: true,
            occurred_at: self.occurred_at,
            event_id: Some(event_id(&self.base, suffix)),
            source: "shopify".to_owned(),
        }
    }

    /// A stage a status code of `field` says, through the company's mappings.
    fn reach(&self, context: &Context, field: &str, code: &str, suffix: &str) -> Result<Option<Command>, ItemError> {
        let Some(to) = mapping::resolve(context, WebhookPlatform::Shopify, &format!("{field}:{}", code.trim()), field)? else {
            return Ok(None);
        };
        let comment = format!("Shopify: {field} {}", code.trim());
        Ok(Some(Command::Reach { to, meta: self.meta(suffix, Some(comment), true) }))
    }
}

/// The id of a payload's changes, from what is signed: the resource and
/// its last change (`updated_at`), else the body's digest. Not the
/// `X-Shopify-Webhook-Id` header, which is not signed: a captured body sent
/// again under a new webhook id is the same change, and a redelivery (the
/// same body) is recognised alike.
fn base(kind: &str, resource: &str, updated_at: &Option<String>, body: &str) -> String {
    match given(updated_at.as_deref()) {
        Some(at) => format!("shopify:{kind}:{resource}:{at}"),
        None => format!("shopify:{kind}:{resource}:{}", domain::ingest::digest16(body.as_bytes())),
    }
}

fn too_many_numbers(fulfillment: &Fulfillment) -> bool {
    fulfillment.tracking_numbers.len() > MAX_PARCELS || fulfillment.tracking_urls.len() > MAX_PARCELS
}

/// Reads a recorded webhook into its one record.
pub fn read(bytes: &[u8], context: &Context) -> Result<Record, WireError> {
    let delivery = Delivery::read(bytes)?;
    let topic = delivery.topic.as_str();
    let malformed = |e: serde_json::Error| WireError::malformed(format!("not a Shopify {topic} payload: {e}"));
    if ORDER_TOPICS.contains(&topic) {
        let order: Order = serde_json::from_str(&delivery.body).map_err(malformed)?;
        if order.line_items.len() > MAX_LINE_ITEMS {
            return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_LINE_ITEMS} line items") });
        }
        if order.fulfillments.len() > MAX_PARCELS || order.fulfillments.iter().any(too_many_numbers) {
            return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_PARCELS} fulfillments or tracking numbers") });
        }
        let stamp = Stamp { occurred_at: instant(&order.updated_at), base: base("order", &order.id, &order.updated_at, &delivery.body) };
        Ok(order_record(&order, &stamp, context))
    } else if FULFILLMENT_TOPICS.contains(&topic) {
        let fulfillment: Fulfillment = serde_json::from_str(&delivery.body).map_err(malformed)?;
        if too_many_numbers(&fulfillment) {
            return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_PARCELS} tracking numbers") });
        }
        let order_id = fulfillment.order_id.clone().ok_or_else(|| WireError::malformed("the fulfillment has no order_id"))?;
        let stamp = Stamp {
            occurred_at: instant(&fulfillment.updated_at),
            base: base("fulfillment", &fulfillment.id, &fulfillment.updated_at, &delivery.body),
        };
        Ok(fulfillment_record(&order_id, &fulfillment, &stamp, context))
    } else if topic == FULFILLMENT_EVENT_TOPIC {
        let event: FulfillmentEvent = serde_json::from_str(&delivery.body).map_err(malformed)?;
        let when = event.happened_at.clone().or_else(|| event.created_at.clone());
        // A carrier event is one event: its id says it all.
        let stamp = Stamp { occurred_at: instant(&when), base: format!("shopify:fulfillment_event:{}", event.id) };
        Ok(event_record(&event, &stamp, context))
    } else {
        Err(WireError {
            code: "UNKNOWN_TOPIC",
            message: format!(
                "topic {topic:?} is not taken; subscribe to {}, {} or {FULFILLMENT_EVENT_TOPIC}",
                ORDER_TOPICS.join(", "),
                FULFILLMENT_TOPICS.join(", ")
            ),
        })
    }
}

fn address(sent: &ShippingAddress) -> Address {
    Address {
        street: given(sent.address1.as_deref()),
        complement: given(sent.address2.as_deref()),
        city: given(sent.city.as_deref()),
        state: given(sent.province_code.as_deref()),
        country: given(sent.country_code.as_deref()).map(|c| c.to_uppercase()),
        zip_code: given(sent.zip.as_deref()),
        latitude: sent.latitude,
        longitude: sent.longitude,
        ..Address::default()
    }
}

fn items(order: &Order) -> Result<Vec<NewItem>, ItemError> {
    order
        .line_items
        .iter()
        .enumerate()
        .map(|(n, line)| {
            let unit = match given(line.price.as_deref()) {
                None => 0,
                Some(price) => domain::money::parse_cents(&price).ok_or_else(|| ItemError {
                    code: "VALIDATION",
                    field: Some(format!("line_items[{n}].price")),
                    message: format!("line_items[{n}].price: {price:?} is not a decimal amount"),
                })?,
            };
            let sku = given(line.sku.as_deref());
            Ok(NewItem {
                source_id: line.id.clone(),
                product_id: sku.clone().unwrap_or_else(|| line.id.clone()),
                name: given(line.title.as_deref()).or(sku).unwrap_or_else(|| line.id.clone()),
                quantity: f64::from(line.quantity),
                unit_price_cents: unit,
                total_cents: unit.checked_mul(i64::from(line.quantity)),
                ..NewItem::default()
            })
        })
        .collect()
}

/// The customer's name: who receives it, else the customer's.
fn customer_name(order: &Order) -> Option<String> {
    let receiver = order.shipping_address.as_ref().and_then(|a| given(a.name.as_deref()));
    let customer = order.customer.as_ref().and_then(|c| {
        Some([given(c.first_name.as_deref()), given(c.last_name.as_deref())].into_iter().flatten().collect::<Vec<_>>().join(" ")).filter(|n| !n.is_empty())
    });
    receiver.or(customer)
}

/// The commands that create the order unless it is known, with its
/// customer as a destination when they have an e-mail.
fn creation(order: &Order) -> Result<Vec<Command>, ItemError> {
    let name = customer_name(order);
    let email = given(order.email.as_deref()).or_else(|| order.customer.as_ref().and_then(|c| given(c.email.as_deref())));
    let address = order.shipping_address.as_ref().map(address).unwrap_or_default();
    let new = NewOrder {
        source_id: order.id.clone(),
        code: given(order.name.as_deref()).unwrap_or_else(|| order.id.clone()),
        customer_name: name.clone(),
        observations: given(order.note.as_deref()),
        items: items(order)?,
        attributes: vec![("shopify.id".to_owned(), order.id.clone())],
        ..NewOrder::default()
    };
    let phone = order.shipping_address.as_ref().and_then(|a| given(a.phone.as_deref())).or_else(|| order.customer.as_ref().and_then(|c| given(c.phone.as_deref())));
    Ok(creation::commands("shopify", new, Buyer { email, name, phone, address }))
}

/// A fulfillment's shipments (one per tracking number) and the stage its
/// shipment status says. A cancelled or failed fulfillment is no parcel.
fn fulfillment_commands(fulfillment: &Fulfillment, stamp: &Stamp, context: &Context) -> Result<Vec<Command>, ItemError> {
    if matches!(fulfillment.status.as_deref().map(str::trim), Some("cancelled" | "error" | "failure")) {
        return Ok(Vec::new());
    }
    let mut numbers: Vec<String> = fulfillment.tracking_numbers.iter().filter_map(|n| given(Some(n))).collect();
    if numbers.is_empty() {
        numbers.extend(given(fulfillment.tracking_number.as_deref()));
    }
    let carrier = given(fulfillment.tracking_company.as_deref()).unwrap_or_else(|| "Shopify".to_owned());
    let mut commands = Vec::new();
    for (n, number) in numbers.iter().enumerate() {
        let url = fulfillment.tracking_urls.get(n).cloned().or_else(|| (n == 0).then(|| fulfillment.tracking_url.clone()).flatten());
        let mut meta = stamp.meta("", Some(format!("Shipped by {carrier}: {number}")), true);
        // The parcel is the same whichever webhook tells of it first.
        meta.event_id = Some(event_id(&format!("shopify:fulfillment:{}:{number}", fulfillment.id), ""));
        commands.push(Command::Ship {
            shipment: Shipment {
                carrier: carrier.clone(),
                title: None,
                tracking_number: number.clone(),
                tracking_url: given(url.as_deref()),
                shipped_at: instant(&fulfillment.created_at),
                invoice_number: None,
            },
            meta,
        });
    }
    if let Some(status) = given(fulfillment.shipment_status.as_deref()) {
        commands.extend(stamp.reach(context, "shipment_status", &status, &format!(":fulfillment:{}", fulfillment.id))?);
    }
    Ok(commands)
}

fn order_changes(order: &Order, stamp: &Stamp, context: &Context) -> Result<Vec<Command>, ItemError> {
    let mut changes = Vec::new();
    if let Some(status) = given(order.financial_status.as_deref()) {
        changes.extend(stamp.reach(context, "financial_status", &status, ":financial_status")?);
    }
    for fulfillment in &order.fulfillments {
        changes.extend(fulfillment_commands(fulfillment, stamp, context)?);
    }
    if let Some(status) = given(order.fulfillment_status.as_deref()) {
        changes.extend(stamp.reach(context, "fulfillment_status", &status, ":fulfillment_status")?);
    }
    if order.cancelled_at.is_some() {
        let reason = given(order.cancel_reason.as_deref()).map_or_else(|| "Cancelled in Shopify".to_owned(), |r| format!("Cancelled in Shopify ({r})"));
        changes.push(Command::Reach { to: OrderStatus::Cancelled, meta: stamp.meta(":cancelled", Some(reason), true) });
    }
    // Stable: the order of everything else is kept.
    changes.sort_by_key(mapping::finality);
    Ok(changes)
}

fn order_record(order: &Order, stamp: &Stamp, context: &Context) -> Record {
    let commands = creation(order).and_then(|mut commands| {
        commands.extend(order_changes(order, stamp, context)?);
        Ok(commands)
    });
    match commands {
        Ok(commands) => Record::new(order.id.clone(), commands),
        Err(error) => Record::refused(order.id.clone(), vec![error]),
    }
}

fn fulfillment_record(order_id: &str, fulfillment: &Fulfillment, stamp: &Stamp, context: &Context) -> Record {
    match fulfillment_commands(fulfillment, stamp, context) {
        Ok(commands) if commands.is_empty() => {
            let state = given(fulfillment.status.as_deref()).unwrap_or_else(|| "without tracking".to_owned());
            Record::skipped(order_id, format!("fulfillment {} is {state}: no parcel or stage to record", fulfillment.id))
        }
        Ok(commands) => Record::new(order_id, commands),
        Err(error) => Record::refused(order_id, vec![error]),
    }
}

fn event_record(event: &FulfillmentEvent, stamp: &Stamp, context: &Context) -> Record {
    let place = [given(event.city.as_deref()), given(event.province.as_deref())].into_iter().flatten().collect::<Vec<_>>().join(" - ");
    let words = given(event.message.as_deref()).unwrap_or_else(|| event.status.trim().replace('_', " "));
    let comment = if place.is_empty() { words } else { format!("{words} ({place})") };
    let code = format!("shipment_status:{}", event.status.trim());
    match mapping::resolve(context, WebhookPlatform::Shopify, &code, "status") {
        Ok(Some(to)) => Record::new(event.order_id.clone(), vec![Command::Reach { to, meta: stamp.meta("", Some(comment), true) }]),
        // A status that moves nothing is still the carrier's word on the parcel.
        Ok(None) => Record::new(event.order_id.clone(), vec![Command::Track(stamp.meta("", Some(comment), false))]),
        Err(error) => Record::refused(event.order_id.clone(), vec![error]),
    }
}
