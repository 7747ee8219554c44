//! What orders become: the commands of a valid call, field by field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use adapter_totvs_r2::{cents, TotvsR2, CREATE_ORDERS, DELETE_ORDERS, UPDATE_ORDERS};
use chrono::{TimeZone, Utc};
use domain::ingest::{Command, Context, Group, Record};
use entities::{Incoterm, OrderStatus};

fn context() -> Context {
    Context { now: Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap(), ..Context::default() }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn records(operation: &str, body: &[u8]) -> Vec<Record> {
    TotvsR2::default().records(operation, body, &context()).unwrap()
}

fn attribute<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn a_create_carries_every_field_rastro_keeps() {
    let records = records(CREATE_ORDERS, &fixture("create-two-orders.xml"));
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.refusals.is_empty()), "{records:?}");
    let [Command::Create(first)] = records[0].commands.as_slice() else { panic!("{:?}", records[0].commands) };
    assert_eq!(records[0].source_id, "PED-1001");
    assert_eq!(first.source_id, "PED-1001");
    assert_eq!(first.code, "Pedido 1001");
    assert_eq!(first.status, None::<OrderStatus>);
    assert_eq!(first.destination_source_id.as_deref(), Some("CLI-77"));
    assert!(first.address.is_none());
    assert_eq!(first.priority, Some(5));
    assert_eq!(first.incoterm, Some(Incoterm::Cif));
    assert_eq!(first.pickup_start, Some(Utc.with_ymd_and_hms(2026, 12, 7, 3, 1, 0).unwrap()));
    // Without an offset: Brasília time.
    assert_eq!(first.delivery_end, Some(Utc.with_ymd_and_hms(2026, 12, 10, 2, 59, 0).unwrap()));
    assert_eq!(first.pickup_end, Some(Utc.with_ymd_and_hms(2026, 12, 7, 21, 0, 0).unwrap()));
    assert_eq!(first.delivery_start, Some(Utc.with_ymd_and_hms(2026, 12, 8, 11, 0, 0).unwrap()));
    assert_eq!(first.reference.as_deref(), Some("NF 123"));
    assert_eq!(first.observations.as_deref(), Some("Entregar na portaria"));
    assert_eq!(first.classifications, vec![("CANAL".to_owned(), "B2B".to_owned())]);
    for (key, value) in [
        ("vendedor", "Ana"),
        ("regionSourceId", "SP"),
        ("shipperId", "ACME"),
        ("orderTypeSourceId", "VENDA"),
        ("integrationDataSource", "PROTHEUS"),
        ("passingHubUsageType", "OPTIONAL"),
        ("possiblePassingHubsIds", "HUB-1,HUB-2"),
        ("deliveryExclusivity", "false"),
        ("auxiliary1", "legado"),
    ] {
        assert_eq!(attribute(&first.attributes, key), Some(value), "{key}");
    }
    assert_eq!(first.items.len(), 2);
    let line = &first.items[0];
    assert_eq!((line.source_id.as_str(), line.product_id.as_str()), ("PED-1001-1", "SKU-9"));
    assert_eq!(line.origin_source_id.as_deref(), Some("CD-01"));
    // 459.90 for 3 units.
    assert_eq!(line.unit_price_cents, 15_330);
    assert_eq!((line.height, line.length, line.width, line.weight), (Some(0.3), Some(0.4), Some(0.2), Some(2.5)));
    assert_eq!(first.items[1].quantity, 12.5);

    let [Command::Create(second)] = records[1].commands.as_slice() else { panic!() };
    // An alternative address on creation makes the destination a dummy.
    assert_eq!(second.destination_source_id, None);
    let address = second.address.as_ref().unwrap();
    assert_eq!((address.city.as_deref(), address.state.as_deref(), address.country.as_deref()), (Some("Campinas"), Some("SP"), Some("BR")));
    assert_eq!((address.latitude, address.longitude), (Some(-22.9), Some(-47.06)));
    assert_eq!(second.items[0].unit_price_cents, 2_500);
}

#[test]
fn an_update_replaces_and_keeps_its_destination_and_a_delete_is_keyed() {
    let body = String::from_utf8(fixture("create-two-orders.xml")).unwrap().replace("createOrders", "updateOrders");
    let updates = records(UPDATE_ORDERS, body.as_bytes());
    let [Command::Replace(second)] = updates[1].commands.as_slice() else { panic!("{:?}", updates[1].commands) };
    // On update the destination must be real, even with an alternative address.
    assert_eq!(second.destination_source_id.as_deref(), Some("DUMMY"));

    let delete = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><deleteOrders><order><identifier>PED-1</identifier></order></deleteOrders></s:Body></s:Envelope>"#;
    let deletes = records(DELETE_ORDERS, delete.as_bytes());
    let [Command::Delete(meta)] = deletes[0].commands.as_slice() else { panic!() };
    assert_eq!(meta.event_id.as_deref(), Some("totvs-r2:delete:PED-1"));
    assert_eq!(meta.source, "totvs-r2");
    assert_eq!(meta.comment.as_deref(), Some("deleted in TOTVS TRE (deleteOrders)"));
    assert_eq!(meta.occurred_at, Some(context().now));
}

#[test]
fn an_operation_named_in_the_body_must_be_the_one_called() {
    let error = TotvsR2::default().records(UPDATE_ORDERS, &fixture("create-two-orders.xml"), &context()).unwrap_err();
    assert_eq!(error.code, "UNKNOWN_OPERATION");
    assert_eq!(adapter_totvs_r2::operation_of(&fixture("create-two-orders.xml")).as_deref(), Some(CREATE_ORDERS));
    // What `rastro import` asks of a saved envelope.
    let adapter: &dyn domain::ingest::Adapter = &TotvsR2::default();
    assert_eq!(adapter.operation_of(&fixture("publish-released-trip.xml")).as_deref(), Some("publishReleasedTrip"));
}

#[test]
fn amounts_are_read_exactly() {
    assert_eq!(cents("459.90"), Some(45_990));
    assert_eq!(cents("0.005"), Some(1));
    assert_eq!(cents("0.004"), Some(0));
    assert_eq!(cents("12"), Some(1_200));
    assert_eq!(cents("1e3"), None);
}

#[test]
fn the_preamble_names_the_operation_and_a_ws_security_password() {
    let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>erp</wsse:Username><wsse:Password Type="PasswordText"> rst_abc </wsse:Password></wsse:UsernameToken></wsse:Security></s:Header><s:Body><o:deleteOrders xmlns:o="urn:x"><o:orders/></o:deleteOrders></s:Body></s:Envelope>"#;
    let found = adapter_totvs_r2::preamble(body.as_bytes());
    assert_eq!(found.operation.as_deref(), Some(DELETE_ORDERS));
    assert_eq!(found.password.as_deref(), Some("rst_abc"));
    // A password outside the header is no credential.
    let elsewhere = body.replace("<s:Header>", "<s:Header/><s:Body><x>").replace("</s:Header><s:Body>", "</x>");
    assert_eq!(adapter_totvs_r2::preamble(elsewhere.as_bytes()).password, None);
    assert_eq!(adapter_totvs_r2::preamble(b"<!DOCTYPE x><x/>"), adapter_totvs_r2::Preamble::default());
    // Other header text is no credential either.
    let other = body.replace("<wsse:UsernameToken>", "<wsse:Nonce>n0nce</wsse:Nonce><wsse:UsernameToken>").replace(" rst_abc ", "");
    assert_eq!(adapter_totvs_r2::preamble(other.as_bytes()).password, None);
    // A header as deep as the reader reads still leaves the operation found;
    // one level deeper and the scan gives up (the parse refuses it).
    let depth = adapter_totvs_r2::xml::MAX_DEPTH - 2;
    let deep = |levels: usize| {
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{}{}</s:Header><s:Body><createOrders/></s:Body></s:Envelope>"#,
            "<h>".repeat(levels),
            "</h>".repeat(levels)
        )
    };
    assert_eq!(adapter_totvs_r2::operation_of(deep(depth).as_bytes()).as_deref(), Some(CREATE_ORDERS));
    assert_eq!(adapter_totvs_r2::operation_of(deep(depth + 1).as_bytes()), None);
}

#[test]
fn the_same_order_sent_twice_has_one_digest() {
    let first = records(CREATE_ORDERS, &fixture("create-two-orders.xml"));
    let body = String::from_utf8(fixture("create-two-orders.xml")).unwrap();
    // Other prefixes, no indentation: the same content.
    let again = body.replace("ord:", "o:").replace("xmlns:ord", "xmlns:o").replace("\n", "").replace("  ", "");
    let second = records(CREATE_ORDERS, again.as_bytes());
    let digest = |r: &Record| match &r.commands[0] {
        Command::Create(new) => new.source_digest.clone().unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(digest(&first[0]), digest(&second[0]));
    assert_ne!(digest(&first[0]), digest(&first[1]));
    let changed = body.replace("<ord:priority>5</ord:priority>", "<ord:priority>6</ord:priority>");
    assert_ne!(digest(&records(CREATE_ORDERS, changed.as_bytes())[0]), digest(&first[0]));
}

#[test]
fn a_released_trip_moves_each_of_its_orders_once_and_records_the_trip() {
    use adapter_totvs_r2::trip::PUBLISH_RELEASED_TRIP;
    let moved = records(PUBLISH_RELEASED_TRIP, &fixture("publish-released-trip.xml"));
    assert_eq!(moved.iter().map(|r| r.source_id.as_str()).collect::<Vec<_>>(), ["PED-1001", "PED-1002"]);
    let [Command::Annotate(attributes), Command::ChangeStatus { to, meta }] = moved[0].commands.as_slice() else {
        panic!("{:?}", moved[0].commands)
    };
    assert_eq!(*to, OrderStatus::InSeparation);
    assert_eq!(meta.event_id.as_deref(), Some("totvs-r2:trip:TRIP-9:PED-1001"));
    assert_eq!(meta.comment.as_deref(), Some("Trip TRIP-9 released, carrier TRANSP-1"));
    assert_eq!((meta.source.as_str(), meta.occurred_at), ("totvs-r2", Some(context().now)));
    for (key, value) in [
        ("tre.tripId", "TRIP-9"),
        ("tre.carrierId", "TRANSP-1"),
        ("tre.vehicleId", "VAN-3"),
        ("tre.vehicleDescription", "Van 3.5t"),
        ("tre.truckLicensePlate", "ABC1D23"),
    ] {
        assert_eq!(attribute(attributes, key), Some(value), "{key}");
    }
    // A trip without its identifier: each order is refused, saying why.
    let body = String::from_utf8(fixture("publish-released-trip.xml")).unwrap().replace("<identifier>TRIP-9</identifier>", "");
    let refused = records(PUBLISH_RELEASED_TRIP, body.as_bytes());
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().all(|r| r.commands.is_empty() && r.refusals[0].code == "R2_MANDATORY"));
    let empty = body.replace("PED-100", "");
    let error = TotvsR2::default().records(PUBLISH_RELEASED_TRIP, empty.replace("<orderSourceId>1</orderSourceId>", "").replace("<orderSourceId>2</orderSourceId>", "").as_bytes(), &context());
    assert_eq!(error.unwrap_err().code, "MALFORMED");
}

#[test]
fn tracking_events_move_orders_or_add_an_entry() {
    use adapter_totvs_r2::trip::PUBLISH_TRACKING_EVENTS;
    let events = records(PUBLISH_TRACKING_EVENTS, &fixture("rules/valid-tracking-events.xml"));
    let moves: Vec<(Option<OrderStatus>, Option<String>, Option<String>)> = events
        .iter()
        .map(|r| match &r.commands[..] {
            [Command::ChangeStatus { to, meta }] => (Some(*to), meta.event_id.clone(), meta.comment.clone()),
            [Command::Track(meta)] => (None, meta.event_id.clone(), meta.comment.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(moves, [
        (Some(OrderStatus::InTransit), Some("totvs-r2:event:EV-1".into()), Some("Campinas/SP".into())),
        (None, Some("totvs-r2:event:EV-2".into()), Some("Chegou ao centro de distribuição".into())),
        (Some(OrderStatus::InTransit), Some("totvs-r2:event:EV-4".into()), None),
        (Some(OrderStatus::Delivered), Some("totvs-r2:event:EV-3".into()), None),
    ]);
    let [Command::ChangeStatus { meta, .. }] = &events[3].commands[..] else { panic!() };
    assert_eq!(meta.occurred_at, Some(Utc.with_ymd_and_hms(2026, 12, 8, 18, 0, 0).unwrap()));
    let targets: Vec<(&str, Option<&Group>)> = events.iter().map(|r| (r.source_id.as_str(), r.group.as_ref())).collect();
    let trip = Group { key: "tre.tripId".into(), value: "TRIP-9".into() };
    assert_eq!(targets, [("PED-1", None), ("PED-1", None), ("TRIP-9", Some(&trip)), ("PED-1", None)]);
}

#[test]
fn an_item_keeps_its_total_and_its_other_fields() {
    let records = records(CREATE_ORDERS, &fixture("create-two-orders.xml"));
    let [Command::Create(first)] = records[0].commands.as_slice() else { panic!() };
    let line = &first.items[0];
    // 459.90 for 3 units: the unit is rounded, the line's total is not.
    assert_eq!((line.unit_price_cents, line.total_cents), (15_330, Some(45_990)));
    let kept: Vec<(&str, &str)> = line.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(kept, [
        ("shipmentUnitWrapperCode", "CX"),
        ("quantityInShipmentUnits", "1"),
        ("MIT", "M1"),
        ("DSK", "D1"),
        ("reference", "linha 1"),
        ("hlwAllow", "true"),
    ]);
    // Without a price the line has no stated total.
    assert_eq!(first.items[1].total_cents, None);
}

#[test]
fn whole_orders_carry_their_digest_and_unique_item_ids() {
    for (operation, body) in [
        (CREATE_ORDERS, String::from_utf8(fixture("create-two-orders.xml")).unwrap()),
        (UPDATE_ORDERS, String::from_utf8(fixture("create-two-orders.xml")).unwrap().replace("createOrders", "updateOrders")),
    ] {
        for record in records(operation, body.as_bytes()) {
            let (Command::Create(new) | Command::Replace(new)) = &record.commands[0] else { panic!() };
            assert!(new.item_ids_unique_in_company);
            assert_eq!(new.source_digest.as_ref().map(String::len), Some(64));
        }
    }
}

#[test]
fn a_call_carries_at_most_five_thousand_orders() {
    let call = |n: usize| {
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><deleteOrders><orders>{}</orders></deleteOrders></s:Body></s:Envelope>"#,
            (0..n).map(|i| format!("<order><identifier>P-{i}</identifier></order>")).collect::<String>()
        )
    };
    let most = adapter_totvs_r2::MAX_ORDERS;
    assert_eq!(records(DELETE_ORDERS, call(most).as_bytes()).len(), most);
    let error = TotvsR2::default().records(DELETE_ORDERS, call(most + 1).as_bytes(), &context()).unwrap_err();
    assert_eq!(error.code, "TOO_LARGE");
}
