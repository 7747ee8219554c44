//! Localities: create, update, bulk upsert, validation and scoping.

use serde_json::{json, Value};
use tests::{error_code, TestApp};

const CREATE: &str = "mutation($i: LocalityInput!) { createLocality(input: $i) { id sourceId logisticRole address { state latitude } responsible { email } } }";

fn locality(source_id: &str) -> Value {
    json!({ "sourceId": source_id, "name": "Loja Centro", "logisticRole": "DESTINATION",
        "address": { "street": "Rua XV", "city": "Curitiba", "state": "pr", "country": "br", "latitude": -25.43, "longitude": -49.27 },
        "responsible": { "name": "Ana", "email": "Ana@Example.test", "phone": "+55 41 99999-0000" } })
}

#[tokio::test]
async fn localities_are_created_validated_and_updated() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let body = app.gql(Some(&t.staff), CREATE, json!({ "i": locality("L-1") })).await;
    let created = &body["data"]["createLocality"];
    assert_eq!(created["address"]["state"], "PR", "{body}");
    assert_eq!(created["responsible"]["email"], "ana@example.test");

    let duplicate = app.gql(Some(&t.staff), CREATE, json!({ "i": locality("L-1") })).await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"));

    let cases = [
        ("latitude", json!({ "latitude": -91.0, "longitude": 0.0 })),
        ("longitude", json!({ "latitude": 0.0, "longitude": 180.5 })),
        ("longitude", json!({ "latitude": 10.0 })),
        ("state", json!({ "state": "Paraná" })),
    ];
    for (field, address) in cases {
        let mut input = locality("L-2");
        input["address"] = address;
        let body = app.gql(Some(&t.staff), CREATE, json!({ "i": input })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let mut bad_email = locality("L-2");
    bad_email["responsible"]["email"] = json!("nope");
    let body = app.gql(Some(&t.staff), CREATE, json!({ "i": bad_email })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "responsible.email");

    let id = created["id"].as_str().unwrap();
    let mut changed = locality("L-1");
    changed["name"] = json!("Loja Batel");
    changed["logisticRole"] = json!("BOTH");
    let updated = app
        .gql(Some(&t.staff), "mutation($id: ID!, $i: LocalityInput!) { updateLocality(id: $id, input: $i) { name logisticRole } }", json!({ "id": id, "i": changed }))
        .await;
    assert_eq!(updated["data"]["updateLocality"], json!({ "name": "Loja Batel", "logisticRole": "BOTH" }));

    // Another company cannot see or change it, and gets what a missing id gets.
    let beta = app.tenant(&admin, "beta").await;
    let read = app.gql(Some(&beta.staff), "query($id: ID!) { locality(id: $id) { name } }", json!({ "id": id })).await;
    assert_eq!(error_code(&read), Some("NOT_FOUND"));
    let write = app
        .gql(Some(&beta.staff), "mutation($id: ID!, $i: LocalityInput!) { updateLocality(id: $id, input: $i) { name } }", json!({ "id": id, "i": locality("X") }))
        .await;
    assert_eq!(error_code(&write), Some("NOT_FOUND"));
    let customer = app.customer(&t.id, "acme", &t.customer_email()).await;
    let listed = app.gql(Some(&customer), "{ localities { totalCount } }", json!({})).await;
    assert_eq!(error_code(&listed), Some("FORBIDDEN"));
}

/// Every field of a locality is stored as given (cleaned) and read back:
/// a field left out of the write would read as null.
#[tokio::test]
async fn every_field_of_a_locality_is_stored_and_read_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let input = json!({ "sourceId": "L-9", "name": "Loja Batel", "logisticRole": "BOTH",
        "address": { "street": "Av. Batel", "number": "1868", "complement": "loja 3", "district": "Batel", "city": "Curitiba",
            "state": "PR", "country": "BR", "zipCode": "80420-090", "latitude": -25.44, "longitude": -49.29 },
        "responsible": { "name": "Bruno", "email": "bruno@example.test", "phone": "+55 41 98888-0000" } });
    let created = app.gql(Some(&t.staff), CREATE, json!({ "i": input })).await;
    let id = created["data"]["createLocality"]["id"].clone();
    let query = "query($id: ID!) { locality(id: $id) { sourceId name logisticRole \
        address { street number complement district city state country zipCode latitude longitude } responsible { name email phone } } }";
    let read = app.gql(Some(&t.staff), query, json!({ "id": id })).await;
    assert_eq!(
        read["data"]["locality"],
        json!({ "sourceId": "L-9", "name": "Loja Batel", "logisticRole": "BOTH",
            "address": { "street": "Av. Batel", "number": "1868", "complement": "loja 3", "district": "Batel", "city": "Curitiba",
                "state": "PR", "country": "BR", "zipCode": "80420-090", "latitude": -25.44, "longitude": -49.29 },
            "responsible": { "name": "Bruno", "email": "bruno@example.test", "phone": "+55 41 98888-0000" } }),
        "{read}"
    );
}

#[tokio::test]
async fn bulk_upsert_is_all_or_nothing_and_updates_by_source_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let upsert = "mutation($i: [LocalityInput!]!) { upsertLocalities(input: $i) { sourceId name } }";
    let batch: Vec<Value> = (0..120).map(|n| locality(&format!("B-{n}"))).collect();
    let body = app.gql(Some(&t.staff), upsert, json!({ "i": batch })).await;
    assert_eq!(body["data"]["upsertLocalities"].as_array().map(Vec::len), Some(120), "{body}");

    // A bad entry rejects the whole call, naming it.
    let mut bad: Vec<Value> = (0..3).map(|n| locality(&format!("C-{n}"))).collect();
    bad[2]["address"]["latitude"] = json!(100.0);
    let body = app.gql(Some(&t.staff), upsert, json!({ "i": bad })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "localities[2].latitude");
    let search = app.gql(Some(&t.staff), "{ localities(search: \"C-\") { totalCount } }", json!({})).await;
    assert_eq!(search["data"]["localities"]["totalCount"], 0, "nothing of the refused call was written");

    // Upserting again by source id updates instead of duplicating.
    let mut again = locality("B-7");
    again["name"] = json!("Renamed");
    let body = app.gql(Some(&t.staff), upsert, json!({ "i": [again.clone(), locality("B-200")] })).await;
    assert_eq!(body["data"]["upsertLocalities"][0], json!({ "sourceId": "B-7", "name": "Renamed" }));
    let all = app.gql(Some(&t.staff), "{ localities(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(all["data"]["localities"]["totalCount"], 2 + 121, "two from the tenant set-up, 121 upserted");
    let twice = app.gql(Some(&t.staff), upsert, json!({ "i": [again.clone(), again] })).await;
    assert_eq!(twice["errors"][0]["extensions"]["field"], "localities[1].sourceId");
}
