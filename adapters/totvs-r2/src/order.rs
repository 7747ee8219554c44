//! The R2 transport order (seed `003_…`, "Requisition Layout"): read from
//! its element and checked against every rule the layout states that needs
//! nothing but the order itself. The rules that need the company's data
//! (localities, other orders' items) are the pipeline's, reported with the
//! same codes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::orders::Address;
use entities::Incoterm;

use crate::{
    fields::Fields,
    rules::{Rule, Violation},
    xml::Element,
};

/// Wrapper codes of the "non-unitizable bulk" category, whose quantities may
/// be fractional. TRE keeps wrapper categories in its own master data, which
/// does not travel with orders; these are the codes Rastro treats as bulk.
pub const BULK_WRAPPERS: [&str; 2] = ["BULK", "GRANEL"];

/// How a hub may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubUsage {
    /// Must pass through one of the hubs.
    Mandatory,
    /// May.
    Optional,
    /// Must not.
    Invalid,
}

impl HubUsage {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HubUsage::Mandatory => "MANDATORY",
            HubUsage::Optional => "OPTIONAL",
            HubUsage::Invalid => "INVALID",
        }
    }
}

/// One `orderitem`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct R2Item {
    /// `orderId`: the order's identifier again.
    pub order_id: String,
    /// `sourceId`: unique within the order and across the company's orders.
    pub source_id: String,
    /// Deprecated `orderItemClassificationSourceId`.
    pub classification_source_id: Option<String>,
    /// `productId`: the SKU.
    pub product_id: String,
    /// `originId`: the origin locality's source id.
    pub origin_id: String,
    /// `proportionalityId`.
    pub proportionality_id: Option<String>,
    /// `shipmentUnitWrapperCode`.
    pub wrapper_code: String,
    /// `price`: the value of every unit of the item, as sent (exact).
    pub price: Option<String>,
    /// `height`, metres.
    pub height: Option<f64>,
    /// `length`, metres.
    pub length: Option<f64>,
    /// `width`, metres.
    pub width: Option<f64>,
    /// `weight`, kilograms.
    pub weight: Option<f64>,
    /// Deprecated `volume`.
    pub volume: Option<f64>,
    /// `quantity`: product units in all shipment units.
    pub quantity: f64,
    /// `quantityInShipmentUnits`.
    pub quantity_in_shipment_units: f64,
    /// Deprecated `palletFractionationForbidden`.
    pub pallet_fractionation_forbidden: Option<bool>,
    /// The six orientation flags `hlwAllow` … `wlhAllow`, in that order.
    pub orientations: [Option<bool>; 6],
    /// `MIT`, merge in transit.
    pub mit: Option<String>,
    /// `DSK`, delivery schedule key.
    pub dsk: Option<String>,
    /// `reference`.
    pub reference: Option<String>,
    /// `classifications`: type → value.
    pub classifications: Vec<(String, String)>,
    /// `attributes`: name → value.
    pub attributes: Vec<(String, String)>,
}

/// The names of the orientation flags, in [`R2Item::orientations`]' order.
pub const ORIENTATIONS: [&str; 6] = ["hlwAllow", "hwlAllow", "lhwAllow", "lwhAllow", "whlAllow", "wlhAllow"];

/// One transport order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct R2Order {
    /// `identifier`: the order's id, unique per shipper.
    pub identifier: String,
    /// `regionSourceId`.
    pub region_source_id: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `shipperId`.
    pub shipper_id: Option<String>,
    /// `orderTypeSourceId`.
    pub order_type_source_id: Option<String>,
    /// Deprecated `orderSubTypeSourceId`.
    pub order_sub_type_source_id: Option<String>,
    /// `priority`, 0–10.
    pub priority: Option<i32>,
    /// `pickupStart`.
    pub pickup_start: Option<DateTime<Utc>>,
    /// `pickupEnd`.
    pub pickup_end: Option<DateTime<Utc>>,
    /// `deliveryStart`.
    pub delivery_start: Option<DateTime<Utc>>,
    /// `deliveryEnd`.
    pub delivery_end: Option<DateTime<Utc>>,
    /// `billingLimit`.
    pub billing_limit: Option<DateTime<Utc>>,
    /// `destinationId`: the destination locality's source id (a dummy when
    /// the alternative address is used on creation).
    pub destination_id: Option<String>,
    /// The alternative address, when any of its fields is given.
    pub address: Option<Address>,
    /// `integrationDataSource`.
    pub integration_data_source: Option<String>,
    /// Deprecated `modal`.
    pub modal: Option<i64>,
    /// `passingHubUsageType`.
    pub passing_hub_usage: Option<HubUsage>,
    /// `possiblePassingHubsIds`.
    pub possible_passing_hubs: Vec<String>,
    /// `destinationHubUsageType`.
    pub destination_hub_usage: Option<HubUsage>,
    /// `possibleDestinationHubsIds`.
    pub possible_destination_hubs: Vec<String>,
    /// Deprecated `allowedVehicleIds`.
    pub allowed_vehicles: Vec<String>,
    /// Deprecated `forbiddenVehicleIds`.
    pub forbidden_vehicles: Vec<String>,
    /// `deliveryExclusivity`.
    pub delivery_exclusivity: Option<bool>,
    /// `incoterm`.
    pub incoterm: Option<Incoterm>,
    /// `erpCreationDt`.
    pub erp_creation: Option<DateTime<Utc>>,
    /// `reference`.
    pub reference: Option<String>,
    /// `observations`.
    pub observations: Option<String>,
    /// Deprecated `auxiliary1` … `auxiliary10`, kept as attributes.
    pub auxiliary: Vec<(String, String)>,
    /// `classifications`: type → value.
    pub classifications: Vec<(String, String)>,
    /// `attributes`: name → value.
    pub attributes: Vec<(String, String)>,
    /// `items`.
    pub items: Vec<R2Item>,
    /// Deprecated `deliveryUnits`: accepted and not kept (TRE R2 ignores them too).
    pub delivery_units: usize,
}

/// What a call asks of its orders: creation and update carry the whole
/// layout; deletion needs only the identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `createOrders`.
    Create,
    /// `updateOrders`.
    Update,
    /// `deleteOrders`.
    Delete,
}

/// The order's `identifier` as sent, for answering about an order that could
/// not be read.
pub fn identifier_of(element: &Element) -> String {
    element.child("identifier").map(|e| e.text.trim().chars().take(30).collect()).unwrap_or_default()
}

const AUXILIARY: [&str; 10] = [
    "auxiliary1", "auxiliary2", "auxiliary3", "auxiliary4", "auxiliary5", "auxiliary6", "auxiliary7", "auxiliary8", "auxiliary9",
    "auxiliary10",
];

/// Reads an order and checks it; the order is usable only when the list of
/// violations is empty.
pub fn read_order(element: &Element, purpose: Purpose) -> (R2Order, Vec<Violation>) {
    let mut f = Fields::new(element, "");
    let full = purpose != Purpose::Delete;
    let mut order = R2Order {
        identifier: f.text("identifier", true, 30).unwrap_or_default(),
        region_source_id: f.text("regionSourceId", full, 30),
        code: f.text("code", full, 255),
        shipper_id: f.text("shipperId", full, 255),
        order_type_source_id: f.text("orderTypeSourceId", full, 30),
        order_sub_type_source_id: f.text("orderSubTypeSourceId", false, 30),
        pickup_start: f.datetime("pickupStart", full),
        pickup_end: f.datetime("pickupEnd", false),
        delivery_start: f.datetime("deliveryStart", false),
        delivery_end: f.datetime("deliveryEnd", full),
        billing_limit: f.datetime("billingLimit", false),
        destination_id: f.text("destinationId", full, 30),
        integration_data_source: f.text("integrationDataSource", full, 30),
        modal: f.integer("modal", false, 1),
        possible_passing_hubs: f.list("possiblePassingHubsIds", 30),
        possible_destination_hubs: f.list("possibleDestinationHubsIds", 30),
        allowed_vehicles: f.list("allowedVehicleIds", 255),
        forbidden_vehicles: f.list("forbiddenVehicleIds", 255),
        delivery_exclusivity: f.boolean("deliveryExclusivity"),
        erp_creation: f.datetime("erpCreationDt", false),
        reference: f.text("reference", false, 500),
        observations: f.text("observations", false, 500),
        ..R2Order::default()
    };
    order.priority = match f.integer("priority", full, 2) {
        Some(p @ 0..=10) => Some(p as i32),
        Some(p) => {
            f.violate(Rule::Priority, "priority", format!("{p} is not between 0 and 10"));
            None
        }
        None => None,
    };
    order.incoterm = match f.integer("incoterm", false, 1) {
        Some(0) => Some(Incoterm::Fob),
        Some(1) => Some(Incoterm::Cif),
        Some(2) => Some(Incoterm::Fobt),
        Some(3) => Some(Incoterm::Op),
        Some(other) => {
            f.violate(Rule::Incoterm, "incoterm", format!("{other} is not 0 (FOB), 1 (CIF), 2 (FOBT) or 3 (OP)"));
            None
        }
        None => None,
    };
    order.passing_hub_usage = hub_usage(&mut f, "passingHubUsageType");
    order.destination_hub_usage = hub_usage(&mut f, "destinationHubUsageType");
    order.address = read_address(&mut f);
    for name in AUXILIARY {
        if let Some(value) = f.text(name, false, 500) {
            order.auxiliary.push((name.to_owned(), value));
        }
    }
    order.classifications = pairs(&mut f, "classifications", "type");
    order.attributes = pairs(&mut f, "attributes", "name");
    order.delivery_units = f.all("deliveryUnits").iter().map(|e| e.children.len().max(1)).sum();
    let items = f.all("items");
    let mut violations = f.finish();
    for (n, element) in items.iter().flat_map(|group| group.children.iter()).enumerate() {
        let (item, found) = read_item(element, n, &order.identifier);
        violations.extend(found);
        order.items.push(item);
    }
    if full {
        check_order(&order, &mut violations);
    }
    (order, violations)
}

fn hub_usage(f: &mut Fields<'_>, name: &'static str) -> Option<HubUsage> {
    match f.text(name, false, 10)?.as_str() {
        "MANDATORY" => Some(HubUsage::Mandatory),
        "OPTIONAL" => Some(HubUsage::Optional),
        "INVALID" => Some(HubUsage::Invalid),
        other => {
            f.violate(Rule::HubUsage, name, format!("{other:?} is not MANDATORY, OPTIONAL or INVALID (capitals)"));
            None
        }
    }
}

/// Reads `classifications` or `attributes`: a group of entries, each with
/// its key element (`type` or `name`) and `value`.
fn pairs(f: &mut Fields<'_>, group: &'static str, key: &'static str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let entries: Vec<&Element> = f.all(group).into_iter().flat_map(|g| g.children.iter()).collect();
    for (n, entry) in entries.into_iter().enumerate() {
        let mut inner = Fields::new(entry, format!("{}{group}[{n}].", f.path("")));
        let k = inner.text(key, true, 255);
        let v = inner.text("value", true, 255);
        f.violations.extend(inner.finish());
        if let (Some(k), Some(v)) = (k, v) {
            found.push((k, v));
        }
    }
    found
}

fn read_address(f: &mut Fields<'_>) -> Option<Address> {
    let acronym = |f: &mut Fields<'_>, name: &'static str| {
        let value = f.text(name, false, 2)?;
        if value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()) {
            Some(value.to_ascii_uppercase())
        } else {
            f.violate(Rule::Acronym, name, format!("{value:?} is not a two-letter acronym"));
            None
        }
    };
    let mut address = Address {
        country: acronym(f, "addressCountryAcronym"),
        state: acronym(f, "addressStateAcronym"),
        city: f.text("addressCity", false, 50),
        district: f.text("addressDistrict", false, 50),
        street: f.text("addressStreet", false, 200),
        number: f.text("addressNumber", false, 30),
        complement: f.text("addressComplement", false, 30),
        zip_code: f.text("addressZipCode", false, 10),
        ..Address::default()
    };
    let latitude = f.decimal("addressLatitude", false).map(|(_, v)| v);
    let longitude = f.decimal("addressLongitude", false).map(|(_, v)| v);
    match (latitude, longitude) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) {
                f.violate(Rule::CoordinatesRange, "addressLatitude", format!("{lat} is not between -90 and 90"));
            }
            if !(-180.0..=180.0).contains(&lon) {
                f.violate(Rule::CoordinatesRange, "addressLongitude", format!("{lon} is not between -180 and 180"));
            }
            address.latitude = Some(lat);
            address.longitude = Some(lon);
        }
        (Some(_), None) => f.violate(Rule::CoordinatesPair, "addressLongitude", "is mandatory with addressLatitude"),
        (None, Some(_)) => f.violate(Rule::CoordinatesPair, "addressLatitude", "is mandatory with addressLongitude"),
        (None, None) => {}
    }
    (address != Address::default()).then_some(address)
}

fn read_item(element: &Element, n: usize, identifier: &str) -> (R2Item, Vec<Violation>) {
    let mut f = Fields::new(element, format!("items[{n}]."));
    let positive = |f: &mut Fields<'_>, name: &'static str, rule: Rule, mandatory: bool| {
        let (text, value) = f.decimal(name, mandatory)?;
        if value <= 0.0 {
            f.violate(rule, name, format!("{text} is not greater than zero"));
        }
        Some(value)
    };
    let mut item = R2Item {
        order_id: f.text("orderId", true, 30).unwrap_or_default(),
        source_id: f.text("sourceId", true, 30).unwrap_or_default(),
        classification_source_id: f.text("orderItemClassificationSourceId", false, 30),
        product_id: f.text("productId", true, 30).unwrap_or_default(),
        origin_id: f.text("originId", true, 30).unwrap_or_default(),
        proportionality_id: f.text("proportionalityId", false, 255),
        wrapper_code: f.text("shipmentUnitWrapperCode", true, 30).unwrap_or_default(),
        price: f.decimal("price", false).map(|(text, _)| text),
        height: positive(&mut f, "height", Rule::Dimension, false),
        length: positive(&mut f, "length", Rule::Dimension, false),
        width: positive(&mut f, "width", Rule::Dimension, false),
        weight: positive(&mut f, "weight", Rule::Dimension, false),
        volume: f.decimal("volume", false).map(|(_, v)| v),
        quantity: positive(&mut f, "quantity", Rule::Quantity, true).unwrap_or_default(),
        quantity_in_shipment_units: positive(&mut f, "quantityInShipmentUnits", Rule::ShipmentUnits, true).unwrap_or_default(),
        pallet_fractionation_forbidden: f.boolean("palletFractionationForbidden"),
        mit: f.text("MIT", false, 50),
        dsk: f.text("DSK", false, 50),
        reference: f.text("reference", false, 255),
        ..R2Item::default()
    };
    for (slot, name) in item.orientations.iter_mut().zip(ORIENTATIONS) {
        *slot = f.boolean(name);
    }
    if item.price.as_deref().is_some_and(|p| p.starts_with('-')) {
        f.violate(Rule::Decimal, "price", format!("{} is negative", item.price.as_deref().unwrap_or_default()));
    }
    if item.quantity > 0.0 && item.quantity.fract() != 0.0 && !BULK_WRAPPERS.contains(&item.wrapper_code.as_str()) {
        f.violate(
            Rule::QuantityIntegral,
            "quantity",
            format!("{} is not a whole number and wrapper {:?} is not bulk", item.quantity, item.wrapper_code),
        );
    }
    if !item.order_id.is_empty() && item.order_id != identifier {
        f.violate(Rule::ItemOrderId, "orderId", format!("{:?} is not the order's identifier {identifier:?}", item.order_id));
    }
    item.classifications = pairs(&mut f, "classifications", "type");
    item.attributes = pairs(&mut f, "attributes", "name");
    (item, f.finish())
}

/// The rules between fields of one order.
fn check_order(order: &R2Order, violations: &mut Vec<Violation>) {
    let mut violate = |rule, field: &str, message: String| violations.push(Violation::new(rule, field, message));
    // In the senders' own offset, as they wrote it.
    let offset = crate::fields::senders_offset();
    let at = |d: &DateTime<Utc>| d.with_timezone(&offset).to_rfc3339();
    if let (Some(ps), Some(de)) = (order.pickup_start, order.delivery_end) {
        if ps >= de {
            violate(Rule::PickupStartBeforeDeliveryEnd, "pickupStart", format!("{} is not before deliveryEnd {}", at(&ps), at(&de)));
        }
    }
    if let (Some(ps), Some(pe)) = (order.pickup_start, order.pickup_end) {
        if ps >= pe {
            violate(Rule::PickupStartBeforePickupEnd, "pickupStart", format!("{} is not before pickupEnd {}", at(&ps), at(&pe)));
        }
    }
    if let (Some(pe), Some(de)) = (order.pickup_end, order.delivery_end) {
        if pe > de {
            violate(Rule::PickupEndNotAfterDeliveryEnd, "pickupEnd", format!("{} is after deliveryEnd {}", at(&pe), at(&de)));
        }
    }
    if let (Some(ds), Some(de)) = (order.delivery_start, order.delivery_end) {
        if ds > de {
            violate(Rule::DeliveryStartNotAfterDeliveryEnd, "deliveryStart", format!("{} is after deliveryEnd {}", at(&ds), at(&de)));
        }
    }
    if let Some(address) = &order.address {
        let has_zip = address.zip_code.is_some();
        if !has_zip {
            for (name, value) in [
                ("addressCountryAcronym", &address.country),
                ("addressStateAcronym", &address.state),
                ("addressCity", &address.city),
            ] {
                if value.is_none() {
                    violate(Rule::AddressWithoutZip, name, "is mandatory when addressZipCode is not given".to_owned());
                }
            }
        }
        if !has_zip && address.state.is_none() && address.city.is_none() {
            violate(Rule::AddressZip, "addressZipCode", "is mandatory when addressStateAcronym and addressCity are not given".to_owned());
        }
    }
    if order.items.is_empty() {
        violate(Rule::NoItems, "items", "an order needs at least one item".to_owned());
    }
    let mut seen = HashSet::new();
    for (n, item) in order.items.iter().enumerate() {
        if !item.source_id.is_empty() && !seen.insert(item.source_id.as_str()) {
            violate(Rule::ItemRepeated, &format!("items[{n}].sourceId"), format!("{:?} repeats another item of this order", item.source_id));
        }
        if !item.origin_id.is_empty() && order.destination_id.as_deref() == Some(item.origin_id.as_str()) && order.address.is_none() {
            violate(Rule::OriginIsDestination, &format!("items[{n}].originId"), format!("{:?} is the order's destination", item.origin_id));
        }
    }
    check_mit_dsk(&order.items, &mut violate);
}

/// Items with the same DSK must have the same MIT, and that MIT must be
/// different from every other item's.
fn check_mit_dsk(items: &[R2Item], violate: &mut impl FnMut(Rule, &str, String)) {
    let mut mit_of_dsk: HashMap<&str, &str> = HashMap::new();
    let mut dsk_of_mit: HashMap<&str, Option<&str>> = HashMap::new();
    for (n, item) in items.iter().enumerate() {
        let field = format!("items[{n}].MIT");
        let Some(mit) = item.mit.as_deref() else { continue };
        if let Some(dsk) = item.dsk.as_deref() {
            let first = *mit_of_dsk.entry(dsk).or_insert(mit);
            if first != mit {
                violate(Rule::MitDsk, &field, format!("{mit:?} differs from {first:?}, the MIT of the other items with DSK {dsk:?}"));
                continue;
            }
        }
        let first = *dsk_of_mit.entry(mit).or_insert(item.dsk.as_deref());
        if first != item.dsk.as_deref() {
            let name = |dsk: Option<&str>| dsk.map_or("no DSK".to_owned(), |d| format!("DSK {d:?}"));
            violate(
                Rule::MitDsk,
                &field,
                format!("{mit:?} is also the MIT of items with {}, and this item has {}", name(first), name(item.dsk.as_deref())),
            );
        }
    }
}
