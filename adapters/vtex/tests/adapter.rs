//! The adapter as the pipeline sees it: operations, options and answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_vtex::{adapter::UPDATES_OFF, Vtex, HOOK, IMPORT};
use domain::{
    companies::VtexOptions,
    ingest::{Adapter, Command, Context, ItemError, ItemReport, Report, WireError},
};
use entities::ItemOutcome;
use serde_json::{json, Value};

fn context() -> Context {
    Context { now: chrono::Utc::now(), ..Context::default() }
}

fn with(options: VtexOptions) -> Context {
    Context { vtex: options, ..context() }
}

const CANCELED: &str = r#"{"OrderId":"v9-01","State":"canceled","LastChange":"2026-12-01T10:00:00Z"}"#;

#[test]
fn the_path_names_the_operation_and_nothing_else_does() {
    let vtex = Vtex;
    assert_eq!((vtex.name(), IMPORT, HOOK), ("vtex", "import", "hook"));
    assert_eq!(vtex.operation_of(CANCELED.as_bytes()), None);
    let error = vtex.parse("invoice", b"{}", &context()).unwrap_err();
    assert_eq!(error.code, "UNKNOWN_OPERATION");
    // A ping reaching the pipeline (the route answers it first) is no change.
    assert_eq!(vtex.parse(HOOK, br#"{"hookConfig":"ping"}"#, &context()).unwrap_err().code, "MALFORMED");
}

#[test]
fn the_status_updates_option_decides_what_a_notification_does() {
    let off = Vtex.parse(HOOK, CANCELED.as_bytes(), &context()).unwrap();
    assert_eq!(off.records[0].skipped.as_deref(), Some(UPDATES_OFF));
    assert!(off.records[0].commands.is_empty());
    let on = Vtex.parse(HOOK, CANCELED.as_bytes(), &with(VtexOptions { status_updates: true, ..VtexOptions::default() })).unwrap();
    assert!(matches!(on.records[0].commands.as_slice(), [Command::ChangeStatus { .. }]), "{:?}", on.records[0]);
}

#[test]
fn the_invoice_file_option_reaches_the_import_rule() {
    let mut order: Value = serde_json::from_str(include_str!("fixtures/get-order-handling.json")).unwrap();
    order["status"] = json!("invoiced");
    order["packageAttachment"]["packages"][0]["type"] = json!("Output");
    order["packageAttachment"]["packages"][0]["invoiceUrl"] = Value::Null;
    order["packageAttachment"]["packages"][0]["embeddedInvoice"] = Value::Null;
    let body = order.to_string();
    let lenient = Vtex.parse(IMPORT, body.as_bytes(), &context()).unwrap();
    assert!(lenient.records[0].refusals.is_empty());
    let strict = Vtex.parse(IMPORT, body.as_bytes(), &with(VtexOptions { require_invoice_file: true, ..VtexOptions::default() })).unwrap();
    assert_eq!(strict.records[0].refusals[0].code, "VTEX_NO_INVOICE_FILE");
}

#[test]
fn answers_are_json_with_one_entry_per_order() {
    let item = |source_id: &str, outcome, error: Option<ItemError>, notes: Vec<String>| ItemReport {
        position: 0,
        source_id: source_id.into(),
        outcome,
        order_id: None,
        notes,
        error,
        refusals: vec![],
    };
    let report = Report {
        run_id: 7,
        items: vec![
            item("A-01", ItemOutcome::Applied, None, vec!["created as INVOICED".into()]),
            item("B-01", ItemOutcome::Skipped, None, vec![UPDATES_OFF.into()]),
            item("C-01", ItemOutcome::Failed, Some(ItemError { code: "VTEX_NOT_INVOICED", field: Some("status".into()), message: "not invoiced".into() }), vec![]),
        ],
        applied: 1,
        skipped: 1,
        failed: 1,
    };
    let answer: Value = serde_json::from_slice(&Vtex.render(IMPORT, &report)).unwrap();
    assert_eq!(answer, json!({
        "runId": 7, "received": 3, "applied": 1, "skipped": 1, "failed": 1,
        "orders": [
            { "orderId": "A-01", "outcome": "applied", "notes": ["created as INVOICED"] },
            { "orderId": "B-01", "outcome": "skipped", "notes": [UPDATES_OFF] },
            { "orderId": "C-01", "outcome": "failed", "notes": [], "code": "VTEX_NOT_INVOICED", "message": "not invoiced" },
        ]
    }));
    let refused: Value = serde_json::from_slice(&Vtex.render_rejection(IMPORT, &WireError::malformed("bad"))).unwrap();
    assert_eq!(refused, json!({ "error": { "code": "MALFORMED", "message": "bad" } }));
}
