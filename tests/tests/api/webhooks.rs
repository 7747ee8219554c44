//! Webhook secrets: set over GraphQL, never read back nor stored in plain
//! text, the previous one accepted only through its grace period.

use chrono::{Duration, Utc};
use domain::webhooks;
use entities::{audit_log, WebhookPlatform};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use tests::{database_contains, error_code, TestApp};

const SET: &str = "mutation($id: ID!, $p: WebhookPlatform!, $s: String!, $g: Int) {
  setWebhookSecret(companyId: $id, platform: $p, secret: $s, graceHours: $g) { platform updatedAt previousValidUntil } }";

async fn set(app: &TestApp, token: &str, company: &str, platform: &str, secret: &str, grace: Option<i32>) -> Value {
    app.gql(Some(token), SET, json!({ "id": company, "p": platform, "s": secret, "g": grace })).await
}

async fn accepted(app: &TestApp, company: i32, at: chrono::DateTime<Utc>) -> Vec<String> {
    webhooks::accepted(&app.ctx, company, WebhookPlatform::Shopify, at).await.unwrap().iter().map(|s| s.expose_secret().to_owned()).collect()
}

#[tokio::test]
async fn a_secret_is_written_once_kept_encrypted_and_rotated_with_a_grace_period() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company: i32 = t.id.parse().unwrap();
    const FIRST: &str = "shpss_first-canary-secret-7731";
    const SECOND: &str = "shpss_second-canary-secret-9902";

    assert!(accepted(&app, company, Utc::now()).await.is_empty(), "no secret, nothing is accepted");
    let body = set(&app, &t.staff, &t.id, "SHOPIFY", FIRST, None).await;
    assert_eq!(body["data"]["setWebhookSecret"]["platform"], "SHOPIFY", "{body}");
    assert!(body["data"]["setWebhookSecret"]["previousValidUntil"].is_null(), "nothing to rotate: {body}");
    assert!(!body.to_string().contains(FIRST));
    assert!(!database_contains(&app, FIRST).await, "stored encrypted");
    assert_eq!(accepted(&app, company, Utc::now()).await, [FIRST]);

    // Rotated: both accepted through the default grace of 24 h, the new one only after.
    let body = set(&app, &t.staff, &t.id, "SHOPIFY", SECOND, None).await;
    let until: chrono::DateTime<Utc> = body["data"]["setWebhookSecret"]["previousValidUntil"].as_str().unwrap().parse().unwrap();
    assert!((until - Utc::now() - Duration::hours(24)).num_seconds().abs() < 60, "{body}");
    assert_eq!(accepted(&app, company, Utc::now()).await, [SECOND, FIRST]);
    assert_eq!(accepted(&app, company, until - Duration::seconds(1)).await, [SECOND, FIRST]);
    assert_eq!(accepted(&app, company, until).await, [SECOND]);
    assert!(!database_contains(&app, SECOND).await);

    // A grace of zero ends the old one at once; another platform is apart.
    set(&app, &t.staff, &t.id, "SHOPIFY", FIRST, Some(0)).await;
    assert_eq!(accepted(&app, company, Utc::now()).await, [FIRST]);
    let other = webhooks::accepted(&app.ctx, company, WebhookPlatform::Magento, Utc::now()).await.unwrap();
    assert!(other.is_empty());

    let listed = app.gql(Some(&t.staff), "query($id: ID!) { webhookSecrets(companyId: $id) { platform previousValidUntil } }", json!({ "id": t.id })).await;
    assert_eq!(listed["data"]["webhookSecrets"], json!([{ "platform": "SHOPIFY", "previousValidUntil": null }]), "{listed}");
    let audited = audit_log::Entity::find().filter(audit_log::Column::Action.eq("company.webhook_secret")).all(&app.db).await.unwrap();
    assert_eq!(audited.len(), 3);
    assert!(audited.iter().all(|a| !format!("{a:?}").contains("canary")));
}

#[tokio::test]
async fn weak_secrets_and_long_graces_are_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let company: i32 = t.id.parse().unwrap();
    set(&app, &admin, &t.id, "GENERIC", "a-good-long-secret-000", None).await;
    for (secret, grace, field) in [
        ("too-short", None, "secret"),
        (" spaced-around-secret-0001 ", None, "secret"),
        (&*"x".repeat(webhooks::MAX_SECRET_CHARS + 1), None, "secret"),
        ("another-good-long-secret", Some(169), "graceHours"),
        ("another-good-long-secret", Some(-1), "graceHours"),
    ] {
        let body = set(&app, &t.staff, &t.id, "GENERIC", secret, grace).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().starts_with(field), "{body}");
    }
    let kept: Vec<String> = webhooks::accepted(&app.ctx, company, WebhookPlatform::Generic, Utc::now()).await.unwrap().iter().map(|s| s.expose_secret().to_owned()).collect();
    assert_eq!(kept, ["a-good-long-secret-000"], "refused: nothing changed");
    // At the bounds: accepted.
    for (secret, grace) in [("x".repeat(webhooks::MIN_SECRET_CHARS), 168), ("y".repeat(webhooks::MAX_SECRET_CHARS), 0)] {
        let body = set(&app, &t.staff, &t.id, "GENERIC", &secret, Some(grace)).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let accepted = webhooks::accepted(&app.ctx, company, WebhookPlatform::Generic, Utc::now()).await.unwrap();
    assert_eq!(accepted.len(), 1);
}

const MAPPINGS: &str = "query($id: ID!, $p: WebhookPlatform!) { statusMappings(companyId: $id, platform: $p) { code status custom hasDefault defaultStatus } }";
const MAP: &str = "mutation($id: ID!, $p: WebhookPlatform!, $c: String!, $s: OrderStatus) {
  setStatusMapping(companyId: $id, platform: $p, code: $c, status: $s) { code status custom hasDefault defaultStatus } }";
const UNMAP: &str = "mutation($id: ID!, $p: WebhookPlatform!, $c: String!) { removeStatusMapping(companyId: $id, platform: $p, code: $c) }";

fn listed<'a>(body: &'a Value, code: &str) -> Option<&'a Value> {
    body["data"]["statusMappings"].as_array().unwrap().iter().find(|m| m["code"] == code)
}

#[tokio::test]
async fn status_mappings_list_the_platform_defaults_under_the_company_choices_and_are_audited() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let other = app.tenant(&admin, "other").await;
    let list = |platform: &'static str| app.gql(Some(&t.staff), MAPPINGS, json!({ "id": t.id, "p": platform }));

    // Every platform's standard statuses, and the seed back office's for the generic event.
    let generic = list("GENERIC").await;
    let entregue = listed(&generic, "pedido_entregue").unwrap();
    assert_eq!(entregue, &json!({ "code": "pedido_entregue", "status": "DELIVERED", "custom": false, "hasDefault": true, "defaultStatus": "DELIVERED" }));
    for code in ["pending", "approved", "in_production", "invoice_issued", "shipped", "delivery_difficulty", "in_transport", "delivered", "cancelled", "on_hold", "closed"] {
        assert!(listed(&generic, code).is_some(), "{code} has a default: {generic}");
    }
    let shopify = list("SHOPIFY").await;
    assert_eq!(listed(&shopify, "shipment_status:in_transit").unwrap()["status"], "IN_TRANSIT");
    assert_eq!(listed(&list("MAGENTO").await, "holded").unwrap()["status"], "ON_HOLD");
    assert_eq!(listed(&list("NUVEMSHOP").await, "payment_status:paid").unwrap()["status"], "APPROVED");

    // A default overridden, a custom code added: listed over and after the defaults.
    let over = app.gql(Some(&t.staff), MAP, json!({ "id": t.id, "p": "SHOPIFY", "c": "shipment_status:confirmed", "s": "IN_SEPARATION" })).await;
    assert_eq!(
        over["data"]["setStatusMapping"],
        json!({ "code": "shipment_status:confirmed", "status": "IN_SEPARATION", "custom": true, "hasDefault": true, "defaultStatus": null }),
        "{over}"
    );
    app.gql(Some(&t.staff), MAP, json!({ "id": t.id, "p": "SHOPIFY", "c": "zz_custom", "s": "APPROVED" })).await;
    let shopify = list("SHOPIFY").await;
    assert_eq!(listed(&shopify, "shipment_status:confirmed").unwrap()["custom"], true);
    assert_eq!(shopify["data"]["statusMappings"].as_array().unwrap().last().unwrap()["code"], "zz_custom");
    // Another platform's list and another company are untouched.
    assert!(listed(&list("GENERIC").await, "zz_custom").is_none());
    let theirs = app.gql(Some(&other.staff), MAPPINGS, json!({ "id": other.id, "p": "SHOPIFY" })).await;
    assert_eq!(listed(&theirs, "shipment_status:confirmed").unwrap()["custom"], false);

    // Removed: the default applies again; removing it twice says there was none.
    let removed = app.gql(Some(&t.staff), UNMAP, json!({ "id": t.id, "p": "SHOPIFY", "c": " Shipment_Status:Confirmed " })).await;
    assert_eq!(removed["data"]["removeStatusMapping"], true, "{removed}");
    let again = app.gql(Some(&t.staff), UNMAP, json!({ "id": t.id, "p": "SHOPIFY", "c": "shipment_status:confirmed" })).await;
    assert_eq!(again["data"]["removeStatusMapping"], false, "{again}");
    assert_eq!(listed(&list("SHOPIFY").await, "shipment_status:confirmed").unwrap()["status"], Value::Null);

    // Bad input is a clear error that writes nothing.
    for code in ["", "   ", &"x".repeat(101)] {
        let bad = app.gql(Some(&t.staff), MAP, json!({ "id": t.id, "p": "GENERIC", "c": code, "s": "APPROVED" })).await;
        assert_eq!(error_code(&bad), Some("VALIDATION"), "{bad}");
    }
    let audited = audit_log::Entity::find().filter(audit_log::Column::Action.eq("company.status_mapping")).all(&app.db).await.unwrap();
    assert_eq!(audited.len(), 3, "two settings and one removal");
}
