//! Magento / Adobe Commerce against the running server: orders held and
//! released, history flags, tracks, and the secret header.

use entities::{integration_run, order, order_status_history, shipment, OrderStatus, RunOutcome};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use tests::{Tenant, TestApp};

const SECRET: &str = "mg_magento-test-secret-0001";
const ORDER: &str = include_str!("../../../adapters/storefront/tests/fixtures/magento/order.json");
const TRACK: &str = include_str!("../../../adapters/storefront/tests/fixtures/magento/track.json");

async fn set_secret(app: &TestApp, t: &Tenant) {
    let set = "mutation($id: ID!, $s: String!) { setWebhookSecret(companyId: $id, platform: MAGENTO, secret: $s) { platform } }";
    let body = app.gql(Some(&t.staff), set, json!({ "id": t.id, "s": SECRET })).await;
    assert!(body["errors"].is_null(), "{body}");
}

async fn send(app: &TestApp, secret: &str, body: &str) -> (u16, Value) {
    let request = app
        .http
        .post(format!("{}/integrations/magento/acme", app.base))
        .header("content-type", "application/json")
        .header("X-Rastro-Webhook-Secret", secret)
        .body(body.to_owned());
    tests::json_answer(request).await
}

/// The fixture order at `state`/`status`, changed at `updated_at`, as an Adobe Commerce webhook.
fn webhook(state: &str, status: &str, updated_at: &str, histories: Value) -> String {
    let mut order: Value = serde_json::from_str(ORDER).unwrap();
    order["state"] = json!(state);
    order["status"] = json!(status);
    order["updated_at"] = json!(updated_at);
    order["status_histories"] = histories;
    json!({ "eventName": "observer.sales_order_save_after", "data": { "order": order } }).to_string()
}

#[tokio::test]
async fn holded_puts_the_order_on_hold_and_unhold_brings_back_the_status_it_had() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company_id: i32 = t.id.parse().unwrap();
    set_secret(&app, &t).await;
    let stored = || async {
        order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).filter(order::Column::SourceId.eq("3")).one(&app.db).await.unwrap().unwrap()
    };

    // Paid: created and approved, with Magento's history and flags.
    let (code, answer) = send(&app, SECRET, ORDER).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("applied")), "{answer}");
    let paid = stored().await;
    assert_eq!((paid.code.as_str(), paid.status), ("000000003", OrderStatus::Approved));
    let history = order_status_history::Entity::find()
        .filter(order_status_history::Column::OrderId.eq(paid.id))
        .order_by_asc(order_status_history::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let entries: Vec<_> = history.iter().map(|h| (h.comment.as_deref().unwrap_or(""), h.notify_customer, h.visible_to_customer)).collect();
    assert!(entries.contains(&("Conferir endereço com o cliente", false, false)), "{entries:?}");
    assert!(entries.contains(&("Pagamento confirmado pelo gateway", true, true)), "{entries:?}");

    // Held in Magento.
    let held = webhook("holded", "holded", "2026-12-02 13:00:00", json!([]));
    let (_, answer) = send(&app, SECRET, &held).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    assert_eq!(stored().await.status, OrderStatus::OnHold);
    // The same call again changes nothing.
    let (code, answer) = send(&app, SECRET, &held).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("skipped")), "{answer}");

    // Unheld: back to the status it had, once.
    let unheld = webhook("processing", "processing", "2026-12-02 14:00:00", json!([]));
    let (_, answer) = send(&app, SECRET, &unheld).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    assert_eq!(stored().await.status, OrderStatus::Approved);
    let (_, answer) = send(&app, SECRET, &unheld).await;
    assert_eq!(answer["events"][0]["outcome"], "skipped", "{answer}");
    // A late call from before the hold was lifted is recorded, not applied.
    let (_, answer) = send(&app, SECRET, &webhook("holded", "holded", "2026-12-02 13:30:00", json!([]))).await;
    assert_eq!(answer["events"][0]["outcome"], "skipped", "{answer}");
    assert_eq!(stored().await.status, OrderStatus::Approved);

    // The track ships it.
    let (_, answer) = send(&app, SECRET, TRACK).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    let order = stored().await;
    assert_eq!(order.status, OrderStatus::InTransit);
    let parcels = shipment::Entity::find().filter(shipment::Column::OrderId.eq(order.id)).all(&app.db).await.unwrap();
    assert_eq!(parcels.iter().map(|s| (s.carrier.as_str(), s.tracking_number.as_str())).collect::<Vec<_>>(), [("Correios - SEDEX", "BR123456789BR")]);

    // A hold the company's staff placed is theirs to release: Magento's next save leaves it.
    let hold = "mutation($id: ID!) { holdOrder(id: $id, comment: \"Endereço a confirmar\") { applied } }";
    let held_here = app.gql(Some(&t.staff), hold, json!({ "id": order.id.to_string() })).await;
    assert_eq!(held_here["data"]["holdOrder"]["applied"], true, "{held_here}");
    let (_, answer) = send(&app, SECRET, &webhook("complete", "complete", "2026-12-03 10:00:00", json!([]))).await;
    assert_eq!(answer["events"][0]["outcome"], "skipped", "{answer}");
    assert_eq!(stored().await.status, OrderStatus::OnHold);

    // The wrong secret: 401, recorded as rejected without its body.
    let (code, _) = send(&app, "mg_not-the-secret-at-all", &unheld).await;
    assert_eq!(code, 401);
    let last = integration_run::Entity::find().filter(integration_run::Column::CompanyId.eq(company_id)).order_by_desc(integration_run::Column::Id).one(&app.db).await.unwrap().unwrap();
    assert_eq!((last.outcome, last.operation.as_str(), last.request.as_str()), (RunOutcome::Rejected, "magento", ""));
}
