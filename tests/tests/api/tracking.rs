//! A shipment's tracking through the pipeline: invoices kept apart by
//! number, shipments tied to the invoice they carry, a carrier's reports
//! replacing the timeline and moving the order only where the status machine
//! allows, mailed only when they move it, and nothing written half.

use domain::{
    ingest::{Batch, Command, Record},
    orders::{EventMeta, Invoice, Shipment, TrackingEvent, TrackingUpdate, MAX_TRACKING_EVENTS},
};
use entities::{invoice, notification, shipment, tracking_event, ItemOutcome, OrderStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use tests::TestApp;

use crate::ingest::{new_order, order_by_source, run};

fn meta(id: &str) -> EventMeta {
    EventMeta { event_id: Some(id.into()), notify_customer: true, source: "test-carrier".into(), ..EventMeta::default() }
}

fn invoice(number: &str, cents: i64) -> Command {
    let invoice = Invoice { number: number.into(), key: None, series: None, value_cents: Some(cents), issued_at: None, url: None };
    Command::Invoice { invoice, meta: meta(&format!("invoice:{number}:{cents}")) }
}

fn ship(number: &str, tracking: &str) -> Command {
    let shipment = Shipment {
        carrier: "Jadlog".into(),
        title: Some("Jadlog .Package".into()),
        tracking_number: tracking.into(),
        tracking_url: None,
        shipped_at: None,
        invoice_number: Some(number.into()),
    };
    Command::Ship { shipment, meta: meta(&format!("ship:{tracking}")) }
}

fn report(id: &str, number: &str, delivered: Option<&str>, places: &[&str]) -> Command {
    let events = places.iter().map(|p| TrackingEvent { city: Some((*p).into()), description: format!("at {p}"), ..TrackingEvent::default() }).collect();
    let delivered_at = delivered.map(|d| chrono::DateTime::parse_from_rfc3339(d).unwrap().to_utc());
    let update = TrackingUpdate { invoice_number: number.into(), delivered: delivered.is_some(), delivered_at, events };
    Command::Timeline { update, meta: meta(id) }
}

struct Shipped<'a> {
    app: &'a TestApp,
    company_id: i32,
    source_id: &'a str,
}

impl Shipped<'_> {
    async fn send(&self, command: Command) -> domain::ingest::ItemReport {
        let batch = Batch { records: vec![Record::new(self.source_id, vec![command])] };
        run(self.app, self.company_id, batch).await.0.items.remove(0)
    }

    async fn status(&self) -> OrderStatus {
        order_by_source(self.app, self.company_id, self.source_id).await.unwrap().status
    }

    async fn mails(&self) -> u64 {
        let id = order_by_source(self.app, self.company_id, self.source_id).await.unwrap().id;
        notification::Entity::find().filter(notification::Column::OrderId.eq(id)).count(&self.app.db).await.unwrap()
    }

    async fn timeline(&self) -> Vec<String> {
        let id = order_by_source(self.app, self.company_id, self.source_id).await.unwrap().id;
        let rows = tracking_event::Entity::find()
            .filter(tracking_event::Column::OrderId.eq(id))
            .order_by_asc(tracking_event::Column::Position)
            .all(&self.app.db)
            .await
            .unwrap();
        rows.into_iter().map(|e| e.city.unwrap_or_default()).collect()
    }

    async fn shipment(&self) -> shipment::Model {
        let id = order_by_source(self.app, self.company_id, self.source_id).await.unwrap().id;
        shipment::Entity::find().filter(shipment::Column::OrderId.eq(id)).one(&self.app.db).await.unwrap().unwrap()
    }
}

#[tokio::test]
async fn a_carriers_reports_move_the_order_only_where_the_status_machine_allows() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let (company_id, destination): (i32, i32) = (t.id.parse().unwrap(), t.destination.parse().unwrap());
    let order = Shipped { app: &app, company_id, source_id: "T-1" };

    // Invoiced in two parts: both kept, the order showing the latest.
    let created = run(&app, company_id, Batch { records: vec![Record::new("T-1", vec![
        Command::Create(new_order("T-1", destination)),
        invoice("NF-1", 50_000),
        invoice("NF-2", 41_980),
    ])] })
    .await
    .0;
    assert_eq!(created.applied, 1, "{created:?}");
    // A shipment of an invoice the order does not have fails, whole.
    let missing = order.send(ship("NF-9", "JD-9")).await;
    assert_eq!((missing.outcome, missing.error.as_ref().map(|e| e.code)), (ItemOutcome::Failed, Some("NOT_FOUND")), "{missing:?}");
    // A report before the invoice is shipped: refused.
    let early = order.send(report("r0", "NF-1", None, &["Barueri"])).await;
    assert_eq!(early.outcome, ItemOutcome::Failed, "{early:?}");
    assert!(early.error.as_ref().unwrap().message.contains("no tracking number yet"), "{early:?}");
    assert_eq!(order.send(ship("NF-1", "JD-1")).await.outcome, ItemOutcome::Applied);
    assert_eq!(order.status().await, OrderStatus::InTransit);
    // Corrected: the same number is the same invoice.
    assert_eq!(order.send(invoice("NF-1", 49_000)).await.outcome, ItemOutcome::Applied);
    let stored = order_by_source(&app, company_id, "T-1").await.unwrap();
    let invoices = invoice::Entity::find().filter(invoice::Column::OrderId.eq(stored.id)).order_by_asc(invoice::Column::Id).all(&app.db).await.unwrap();
    let kept: Vec<(&str, i64)> = invoices.iter().map(|i| (i.number.as_str(), i.value_cents)).collect();
    assert_eq!(kept, [("NF-1", 49_000), ("NF-2", 41_980)]);
    assert_eq!((stored.invoice_number.as_deref(), stored.invoice_value_cents), (Some("NF-1"), Some(49_000)), "the latest");
    let shipped = order.shipment().await;
    assert_eq!((shipped.invoice_number.as_deref(), shipped.title.as_deref(), shipped.carrier.as_str()), (Some("NF-1"), Some("Jadlog .Package"), "Jadlog"));

    // In transit already: the timeline is kept, nothing moves, nothing is mailed.
    let mails = order.mails().await;
    assert_eq!(order.send(report("r1", "NF-1", None, &["Barueri", "Campinas"])).await.outcome, ItemOutcome::Applied);
    assert_eq!((order.status().await, order.mails().await), (OrderStatus::InTransit, mails));
    assert_eq!(order.timeline().await, ["Barueri", "Campinas"]);

    // After a failed delivery, a report with events puts it on its way again.
    let failed = Command::ChangeStatus { to: OrderStatus::DeliveryFailed, meta: meta("failed") };
    assert_eq!(order.send(failed).await.outcome, ItemOutcome::Applied);
    let mails = order.mails().await;
    assert_eq!(order.send(report("r2", "NF-1", None, &["Barueri", "Campinas", "Jundiaí"])).await.outcome, ItemOutcome::Applied);
    assert_eq!(order.status().await, OrderStatus::InTransit);
    assert_eq!(order.mails().await, mails + 1, "a move is mailed");
    // A report with no events moves nothing and empties the timeline.
    let failed = Command::ChangeStatus { to: OrderStatus::DeliveryFailed, meta: meta("failed-again") };
    assert_eq!(order.send(failed).await.outcome, ItemOutcome::Applied);
    assert_eq!(order.send(report("r3", "NF-1", None, &[])).await.outcome, ItemOutcome::Applied);
    assert_eq!(order.status().await, OrderStatus::DeliveryFailed);
    assert!(order.timeline().await.is_empty());

    // Delivered: once, dated by the carrier, mailed once.
    let mails = order.mails().await;
    assert_eq!(order.send(report("r4", "NF-1", Some("2026-12-04T16:20:00Z"), &["Jundiaí"])).await.outcome, ItemOutcome::Applied);
    assert_eq!((order.status().await, order.mails().await), (OrderStatus::Delivered, mails + 1));
    assert_eq!(order.shipment().await.delivered_at.unwrap().to_rfc3339(), "2026-12-04T16:20:00+00:00");
    let again = order.send(report("r5", "NF-1", Some("2026-12-05T08:00:00Z"), &["Jundiaí", "Jundiaí"])).await;
    assert_eq!(again.outcome, ItemOutcome::Applied, "a later report of the same delivery: {again:?}");
    assert_eq!((order.status().await, order.mails().await), (OrderStatus::Delivered, mails + 1));
    assert_eq!(order.shipment().await.delivered_at.unwrap().to_rfc3339(), "2026-12-04T16:20:00+00:00", "the first delivery date stays");
    // Late events on a delivered order only fill its timeline.
    assert_eq!(order.send(report("r6", "NF-1", None, &["Jundiaí", "Sorocaba"])).await.outcome, ItemOutcome::Applied);
    assert_eq!((order.status().await, order.timeline().await), (OrderStatus::Delivered, vec!["Jundiaí".to_owned(), "Sorocaba".to_owned()]));
}

#[tokio::test]
async fn a_report_the_status_machine_refuses_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let (company_id, destination): (i32, i32) = (t.id.parse().unwrap(), t.destination.parse().unwrap());
    let order = Shipped { app: &app, company_id, source_id: "H-1" };
    let setup = vec![Command::Create(new_order("H-1", destination)), invoice("NF-1", 1_000), ship("NF-1", "JD-1")];
    assert_eq!(run(&app, company_id, Batch { records: vec![Record::new("H-1", setup)] }).await.0.applied, 1);
    assert_eq!(order.send(report("r1", "NF-1", None, &["Barueri"])).await.outcome, ItemOutcome::Applied);
    assert_eq!(order.send(Command::Hold(meta("hold"))).await.outcome, ItemOutcome::Applied);

    // A held order is not delivered behind the hold: refused, and its timeline is as it was.
    let held = order.send(report("r2", "NF-1", Some("2026-12-04T16:20:00Z"), &["Barueri", "Campinas"])).await;
    assert_eq!((held.outcome, held.error.as_ref().map(|e| e.code)), (ItemOutcome::Failed, Some("VALIDATION")), "{held:?}");
    assert!(held.error.as_ref().unwrap().message.contains("ON_HOLD to DELIVERED"), "{held:?}");
    assert_eq!((order.status().await, order.timeline().await), (OrderStatus::OnHold, vec!["Barueri".to_owned()]));
    assert_eq!(order.shipment().await.delivered_at, None);

    // Too many events, and an event without words: refused before anything.
    let many: Vec<String> = (0..=MAX_TRACKING_EVENTS).map(|n| format!("P{n}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let too_many = order.send(report("r3", "NF-1", None, &many)).await;
    assert_eq!(too_many.error.as_ref().map(|e| e.code), Some("VALIDATION"), "{too_many:?}");
    let update = TrackingUpdate { invoice_number: "NF-1".into(), events: vec![TrackingEvent::default()], ..TrackingUpdate::default() };
    let blank = order.send(Command::Timeline { update, meta: meta("r4") }).await;
    let error = blank.error.unwrap();
    assert_eq!((error.code, error.field.as_deref()), ("VALIDATION", Some("tracking.events[0].description")), "{error:?}");
    assert_eq!(order.timeline().await, ["Barueri"]);

    // At the bound is fine: the timeline of a long journey, kept whole.
    let longest = &many[..MAX_TRACKING_EVENTS];
    assert_eq!(order.send(report("r5", "NF-1", None, longest)).await.outcome, ItemOutcome::Applied);
    assert_eq!(order.timeline().await.len(), MAX_TRACKING_EVENTS);
}

fn dated(id: &str, number: &str, delivered: bool, days: &[u32]) -> Command {
    let events = days
        .iter()
        .map(|d| TrackingEvent {
            occurred_at: Some(chrono::DateTime::parse_from_rfc3339(&format!("2026-11-{d:02}T12:00:00Z")).unwrap().to_utc()),
            description: format!("day {d}"),
            ..TrackingEvent::default()
        })
        .collect();
    Command::Timeline { update: TrackingUpdate { invoice_number: number.into(), delivered, delivered_at: None, events }, meta: meta(id) }
}

#[tokio::test]
async fn a_partial_delivery_waits_for_every_parcel_and_a_late_report_keeps_the_newer_timeline() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let (company_id, destination): (i32, i32) = (t.id.parse().unwrap(), t.destination.parse().unwrap());
    let order = Shipped { app: &app, company_id, source_id: "P-1" };
    let setup = vec![
        Command::Create(new_order("P-1", destination)),
        invoice("NF-1", 1_000),
        invoice("NF-2", 2_000),
        ship("NF-1", "JD-1"),
        ship("NF-2", "JD-2"),
    ];
    assert_eq!(run(&app, company_id, Batch { records: vec![Record::new("P-1", setup)] }).await.0.applied, 1);
    let mails = order.mails().await;

    // One parcel arrived, the other is on its way: the order is not delivered yet.
    assert_eq!(order.send(dated("a1", "NF-1", true, &[1, 2])).await.outcome, ItemOutcome::Applied);
    assert_eq!((order.status().await, order.mails().await), (OrderStatus::InTransit, mails));
    assert_eq!(order.send(dated("b1", "NF-2", false, &[1, 3])).await.outcome, ItemOutcome::Applied);
    // A report overtaken by a newer one: recorded as skipped, the newer timeline kept.
    let late = order.send(dated("b0", "NF-2", false, &[1])).await;
    assert_eq!(late.outcome, ItemOutcome::Skipped, "{late:?}");
    assert!(late.notes.iter().any(|n| n.contains("stale report")), "{late:?}");
    // The last parcel arrives (a report as recent as the one kept is no late one): delivered, mailed once.
    assert_eq!(order.send(dated("b2", "NF-2", true, &[1, 3])).await.outcome, ItemOutcome::Applied);
    assert_eq!((order.status().await, order.mails().await), (OrderStatus::Delivered, mails + 1));

    // Invoiced and shipped again later: the parcel is recorded, the order stays delivered.
    assert_eq!(order.send(invoice("NF-3", 500)).await.outcome, ItemOutcome::Applied);
    let later = order.send(ship("NF-3", "JD-3")).await;
    assert_eq!(later.outcome, ItemOutcome::Applied, "{later:?}");
    assert_eq!(order.status().await, OrderStatus::Delivered);
    let id = order_by_source(&app, company_id, "P-1").await.unwrap().id;
    assert_eq!(shipment::Entity::find().filter(shipment::Column::OrderId.eq(id)).count(&app.db).await.unwrap(), 3);
}
