//! Answers for what the pipeline reports: each failure the pipeline finds
//! (the rules that need the company's data) under its R2 code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_totvs_r2::{trip, TotvsR2, CREATE_ORDERS, DELETE_ORDERS, UPDATE_ORDERS};
use domain::ingest::{Adapter, ItemError, ItemReport, Report};
use entities::ItemOutcome;

fn item(outcome: ItemOutcome, error: Option<(&'static str, &str)>) -> ItemReport {
    ItemReport {
        position: 0,
        source_id: "PED-1".into(),
        outcome,
        order_id: None,
        notes: vec!["create skipped: the order was created before from identical content".into()],
        error: error.map(|(code, field)| ItemError { code, field: Some(field.into()), message: format!("{field}: why") }),
        refusals: vec![],
    }
}

/// The codes and success flag the answer gives one item.
fn answered(operation: &str, item: ItemReport) -> (bool, Vec<String>, String) {
    let answer = String::from_utf8(TotvsR2::default().render(operation, &Report { items: vec![item], ..Report::default() })).unwrap();
    let success = answer.contains("<ns1:identifier>PED-1</ns1:identifier><ns1:sucess>true</ns1:sucess>");
    let codes = answer.split("<ns1:value>").skip(1).map(|s| s.split('<').next().unwrap().to_owned()).collect();
    (success, codes, answer)
}

#[test]
fn pipeline_failures_get_their_r2_codes() {
    let failed = |code, field| item(ItemOutcome::Failed, Some((code, field)));
    for (operation, code, field, expected) in [
        (CREATE_ORDERS, "CONFLICT", "sourceId", "R2_EXISTS"),
        (UPDATE_ORDERS, "CONFLICT", "sourceId", "CONFLICT"),
        (UPDATE_ORDERS, "NOT_FOUND", "", "R2_NOT_FOUND"),
        (CREATE_ORDERS, "VALIDATION", "destination", "R2_DESTINATION"),
        (CREATE_ORDERS, "VALIDATION", "destinationLocalityId", "R2_DESTINATION"),
        (CREATE_ORDERS, "VALIDATION", "items[1].originId", "R2_ORIGIN"),
        (CREATE_ORDERS, "VALIDATION", "items[0].originLocalityId", "R2_ORIGIN"),
        (CREATE_ORDERS, "VALIDATION", "items[2].sourceId", "R2_ITEM_TAKEN"),
        (CREATE_ORDERS, "VALIDATION", "sourceId", "VALIDATION"),
        (DELETE_ORDERS, "VALIDATION", "status", "R2_NOT_ALLOWED"),
        (CREATE_ORDERS, "VALIDATION", "priority", "VALIDATION"),
    ] {
        let (success, codes, answer) = answered(operation, failed(code, field));
        assert!(!success, "{answer}");
        assert_eq!(codes, [expected], "{operation} {code} {field}: {answer}");
        assert!(answer.contains(&format!("<ns1:errorMessage>{field}: why</ns1:errorMessage>")), "{answer}");
    }
}

#[test]
fn skipped_records_succeed_except_a_second_delete() {
    let (success, codes, answer) = answered(CREATE_ORDERS, item(ItemOutcome::Skipped, None));
    assert!(success && codes.is_empty(), "{answer}");
    // The note says why nothing changed.
    assert!(answer.contains("created before from identical content"), "{answer}");
    let (success, codes, _) = answered(trip::PUBLISH_TRACKING_EVENTS, item(ItemOutcome::Skipped, None));
    assert!(success && codes.is_empty());
    let (success, codes, answer) = answered(DELETE_ORDERS, item(ItemOutcome::Skipped, None));
    assert!(!success, "{answer}");
    assert_eq!(codes, ["R2_ALREADY_DELETED"]);
    assert!(answer.contains("<ns1:errorMessage>identifier: &quot;PED-1&quot; was already deleted</ns1:errorMessage>"), "{answer}");
    let (success, codes, answer) = answered(CREATE_ORDERS, item(ItemOutcome::Applied, None));
    assert!(success && codes.is_empty() && !answer.contains("errorMessage"), "{answer}");
}

#[test]
fn a_failure_without_a_reason_still_has_a_code() {
    let (success, codes, _) = answered(CREATE_ORDERS, item(ItemOutcome::Failed, None));
    assert!(!success);
    assert_eq!(codes, ["R2_ERROR"]);
}

#[test]
fn runs_name_the_adapter_as_its_route_does() {
    assert_eq!(TotvsR2::default().name(), adapter_totvs_r2::NAME);
    assert_eq!(adapter_totvs_r2::NAME, "totvs-r2");
}
