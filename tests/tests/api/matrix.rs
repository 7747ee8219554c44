//! Every operation × every role × own/other company, with the expected outcome.
//! A company user or customer asking for another company's object must get the
//! same answer as for an id that does not exist, and never the data.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};
use tests::{error_code, TestApp};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Anonymous,
    Admin,
    Company,
    Customer,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Own,
    Other,
    Missing,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Ok,
    Code(&'static str),
}

use Expect::{Code, Ok};

const UNAUTH: Expect = Code("UNAUTHENTICATED");
const FORBID: Expect = Code("FORBIDDEN");
const NOPE: Expect = Code("NOT_FOUND");

/// (operation, [anonymous, admin, company, customer]) for own / other / missing.
/// "Missing" is an id that exists nowhere: a tenant-bound role must see the same
/// answer for another company's object as for it.
const TABLE: &[(&str, Target, [Expect; 4])] = &[
    ("me", Target::Own, [UNAUTH, Ok, Ok, Ok]),
    ("company", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
    ("company", Target::Other, [UNAUTH, Ok, NOPE, FORBID]),
    ("company", Target::Missing, [UNAUTH, NOPE, NOPE, FORBID]),
    ("companies", Target::Own, [UNAUTH, Ok, FORBID, FORBID]),
    ("companyUsers", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
    ("companyUsers", Target::Other, [UNAUTH, Ok, NOPE, FORBID]),
    ("companyUsers", Target::Missing, [UNAUTH, NOPE, NOPE, FORBID]),
    ("createCompany", Target::Own, [UNAUTH, Ok, FORBID, FORBID]),
    ("rotateIntegrationToken", Target::Own, [UNAUTH, Ok, FORBID, FORBID]),
    ("rotateIntegrationToken", Target::Other, [UNAUTH, Ok, FORBID, FORBID]),
    ("deactivateCompany", Target::Own, [UNAUTH, Ok, FORBID, FORBID]),
    ("deactivateCompany", Target::Other, [UNAUTH, Ok, FORBID, FORBID]),
    ("activateCompany", Target::Other, [UNAUTH, Ok, FORBID, FORBID]),
    ("createCompanyUser", Target::Own, [UNAUTH, Ok, FORBID, FORBID]),
    ("createCompanyUser", Target::Other, [UNAUTH, Ok, FORBID, FORBID]),
    ("deactivateUser", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
    ("deactivateUser", Target::Other, [UNAUTH, Ok, NOPE, FORBID]),
    ("deactivateUser", Target::Missing, [UNAUTH, NOPE, NOPE, FORBID]),
    ("activateUser", Target::Other, [UNAUTH, Ok, NOPE, FORBID]),
    // Orders: support reads everything and changes nothing; a customer reads the
    // orders delivered to it.
    ("orders", Target::Own, [UNAUTH, Ok, Ok, Ok]),
    ("order", Target::Own, [UNAUTH, Ok, Ok, Ok]),
    ("order", Target::Other, [UNAUTH, Ok, NOPE, NOPE]),
    ("order", Target::Missing, [UNAUTH, NOPE, NOPE, NOPE]),
    ("addOrderComment", Target::Own, [UNAUTH, FORBID, Ok, FORBID]),
    ("addOrderComment", Target::Other, [UNAUTH, FORBID, NOPE, FORBID]),
    ("addOrderComment", Target::Missing, [UNAUTH, FORBID, NOPE, FORBID]),
    ("createOrder", Target::Own, [UNAUTH, FORBID, Ok, FORBID]),
    ("localities", Target::Own, [UNAUTH, FORBID, Ok, FORBID]),
    ("createLocality", Target::Own, [UNAUTH, FORBID, Ok, FORBID]),
    ("smtpSettings", Target::Own, [UNAUTH, FORBID, Ok, FORBID]),
    ("orderNotifications", Target::Own, [UNAUTH, FORBID, Ok, FORBID]),
    ("orderNotifications", Target::Other, [UNAUTH, FORBID, NOPE, FORBID]),
    // The integrations log: the company's own; support sees every company's.
    ("integrationRuns", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
    ("integrationRun", Target::Missing, [UNAUTH, NOPE, NOPE, FORBID]),
    ("integrationMonitor", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
    ("reprocessIntegrationRun", Target::Missing, [UNAUTH, FORBID, NOPE, FORBID]),
    ("auditLog", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
    // LGPD: the company for its own, support for any. Last, as they erase
    // what the rows above use; the customer row names an e-mail nobody has.
    ("anonymizeCustomer", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
    ("anonymizeCustomer", Target::Other, [UNAUTH, Ok, NOPE, FORBID]),
    ("anonymizeCustomer", Target::Missing, [UNAUTH, NOPE, NOPE, FORBID]),
    ("anonymizeLocality", Target::Other, [UNAUTH, Ok, NOPE, FORBID]),
    ("anonymizeLocality", Target::Missing, [UNAUTH, NOPE, NOPE, FORBID]),
    ("anonymizeLocality", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
    ("anonymizeOrder", Target::Other, [UNAUTH, Ok, NOPE, FORBID]),
    ("anonymizeOrder", Target::Missing, [UNAUTH, NOPE, NOPE, FORBID]),
    ("anonymizeOrder", Target::Own, [UNAUTH, Ok, Ok, FORBID]),
];

struct World {
    app: TestApp,
    admin: String,
    company_token: String,
    customer_token: String,
    own_company: String,
    other_company: String,
    own_staff: String,
    other_staff: String,
    own_order: String,
    other_order: String,
    own_destination: String,
    other_destination: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn operation(world: &World, name: &str, target: Target) -> (String, Value) {
    let company = match target {
        Target::Own => world.own_company.clone(),
        Target::Other => world.other_company.clone(),
        Target::Missing => "999999".into(),
    };
    let user = match target {
        Target::Own => world.own_staff.clone(),
        Target::Other => world.other_staff.clone(),
        Target::Missing => "999999".into(),
    };
    let order = match target {
        Target::Own => world.own_order.clone(),
        Target::Other => world.other_order.clone(),
        Target::Missing => "999999".into(),
    };
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let (query, vars) = match name {
        "me" => ("{ me { id email } }", json!({})),
        "company" => ("query($id: ID!) { company(id: $id) { id identifier email } }", json!({ "id": company })),
        "companies" => ("{ companies { totalCount edges { node { id identifier } } } }", json!({})),
        "companyUsers" => ("query($id: ID!) { companyUsers(companyId: $id) { id email } }", json!({ "id": company })),
        "createCompany" => (
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } integrationToken } }",
            json!({ "i": { "identifier": format!("matrix-{n}"), "email": "m@example.test", "phone": "+55 11 3333-4444", "cnpj": "11222333000181" } }),
        ),
        "rotateIntegrationToken" => {
            ("mutation($id: ID!) { rotateIntegrationToken(companyId: $id) { integrationToken } }", json!({ "id": company }))
        }
        "deactivateCompany" => ("mutation($id: ID!) { deactivateCompany(id: $id) { id active } }", json!({ "id": company })),
        "activateCompany" => ("mutation($id: ID!) { activateCompany(id: $id) { id active } }", json!({ "id": company })),
        "createCompanyUser" => (
            "mutation($i: CreateCompanyUserInput!) { createCompanyUser(input: $i) { user { id } temporaryPassword } }",
            json!({ "i": { "companyId": company, "email": format!("matrix{n}@example.test"), "name": "M" } }),
        ),
        "deactivateUser" => ("mutation($id: ID!) { deactivateUser(id: $id) { id active } }", json!({ "id": user })),
        "activateUser" => ("mutation($id: ID!) { activateUser(id: $id) { id active } }", json!({ "id": user })),
        "orders" => ("{ orders(first: 5) { totalCount edges { node { code } } } }", json!({})),
        "order" => ("query($id: ID!) { order(id: $id) { code history { toStatus } } }", json!({ "id": order })),
        "addOrderComment" => {
            ("mutation($id: ID!) { addOrderComment(id: $id, comment: \"matrix\") { applied } }", json!({ "id": order }))
        }
        "createOrder" => (
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "sourceId": format!("M-{n}"), "code": "M", "destinationLocalityId": world.own_destination,
                "items": [{ "sourceId": "1", "productId": "S", "name": "N", "quantity": 1, "unitPrice": "1" }] } }),
        ),
        "localities" => ("{ localities { totalCount } }", json!({})),
        "createLocality" => (
            "mutation($i: LocalityInput!) { createLocality(input: $i) { id } }",
            json!({ "i": { "sourceId": format!("L-{n}"), "name": "L", "logisticRole": "ORIGIN" } }),
        ),
        "smtpSettings" => ("{ smtpSettings { host } }", json!({})),
        "orderNotifications" => ("query($id: ID!) { orderNotifications(orderId: $id) { id } }", json!({ "id": order })),
        "integrationRuns" => ("{ integrationRuns(first: 5) { totalCount edges { node { id outcome } } } }", json!({})),
        "integrationRun" => ("query($id: ID!) { integrationRun(id: $id) { id items { outcome } } }", json!({ "id": "999999" })),
        "integrationMonitor" => ("{ integrationMonitor { adapter operation last24h { success } } }", json!({})),
        "auditLog" => ("{ auditLog(first: 5) { totalCount edges { node { action } } } }", json!({})),
        "anonymizeCustomer" => (
            "mutation($c: ID) { anonymizeCustomer(email: \"nobody@own.test\", companyId: $c) { orders accounts } }",
            json!({ "c": company }),
        ),
        "anonymizeLocality" => {
            let locality = match target {
                Target::Own => world.own_destination.clone(),
                Target::Other => world.other_destination.clone(),
                Target::Missing => "999999".into(),
            };
            ("mutation($id: ID!) { anonymizeLocality(id: $id) { localities } }", json!({ "id": locality }))
        }
        "anonymizeOrder" => ("mutation($id: ID!) { anonymizeOrder(id: $id) { orders } }", json!({ "id": order })),
        "reprocessIntegrationRun" => {
            ("mutation($id: ID!) { reprocessIntegrationRun(id: $id) { run { id } } }", json!({ "id": "999999" }))
        }
        other => panic!("unknown operation {other}"),
    };
    (query.to_owned(), vars)
}

/// Puts back what a successful destructive operation changed. Deactivation
/// retires tokens, so the tenant-bound roles log in again.
async fn restore(world: &mut World) {
    for company in [&world.own_company, &world.other_company] {
        world.app.gql(Some(&world.admin), "mutation($id: ID!) { activateCompany(id: $id) { id } }", json!({ "id": company })).await;
    }
    for user in [&world.own_staff, &world.other_staff] {
        world.app.gql(Some(&world.admin), "mutation($id: ID!) { activateUser(id: $id) { id } }", json!({ "id": user })).await;
    }
    world.company_token = world.app.login("staff@own.test", tests::PASSWORD, Some("own")).await;
    world.customer_token = world.app.login("customer@own.test", tests::PASSWORD, Some("own")).await;
}

/// What the admin sees of an operation's target: company active flag and token
/// prefix, the target user's active flag, and whether the target order and its
/// destination were anonymized.
async fn target_state(world: &World, target: Target) -> Value {
    let (company, user, order) = match target {
        Target::Own => (&world.own_company, &world.own_staff, &world.own_order),
        Target::Other => (&world.other_company, &world.other_staff, &world.other_order),
        Target::Missing => return Value::Null,
    };
    let body = world
        .app
        .gql(
            Some(&world.admin),
            "query($id: ID!, $order: ID!) { company(id: $id) { active integrationTokenPrefix } companyUsers(companyId: $id) { id active }
              order(id: $order) { anonymizedAt customerName destination { anonymizedAt } } }",
            json!({ "id": company, "order": order }),
        )
        .await;
    let user_active = body["data"]["companyUsers"].as_array().unwrap().iter().find(|u| u["id"] == json!(user)).unwrap()["active"].clone();
    json!({ "company": body["data"]["company"], "user": user_active, "order": body["data"]["order"] })
}

/// Activation is only observable on an inactive target: deactivate it first.
async fn prepare(world: &World, name: &str, target: Target) {
    let (company, user) = match target {
        Target::Own => (&world.own_company, &world.own_staff),
        Target::Other => (&world.other_company, &world.other_staff),
        Target::Missing => return,
    };
    match name {
        "activateCompany" => {
            world.app.gql(Some(&world.admin), "mutation($id: ID!) { deactivateCompany(id: $id) { id } }", json!({ "id": company })).await;
        }
        "activateUser" => {
            world.app.gql(Some(&world.admin), "mutation($id: ID!) { deactivateUser(id: $id) { id } }", json!({ "id": user })).await;
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_operation_by_every_role_on_own_and_other_company() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (own_company, _) = app.create_company(&admin, "own").await;
    let (other_company, _) = app.create_company(&admin, "other").await;
    let (company_token, _) = app.company_user(&admin, &own_company, "own", "staff@own.test").await;
    let (_, own_staff) = app.company_user(&admin, &own_company, "own", "second@own.test").await;
    let (_, other_staff) = app.company_user(&admin, &other_company, "other", "staff@other.test").await;
    let customer_token = app.customer(&own_company, "own", "customer@own.test").await;
    let own_destination = app.create_locality(&company_token, "D-1", "DESTINATION", Some("customer@own.test")).await;
    let own_order = app.create_order(&company_token, "OWN-1", &own_destination, None).await;
    let (other_token, _) = app.company_user(&admin, &other_company, "other", "boss@other.test").await;
    let other_destination = app.create_locality(&other_token, "D-1", "DESTINATION", Some("customer@own.test")).await;
    let other_order = app.create_order(&other_token, "OTHER-1", &other_destination, None).await;
    let mut world = World {
        app,
        admin,
        company_token,
        customer_token,
        own_company,
        other_company,
        own_staff,
        other_staff,
        own_order,
        other_order,
        own_destination,
        other_destination,
    };

    let mut failures = Vec::new();
    for (name, target, expectations) in TABLE {
        for (role, expected) in [Role::Anonymous, Role::Admin, Role::Company, Role::Customer].into_iter().zip(expectations) {
            let token = match role {
                Role::Anonymous => None,
                Role::Admin => Some(world.admin.as_str()),
                Role::Company => Some(world.company_token.as_str()),
                Role::Customer => Some(world.customer_token.as_str()),
            };
            let token = token.map(str::to_owned);
            prepare(&world, name, *target).await;
            let before = target_state(&world, *target).await;
            let (query, vars) = operation(&world, name, *target);
            let body = world.app.gql(token.as_deref(), &query, vars).await;
            let got = match error_code(&body) {
                None if body["data"].is_object() => Ok,
                None => Code("NO DATA"),
                Some(code) => {
                    // Whatever the error, no data leaks with it.
                    if !body["data"].is_null() {
                        failures.push(format!("{role:?} {name} {target:?}: data returned with an error: {body}"));
                    }
                    Code(match code {
                        "UNAUTHENTICATED" => "UNAUTHENTICATED",
                        "FORBIDDEN" => "FORBIDDEN",
                        "NOT_FOUND" => "NOT_FOUND",
                        _ => "OTHER",
                    })
                }
            };
            if got != *expected {
                failures.push(format!("{role:?} {name} {target:?}: expected {expected:?}, got {got:?}: {body}"));
            }
            // A refused operation changed nothing.
            if got != Ok && target_state(&world, *target).await != before {
                failures.push(format!("{role:?} {name} {target:?}: refused, yet the target changed"));
            }
            restore(&mut world).await;
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn another_companys_object_looks_exactly_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (own, _) = app.create_company(&admin, "own").await;
    let (other, _) = app.create_company(&admin, "other").await;
    let (token, _) = app.company_user(&admin, &own, "own", "staff@own.test").await;
    let query = "query($id: ID!) { company(id: $id) { id identifier } }";
    let existing = app.gql(Some(&token), query, json!({ "id": other })).await;
    let missing = app.gql(Some(&token), query, json!({ "id": "999999" })).await;
    let shape = |body: &Value, id: &str| body.to_string().replace(id, "ID");
    assert_eq!(shape(&existing, &other), shape(&missing, "999999"));
    assert!(!existing.to_string().contains("other"), "{existing}");
}
