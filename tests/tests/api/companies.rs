//! Company creation, validation, integration tokens and listing.

use entities::company;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use tests::{error_code, TestApp};

const CREATE: &str = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id identifier cnpj email active integrationTokenPrefix } integrationToken } }";

fn input(identifier: &str, cnpj: &str) -> Value {
    json!({ "i": { "identifier": identifier, "email": "contact@example.test", "phone": "+55 11 3333-4444", "cnpj": cnpj } })
}

#[tokio::test]
async fn cnpj_formats_and_check_digits_are_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let accepted = [
        ("numeric-formatted", "11.222.333/0001-81", "11.222.333/0001-81"),
        ("numeric-bare", "11222333000181", "11.222.333/0001-81"),
        ("alphanumeric", "12.ABC.345/01DE-35", "12.ABC.345/01DE-35"),
        ("alphanumeric-lower", "12abc34501de35", "12.ABC.345/01DE-35"),
    ];
    for (identifier, cnpj, shown) in accepted {
        let body = app.gql(Some(&admin), CREATE, input(identifier, cnpj)).await;
        assert_eq!(body["data"]["createCompany"]["company"]["cnpj"], shown, "{cnpj}: {body}");
    }
    let rejected = [
        "11.222.333/0001-82", // wrong second check digit
        "11.222.333/0001-91", // wrong first check digit
        "12.ABC.345/01DE-36", // alphanumeric, wrong check digit
        "1122233300018",      // too short
        "112223330001811",    // too long
        "112223330001A1",     // letter among the check digits
        "00000000000000",     // repeated digit
        "11 222 333 0001 8!", // stray character
    ];
    for (n, cnpj) in rejected.iter().enumerate() {
        let body = app.gql(Some(&admin), CREATE, input(&format!("bad-{n}"), cnpj)).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{cnpj} should be rejected: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "cnpj");
    }
    // Nothing was half-written by the rejected calls.
    assert_eq!(company::Entity::find().all(&app.db).await.unwrap().len(), accepted.len());
}

#[tokio::test]
async fn identifier_email_and_phone_are_validated_and_identifiers_are_unique() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut bad_email = input("acme", "11222333000181");
    bad_email["i"]["email"] = json!("not-an-email");
    let body = app.gql(Some(&admin), CREATE, bad_email).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "email");
    let mut bad_phone = input("acme", "11222333000181");
    bad_phone["i"]["phone"] = json!("12");
    let body = app.gql(Some(&admin), CREATE, bad_phone).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "phone");
    let body = app.gql(Some(&admin), CREATE, input("Acme Co!", "11222333000181")).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "identifier");

    let first = app.gql(Some(&admin), CREATE, input("acme", "11222333000181")).await;
    assert_eq!(first["data"]["createCompany"]["company"]["identifier"], "acme");
    let again = app.gql(Some(&admin), CREATE, input("ACME", "11222333000181")).await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    assert!(again["errors"][0]["message"].as_str().is_some_and(|m| m.contains("identifier acme")), "names the identifier: {again}");
    // Concurrent creations of one identifier: the unique index lets one through.
    let tries = futures::future::join_all((0..4).map(|_| app.gql(Some(&admin), CREATE, input("beta", "11222333000181")))).await;
    let created = tries.iter().filter(|b| b["data"]["createCompany"].is_object()).count();
    assert_eq!(created, 1, "{tries:?}");
    assert!(tries.iter().filter(|b| !b["data"]["createCompany"].is_object()).all(|b| error_code(b) == Some("CONFLICT")), "{tries:?}");
}

#[tokio::test]
async fn the_integration_token_is_shown_once_stored_hashed_and_rotates() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = app.gql(Some(&admin), CREATE, input("acme", "11222333000181")).await;
    let created = &body["data"]["createCompany"];
    let token = created["integrationToken"].as_str().unwrap().to_owned();
    let id = created["company"]["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("rst_") && token.len() > 40, "{token}");
    assert!(token.starts_with(created["company"]["integrationTokenPrefix"].as_str().unwrap()));

    // Only a hash is stored.
    let stored = company::Entity::find_by_id(id.parse::<i32>().unwrap()).one(&app.db).await.unwrap().unwrap();
    assert_ne!(stored.integration_token_hash, token);
    assert!(!format!("{stored:?}").contains(&token));
    // No query returns it again.
    let read = app.gql(Some(&admin), "query($id: ID!) { company(id: $id) { id identifier integrationTokenPrefix } }", json!({ "id": id })).await;
    assert!(!read.to_string().contains(&token));

    let actor = domain::companies::authenticate_integration(&app.ctx, &token).await.unwrap();
    assert_eq!(actor.company_id(), Some(stored.id));

    let rotated = app
        .gql(Some(&admin), "mutation($id: ID!) { rotateIntegrationToken(companyId: $id) { integrationToken } }", json!({ "id": id }))
        .await;
    let new_token = rotated["data"]["rotateIntegrationToken"]["integrationToken"].as_str().unwrap();
    assert_ne!(new_token, token);
    assert!(domain::companies::authenticate_integration(&app.ctx, &token).await.is_err(), "the old token must stop working");
    assert!(domain::companies::authenticate_integration(&app.ctx, new_token).await.is_ok());
}

#[tokio::test]
async fn companies_are_listed_in_pages_with_a_total_count() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for n in 0..5 {
        app.create_company(&admin, &format!("company-{n}")).await;
    }
    let query = "query($first: Int, $after: String) { companies(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { identifier } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app.gql(Some(&admin), query, json!({ "first": 2, "after": after })).await;
        let page = &body["data"]["companies"];
        assert_eq!(page["totalCount"], 5);
        for edge in page["edges"].as_array().unwrap() {
            seen.push(edge["node"]["identifier"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, (0..5).map(|n| format!("company-{n}")).collect::<Vec<_>>());

    for first in [0, 101, -1] {
        let body = app.gql(Some(&admin), query, json!({ "first": first })).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "first = {first}");
    }
    let body = app.gql(Some(&admin), query, json!({ "after": "bogus" })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
}

/// Only a taken identifier is a conflict: an insert the database refuses for
/// any other reason (here a trigger) is an internal error, not `CONFLICT`.
#[tokio::test]
async fn a_company_the_database_refuses_otherwise_is_an_internal_error() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let refusal: &[&str] = if tests::on_postgres() {
        &[
            "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$",
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON companies FOR EACH ROW WHEN (NEW.identifier = 'boom') EXECUTE FUNCTION refuse_boom()",
        ]
    } else {
        &["CREATE TRIGGER refuse_boom BEFORE INSERT ON companies WHEN NEW.identifier = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END"]
    };
    for sql in refusal {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    let body = app.gql(Some(&admin), CREATE, input("boom", "11222333000181")).await;
    assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
    let body = app.gql(Some(&admin), CREATE, input("fine", "11222333000181")).await;
    assert!(body["data"]["createCompany"].is_object(), "{body}");
}
