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

    // A delivered order shows its invoice and its carrier's whole timeline.
    let company = domain::demo::logins().into_iter().find(|l| l.role == "company").unwrap();
    let staff = app.login(company.email, company.password, company.company).await;
    let query = "{ orders(first: 1, filter: { statuses: [DELIVERED] }) { nodes { invoice { number } invoices { number } shipments { deliveredAt events { description } } } } }";
    let body = app.gql(Some(&staff), query, json!({})).await;
    let node = &body["data"]["orders"]["nodes"][0];
    assert_eq!(node["invoices"][0]["number"], node["invoice"]["number"], "{body}");
    assert!(node["shipments"][0]["deliveredAt"].is_string(), "{body}");
    assert_eq!(node["shipments"][0]["events"].as_array().map(Vec::len), Some(3), "{body}");
}
