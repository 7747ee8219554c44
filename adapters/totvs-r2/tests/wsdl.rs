//! The WSDL describes what the reader accepts: every field it declares for an
//! order and an item is one the reader knows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_totvs_r2::{wsdl, TotvsR2, CREATE_ORDERS, DEFAULT_NAMESPACE};
use chrono::Utc;
use domain::ingest::Context;
use quick_xml::{events::Event, Reader};

/// The element names declared in the complex type `type_name`, in order.
fn declared(document: &str, type_name: &str) -> Vec<String> {
    let mut reader = Reader::from_str(document);
    let mut inside = false;
    let mut depth = 0;
    let mut names = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.local_name().as_ref() == b"complexType" => {
                let name = e.try_get_attribute("name").unwrap().map(|a| a.unescape_value().unwrap().into_owned());
                if name.as_deref() == Some(type_name) {
                    inside = true;
                }
                if inside {
                    depth += 1;
                }
            }
            Event::End(e) if e.local_name().as_ref() == b"complexType" && inside => {
                depth -= 1;
                if depth == 0 {
                    return names;
                }
            }
            Event::Start(e) | Event::Empty(e) if inside && depth == 1 && e.local_name().as_ref() == b"element" => {
                names.push(e.try_get_attribute("name").unwrap().unwrap().unescape_value().unwrap().into_owned());
            }
            Event::Eof => panic!("no complexType {type_name}"),
            _ => {}
        }
    }
}

#[test]
fn every_declared_field_is_one_the_reader_knows() {
    let document = wsdl(DEFAULT_NAMESPACE, "http://localhost/integrations/totvs-r2/OrderAcquisitionService");
    let order_fields = declared(&document, "order");
    let item_fields = declared(&document, "orderitem");
    assert!(order_fields.len() > 40 && item_fields.len() > 20, "{order_fields:?} {item_fields:?}");
    // One order carrying every declared field, each with a value the reader
    // may refuse for its content but must not call unknown.
    let item: String = item_fields.iter().map(|f| format!("<{f}>1</{f}>")).collect();
    let order: String = order_fields
        .iter()
        .map(|f| if f == "items" { format!("<items><item>{item}</item></items>") } else { format!("<{f}>1</{f}>") })
        .collect();
    let body = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><createOrders><orders><order>{order}</order></orders></createOrders></s:Body></s:Envelope>"#
    );
    let records = TotvsR2::default().records(CREATE_ORDERS, body.as_bytes(), &Context { now: Utc::now(), ..Context::default() }).unwrap();
    let unknown: Vec<_> = records[0].refusals.iter().filter(|r| r.code == "R2_UNKNOWN_FIELD").map(|r| r.message.clone()).collect();
    assert!(unknown.is_empty(), "declared in the WSDL, unknown to the reader: {unknown:?}");
}

#[test]
fn the_wsdl_is_well_formed_and_names_its_endpoint() {
    let document = wsdl("urn:x&y", "https://rastro.example/integrations/totvs-r2/OrderAcquisitionService");
    let mut reader = Reader::from_str(&document);
    while !matches!(reader.read_event().unwrap(), Event::Eof) {}
    assert!(document.contains(r#"targetNamespace="urn:x&amp;y""#));
    assert!(document.contains(r#"location="https://rastro.example/integrations/totvs-r2/OrderAcquisitionService""#));
    assert!(!document.contains('{'), "a placeholder was left");
}
