//! What every storefront feed promises, platform by platform, against the
//! running server: a repeated call changes nothing, an event older than the
//! order's last change is recorded as skipped, an unknown order is a failed
//! entry with a reason, and a rotated secret signs through its grace period
//! only.

use adapter_storefront::signature::{generic_headers, sign};
use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Duration, Utc};
use entities::{order, OrderStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{Tenant, TestApp};

#[derive(Clone, Copy, Debug)]
enum Platform {
    Shopify,
    Magento,
    Nuvemshop,
    Generic,
}

const SHOPIFY_ORDER: &str = include_str!("../../../adapters/storefront/tests/fixtures/shopify/order.json");
const MAGENTO_ORDER: &str = include_str!("../../../adapters/storefront/tests/fixtures/magento/order.json");
const NUVEMSHOP_PAID: &str = include_str!("../../../adapters/storefront/tests/fixtures/nuvemshop/order-paid.json");

impl Platform {
    fn name(self) -> &'static str {
        match self {
            Platform::Shopify => "SHOPIFY",
            Platform::Magento => "MAGENTO",
            Platform::Nuvemshop => "NUVEMSHOP",
            Platform::Generic => "GENERIC",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Platform::Shopify => "shopify",
            Platform::Magento => "magento",
            Platform::Nuvemshop => "nuvemshop",
            Platform::Generic => "events",
        }
    }

    /// The order's source id in Rastro.
    fn order_id(self) -> &'static str {
        match self {
            Platform::Shopify => "820982911946154508",
            Platform::Magento => "3",
            Platform::Nuvemshop => "871254203",
            Platform::Generic => "A-1",
        }
    }

    /// A call that creates the order (the generic event cannot: it is made over GraphQL).
    fn creation(self) -> Option<(Option<&'static str>, String)> {
        match self {
            Platform::Shopify => Some((Some("orders/create"), SHOPIFY_ORDER.to_owned())),
            Platform::Magento => Some((None, MAGENTO_ORDER.to_owned())),
            Platform::Nuvemshop => Some((None, NUVEMSHOP_PAID.to_owned())),
            Platform::Generic => None,
        }
    }

    /// A call that moves `order` to `IN_TRANSIT` (or `DELIVERED`) at `at`.
    fn stage(self, order: &str, delivered: bool, at: DateTime<Utc>) -> (Option<&'static str>, String) {
        let stamp = at.timestamp();
        match self {
            Platform::Shopify => {
                let status = if delivered { "delivered" } else { "in_transit" };
                let body = json!({ "id": stamp, "order_id": order, "fulfillment_id": 1, "status": status, "happened_at": at.to_rfc3339() });
                (Some("fulfillment_events/create"), body.to_string())
            }
            Platform::Magento => {
                let mut body: Value = serde_json::from_str(MAGENTO_ORDER).unwrap();
                body["entity_id"] = json!(order);
                body["state"] = json!("complete");
                body["status"] = json!(if delivered { "entregue" } else { "complete" });
                body["updated_at"] = json!(at.format("%Y-%m-%d %H:%M:%S").to_string());
                body["status_histories"] = json!([]);
                (None, json!({ "data": { "order": body } }).to_string())
            }
            Platform::Nuvemshop => {
                let mut body: Value = serde_json::from_str(NUVEMSHOP_PAID).unwrap();
                body["id"] = json!(order);
                body["event"] = json!("order/updated");
                body["order"]["updated_at"] = json!(at.to_rfc3339());
                body["order"]["shipping_status"] = json!(if delivered { "delivered" } else { "shipped" });
                (None, body.to_string())
            }
            Platform::Generic => {
                let status = if delivered { "DELIVERED" } else { "IN_TRANSIT" };
                (None, json!({ "eventId": format!("e-{stamp}-{status}"), "orderId": order, "status": status, "occurredAt": at.to_rfc3339() }).to_string())
            }
        }
    }

    /// A call about an order Rastro does not know that cannot create it
    /// (Magento's and Nuvemshop's order payloads create their order).
    fn orphan(self, at: DateTime<Utc>) -> (Option<&'static str>, String) {
        match self {
            Platform::Shopify | Platform::Generic => self.stage("9999999", false, at),
            Platform::Magento => {
                let track = json!({ "order_id": 9999999, "track_number": "BR1", "title": "Correios", "created_at": at.format("%Y-%m-%d %H:%M:%S").to_string() });
                (None, json!({ "data": { "track": track } }).to_string())
            }
            Platform::Nuvemshop => (None, json!({ "store_id": 1, "event": "order/paid", "id": 9999999 }).to_string()),
        }
    }

    /// Sends `body` signed with `secret` as the platform signs it.
    async fn send(self, app: &TestApp, secret: &str, topic: Option<&str>, body: &str) -> (u16, Value) {
        let mut request = app.http.post(format!("{}/integrations/{}/acme", app.base, self.path())).header("content-type", "application/json");
        request = match self {
            Platform::Shopify => {
                let id = format!("w-{:x}", u64::from_le_bytes(sign(b"id", body.as_bytes())[..8].try_into().unwrap()));
                request
                    .header("X-Shopify-Topic", topic.unwrap_or_default())
                    .header("X-Shopify-Webhook-Id", id)
                    .header("X-Shopify-Hmac-Sha256", STANDARD.encode(sign(secret.as_bytes(), body.as_bytes())))
            }
            Platform::Magento => request.header("X-Rastro-Webhook-Secret", secret),
            Platform::Nuvemshop => request.header("X-Linkedstore-HMAC-SHA256", hex::encode(sign(secret.as_bytes(), body.as_bytes()))),
            Platform::Generic => {
                let (timestamp, signature) = generic_headers(secret.as_bytes(), body.as_bytes(), Utc::now());
                request.header("X-Rastro-Timestamp", timestamp).header("X-Rastro-Signature", signature)
            }
        };
        tests::json_answer(request.body(body.to_owned())).await
    }
}

async fn set_secret(app: &TestApp, t: &Tenant, platform: Platform, secret: &str, grace: i32) {
    let set = "mutation($id: ID!, $p: WebhookPlatform!, $s: String!, $g: Int) { setWebhookSecret(companyId: $id, platform: $p, secret: $s, graceHours: $g) { platform } }";
    let body = app.gql(Some(&t.staff), set, json!({ "id": t.id, "p": platform.name(), "s": secret, "g": grace })).await;
    assert!(body["errors"].is_null(), "{body}");
}

async fn promises(platform: Platform) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company_id: i32 = t.id.parse().unwrap();
    let first = format!("{}-first-secret-0001", platform.path());
    set_secret(&app, &t, platform, &first, 24).await;
    // Magento has no standard status for a delivery: the company maps its own.
    let map = "mutation($id: ID!) { setStatusMapping(companyId: $id, platform: MAGENTO, code: \"status:entregue\", status: DELIVERED) { code } }";
    assert!(app.gql(Some(&t.staff), map, json!({ "id": t.id })).await["errors"].is_null());
    let outcome = |answer: &Value| answer["events"][0]["outcome"].as_str().unwrap_or_default().to_owned();

    match platform.creation() {
        Some((topic, body)) => {
            let (code, answer) = platform.send(&app, &first, topic, &body).await;
            assert_eq!((code, outcome(&answer)), (200, "applied".to_owned()), "{platform:?}: {answer}");
        }
        None => {
            app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
        }
    }
    let status = || async {
        order::Entity::find()
            .filter(order::Column::CompanyId.eq(company_id))
            .filter(order::Column::SourceId.eq(platform.order_id()))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .status
    };

    // Delivered, after the order was created and before now (a date to come is refused).
    let later = Utc::now() - Duration::minutes(10);
    let (topic, delivered) = platform.stage(platform.order_id(), true, later);
    let (code, answer) = platform.send(&app, &first, topic, &delivered).await;
    assert_eq!((code, outcome(&answer)), (200, "applied".to_owned()), "{platform:?}: {answer}");
    assert_eq!(status().await, OrderStatus::Delivered, "{platform:?}");

    // The same call again: 200, nothing changes.
    let (code, answer) = platform.send(&app, &first, topic, &delivered).await;
    assert_eq!((code, outcome(&answer)), (200, "skipped".to_owned()), "{platform:?}: {answer}");

    // Out of order: in transit, from before the delivery, arrives after it.
    let (topic, late) = platform.stage(platform.order_id(), false, later - Duration::minutes(30));
    let (code, answer) = platform.send(&app, &first, topic, &late).await;
    assert_eq!((code, outcome(&answer)), (200, "skipped".to_owned()), "{platform:?}: {answer}");
    assert!(answer["events"][0]["notes"].to_string().contains("stale event"), "{platform:?}: {answer}");
    assert_eq!(status().await, OrderStatus::Delivered, "{platform:?}");

    // An order the company does not have: a failed entry saying so.
    let (topic, unknown) = platform.orphan(later);
    let (code, answer) = platform.send(&app, &first, topic, &unknown).await;
    let entry = &answer["events"][0];
    assert_eq!((code, entry["outcome"].clone(), entry["code"].clone()), (200, json!("failed"), json!("NOT_FOUND")), "{platform:?}: {answer}");

    // Rotated: the first secret still signs through its grace period, not after one without.
    let second = format!("{}-second-secret-0002", platform.path());
    set_secret(&app, &t, platform, &second, 24).await;
    let (code, answer) = platform.send(&app, &first, topic, &unknown).await;
    assert_eq!(code, 200, "{platform:?}: {answer}");
    set_secret(&app, &t, platform, &format!("{}-third-secret-0003", platform.path()), 0).await;
    let (code, answer) = platform.send(&app, &second, topic, &unknown).await;
    assert_eq!((code, answer["error"]["code"].clone()), (401, json!("UNAUTHENTICATED")), "{platform:?}: {answer}");
}

#[tokio::test]
async fn shopify_keeps_the_promises_of_a_feed() {
    promises(Platform::Shopify).await;
}

#[tokio::test]
async fn magento_keeps_the_promises_of_a_feed() {
    promises(Platform::Magento).await;
}

#[tokio::test]
async fn nuvemshop_keeps_the_promises_of_a_feed() {
    promises(Platform::Nuvemshop).await;
}

#[tokio::test]
async fn the_generic_event_keeps_the_promises_of_a_feed() {
    promises(Platform::Generic).await;
}
