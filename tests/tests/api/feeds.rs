//! Feeds that send the whole order each time: the stage they report moves
//! the order once, and a stage it is at or past, or a held order, is
//! recorded as skipped with why, never failed, never mailed.

use domain::{
    ingest::{Batch, Command, Record},
    orders::EventMeta,
};
use entities::{notification, ItemOutcome, OrderStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tests::TestApp;

use crate::ingest::{new_order, order_by_source, run};

fn meta(id: &str) -> EventMeta {
    EventMeta { event_id: Some(id.into()), notify_customer: true, source: "test-store".into(), ..EventMeta::default() }
}

fn reach(to: OrderStatus, id: &str) -> Command {
    Command::Reach { to, meta: meta(id) }
}

#[tokio::test]
async fn a_reported_stage_moves_the_order_once_and_never_back_nor_out_of_a_hold() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let (company_id, destination): (i32, i32) = (t.id.parse().unwrap(), t.destination.parse().unwrap());
    let created = run(&app, company_id, Batch { records: vec![Record::new("F-1", vec![Command::Create(new_order("F-1", destination))])] }).await.0;
    assert_eq!(created.applied, 1);
    let send = |command: Command| {
        let app = &app;
        async move { run(app, company_id, Batch { records: vec![Record::new("F-1", vec![command])] }).await.0.items.remove(0) }
    };
    let status = || async { order_by_source(&app, company_id, "F-1").await.unwrap().status };
    let mails = || async {
        let id = order_by_source(&app, company_id, "F-1").await.unwrap().id;
        notification::Entity::find().filter(notification::Column::OrderId.eq(id)).count(&app.db).await.unwrap()
    };

    assert_eq!(send(reach(OrderStatus::Approved, "u1")).await.outcome, ItemOutcome::Applied);
    assert_eq!(status().await, OrderStatus::Approved);
    let sent = mails().await;
    for (to, id, why) in [
        (OrderStatus::Approved, "u2", "the order is APPROVED already"),
        (OrderStatus::Received, "u3", "the order is APPROVED, past RECEIVED"),
    ] {
        let item = send(reach(to, id)).await;
        assert_eq!(item.outcome, ItemOutcome::Skipped, "{item:?}");
        assert!(item.notes.iter().any(|n| n.contains(why)), "{item:?}");
    }
    assert_eq!((status().await, mails().await), (OrderStatus::Approved, sent), "nothing moved, nothing mailed");

    // Held: a reported stage waits for the release, which the feed does not make.
    assert_eq!(send(Command::Hold(meta("h1"))).await.outcome, ItemOutcome::Applied);
    let held = send(reach(OrderStatus::InTransit, "u4")).await;
    assert_eq!(held.outcome, ItemOutcome::Skipped, "{held:?}");
    assert!(held.notes.iter().any(|n| n.contains("on hold")), "{held:?}");
    assert_eq!(status().await, OrderStatus::OnHold);
    assert_eq!(send(Command::Release(meta("r1"))).await.outcome, ItemOutcome::Applied);
    assert_eq!(send(reach(OrderStatus::InTransit, "u5")).await.outcome, ItemOutcome::Applied);
    assert_eq!(send(reach(OrderStatus::Delivered, "u6")).await.outcome, ItemOutcome::Applied);
    // A move the machine refuses is recorded with why, and fails nothing
    // else the feed sent with it (a store cancelling a delivered order).
    let refused = send(reach(OrderStatus::Cancelled, "u7")).await;
    assert_eq!(refused.outcome, ItemOutcome::Skipped, "{refused:?}");
    assert!(refused.notes.iter().any(|n| n.contains("the order is DELIVERED; CANCELLED cannot follow it")), "{refused:?}");
    assert_eq!(status().await, OrderStatus::Delivered);
}
