//! Fixture files in, commands out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_rastro_csv::{RastroCsv, IMPORT};
use chrono::Utc;
use domain::ingest::{Adapter, Command, Context, Report};
use entities::OrderStatus;

fn parse(name: &str) -> Result<domain::ingest::Batch, domain::ingest::WireError> {
    let body = std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    RastroCsv.parse(IMPORT, &body, &Context { now: Utc::now(), ..Context::default() })
}

#[test]
fn rows_of_one_order_become_one_record_that_imports_and_reaches_its_status() {
    let batch = parse("orders.csv").unwrap();
    let ids: Vec<&str> = batch.records.iter().map(|r| r.source_id.as_str()).collect();
    assert_eq!(ids, ["A-1", "A-2", "A-3"]);

    let Command::Import(first) = &batch.records[0].commands[0] else { panic!("an import first") };
    assert_eq!(first.status, Some(OrderStatus::InTransit));
    assert_eq!(first.destination_source_id.as_deref(), Some("DEST-1"));
    assert_eq!(first.items.len(), 2);
    assert_eq!((first.items[0].unit_price_cents, first.items[1].unit_price_cents), (45_990, 129_900));
    assert_eq!(batch.records[0].commands.len(), 1, "an order may start in transit");

    // Cancelled cannot be a starting status: imported as received, then cancelled,
    // with an event id so a second import skips the move.
    let second = &batch.records[1].commands;
    let Command::Import(cancelled) = &second[0] else { panic!("an import first") };
    assert_eq!((cancelled.status, cancelled.customer_name.as_deref()), (Some(OrderStatus::Received), Some("Souza, João")));
    let Command::ChangeStatus { to, meta } = &second[1] else { panic!("then the move") };
    assert_eq!((*to, meta.event_id.as_deref()), (OrderStatus::Cancelled, Some("import:A-2:cancel")));

    let Command::Import(third) = &batch.records[2].commands[0] else { panic!() };
    assert_eq!((third.status, third.customer_name.as_ref()), (Some(OrderStatus::Received), None));
    assert_eq!(third.items[0].name, "Quoted \"name\"");
}

#[test]
fn a_malformed_file_is_refused_whole_with_the_line() {
    let bad = parse("bad-price.csv").unwrap_err();
    assert_eq!(bad.code, "MALFORMED");
    assert!(bad.message.starts_with("line 2: unit_price"), "{}", bad.message);
    let missing = parse("missing-column.csv").unwrap_err();
    assert_eq!(missing.message, "line 1: missing column unit_price");
    let unknown = RastroCsv.parse("export", b"", &Context { now: Utc::now(), ..Context::default() }).unwrap_err();
    assert_eq!(unknown.code, "UNKNOWN_OPERATION");
}

#[test]
fn answers_are_json_from_the_report() {
    let answer = RastroCsv.render(IMPORT, &Report { run_id: 7, ..Report::default() });
    let json: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(json["run"], 7);
    assert_eq!(json["items"], serde_json::json!([]));
    let refusal = RastroCsv.render_rejection(IMPORT, &domain::ingest::WireError::malformed("line 3: x"));
    let json: serde_json::Value = serde_json::from_slice(&refusal).unwrap();
    assert_eq!(json["error"]["code"], "MALFORMED");
}

#[test]
fn a_file_names_no_operation_of_its_own() {
    use domain::ingest::Adapter;
    assert_eq!(RastroCsv.operation_of(b"source_id,code\nA-1,#1\n"), None);
}
