//! The ingestion pipeline on a real database: records applied whole or not at
//! all, per-record outcomes with codes, stale and repeated events skipped, and
//! every call recorded as an integration run — finished, rejected, or left
//! visible as failed when it never finished. (Adapters and their routes build
//! on this; they are tested through their protocols.)

use chrono::{Duration, Utc};
use domain::{
    ingest::{self, Batch, Command, Group, ItemError, Record, RunMeta},
    orders::{EventMeta, NewItem, NewOrder, Shipment},
    Actor,
};
use entities::{integration_run, integration_run_item, order, ItemOutcome, OrderStatus, RunOutcome};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use tests::TestApp;

pub(crate) fn new_order(source_id: &str, destination: i32) -> NewOrder {
    NewOrder {
        source_id: source_id.into(),
        code: format!("#{source_id}"),
        destination_locality_id: Some(destination),
        customer_name: Some("Maria Souza".into()),
        items: vec![NewItem {
            source_id: "1".into(),
            product_id: "SKU-1".into(),
            name: "Chair".into(),
            quantity: 2.0,
            unit_price_cents: 45_990,
            height: None,
            length: None,
            width: None,
            weight: None,
            ..NewItem::default()
        }],
        ..NewOrder::default()
    }
}

fn event(id: &str, minutes_ago: i64) -> EventMeta {
    EventMeta {
        event_id: Some(id.into()),
        occurred_at: Some(Utc::now() - Duration::minutes(minutes_ago)),
        source: "test-feed".into(),
        ..EventMeta::default()
    }
}

fn record(source_id: &str, commands: Vec<Command>) -> Record {
    Record::new(source_id, commands)
}

fn meta() -> RunMeta {
    RunMeta { adapter: "test-feed".into(), operation: "push".into(), reprocess_of: None }
}

/// Runs `batch` through the pipeline as the company's integration, the way a
/// route does: begin the run, apply, finish with an answer.
pub(crate) async fn run(app: &TestApp, company_id: i32, batch: Batch) -> (ingest::Report, integration_run::Model) {
    let handle = ingest::runs::begin(&app.ctx, Some(company_id), &meta(), b"<request/>").await.unwrap();
    let report = ingest::apply(&app.ctx, &Actor::integration(company_id), &handle, batch).await.unwrap();
    ingest::runs::finish(&app.ctx, &handle, &report, b"<answer/>").await.unwrap();
    let stored = integration_run::Entity::find_by_id(handle.id).one(&app.db).await.unwrap().unwrap();
    (report, stored)
}

async fn items(app: &TestApp, run_id: i32) -> Vec<integration_run_item::Model> {
    integration_run_item::Entity::find()
        .filter(integration_run_item::Column::RunId.eq(run_id))
        .order_by_asc(integration_run_item::Column::Position)
        .all(&app.db)
        .await
        .unwrap()
}

pub(crate) async fn order_by_source(app: &TestApp, company_id: i32, source_id: &str) -> Option<order::Model> {
    order::Entity::find()
        .filter(order::Column::CompanyId.eq(company_id))
        .filter(order::Column::SourceId.eq(source_id))
        .one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn each_record_is_applied_whole_or_not_at_all_and_every_outcome_is_recorded() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let (company, destination): (i32, i32) = (t.id.parse().unwrap(), t.destination.parse().unwrap());
    let shipment = Shipment {
        carrier: "correios".into(),
        title: Some("Correios".into()),
        tracking_number: "BR123".into(),
        tracking_url: None,
        shipped_at: None,
        invoice_number: None,
    };
    let batch = Batch {
        records: vec![
            // Created, moved and shipped: three commands, one transaction.
            record(
                "A-1",
                vec![
                    Command::Create(new_order("A-1", destination)),
                    Command::ChangeStatus { to: OrderStatus::InSeparation, meta: event("e1", 30) },
                    Command::Ship { shipment, meta: event("e2", 20) },
                ],
            ),
            // Unknown destination: refused, with the field.
            record("A-2", vec![Command::Create(new_order("A-2", 999_999))]),
            // A status for an order nobody created.
            record("A-3", vec![Command::ChangeStatus { to: OrderStatus::Approved, meta: event("e3", 10) }]),
            // Created, then an illegal move: the creation is rolled back too.
            record(
                "A-4",
                vec![
                    Command::Create(new_order("A-4", destination)),
                    Command::ChangeStatus { to: OrderStatus::Delivered, meta: event("e4", 10) },
                    Command::ChangeStatus { to: OrderStatus::Cancelled, meta: event("e5", 5) },
                ],
            ),
        ],
    };
    let (report, stored) = run(&app, company, batch).await;
    assert_eq!(report.run_id, stored.id);
    assert_eq!((report.applied, report.skipped, report.failed), (1, 0, 3));
    assert_eq!(stored.outcome, RunOutcome::Partial);
    assert_eq!((stored.received, stored.applied, stored.skipped, stored.failed), (4, 1, 0, 3));
    assert!(stored.finished_at.is_some() && stored.duration_ms.is_some() && stored.error.is_none(), "{stored:?}");
    assert_eq!((stored.request.as_str(), stored.response.as_deref()), ("<request/>", Some("<answer/>")));

    let shipped = order_by_source(&app, company, "A-1").await.expect("A-1 applied");
    assert_eq!(shipped.status, OrderStatus::InTransit);
    assert!(order_by_source(&app, company, "A-2").await.is_none());
    assert!(order_by_source(&app, company, "A-4").await.is_none(), "nothing of a failed record stays");

    let items = items(&app, stored.id).await;
    let summary: Vec<_> = items.iter().map(|i| (i.source_id.as_deref().unwrap(), i.outcome, i.error_code.as_deref())).collect();
    assert_eq!(
        summary,
        [
            ("A-1", ItemOutcome::Applied, None),
            ("A-2", ItemOutcome::Failed, Some("VALIDATION")),
            ("A-3", ItemOutcome::Failed, Some("NOT_FOUND")),
            ("A-4", ItemOutcome::Failed, Some("VALIDATION")),
        ]
    );
    assert_eq!(items[0].order_id, Some(shipped.id));
    let notes: Vec<String> = serde_json::from_str(items[0].applied.as_deref().unwrap()).unwrap();
    assert_eq!(notes, ["created as RECEIVED", "status: IN_SEPARATION", "shipment: IN_TRANSIT"]);
    assert_eq!(items[1].error_field.as_deref(), Some("destinationLocalityId"));
    assert!(items[3].error_message.as_deref().unwrap().contains("DELIVERED to CANCELLED"), "{:?}", items[3]);
}

#[tokio::test]
async fn stale_and_repeated_events_are_skipped_not_errors() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let (company, destination): (i32, i32) = (t.id.parse().unwrap(), t.destination.parse().unwrap());
    let first = Batch {
        records: vec![record(
            "B-1",
            vec![
                Command::Upsert(new_order("B-1", destination)),
                Command::ChangeStatus { to: OrderStatus::InSeparation, meta: event("s1", 10) },
            ],
        )],
    };
    let (report, _) = run(&app, company, first).await;
    assert_eq!(report.applied, 1);

    // The same event again, and one that happened before the last change.
    let again = Batch {
        records: vec![
            record("B-1", vec![Command::ChangeStatus { to: OrderStatus::InSeparation, meta: event("s1", 10) }]),
            record("B-1", vec![Command::ChangeStatus { to: OrderStatus::Approved, meta: event("s0", 60) }]),
        ],
    };
    let (report, stored) = run(&app, company, again).await;
    assert_eq!((report.applied, report.skipped, report.failed), (0, 2, 0));
    assert_eq!(stored.outcome, RunOutcome::Success);
    let items = items(&app, stored.id).await;
    assert!(items.iter().all(|i| i.outcome == ItemOutcome::Skipped));
    assert!(items[0].applied.as_deref().unwrap().contains("duplicate event s1"), "{:?}", items[0]);
    assert!(items[1].applied.as_deref().unwrap().contains("stale event"), "{:?}", items[1]);
    assert_eq!(order_by_source(&app, company, "B-1").await.unwrap().status, OrderStatus::InSeparation);

    // An upsert of an existing order replaces its details and keeps its status.
    let mut renamed = new_order("B-1", destination);
    renamed.code = "#B-1-renamed".into();
    let (report, _) = run(&app, company, Batch { records: vec![record("B-1", vec![Command::Upsert(renamed)])] }).await;
    assert_eq!(report.applied, 1);
    let order = order_by_source(&app, company, "B-1").await.unwrap();
    assert_eq!((order.code.as_str(), order.status), ("#B-1-renamed", OrderStatus::InSeparation));
    assert_eq!(order::Entity::find().filter(order::Column::CompanyId.eq(company)).count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn a_company_integration_never_reaches_another_companys_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    app.create_order(&b.staff, "SAME-1", &b.destination, None).await;
    let company_a: i32 = a.id.parse().unwrap();
    let batch = Batch { records: vec![record("SAME-1", vec![Command::ChangeStatus { to: OrderStatus::Cancelled, meta: event("x", 1) }])] };
    let (report, _) = run(&app, company_a, batch).await;
    assert_eq!(report.items[0].error.as_ref().map(|e| e.code), Some("NOT_FOUND"));
    let theirs = order_by_source(&app, b.id.parse().unwrap(), "SAME-1").await.unwrap();
    assert_eq!(theirs.status, OrderStatus::Received, "beta's order is untouched");
}

#[tokio::test]
async fn rejected_and_interrupted_calls_are_runs_too() {
    let app = TestApp::spawn().await;
    // A call with a bad token: no company, refused before parsing.
    let handle = ingest::runs::begin(&app.ctx, None, &meta(), b"garbage").await.unwrap();
    ingest::runs::reject(&app.ctx, &handle, "invalid integration token", b"401").await.unwrap();
    let rejected = integration_run::Entity::find_by_id(handle.id).one(&app.db).await.unwrap().unwrap();
    assert_eq!((rejected.outcome, rejected.company_id, rejected.error.as_deref()), (RunOutcome::Rejected, None, Some("invalid integration token")));

    // A call whose process died before it finished: visible as failed.
    let started = ingest::runs::begin(&app.ctx, None, &meta(), &vec![b'x'; ingest::runs::PAYLOAD_CAP + 10]).await.unwrap();
    let interrupted = integration_run::Entity::find_by_id(started.id).one(&app.db).await.unwrap().unwrap();
    assert_eq!(interrupted.outcome, RunOutcome::Failed);
    assert!(interrupted.finished_at.is_none());
    assert!(interrupted.error.as_deref().unwrap().starts_with("interrupted"));
    assert!(interrupted.request_truncated);
    assert_eq!(interrupted.request_bytes, (ingest::runs::PAYLOAD_CAP + 10) as i64);
    assert_eq!(interrupted.request.len(), ingest::runs::PAYLOAD_CAP);
}

const RUNS: &str = "query($f: IntegrationRunFilter) { integrationRuns(first: 10, filter: $f) {
  totalCount edges { node { id companyId adapter operation outcome received applied skipped failed finishedAt items { position } } } } }";
const RUN: &str = "query($id: ID!) { integrationRun(id: $id) { id outcome request response
  items { position sourceId outcome orderId errorCode errorField errorMessage applied } } }";

#[tokio::test]
async fn the_log_and_monitor_show_a_company_its_own_runs_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    let (company_a, destination_a): (i32, i32) = (a.id.parse().unwrap(), a.destination.parse().unwrap());
    let batch = Batch {
        records: vec![
            record("OK-1", vec![Command::Create(new_order("OK-1", destination_a))]),
            record("BAD-1", vec![Command::Create(new_order("BAD-1", 999_999))]),
        ],
    };
    let (_, partial) = run(&app, company_a, batch).await;
    let (_, success) = run(&app, company_a, Batch { records: vec![record("OK-2", vec![Command::Create(new_order("OK-2", destination_a))])] }).await;
    let rejected = ingest::runs::begin(&app.ctx, Some(company_a), &meta(), b"<broken").await.unwrap();
    ingest::runs::reject(&app.ctx, &rejected, "malformed XML", b"fault").await.unwrap();

    let listed = app.gql(Some(&a.staff), RUNS, serde_json::json!({})).await;
    let connection = &listed["data"]["integrationRuns"];
    assert_eq!(connection["totalCount"], 3, "{listed}");
    assert_eq!(connection["edges"][0]["node"]["outcome"], "REJECTED", "newest first");
    assert_eq!(connection["edges"][2]["node"]["id"], partial.id.to_string());
    assert_eq!(connection["edges"][2]["node"]["failed"], 1);
    assert_eq!(connection["edges"][2]["node"]["items"], serde_json::json!([]), "records only on integrationRun");

    let failed_only = app.gql(Some(&a.staff), RUNS, serde_json::json!({ "f": { "outcomes": ["PARTIAL", "FAILED"] } })).await;
    assert_eq!(failed_only["data"]["integrationRuns"]["totalCount"], 1, "{failed_only}");
    let by_order = app.gql(Some(&a.staff), RUNS, serde_json::json!({ "f": { "sourceId": "OK-2" } })).await;
    assert_eq!(by_order["data"]["integrationRuns"]["edges"][0]["node"]["id"], success.id.to_string(), "{by_order}");

    let detail = app.gql(Some(&a.staff), RUN, serde_json::json!({ "id": partial.id.to_string() })).await;
    let run = &detail["data"]["integrationRun"];
    assert_eq!((run["request"].as_str(), run["response"].as_str()), (Some("<request/>"), Some("<answer/>")), "{detail}");
    assert_eq!(run["items"][1]["sourceId"], "BAD-1");
    assert_eq!(run["items"][1]["outcome"], "FAILED");
    assert_eq!(run["items"][1]["errorCode"], "VALIDATION");
    assert_eq!(run["items"][1]["errorField"], "destinationLocalityId");
    assert_eq!(run["items"][0]["applied"], serde_json::json!(["created as RECEIVED"]));

    // Beta sees none of it, and alpha's run answers like a missing one.
    let theirs = app.gql(Some(&b.staff), RUNS, serde_json::json!({})).await;
    assert_eq!(theirs["data"]["integrationRuns"]["totalCount"], 0, "{theirs}");
    let foreign = app.gql(Some(&b.staff), RUN, serde_json::json!({ "id": partial.id.to_string() })).await;
    let missing = app.gql(Some(&b.staff), RUN, serde_json::json!({ "id": "999999" })).await;
    assert_eq!(tests::error_code(&foreign), Some("NOT_FOUND"));
    assert_eq!(foreign["errors"][0]["message"].as_str().map(|m| m.replace(&partial.id.to_string(), "N")),
        missing["errors"][0]["message"].as_str().map(|m| m.replace("999999", "N")));
    let monitor = "{ integrationMonitor { adapter operation last24h { success partial failed rejected } last7d { success partial failed rejected } lastSuccessAt lastFailureAt } }";
    let empty = app.gql(Some(&b.staff), monitor, serde_json::json!({})).await;
    assert_eq!(empty["data"]["integrationMonitor"], serde_json::json!([]), "{empty}");

    // Alpha's monitor: one flow, the three runs by outcome.
    let flows = app.gql(Some(&a.staff), monitor, serde_json::json!({})).await;
    let flow = &flows["data"]["integrationMonitor"][0];
    assert_eq!((flow["adapter"].as_str(), flow["operation"].as_str()), (Some("test-feed"), Some("push")), "{flows}");
    let counts = serde_json::json!({ "success": 1, "partial": 1, "failed": 0, "rejected": 1 });
    assert_eq!(flow["last24h"], counts);
    assert_eq!(flow["last7d"], counts);
    assert!(flow["lastSuccessAt"].is_string() && flow["lastFailureAt"].is_string(), "{flows}");

    // Support sees every company's runs, or one company's.
    let all = app.gql(Some(&admin), RUNS, serde_json::json!({})).await;
    assert_eq!(all["data"]["integrationRuns"]["totalCount"], 3, "{all}");
    let only_beta = app.gql(Some(&admin), RUNS, serde_json::json!({ "f": { "companyId": b.id } })).await;
    assert_eq!(only_beta["data"]["integrationRuns"]["totalCount"], 0);
}

const REPROCESS: &str = "mutation($id: ID!) { reprocessIntegrationRun(id: $id) { run { id outcome reprocessOf applied skipped failed
  items { sourceId outcome errorField applied } } } }";

/// A file whose second order names a locality that does not exist yet: the run
/// is partial. Once the locality is created, reprocessing the run turns it into
/// a success linked to the first, without duplicating the order that went in.
#[tokio::test]
async fn reprocessing_after_the_cause_is_fixed_succeeds_and_links_the_runs() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    let company: i32 = a.id.parse().unwrap();
    let csv = "source_id,code,status,customer_name,destination,item_source_id,product_id,item_name,quantity,unit_price\n\
               R-1,#R-1,INVOICED,Maria,STORE-1,1,SKU-1,Chair,1,10.00\n\
               R-2,#R-2,DELIVERED,João,STORE-9,1,SKU-2,Desk,2,20.00\n";
    let adapter = adapter_rastro_csv::RastroCsv;
    let first = ingest::handle(&app.ctx, company, &adapter, "import", csv.as_bytes(), None).await.unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!((answer["applied"].as_u64(), answer["failed"].as_u64()), (Some(1), Some(1)), "{answer}");
    assert_eq!(answer["items"][1]["error"]["field"], "destination");

    // Another company cannot replay it; a run that succeeded is not replayed.
    let foreign = app.gql(Some(&b.staff), REPROCESS, serde_json::json!({ "id": first.run_id.to_string() })).await;
    assert_eq!(tests::error_code(&foreign), Some("NOT_FOUND"), "{foreign}");

    app.create_locality(&a.staff, "STORE-9", "DESTINATION", None).await;
    let replayed = app.gql(Some(&a.staff), REPROCESS, serde_json::json!({ "id": first.run_id.to_string() })).await;
    let run = &replayed["data"]["reprocessIntegrationRun"]["run"];
    assert_eq!(run["outcome"], "SUCCESS", "{replayed}");
    assert_eq!(run["reprocessOf"], first.run_id.to_string());
    assert_eq!((run["applied"].as_u64(), run["skipped"].as_u64(), run["failed"].as_u64()), (Some(1), Some(1), Some(0)));
    assert_eq!(run["items"][0]["applied"], serde_json::json!(["import skipped: the order already exists"]));
    let delivered = order_by_source(&app, company, "R-2").await.unwrap();
    assert_eq!(delivered.status, OrderStatus::Delivered);
    assert_eq!(order::Entity::find().filter(order::Column::CompanyId.eq(company)).count(&app.db).await.unwrap(), 2);

    let again = app.gql(Some(&a.staff), REPROCESS, serde_json::json!({ "id": run["id"] })).await;
    assert_eq!(tests::error_code(&again), Some("VALIDATION"), "{again}");
    let audited = entities::audit_log::Entity::find()
        .filter(entities::audit_log::Column::Action.eq("integration_run.reprocess"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

/// Live dashboards hear of each finished run of their own company, and only those.
#[tokio::test]
async fn finished_runs_reach_their_company_subscribers_only() {
    use std::time::Duration;
    use tests::ws::{WsClient, WsEvent};
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    let watch = "subscription { integrationRunFinished { runId companyId adapter operation outcome } }";
    let mut ours = WsClient::connect_acked(&app.base, &a.staff).await;
    ours.subscribe("1", watch, serde_json::json!({})).await;
    let mut theirs = WsClient::connect_acked(&app.base, &b.staff).await;
    theirs.subscribe("1", watch, serde_json::json!({})).await;
    let mut support = WsClient::connect_acked(&app.base, &admin).await;
    support.subscribe("1", watch, serde_json::json!({})).await;

    let csv = "source_id,code,status,customer_name,destination,item_source_id,product_id,item_name,quantity,unit_price\n\
               W-1,#W-1,RECEIVED,Maria,STORE-1,1,SKU-1,Chair,1,10.00\n";
    let answer = ingest::handle(&app.ctx, a.id.parse().unwrap(), &adapter_rastro_csv::RastroCsv, "import", csv.as_bytes(), None).await.unwrap();
    for socket in [&mut ours, &mut support] {
        match socket.next(Duration::from_secs(5)).await {
            WsEvent::Json(message) if message["type"] == "next" => {
                let event = &message["payload"]["data"]["integrationRunFinished"];
                assert_eq!(event["runId"], answer.run_id.to_string(), "{message}");
                assert_eq!((event["outcome"].as_str(), event["adapter"].as_str()), (Some("SUCCESS"), Some("rastro-csv")));
                assert_eq!(event["companyId"], a.id);
            }
            other => panic!("expected the run, got {other:?}"),
        }
    }
    // Beta's own run afterwards is the first thing beta hears: nothing of
    // alpha's came before it.
    let beta_csv = csv.replace("W-1", "WB-1");
    let beta_answer =
        ingest::handle(&app.ctx, b.id.parse().unwrap(), &adapter_rastro_csv::RastroCsv, "import", beta_csv.as_bytes(), None).await.unwrap();
    match theirs.next(Duration::from_secs(5)).await {
        WsEvent::Json(message) if message["type"] == "next" => {
            let event = &message["payload"]["data"]["integrationRunFinished"];
            assert_eq!(event["runId"], beta_answer.run_id.to_string(), "beta heard alpha's run: {message}");
            assert_eq!(event["companyId"], b.id);
        }
        other => panic!("expected beta's run, got {other:?}"),
    }
    let customer = app.customer(&a.id, "alpha", &a.customer_email()).await;
    let mut refused = WsClient::connect_acked(&app.base, &customer).await;
    refused.send(serde_json::json!({ "id": "1", "type": "subscribe", "payload": { "query": watch } })).await;
    match refused.next(Duration::from_secs(5)).await {
        WsEvent::Json(message) => assert_eq!(message["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN", "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A record about a group of orders (a trip's) runs its commands for each
/// live order of the group, each on its own; one the adapter refused runs
/// nothing; an empty group is not found.
#[tokio::test]
async fn a_group_record_moves_each_order_of_the_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "alpha").await;
    let company: i32 = tenant.id.parse().unwrap();
    let destination: i32 = tenant.destination.parse().unwrap();
    let trip = || Group { key: "tre.tripId".into(), value: "T-1".into() };
    let tagged = |id: &str| vec![Command::Create(new_order(id, destination)), Command::Annotate(vec![("tre.tripId".into(), "T-1".into())])];
    let setup = Batch { records: vec![record("G-1", tagged("G-1")), record("G-2", tagged("G-2")), record("G-3", vec![Command::Create(new_order("G-3", destination))])] };
    assert_eq!(run(&app, company, setup).await.0.applied, 3);

    let moved = |id: &str| Command::ChangeStatus { to: OrderStatus::InSeparation, meta: event(id, 1) };
    let refused = Record {
        refusals: vec![ItemError { code: "R2_EVENT_TYPE", field: Some("type".into()), message: "not a type".into() }],
        ..Record::for_group("T-1", trip(), vec![Command::ChangeStatus { to: OrderStatus::Cancelled, meta: event("g0", 2) }])
    };
    let batch = Batch {
        records: vec![
            refused,
            Record::for_group("T-1", trip(), vec![moved("g1")]),
            Record::for_group("T-404", Group { key: "tre.tripId".into(), value: "T-404".into() }, vec![moved("g2")]),
        ],
    };
    let (report, stored) = run(&app, company, batch).await;
    let seen: Vec<(usize, &str, ItemOutcome, Option<&str>)> =
        report.items.iter().map(|i| (i.position, i.source_id.as_str(), i.outcome, i.error.as_ref().map(|e| e.code))).collect();
    assert_eq!(seen, [
        (0, "T-1", ItemOutcome::Failed, Some("R2_EVENT_TYPE")),
        (1, "G-1", ItemOutcome::Applied, None),
        (1, "G-2", ItemOutcome::Applied, None),
        (2, "T-404", ItemOutcome::Failed, Some("NOT_FOUND")),
    ]);
    assert_eq!((stored.received, stored.applied, stored.failed), (4, 2, 2));
    for (id, status) in [("G-1", OrderStatus::InSeparation), ("G-2", OrderStatus::InSeparation), ("G-3", OrderStatus::Received)] {
        assert_eq!(order_by_source(&app, company, id).await.unwrap().status, status, "{id}");
    }
}

#[tokio::test]
async fn a_destination_learnt_from_an_order_is_saved_with_it_and_updated_by_the_next() {
    use domain::{address::Address, localities::{LocalityInput, Responsible}};
    use entities::{audit_log, locality, LogisticRole};
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "alpha").await;
    let company: i32 = tenant.id.parse().unwrap();
    let customer = |city: &str, email: &str| LocalityInput {
        source_id: "cust-ana".into(),
        name: "Ana Lima".into(),
        logistic_role: LogisticRole::Destination,
        address: Address { street: Some("Rua A".into()), number: Some("1".into()), city: Some(city.into()), state: Some("SP".into()), country: Some("BR".into()), zip_code: Some("01000-000".into()), ..Address::default() },
        responsible: Some(Responsible { name: "Ana Lima".into(), email: email.into(), phone: None }),
    };
    let to_customer = |id: &str| NewOrder { destination_locality_id: None, destination_source_id: Some("cust-ana".into()), ..new_order(id, 0) };
    let batch = Batch {
        records: vec![
            record("D-1", vec![Command::Destination(customer("Campinas", "ana@cliente.example")), Command::Upsert(to_customer("D-1"))]),
            record("D-2", vec![Command::Destination(customer("Santos", "ana@cliente.example")), Command::Upsert(to_customer("D-2"))]),
            // A bad e-mail fails the whole record: neither the locality's change nor the order.
            record("D-3", vec![Command::Destination(customer("Recife", "not-an-email")), Command::Upsert(to_customer("D-3"))]),
        ],
    };
    let (report, _) = run(&app, company, batch).await;
    let seen: Vec<(&str, ItemOutcome, Vec<String>)> = report.items.iter().map(|i| (i.source_id.as_str(), i.outcome, i.notes.clone())).collect();
    assert!(report.items[0].error.is_none(), "{:?}", report.items[0].error);
    assert_eq!(seen[0], ("D-1", ItemOutcome::Applied, vec!["destination cust-ana saved".to_owned(), "created as RECEIVED".to_owned()]));
    assert_eq!(seen[1].1, ItemOutcome::Applied);
    assert_eq!((seen[2].1, report.items[2].error.as_ref().map(|e| e.field.clone())), (ItemOutcome::Failed, Some(Some("destination.responsible.email".to_owned()))));

    let saved = locality::Entity::find().filter(locality::Column::CompanyId.eq(company)).filter(locality::Column::SourceId.eq("cust-ana")).all(&app.db).await.unwrap();
    assert_eq!(saved.len(), 1, "one locality per customer, updated in place");
    assert_eq!((saved[0].city.as_deref(), saved[0].responsible_email.as_deref()), (Some("Santos"), Some("ana@cliente.example")));
    assert_eq!(saved[0].logistic_role, LogisticRole::Destination);
    for id in ["D-1", "D-2"] {
        assert_eq!(order_by_source(&app, company, id).await.unwrap().destination_locality_id, Some(saved[0].id), "{id}");
    }
    assert!(order_by_source(&app, company, "D-3").await.is_none());
    let audited = audit_log::Entity::find().filter(audit_log::Column::Action.eq("locality.upsert")).count(&app.db).await.unwrap();
    assert_eq!(audited, 2);

    // Another company's integration saving the same source id touches its own locality only.
    let other = app.tenant(&admin, "beta").await;
    let other_id: i32 = other.id.parse().unwrap();
    let (report, _) = run(&app, other_id, Batch { records: vec![record("D-1", vec![Command::Destination(customer("Natal", "bia@cliente.example")), Command::Upsert(to_customer("D-1"))])] }).await;
    assert_eq!(report.applied, 1);
    let mine = locality::Entity::find_by_id(saved[0].id).one(&app.db).await.unwrap().unwrap();
    assert_eq!((mine.city.as_deref(), mine.responsible_email.as_deref()), (Some("Santos"), Some("ana@cliente.example")));
}

#[tokio::test]
async fn a_skipped_record_is_recorded_with_its_reason_whether_or_not_its_order_exists() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "alpha").await;
    let company: i32 = tenant.id.parse().unwrap();
    let destination: i32 = tenant.destination.parse().unwrap();
    assert_eq!(run(&app, company, Batch { records: vec![record("S-1", vec![Command::Create(new_order("S-1", destination))])] }).await.0.applied, 1);
    let before = tests::fingerprint(&app.db, &[]).await;

    let batch = Batch {
        records: vec![
            Record::skipped("S-1", "a state before the invoice"),
            Record::skipped("NEVER-SEEN", "a state before the invoice"),
            Record { skipped: Some("ignored".into()), ..Record::refused("S-1", vec![ItemError { code: "BAD", field: None, message: "refused".into() }]) },
            // Refusals win over the commands a record carries, creations included.
            Record { refusals: vec![ItemError { code: "BAD", field: None, message: "refused".into() }], ..record("S-2", vec![Command::Create(new_order("S-2", destination))]) },
        ],
    };
    let (report, stored) = run(&app, company, batch).await;
    let seen: Vec<(&str, ItemOutcome, Vec<String>, Option<&str>)> =
        report.items.iter().map(|i| (i.source_id.as_str(), i.outcome, i.notes.clone(), i.error.as_ref().map(|e| e.code))).collect();
    assert_eq!(seen, [
        ("S-1", ItemOutcome::Skipped, vec!["a state before the invoice".to_owned()], None),
        ("NEVER-SEEN", ItemOutcome::Skipped, vec!["a state before the invoice".to_owned()], None),
        ("S-1", ItemOutcome::Failed, vec![], Some("BAD")),
        ("S-2", ItemOutcome::Failed, vec![], Some("BAD")),
    ]);
    assert_eq!((stored.received, stored.applied, stored.skipped, stored.failed), (4, 0, 2, 2));
    let kept: Vec<(Option<String>, ItemOutcome, Option<String>)> = items(&app, stored.id).await.into_iter().map(|i| (i.source_id, i.outcome, i.applied)).collect();
    assert_eq!(kept[0], (Some("S-1".to_owned()), ItemOutcome::Skipped, Some("[\"a state before the invoice\"]".to_owned())));
    assert_eq!(kept[1].1, ItemOutcome::Skipped);
    // Only the run and its items were written: no order, history or audit entry.
    let after = tests::fingerprint(&app.db, &[]).await;
    let changed: Vec<&str> = before.iter().zip(&after).filter(|(b, a)| b != a).map(|(b, _)| b.0.as_str()).collect();
    assert_eq!(changed, ["integration_run_items", "integration_runs"]);
}

#[tokio::test]
async fn a_group_larger_than_the_bound_moves_none_and_one_at_the_bound_moves_all() {
    let app = TestApp::spawn_with(|c| c.integrations.group_orders = 2).await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "alpha").await;
    let company: i32 = tenant.id.parse().unwrap();
    let destination: i32 = tenant.destination.parse().unwrap();
    let tagged = |id: &str, trip: &str| record(id, vec![Command::Create(new_order(id, destination)), Command::Annotate(vec![("tre.tripId".into(), trip.into())])]);
    let setup = Batch { records: vec![tagged("B-1", "AT"), tagged("B-2", "AT"), tagged("O-1", "OVER"), tagged("O-2", "OVER"), tagged("O-3", "OVER")] };
    assert_eq!(run(&app, company, setup).await.0.applied, 5);

    let trip = |value: &str| Group { key: "tre.tripId".into(), value: value.into() };
    let moved = |id: &str| vec![Command::ChangeStatus { to: OrderStatus::InSeparation, meta: event(id, 1) }];
    let batch = Batch { records: vec![Record::for_group("AT", trip("AT"), moved("b1")), Record::for_group("OVER", trip("OVER"), moved("b2"))] };
    let (report, _) = run(&app, company, batch).await;
    let seen: Vec<(&str, ItemOutcome, Option<&str>)> = report.items.iter().map(|i| (i.source_id.as_str(), i.outcome, i.error.as_ref().map(|e| e.code))).collect();
    assert_eq!(seen, [("B-1", ItemOutcome::Applied, None), ("B-2", ItemOutcome::Applied, None), ("OVER", ItemOutcome::Failed, Some("VALIDATION"))]);
    let message = &report.items[2].error.as_ref().unwrap().message;
    assert!(message.contains("more than 2 orders"), "{message}");
    for (id, status) in [("B-1", OrderStatus::InSeparation), ("B-2", OrderStatus::InSeparation), ("O-1", OrderStatus::Received), ("O-2", OrderStatus::Received), ("O-3", OrderStatus::Received)] {
        assert_eq!(order_by_source(&app, company, id).await.unwrap().status, status, "{id}");
    }
}
