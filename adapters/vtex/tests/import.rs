//! Reading VTEX's order and deciding what is imported, from VTEX's own
//! sample (`fixtures/get-order-handling.json`, the OMS API's `GetOrder`
//! example) and variations of it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_vtex::{importable, read_orders, wire::InvoiceType, Refusal};
use serde_json::{json, Value};

const SAMPLE: &str = include_str!("fixtures/get-order-handling.json");

fn sample() -> Value {
    serde_json::from_str(SAMPLE).unwrap()
}

/// The sample once invoiced: status `invoiced`, its invoice a sale.
fn invoiced() -> Value {
    let mut order = sample();
    order["status"] = json!("invoiced");
    order["packageAttachment"]["packages"][0]["type"] = json!("Output");
    order
}

fn read(order: &Value) -> adapter_vtex::Order {
    let mut orders = read_orders(order.to_string().as_bytes()).unwrap();
    assert_eq!(orders.len(), 1);
    orders.remove(0)
}

#[test]
fn the_sample_reads_with_its_cents_customer_address_and_invoice() {
    let order = read(&sample());
    assert_eq!(order.order_id, "1172452900788-01");
    assert_eq!(order.status.as_deref(), Some("handling"));
    assert_eq!(order.value, Some(1160));
    let item = &order.items[0];
    assert_eq!((item.id.as_str(), item.quantity, item.price, item.selling_price), ("18", 1, Some(990), Some(990)));
    assert_eq!(order.client_profile_data.as_ref().and_then(|c| c.email.as_deref()), Some("rodrigo.smith@email.com"));
    let address = order.shipping_data.as_ref().and_then(|s| s.address.as_ref()).unwrap();
    assert_eq!((address.city.as_deref(), address.country.as_deref()), (Some("Rio de Janeiro"), Some("BRA")));
    assert_eq!(address.geo_coordinates, [-43.3373718, -23.0105873], "[longitude, latitude] as sent");
    let package = &order.package_attachment.as_ref().unwrap().packages[0];
    assert_eq!(package.kind, InvoiceType::Input);
    assert_eq!((package.invoice_number.as_deref(), package.invoice_value), (Some("24382"), Some(1015)));
    assert!(package.has_file());
}

#[test]
fn an_invoiced_order_with_a_sale_invoice_is_imported() {
    let order = read(&invoiced());
    let sales = importable(&order, true).unwrap();
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0].invoice_number.as_deref(), Some("24382"));
}

#[test]
fn every_invoice_of_a_partly_invoiced_order_counts_and_returns_do_not() {
    let mut order = invoiced();
    let first = order["packageAttachment"]["packages"][0].clone();
    let mut second = first.clone();
    second["invoiceNumber"] = json!("24383");
    second["invoiceValue"] = json!(145);
    let mut giving_back = first.clone();
    giving_back["invoiceNumber"] = json!("R-1");
    giving_back["type"] = json!("Input");
    order["packageAttachment"]["packages"] = json!([first, giving_back, second]);
    let order = read(&order);
    let numbers: Vec<_> = importable(&order, false).unwrap().iter().map(|p| p.invoice_number.clone().unwrap()).collect();
    assert_eq!(numbers, ["24382", "24383"]);
}

#[test]
fn refusals_name_their_reason() {
    let refused = |order: Value, require_file: bool| importable(&read(&order), require_file).unwrap_err();

    assert_eq!(refused(sample(), false), Refusal::NotInvoiced { status: "handling".into() });
    let mut incomplete = invoiced();
    incomplete["status"] = Value::Null;
    assert_eq!(refused(incomplete, false), Refusal::NotInvoiced { status: String::new() });

    let mut bare = invoiced();
    bare["packageAttachment"]["packages"] = json!([]);
    assert_eq!(refused(bare.clone(), false), Refusal::NoInvoice);
    bare["packageAttachment"] = Value::Null;
    assert_eq!(refused(bare, false), Refusal::NoInvoice);

    let mut returned = invoiced();
    returned["packageAttachment"]["packages"][0]["type"] = json!("Input");
    assert_eq!(refused(returned, false), Refusal::ReturnInvoiceOnly);

    let mut without_file = invoiced();
    without_file["packageAttachment"]["packages"][0]["invoiceUrl"] = Value::Null;
    without_file["packageAttachment"]["packages"][0]["embeddedInvoice"] = json!(" ");
    let refusal = refused(without_file.clone(), true);
    assert_eq!(refusal, Refusal::NoInvoiceFile { number: "24382".into() });
    assert_eq!(refusal.code(), "VTEX_NO_INVOICE_FILE");
    assert!(refusal.to_string().contains("24382"), "{refusal}");
    // Without the option, a sale invoice without its file is enough.
    assert!(importable(&read(&without_file), false).is_ok());
    // The XML alone is the file.
    let mut embedded = without_file;
    embedded["packageAttachment"]["packages"][0]["embeddedInvoice"] = json!("<nfeProc/>");
    assert!(importable(&read(&embedded), true).is_ok());
}

#[test]
fn codes_are_stable() {
    let codes: Vec<&str> = [
        Refusal::NotInvoiced { status: "x".into() },
        Refusal::NoInvoice,
        Refusal::ReturnInvoiceOnly,
        Refusal::NoInvoiceFile { number: "1".into() },
    ]
    .iter()
    .map(Refusal::code)
    .collect();
    assert_eq!(codes, ["VTEX_NOT_INVOICED", "VTEX_NO_INVOICE", "VTEX_RETURN_INVOICE_ONLY", "VTEX_NO_INVOICE_FILE"]);
}

#[test]
fn an_array_is_many_orders_and_bad_bodies_are_told_apart() {
    let two = json!([invoiced(), sample()]).to_string();
    assert_eq!(read_orders(two.as_bytes()).unwrap().len(), 2);

    let message = |body: &str| read_orders(body.as_bytes()).unwrap_err();
    assert_eq!(message("[]").message, "the array holds no order");
    assert_eq!(message("  \"order\"").code, "MALFORMED");
    assert_eq!(message("").code, "MALFORMED");
    let truncated = message(&SAMPLE[..200]);
    assert_eq!(truncated.code, "MALFORMED");
    assert!(truncated.message.starts_with("not a VTEX order: "), "{}", truncated.message);

    // Cents are integers on the wire; a fraction is refused, not rounded.
    let mut fractional = invoiced();
    fractional["items"][0]["price"] = json!(9.9);
    let refused = message(&fractional.to_string());
    assert!(refused.message.contains("floating point"), "{}", refused.message);

    let mut nameless = invoiced();
    nameless.as_object_mut().unwrap().remove("orderId");
    assert!(message(&nameless.to_string()).message.contains("orderId"));

    let too_many = format!("[{}]", vec![r#"{"orderId":"x"}"#; adapter_vtex::wire::MAX_ORDERS + 1].join(","));
    assert_eq!(message(&too_many).code, "TOO_LARGE");
    let too_many_lines = vec![r#"{"orderId":"x"}"#; adapter_vtex::wire::MAX_ORDERS + 1].join("\n");
    assert_eq!(message(&too_many_lines).code, "TOO_LARGE");
    let at_most = format!("[{}]", vec![r#"{"orderId":"x"}"#; adapter_vtex::wire::MAX_ORDERS].join(","));
    assert_eq!(read_orders(at_most.as_bytes()).unwrap().len(), adapter_vtex::wire::MAX_ORDERS);
}

#[test]
fn deep_nesting_costs_its_bytes_and_never_the_stack() {
    // In a field tracking ignores, it is skipped without recursion.
    let ignored = format!("{{\"orderId\":\"x\",\"customData\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(read_orders(ignored.as_bytes()).unwrap()[0].order_id, "x");
    // In a field it reads, it is refused at the first level that is wrong.
    let read = format!("{{\"orderId\":\"x\",\"items\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(read_orders(read.as_bytes()).unwrap_err().code, "MALFORMED");
    let unclosed = format!("[{}", "{\"orderId\":{\"a\":".repeat(50_000));
    assert_eq!(read_orders(unclosed.as_bytes()).unwrap_err().code, "MALFORMED");
}

#[test]
fn json_lines_are_orders_one_after_the_other() {
    let lines = format!("{}\n{}\n", invoiced(), sample());
    let orders = read_orders(lines.as_bytes()).unwrap();
    assert_eq!(orders.iter().map(|o| o.status.as_deref().unwrap()).collect::<Vec<_>>(), ["invoiced", "handling"]);
    let broken = format!("{}\n{{\"orderId\":", invoiced());
    let error = read_orders(broken.as_bytes()).unwrap_err();
    assert_eq!(error.code, "MALFORMED");
    assert!(error.message.contains("line 2"), "{}", error.message);
}
