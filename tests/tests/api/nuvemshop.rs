//! Nuvemshop against the running server: the notification with its order,
//! signed over the body; id-only notifications; a flipped byte.

use adapter_storefront::signature::sign;
use entities::{order, shipment, OrderStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tests::TestApp;

const SECRET: &str = "nuvem_test-secret-0001";
const PAID: &str = include_str!("../../../adapters/storefront/tests/fixtures/nuvemshop/order-paid.json");

async fn send_signed(app: &TestApp, signature: &str, body: &str) -> (u16, Value) {
    let request = app
        .http
        .post(format!("{}/integrations/nuvemshop/acme", app.base))
        .header("content-type", "application/json")
        .header("X-Linkedstore-HMAC-SHA256", signature)
        .body(body.to_owned());
    tests::json_answer(request).await
}

async fn send(app: &TestApp, body: &str) -> (u16, Value) {
    send_signed(app, &hex::encode(sign(SECRET.as_bytes(), body.as_bytes())), body).await
}

#[tokio::test]
async fn a_signed_notification_with_its_order_creates_ships_and_repeats_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company_id: i32 = t.id.parse().unwrap();
    let set = "mutation($id: ID!, $s: String!) { setWebhookSecret(companyId: $id, platform: NUVEMSHOP, secret: $s) { platform } }";
    assert!(app.gql(Some(&t.staff), set, json!({ "id": t.id, "s": SECRET })).await["errors"].is_null());
    let stored = || async {
        order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).filter(order::Column::SourceId.eq("871254203")).one(&app.db).await.unwrap()
    };

    // An id-only notification of an order Rastro never saw: a failed entry saying so.
    let (code, answer) = send(&app, r#"{"store_id":1234567,"event":"order/paid","id":871254203}"#).await;
    assert_eq!((code, answer["events"][0]["code"].clone()), (200, json!("NOT_FOUND")), "{answer}");

    let (code, answer) = send(&app, PAID).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("applied")), "{answer}");
    assert_eq!(stored().await.unwrap().status, OrderStatus::Approved);
    let (_, answer) = send(&app, PAID).await;
    assert_eq!(answer["events"][0]["outcome"], "skipped", "{answer}");

    // Shipped, with its tracking number, a later moment.
    let mut shipped: Value = serde_json::from_str(PAID).unwrap();
    shipped["event"] = json!("order/fulfilled");
    shipped["order"]["updated_at"] = json!("2026-12-03T09:00:00+00:00");
    shipped["order"]["shipping_status"] = json!("shipped");
    shipped["order"]["shipping_tracking_number"] = json!("PAC123");
    let (_, answer) = send(&app, &shipped.to_string()).await;
    assert_eq!(answer["events"][0]["outcome"], "applied", "{answer}");
    let order = stored().await.unwrap();
    assert_eq!(order.status, OrderStatus::InTransit);
    assert_eq!(shipment::Entity::find().filter(shipment::Column::OrderId.eq(order.id)).count(&app.db).await.unwrap(), 1);

    // Bound to its store: the app's secret signs other stores' calls too, and those are refused.
    let bind = "mutation($id: ID!, $s: String!) { setWebhookSecret(companyId: $id, platform: NUVEMSHOP, secret: $s, account: \" 1234567 \") { account } }";
    let bound = app.gql(Some(&t.staff), bind, json!({ "id": t.id, "s": SECRET })).await;
    assert_eq!(bound["data"]["setWebhookSecret"]["account"], "1234567", "{bound}");
    let mut elsewhere: Value = serde_json::from_str(PAID).unwrap();
    elsewhere["store_id"] = json!(7654321);
    elsewhere["order"]["updated_at"] = json!("2026-12-04T09:00:00+00:00");
    elsewhere["order"]["status"] = json!("cancelled");
    let (code, _) = send(&app, &elsewhere.to_string()).await;
    assert_eq!(code, 401);
    let reason = entities::integration_run::Entity::find().all(&app.db).await.unwrap().pop().unwrap().error.unwrap();
    assert_eq!(reason, "the call is for store \"7654321\"; this company's secret is for \"1234567\"");
    elsewhere["store_id"] = json!("1234567");
    let (code, answer) = send(&app, &elsewhere.to_string()).await;
    assert_eq!((code, answer["events"][0]["outcome"].clone()), (200, json!("skipped")), "its own store's call is read (a cancel after shipping is skipped): {answer}");

    // One byte flipped: 401, and the order is as it was.
    let signature = hex::encode(sign(SECRET.as_bytes(), PAID.as_bytes()));
    let flipped = PAID.replacen("\"paid\"", "\"pahd\"", 1);
    let (code, answer) = send_signed(&app, &signature, &flipped).await;
    assert_eq!((code, answer["error"]["code"].clone()), (401, json!("UNAUTHENTICATED")), "{answer}");
    assert_eq!(stored().await.unwrap().status, OrderStatus::InTransit);
}
