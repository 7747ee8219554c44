//! The demo data `rastro demo` loads.

use std::collections::HashSet;

use entities::order;
use sea_orm::EntityTrait;
use serde_json::json;
use tests::TestApp;

#[tokio::test]
async fn demo_data_loads_once_and_its_logins_work() {
    let app = TestApp::spawn().await;
    assert!(domain::demo::load(&app.ctx).await.unwrap());
    assert!(!domain::demo::load(&app.ctx).await.unwrap(), "a second load changes nothing");

    for login in domain::demo::logins() {
        app.login(login.email, login.password, login.company).await;
    }
    let admin = domain::demo::logins().into_iter().find(|l| l.role == "admin").unwrap();
    let token = app.login(admin.email, admin.password, None).await;
    let body = app.gql(Some(&token), "{ companies { totalCount edges { node { identifier } } } }", json!({})).await;
    assert_eq!(body["data"]["companies"]["totalCount"], 2);

    let orders = order::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(orders.len(), 2 * domain::demo::ORDERS_PER_COMPANY);
    let statuses: HashSet<_> = orders.iter().map(|o| o.status).collect();
    assert_eq!(statuses.len(), 11, "every status is represented");

    // A delivered order shows its invoice, kept apart too, and its carrier's
    // whole timeline, in order, from the origin to the customer's city.
    let company = domain::demo::logins().into_iter().find(|l| l.role == "company").unwrap();
    let staff = app.login(company.email, company.password, company.company).await;
    let invoice = "number key series value issuedAt";
    let query = format!("{{ orders(first: 1, filter: {{ statuses: [DELIVERED] }}) {{ nodes {{ createdAt invoice {{ {invoice} }} invoices {{ {invoice} }}
        destination {{ address {{ city state }} }}
        shipments {{ invoiceNumber shippedAt deliveredAt events {{ occurredAt city state description }} }} }} }} }}");
    let body = app.gql(Some(&staff), &query, json!({})).await;
    let node = &body["data"]["orders"]["nodes"][0];
    assert_eq!(node["invoices"], json!([node["invoice"].clone()]), "{body}");
    assert!(node["invoice"]["key"].is_string() && node["invoice"]["series"].is_string(), "{body}");
    assert!(node["invoice"]["issuedAt"].as_str() > node["createdAt"].as_str(), "{body}");
    let shipment = &node["shipments"][0];
    assert_eq!(shipment["invoiceNumber"], node["invoice"]["number"], "{body}");
    let events = shipment["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{body}");
    let times: Vec<&str> = events.iter().map(|e| e["occurredAt"].as_str().unwrap()).collect();
    assert!(times[0] == shipment["shippedAt"].as_str().unwrap() && times[0] < times[1] && times[1] < times[2], "{body}");
    assert_eq!(times[2], shipment["deliveredAt"].as_str().unwrap(), "{body}");
    assert!(events[0]["city"].is_string() && events[0]["state"].is_string() && events[1]["city"].is_null(), "{body}");
    assert_eq!((&events[2]["city"], &events[2]["state"]), (&node["destination"]["address"]["city"], &node["destination"]["address"]["state"]), "{body}");
}
