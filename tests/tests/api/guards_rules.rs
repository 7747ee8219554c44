//! Guards for rules of orders, mails and sessions that no other test would
//! notice breaking: what a customer mail says after a hidden hold, link
//! schemes, money signs, invoices on held orders, expiry of reset links and
//! refresh tokens, what an internal error tells the client, partial addresses
//! beside a destination and refused without one, and unbinding a webhook
//! secret from its store.

use std::time::Duration;

use chrono::Utc;
use domain::{
    ingest::{self, Batch, Command, Record, RunMeta},
    orders::{EventMeta, Shipment},
    Actor,
};
use entities::{password_reset_token, refresh_token};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tests::{error_code, fingerprint, smtp::SmtpServer, TestApp, PASSWORD};

use crate::notifications::{move_order, use_smtp};

async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let body = app.gql(Some(token), query, variables).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

fn refused_on(body: &Value, field: &str) {
    assert_eq!(error_code(body), Some("VALIDATION"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
}

#[tokio::test]
async fn a_customer_mail_never_names_a_hidden_hold() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    // A template that shows both statuses a mail knows.
    let save = "mutation { saveNotificationTemplate(status: IN_SEPARATION, subject: \"{{ order_code }}: {{ status }}\",
      html: \"<p>{{ previous_status }} / {{ status }}</p>\", text: \"antes: {{ previous_status }}; agora: {{ status }}\") { custom } }";
    ok(&app, &t.staff, save, json!({})).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    move_order(&app, &t.staff, &order, "IN_SEPARATION", false).await;
    let hold = "mutation($id: ID!) { holdOrder(id: $id, comment: \"credit check\", visibleToCustomer: false) { applied } }";

    // Held where the customer cannot see it, then released with a mail: the
    // customer saw IN_SEPARATION before and sees it after.
    assert_eq!(ok(&app, &t.staff, hold, json!({ "id": order })).await["holdOrder"]["applied"], true);
    move_order(&app, &t.staff, &order, "IN_SEPARATION", true).await;
    // Held again, and a visible comment mailed while the hold lasts.
    assert_eq!(ok(&app, &t.staff, hold, json!({ "id": order })).await["holdOrder"]["applied"], true);
    let preview = "query($id: ID!) { previewNotification(orderId: $id, status: IN_SEPARATION) { text } }";
    let previewed = ok(&app, &t.staff, preview, json!({ "id": order })).await;
    assert_eq!(previewed["previewNotification"]["text"], "antes: Em separação; agora: Em separação", "the preview says what the mail will");
    let comment = "mutation($id: ID!) { addOrderComment(id: $id, comment: \"Aguardando a transportadora\", notifyCustomer: true) { applied } }";
    assert_eq!(ok(&app, &t.staff, comment, json!({ "id": order })).await["addOrderComment"]["applied"], true);

    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 2);
    for mail in &mails {
        assert_eq!(mail.subject(), "#A-1: Em separação", "the status the customer sees");
        assert_eq!(mail.text().trim(), "antes: Em separação; agora: Em separação");
        assert_eq!(mail.html().trim(), "<p>Em separação / Em separação</p>");
    }
    // The customer's own view agrees with the mails.
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;
    let seen = ok(&app, &customer, "query($id: ID!) { order(id: $id) { status } }", json!({ "id": order })).await;
    assert_eq!(seen["order"]["status"], "IN_SEPARATION");
}

#[tokio::test]
async fn tracking_and_invoice_links_must_be_http_or_https() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("APPROVED")).await;
    let ship = "mutation($id: ID!, $u: String!) { addShipment(id: $id, shipment: { carrier: \"C\", trackingNumber: \"T-1\", trackingUrl: $u }, notifyCustomer: true) { applied } }";
    let invoice = "mutation($id: ID!, $u: String!) { invoiceOrder(id: $id, invoice: { number: \"1\", url: $u }) { applied } }";
    let view = "query($id: ID!) { order(id: $id) { status invoice { url } shipments { trackingUrl } } }";

    // Customers follow both links: from a mail's <a href> and from the portal.
    for bad in ["javascript:alert(1)", "ftp://files.example/nfe.pdf", "data:text/html,<script>alert(1)</script>"] {
        refused_on(&app.gql(Some(&t.staff), ship, json!({ "id": order, "u": bad })).await, "shipment.trackingUrl");
        refused_on(&app.gql(Some(&t.staff), invoice, json!({ "id": order, "u": bad })).await, "invoice.url");
    }
    let shown = ok(&app, &t.staff, view, json!({ "id": order })).await;
    assert_eq!(shown["order"], json!({ "status": "APPROVED", "invoice": null, "shipments": [] }), "nothing of a refused link was stored");

    let nfe = "https://nfe.example/danfe/1";
    assert_eq!(ok(&app, &t.staff, invoice, json!({ "id": order, "u": nfe })).await["invoiceOrder"]["applied"], true);
    let track = "https://rastreio.example/T-1";
    assert_eq!(ok(&app, &t.staff, ship, json!({ "id": order, "u": track })).await["addShipment"]["applied"], true);
    let shown = ok(&app, &t.staff, view, json!({ "id": order })).await;
    assert_eq!(shown["order"], json!({ "status": "IN_TRANSIT", "invoice": { "url": nfe }, "shipments": [{ "trackingUrl": track }] }));
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert!(mails[0].html().contains(&format!("href=\"{track}\"")), "{}", mails[0].html());
}

#[tokio::test]
async fn money_amounts_are_never_negative_and_a_refund_is_more_than_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("APPROVED")).await;
    let refund = "mutation($id: ID!, $a: Money!) { refundOrder(id: $id, amount: $a) { applied order { status } } }";
    let invoice = "mutation($id: ID!, $v: Money!) { invoiceOrder(id: $id, invoice: { number: \"1\", value: $v }) { applied order { invoice { value } } } }";
    let before = fingerprint(&app.db, &[]).await;

    for amount in ["0.00", "-5.00"] {
        refused_on(&app.gql(Some(&t.staff), refund, json!({ "id": order, "a": amount })).await, "amount");
    }
    refused_on(&app.gql(Some(&t.staff), invoice, json!({ "id": order, "v": "-1.00" })).await, "invoice.value");
    assert!(before == fingerprint(&app.db, &[]).await, "a refused amount wrote something");

    // The boundaries themselves: an invoice of zero, a refund of one cent.
    let free = ok(&app, &t.staff, invoice, json!({ "id": order, "v": "0.00" })).await;
    assert_eq!(free["invoiceOrder"]["order"]["invoice"]["value"], "0.00");
    let cent = ok(&app, &t.staff, refund, json!({ "id": order, "a": "0.01" })).await;
    assert_eq!(cent["refundOrder"]["order"]["status"], "REFUNDED");
}

#[tokio::test]
async fn a_held_order_takes_no_invoice() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("APPROVED")).await;
    ok(&app, &t.staff, "mutation($id: ID!) { holdOrder(id: $id) { applied } }", json!({ "id": order })).await;
    let refused = app.gql(Some(&t.staff), "mutation($id: ID!) { invoiceOrder(id: $id, invoice: { number: \"9\" }) { applied } }", json!({ "id": order })).await;
    assert_eq!(error_code(&refused), Some("VALIDATION"), "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("ON_HOLD") && message.contains("INVOICED"), "{message}");
    let shown = ok(&app, &t.staff, "query($id: ID!) { order(id: $id) { status invoice { number } } }", json!({ "id": order })).await;
    assert_eq!(shown["order"], json!({ "status": "ON_HOLD", "invoice": null }));
}

fn token_in(mail: &tests::smtp::ReceivedMail) -> String {
    let text = mail.text();
    let start = text.find("token=").expect("a reset link") + "token=".len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let staff = format!("staff@{}.test", t.identifier);
    let asked = app.gql(None, "mutation($e: String!) { requestPasswordReset(email: $e, company: \"acme\") }", json!({ "e": staff })).await;
    assert_eq!(asked["data"]["requestPasswordReset"], true, "{asked}");
    let token = token_in(&smtp.wait_for(1, Duration::from_secs(20)).await[0]);
    let row = password_reset_token::Entity::find().one(&app.db).await.unwrap().expect("the link's row");
    assert_eq!(row.expires_at - row.created_at, chrono::Duration::minutes(60));

    let expire = |at: chrono::DateTime<Utc>| {
        password_reset_token::Entity::update(password_reset_token::ActiveModel { id: Set(row.id), expires_at: Set(at), ..Default::default() })
            .exec(&app.db)
    };
    let reset = "mutation($t: String!) { resetPassword(token: $t, newPassword: \"Nova-senha-2026\") { accessToken } }";
    expire(Utc::now() - chrono::Duration::seconds(1)).await.unwrap();
    refused_on(&app.gql(None, reset, json!({ "t": token })).await, "token");
    let login = app.login_body(&staff, PASSWORD, Some("acme")).await;
    assert!(login["data"]["login"]["accessToken"].is_string(), "the password did not change: {login}");
    // The same link, not yet expired, works: expiry was the only reason.
    expire(Utc::now() + chrono::Duration::minutes(1)).await.unwrap();
    let done = app.gql(None, reset, json!({ "t": token })).await;
    assert!(done["data"]["resetPassword"]["accessToken"].is_string(), "{done}");
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused_and_other_sessions_go_on() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let staff = format!("staff@{}.test", t.identifier);
    let (_, expired) = app.login_session(&staff, PASSWORD, Some("acme")).await;
    let (_, current) = app.login_session(&staff, PASSWORD, Some("acme")).await;
    let moved = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::ExpiresAt, sea_orm::sea_query::Expr::value(Utc::now() - chrono::Duration::seconds(1)))
        .filter(refresh_token::Column::TokenHash.eq(domain::tokens::token_hash(&expired)))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(moved.rows_affected, 1);

    let refused = app.refresh_body(&expired).await;
    assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"), "{refused}");
    let refreshed = app.refresh_body(&current).await;
    assert!(refreshed["data"]["refreshSession"]["accessToken"].is_string(), "{refreshed}");
}

/// What a client may see of an internal error: the code and "internal error".
fn assert_no_details(body: &Value) {
    let text = body.to_string().to_lowercase();
    for detail in ["no such table", "does not exist", "relation", "sql", "database", "query"] {
        assert!(!text.contains(detail), "{detail:?} reached the client: {body}");
    }
}

#[tokio::test]
async fn internal_errors_reach_clients_and_the_integrations_log_without_details() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("APPROVED")).await;
    app.db.execute_unprepared("DROP TABLE refunds").await.unwrap();
    let body = app.gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { id refunds { amount } } }", json!({ "id": order })).await;
    assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
    assert_eq!(body["errors"][0]["message"], "internal error");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    assert_no_details(&body);

    // A record that fails for the same kind of reason: its log entry is what
    // the company reads, and says no more.
    // Tracking events refer to shipments; PostgreSQL drops that reference too.
    let drop = if tests::on_postgres() { "DROP TABLE shipments CASCADE" } else { "DROP TABLE shipments" };
    app.db.execute_unprepared(drop).await.unwrap();
    let company: i32 = t.id.parse().unwrap();
    let meta = RunMeta { adapter: "test-feed".into(), operation: "push".into(), reprocess_of: None };
    let run = ingest::runs::begin(&app.ctx, Some(company), &meta, b"<request/>").await.unwrap();
    let shipment = Shipment { carrier: "correios".into(), title: None, tracking_number: "BR1".into(), tracking_url: None, shipped_at: None, invoice_number: None };
    let ship = Command::Ship { shipment, meta: EventMeta { source: "test-feed".into(), ..EventMeta::default() } };
    let batch = Batch { records: vec![Record::new("A-1", vec![ship])] };
    let report = ingest::apply(&app.ctx, &Actor::integration(company), &run, batch).await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    ingest::runs::finish(&app.ctx, &run, &report, b"<answer/>").await.unwrap();
    let logged = ok(&app, &t.staff, "query($id: ID!) { integrationRun(id: $id) { items { outcome errorCode errorMessage } } }", json!({ "id": run.id.to_string() })).await;
    assert_eq!(logged["integrationRun"]["items"], json!([{ "outcome": "FAILED", "errorCode": "INTERNAL", "errorMessage": "internal error" }]));
}

#[tokio::test]
async fn an_order_with_a_destination_takes_a_partial_address_and_a_complete_one_stands_alone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, None).await;
    let update = "mutation($id: ID!, $i: UpdateOrderInput!) { updateOrder(id: $id, input: $i) { address { street city } } }";
    // The destination says where it goes: a street alone is a detail, not a place.
    let partial = ok(&app, &t.staff, update, json!({ "id": order, "i": { "address": { "street": "Rua Nova", "number": "10" } } })).await;
    assert_eq!(partial["updateOrder"]["address"]["street"], "Rua Nova");
    // A complete address stands on its own, whatever the destination.
    let complete = ok(&app, &t.staff, update, json!({ "id": order, "i": { "address": { "street": "Rua B", "city": "Campinas", "state": "SP", "zipCode": "13000-000" } } })).await;
    assert_eq!(complete["updateOrder"]["address"]["city"], "Campinas");
}

/// An order delivered to an address of its own, with no destination, keeps an
/// address that says where: an edit to a street alone is refused and changes
/// nothing; a complete one is taken.
#[tokio::test]
async fn an_order_without_a_destination_refuses_a_partial_address() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let create = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }";
    let address = json!({ "street": "Rua A", "city": "Campinas", "state": "SP", "zipCode": "13000-000" });
    let items = json!([{ "sourceId": "1", "productId": "SKU-CHAIR", "name": "Office chair", "quantity": 1, "unitPrice": "459.90" }]);
    let created = ok(&app, &t.staff, create, json!({ "i": { "sourceId": "ADDR-1", "code": "#ADDR-1", "address": address, "items": items } })).await;
    let order = created["createOrder"]["id"].as_str().expect("an id").to_owned();
    let update = "mutation($id: ID!, $i: UpdateOrderInput!) { updateOrder(id: $id, input: $i) { address { street city } } }";
    let partial = app.gql(Some(&t.staff), update, json!({ "id": order, "i": { "address": { "street": "Rua Nova", "number": "10" } } })).await;
    refused_on(&partial, "address.zipCode");
    let read = ok(&app, &t.staff, "query($id: ID!) { order(id: $id) { address { street city } } }", json!({ "id": order })).await;
    assert_eq!(read["order"]["address"], json!({ "street": "Rua A", "city": "Campinas" }), "the refused edit changed the order");
    let complete = json!({ "street": "Rua B", "city": "Sorocaba", "state": "SP", "zipCode": "18000-000" });
    let taken = ok(&app, &t.staff, update, json!({ "id": order, "i": { "address": complete } })).await;
    assert_eq!(taken["updateOrder"]["address"], json!({ "street": "Rua B", "city": "Sorocaba" }));
}

#[tokio::test]
async fn an_empty_store_account_clears_the_one_a_webhook_secret_was_bound_to() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let set = "mutation($id: ID!, $a: String) { setWebhookSecret(companyId: $id, platform: SHOPIFY, secret: \"s3cret-0123456789abcdef\", account: $a) { account } }";
    let bound = ok(&app, &t.staff, set, json!({ "id": t.id, "a": "loja.myshopify.com" })).await;
    assert_eq!(bound["setWebhookSecret"]["account"], "loja.myshopify.com");
    let kept = ok(&app, &t.staff, set, json!({ "id": t.id, "a": null })).await;
    assert_eq!(kept["setWebhookSecret"]["account"], "loja.myshopify.com", "no account given keeps the one bound");
    let cleared = ok(&app, &t.staff, set, json!({ "id": t.id, "a": "" })).await;
    assert!(cleared["setWebhookSecret"]["account"].is_null(), "an empty one unbinds it: {cleared}");
    let listed = ok(&app, &t.staff, "query($id: ID!) { webhookSecrets(companyId: $id) { account } }", json!({ "id": t.id })).await;
    assert!(listed["webhookSecrets"][0]["account"].is_null(), "{listed}");
}

/// The account is read with every check of a token, not only the session: a
/// company or a user made inactive without its sessions being ended (a row
/// changed by hand, say) is refused at the next check, and served again when
/// active again. (Here every request checks; in production a check answers
/// for the token's requests of the next second, and a change through the API
/// ends the sessions, which clears every check at once.)
#[tokio::test]
async fn an_inactive_company_or_user_is_refused_even_while_its_session_lives() {
    let app = TestApp::spawn_with(|c| c.limits.token_recheck = std::time::Duration::ZERO).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let me = "{ me { id } }";
    let user_id = app.gql(Some(&t.staff), me, json!({})).await["data"]["me"]["id"].as_str().expect("me").to_owned();
    let set = |sql: String| {
        let db = app.db.clone();
        async move { db.execute_unprepared(&sql).await.unwrap() }
    };
    let served = |body: Value| body["data"]["me"]["id"].is_string();
    let refused = |(status, body): (u16, Value)| status == 401 && error_code(&body) == Some("UNAUTHENTICATED");
    let request = json!({ "query": me });
    let ask = || app.gql_raw(Some(&t.staff), &request);

    set(format!("UPDATE companies SET active = false WHERE id = {}", t.id)).await;
    assert!(refused(ask().await));
    set(format!("UPDATE companies SET active = true WHERE id = {}", t.id)).await;
    assert!(served(app.gql(Some(&t.staff), me, json!({})).await), "the same token serves again");

    set(format!("UPDATE users SET active = false WHERE id = {user_id}")).await;
    assert!(refused(ask().await));
    set(format!("UPDATE users SET active = true WHERE id = {user_id}")).await;
    assert!(served(app.gql(Some(&t.staff), me, json!({})).await), "the same token serves again");
}
