//! `rastro import`: an order-lines export of one installation, loaded into
//! another by the real binary, reproduces the orders; a second import changes
//! nothing. Files larger than one part (500 orders) go through in parts.

use std::collections::BTreeMap;

use entities::{integration_run, order, order_item, RunOutcome};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use tests::{process::run_command, TestApp};

/// Per source id: code, status, customer, total, and the lines.
type Snapshot = BTreeMap<String, (String, String, Option<String>, i64, Vec<(String, String, String, String, i64)>)>;

async fn snapshot(db: &DatabaseConnection, company_id: i32, totals_from_items: bool) -> Snapshot {
    let orders = order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).all(db).await.unwrap();
    let mut out = Snapshot::new();
    for o in orders {
        let items = order_item::Entity::find()
            .filter(order_item::Column::OrderId.eq(o.id))
            .order_by_asc(order_item::Column::SourceId)
            .all(db)
            .await
            .unwrap();
        let lines: Vec<_> = items
            .iter()
            .map(|i| (i.source_id.clone(), i.product_id.clone(), i.name.clone(), i.quantity.to_string(), i.unit_price_cents))
            .collect();
        let total = if totals_from_items {
            items.iter().map(|i| (i.unit_price_cents as f64 * i.quantity).round() as i64).sum()
        } else {
            o.total_cents
        };
        out.insert(o.source_id, (o.code, o.status.as_str().to_owned(), o.customer_name, total, lines));
    }
    out
}

#[tokio::test]
async fn an_export_imported_elsewhere_reproduces_the_orders_and_a_second_import_changes_nothing() {
    const ORDERS: usize = 1_200;
    let source = TestApp::spawn().await;
    let admin = source.admin().await;
    let origin = source.tenant(&admin, "origin").await;
    tests::seed_orders(&source.db, &origin.id, &origin.destination, ORDERS).await;
    // A name a spreadsheet would take for a formula: guarded in the export,
    // read back as it was.
    let formula = source
        .gql(
            Some(&origin.staff),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            serde_json::json!({ "i": { "sourceId": "F-1", "code": "#F-1", "status": "APPROVED", "destinationLocalityId": origin.destination,
                "customerName": "=HYPERLINK(\"x\")",
                "items": [{ "sourceId": "1", "productId": "SKU-F", "name": "-5 discount", "quantity": 1.5, "unitPrice": "3.33" },
                          { "sourceId": "2", "productId": "SKU-G", "name": "Plain", "quantity": 2, "unitPrice": "0.50" }] } }),
        )
        .await;
    assert!(formula["data"]["createOrder"]["id"].is_string(), "{formula}");
    let response = source.http.get(format!("{}/exports/order-lines.csv", source.base)).bearer_auth(&origin.staff).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + ORDERS + 2, "a header and a row per line");
    let dir = std::env::temp_dir().join(format!("rastro-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("order-lines.csv");
    std::fs::write(&file, &csv).unwrap();

    let target = TestApp::spawn().await;
    let admin = target.admin().await;
    let copy = target.tenant(&admin, "copy").await;
    let path = file.to_str().unwrap();
    let (status, stdout, stderr) = run_command(&target.database_url, &["import", "--company", "copy", path]).await;
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("{} orders received, {} applied, 0 skipped, 0 failed", ORDERS + 1, ORDERS + 1)), "{stdout}");

    let (origin_id, copy_id): (i32, i32) = (origin.id.parse().unwrap(), copy.id.parse().unwrap());
    let expected = snapshot(&source.db, origin_id, true).await;
    let imported = snapshot(&target.db, copy_id, false).await;
    assert_eq!(imported.len(), ORDERS + 1);
    assert_eq!(imported, expected, "every order, its status, customer, total and lines");

    let (status, stdout, stderr) = run_command(&target.database_url, &["import", "--company", "copy", path]).await;
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("{} orders received, 0 applied, {} skipped, 0 failed", ORDERS + 1, ORDERS + 1)), "{stdout}");
    assert_eq!(snapshot(&target.db, copy_id, false).await, expected, "the second import changed nothing");

    let runs = integration_run::Entity::find().filter(integration_run::Column::CompanyId.eq(copy_id)).all(&target.db).await.unwrap();
    assert_eq!(runs.len(), 2, "each file is a run");
    assert!(runs.iter().all(|r| r.outcome == RunOutcome::Success && r.adapter == "rastro-csv" && r.received == (ORDERS + 1) as i32));
    assert!(runs[0].request_bytes as usize == csv.len());

    // A company that does not exist, and a file that is not order lines.
    let (status, _, stderr) = run_command(&target.database_url, &["import", "--company", "nobody", path]).await;
    assert!(!status.success() && stderr.contains("not found"), "{stderr}");
    std::fs::write(dir.join("bad.csv"), "nothing,useful\n1,2\n").unwrap();
    let bad = dir.join("bad.csv");
    let (status, stdout, _) = run_command(&target.database_url, &["import", "--company", "copy", bad.to_str().unwrap()]).await;
    assert!(!status.success() && stdout.contains("missing column source_id"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
