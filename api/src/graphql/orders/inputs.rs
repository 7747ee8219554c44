//! GraphQL input objects for orders and localities, and their conversion into
//! domain inputs.

use async_graphql::{Enum, InputObject, ID};
use chrono::{DateTime, Utc};
use domain::{localities, orders};

use super::types::{Incoterm, LogisticRole, OrderStatus};
use crate::graphql::{request::parse_id, scalars::Money};

/// An address.
#[derive(InputObject, Default)]
pub struct AddressInput {
    /// Street.
    pub street: Option<String>,
    /// Number.
    pub number: Option<String>,
    /// Complement.
    pub complement: Option<String>,
    /// District.
    pub district: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State, two letters.
    pub state: Option<String>,
    /// Country, two letters.
    pub country: Option<String>,
    /// Postal code.
    pub zip_code: Option<String>,
    /// Latitude, −90..90.
    pub latitude: Option<f64>,
    /// Longitude, −180..180.
    pub longitude: Option<f64>,
}

impl From<AddressInput> for orders::Address {
    fn from(a: AddressInput) -> Self {
        orders::Address {
            street: a.street,
            number: a.number,
            complement: a.complement,
            district: a.district,
            city: a.city,
            state: a.state,
            country: a.country,
            zip_code: a.zip_code,
            latitude: a.latitude,
            longitude: a.longitude,
        }
    }
}

/// An order line.
#[derive(InputObject)]
pub struct OrderItemInput {
    /// The line's id at the source; unique within the order.
    pub source_id: String,
    /// SKU / product id.
    pub product_id: String,
    /// Product name.
    pub name: String,
    /// Quantity, > 0.
    pub quantity: f64,
    /// Unit price.
    pub unit_price: Money,
    /// Height, metres.
    pub height: Option<f64>,
    /// Length, metres.
    pub length: Option<f64>,
    /// Width, metres.
    pub width: Option<f64>,
    /// Weight, kilograms.
    pub weight: Option<f64>,
    /// Origin locality (role origin or both).
    pub origin_locality_id: Option<ID>,
}

impl OrderItemInput {
    fn into_domain(self) -> async_graphql::Result<orders::NewItem> {
        Ok(orders::NewItem {
            origin_locality_id: self.origin_locality_id.as_ref().map(|id| parse_id("locality", id)).transpose()?,
            origin_source_id: None,
            source_id: self.source_id,
            product_id: self.product_id,
            name: self.name,
            quantity: self.quantity,
            unit_price_cents: self.unit_price.0,
            height: self.height,
            length: self.length,
            width: self.width,
            weight: self.weight,
            ..orders::NewItem::default()
        })
    }
}

/// A key–value pair.
#[derive(InputObject)]
pub struct KeyValueInput {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

fn pairs(list: Vec<KeyValueInput>) -> Vec<(String, String)> {
    list.into_iter().map(|p| (p.key, p.value)).collect()
}

/// A new order.
#[derive(InputObject)]
pub struct CreateOrderInput {
    /// The company's order id; unique per company.
    pub source_id: String,
    /// Order code / number.
    pub code: String,
    /// Starting status (default RECEIVED).
    pub status: Option<OrderStatus>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Destination locality (role destination or both).
    pub destination_locality_id: Option<ID>,
    /// Alternative delivery address.
    pub address: Option<AddressInput>,
    /// Pickup window start.
    pub pickup_start: Option<DateTime<Utc>>,
    /// Pickup window end.
    pub pickup_end: Option<DateTime<Utc>>,
    /// Delivery window start.
    pub delivery_start: Option<DateTime<Utc>>,
    /// Delivery window end.
    pub delivery_end: Option<DateTime<Utc>>,
    /// 0..10.
    pub priority: Option<i32>,
    /// Incoterm.
    pub incoterm: Option<Incoterm>,
    /// Free text.
    pub reference: Option<String>,
    /// Free text.
    pub observations: Option<String>,
    /// Lines (at least one).
    pub items: Vec<OrderItemInput>,
    /// Classifications.
    #[graphql(default)]
    pub classifications: Vec<KeyValueInput>,
    /// Attributes.
    #[graphql(default)]
    pub attributes: Vec<KeyValueInput>,
}

impl CreateOrderInput {
    /// The domain input.
    pub fn into_domain(self) -> async_graphql::Result<orders::NewOrder> {
        Ok(orders::NewOrder {
            destination_locality_id: self.destination_locality_id.as_ref().map(|id| parse_id("locality", id)).transpose()?,
            destination_source_id: None,
            source_digest: None,
            item_ids_unique_in_company: false,
            items: self.items.into_iter().map(OrderItemInput::into_domain).collect::<Result<_, _>>()?,
            source_id: self.source_id,
            code: self.code,
            status: self.status.map(Into::into),
            customer_name: self.customer_name,
            address: self.address.map(Into::into),
            pickup_start: self.pickup_start,
            pickup_end: self.pickup_end,
            delivery_start: self.delivery_start,
            delivery_end: self.delivery_end,
            priority: self.priority,
            incoterm: self.incoterm.map(Into::into),
            reference: self.reference,
            observations: self.observations,
            classifications: pairs(self.classifications),
            attributes: pairs(self.attributes),
        })
    }
}

/// Changes to an order; omitted fields stay as they are. Lists replace the
/// whole list.
#[derive(InputObject, Default)]
pub struct UpdateOrderInput {
    /// Code.
    pub code: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Destination locality.
    pub destination_locality_id: Option<ID>,
    /// Alternative address.
    pub address: Option<AddressInput>,
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
    pub items: Option<Vec<OrderItemInput>>,
    /// New classifications.
    pub classifications: Option<Vec<KeyValueInput>>,
    /// New attributes.
    pub attributes: Option<Vec<KeyValueInput>>,
}

impl UpdateOrderInput {
    /// The domain patch.
    pub fn into_domain(self) -> async_graphql::Result<orders::OrderPatch> {
        Ok(orders::OrderPatch {
            destination_locality_id: self.destination_locality_id.as_ref().map(|id| parse_id("locality", id)).transpose()?,
            items: self
                .items
                .map(|items| items.into_iter().map(OrderItemInput::into_domain).collect::<Result<Vec<_>, _>>())
                .transpose()?,
            code: self.code,
            customer_name: self.customer_name,
            address: self.address.map(Into::into),
            pickup_start: self.pickup_start,
            pickup_end: self.pickup_end,
            delivery_start: self.delivery_start,
            delivery_end: self.delivery_end,
            priority: self.priority,
            incoterm: self.incoterm.map(Into::into),
            reference: self.reference,
            observations: self.observations,
            classifications: self.classifications.map(pairs),
            attributes: self.attributes.map(pairs),
        })
    }
}

/// A fiscal invoice.
#[derive(InputObject)]
pub struct InvoiceInput {
    /// Number.
    pub number: String,
    /// NF-e access key (44 digits).
    pub key: Option<String>,
    /// Series.
    pub series: Option<String>,
    /// Value (default: the order total).
    pub value: Option<Money>,
    /// When issued (default: now).
    pub issued_at: Option<DateTime<Utc>>,
    /// Link to the document.
    pub url: Option<String>,
}

impl From<InvoiceInput> for orders::Invoice {
    fn from(i: InvoiceInput) -> Self {
        orders::Invoice {
            number: i.number,
            key: i.key,
            series: i.series,
            value_cents: i.value.map(|m| m.0),
            issued_at: i.issued_at,
            url: i.url,
        }
    }
}

/// A shipment.
#[derive(InputObject)]
pub struct ShipmentInput {
    /// Delivery method / carrier service.
    pub carrier: String,
    /// Carrier's display name.
    pub title: Option<String>,
    /// Tracking number.
    pub tracking_number: String,
    /// Tracking page (http or https).
    pub tracking_url: Option<String>,
    /// When it left (default: now).
    pub shipped_at: Option<DateTime<Utc>>,
    /// The order's invoice it carries, by number (`NOT_FOUND` when the
    /// order has no invoice with that number).
    pub invoice_number: Option<String>,
}

impl From<ShipmentInput> for orders::Shipment {
    fn from(s: ShipmentInput) -> Self {
        orders::Shipment {
            carrier: s.carrier,
            title: s.title,
            tracking_number: s.tracking_number,
            tracking_url: s.tracking_url,
            shipped_at: s.shipped_at,
            invoice_number: s.invoice_number,
        }
    }
}

/// Filters of the order list.
#[derive(InputObject, Default)]
pub struct OrderFilterInput {
    /// Part of the order code or source id.
    pub code: Option<String>,
    /// Part of a product name or SKU.
    pub product: Option<String>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
    /// Part of the customer name.
    pub customer_name: Option<String>,
    /// Any of these statuses.
    pub statuses: Option<Vec<OrderStatus>>,
    /// Total at least.
    pub min_total: Option<Money>,
    /// Total at most.
    pub max_total: Option<Money>,
    /// Destination locality.
    pub locality_id: Option<ID>,
    /// Company (admins).
    pub company_id: Option<ID>,
}

impl OrderFilterInput {
    /// The domain filter.
    pub fn into_domain(self) -> async_graphql::Result<orders::OrderFilter> {
        Ok(orders::OrderFilter {
            locality_id: self.locality_id.as_ref().map(|id| parse_id("locality", id)).transpose()?,
            company_id: self.company_id.as_ref().map(|id| parse_id("company", id)).transpose()?,
            code: self.code,
            product: self.product,
            created_from: self.created_from,
            created_to: self.created_to,
            customer_name: self.customer_name,
            statuses: self.statuses.unwrap_or_default().into_iter().map(Into::into).collect(),
            min_total_cents: self.min_total.map(|m| m.0),
            max_total_cents: self.max_total.map(|m| m.0),
        })
    }
}

/// What the order list is sorted by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(remote = "domain::orders::OrderSortField")]
pub enum OrderSortField {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Order total.
    Total,
    /// Order code.
    Code,
    /// Priority.
    Priority,
}

/// Sort direction.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    #[default]
    Desc,
}

/// Sort order of the order list (ties broken by id).
#[derive(InputObject, Default)]
pub struct OrderSortInput {
    /// Field (default CREATED_AT).
    #[graphql(default)]
    pub field: OrderSortField,
    /// Direction (default DESC).
    #[graphql(default)]
    pub direction: SortDirection,
}

impl From<OrderSortInput> for orders::OrderSort {
    fn from(s: OrderSortInput) -> Self {
        orders::OrderSort { field: s.field.into(), descending: s.direction == SortDirection::Desc }
    }
}

/// The responsible person of a locality.
#[derive(InputObject)]
pub struct ResponsibleInput {
    /// Name.
    pub name: String,
    /// E-mail: the customer account that follows this locality's orders.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
}

/// A locality.
#[derive(InputObject)]
pub struct LocalityInput {
    /// The company's own id; unique per company.
    pub source_id: String,
    /// Name.
    pub name: String,
    /// Origin, destination or both.
    pub logistic_role: LogisticRole,
    /// Address and coordinates.
    pub address: Option<AddressInput>,
    /// The responsible person.
    pub responsible: Option<ResponsibleInput>,
}

impl From<LocalityInput> for localities::LocalityInput {
    fn from(l: LocalityInput) -> Self {
        localities::LocalityInput {
            source_id: l.source_id,
            name: l.name,
            logistic_role: l.logistic_role.into(),
            address: l.address.unwrap_or_default().into(),
            responsible: l.responsible.map(|r| localities::Responsible { name: r.name, email: r.email, phone: r.phone }),
        }
    }
}
