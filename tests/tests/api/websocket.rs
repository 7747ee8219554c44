use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::{
    ws::{WsClient, WsEvent},
    TestApp,
};

#[tokio::test]
async fn a_socket_that_never_initialises_is_closed_with_4408() {
    let app = TestApp::spawn().await;
    let mut socket = WsClient::connect(&app.base).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Closed(4408));
}

#[tokio::test]
async fn a_socket_with_a_bad_token_is_refused() {
    let app = TestApp::spawn().await;
    let mut socket = WsClient::connect(&app.base).await;
    socket.init("not-a-token").await;
    match socket.next(Duration::from_secs(5)).await {
        WsEvent::Closed(code) => assert_eq!(code, 4403),
        other => panic!("expected a 4403 close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_socket_with_a_valid_token_is_acknowledged_and_stays_open() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut socket = WsClient::connect(&app.base).await;
    socket.init(&admin).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Json(json!({ "type": "connection_ack" })));
    // Past the init deadline the authenticated socket is still open: a socket
    // opened at the same time that never initialises marks the deadline.
    let mut marker = WsClient::connect(&app.base).await;
    assert_eq!(marker.next(Duration::from_secs(5)).await, WsEvent::Closed(4408));
    socket.send(json!({ "type": "ping" })).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Json(json!({ "type": "pong" })));
}

// --- Sessions end when they should: revocations are pushed to open sockets. ---
//
// These servers sweep for missed revocations only once an hour, so a socket
// that closes within `PUSHED` was closed by the revocation signal, not by the
// sweep.

const WATCH: &str = "subscription { orderStatusChanged { orderId status } }";
/// How soon a revoked socket must be closed.
const PUSHED: Duration = Duration::from_millis(1500);

async fn app_without_sweep() -> TestApp {
    TestApp::spawn_with(|c| c.limits.revocation_sweep = Duration::from_secs(3600)).await
}

/// A server that sweeps for missed revocations every 200 ms.
async fn app_with_sweep() -> TestApp {
    TestApp::spawn_with(|c| c.limits.revocation_sweep = Duration::from_millis(200)).await
}

/// An initialised socket with one running subscription.
async fn watching(app: &TestApp, token: &str) -> WsClient {
    let mut socket = WsClient::connect_acked(&app.base, token).await;
    socket.subscribe("watch", WATCH, json!({})).await;
    socket
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let me = app.gql(Some(token), "{ me { id } }", json!({})).await;
    me["data"]["me"]["id"].as_str().unwrap_or_else(|| panic!("{me}")).to_owned()
}

async fn admin_mutation(app: &TestApp, admin: &str, field: &str, id: &str) {
    let body = app.gql(Some(admin), &format!("mutation($id: ID!) {{ {field}(id: $id) {{ active }} }}"), json!({ "id": id })).await;
    assert!(body["data"][field].is_object(), "{body}");
}

#[tokio::test]
async fn a_password_change_closes_the_accounts_sockets_at_once() {
    let app = app_without_sweep().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let (other_session, _) = app.login_session("staff@acme.test", tests::PASSWORD, Some("acme")).await;
    let mut socket = watching(&app, &t.staff).await;
    let mut other = watching(&app, &other_session).await;
    let body = app
        .gql(
            Some(&t.staff),
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }",
            json!({ "c": tests::PASSWORD, "n": "Another-password-2026" }),
        )
        .await;
    let fresh = body["data"]["changePassword"]["accessToken"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    assert_eq!(socket.closed_within(PUSHED).await, Some(4403));
    assert_eq!(other.closed_within(PUSHED).await, Some(4403), "every session of the account ends");
    // The new session's socket works.
    let mut renewed = watching(&app, &fresh).await;
    assert!(renewed.answers_ping().await);
}

#[tokio::test]
async fn deactivating_a_user_closes_its_sockets_at_once_and_only_its() {
    let app = app_without_sweep().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;
    let mut staff_socket = watching(&app, &t.staff).await;
    let mut customer_socket = watching(&app, &customer).await;
    admin_mutation(&app, &admin, "deactivateUser", &user_id(&app, &t.staff).await).await;
    assert_eq!(staff_socket.closed_within(PUSHED).await, Some(4403));
    assert!(customer_socket.answers_ping().await, "another user of the company keeps its socket");
}

#[tokio::test]
async fn deactivating_a_company_closes_its_users_sockets_and_reactivation_revives_nothing() {
    let app = app_without_sweep().await;
    let admin = app.admin().await;
    let acme = app.tenant(&admin, "acme").await;
    let beta = app.tenant(&admin, "beta").await;
    let customer = app.customer(&acme.id, "acme", &acme.customer_email()).await;
    let mut staff_socket = watching(&app, &acme.staff).await;
    let mut customer_socket = watching(&app, &customer).await;
    let mut other_tenant = watching(&app, &beta.staff).await;
    let mut admin_socket = watching(&app, &admin).await;

    admin_mutation(&app, &admin, "deactivateCompany", &acme.id).await;
    assert_eq!(staff_socket.closed_within(PUSHED).await, Some(4403));
    assert_eq!(customer_socket.closed_within(PUSHED).await, Some(4403));
    assert!(other_tenant.answers_ping().await);
    assert!(admin_socket.answers_ping().await);

    admin_mutation(&app, &admin, "activateCompany", &acme.id).await;
    for old in [&acme.staff, &customer] {
        assert!(!app.token_works(old).await, "re-activation revived an old token");
        let mut socket = WsClient::connect(&app.base).await;
        socket.init(old).await;
        assert_eq!(socket.closed_within(Duration::from_secs(5)).await, Some(4403));
    }
}

#[tokio::test]
async fn logout_closes_that_sessions_sockets_and_no_other() {
    let app = app_without_sweep().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let (other_session, _) = app.login_session("staff@acme.test", tests::PASSWORD, Some("acme")).await;
    let mut socket = watching(&app, &t.staff).await;
    let mut other = watching(&app, &other_session).await;
    let body = app.gql(Some(&t.staff), "mutation { logout }", json!({})).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    assert_eq!(socket.closed_within(PUSHED).await, Some(4403));
    assert!(other.answers_ping().await, "the account's other session keeps its socket");
}

#[tokio::test]
async fn reusing_a_refresh_token_closes_the_sessions_sockets() {
    let app = app_without_sweep().await;
    let admin = app.admin().await;
    let _t = app.tenant(&admin, "acme").await;
    let (access, refresh) = app.login_session("staff@acme.test", tests::PASSWORD, Some("acme")).await;
    let (other_session, _) = app.login_session("staff@acme.test", tests::PASSWORD, Some("acme")).await;
    let mut socket = watching(&app, &access).await;
    let mut other = watching(&app, &other_session).await;
    let first = app.refresh_body(&refresh).await;
    assert!(first["data"]["refreshSession"].is_object(), "{first}");
    // A rotation alone keeps the socket: the session goes on.
    assert!(socket.answers_ping().await);
    let reuse = app.refresh_body(&refresh).await;
    assert_eq!(tests::error_code(&reuse), Some("UNAUTHENTICATED"), "{reuse}");
    assert_eq!(socket.closed_within(PUSHED).await, Some(4403));
    assert!(other.answers_ping().await);
}

#[tokio::test]
async fn an_integration_token_cannot_open_a_socket() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, integration_token) = app.create_company(&admin, "acme").await;
    let mut socket = WsClient::connect(&app.base).await;
    socket.init(&integration_token).await;
    assert_eq!(socket.closed_within(Duration::from_secs(5)).await, Some(4403));
}

#[tokio::test]
async fn a_socket_runs_at_most_the_configured_subscriptions() {
    let app = TestApp::spawn_with(|c| c.limits.ws_subscriptions_per_socket = 2).await;
    let admin = app.admin().await;
    let mut socket = WsClient::connect_acked(&app.base, &admin).await;
    socket.subscribe("1", WATCH, json!({})).await;
    socket.subscribe("2", WATCH, json!({})).await;
    socket.send(json!({ "id": "3", "type": "subscribe", "payload": { "query": WATCH } })).await;
    match socket.next(Duration::from_secs(5)).await {
        WsEvent::Json(message) => {
            assert_eq!((message["type"].as_str(), message["id"].as_str()), (Some("error"), Some("3")), "{message}");
            assert_eq!(message["payload"][0]["extensions"]["code"], "RATE_LIMITED", "{message}");
        }
        other => panic!("expected an error for subscription 3, got {other:?}"),
    }
    // The socket stays open, and completing one frees its slot.
    socket.send(json!({ "id": "1", "type": "complete" })).await;
    assert!(socket.answers_ping().await);
    socket.subscribe("4", WATCH, json!({})).await;
    socket.send(json!({ "id": "5", "type": "subscribe", "payload": { "query": WATCH } })).await;
    match socket.next(Duration::from_secs(5)).await {
        WsEvent::Json(message) => assert_eq!((message["type"].as_str(), message["id"].as_str()), (Some("error"), Some("5")), "{message}"),
        other => panic!("expected an error for subscription 5, got {other:?}"),
    }
}

#[tokio::test]
async fn a_user_holds_at_most_the_configured_sockets_counted_exactly() {
    let app = TestApp::spawn_with(|c| c.limits.ws_sockets_per_user = 2).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    // Six sockets of one user initialise at once: exactly two are accepted.
    let attempts = futures::future::join_all((0..6).map(|_| async {
        let mut socket = WsClient::connect(&app.base).await;
        socket.init(&t.staff).await;
        let outcome = socket.next(Duration::from_secs(5)).await;
        (socket, outcome)
    }))
    .await;
    let (mut accepted, mut refused) = (Vec::new(), 0);
    for (socket, outcome) in attempts {
        match outcome {
            WsEvent::Json(message) if message["type"] == "connection_ack" => accepted.push(socket),
            WsEvent::Closed(4429) => refused += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((accepted.len(), refused), (2, 4));
    // Another user is not affected.
    let mut admin_socket = WsClient::connect_acked(&app.base, &admin).await;
    assert!(admin_socket.answers_ping().await);
    // Closing a socket frees its slot.
    drop(accepted.pop());
    let mut again = None;
    for _ in 0..50 {
        let mut socket = WsClient::connect(&app.base).await;
        socket.init(&t.staff).await;
        match socket.next(Duration::from_secs(5)).await {
            WsEvent::Json(message) if message["type"] == "connection_ack" => {
                again = Some(socket);
                break;
            }
            WsEvent::Closed(4429) => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert!(again.is_some(), "the closed socket's slot was never freed");
}

/// Two server processes on one database: a revocation made through one closes
/// a socket held by the other. On PostgreSQL at once (LISTEN/NOTIFY, so this
/// server sweeps only hourly); on SQLite, whose signals stay in their process,
/// at this process's next sweep for revoked sessions (every 200 ms here).
#[tokio::test]
async fn a_revocation_through_one_process_closes_a_socket_on_another() {
    let app = if tests::on_postgres() { app_without_sweep().await } else { app_with_sweep().await };
    let admin = app.admin().await;
    let acme = app.tenant(&admin, "acme").await;
    let beta = app.tenant(&admin, "beta").await;
    let other = tests::process::RastroProcess::start(&app.database_url).await;

    // Logout through the other process.
    let session = other.login_session("staff@acme.test", tests::PASSWORD, Some("acme")).await;
    let token = session["accessToken"].as_str().unwrap();
    let mut socket = watching(&app, token).await;
    let mut bystander = watching(&app, &acme.staff).await;
    let body = other.gql(token, "mutation { logout }", json!({})).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    assert_eq!(socket.closed_within(PUSHED).await, Some(4403));
    assert!(bystander.answers_ping().await);

    // A company deactivated through the other process.
    let admin_there = {
        let email = format!("admin2-{}@rastro.test", std::process::id());
        domain::users::create_admin(&app.ctx, &domain::Actor::system("test"), &email, tests::PASSWORD).await.unwrap();
        other.login_session(&email, tests::PASSWORD, None).await["accessToken"].as_str().unwrap().to_owned()
    };
    let mut beta_socket = watching(&app, &beta.staff).await;
    let body = other.gql(&admin_there, "mutation($id: ID!) { deactivateCompany(id: $id) { active } }", json!({ "id": beta.id })).await;
    assert_eq!(body["data"]["deactivateCompany"]["active"], false, "{body}");
    assert_eq!(beta_socket.closed_within(PUSHED).await, Some(4403));
    assert!(bystander.answers_ping().await);
    other.stop().await;
}

/// Revokes `token`'s session with a bare `UPDATE`: no signal is published.
async fn revoke_in_the_database_alone(app: &TestApp, token: &str) {
    let sid = app.ctx.tokens.verify(token).expect("a valid token").sid;
    let revoked = entities::session::Entity::update_many()
        .col_expr(entities::session::Column::RevokedAt, sea_orm::sea_query::Expr::value(Some(chrono::Utc::now())))
        .filter(entities::session::Column::Id.eq(sid))
        .exec(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(revoked.rows_affected, 1);
}

/// A revocation the signal never carried (as when a PostgreSQL listener was
/// reconnecting) is found by the process's sweep, which closes the socket.
#[tokio::test]
async fn a_revocation_the_signal_missed_is_found_by_the_sweep() {
    let app = app_with_sweep().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let mut socket = watching(&app, &t.staff).await;
    let mut bystander = watching(&app, &admin).await;
    // Revoked in the database alone: nothing is published.
    revoke_in_the_database_alone(&app, &t.staff).await;
    assert_eq!(socket.closed_within(Duration::from_secs(5)).await, Some(4403));
    assert!(bystander.answers_ping().await);
}

/// A socket's `connection_init` reads the account afresh, though the same
/// token's HTTP requests may be answered by a check of a moment ago: a socket
/// stays open, so one opened on a revocation this process has not heard of
/// yet would outlive it until the next sweep.
#[tokio::test]
async fn a_socket_is_opened_only_on_a_fresh_check_of_its_token() {
    let app = TestApp::spawn_with(|c| {
        c.limits.token_recheck = Duration::from_secs(3600);
        c.limits.revocation_sweep = Duration::from_secs(3600);
    })
    .await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    assert!(app.token_works(&t.staff).await, "checked over HTTP, and remembered");
    // Revoked in the database alone: nothing is published, nothing swept.
    revoke_in_the_database_alone(&app, &t.staff).await;
    assert!(app.token_works(&t.staff).await, "HTTP is answered by the remembered check");
    let mut socket = WsClient::connect(&app.base).await;
    socket.init(&t.staff).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Closed(4403), "the socket read the revocation");
}

/// A socket closes when its token expires, with no one asking the database.
#[tokio::test]
async fn a_socket_closes_when_its_token_expires() {
    let app = TestApp::spawn_with(|c| {
        c.token_ttl = Duration::from_secs(2);
        c.limits.revocation_sweep = Duration::from_secs(3600);
    })
    .await;
    let admin = app.admin().await;
    let exp = app.ctx.tokens.verify(&admin).expect("a valid token").exp;
    let mut socket = watching(&app, &admin).await;
    assert!(socket.answers_ping().await, "open while the token is valid");
    assert_eq!(socket.closed_within(Duration::from_secs(5)).await, Some(4403));
    assert!(chrono::Utc::now().timestamp() >= exp, "closed before the token expired");
}

/// Idle sockets cost the database nothing: no socket checks its token again
/// on a timer (the sweep is one statement per process, switched off here).
#[tokio::test]
async fn idle_sockets_send_no_statements() {
    let app = TestApp::spawn_with(|c| {
        c.limits.revocation_sweep = Duration::from_secs(3600);
        c.limits.ws_sockets_per_user = 20;
        // The mail worker polls the outbox; it has no part here.
        c.run_mail_worker = false;
    })
    .await;
    let admin = app.admin().await;
    let mut sockets = Vec::new();
    for _ in 0..20 {
        sockets.push(watching(&app, &admin).await);
    }
    let before = app.statements_run().await;
    // An observation window, not a synchronisation: a socket that checked its
    // token every second or faster would show here 20 times over.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for socket in &mut sockets {
        assert!(socket.answers_ping().await);
    }
    assert_eq!(app.statements_run().await, before);
}

/// Operations over a socket are charged like HTTP requests: a client could
/// otherwise open one socket and run queries on it without any budget.
#[tokio::test]
async fn operations_over_a_socket_are_charged_to_the_request_budget() {
    let app = TestApp::spawn_with(|c| c.rates.requests_per_ip = api::ratelimit::Rate::new(1, 20)).await;
    let admin = app.admin().await;
    let mut socket = WsClient::connect_acked(&app.base, &admin).await;
    let mut refused = None;
    for n in 0..30 {
        let id = n.to_string();
        socket.send(json!({ "id": id, "type": "subscribe", "payload": { "query": "{ __typename }" } })).await;
        loop {
            match socket.next(Duration::from_secs(5)).await {
                WsEvent::Json(message) if message["type"] == "complete" && message["id"] == id.as_str() => break,
                WsEvent::Json(message) if message["type"] == "error" && message["id"] == id.as_str() => {
                    refused = Some(message);
                    break;
                }
                WsEvent::Json(_) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
        if refused.is_some() {
            break;
        }
    }
    let refused = refused.expect("the budget of 20 ran out within 30 operations");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED", "{refused}");
    assert!(refused["payload"][0]["extensions"]["retryAfterSeconds"].as_u64().is_some_and(|s| s >= 1), "{refused}");
    assert!(socket.answers_ping().await, "the socket stays open");
}
