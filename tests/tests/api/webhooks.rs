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
