//! VTEX orders through the pipeline, as the import route will apply them:
//! VTEX's own `GetOrder` sample, invoiced.

use adapter_vtex::{convert::record, read_orders};
use domain::{
    ingest::{self, Batch, RunMeta},
    Actor,
};
use entities::{integration_run, locality, order, shipment, ItemOutcome, OrderStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tests::TestApp;

fn invoiced() -> Value {
    let mut order: Value = serde_json::from_str(include_str!("../../../adapters/vtex/tests/fixtures/get-order-handling.json")).unwrap();
    order["status"] = json!("invoiced");
    order["packageAttachment"]["packages"][0]["type"] = json!("Output");
    order
}

async fn import(app: &TestApp, company_id: i32, body: &Value) -> ingest::Report {
    let orders = read_orders(body.to_string().as_bytes()).unwrap();
    let batch = Batch { records: orders.iter().map(|o| record(o, false)).collect() };
    let meta = RunMeta { adapter: "vtex".into(), operation: "orders".into(), reprocess_of: None };
    let run = ingest::runs::begin(&app.ctx, Some(company_id), &meta, body.to_string().as_bytes()).await.unwrap();
    let report = ingest::apply(&app.ctx, &Actor::integration(company_id), &run, batch).await.unwrap();
    ingest::runs::finish(&app.ctx, &run, &report, b"{}").await.unwrap();
    assert!(integration_run::Entity::find_by_id(run.id).one(&app.db).await.unwrap().is_some());
    report
}

#[tokio::test]
async fn an_imported_order_reaches_its_customer_with_exact_cents_and_a_reimport_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "luxstore").await;
    let company: i32 = tenant.id.parse().unwrap();

    let report = import(&app, company, &invoiced()).await;
    let item = &report.items[0];
    assert_eq!(item.outcome, ItemOutcome::Applied, "{item:?}");
    let stored = order::Entity::find().filter(order::Column::CompanyId.eq(company)).filter(order::Column::SourceId.eq("1172452900788-01")).one(&app.db).await.unwrap().unwrap();
    // Created at INVOICED; its tracking number shipped it.
    assert_eq!(stored.status, OrderStatus::InTransit);
    assert_eq!((stored.invoice_number.as_deref(), stored.invoice_value_cents), (Some("24382"), Some(1015)));
    assert_eq!(stored.total_cents, 990, "one unit at the selling price, in cents");
    let customer = locality::Entity::find_by_id(stored.destination_locality_id.unwrap()).one(&app.db).await.unwrap().unwrap();
    assert_eq!(customer.responsible_email.as_deref(), Some("rodrigo.smith@email.com"));
    assert_eq!(customer.country.as_deref(), Some("BR"));

    // The customer the e-mail names sees the order.
    let session = app.customer(&tenant.id, &tenant.identifier, "rodrigo.smith@email.com").await;
    let seen = app.gql(Some(&session), "{ orders(first: 5) { edges { node { code status total } } } }", json!({})).await;
    assert_eq!(seen["data"]["orders"]["edges"], json!([{ "node": { "code": "1172452900788-01", "status": "IN_TRANSIT", "total": "9.90" } }]), "{seen}");

    // Re-imported: the same order, no second invoice entry or shipment.
    let again = import(&app, company, &invoiced()).await;
    assert_eq!(again.items[0].outcome, ItemOutcome::Applied, "its details are replaced: {:?}", again.items[0]);
    let orders = order::Entity::find().filter(order::Column::CompanyId.eq(company)).count(&app.db).await.unwrap();
    let shipments = shipment::Entity::find().filter(shipment::Column::OrderId.eq(stored.id)).count(&app.db).await.unwrap();
    assert_eq!((orders, shipments), (1, 1));
    let notes = again.items[0].notes.join("; ");
    assert!(notes.contains("invoice skipped") && notes.contains("shipment skipped"), "{notes}");
}
