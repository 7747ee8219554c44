//! The parts of VTEX's OMS order (`GET /api/oms/pvt/orders/{orderId}`) that
//! tracking needs, as VTEX sends them. Every other field is ignored; fields
//! VTEX may send as `null` read as absent. Money is integer cents, as on the
//! wire: a fractional amount does not deserialize.

use serde::{Deserialize, Deserializer};

use domain::ingest::WireError;

/// Most orders one import call may carry.
pub const MAX_ORDERS: usize = 5_000;

/// `null` as the type's default (an empty list, say).
fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(deserializer: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// An OMS order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// VTEX's order id (`1172452900788-01`): the order's source id here.
    pub order_id: String,
    /// The order's number in the store's sequence.
    #[serde(default)]
    pub sequence: Option<String>,
    /// The OMS status (`invoiced`, `handling`, …); `null` for an incomplete order.
    #[serde(default)]
    pub status: Option<String>,
    /// The order's total, cents.
    #[serde(default)]
    pub value: Option<i64>,
    /// When it was placed.
    #[serde(default)]
    pub creation_date: Option<String>,
    /// When it last changed in VTEX.
    #[serde(default)]
    pub last_change: Option<String>,
    /// The lines.
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: Vec<Item>,
    /// The customer.
    #[serde(default)]
    pub client_profile_data: Option<ClientProfile>,
    /// Where it goes and how.
    #[serde(default)]
    pub shipping_data: Option<ShippingData>,
    /// The invoices (packages), made by invoicing.
    #[serde(default)]
    pub package_attachment: Option<PackageAttachment>,
}

/// A line of an order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// The line's own id.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// The SKU id.
    pub id: String,
    /// The product id.
    #[serde(default)]
    pub product_id: Option<String>,
    /// The store's reference code.
    #[serde(default)]
    pub ref_id: Option<String>,
    /// The EAN.
    #[serde(default)]
    pub ean: Option<String>,
    /// The SKU's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Units.
    pub quantity: i64,
    /// The unit price, cents.
    #[serde(default)]
    pub price: Option<i64>,
    /// The unit price after discounts, cents: what the customer pays.
    #[serde(default)]
    pub selling_price: Option<i64>,
    /// The unit of measure (`un`).
    #[serde(default)]
    pub measurement_unit: Option<String>,
    /// Dimensions and brand.
    #[serde(default)]
    pub additional_info: Option<AdditionalInfo>,
}

/// An item's additional information.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalInfo {
    /// The brand.
    #[serde(default)]
    pub brand_name: Option<String>,
    /// The package's dimensions.
    #[serde(default)]
    pub dimension: Option<Dimension>,
}

/// Dimensions as the catalog has them (centimetres and grams by VTEX's
/// convention; kept as sent).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dimension {
    /// Height.
    #[serde(default)]
    pub height: Option<f64>,
    /// Length.
    #[serde(default)]
    pub length: Option<f64>,
    /// Width.
    #[serde(default)]
    pub width: Option<f64>,
    /// Weight.
    #[serde(default)]
    pub weight: Option<f64>,
}

/// The customer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientProfile {
    /// The e-mail the customer gave at checkout.
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// A company's name, when the customer is one.
    #[serde(default)]
    pub corporate_name: Option<String>,
}

/// Shipping.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingData {
    /// The address it ships to.
    #[serde(default)]
    pub address: Option<Address>,
    /// Per item: the carrier and the promised date.
    #[serde(default, deserialize_with = "null_as_default")]
    pub logistics_info: Vec<LogisticsInfo>,
    /// Tracking a marketplace or carrier gave.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tracking_hints: Vec<TrackingHint>,
}

/// A shipping address.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Who receives it.
    #[serde(default)]
    pub receiver_name: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State.
    #[serde(default)]
    pub state: Option<String>,
    /// Country, ISO 3166 alpha-3 (`BRA`).
    #[serde(default)]
    pub country: Option<String>,
    /// Street.
    #[serde(default)]
    pub street: Option<String>,
    /// Number.
    #[serde(default)]
    pub number: Option<String>,
    /// Neighbourhood.
    #[serde(default)]
    pub neighborhood: Option<String>,
    /// Complement.
    #[serde(default)]
    pub complement: Option<String>,
    /// `[longitude, latitude]`: longitude first, as GeoJSON.
    #[serde(default, deserialize_with = "null_as_default")]
    pub geo_coordinates: Vec<f64>,
}

/// Shipping of one item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogisticsInfo {
    /// The item it is about.
    #[serde(default)]
    pub item_index: Option<usize>,
    /// The carrier.
    #[serde(default)]
    pub delivery_company: Option<String>,
    /// The promised delivery date.
    #[serde(default)]
    pub shipping_estimate_date: Option<String>,
}

/// Tracking given by a marketplace or carrier.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingHint {
    /// The tracking number.
    #[serde(default)]
    pub tracking_id: Option<String>,
    /// The carrier.
    #[serde(default)]
    pub courier_name: Option<String>,
    /// Where to follow it.
    #[serde(default)]
    pub tracking_url: Option<String>,
}

/// The invoices.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageAttachment {
    /// One per invoice.
    #[serde(default, deserialize_with = "null_as_default")]
    pub packages: Vec<Package>,
}

/// Whether an invoice sells or takes back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum InvoiceType {
    /// A sale: it invoices the order (or part of it).
    #[default]
    Output,
    /// A return: it does not invoice the order.
    Input,
}

/// An invoice and what ships under it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    /// Sale or return.
    #[serde(rename = "type", default)]
    pub kind: InvoiceType,
    /// The invoice's number.
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// The invoice's value, cents.
    #[serde(default)]
    pub invoice_value: Option<i64>,
    /// The invoice's key (the NF-e access key).
    #[serde(default)]
    pub invoice_key: Option<String>,
    /// The invoice's file.
    #[serde(default)]
    pub invoice_url: Option<String>,
    /// The invoice itself, as XML text.
    #[serde(default)]
    pub embedded_invoice: Option<String>,
    /// When it was issued.
    #[serde(default)]
    pub issuance_date: Option<String>,
    /// The carrier.
    #[serde(default)]
    pub courier: Option<String>,
    /// The tracking number.
    #[serde(default)]
    pub tracking_number: Option<String>,
    /// Where to follow it.
    #[serde(default)]
    pub tracking_url: Option<String>,
}

impl Package {
    /// Whether the invoice's file came with it: a link or the XML itself.
    pub fn has_file(&self) -> bool {
        let given = |text: &Option<String>| text.as_deref().is_some_and(|t| !t.trim().is_empty());
        given(&self.invoice_url) || given(&self.embedded_invoice)
    }
}

/// Reads an import call: one order, an array of them, or orders one after
/// the other (JSON lines, as a file export has them); at most [`MAX_ORDERS`].
pub fn read_orders(body: &[u8]) -> Result<Vec<Order>, WireError> {
    let malformed = |e: serde_json::Error| WireError::malformed(format!("not a VTEX order: {e}"));
    let orders: Vec<Order> = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => serde_json::from_slice(body).map_err(malformed)?,
        Some(b'{') => {
            // One past the bound is enough to refuse the call.
            let stream = serde_json::Deserializer::from_slice(body).into_iter::<Order>().take(MAX_ORDERS + 1);
            stream.collect::<Result<_, _>>().map_err(malformed)?
        }
        _ => return Err(WireError::malformed("the body is neither a JSON object nor an array of orders")),
    };
    if orders.is_empty() {
        return Err(WireError::malformed("the array holds no order"));
    }
    if orders.len() > MAX_ORDERS {
        return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_ORDERS} orders in one call") });
    }
    Ok(orders)
}
