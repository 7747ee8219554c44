//! The order list's text filters (`code`, `product`, `customerName`) on a
//! table large enough for the text index to decide how they run: a term
//! that finds few rows narrows through the index, one that finds thousands
//! walks the sort order (and its count walks the index). Either way the
//! answer is the `LIKE` rule's: the same orders, the same counts, kept up to
//! date as orders change, and no term is read as search syntax.

use chrono::Utc;
use entities::{order, order_item, OrderStatus};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};
use tests::{error_code, Tenant, TestApp};

const LIST: &str = "query($f: OrderFilterInput, $s: OrderSortInput) {
  orders(first: 5, filter: $f, sort: $s) { totalCount all: totalCount(upTo: 1000000) edges { node { sourceId } } } }";

/// More orders than the index's "few" (2,000), each with one line.
const BULK: usize = 2_100;

/// `BULK` orders of `company`, written straight to the tables (the API would
/// take minutes): codes `#BULK-n`, customer "Bulk Buyer", one line of
/// `SKU-BULK`; every tenth also has the customer name "Rare Person".
async fn bulk_orders(app: &TestApp, company: i32) {
    let now = Utc::now();
    for chunk in (0..BULK).collect::<Vec<_>>().chunks(500) {
        let orders = chunk.iter().map(|n| order::ActiveModel {
            company_id: Set(company),
            source_id: Set(format!("BULK-{n}")),
            code: Set(format!("#BULK-{n}")),
            status: Set(OrderStatus::Received),
            customer_status: Set(OrderStatus::Received),
            customer_name: Set(Some(if n % 10 == 0 { "Rare Person".into() } else { "Bulk Buyer".into() })),
            priority: Set(0),
            total_cents: Set(1_000),
            refunded_cents: Set(0),
            created_at: Set(now - chrono::Duration::seconds(i64::try_from(*n).unwrap())),
            updated_at: Set(now),
            ..Default::default()
        });
        order::Entity::insert_many(orders).exec_without_returning(&app.db).await.unwrap();
    }
    let ids: Vec<(i32, String)> = {
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        order::Entity::find()
            .filter(order::Column::CompanyId.eq(company))
            .filter(order::Column::SourceId.starts_with("BULK-"))
            .select_only()
            .column(order::Column::Id)
            .column(order::Column::SourceId)
            .into_tuple()
            .all(&app.db)
            .await
            .unwrap()
    };
    for chunk in ids.chunks(500) {
        let lines = chunk.iter().map(|(id, _)| order_item::ActiveModel {
            order_id: Set(*id),
            source_id: Set("1".into()),
            product_id: Set("SKU-BULK".into()),
            name: Set("Bulk crate".into()),
            quantity: Set(1.0),
            unit_price_cents: Set(1_000),
            ..Default::default()
        });
        order_item::Entity::insert_many(lines).exec_without_returning(&app.db).await.unwrap();
    }
}

/// A tenant with [`BULK`] orders, beside another tenant with as many: they
/// match every filter too, and must never count.
async fn bulk_tenant(app: &TestApp) -> Tenant {
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let other = app.tenant(&admin, "other").await;
    bulk_orders(app, t.id.parse().unwrap()).await;
    bulk_orders(app, other.id.parse().unwrap()).await;
    t
}

fn counts(body: &Value) -> (Value, Value) {
    let orders = &body["data"]["orders"];
    assert!(orders.is_object(), "{body}");
    (orders["totalCount"].clone(), orders["all"].clone())
}

fn source_ids(body: &Value) -> Vec<String> {
    body["data"]["orders"]["edges"].as_array().unwrap_or_else(|| panic!("{body}")).iter().map(|e| e["node"]["sourceId"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn text_filters_answer_the_same_whether_a_term_finds_few_rows_or_thousands() {
    let app = TestApp::spawn().await;
    let t = bulk_tenant(&app).await;
    let by = |f: Value| app.gql(Some(&t.staff), LIST, json!({ "f": f }));

    // Thousands of rows in the index: counted to the bound, and exactly.
    let many = BULK as u64;
    for f in [json!({ "code": "bulk-" }), json!({ "product": "sku-bulk" }), json!({ "product": "BULK CRATE" })] {
        let body = by(f.clone()).await;
        assert_eq!(counts(&body), (json!(1000), json!(many)), "{f}: {body}");
        assert_eq!(source_ids(&body), ["BULK-0", "BULK-1", "BULK-2", "BULK-3", "BULK-4"], "newest first: {f}");
    }
    let buyers = by(json!({ "customerName": "bulk buyer" })).await;
    assert_eq!(counts(&buyers), (json!(1000), json!(many - many.div_ceil(10))), "{buyers}");
    assert_eq!(source_ids(&buyers), ["BULK-1", "BULK-2", "BULK-3", "BULK-4", "BULK-5"]);
    // Both text filters on the orders' index at once, and a line's.
    let both = by(json!({ "code": "bulk-", "customerName": "buyer", "product": "crate" })).await;
    assert_eq!(counts(&both), (json!(1000), json!(many - many.div_ceil(10))), "{both}");

    // Few rows in the index: the page narrows to them.
    let rare = by(json!({ "customerName": "rare person" })).await;
    assert_eq!(counts(&rare), (json!(many.div_ceil(10)), json!(many.div_ceil(10))), "{rare}");
    assert_eq!(source_ids(&rare), ["BULK-0", "BULK-10", "BULK-20", "BULK-30", "BULK-40"]);
    let one = by(json!({ "code": "#bulk-2099" })).await;
    assert_eq!((counts(&one), source_ids(&one)), ((json!(1), json!(1)), vec!["BULK-2099".to_owned()]), "{one}");
    // Sorted otherwise, the same orders.
    let by_code = app.gql(Some(&t.staff), LIST, json!({ "f": { "code": "bulk-209" }, "s": { "field": "CODE", "direction": "DESC" } })).await;
    assert_eq!(source_ids(&by_code), ["BULK-2099", "BULK-2098", "BULK-2097", "BULK-2096", "BULK-2095"], "{by_code}");
    // Two characters are below the index's reach and still filter.
    assert_eq!(counts(&by(json!({ "code": "-7" })).await).1, json!(1 + 10 + 100), "short term: 7, 70–79, 700–799");
}

#[tokio::test]
async fn the_text_index_follows_changes_and_reads_no_search_syntax() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let order = app.create_order(&t.staff, "ACME-1", &t.destination, None).await;
    let by = |f: Value| app.gql(Some(&t.staff), LIST, json!({ "f": f }));
    assert_eq!(counts(&by(json!({ "customerName": "maria souza" })).await).1, json!(1));

    let update = "mutation($id: ID!, $i: UpdateOrderInput!) { updateOrder(id: $id, input: $i) { id } }";
    let edited = app
        .gql(Some(&t.staff), update, json!({ "id": order, "i": { "code": "#RENAMED-77", "customerName": "Ana Prado",
            "items": [{ "sourceId": "9", "productId": "SKU-NEW", "name": "Standing desk", "quantity": 1, "unitPrice": "10.00" }] } }))
        .await;
    assert!(edited["errors"].is_null(), "{edited}");
    for (f, found) in [
        (json!({ "code": "renamed-77" }), 1),
        (json!({ "code": "#acme-1" }), 0),
        (json!({ "customerName": "ana prado" }), 1),
        (json!({ "customerName": "maria" }), 0),
        (json!({ "product": "standing" }), 1),
        (json!({ "product": "office chair" }), 0),
        (json!({ "product": "sku-chair" }), 0),
    ] {
        assert_eq!(counts(&by(f.clone()).await).1, json!(found), "{f}");
    }

    let anonymized = app.gql(Some(&t.staff), "mutation($id: ID!) { anonymizeOrder(id: $id) { orders } }", json!({ "id": order })).await;
    assert!(anonymized["errors"].is_null(), "{anonymized}");
    assert_eq!(counts(&by(json!({ "customerName": "ana prado" })).await).1, json!(0), "an anonymized name is not found");

    // FTS5 query syntax, quotes and LIKE wildcards are only characters.
    for term in ["\"", "\"\"\"", "ana\" OR \"x", "*", "ana*", "NEAR(a b)", "{code}: x", "^ana", "-ana", "a:b", "%%%", "___", "\\", "('", "OR x", "x\"y"] {
        let body = by(json!({ "code": term, "customerName": term, "product": term })).await;
        assert_eq!(error_code(&body), None, "{term}: {body}");
        assert_eq!(counts(&body), (json!(0), json!(0)), "{term}: {body}");
    }
}

/// A filtered page is planned for its values on PostgreSQL, which writes them
/// into the statement's text (`domain::db::planned_for_its_values`): quotes,
/// backslashes, placeholders and SQL in a term, a time and a total must reach
/// the database as the same values, on both databases, and find exactly the
/// order that holds them.
#[tokio::test]
async fn values_with_quotes_backslashes_and_placeholders_filter_as_themselves() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "quote").await;
    let order = app.create_order(&t.staff, "QUOTE-1", &t.destination, None).await;
    app.create_order(&t.staff, "QUOTE-2", &t.destination, None).await;
    let name = r"O'Neil \ 50%_! $1 ?2 E'x' ''); DROP TABLE orders; --";
    let update = "mutation($id: ID!, $i: UpdateOrderInput!) { updateOrder(id: $id, input: $i) { id } }";
    let edited = app.gql(Some(&t.staff), update, json!({ "id": order, "i": { "customerName": name } })).await;
    assert!(edited["errors"].is_null(), "{edited}");
    let by = |f: Value| app.gql(Some(&t.staff), LIST, json!({ "f": f }));
    let (now, before) = (Utc::now(), Utc::now() - chrono::Duration::hours(1));
    for term in [name, "o'neil", r"\ 50%_", "_! $1", "$1 ?2", "e'x' ''", "''); drop table orders; --"] {
        for f in [json!({ "customerName": term }), json!({ "customerName": term, "createdFrom": before, "createdTo": now + chrono::Duration::hours(1), "minTotal": "0.00" })] {
            let body = by(f.clone()).await;
            assert_eq!(source_ids(&body), ["QUOTE-1"], "{f}: {body}");
            assert_eq!(counts(&body), (json!(1), json!(1)), "{f}: {body}");
        }
    }
    // `%` and `_` are taken literally: as wildcards, `50_%` would match
    // `50%_` and `neil_\` would match `neil \`; `!!` is two characters, as
    // any other character another escape might have used.
    let literal = [json!({ "customerName": "50_%" }), json!({ "customerName": "!!" }), json!({ "customerName": "neil_\\" })];
    for f in [json!({ "customerName": r"o'neil \\" }), json!({ "customerName": "o'neil", "createdTo": before }), json!({ "customerName": "o''neil" })].into_iter().chain(literal) {
        assert_eq!(counts(&by(f.clone()).await), (json!(0), json!(0)), "{f}");
    }
    assert_eq!(counts(&by(json!({ "createdFrom": before })).await), (json!(2), json!(2)), "the table is whole");
}

/// A total, status, window or destination filter under a sort its index does
/// not follow: on SQLite a page whose filter keeps thousands walks the sort's
/// index instead of sorting every match, and one that keeps few sorts them.
/// Either way, the same orders in the same order and the same counts.
#[tokio::test]
async fn filters_under_another_sort_answer_the_same_whether_they_keep_few_or_thousands() {
    let app = TestApp::spawn().await;
    let t = bulk_tenant(&app).await;
    let by = |f: Value, s: Value| app.gql(Some(&t.staff), LIST, json!({ "f": f, "s": s }));
    let newest = json!({ "field": "CREATED_AT", "direction": "DESC" });
    let by_total = json!({ "field": "TOTAL", "direction": "DESC" });
    let many = json!(BULK);
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    for (f, s, first) in [
        (json!({ "minTotal": "10.00" }), &newest, ["BULK-0", "BULK-1", "BULK-2", "BULK-3", "BULK-4"]),
        (json!({ "minTotal": "9.00", "maxTotal": "11.00" }), &newest, ["BULK-0", "BULK-1", "BULK-2", "BULK-3", "BULK-4"]),
        // Equal totals: the newest id first.
        (json!({ "statuses": ["RECEIVED"] }), &by_total, ["BULK-2099", "BULK-2098", "BULK-2097", "BULK-2096", "BULK-2095"]),
        (json!({ "createdFrom": hour_ago }), &by_total, ["BULK-2099", "BULK-2098", "BULK-2097", "BULK-2096", "BULK-2095"]),
    ] {
        let body = by(f.clone(), s.clone()).await;
        assert_eq!(counts(&body), (json!(1000), many.clone()), "{f} {s}: {body}");
        assert_eq!(source_ids(&body), first, "{f} {s}");
    }
    // Few: one order of another total among the thousands.
    app.create_order(&t.staff, "ODD-1", &t.destination, None).await;
    for (f, s) in [(json!({ "minTotal": "2000.00" }), &newest), (json!({ "minTotal": "10.01" }), &newest), (json!({ "minTotal": "10.01", "createdFrom": hour_ago }), &by_total)] {
        let body = by(f.clone(), s.clone()).await;
        assert_eq!(source_ids(&body), ["ODD-1"], "{f} {s}: {body}");
        assert_eq!(counts(&body), (json!(1), json!(1)), "{f} {s}");
    }
}
