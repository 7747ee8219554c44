//! An importable VTEX order in the pipeline's words: its customer as a
//! destination, the order, and its invoices and shipments.

use chrono::{DateTime, Utc};
use domain::{
    validate::given,
    address::Address,
    ingest::{Command, ItemError, Record},
    localities::LocalityInput,
    orders::{EventMeta, Invoice, NewItem, NewOrder, Shipment},
};
use entities::OrderStatus;

use crate::{
    import::importable,
    wire::{Order, Package},
};

/// A date-time as VTEX writes it (up to seven decimals of a second).
fn instant(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim()).ok().map(|d| d.with_timezone(&Utc))
}


/// The source id of a customer's locality: `vtex-` and 25 hex digits of
/// the SHA-256 of their e-mail (see [`domain::localities::customer_key`]).
pub fn customer_key(email: &str) -> String {
    domain::localities::customer_key("vtex", email)
}

/// The shipping address in Rastro's words: the country from ISO alpha-3 to
/// alpha-2, `geoCoordinates` from `[longitude, latitude]`.
fn address(order: &Order) -> Result<Address, ItemError> {
    let Some(sent) = order.shipping_data.as_ref().and_then(|s| s.address.as_ref()) else {
        return Ok(Address::default());
    };
    let country = match given(sent.country.as_deref()) {
        None => None,
        Some(code) => Some(
            rust_iso3166::from_alpha3(&code.to_uppercase()).map(|c| c.alpha2.to_owned()).ok_or_else(|| ItemError {
                code: "VALIDATION",
                field: Some("shippingData.address.country".into()),
                message: format!("shippingData.address.country: {code:?} is not an ISO 3166 alpha-3 country code"),
            })?,
        ),
    };
    let (longitude, latitude) = match sent.geo_coordinates.as_slice() {
        [longitude, latitude] => (Some(*longitude), Some(*latitude)),
        _ => (None, None),
    };
    Ok(Address {
        street: given(sent.street.as_deref()),
        number: given(sent.number.as_deref()),
        complement: given(sent.complement.as_deref()),
        district: given(sent.neighborhood.as_deref()),
        city: given(sent.city.as_deref()),
        state: given(sent.state.as_deref()),
        country,
        zip_code: given(sent.postal_code.as_deref()),
        latitude,
        longitude,
    })
}

/// The customer's name: who receives it, else the profile's name.
fn customer_name(order: &Order) -> Option<String> {
    let receiver = order.shipping_data.as_ref().and_then(|s| s.address.as_ref()).and_then(|a| given(a.receiver_name.as_deref()));
    let profile = order.client_profile_data.as_ref().and_then(|c| {
        let full = [given(c.first_name.as_deref()), given(c.last_name.as_deref())].into_iter().flatten().collect::<Vec<_>>().join(" ");
        Some(full).filter(|f| !f.is_empty()).or_else(|| given(c.corporate_name.as_deref()))
    });
    receiver.or(profile)
}

/// The order's lines: numbered from 1 in VTEX's order, VTEX's own ids kept
/// as attributes; the unit price is the selling price (after discounts).
fn items(order: &Order) -> Vec<NewItem> {
    order
        .items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let unit = item.selling_price.or(item.price).unwrap_or(0);
            let dimension = item.additional_info.as_ref().and_then(|a| a.dimension.clone()).unwrap_or_default();
            let attributes = [
                ("vtex.uniqueId", given(item.unique_id.as_deref())),
                ("vtex.refId", given(item.ref_id.as_deref())),
                ("vtex.ean", given(item.ean.as_deref())),
                ("vtex.measurementUnit", given(item.measurement_unit.as_deref())),
                ("vtex.brand", item.additional_info.as_ref().and_then(|a| given(a.brand_name.as_deref()))),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
            .collect();
            NewItem {
                source_id: (n + 1).to_string(),
                product_id: item.id.clone(),
                name: given(item.name.as_deref()).unwrap_or_else(|| item.id.clone()),
                quantity: item.quantity as f64,
                unit_price_cents: unit,
                total_cents: unit.checked_mul(item.quantity),
                height: dimension.height,
                length: dimension.length,
                width: dimension.width,
                weight: dimension.weight,
                attributes,
                ..NewItem::default()
            }
        })
        .collect()
}

/// What accompanies the commands of an import: dated now (an invoice's own
/// date may be older than the order's record here, which would make it
/// stale), identified so that a re-import repeats nothing.
fn meta(event_id: String, comment: String, notify: bool) -> EventMeta {
    EventMeta {
        comment: Some(comment),
        notify_customer: notify,
        visible_to_customer: true,
        occurred_at: None,
        event_id: Some(event_id),
        source: crate::NAME.to_owned(),
    }
}

/// The invoice's key as Rastro keeps it: the 44-digit access key of a
/// Brazilian NF-e or CF-e, whose prefix (`CFe`, `NFe`) VTEX sometimes keeps.
/// Another country's key is not one: it stays in the history entry's text.
pub fn access_key(key: &str) -> Option<String> {
    let digits = key.trim().trim_start_matches(|c: char| c.is_ascii_alphabetic());
    (digits.len() == 44 && digits.chars().all(|c| c.is_ascii_digit())).then(|| digits.to_owned())
}

fn invoice_and_shipment(order_id: &str, package: &Package) -> Vec<Command> {
    let number = given(package.invoice_number.as_deref()).unwrap_or_default();
    let sent_key = given(package.invoice_key.as_deref());
    let key = sent_key.as_deref().and_then(access_key);
    let comment = match (&sent_key, &key) {
        (Some(sent), None) => format!("Invoice {number} (key {sent})"),
        _ => format!("Invoice {number}"),
    };
    let mut commands = vec![Command::Invoice {
        invoice: Invoice {
            number: number.clone(),
            key,
            series: None,
            value_cents: package.invoice_value,
            issued_at: instant(package.issuance_date.as_deref()),
            url: given(package.invoice_url.as_deref()),
        },
        meta: meta(crate::event_id("invoice", &[order_id, &number]), comment, false),
    }];
    if let Some(tracking) = given(package.tracking_number.as_deref()) {
        commands.push(shipment(order_id, &number, given(package.courier.as_deref()), tracking, given(package.tracking_url.as_deref()), None));
    }
    commands
}

/// The shipment of invoice `number` of `order_id` with its tracking
/// number: identified by both, so an import and a later `PATCH` of the same
/// tracking number make one shipment.
pub fn shipment(
    order_id: &str,
    number: &str,
    courier: Option<String>,
    tracking: String,
    url: Option<String>,
    shipped_at: Option<DateTime<Utc>>,
) -> Command {
    let carrier = courier.unwrap_or_else(|| "VTEX".to_owned());
    Command::Ship {
        meta: meta(crate::event_id("shipment", &[order_id, number, &tracking]), format!("Shipped by {carrier}: {tracking}"), true),
        shipment: Shipment {
            carrier,
            title: None,
            tracking_number: tracking,
            tracking_url: url,
            shipped_at,
            invoice_number: Some(number.to_owned()).filter(|n| !n.is_empty()),
        },
    }
}

/// The record of one order of an import call: refused with its reason when
/// it is not importable (see [`importable`]); else its customer as a
/// destination (when the profile has an e-mail; the address stays on the
/// order otherwise), the order created at `INVOICED` or its details
/// replaced, and each sale invoice with its shipment.
pub fn record(order: &Order, require_file: bool) -> Record {
    let sales = match importable(order, require_file) {
        Ok(sales) => sales,
        Err(refusal) => {
            let error = ItemError { code: refusal.code(), field: Some(refusal.field().to_owned()), message: refusal.to_string() };
            return Record::refused(order.order_id.clone(), vec![error]);
        }
    };
    let address = match address(order) {
        Ok(address) => address,
        Err(error) => return Record::refused(order.order_id.clone(), vec![error]),
    };
    let name = customer_name(order);
    let email = order.client_profile_data.as_ref().and_then(|c| given(c.email.as_deref()));
    let mut commands = Vec::new();
    let mut new = NewOrder {
        source_id: order.order_id.clone(),
        code: order.order_id.clone(),
        status: Some(OrderStatus::Invoiced),
        customer_name: name.clone(),
        delivery_end: order.shipping_data.iter().flat_map(|s| &s.logistics_info).filter_map(|l| instant(l.shipping_estimate_date.as_deref())).max(),
        items: items(order),
        attributes: given(order.sequence.as_deref()).map(|s| vec![("vtex.sequence".to_owned(), s)]).unwrap_or_default(),
        ..NewOrder::default()
    };
    match email {
        Some(email) => {
            let key = customer_key(&email);
            let phone = order.client_profile_data.as_ref().and_then(|c| given(c.phone.as_deref()));
            commands.push(Command::Destination(LocalityInput::customer(key.clone(), name.clone(), email, phone, address)));
            new.destination_source_id = Some(key);
        }
        None => new.address = Some(address),
    }
    commands.push(Command::Upsert(new));
    commands.extend(sales.into_iter().flat_map(|package| invoice_and_shipment(&order.order_id, package)));
    Record::new(order.order_id.clone(), commands)
}
