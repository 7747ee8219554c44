//! TOTVS TOL/TRE R2 `OrderAcquisitionService` over SOAP 1.1 ⇄ ingestion
//! commands.
//!
//! `createOrders`, `updateOrders` and `deleteOrders` carry transport orders in
//! the layout of seed `003_…`; each order becomes one record, applied whole or
//! not at all, and the answer is the layout's `ordersResponse` with one
//! `result` per order. Reading is tolerant of prefixes, default namespaces
//! and element order, and strict on content: every rule of the layout that
//! needs only the order is checked here ([`order`]), each with a stable code
//! ([`rules::Rule`], tabled in the README); the rules that need the company's
//! localities and orders are checked by the pipeline and answered with the
//! same codes.
//!
//! Pure: bytes in, commands out, answers rendered from the report.

pub mod answer;
pub mod fields;
pub mod order;
pub mod rules;
pub mod trip;
pub mod xml;

use std::collections::HashSet;

use domain::{
    ingest::{Adapter, Batch, Command, Context, ItemError, ItemReport, Record, Report, WireError},
    orders::{EventMeta, NewItem, NewOrder},
};
use entities::ItemOutcome;

use crate::{
    answer::OrderResult,
    order::{identifier_of, read_order, Purpose, R2Item, R2Order},
    rules::{Rule, Violation},
};

/// The adapter's name in runs and URLs.
pub const NAME: &str = "totvs-r2";

/// The target namespace of the service's messages when none is configured.
/// TOTVS builds its acquisition namespaces as
/// `http://www.neolog.com.br/cpl/acquisition/<name>/`; reading accepts any.
pub const DEFAULT_NAMESPACE: &str = "http://www.neolog.com.br/cpl/acquisition/order/";

/// `createOrders`.
pub const CREATE_ORDERS: &str = "createOrders";
/// `updateOrders`.
pub const UPDATE_ORDERS: &str = "updateOrders";
/// `deleteOrders`.
pub const DELETE_ORDERS: &str = "deleteOrders";

/// The service description: the WSDL with its XSD types, its messages in
/// `namespace` and its endpoint at `location`.
pub fn wsdl(namespace: &str, location: &str) -> String {
    include_str!("../wsdl/OrderAcquisitionService.wsdl")
        .replace("{namespace}", &quick_xml::escape::escape(namespace))
        .replace("{location}", &quick_xml::escape::escape(location))
}

/// Most orders one call may carry.
pub const MAX_ORDERS: usize = 5_000;

/// See the crate documentation.
#[derive(Debug, Clone)]
pub struct TotvsR2 {
    /// The namespace of answers.
    pub namespace: String,
}

impl Default for TotvsR2 {
    fn default() -> Self {
        TotvsR2 { namespace: DEFAULT_NAMESPACE.to_owned() }
    }
}

fn purpose_of(operation: &str) -> Option<Purpose> {
    match operation {
        CREATE_ORDERS => Some(Purpose::Create),
        UPDATE_ORDERS => Some(Purpose::Update),
        DELETE_ORDERS => Some(Purpose::Delete),
        _ => None,
    }
}

/// What a request says before its arguments: the operation (the Body's
/// first element) and a WS-Security `UsernameToken` password, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preamble {
    /// The operation's local name.
    pub operation: Option<String>,
    /// `Security/UsernameToken/Password` of the SOAP header.
    pub password: Option<String>,
}

/// Reads a request up to its operation element and no further, so the
/// caller can authenticate and name the run before the body is parsed.
/// Anything unreadable ends the scan; the parse reports it properly.
pub fn preamble(body: &[u8]) -> Preamble {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut found = Preamble::default();
    loop {
        let Ok(event) = reader.read_event() else { return found };
        match event {
            Event::Start(start) | Event::Empty(start) if path.len() == 2 && path[1] == b"Body" => {
                found.operation = Some(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
                return found;
            }
            Event::Start(start) => {
                path.push(start.local_name().as_ref().to_vec());
                if path.len() > xml::MAX_DEPTH {
                    return found;
                }
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(text) if path.ends_with(&[b"UsernameToken".to_vec(), b"Password".to_vec()]) && path.get(1).is_some_and(|p| p == b"Header") => {
                let password = text.xml_content().map(|t| t.trim().to_owned()).unwrap_or_default();
                found.password = Some(password).filter(|p| !p.is_empty());
            }
            Event::DocType(_) | Event::Eof => return found,
            _ => {}
        }
    }
}

/// The operation a SOAP request names; see [`preamble`].
pub fn operation_of(body: &[u8]) -> Option<String> {
    preamble(body).operation
}

/// The orders of an `orders` wrapper, or the operation's own `order` children.
fn order_elements<'e, 'a>(operation: &'e xml::Element<'a>) -> Vec<&'e xml::Element<'a>> {
    operation
        .children
        .iter()
        .flat_map(|child| if child.name == "orders" { child.children.iter().collect::<Vec<_>>() } else { vec![child] })
        .collect()
}

/// The event of a deletion: keyed by the order so a repeat is recognised.
fn deletion(identifier: &str, context: &Context) -> EventMeta {
    EventMeta {
        occurred_at: Some(context.now),
        event_id: Some(format!("{NAME}:delete:{identifier}")),
        comment: Some("deleted in TOTVS TRE (deleteOrders)".to_owned()),
        source: NAME.to_owned(),
        ..EventMeta::default()
    }
}

/// The order's details in Rastro's words. R2 fields Rastro has no column for
/// are kept as attributes under their R2 names, so nothing sent is lost.
pub fn new_order(order: R2Order, purpose: Purpose) -> NewOrder {
    let mut attributes = order.attributes;
    let mut keep = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            attributes.push((name.to_owned(), value));
        }
    };
    keep("regionSourceId", order.region_source_id);
    keep("shipperId", order.shipper_id);
    keep("orderTypeSourceId", order.order_type_source_id);
    keep("orderSubTypeSourceId", order.order_sub_type_source_id);
    keep("integrationDataSource", order.integration_data_source);
    keep("modal", order.modal.map(|m| m.to_string()));
    keep("passingHubUsageType", order.passing_hub_usage.map(|h| h.as_str().to_owned()));
    keep("possiblePassingHubsIds", Some(order.possible_passing_hubs.join(",")));
    keep("destinationHubUsageType", order.destination_hub_usage.map(|h| h.as_str().to_owned()));
    keep("possibleDestinationHubsIds", Some(order.possible_destination_hubs.join(",")));
    keep("allowedVehicleIds", Some(order.allowed_vehicles.join(",")));
    keep("forbiddenVehicleIds", Some(order.forbidden_vehicles.join(",")));
    keep("deliveryExclusivity", order.delivery_exclusivity.map(|b| b.to_string()));
    keep("billingLimit", order.billing_limit.map(|d| d.to_rfc3339()));
    keep("erpCreationDt", order.erp_creation.map(|d| d.to_rfc3339()));
    attributes.extend(order.auxiliary);
    // On creation an alternative address makes `destinationId` a dummy.
    let dummy = purpose == Purpose::Create && order.address.is_some();
    NewOrder {
        source_id: order.identifier.clone(),
        code: order.code.unwrap_or_else(|| order.identifier.clone()),
        destination_source_id: if dummy { None } else { order.destination_id },
        address: order.address,
        pickup_start: order.pickup_start,
        pickup_end: order.pickup_end,
        delivery_start: order.delivery_start,
        delivery_end: order.delivery_end,
        priority: order.priority,
        incoterm: order.incoterm,
        reference: order.reference,
        observations: order.observations,
        items: order.items.into_iter().map(new_item).collect(),
        classifications: order.classifications,
        attributes,
        ..NewOrder::default()
    }
}

/// A decimal amount in cents, rounded half up at the third decimal, without
/// passing through a float.
pub fn cents(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut digits = fraction.chars();
    let kept: String = digits.by_ref().take(2).collect();
    let round_up = digits.next().is_some_and(|d| d >= '5');
    let exact = domain::money::parse_cents(&format!("{whole}.{kept}"))?;
    exact.checked_add(i64::from(round_up))
}

/// An item in Rastro's words: `price` is the value of all its units, kept
/// as the line's total; the unit price is `price / quantity` in whole cents.
/// The item's other R2 fields are kept as its attributes under their R2
/// names, its classifications as `classification.{type}`.
fn new_item(item: R2Item) -> NewItem {
    let total = item.price.as_deref().and_then(cents);
    let mut attributes = Vec::new();
    let mut keep = |name: String, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            attributes.push((name, value));
        }
    };
    keep("shipmentUnitWrapperCode".into(), Some(item.wrapper_code));
    keep("quantityInShipmentUnits".into(), Some(item.quantity_in_shipment_units.to_string()));
    keep("MIT".into(), item.mit);
    keep("DSK".into(), item.dsk);
    keep("reference".into(), item.reference);
    keep("proportionalityId".into(), item.proportionality_id);
    keep("orderItemClassificationSourceId".into(), item.classification_source_id);
    keep("volume".into(), item.volume.map(|v| v.to_string()));
    keep("palletFractionationForbidden".into(), item.pallet_fractionation_forbidden.map(|b| b.to_string()));
    for (flag, name) in item.orientations.iter().zip(order::ORIENTATIONS) {
        keep(name.to_owned(), flag.map(|b| b.to_string()));
    }
    for (kind, value) in item.classifications {
        keep(format!("classification.{kind}"), Some(value));
    }
    for (name, value) in item.attributes {
        keep(name, Some(value));
    }
    NewItem {
        name: item.product_id.clone(),
        source_id: item.source_id,
        product_id: item.product_id,
        quantity: item.quantity,
        unit_price_cents: (total.unwrap_or(0) as f64 / item.quantity).round() as i64,
        total_cents: total,
        height: item.height,
        length: item.length,
        width: item.width,
        weight: item.weight,
        origin_locality_id: None,
        origin_source_id: Some(item.origin_id),
        attributes,
    }
}

impl TotvsR2 {
    /// Reads one call into records: one per order, refused with its
    /// violations or carrying its commands.
    pub fn records(&self, operation: &str, body: &[u8], context: &Context) -> Result<Vec<Record>, WireError> {
        // The envelope first: a hostile document is refused as such, whatever
        // operation it names.
        let envelope = xml::read_envelope(body)?;
        let named = envelope.operation.name.as_ref();
        if named != operation {
            return Err(WireError::unknown_operation(named));
        }
        match named {
            trip::PUBLISH_RELEASED_TRIP => return trip::released_trip(&envelope.operation, context),
            trip::PUBLISH_TRACKING_EVENTS => return trip::tracking_events(&envelope.operation),
            _ => {}
        }
        let purpose = purpose_of(named).ok_or_else(|| WireError::unknown_operation(named))?;
        let elements = order_elements(&envelope.operation);
        if elements.is_empty() {
            return Err(WireError::malformed(format!("{operation} carries no order")));
        }
        if elements.len() > MAX_ORDERS {
            return Err(WireError { code: "TOO_LARGE", message: format!("{} orders in one call; at most {MAX_ORDERS}", elements.len()) });
        }
        let mut seen = HashSet::new();
        let mut records = Vec::with_capacity(elements.len());
        for element in elements {
            if element.name != "order" {
                let identifier = identifier_of(element);
                let wrong = Violation::new(Rule::UnknownField, element.name.clone(), format!("is not an order of {operation}"));
                records.push(Record::refused(identifier, vec![wrong.into()]));
                continue;
            }
            let (order, mut violations) = read_order(element, purpose);
            if !order.identifier.is_empty() && !seen.insert(order.identifier.clone()) {
                violations.push(Violation::new(Rule::RepeatedInCall, "identifier", format!("{:?} appears twice in this call", order.identifier)));
            }
            if !violations.is_empty() {
                // Answered under the identifier as sent, even one too long.
                records.push(Record::refused(identifier_of(element), violations.into_iter().map(ItemError::from).collect()));
                continue;
            }
            let identifier = order.identifier.clone();
            let whole = |order| NewOrder {
                source_digest: Some(element.digest()),
                item_ids_unique_in_company: true,
                ..new_order(order, purpose)
            };
            let command = match purpose {
                Purpose::Create => Command::Create(whole(order)),
                Purpose::Update => Command::Replace(whole(order)),
                Purpose::Delete => Command::Delete(deletion(&identifier, context)),
            };
            records.push(Record::new(identifier, vec![command]));
        }
        Ok(records)
    }
}

/// The rule a failure reported by the pipeline broke, from its code and field.
fn rule_of(operation: &str, error: &ItemError) -> Option<Rule> {
    let field = error.field.as_deref().unwrap_or_default();
    Some(match error.code {
        "CONFLICT" if operation == CREATE_ORDERS => Rule::Exists,
        "NOT_FOUND" => Rule::NotFound,
        "VALIDATION" if field.starts_with("destination") => Rule::Destination,
        "VALIDATION" if field.ends_with("originLocalityId") || field.ends_with("originId") => Rule::Origin,
        "VALIDATION" if field.ends_with("sourceId") && field.starts_with("items") => Rule::ItemTaken,
        "VALIDATION" if field == "status" => Rule::NotAllowed,
        _ => return None,
    })
}

/// What one record's report means to the caller.
fn result_of(operation: &str, item: &ItemReport) -> OrderResult {
    let identifier = item.source_id.clone();
    match (&item.outcome, &item.error) {
        (ItemOutcome::Applied, _) => OrderResult { identifier, success: true, codes: vec![], message: None },
        (ItemOutcome::Skipped, _) if operation == DELETE_ORDERS => OrderResult {
            identifier,
            success: false,
            codes: vec![Rule::AlreadyDeleted.code().to_owned()],
            message: Some(format!("identifier: {:?} was already deleted", item.source_id)),
        },
        (ItemOutcome::Skipped, _) => OrderResult { identifier, success: true, codes: vec![], message: item.notes.first().cloned() },
        (ItemOutcome::Failed, error) => {
            let codes = if item.refusals.is_empty() {
                let code = error.as_ref().map(|e| rule_of(operation, e).map_or(e.code, Rule::code)).unwrap_or("R2_ERROR");
                vec![code.to_owned()]
            } else {
                let mut codes: Vec<String> = item.refusals.iter().map(|r| r.code.to_owned()).collect();
                codes.dedup();
                codes
            };
            OrderResult { identifier, success: false, codes, message: error.as_ref().map(|e| e.message.clone()) }
        }
    }
}

impl Adapter for TotvsR2 {
    fn name(&self) -> &'static str {
        NAME
    }

    fn operation_of(&self, body: &[u8]) -> Option<String> {
        operation_of(body)
    }

    fn parse(&self, operation: &str, body: &[u8], context: &Context) -> Result<Batch, WireError> {
        Ok(Batch { records: self.records(operation, body, context)? })
    }

    fn render(&self, operation: &str, report: &Report) -> Vec<u8> {
        let results: Vec<OrderResult> = report.items.iter().map(|item| result_of(operation, item)).collect();
        answer::orders_response(&self.namespace, operation, &results)
    }

    fn render_rejection(&self, _operation: &str, error: &WireError) -> Vec<u8> {
        answer::fault(&self.namespace, error)
    }
}
