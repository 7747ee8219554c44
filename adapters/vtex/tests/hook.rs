//! Hook notifications, from VTEX's own examples (`fixtures/hook-*.json`,
//! taken from the OMS API and the orders-feed guide) and variations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_vtex::hook::{meaning, meaning_of, read_hook, HookCall, Meaning, Notification, State, STATES};
use entities::OrderStatus;

fn changed(body: &str) -> Notification {
    match read_hook(body.as_bytes()).unwrap() {
        HookCall::Changed(notification) => notification,
        HookCall::Ping => panic!("read as a ping: {body}"),
    }
}

#[test]
fn the_ping_is_told_from_a_notification() {
    assert_eq!(read_hook(include_bytes!("fixtures/hook-ping.json")).unwrap(), HookCall::Ping);
    // Another hookConfig value is not a ping, and not a notification either.
    assert_eq!(read_hook(br#"{"hookConfig":"pong"}"#).unwrap_err().code, "MALFORMED");
}

#[test]
fn both_documented_examples_read() {
    let full = changed(include_str!("fixtures/hook-openapi.json"));
    assert_eq!((full.order_id.as_str(), full.state.as_str()), ("v52277740atmc-01", "ready-for-handling"));
    assert_eq!(full.last_state.as_deref(), Some("window-to-cancel"));
    assert_eq!(full.origin.as_ref().and_then(|o| o.account.as_deref()), Some("automacaoqa"));
    // CurrentChange, to the microsecond of its seven decimals.
    assert_eq!(full.occurred_at().unwrap().to_rfc3339(), "2019-08-14T17:12:48.096589300+00:00");
    assert_eq!(full.event_id(), "vtex:hook:v52277740atmc-01:ready-for-handling:2019-08-14T17:12:48.0965893Z");

    // The guide's example has no LastState nor CurrentChange: LastChange dates it.
    let short = changed(include_str!("fixtures/hook-guide.json"));
    assert_eq!(short.last_state, None);
    assert_eq!(short.occurred_at().unwrap().to_rfc3339(), "2019-07-29T23:17:30.061718500+00:00");
    assert_eq!(short.event_id(), "vtex:hook:v40484048naf-01:payment-approved:2019-07-29T23:17:30.0617185Z");
}

#[test]
fn bad_notifications_are_malformed_with_a_reason() {
    let refused = |body: &str| read_hook(body.as_bytes()).unwrap_err();
    assert!(refused("{").message.starts_with("not a VTEX hook notification: "));
    assert!(refused(r#"{"OrderId":"v1-01"}"#).message.contains("State"));
    assert_eq!(refused(r#"{"OrderId":" ","State":"canceled"}"#).message, "OrderId is empty");
    assert_eq!(refused("[]").code, "MALFORMED");
    let undated = changed(r#"{"OrderId":"v1-01","State":"canceled","LastChange":"yesterday"}"#);
    assert_eq!(undated.occurred_at(), None);
}

#[test]
fn every_documented_state_has_a_name_and_a_meaning() {
    for (state, name) in STATES {
        assert_eq!(State::parse(name), Some(state), "{name}");
        assert_eq!(state.as_str(), name);
    }
    let moving: Vec<(&str, OrderStatus)> = STATES
        .iter()
        .filter_map(|(state, name)| match meaning(*state) {
            Meaning::Move(to) => Some((*name, to)),
            Meaning::Skip(_) => None,
        })
        .collect();
    assert_eq!(moving, [("invoiced", OrderStatus::Invoiced), ("canceled", OrderStatus::Cancelled)]);
}

#[test]
fn skipped_states_say_why() {
    let reason = |name: &str| match meaning_of(name).unwrap() {
        Meaning::Skip(reason) => reason,
        Meaning::Move(to) => panic!("{name} moves to {to:?}"),
    };
    assert!(reason("payment-approved").contains("before the invoice"));
    assert!(reason("handling").contains("before the invoice"));
    assert!(reason("cancellation-requested").contains("not yet decided"));
    assert!(reason("cancel").contains("not yet decided"));
    assert!(reason("order-create-error").contains("failed to be created"));
    assert!(reason("invoice-after-cancellation-deny").contains("denied"));
    assert!(reason("replaced").contains("replaced"));
    assert_eq!(meaning_of("teleported").unwrap_err(), "state \"teleported\" is not one VTEX documents");
    assert_eq!(meaning_of("Canceled").unwrap_err(), "state \"Canceled\" is not one VTEX documents", "names are case-sensitive");
}

#[test]
fn a_moving_state_is_a_dated_status_change_and_the_rest_are_skipped_records() {
    use adapter_vtex::hook::record;
    use domain::ingest::Command;

    let canceled = changed(r#"{"OrderId":"v9-01","State":"canceled","LastState":"cancel","LastChange":"2026-12-01T10:00:00Z","CurrentChange":"2026-12-01T10:05:00.5Z"}"#);
    let moved = record(&canceled);
    assert_eq!((moved.source_id.as_str(), moved.skipped.as_deref()), ("v9-01", None));
    let [Command::ChangeStatus { to, meta }] = moved.commands.as_slice() else { panic!("{moved:?}") };
    assert_eq!(*to, OrderStatus::Cancelled);
    assert_eq!(meta.occurred_at.unwrap().to_rfc3339(), "2026-12-01T10:05:00.500+00:00");
    assert_eq!(meta.event_id.as_deref(), Some("vtex:hook:v9-01:canceled:2026-12-01T10:05:00.5Z"));
    assert_eq!((meta.source.as_str(), meta.comment.as_deref()), ("vtex", Some("VTEX: canceled")));
    assert!(meta.notify_customer && meta.visible_to_customer);

    let early = record(&changed(include_str!("fixtures/hook-guide.json")));
    assert!(early.commands.is_empty());
    assert_eq!(early.source_id, "v40484048naf-01");
    assert_eq!(early.skipped.as_deref(), Some("payment-approved: a state before the invoice: tracking starts when the order is invoiced"));

    let unknown = record(&changed(r#"{"OrderId":"v9-01","State":"lost-in-space"}"#));
    assert_eq!(unknown.skipped.as_deref(), Some("state \"lost-in-space\" is not one VTEX documents"));
}
