//! The audit trail: what staff and support did, readable by the company (its
//! own entries) and by admins, and by no one else; nothing in the API edits it.

use serde_json::json;
use tests::{error_code, TestApp};

const LOG: &str = "query($f: AuditFilter) { auditLog(first: 50, filter: $f) { totalCount edges { node { companyId actorKind action entity entityId detail } } } }";

fn actions(body: &serde_json::Value) -> Vec<String> {
    body["data"]["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn each_company_reads_its_own_trail_and_nothing_can_change_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = app.tenant(&admin, "alpha").await;
    let b = app.tenant(&admin, "beta").await;
    let save = "mutation($s: OrderStatus!, $sub: String!, $h: String!, $t: String!) {
      saveNotificationTemplate(status: $s, subject: $sub, html: $h, text: $t) { custom } }";
    let secret_text = "template-canary-7f3a";
    let saved = app.gql(Some(&a.staff), save, json!({ "s": "IN_TRANSIT", "sub": "Pedido {{ order_code }}", "h": "<p>x</p>", "t": secret_text })).await;
    assert!(saved["errors"].is_null(), "{saved}");
    app.gql(Some(&a.staff), "mutation { saveNotificationRules(locale: EN, statuses: [DELIVERED]) { locale } }", json!({})).await;
    app.gql(Some(&a.staff), "mutation { resetNotificationTemplate(status: IN_TRANSIT) { custom } }", json!({})).await;
    let rotated = app.gql(Some(&admin), "mutation($id: ID!) { rotateIntegrationToken(companyId: $id) { integrationToken } }", json!({ "id": a.id })).await;
    assert!(rotated["errors"].is_null(), "{rotated}");

    let own = app.gql(Some(&a.staff), LOG, json!({})).await;
    let seen = actions(&own);
    for expected in ["mail.template_save", "mail.rules_save", "mail.template_reset", "company.rotate_token", "locality.create"] {
        assert!(seen.iter().any(|a| a == expected), "{expected} missing from {seen:?}");
    }
    assert_eq!(seen[0], "company.rotate_token", "newest first: {seen:?}");
    assert!(!own.to_string().contains(secret_text), "the trail holds no template text");
    assert!(!own.to_string().contains("rst_"), "nor the token");
    let mail_only = app.gql(Some(&a.staff), LOG, json!({ "f": { "action": "mail." } })).await;
    assert_eq!(mail_only["data"]["auditLog"]["totalCount"], 3, "{mail_only}");

    // Beta's trail has none of alpha's entries; support filters by company.
    let theirs = app.gql(Some(&b.staff), LOG, json!({ "f": { "action": "mail." } })).await;
    assert_eq!(theirs["data"]["auditLog"]["totalCount"], 0, "{theirs}");
    let forced = app.gql(Some(&b.staff), LOG, json!({ "f": { "companyId": a.id } })).await;
    assert!(forced["data"]["auditLog"]["edges"].as_array().unwrap().iter().all(|e| e["node"]["companyId"] == b.id), "{forced}");
    let support = app.gql(Some(&admin), LOG, json!({ "f": { "companyId": a.id, "action": "mail." } })).await;
    assert_eq!(support["data"]["auditLog"]["totalCount"], 3, "{support}");
    let customer = app.customer(&a.id, "alpha", &a.customer_email()).await;
    assert_eq!(error_code(&app.gql(Some(&customer), LOG, json!({})).await), Some("FORBIDDEN"));

    let mutations = app.gql(Some(&admin), "{ __schema { mutationType { fields { name } } } }", json!({})).await;
    let names = mutations["data"]["__schema"]["mutationType"]["fields"].to_string().to_lowercase();
    assert!(!names.contains("audit"), "no mutation touches the audit trail: {names}");
}
