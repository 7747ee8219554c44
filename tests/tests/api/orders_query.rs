//! Listing orders: filters, sorting, pages, customer scoping, and a constant
//! number of SQL statements for a nested page.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tests::{error_code, TestApp};

const LIST: &str = "query($first: Int!, $after: String, $f: OrderFilterInput, $s: OrderSortInput) {
  orders(first: $first, after: $after, filter: $f, sort: $s) { totalCount pageInfo { hasNextPage endCursor } edges { node { sourceId status total } } } }";

fn source_ids(body: &Value) -> Vec<String> {
    body["data"]["orders"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["sourceId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn filters_sorting_and_cursor_pages_work_together() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    for n in 1..=7 {
        let status = if n % 2 == 0 { "INVOICED" } else { "APPROVED" };
        app.create_order(&t.staff, &format!("ACME-{n}"), &t.destination, Some(status)).await;
    }
    let special = app
        .gql(
            Some(&t.staff),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "sourceId": "SPECIAL-1", "code": "#SPECIAL", "customerName": "João Lima", "destinationLocalityId": t.destination,
                "items": [{ "sourceId": "1", "productId": "SKU-LAMP", "name": "Luminária LED", "quantity": 1, "unitPrice": "89.90" }] } }),
        )
        .await;
    assert!(special["data"]["createOrder"]["id"].is_string(), "{special}");

    let all = app.gql(Some(&t.staff), LIST, json!({ "first": 100 })).await;
    assert_eq!(all["data"]["orders"]["totalCount"], 8);
    let by = |f: Value| app.gql(Some(&t.staff), LIST, json!({ "first": 100, "f": f }));
    assert_eq!(source_ids(&by(json!({ "code": "special" })).await), ["SPECIAL-1"]);
    assert_eq!(source_ids(&by(json!({ "product": "lumin" })).await), ["SPECIAL-1"]);
    assert_eq!(source_ids(&by(json!({ "product": "sku-lamp" })).await), ["SPECIAL-1"]);
    assert_eq!(source_ids(&by(json!({ "customerName": "joão" })).await), ["SPECIAL-1"]);
    assert_eq!(by(json!({ "statuses": ["INVOICED"] })).await["data"]["orders"]["totalCount"], 3);
    assert_eq!(source_ids(&by(json!({ "maxTotal": "100" })).await), ["SPECIAL-1"]);
    assert_eq!(by(json!({ "minTotal": "100.00", "statuses": ["APPROVED"] })).await["data"]["orders"]["totalCount"], 4);
    assert_eq!(by(json!({ "localityId": t.origin })).await["data"]["orders"]["totalCount"], 0);
    assert_eq!(by(json!({ "createdFrom": "2000-01-01T00:00:00Z", "createdTo": "2000-01-02T00:00:00Z" })).await["data"]["orders"]["totalCount"], 0);
    // A literal % is not a wildcard.
    assert_eq!(by(json!({ "code": "%" })).await["data"]["orders"]["totalCount"], 0);
    let bad_range = by(json!({ "minTotal": "10", "maxTotal": "5" })).await;
    assert_eq!(error_code(&bad_range), Some("VALIDATION"));

    // Walk all pages sorted by total ascending: every order once, in order.
    let sort = json!({ "field": "TOTAL", "direction": "ASC" });
    let (mut seen, mut totals, mut after) = (Vec::new(), Vec::new(), Value::Null);
    loop {
        let page = app.gql(Some(&t.staff), LIST, json!({ "first": 3, "after": after, "s": sort })).await;
        let orders = &page["data"]["orders"];
        for edge in orders["edges"].as_array().unwrap() {
            seen.push(edge["node"]["sourceId"].as_str().unwrap().to_owned());
            totals.push(edge["node"]["total"].as_str().unwrap().parse::<f64>().unwrap());
        }
        if orders["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = orders["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 8);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 8, "no order twice");
    assert!(totals.windows(2).all(|w| w[0] <= w[1]), "{totals:?}");

    // A cursor from another sort order is refused.
    let page = app.gql(Some(&t.staff), LIST, json!({ "first": 3, "s": sort })).await;
    let cursor = page["data"]["orders"]["pageInfo"]["endCursor"].clone();
    let same = app.gql(Some(&t.staff), LIST, json!({ "first": 3, "after": cursor, "s": sort })).await;
    assert_eq!(same["data"]["orders"]["edges"].as_array().map(Vec::len), Some(3), "the cursor works with its own sort: {same}");
    let mixed = app.gql(Some(&t.staff), LIST, json!({ "first": 3, "after": cursor, "s": { "field": "CODE", "direction": "ASC" } })).await;
    assert_eq!(error_code(&mixed), Some("VALIDATION"), "{mixed}");
    assert!(mixed["errors"][0]["message"].as_str().unwrap_or_default().contains("after"), "the cursor is what is refused: {mixed}");
    let too_many = app.gql(Some(&t.staff), LIST, json!({ "first": 101 })).await;
    assert_eq!(error_code(&too_many), Some("VALIDATION"));

    let by_source = app.gql(Some(&t.staff), "{ orderBySourceId(sourceId: \"SPECIAL-1\") { code } }", json!({})).await;
    assert_eq!(by_source["data"]["orderBySourceId"]["code"], "#SPECIAL");
}

#[tokio::test]
async fn customers_see_only_their_orders_and_visible_history() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = app.tenant(&admin, "acme").await;
    let other_store = app.create_locality(&acme.staff, "STORE-2", "DESTINATION", Some("someone@else.test")).await;
    let mine = app.create_order(&acme.staff, "MINE", &acme.destination, Some("APPROVED")).await;
    let theirs = app.create_order(&acme.staff, "THEIRS", &other_store, Some("APPROVED")).await;
    app.gql(Some(&acme.staff), "mutation($id: ID!) { addOrderComment(id: $id, comment: \"internal note\", visibleToCustomer: false) { applied } }", json!({ "id": mine })).await;
    app.gql(Some(&acme.staff), "mutation($id: ID!) { addOrderComment(id: $id, comment: \"on its way soon\") { applied } }", json!({ "id": mine })).await;

    let customer = app.customer(&acme.id, "acme", &acme.customer_email()).await;
    // `sourceId` is staff-only (see customer_view.rs): customers list by code.
    let list = app.gql(Some(&customer), "{ orders(first: 10) { edges { node { code } } } }", json!({})).await;
    let codes: Vec<&Value> = list["data"]["orders"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]["code"]).collect();
    assert_eq!(codes, [&json!("#MINE")], "{list}");
    let order = app.gql(Some(&customer), "query($id: ID!) { order(id: $id) { history { comment } destination { name } } }", json!({ "id": mine })).await;
    let comments: Vec<&Value> = order["data"]["order"]["history"].as_array().unwrap().iter().map(|h| &h["comment"]).collect();
    assert!(comments.contains(&&json!("on its way soon")));
    assert!(!comments.contains(&&json!("internal note")), "{order}");
    assert_eq!(order["data"]["order"]["destination"]["name"], "Locality STORE-1");

    let other = app.gql(Some(&customer), "query($id: ID!) { order(id: $id) { id } }", json!({ "id": theirs })).await;
    assert_eq!(error_code(&other), Some("NOT_FOUND"));
    let write = app.gql(Some(&customer), "mutation($id: ID!) { cancelOrder(id: $id) { applied } }", json!({ "id": mine })).await;
    assert_eq!(error_code(&write), Some("FORBIDDEN"));

    // A second company's staff sees none of it, exactly as for a missing id.
    let beta = app.tenant(&admin, "beta").await;
    let foreign = app.gql(Some(&beta.staff), "query($id: ID!) { order(id: $id) { id code } }", json!({ "id": mine })).await;
    let missing = app.gql(Some(&beta.staff), "query($id: ID!) { order(id: $id) { id code } }", json!({ "id": "999999" })).await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"));
    let message = |body: &Value, id: &str| body["errors"][0]["message"].as_str().unwrap().replace(id, "X");
    assert_eq!(message(&foreign, &mine), message(&missing, "999999"));
    assert!(foreign["data"].is_null());
    let cross_write = app.gql(Some(&beta.staff), "mutation($id: ID!) { cancelOrder(id: $id) { applied } }", json!({ "id": mine })).await;
    assert_eq!(error_code(&cross_write), Some("NOT_FOUND"));
    let beta_list = app.gql(Some(&beta.staff), LIST, json!({ "first": 10 })).await;
    assert_eq!(beta_list["data"]["orders"]["totalCount"], 0);
    let cross_locality = app
        .gql(Some(&beta.staff), "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }", json!({ "i": { "sourceId": "B-1", "code": "B", "destinationLocalityId": acme.destination, "items": [{ "sourceId": "1", "productId": "S", "name": "N", "quantity": 1, "unitPrice": "1" }] } }))
        .await;
    assert_eq!(error_code(&cross_locality), Some("VALIDATION"), "another company's locality cannot be used");

    // Admins (support) read everything but change nothing.
    let all = app.gql(Some(&admin), LIST, json!({ "first": 10 })).await;
    assert_eq!(all["data"]["orders"]["totalCount"], 2);
    let admin_write = app.gql(Some(&admin), "mutation($id: ID!) { cancelOrder(id: $id) { applied } }", json!({ "id": mine })).await;
    assert_eq!(error_code(&admin_write), Some("FORBIDDEN"));
}

const NESTED: &str = "query($first: Int!) { orders(first: $first) { totalCount edges { node {
  id code status total invoice { number } address { city }
  destination { name responsible { email } }
  items { sku: productId name quantity unitPrice }
  classifications { key value } attributes { key value }
  history { fromStatus toStatus comment occurredAt }
  shipments { carrier trackingNumber }
  refunds { amount } } } } }";

#[tokio::test]
async fn a_nested_page_runs_a_constant_number_of_statements() {
    // No mail worker: its polling would add statements to the count; and
    // every request checks its token (the check a moment ago would answer
    // for it, depending on the time between requests).
    let app = TestApp::spawn_with(|c| {
        c.run_mail_worker = false;
        c.limits.token_recheck = std::time::Duration::ZERO;
    })
    .await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let second = app.create_locality(&t.staff, "STORE-2", "BOTH", Some("b@acme.test")).await;
    for n in 0..55 {
        let destination = if n % 2 == 0 { &t.destination } else { &second };
        let id = app.create_order(&t.staff, &format!("ACME-{n}"), destination, Some("INVOICED")).await;
        app.gql(
            Some(&t.staff),
            "mutation($id: ID!) { addShipment(id: $id, shipment: { carrier: \"Jadlog\", trackingNumber: \"JD1\" }) { applied } }",
            json!({ "id": id }),
        )
        .await;
    }
    let mut counts = Vec::new();
    for first in [5, 50] {
        let before = app.statements_run().await;
        let body = app.gql(Some(&t.staff), NESTED, json!({ "first": first })).await;
        let after = app.statements_run().await;
        assert!(body["errors"].is_null(), "{body}");
        let edges = body["data"]["orders"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first);
        assert!(edges.iter().all(|e| e["node"]["items"].as_array().unwrap().len() == 2));
        assert!(edges.iter().all(|e| e["node"]["history"].as_array().unwrap().len() == 2));
        assert!(edges.iter().all(|e| e["node"]["shipments"].as_array().unwrap().len() == 1));
        counts.push(after - before);
    }
    // Authentication 1, the page with every list it asks for and its count 1:
    // the same for 5 orders as for 50.
    assert_eq!(counts[0], counts[1], "statement count grows with the page: {counts:?}");
    assert_eq!(counts[1], 2, "{counts:?}");
    // Without the count, the same.
    let before = app.statements_run().await;
    let body = app.gql(Some(&t.staff), &NESTED.replace("totalCount", ""), json!({ "first": 50 })).await;
    let uncounted = app.statements_run().await - before;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(uncounted, counts[1], "{counts:?}");
    // A second bound is a count of its own.
    let before = app.statements_run().await;
    let body = app.gql(Some(&t.staff), &NESTED.replace("totalCount", "totalCount other: totalCount(upTo: 7)"), json!({ "first": 50 })).await;
    assert_eq!(app.statements_run().await - before, counts[1] + 1, "{body}");
    assert_eq!([&body["data"]["orders"]["totalCount"], &body["data"]["orders"]["other"]], [&json!(55), &json!(7)], "{body}");
    // A count the selection skips is not the one read with the page
    // (async-graphql drops skipped fields before the look-ahead sees them).
    let skipping = NESTED.replace("totalCount", "totalCount(upTo: 5) @skip(if: true) other: totalCount(upTo: 7) @include(if: true)");
    let before = app.statements_run().await;
    let body = app.gql(Some(&t.staff), &skipping, json!({ "first": 50 })).await;
    assert_eq!(app.statements_run().await - before, counts[1], "{body}");
    assert_eq!(body["data"]["orders"]["other"], 7, "{body}");
    assert!(body["data"]["orders"].get("totalCount").is_none(), "{body}");
    // Through `nodes` as through `edges`.
    let through_nodes = NESTED.replace("edges { node {", "nodes {").replace("} } } } }", "} } } }");
    let before = app.statements_run().await;
    let body = app.gql(Some(&t.staff), &through_nodes, json!({ "first": 50 })).await;
    assert_eq!(app.statements_run().await - before, counts[1], "{body}");
    assert_eq!(body["data"]["orders"]["nodes"][0]["shipments"].as_array().map(Vec::len), Some(1), "{body}");
    let body = app.gql(Some(&t.staff), &NESTED.replace("totalCount", ""), json!({ "first": 50 })).await;
    // One order with every list: authentication and one statement.
    let id = &body["data"]["orders"]["edges"][0]["node"]["id"];
    let one = NESTED.replace("orders(first: $first) { totalCount edges { node {", "order(id: $id) {").replace("} } } } }", "} } }");
    let before = app.statements_run().await;
    let body = app.gql(Some(&t.staff), &one.replace("$first: Int!", "$id: ID!"), json!({ "id": id })).await;
    assert_eq!(app.statements_run().await - before, 2, "{body}");
    assert_eq!(body["data"]["order"]["items"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(body["data"]["order"]["shipments"].as_array().map(Vec::len), Some(1), "{body}");
    assert!(body["data"]["order"]["destination"]["name"].is_string(), "{body}");
}

#[tokio::test]
async fn a_total_count_stops_at_its_bound() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    for n in 0..5 {
        app.create_order(&t.staff, &format!("ACME-{n}"), &t.destination, None).await;
    }
    let counted = app
        .gql(
            Some(&t.staff),
            "{ orders(first: 1) { totalCount below: totalCount(upTo: 3) at: totalCount(upTo: 5) over: totalCount(upTo: 6)
               most: totalCount(upTo: 1000000) edges { node { code } } } }",
            json!({}),
        )
        .await;
    let orders = &counted["data"]["orders"];
    assert_eq!(
        [&orders["totalCount"], &orders["below"], &orders["at"], &orders["over"], &orders["most"]],
        [&json!(5), &json!(3), &json!(5), &json!(5), &json!(5)],
        "{counted}"
    );
    // A bound given by a variable, and by a variable's default.
    let variable = app.gql(Some(&t.staff), "query($n: Int!) { orders(first: 1) { totalCount(upTo: $n) edges { node { code } } } }", json!({ "n": 3 })).await;
    assert_eq!(variable["data"]["orders"]["totalCount"], 3, "{variable}");
    let default = app.gql(Some(&t.staff), "query($n: Int = 4) { orders(first: 1) { totalCount(upTo: $n) edges { node { code } } } }", json!({})).await;
    assert_eq!(default["data"]["orders"]["totalCount"], 4, "{default}");
    // A page past the last order is empty and still counts what matches.
    let last = app.gql(Some(&t.staff), "{ orders(first: 5) { pageInfo { endCursor } } }", json!({})).await;
    let past = app
        .gql(
            Some(&t.staff),
            "query($after: String) { orders(first: 2, after: $after) { totalCount pageInfo { hasNextPage } edges { node { code } } } }",
            json!({ "after": last["data"]["orders"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(past["data"]["orders"]["totalCount"], 5, "{past}");
    assert_eq!(past["data"]["orders"]["edges"], json!([]), "{past}");
    assert_eq!(past["data"]["orders"]["pageInfo"]["hasNextPage"], false, "{past}");
    let filtered = app.gql(Some(&t.staff), "{ orders(filter: { code: \"ACME-1\" }) { totalCount(upTo: 2) } }", json!({})).await;
    assert_eq!(filtered["data"]["orders"]["totalCount"], 1, "{filtered}");
    // A range of one value (each order totals 2 × 459.90 + 1,299.00) is a range.
    let exact = app.gql(Some(&t.staff), "{ orders(filter: { minTotal: \"2218.80\", maxTotal: \"2218.80\" }) { totalCount } }", json!({})).await;
    assert_eq!(exact["data"]["orders"]["totalCount"], 5, "{exact}");
    for bound in [0, -1, 1_000_001] {
        let refused = app.gql(Some(&t.staff), "query($n: Int!) { orders { totalCount(upTo: $n) } }", json!({ "n": bound })).await;
        assert_eq!(error_code(&refused), Some("VALIDATION"), "upTo {bound}: {refused}");
    }
}

/// An order's and its line's numbers and times read with the page read back as they were stored, on
/// both databases (SQLite's JSON writes 15 significant digits unless told
/// otherwise, and its `printf` writes NULL as 0.0), and a page read through `nodes` gets its lists as one read
/// through `edges` does.
#[tokio::test]
async fn lists_read_with_the_page_keep_every_digit_through_edges_and_nodes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let quantity = 0.1 + 0.2; // 0.30000000000000004
    let created = app
        .gql(
            Some(&t.staff),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id createdAt } }",
            json!({ "i": { "sourceId": "F-1", "code": "#F", "destinationLocalityId": t.destination,
                "address": { "city": "Campinas", "latitude": 10.0 / 3.0, "longitude": -100.0 / 3.0 },
                "items": [{ "sourceId": "1", "productId": "SKU-F", "name": "Fio", "quantity": quantity, "unitPrice": "1.00", "weight": 1.0 / 3.0 }] } }),
        )
        .await;
    let id = created["data"]["createOrder"]["id"].clone();
    assert!(id.is_string(), "{created}");
    let item = "createdAt address { latitude longitude } items { quantity weight height }";
    let edges = app.gql(Some(&t.staff), &format!("{{ orders {{ edges {{ node {{ {item} }} }} }} }}"), json!({})).await;
    let nodes = app.gql(Some(&t.staff), &format!("{{ orders {{ nodes {{ {item} }} }} }}"), json!({})).await;
    let one = app.gql(Some(&t.staff), &format!("query($id: ID!) {{ order(id: $id) {{ {item} }} }}"), json!({ "id": id })).await;
    // The order's own row is read the same way: its floats and times too.
    for order in [&edges["data"]["orders"]["edges"][0]["node"], &nodes["data"]["orders"]["nodes"][0], &one["data"]["order"]] {
        assert_eq!(order["createdAt"], created["data"]["createOrder"]["createdAt"], "{order}");
        assert_eq!(order["address"]["latitude"].as_f64(), Some(10.0 / 3.0), "{order}");
        assert_eq!(order["address"]["longitude"].as_f64(), Some(-100.0 / 3.0), "{order}");
    }
    for line in [
        &edges["data"]["orders"]["edges"][0]["node"]["items"][0],
        &nodes["data"]["orders"]["nodes"][0]["items"][0],
        &one["data"]["order"]["items"][0],
    ] {
        assert_eq!(line["quantity"].as_f64(), Some(quantity), "{edges} {nodes} {one}");
        assert_eq!(line["weight"].as_f64(), Some(1.0 / 3.0), "{edges} {nodes} {one}");
        assert!(line["height"].is_null(), "{edges} {nodes} {one}");
    }
}

/// The fields of type `name` that take no argument, each with the name of
/// its type when that is an object.
async fn fields_of(app: &TestApp, name: &str) -> Vec<(String, Option<String>)> {
    let query = "query($n: String!) { __type(name: $n) { fields { name args { name }
        type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";
    let answer = app.gql(None, query, json!({ "n": name })).await;
    let mut fields = Vec::new();
    for field in answer["data"]["__type"]["fields"].as_array().unwrap_or_else(|| panic!("{answer}")) {
        if field["args"].as_array().is_some_and(|args| !args.is_empty()) {
            continue;
        }
        let mut kind = &field["type"];
        while kind["name"].is_null() {
            kind = &kind["ofType"];
        }
        let object = (kind["kind"] == "OBJECT").then(|| kind["name"].as_str().unwrap().to_owned());
        fields.push((field["name"].as_str().unwrap().to_owned(), object));
    }
    fields
}

/// The selection of every field of type `name` that takes no argument:
/// scalars by name, objects with their own fields (to `depth` levels).
async fn every_field(app: &TestApp, name: &str, depth: usize) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for (field_name, object) in fields_of(app, name).await {
        match object {
            Some(object) if depth > 0 => {
                let inner = Box::pin(every_field(app, &object, depth - 1)).await;
                let inner: Vec<String> = inner.into_iter().map(|(_, selection)| selection).collect();
                fields.push((field_name.clone(), format!("{field_name} {{ __typename {} }}", inner.join(" "))));
            }
            Some(_) => {}
            None => fields.push((field_name.clone(), field_name)),
        }
    }
    fields
}

/// A page, and one order, read only the order columns their fields need
/// (`Order::columns_of` in the server): every field of `Order`, asked alone,
/// must answer what it answers beside every other, for an order with every
/// field set.
#[tokio::test]
async fn each_field_of_an_order_reads_the_same_alone_as_with_every_other() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let address = json!({ "street": "Rua A", "number": "10", "complement": "ap 2", "district": "Centro", "city": "Campinas",
        "state": "SP", "country": "BR", "zipCode": "13000-000", "latitude": 10.0 / 3.0, "longitude": -100.0 / 3.0 });
    let created = app
        .gql(
            Some(&t.staff),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "sourceId": "E-1", "code": "#E", "customerName": "Ana", "destinationLocalityId": t.destination,
                "address": address, "pickupStart": "2026-01-01T08:00:00Z", "pickupEnd": "2026-01-01T09:00:00Z",
                "deliveryStart": "2026-01-02T08:00:00Z", "deliveryEnd": "2026-01-02T09:00:00Z", "priority": 7, "incoterm": "CIF",
                "reference": "ref", "observations": "obs",
                "items": [{ "sourceId": "1", "productId": "SKU-E", "name": "Eixo", "quantity": 2.0, "unitPrice": "1.50" }],
                "classifications": [{ "key": "k", "value": "v" }], "attributes": [{ "key": "a", "value": "b" }] } }),
        )
        .await;
    let id = created["data"]["createOrder"]["id"].clone();
    assert!(id.is_string(), "{created}");
    let invoiced = app
        .gql(
            Some(&t.staff),
            "mutation($id: ID!) { invoiceOrder(id: $id, invoice: { number: \"NF-1\", key: \"35260112345678000190550010000000011000000015\", series: \"1\", value: \"3.00\",
                issuedAt: \"2026-01-01T10:00:00Z\", url: \"https://nf.example/1\" }) { applied } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(invoiced["data"]["invoiceOrder"]["applied"], true, "{invoiced}");

    let fields = every_field(&app, "Order", 2).await;
    assert!(fields.len() >= 25, "{fields:?}");
    let page = |selection: String| {
        let app = &app;
        let staff = t.staff.clone();
        async move {
            let answer = app.gql(Some(&staff), &format!("{{ orders {{ nodes {{ {selection} }} }} }}"), json!({})).await;
            answer["data"]["orders"]["nodes"][0].clone()
        }
    };
    let every = page(fields.iter().map(|(_, selection)| selection.as_str()).collect::<Vec<_>>().join(" ")).await;
    // The order has every optional column set that a field shows.
    for set in ["customerName", "incoterm", "reference", "observations", "pickupStart", "pickupEnd", "deliveryStart", "deliveryEnd"] {
        assert!(!every[set].is_null(), "{set}: {every}");
    }
    assert_eq!(every["address"]["zipCode"], "13000-000", "{every}");
    assert_eq!(every["invoice"]["url"], "https://nf.example/1", "{every}");
    // One order reads its columns the same way.
    let one = |selection: String| {
        let app = &app;
        let staff = t.staff.clone();
        let id = id.clone();
        async move {
            let answer = app.gql(Some(&staff), &format!("query($id: ID!) {{ order(id: $id) {{ {selection} }} }}"), json!({ "id": id })).await;
            answer["data"]["order"].clone()
        }
    };
    assert_eq!(one(fields.iter().map(|(_, selection)| selection.as_str()).collect::<Vec<_>>().join(" ")).await, every);
    for (name, selection) in &fields {
        let alone = page(selection.clone()).await;
        assert_eq!(alone[name.as_str()], every[name.as_str()], "{name} alone: {alone}");
        let alone = one(selection.clone()).await;
        assert_eq!(alone[name.as_str()], every[name.as_str()], "{name} alone in one order: {alone}");
    }
}

/// The path to every field of type `name` that takes no argument and is not
/// an object, through objects `depth` levels deep.
async fn every_leaf(app: &TestApp, name: &str, depth: usize) -> Vec<Vec<String>> {
    let mut leaves = Vec::new();
    for (field_name, object) in fields_of(app, name).await {
        match object {
            Some(object) if depth > 0 => {
                for mut path in Box::pin(every_leaf(app, &object, depth - 1)).await {
                    path.insert(0, field_name.clone());
                    leaves.push(path);
                }
            }
            Some(_) => {}
            None => leaves.push(vec![field_name]),
        }
    }
    leaves
}

/// The selection that asks for the field at the end of `path`.
fn selection_of(path: &[String]) -> String {
    path.iter().rev().fold(String::new(), |inner, name| if inner.is_empty() { name.clone() } else { format!("{name} {{ {inner} }}") })
}

/// What `answer` holds at `path`, through lists (each element's).
fn at_path(answer: &Value, path: &[String]) -> Value {
    match (answer, path.split_first()) {
        (Value::Array(elements), _) => Value::Array(elements.iter().map(|e| at_path(e, path)).collect()),
        (Value::Object(_), Some((name, rest))) => at_path(&answer[name.as_str()], rest),
        _ => answer.clone(),
    }
}

/// Whether `value` holds anything but nulls and empty lists.
fn holds_a_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(elements) => elements.iter().any(holds_a_value),
        _ => true,
    }
}

/// Each list of an order reads only the columns of its rows that its
/// fields need (`OrderItem::columns_of` and its like in the server): every
/// field of every list's rows, asked alone, answers what it answers beside
/// every other, over the demo's orders, on which each of those fields is set
/// somewhere (or this test could not tell a column left out from one unset).
#[tokio::test]
async fn each_field_of_an_orders_lists_reads_the_same_alone_as_with_every_other() {
    let app = TestApp::spawn().await;
    assert!(domain::demo::load(&app.ctx).await.unwrap());
    let company = domain::demo::logins().into_iter().find(|l| l.role == "company").unwrap();
    let staff = app.login(company.email, company.password, company.company).await;
    // What the demo leaves unset: an item's measures and its source's
    // fields and total, an invoice's link, an event's id, a skipped entry.
    let destination = app.gql(Some(&staff), "{ orders(first: 1) { nodes { destination { id } } } }", json!({})).await;
    let destination = destination["data"]["orders"]["nodes"][0]["destination"]["id"].as_str().expect("a demo destination").to_owned();
    let id = app.create_order(&staff, "EVERY-LIST", &destination, None).await;
    let item = json!({ "sourceId": "M", "productId": "SKU-M", "name": "Medido", "quantity": 3, "unitPrice": "1.00",
        "height": 0.5, "length": 1.5, "width": 2.5, "weight": 3.5 });
    let updated = app
        .gql(Some(&staff), "mutation($id: ID!, $i: UpdateOrderInput!) { updateOrder(id: $id, input: $i) { id } }", json!({ "id": id, "i": { "items": [item] } }))
        .await;
    assert!(updated["errors"].is_null(), "{updated}");
    let measured = entities::order_item::Entity::find()
        .filter(entities::order_item::Column::SourceId.eq("M"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the measured item");
    entities::order_item::Entity::update(entities::order_item::ActiveModel {
        total_cents: Set(Some(299)),
        attributes: Set(Some(r#"{"wrapper": "box"}"#.to_owned())),
        ..measured.into()
    })
    .exec(&app.db)
    .await
    .unwrap();
    for _ in 0..2 {
        let moved = app
            .gql(Some(&staff), r#"mutation($id: ID!) { updateOrderStatus(id: $id, status: APPROVED, eventId: "ev-e") { applied } }"#, json!({ "id": id }))
            .await;
        assert!(moved["errors"].is_null(), "{moved}");
    }
    let invoiced = app
        .gql(Some(&staff), r#"mutation($id: ID!) { invoiceOrder(id: $id, invoice: { number: "NF-E", value: "3.00", url: "https://nf.example/e" }) { applied } }"#, json!({ "id": id }))
        .await;
    assert_eq!(invoiced["data"]["invoiceOrder"]["applied"], true, "{invoiced}");
    let lists = ["items", "history", "shipments", "refunds", "invoices"];
    let leaves: Vec<Vec<String>> =
        every_leaf(&app, "Order", 2).await.into_iter().filter(|path| path.len() > 1 && lists.contains(&path[0].as_str())).collect();
    assert!(leaves.len() >= 40, "{leaves:?}");
    let page = |selection: String| {
        let (app, staff) = (&app, &staff);
        async move {
            let answer = app.gql(Some(staff), &format!("{{ orders(first: 100) {{ nodes {{ id {selection} }} }} }}"), json!({})).await;
            assert!(answer["errors"].is_null(), "{answer}");
            answer["data"]["orders"]["nodes"].clone()
        }
    };
    let one = |id: Value, selection: String| {
        let (app, staff) = (&app, &staff);
        async move {
            let answer = app.gql(Some(staff), &format!("query($id: ID!) {{ order(id: $id) {{ {selection} }} }}"), json!({ "id": id })).await;
            answer["data"]["order"].clone()
        }
    };
    let every = page(leaves.iter().map(|path| selection_of(path)).collect::<Vec<_>>().join(" ")).await;
    let unset: Vec<&Vec<String>> = leaves.iter().filter(|path| !holds_a_value(&at_path(&every, path))).collect();
    assert!(unset.is_empty(), "null wherever asked (set on no order, or never read): {unset:?}");
    // The order with the most rows in its lists, read alone.
    let fullest = every.as_array().unwrap().iter().max_by_key(|order| order.to_string().len()).unwrap();
    for path in &leaves {
        assert_eq!(at_path(&page(selection_of(path)).await, path), at_path(&every, path), "{path:?} alone");
        let alone = one(fullest["id"].clone(), selection_of(path)).await;
        assert_eq!(at_path(&alone, path), at_path(fullest, path), "{path:?} alone in one order");
    }
    // The same order's items read narrow for one field and in full for
    // another of the same request: each answers from its own reading.
    let both = app
        .gql(
            Some(&staff),
            "query($id: ID!) { orders(first: 100) { nodes { items { name } } } order(id: $id) { items { height weight attributes { key } } } }",
            json!({ "id": id }),
        )
        .await;
    let items = &both["data"]["order"]["items"];
    assert_eq!(items[0]["height"], 0.5, "{both}");
    assert_eq!(items[0]["attributes"], json!([{ "key": "wrapper" }]), "{both}");
}
