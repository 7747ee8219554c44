//! Live status changes over a real WebSocket (graphql-transport-ws), scoped like
//! queries; and, on PostgreSQL, across two server processes.

use std::time::Duration;

use serde_json::{json, Value};
use tests::{
    ws::{WsClient, WsEvent},
    TestApp,
};

const SUBSCRIBE: &str = "subscription($id: ID) { orderStatusChanged(orderId: $id) {
  orderId status previousStatus entry { comment visibleToCustomer } order { code sourceId total status } } }";
/// What a customer may ask for: `sourceId` and the entry's flags are staff-only.
const CUSTOMER_SUBSCRIBE: &str = "subscription($id: ID) { orderStatusChanged(orderId: $id) {
  orderId status previousStatus entry { comment fromStatus toStatus } order { code total status } } }";
const MOVE: &str = "mutation($id: ID!, $s: OrderStatus!, $v: Boolean = true, $c: String) {
  updateOrderStatus(id: $id, status: $s, visibleToCustomer: $v, comment: $c) { applied } }";

async fn move_order(app: &TestApp, token: &str, variables: Value) {
    let body = app.gql(Some(token), MOVE, variables).await;
    assert_eq!(body["data"]["updateOrderStatus"]["applied"], true, "{body}");
}

async fn next_change(socket: &mut WsClient) -> Value {
    loop {
        match socket.next(Duration::from_secs(5)).await {
            WsEvent::Json(message) if message["type"] == "next" => return message["payload"]["data"]["orderStatusChanged"].clone(),
            WsEvent::Json(message) if message["type"] == "ping" => continue,
            other => panic!("expected a change, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn customers_receive_only_their_own_orders_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let store_b = app.create_locality(&t.staff, "STORE-B", "DESTINATION", Some("b@acme.test")).await;
    let order_a = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let order_b = app.create_order(&t.staff, "B-1", &store_b, Some("INVOICED")).await;
    let customer_a = app.customer(&t.id, "acme", &t.customer_email()).await;
    let customer_b = app.customer(&t.id, "acme", "b@acme.test").await;

    let mut ws_a = WsClient::connect(&app.base).await;
    ws_a.init(&customer_a).await;
    let mut ws_b = WsClient::connect(&app.base).await;
    ws_b.init(&customer_b).await;
    let mut ws_staff = WsClient::connect(&app.base).await;
    ws_staff.init(&t.staff).await;
    for socket in [&mut ws_a, &mut ws_b, &mut ws_staff] {
        assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Json(json!({ "type": "connection_ack" })));
    }
    ws_a.subscribe("a", CUSTOMER_SUBSCRIBE, json!({})).await;
    ws_b.subscribe("b", CUSTOMER_SUBSCRIBE, json!({})).await;
    ws_staff.subscribe("s", SUBSCRIBE, json!({ "id": order_a })).await;

    move_order(&app, &t.staff, json!({ "id": order_a, "s": "IN_SEPARATION", "c": "Picking started" })).await;
    let change = next_change(&mut ws_a).await;
    assert_eq!(change["orderId"], order_a);
    assert_eq!(change["status"], "IN_SEPARATION");
    assert_eq!(change["previousStatus"], "INVOICED");
    assert_eq!(change["entry"]["comment"], "Picking started");
    assert_eq!(change["order"], json!({ "code": "#A-1", "total": "2218.80", "status": "IN_SEPARATION" }));
    assert_eq!(next_change(&mut ws_staff).await["status"], "IN_SEPARATION");

    // A change hidden from customers reaches the staff only.
    move_order(&app, &t.staff, json!({ "id": order_a, "s": "IN_TRANSIT", "v": false })).await;
    assert_eq!(next_change(&mut ws_staff).await["status"], "IN_TRANSIT");

    // B's first event is its own order's: it never saw A's changes.
    move_order(&app, &t.staff, json!({ "id": order_b, "s": "IN_SEPARATION" })).await;
    let change = next_change(&mut ws_b).await;
    assert_eq!((change["orderId"].clone(), change["status"].clone()), (json!(order_b), json!("IN_SEPARATION")));

    // And A's next event is A's delivery, not B's change nor the hidden one.
    move_order(&app, &t.staff, json!({ "id": order_a, "s": "DELIVERED" })).await;
    let change = next_change(&mut ws_a).await;
    assert_eq!((change["orderId"].clone(), change["status"].clone()), (json!(order_a), json!("DELIVERED")));
    // The customer never saw IN_TRANSIT: its status before is the last one
    // visible to it.
    assert_eq!(change["previousStatus"], "IN_SEPARATION");
    assert_eq!(change["entry"]["fromStatus"], "IN_SEPARATION");
    // The staff subscription to order A did not get order B's change.
    assert_eq!(next_change(&mut ws_staff).await["status"], "DELIVERED");
}

/// Staff of one company who send the same subscription share one execution
/// once it is asked a second time (`graphql_ws_shared_executions`): each gets
/// the same answer, the member that started the group leaving does not stop it
/// for the others, and the last one's `complete` stops it. Other variables, or
/// another company, run apart.
#[tokio::test]
async fn staff_who_ask_the_same_share_one_execution_until_the_last_leaves() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = app.tenant(&admin, "acme").await;
    let beta = app.tenant(&admin, "beta").await;
    let (colleague, _) = app.company_user(&admin, &acme.id, "acme", "colleague@acme.test").await;
    let order = app.create_order(&acme.staff, "A-1", &acme.destination, Some("INVOICED")).await;
    let beta_order = app.create_order(&beta.staff, "B-1", &beta.destination, Some("INVOICED")).await;

    let mut staff = WsClient::connect_acked(&app.base, &acme.staff).await;
    let mut colleague = WsClient::connect_acked(&app.base, &colleague).await;
    let mut staff_again = WsClient::connect_acked(&app.base, &acme.staff).await;
    let mut one_order = WsClient::connect_acked(&app.base, &acme.staff).await;
    let mut other_company = WsClient::connect_acked(&app.base, &beta.staff).await;
    staff.subscribe("s", SUBSCRIBE, json!({})).await;
    assert_eq!(app.shared_executions().await, 0, "asked once, it runs alone");
    colleague.subscribe("c", SUBSCRIBE, json!({})).await;
    staff_again.subscribe("a", SUBSCRIBE, json!({})).await;
    one_order.subscribe("o", SUBSCRIBE, json!({ "id": order })).await;
    other_company.subscribe("b", SUBSCRIBE, json!({})).await;
    assert_eq!(app.shared_executions().await, 1, "acme's second and third alike share one; the rest run alone");

    move_order(&app, &acme.staff, json!({ "id": order, "s": "IN_SEPARATION", "c": "Picking started" })).await;
    let seen = next_change(&mut staff).await;
    assert_eq!(seen["order"]["sourceId"], "A-1", "{seen}");
    assert_eq!(seen["entry"]["comment"], "Picking started");
    for socket in [&mut colleague, &mut staff_again, &mut one_order] {
        assert_eq!(next_change(socket).await, seen);
    }
    // Beta's first change is its own: the shared execution stays in its company.
    move_order(&app, &beta.staff, json!({ "id": beta_order, "s": "IN_SEPARATION" })).await;
    assert_eq!(next_change(&mut other_company).await["orderId"], beta_order);

    // The member that started the group leaves (its `complete` is handled
    // before the `pong`); the others still hear.
    colleague.send(json!({ "id": "c", "type": "complete" })).await;
    assert!(colleague.answers_ping().await);
    move_order(&app, &acme.staff, json!({ "id": order, "s": "IN_TRANSIT" })).await;
    for socket in [&mut staff_again, &mut staff, &mut one_order] {
        assert_eq!(next_change(socket).await["status"], "IN_TRANSIT");
    }
    assert_eq!(app.shared_executions().await, 1);

    for (socket, id) in [(&mut staff, "s"), (&mut staff_again, "a"), (&mut one_order, "o"), (&mut other_company, "b")] {
        socket.send(json!({ "id": id, "type": "complete" })).await;
    }
    app.await_shared_executions(0, Duration::from_secs(5)).await;
    // The sockets stay open, and asking again starts anew.
    colleague.subscribe("c2", SUBSCRIBE, json!({})).await;
    staff_again.subscribe("a2", SUBSCRIBE, json!({})).await;
    assert_eq!(app.shared_executions().await, 1);
    move_order(&app, &acme.staff, json!({ "id": order, "s": "DELIVERED" })).await;
    for socket in [&mut colleague, &mut staff_again] {
        assert_eq!(next_change(socket).await["status"], "DELIVERED");
    }
}

#[tokio::test]
async fn subscribing_to_someone_elses_order_is_refused_as_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = app.tenant(&admin, "acme").await;
    let beta = app.tenant(&admin, "beta").await;
    let order = app.create_order(&acme.staff, "A-1", &acme.destination, None).await;
    let mut socket = WsClient::connect(&app.base).await;
    socket.init(&beta.staff).await;
    socket.next(Duration::from_secs(5)).await;
    socket.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "id": order } } })).await;
    match socket.next(Duration::from_secs(5)).await {
        WsEvent::Json(message) => {
            let errors = if message["type"] == "error" { &message["payload"] } else { &message["payload"]["errors"] };
            assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND", "{message}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_open_socket_stops_when_its_account_is_deactivated() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let me = app.gql(Some(&t.staff), "{ me { id } }", json!({})).await;
    let mut socket = WsClient::connect(&app.base).await;
    socket.init(&t.staff).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Json(json!({ "type": "connection_ack" })));
    socket.subscribe("s", SUBSCRIBE, json!({})).await;
    app.gql(Some(&admin), "mutation($id: ID!) { deactivateUser(id: $id) { active } }", json!({ "id": me["data"]["me"]["id"] })).await;
    assert_eq!(socket.next(Duration::from_secs(5)).await, WsEvent::Closed(4403));
}

/// Two server processes on one PostgreSQL database: a change made through one
/// reaches a subscriber of the other (LISTEN/NOTIFY). The second process is the
/// server binary, started on the same database.
///
/// On SQLite the event bus is the process's own (DESIGN.md): a change made by
/// the other process is stored, and its subscribers hear it, but this
/// process's do not; they hear the next change made here.
#[tokio::test]
async fn changes_cross_processes_on_postgres_and_stay_in_process_on_sqlite() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;

    let other = tests::process::RastroProcess::start(&app.database_url).await;
    let staff_there = other.login(&format!("staff@{}.test", t.identifier), tests::PASSWORD, "acme").await;

    let mut socket = WsClient::connect(&app.base).await;
    socket.init(&customer).await;
    socket.next(Duration::from_secs(5)).await;
    socket.subscribe("c", CUSTOMER_SUBSCRIBE, json!({})).await;

    let body = other.gql(&staff_there, MOVE, json!({ "id": order, "s": "IN_TRANSIT", "c": "from the other process" })).await;
    assert_eq!(body["data"]["updateOrderStatus"]["applied"], true, "{body}");
    if tests::on_postgres() {
        let change = next_change(&mut socket).await;
        assert_eq!(change["status"], "IN_TRANSIT");
        assert_eq!(change["entry"]["comment"], "from the other process");
    } else {
        let shown = app.gql(Some(&customer), "query($id: ID!) { order(id: $id) { status } }", json!({ "id": order })).await;
        assert_eq!(shown["data"]["order"]["status"], "IN_TRANSIT", "the other process's change is stored: {shown}");
        move_order(&app, &t.staff, json!({ "id": order, "s": "DELIVERED", "c": "from this process" })).await;
        let change = next_change(&mut socket).await;
        assert_eq!(change["entry"]["comment"], "from this process", "the other process's change is heard only there");
    }
    other.stop().await;
}
