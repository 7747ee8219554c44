//! The validation rules of the R2 order layout (seed `003_…`), each with a
//! stable code. The crate's README lists them as a table; a test keeps the
//! two in step.

use std::fmt;

/// One rule of the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A mandatory field is missing or blank.
    Mandatory,
    /// A field is longer than its maximum size.
    Size,
    /// An integer field is not an integer.
    Integer,
    /// A decimal field is not a decimal number.
    Decimal,
    /// A boolean field is not `true`/`false`/`1`/`0`.
    Boolean,
    /// A date-time field is not `YYYY-MM-DDThh:mm[:ss[.fff]][offset]`.
    DateTime,
    /// `priority` is not between 0 and 10.
    Priority,
    /// `pickupStart` is not before `deliveryEnd`.
    PickupStartBeforeDeliveryEnd,
    /// `pickupStart` is not before `pickupEnd`.
    PickupStartBeforePickupEnd,
    /// `pickupEnd` is after `deliveryEnd`.
    PickupEndNotAfterDeliveryEnd,
    /// `deliveryStart` is after `deliveryEnd`.
    DeliveryStartNotAfterDeliveryEnd,
    /// Latitude without longitude or the reverse.
    CoordinatesPair,
    /// Latitude outside −90..90 or longitude outside −180..180.
    CoordinatesRange,
    /// Alternative address without zip code: country, state and city are mandatory.
    AddressWithoutZip,
    /// Alternative address without state and city: the zip code is mandatory.
    AddressZip,
    /// A country or state acronym that is not two letters.
    Acronym,
    /// `incoterm` is not 0 (FOB), 1 (CIF), 2 (FOBT) or 3 (OP).
    Incoterm,
    /// A hub usage type other than `MANDATORY`, `OPTIONAL`, `INVALID` (case-sensitive).
    HubUsage,
    /// The destination locality is missing, or is an origin only.
    Destination,
    /// An item `sourceId` repeats one of the same order.
    ItemRepeated,
    /// An item `sourceId` belongs to another order of the company.
    ItemTaken,
    /// An item's `orderId` differs from the order's `identifier`.
    ItemOrderId,
    /// `originId` is not an origin locality of the company.
    Origin,
    /// `originId` is the order's destination.
    OriginIsDestination,
    /// `quantity` is not greater than zero.
    Quantity,
    /// `quantity` is not integral and the wrapper is not bulk.
    QuantityIntegral,
    /// `quantityInShipmentUnits` is not greater than zero.
    ShipmentUnits,
    /// A dimension (height, length, width, weight) given as zero or less.
    Dimension,
    /// Items with one `DSK` have different `MIT`s, or share their `MIT` with other items.
    MitDsk,
    /// An order has no items.
    NoItems,
    /// An element the layout does not have.
    UnknownField,
    /// The same `identifier` twice in one call.
    RepeatedInCall,
    /// `createOrders` for an identifier that exists (with other content).
    Exists,
    /// `updateOrders` or `deleteOrders` for an identifier that does not exist.
    NotFound,
    /// `deleteOrders` for an order already deleted (cancelled).
    AlreadyDeleted,
    /// The order cannot take this change now (its status forbids it).
    NotAllowed,
    /// A tracking event's type is not one the service knows.
    EventType,
    /// A tracking event names neither or both of `orderSourceId` and `tripId`.
    EventTarget,
}

impl Rule {
    /// Every rule, in the README's order.
    pub const ALL: [Rule; 38] = [
        Rule::Mandatory,
        Rule::Size,
        Rule::Integer,
        Rule::Decimal,
        Rule::Boolean,
        Rule::DateTime,
        Rule::Priority,
        Rule::PickupStartBeforeDeliveryEnd,
        Rule::PickupStartBeforePickupEnd,
        Rule::PickupEndNotAfterDeliveryEnd,
        Rule::DeliveryStartNotAfterDeliveryEnd,
        Rule::CoordinatesPair,
        Rule::CoordinatesRange,
        Rule::AddressWithoutZip,
        Rule::AddressZip,
        Rule::Acronym,
        Rule::Incoterm,
        Rule::HubUsage,
        Rule::Destination,
        Rule::ItemRepeated,
        Rule::ItemTaken,
        Rule::ItemOrderId,
        Rule::Origin,
        Rule::OriginIsDestination,
        Rule::Quantity,
        Rule::QuantityIntegral,
        Rule::ShipmentUnits,
        Rule::Dimension,
        Rule::MitDsk,
        Rule::NoItems,
        Rule::UnknownField,
        Rule::RepeatedInCall,
        Rule::Exists,
        Rule::NotFound,
        Rule::AlreadyDeleted,
        Rule::NotAllowed,
        Rule::EventType,
        Rule::EventTarget,
    ];

    /// The stable code in answers and the integrations log (≤ 30 characters,
    /// the size of the answer's `errorCodes`).
    pub fn code(self) -> &'static str {
        match self {
            Rule::Mandatory => "R2_MANDATORY",
            Rule::Size => "R2_SIZE",
            Rule::Integer => "R2_INTEGER",
            Rule::Decimal => "R2_DECIMAL",
            Rule::Boolean => "R2_BOOLEAN",
            Rule::DateTime => "R2_DATETIME",
            Rule::Priority => "R2_PRIORITY",
            Rule::PickupStartBeforeDeliveryEnd => "R2_PICKUP_START_DELIVERY_END",
            Rule::PickupStartBeforePickupEnd => "R2_PICKUP_START_PICKUP_END",
            Rule::PickupEndNotAfterDeliveryEnd => "R2_PICKUP_END_DELIVERY_END",
            Rule::DeliveryStartNotAfterDeliveryEnd => "R2_DELIVERY_START_END",
            Rule::CoordinatesPair => "R2_COORDINATES_PAIR",
            Rule::CoordinatesRange => "R2_COORDINATES_RANGE",
            Rule::AddressWithoutZip => "R2_ADDRESS_WITHOUT_ZIP",
            Rule::AddressZip => "R2_ADDRESS_ZIP",
            Rule::Acronym => "R2_ACRONYM",
            Rule::Incoterm => "R2_INCOTERM",
            Rule::HubUsage => "R2_HUB_USAGE",
            Rule::Destination => "R2_DESTINATION",
            Rule::ItemRepeated => "R2_ITEM_REPEATED",
            Rule::ItemTaken => "R2_ITEM_TAKEN",
            Rule::ItemOrderId => "R2_ITEM_ORDER_ID",
            Rule::Origin => "R2_ORIGIN",
            Rule::OriginIsDestination => "R2_ORIGIN_IS_DESTINATION",
            Rule::Quantity => "R2_QUANTITY",
            Rule::QuantityIntegral => "R2_QUANTITY_INTEGRAL",
            Rule::ShipmentUnits => "R2_SHIPMENT_UNITS",
            Rule::Dimension => "R2_DIMENSION",
            Rule::MitDsk => "R2_MIT_DSK",
            Rule::NoItems => "R2_NO_ITEMS",
            Rule::UnknownField => "R2_UNKNOWN_FIELD",
            Rule::RepeatedInCall => "R2_REPEATED_IN_CALL",
            Rule::Exists => "R2_EXISTS",
            Rule::NotFound => "R2_NOT_FOUND",
            Rule::AlreadyDeleted => "R2_ALREADY_DELETED",
            Rule::NotAllowed => "R2_NOT_ALLOWED",
            Rule::EventType => "R2_EVENT_TYPE",
            Rule::EventTarget => "R2_EVENT_TARGET",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rule an order broke: which, where, and in words naming the field and
/// the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The field's path in the order (`items[1].quantity`).
    pub field: String,
    /// In words, naming the field and the value.
    pub message: String,
}

impl From<Violation> for domain::ingest::ItemError {
    /// A violation as the pipeline records a refusal.
    fn from(violation: Violation) -> Self {
        domain::ingest::ItemError { code: violation.rule.code(), field: Some(violation.field), message: violation.message }
    }
}

impl Violation {
    /// A violation of `rule` at `field`; `message` follows the field's name.
    pub fn new(rule: Rule, field: impl Into<String>, message: impl fmt::Display) -> Self {
        let field = field.into();
        Violation { rule, message: format!("{field}: {message}"), field }
    }
}
