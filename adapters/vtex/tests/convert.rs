//! What an importable VTEX order becomes: its customer as a destination, the
//! order, its invoices and shipments; built from VTEX's `GetOrder` sample.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_vtex::{convert::{customer_key, record}, read_orders};
use domain::ingest::Command;
use entities::{LogisticRole, OrderStatus};
use serde_json::{json, Value};

fn invoiced() -> Value {
    let mut order: Value = serde_json::from_str(include_str!("fixtures/get-order-handling.json")).unwrap();
    order["status"] = json!("invoiced");
    order["packageAttachment"]["packages"][0]["type"] = json!("Output");
    order
}

fn commands_of(order: &Value) -> Vec<Command> {
    let order = read_orders(order.to_string().as_bytes()).unwrap().remove(0);
    let record = record(&order, false);
    assert!(record.refusals.is_empty(), "{:?}", record.refusals);
    assert_eq!(record.source_id, "1172452900788-01");
    record.commands
}

#[test]
fn the_customer_becomes_a_destination_the_order_names() {
    let commands = commands_of(&invoiced());
    let names: Vec<&str> = commands.iter().map(Command::name).collect();
    assert_eq!(names, ["destination", "upsert", "invoice", "shipment"]);
    let Command::Destination(customer) = &commands[0] else { unreachable!() };
    assert_eq!(customer.source_id, customer_key("Rodrigo.Smith@email.com "));
    assert_eq!(customer.source_id.len(), 30);
    assert_eq!(customer.logistic_role, LogisticRole::Destination);
    let responsible = customer.responsible.as_ref().unwrap();
    assert_eq!((responsible.name.as_str(), responsible.email.as_str(), responsible.phone.as_deref()), ("Rodrigo Smith", "rodrigo.smith@email.com", Some("+5561992227222")));
    let address = &customer.address;
    assert_eq!((address.city.as_deref(), address.state.as_deref(), address.country.as_deref()), (Some("Rio de Janeiro"), Some("RJ"), Some("BR")));
    assert_eq!((address.zip_code.as_deref(), address.district.as_deref()), (Some("22630-011"), Some("Barra da Tijuca")));
    assert_eq!((address.latitude, address.longitude), (Some(-23.0105873), Some(-43.3373718)), "VTEX sends [longitude, latitude]");

    let Command::Upsert(new) = &commands[1] else { unreachable!() };
    assert_eq!((new.source_id.as_str(), new.code.as_str(), new.status), ("1172452900788-01", "1172452900788-01", Some(OrderStatus::Invoiced)));
    assert_eq!(new.destination_source_id.as_deref(), Some(customer.source_id.as_str()));
    assert_eq!(new.address, None);
    assert_eq!(new.customer_name.as_deref(), Some("Rodrigo Smith"));
    assert_eq!(new.attributes, [("vtex.sequence".to_owned(), "502556".to_owned())], "the store's order number");
    assert_eq!(new.delivery_end.unwrap().to_rfc3339(), "2024-03-09T10:13:40.102045300+00:00", "shippingEstimateDate is the promise");
}

#[test]
fn lines_keep_exact_cents_and_vtex_ids() {
    let mut order = invoiced();
    order["items"][0]["quantity"] = json!(3);
    order["items"][0]["sellingPrice"] = json!(333);
    order["items"][0]["additionalInfo"]["dimension"] = json!({ "cubicweight": 1.0, "height": 12.0, "length": 34.0, "width": 56.0, "weight": 78.5 });
    let commands = commands_of(&order);
    let Command::Upsert(new) = &commands[1] else { unreachable!() };
    let line = &new.items[0];
    assert_eq!((line.height, line.length, line.width, line.weight), (Some(12.0), Some(34.0), Some(56.0), Some(78.5)));
    assert_eq!((line.source_id.as_str(), line.product_id.as_str(), line.name.as_str()), ("1", "18", "Bay Max L"));
    assert_eq!((line.quantity, line.unit_price_cents, line.total_cents), (3.0, 333, Some(999)));
    let kept: Vec<&str> = line.attributes.iter().map(|(k, _)| k.as_str()).collect();
    assert!(kept.contains(&"vtex.uniqueId") && kept.contains(&"vtex.refId") && kept.contains(&"vtex.ean"), "{kept:?}");
    // Without a selling price, the list price of the unit.
    order["items"][0]["sellingPrice"] = Value::Null;
    let commands = commands_of(&order);
    let Command::Upsert(new) = &commands[1] else { unreachable!() };
    assert_eq!((new.items[0].unit_price_cents, new.items[0].total_cents), (990, Some(2970)));
}

#[test]
fn each_sale_invoice_is_recorded_and_its_tracking_ships_it_once() {
    let commands = commands_of(&invoiced());
    let Command::Invoice { invoice, meta } = &commands[2] else { unreachable!() };
    // The sample's key is a CF-e's, with VTEX's prefix: the 44 digits are kept.
    assert_eq!((invoice.number.as_str(), invoice.value_cents, invoice.key.as_deref()), ("24382", Some(1015), Some("35201100063960001504590006629690333214542150")));
    assert_eq!(meta.comment.as_deref(), Some("Invoice 24382"));
    assert_eq!(invoice.url.as_deref(), Some("https://luxstore.com/invoices/24382.pdf"));
    assert_eq!(invoice.issued_at.unwrap().to_rfc3339(), "2024-02-09T10:10:20.532268100+00:00");
    assert_eq!(meta.event_id.as_deref(), Some("vtex:invoice:1172452900788-01:24382"));
    assert_eq!(meta.occurred_at, None, "dated when imported: the invoice's own date would make it stale");
    let Command::Ship { shipment, meta } = &commands[3] else { unreachable!() };
    assert_eq!((shipment.carrier.as_str(), shipment.tracking_number.as_str()), ("PAC Correios", "TRK-48960684"));
    assert_eq!(shipment.tracking_url.as_deref(), Some("https://tracking.fastdelivery.com/track/146/TRK-48960684-01/24382"));
    assert_eq!(meta.event_id.as_deref(), Some("vtex:shipment:1172452900788-01:24382:TRK-48960684"));
    assert!(meta.notify_customer);

    // A second invoice without tracking, and a return: two invoices, one shipment.
    let mut order = invoiced();
    let first = order["packageAttachment"]["packages"][0].clone();
    let mut second = first.clone();
    second["invoiceNumber"] = json!("24383");
    second["trackingNumber"] = Value::Null;
    let mut giving_back = first.clone();
    giving_back["type"] = json!("Input");
    order["packageAttachment"]["packages"] = json!([first, giving_back, second]);
    let names: Vec<&str> = commands_of(&order).iter().map(Command::name).collect();
    assert_eq!(names, ["destination", "upsert", "invoice", "shipment", "invoice"]);
}

#[test]
fn without_an_email_the_address_stays_on_the_order() {
    let mut order = invoiced();
    order["clientProfileData"]["email"] = Value::Null;
    let commands = commands_of(&order);
    let names: Vec<&str> = commands.iter().map(Command::name).collect();
    assert_eq!(names, ["upsert", "invoice", "shipment"]);
    let Command::Upsert(new) = &commands[0] else { unreachable!() };
    assert_eq!(new.destination_source_id, None);
    assert_eq!(new.address.as_ref().and_then(|a| a.city.as_deref()), Some("Rio de Janeiro"));
}

#[test]
fn refused_orders_carry_their_code_field_and_reason() {
    let refused = |order: &Value, require_file: bool| {
        let order = read_orders(order.to_string().as_bytes()).unwrap().remove(0);
        let record = record(&order, require_file);
        assert!(record.commands.is_empty());
        let error = record.refusals.into_iter().next().unwrap();
        (error.code, error.field.unwrap(), error.message)
    };
    let mut handling = invoiced();
    handling["status"] = json!("handling");
    let (code, field, message) = refused(&handling, false);
    assert_eq!((code, field.as_str()), ("VTEX_NOT_INVOICED", "status"));
    assert!(message.contains("handling"), "{message}");

    let mut returned = invoiced();
    returned["packageAttachment"]["packages"][0]["type"] = json!("Input");
    assert_eq!(refused(&returned, false).0, "VTEX_RETURN_INVOICE_ONLY");

    let mut without_file = invoiced();
    without_file["packageAttachment"]["packages"][0]["invoiceUrl"] = Value::Null;
    without_file["packageAttachment"]["packages"][0]["embeddedInvoice"] = Value::Null;
    assert_eq!(refused(&without_file, true).1, "packageAttachment.packages.invoiceUrl");

    let mut elsewhere = invoiced();
    elsewhere["shippingData"]["address"]["country"] = json!("XYZ");
    let (code, field, message) = refused(&elsewhere, false);
    assert_eq!((code, field.as_str()), ("VALIDATION", "shippingData.address.country"));
    assert!(message.contains("\"XYZ\""), "{message}");
    // Lower case is still the code.
    elsewhere["shippingData"]["address"]["country"] = json!("arg");
    let commands = commands_of(&elsewhere);
    let Command::Destination(customer) = &commands[0] else { unreachable!() };
    assert_eq!(customer.address.country.as_deref(), Some("AR"));
}

#[test]
fn the_customers_name_is_the_receivers_else_the_profiles() {
    let name = |order: &Value| {
        let commands = commands_of(order);
        let Command::Upsert(new) = &commands[1] else { unreachable!() };
        new.customer_name.clone()
    };
    let mut order = invoiced();
    order["shippingData"]["address"]["receiverName"] = json!("  ");
    order["clientProfileData"]["firstName"] = json!("Rodrigo");
    order["clientProfileData"]["lastName"] = json!("Smith Jr.");
    assert_eq!(name(&order).as_deref(), Some("Rodrigo Smith Jr."));
    order["clientProfileData"]["firstName"] = Value::Null;
    order["clientProfileData"]["lastName"] = Value::Null;
    order["clientProfileData"]["corporateName"] = json!("Lux Comércio Ltda");
    assert_eq!(name(&order).as_deref(), Some("Lux Comércio Ltda"));
    order["clientProfileData"]["corporateName"] = Value::Null;
    assert_eq!(name(&order), None);
    // With no name at all, the destination's responsible person is named by the e-mail.
    let commands = commands_of(&order);
    let Command::Destination(customer) = &commands[0] else { unreachable!() };
    assert_eq!(customer.name, "rodrigo.smith@email.com");
}

#[test]
fn an_invoice_key_that_is_no_brazilian_access_key_stays_in_the_entry_text() {
    use adapter_vtex::convert::access_key;
    assert_eq!(access_key(" NFe35201100063960001504590006629690333214542150 ").as_deref(), Some("35201100063960001504590006629690333214542150"));
    assert_eq!(access_key("35201100063960001504590006629690333214542150").as_deref(), Some("35201100063960001504590006629690333214542150"));
    for other in ["CAE-74123456789012", "3520110006396000150459000662969033321454215", "3520110006396000150459000662969033321454215X", ""] {
        assert_eq!(access_key(other), None, "{other}");
    }
    let mut order = invoiced();
    order["packageAttachment"]["packages"][0]["invoiceKey"] = json!("CAE-74123456789012");
    let commands = commands_of(&order);
    let Command::Invoice { invoice, meta } = &commands[2] else { unreachable!() };
    assert_eq!(invoice.key, None);
    assert_eq!(meta.comment.as_deref(), Some("Invoice 24382 (key CAE-74123456789012)"));
}
