//! GraphQL types of orders, localities and their parts.
//!
//! An order's parts (lines, history, shipments, refunds, invoices,
//! classifications) and localities resolve their fields one after another
//! (`serial`). A page holds hundreds of them, and async-graphql resolves the
//! fields of a parallel object through a `FuturesUnordered`: a task
//! allocated and a waker registered per field, although every field of these
//! is at hand (7 % of a 50-order page's instructions). At most one field of
//! each waits on a loader (a shipment's events), so no wait stands behind
//! another, and the lists around them still resolve their items together, so
//! loads still batch. `Order` stays parallel: each of its lists waits on a
//! loader when the page did not read it, and those waits must overlap.

use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::{invoice, locality, order, order_item, order_status_history, refund, shipment, tracking_event, AttributeKind};

use domain::orders::{Unread, UnreadInLists};

use crate::graphql::{guard::StaffOnly, loaders::Loaders, request::parts, scalars::Money};

/// The canonical order status.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::OrderStatus")]
pub enum OrderStatus {
    /// Known to the platform, not yet approved.
    Received,
    /// Payment or order confirmed.
    Approved,
    /// Being produced.
    InProduction,
    /// Fiscal invoice issued.
    Invoiced,
    /// Being picked and prepared; tracking started.
    InSeparation,
    /// Shipped, on its way.
    InTransit,
    /// Delivery difficulty; will be retried.
    DeliveryFailed,
    /// Delivered.
    Delivered,
    /// Cancelled before fulfilment (final).
    Cancelled,
    /// Closed after a refund (final).
    Refunded,
    /// Frozen; release returns it to the status it had.
    OnHold,
}

/// What a locality is used for.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::LogisticRole")]
pub enum LogisticRole {
    /// Goods leave from here.
    Origin,
    /// Goods are delivered here.
    Destination,
    /// Both.
    Both,
}

/// Incoterm of a transport order.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::Incoterm")]
pub enum Incoterm {
    /// Free on board.
    Fob,
    /// Cost, insurance and freight.
    Cif,
    /// FOB with transport.
    Fobt,
    /// Other / operator.
    Op,
}

/// A postal address.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Address {
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
    /// State (two letters).
    pub state: Option<String>,
    /// Country (two letters).
    pub country: Option<String>,
    /// Postal code.
    pub zip_code: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
}

/// The person responsible for a locality: the customer who follows its orders.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Responsible {
    /// Name.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

/// A place goods leave from or are delivered to.
pub struct Locality(pub locality::Model);

#[Object(serial)]
impl Locality {
    /// Locality id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The company's own id for it. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    async fn source_id(&self) -> &str {
        &self.0.source_id
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Origin, destination or both.
    async fn logistic_role(&self) -> LogisticRole {
        self.0.logistic_role.into()
    }
    /// Address and coordinates.
    async fn address(&self) -> Address {
        let l = &self.0;
        Address {
            street: l.street.clone(),
            number: l.number.clone(),
            complement: l.complement.clone(),
            district: l.district.clone(),
            city: l.city.clone(),
            state: l.state.clone(),
            country: l.country.clone(),
            zip_code: l.zip_code.clone(),
            latitude: l.latitude,
            longitude: l.longitude,
        }
    }
    /// The responsible person, if set.
    async fn responsible(&self) -> Option<Responsible> {
        let l = &self.0;
        (l.responsible_email.is_some() || l.responsible_name.is_some()).then(|| Responsible {
            name: l.responsible_name.clone(),
            email: l.responsible_email.clone(),
            phone: l.responsible_phone.clone(),
        })
    }
    /// Last change.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When its responsible person and street address were erased (LGPD);
    /// null again once fresh data is written to it.
    async fn anonymized_at(&self) -> Option<DateTime<Utc>> {
        self.0.anonymized_at
    }
}

/// One line of an order.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct OrderItem {
    /// Item id.
    pub id: ID,
    /// The line's id at the source. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub source_id: String,
    /// SKU / product id.
    pub product_id: String,
    /// Product name.
    pub name: String,
    /// Quantity.
    pub quantity: f64,
    /// Unit price.
    pub unit_price: Money,
    /// The line's total: as its source stated it, else quantity × unit
    /// price, rounded.
    pub total: Money,
    /// Height, metres.
    pub height: Option<f64>,
    /// Length, metres.
    pub length: Option<f64>,
    /// Width, metres.
    pub width: Option<f64>,
    /// Weight, kilograms.
    pub weight: Option<f64>,
    /// Origin locality id. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub origin_locality_id: Option<ID>,
    /// The source's other fields of the line (TOTVS R2: wrapper, units in
    /// shipment units, MIT/DSK, …), by key. Staff only: customers get
    /// `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub attributes: Vec<KeyValue>,
}

impl From<order_item::Model> for OrderItem {
    fn from(i: order_item::Model) -> Self {
        OrderItem {
            id: ID(i.id.to_string()),
            total: Money(i.total_cents.unwrap_or_else(|| (i.quantity * i.unit_price_cents as f64).round() as i64)),
            attributes: domain::orders::stored_item_attributes(i.attributes.as_deref())
                .into_iter()
                .map(|(key, value)| KeyValue { key, value })
                .collect(),
            source_id: i.source_id,
            product_id: i.product_id,
            name: i.name,
            quantity: i.quantity,
            unit_price: Money(i.unit_price_cents),
            height: i.height,
            length: i.length,
            width: i.width,
            weight: i.weight,
            origin_locality_id: i.origin_locality_id.map(|id| ID(id.to_string())),
        }
    }
}

impl OrderItem {
    /// The optional columns of an item a field `name` of `OrderItem` reads;
    /// `None` for a name this list does not know, for which every column is
    /// read (as [`Order::columns_of`]).
    pub fn columns_of(name: &str) -> Option<&'static [order_item::Column]> {
        use order_item::Column as C;
        Some(match name {
            "__typename" | "id" | "sourceId" | "productId" | "name" | "quantity" | "unitPrice" => &[],
            "total" => &[C::TotalCents],
            "height" => &[C::Height],
            "length" => &[C::Length],
            "width" => &[C::Width],
            "weight" => &[C::Weight],
            "originLocalityId" => &[C::OriginLocalityId],
            "attributes" => &[C::Attributes],
            _ => return None,
        })
    }
}

/// A key–value classification or attribute.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// One entry of an order's history: a status change, a comment, or an event
/// from another system recorded but not applied (stale or repeated).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct HistoryEntry {
    /// Entry id.
    pub id: ID,
    /// Status before (none for the creation entry).
    pub from_status: Option<OrderStatus>,
    /// Status after (equal to `fromStatus` for comments).
    pub to_status: OrderStatus,
    /// Comment.
    pub comment: Option<String>,
    /// Whether the customer was to be e-mailed. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub notify_customer: bool,
    /// Whether the customer sees this entry. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub visible_to_customer: bool,
    /// `manual` or the integration's name. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub source: String,
    /// The source's event id. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub event_id: Option<String>,
    /// False when the event was stale or a repeat and changed nothing. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub applied: bool,
    /// Why it was not applied. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub skip_reason: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When the platform recorded it.
    pub recorded_at: DateTime<Utc>,
}

impl From<order_status_history::Model> for HistoryEntry {
    fn from(h: order_status_history::Model) -> Self {
        HistoryEntry {
            id: ID(h.id.to_string()),
            from_status: h.from_status.map(Into::into),
            to_status: h.to_status.into(),
            comment: h.comment,
            notify_customer: h.notify_customer,
            visible_to_customer: h.visible_to_customer,
            source: h.source,
            event_id: h.event_id,
            applied: h.applied,
            skip_reason: h.skip_reason,
            occurred_at: h.occurred_at,
            recorded_at: h.recorded_at,
        }
    }
}

impl HistoryEntry {
    /// The optional columns of an entry a field `name` of `HistoryEntry`
    /// reads (as [`Order::columns_of`]). `fromStatus` is a rule's column,
    /// always read.
    pub fn columns_of(name: &str) -> Option<&'static [order_status_history::Column]> {
        use order_status_history::Column as C;
        Some(match name {
            "__typename" | "id" | "fromStatus" | "toStatus" | "notifyCustomer" | "visibleToCustomer" | "source" | "applied"
            | "occurredAt" | "recordedAt" => &[],
            "comment" => &[C::Comment],
            "eventId" => &[C::EventId],
            "skipReason" => &[C::SkipReason],
            _ => return None,
        })
    }
}

/// A shipment with its tracking code and its carrier's timeline.
#[derive(SimpleObject)]
#[graphql(complex, serial)]
pub struct Shipment {
    /// Shipment id.
    pub id: ID,
    /// Delivery method / carrier service.
    pub carrier: String,
    /// Carrier's display name.
    pub title: Option<String>,
    /// Tracking number.
    pub tracking_number: String,
    /// Tracking page.
    pub tracking_url: Option<String>,
    /// When it left.
    pub shipped_at: DateTime<Utc>,
    /// The invoice it carries, when its source said.
    pub invoice_number: Option<String>,
    /// When its carrier delivered it.
    pub delivered_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    key: (i32, i32),
    /// The columns of its order's tracking events its `events` leave unread.
    #[graphql(skip)]
    events_unread: Unread<tracking_event::Entity>,
}

#[ComplexObject]
impl Shipment {
    /// Its carrier's timeline (where it was, what happened, when), in the
    /// carrier's order; loaded for a whole page at once.
    async fn events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TrackingEvent>> {
        let (order_id, shipment_id) = self.key;
        let rows = loaders(ctx)?.tracking.load_one((order_id, self.events_unread)).await?.unwrap_or_default();
        Ok(rows.into_iter().filter(|e| e.shipment_id == shipment_id).map(TrackingEvent::from).collect())
    }
}

impl Shipment {
    /// The optional columns of a shipment a field `name` of `Shipment` reads
    /// (as [`Order::columns_of`]).
    pub fn columns_of(name: &str) -> Option<&'static [shipment::Column]> {
        use shipment::Column as C;
        Some(match name {
            "__typename" | "id" | "carrier" | "trackingNumber" | "shippedAt" | "events" => &[],
            "title" => &[C::Title],
            "trackingUrl" => &[C::TrackingUrl],
            "invoiceNumber" => &[C::InvoiceNumber],
            "deliveredAt" => &[C::DeliveredAt],
            _ => return None,
        })
    }
}

/// One event of a shipment's timeline, as its carrier reported it.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct TrackingEvent {
    /// When it happened, when the carrier said.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Where: the city.
    pub city: Option<String>,
    /// Where: the state.
    pub state: Option<String>,
    /// What happened.
    pub description: String,
}

impl TrackingEvent {
    /// The optional columns of an event a field `name` of `TrackingEvent`
    /// reads (as [`Order::columns_of`]).
    pub fn columns_of(name: &str) -> Option<&'static [tracking_event::Column]> {
        use tracking_event::Column as C;
        Some(match name {
            "__typename" | "description" => &[],
            "occurredAt" => &[C::OccurredAt],
            "city" => &[C::City],
            "state" => &[C::State],
            _ => return None,
        })
    }
}

impl From<tracking_event::Model> for TrackingEvent {
    fn from(e: tracking_event::Model) -> Self {
        TrackingEvent { occurred_at: e.occurred_at, city: e.city, state: e.state, description: e.description }
    }
}

impl From<shipment::Model> for Shipment {
    fn from(s: shipment::Model) -> Self {
        Shipment {
            key: (s.order_id, s.id),
            invoice_number: s.invoice_number,
            delivered_at: s.delivered_at,
            id: ID(s.id.to_string()),
            carrier: s.carrier,
            title: s.title,
            tracking_number: s.tracking_number,
            tracking_url: s.tracking_url,
            shipped_at: s.shipped_at,
            events_unread: Unread::default(),
        }
    }
}

/// A refund.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Refund {
    /// Refund id.
    pub id: ID,
    /// Amount refunded.
    pub amount: Money,
    /// Comment. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub comment: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<refund::Model> for Refund {
    fn from(r: refund::Model) -> Self {
        Refund { id: ID(r.id.to_string()), amount: Money(r.amount_cents), comment: r.comment, created_at: r.created_at }
    }
}

impl Refund {
    /// The optional columns of a refund a field `name` of `Refund` reads
    /// (as [`Order::columns_of`]).
    pub fn columns_of(name: &str) -> Option<&'static [refund::Column]> {
        Some(match name {
            "__typename" | "id" | "amount" | "createdAt" => &[],
            "comment" => &[refund::Column::Comment],
            _ => return None,
        })
    }
}

/// The fiscal invoice of an order.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Invoice {
    /// Number.
    pub number: String,
    /// NF-e access key.
    pub key: Option<String>,
    /// Series.
    pub series: Option<String>,
    /// Value.
    pub value: Option<Money>,
    /// When issued.
    pub issued_at: Option<DateTime<Utc>>,
    /// Link to the document.
    pub url: Option<String>,
}

impl From<invoice::Model> for Invoice {
    fn from(i: invoice::Model) -> Self {
        Invoice {
            number: i.number,
            key: i.key,
            series: i.series,
            value: Some(Money(i.value_cents)),
            issued_at: Some(i.issued_at),
            url: i.url,
        }
    }
}

impl Invoice {
    /// The optional columns of an invoice a field `name` of `Invoice` reads
    /// in `Order.invoices` (as [`Order::columns_of`]).
    pub fn columns_of(name: &str) -> Option<&'static [invoice::Column]> {
        use invoice::Column as C;
        Some(match name {
            "__typename" | "number" | "value" | "issuedAt" => &[],
            "key" => &[C::Key],
            "series" => &[C::Series],
            "url" => &[C::Url],
            _ => return None,
        })
    }
}

/// An order. Nested lists are loaded in batches for a whole page.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Order {
    /// Order id.
    pub id: ID,
    /// The company's own order id. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub source_id: String,
    /// Order code / number.
    pub code: String,
    /// The company.
    pub company_id: ID,
    /// While on hold, the status a release returns to. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub status_before_hold: Option<OrderStatus>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// 0..10, higher first. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub priority: i32,
    /// Incoterm.
    pub incoterm: Option<Incoterm>,
    /// Order total.
    pub total: Money,
    /// Amount refunded.
    pub refunded: Money,
    /// Free text. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub reference: Option<String>,
    /// Free text. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub observations: Option<String>,
    /// Pickup window start. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub pickup_start: Option<DateTime<Utc>>,
    /// Pickup window end. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    pub pickup_end: Option<DateTime<Utc>>,
    /// Delivery window start.
    pub delivery_start: Option<DateTime<Utc>>,
    /// Delivery window end.
    pub delivery_end: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When its personal data was erased (LGPD). An anonymized order shows
    /// no customer, address, free text or tracking codes, and cannot change.
    pub anonymized_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub model: order::Model,
    /// The columns of its lists' rows its fields leave unread, which its
    /// lists were read (and are cached) without.
    #[graphql(skip)]
    pub lists_unread: UnreadInLists,
}

impl From<order::Model> for Order {
    fn from(o: order::Model) -> Self {
        Order {
            id: ID(o.id.to_string()),
            source_id: o.source_id.clone(),
            code: o.code.clone(),
            company_id: ID(o.company_id.to_string()),
            status_before_hold: o.status_before_hold.map(Into::into),
            customer_name: o.customer_name.clone(),
            priority: o.priority,
            incoterm: o.incoterm.map(Into::into),
            total: Money(o.total_cents),
            refunded: Money(o.refunded_cents),
            reference: o.reference.clone(),
            observations: o.observations.clone(),
            pickup_start: o.pickup_start,
            pickup_end: o.pickup_end,
            delivery_start: o.delivery_start,
            delivery_end: o.delivery_end,
            created_at: o.created_at,
            updated_at: o.updated_at,
            anonymized_at: o.anonymized_at,
            model: o,
            lists_unread: UnreadInLists::default(),
        }
    }
}

fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    Ok(ctx.data::<std::sync::Arc<Loaders>>()?.as_ref())
}

#[ComplexObject]
impl Order {
    /// Current status. A customer sees the status as of the newest change
    /// visible to it: a hidden hold shows as the status before it.
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<OrderStatus> {
        let (_, actor) = parts(ctx)?;
        Ok(domain::orders::shown_status(actor, &self.model).into())
    }

    /// The destination locality.
    async fn destination(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Locality>> {
        let Some(id) = self.model.destination_locality_id else { return Ok(None) };
        Ok(loaders(ctx)?.localities.load_one(id).await?.map(Locality))
    }

    /// The alternative delivery address, when there is no destination locality.
    async fn address(&self) -> Option<Address> {
        let o = &self.model;
        let any = [&o.address_street, &o.address_city, &o.address_zip_code].iter().any(|v| v.is_some());
        any.then(|| Address {
            street: o.address_street.clone(),
            number: o.address_number.clone(),
            complement: o.address_complement.clone(),
            district: o.address_district.clone(),
            city: o.address_city.clone(),
            state: o.address_state.clone(),
            country: o.address_country.clone(),
            zip_code: o.address_zip_code.clone(),
            latitude: o.address_latitude,
            longitude: o.address_longitude,
        })
    }

    /// Every fiscal invoice, in the order they came (an order can be
    /// invoiced in parts).
    async fn invoices(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Invoice>> {
        let rows = loaders(ctx)?.invoices.load_one((self.model.id, self.lists_unread.invoices)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(Invoice::from).collect())
    }

    /// The fiscal invoice, once issued: the latest, when there are several.
    async fn invoice(&self) -> Option<Invoice> {
        let o = &self.model;
        o.invoice_number.as_ref().map(|number| Invoice {
            number: number.clone(),
            key: o.invoice_key.clone(),
            series: o.invoice_series.clone(),
            value: o.invoice_value_cents.map(Money),
            issued_at: o.invoice_issued_at,
            url: o.invoice_url.clone(),
        })
    }

    /// The lines.
    async fn items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderItem>> {
        let rows = loaders(ctx)?.items.load_one((self.model.id, self.lists_unread.items)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(OrderItem::from).collect())
    }

    /// Classifications. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    async fn classifications(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<KeyValue>> {
        self.pairs(ctx, AttributeKind::Classification).await
    }

    /// Attributes. Staff only: customers get `FORBIDDEN`.
    #[graphql(guard = "StaffOnly")]
    async fn attributes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<KeyValue>> {
        self.pairs(ctx, AttributeKind::Attribute).await
    }

    /// The history, oldest first. Customers see only entries visible to them.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<HistoryEntry>> {
        let rows = loaders(ctx)?.history.load_one((self.model.id, self.lists_unread.history)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(HistoryEntry::from).collect())
    }

    /// Shipments with tracking codes.
    async fn shipments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Shipment>> {
        let rows = loaders(ctx)?.shipments.load_one((self.model.id, self.lists_unread.shipments)).await?.unwrap_or_default();
        let events_unread = self.lists_unread.tracking;
        Ok(rows.into_iter().map(|row| Shipment { events_unread, ..Shipment::from(row) }).collect())
    }

    /// Refunds.
    async fn refunds(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Refund>> {
        let rows = loaders(ctx)?.refunds.load_one((self.model.id, self.lists_unread.refunds)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(Refund::from).collect())
    }
}

impl Order {
    /// The optional columns of an order field `name` of `Order` reads beyond
    /// those every order read carries; `None` for a name this list does not
    /// know, for which a page reads every column. (A field added to `Order`
    /// without its line here costs its pages their narrower statement, never
    /// a value: `orders_query::each_field_of_an_order_reads_the_same_alone_as_with_every_other`.)
    pub fn columns_of(name: &str) -> Option<&'static [order::Column]> {
        use order::Column as C;
        Some(match name {
            // Required columns, the domain's rules' (`domain::orders::Unread`),
            // or the order's id for its lists.
            "__typename" | "id" | "sourceId" | "code" | "companyId" | "status" | "statusBeforeHold" | "priority" | "total"
            | "refunded" | "createdAt" | "updatedAt" | "anonymizedAt" | "destination" | "invoices" | "items" | "classifications"
            | "attributes" | "history" | "shipments" | "refunds" => &[],
            "customerName" => &[C::CustomerName],
            "incoterm" => &[C::Incoterm],
            "reference" => &[C::Reference],
            "observations" => &[C::Observations],
            "pickupStart" => &[C::PickupStart],
            "pickupEnd" => &[C::PickupEnd],
            "deliveryStart" => &[C::DeliveryStart],
            "deliveryEnd" => &[C::DeliveryEnd],
            "address" => &[
                C::AddressStreet,
                C::AddressNumber,
                C::AddressComplement,
                C::AddressDistrict,
                C::AddressCity,
                C::AddressState,
                C::AddressCountry,
                C::AddressZipCode,
                C::AddressLatitude,
                C::AddressLongitude,
            ],
            "invoice" => &[C::InvoiceNumber, C::InvoiceKey, C::InvoiceSeries, C::InvoiceValueCents, C::InvoiceIssuedAt, C::InvoiceUrl],
            _ => return None,
        })
    }

    async fn pairs(&self, ctx: &Context<'_>, kind: AttributeKind) -> async_graphql::Result<Vec<KeyValue>> {
        let rows = loaders(ctx)?.attributes.load_one((self.model.id, Unread::default())).await?.unwrap_or_default();
        Ok(rows.into_iter().filter(|r| r.kind == kind).map(|r| KeyValue { key: r.key, value: r.value }).collect())
    }
}

/// The result of a lifecycle mutation.
#[derive(SimpleObject)]
pub struct StatusChangeResult {
    /// The order after the change.
    pub order: Order,
    /// The history entry written.
    pub entry: HistoryEntry,
    /// False when the event was stale or a repeat: recorded, not applied.
    pub applied: bool,
}

impl From<domain::orders::StatusOutcome> for StatusChangeResult {
    fn from(o: domain::orders::StatusOutcome) -> Self {
        StatusChangeResult { order: o.order.into(), entry: o.entry.into(), applied: o.applied }
    }
}
