//! The ingestion pipeline on a real database: records applied whole or not at
//! all, per-record outcomes with codes, stale and repeated events skipped, and
//! every call recorded as an integration run — finished, rejected, or left
//! visible as failed when it never finished. (Adapters and their routes build
//! on this; they are tested through their protocols.)

use chrono::{Duration, Utc};
use domain::{
    ingest::{self, Batch, Command, Record, RunMeta},
    orders::{EventMeta, NewItem, NewOrder, Shipment},
    Actor,
};
use entities::{integration_run, integration_run_item, order, ItemOutcome, OrderStatus, RunOutcome};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use tests::TestApp;

fn new_order(source_id: &str, destination: i32) -> NewOrder {
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
            origin_locality_id: None,
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
    Record { source_id: source_id.into(), commands }
}

fn meta() -> RunMeta {
    RunMeta { adapter: "test-feed".into(), operation: "push".into(), reprocess_of: None }
}

/// Runs `batch` through the pipeline as the company's integration, the way a
/// route does: begin the run, apply, finish with an answer.
async fn run(app: &TestApp, company_id: i32, batch: Batch) -> (ingest::Report, integration_run::Model) {
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

async fn order_by_source(app: &TestApp, company_id: i32, source_id: &str) -> Option<order::Model> {
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
