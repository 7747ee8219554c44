//! A company's mail template is code the platform runs. These templates were
//! each a way to take memory or a core from every tenant: they are refused at
//! save time, and one that slipped in before the rules fails its own mail, not
//! the status change that queued it.

use std::time::{Duration, Instant};

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;
use tests::{error_code, smtp::SmtpServer, TestApp};

use crate::notifications::{move_order, settle, use_smtp};

const SAVE: &str = "mutation($s: OrderStatus!, $sub: String!, $h: String!, $t: String!) {
  saveNotificationTemplate(status: $s, subject: $sub, html: $h, text: $t) { custom } }";

#[tokio::test]
async fn templates_that_grow_loop_or_recurse_are_refused_at_save() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let hostile = [
        // One instruction, 100 MB.
        "{{ 'x' * 100000000 }}",
        // Doubling: 2^40 bytes in forty steps.
        "{% set s = namespace(v='x') %}{% for i in range(40) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}",
        // Ten billion iterations.
        "{% for a in range(100000) %}{% for b in range(100000) %}.{% endfor %}{% endfor %}",
        "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f(customer_name) }}",
        // Each filter quadruples the name.
        "{{ customer_name | replace('a', 'aaaa') | replace('a', 'aaaa') | replace('a', 'aaaa') | replace('a', 'aaaa') }}",
        "{{ customer_name | join(customer_name) }}",
        "{{ customer_name | safe }}",
    ];
    for template in hostile {
        let started = Instant::now();
        let body = app.gql(Some(&t.staff), SAVE, json!({ "s": "IN_TRANSIT", "sub": "ok", "h": "<p>ok</p>", "t": template })).await;
        eprintln!("refused in {:?}: {template}", started.elapsed());
        assert_eq!(error_code(&body), Some("VALIDATION"), "{template}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "text", "{body}");
    }
    let saved = app.gql(Some(&t.staff), "{ notificationTemplates { status custom } }", json!({})).await;
    let custom: Vec<_> = saved["data"]["notificationTemplates"].as_array().unwrap().iter().filter(|t| t["custom"] == true).collect();
    assert!(custom.is_empty(), "nothing was saved: {saved}");

    // What a status mail needs still saves.
    let fine = "{% if tracking_url %}{{ customer_name | upper }}: {{ tracking_url }}{% else %}{{ status ~ ' / ' ~ order_code }}{% endif %}";
    let body = app.gql(Some(&t.staff), SAVE, json!({ "s": "IN_TRANSIT", "sub": "ok", "h": "<p>ok</p>", "t": fine })).await;
    assert_eq!(body["data"]["saveNotificationTemplate"]["custom"], true, "{body}");
    assert_eq!(app.http.get(format!("{}/healthz", app.base)).send().await.unwrap().status(), 200);
}

/// A template stored before these rules (here written straight into the
/// database) that renders past the output cap. Rendering used to happen inside
/// the status change's transaction, so this failed the change itself.
#[tokio::test]
async fn a_template_that_no_longer_renders_fails_its_mail_not_the_status_change() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    entities::notification_template::ActiveModel {
        company_id: Set(t.id.parse().unwrap()),
        status: Set(entities::OrderStatus::InSeparation),
        subject: Set("big".into()),
        html: Set("<p>big</p>".into()),
        text: Set("{{ 'x' * 300000 }}".into()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();

    move_order(&app, &t.staff, &order, "IN_SEPARATION", true).await;
    settle(&app).await;
    let listed = app
        .gql(Some(&t.staff), "query($id: ID!) { orderNotifications(orderId: $id) { id state lastError } }", json!({ "id": order }))
        .await;
    let mail = &listed["data"]["orderNotifications"][0];
    assert_eq!(mail["state"], "FAILED", "{listed}");
    assert!(mail["lastError"].as_str().unwrap().contains("more than 256 KiB"), "{listed}");
    let row = entities::notification::Entity::find_by_id(mail["id"].as_str().unwrap().parse::<i32>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.render_context.is_some(), "kept, so a resend renders again");

    // Fixed, and sent again: the copy renders with the template of now.
    let fixed = app.gql(Some(&t.staff), SAVE, json!({ "s": "IN_SEPARATION", "sub": "Pedido {{ order_code }}", "h": "<p>{{ status }}</p>", "t": "{{ status }}" })).await;
    assert_eq!(fixed["data"]["saveNotificationTemplate"]["custom"], true, "{fixed}");
    let resent = app.gql(Some(&t.staff), "mutation($id: ID!) { resendNotification(id: $id) { state } }", json!({ "id": mail["id"] })).await;
    assert!(resent["errors"].is_null(), "{resent}");
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject(), "Pedido #A-1");
    assert_eq!(mails[0].text().trim(), "Em separação");
}
