//! Migrations that move data: run down and up again on a database in use,
//! nothing an order had is lost.

use entities::invoice;
use migration::MigratorTrait;
use sea_orm::EntityTrait;
use serde_json::json;
use tests::TestApp;

#[tokio::test]
async fn invoices_kept_apart_start_with_every_invoice_orders_had() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let invoiced = app.create_order(&t.staff, "A-1", &t.destination, Some("APPROVED")).await;
    app.create_order(&t.staff, "A-2", &t.destination, Some("APPROVED")).await;
    let body = app
        .gql(Some(&t.staff), "mutation($id: ID!) { invoiceOrder(id: $id, invoice: { number: \"NF-77\", value: \"12.34\", series: \"2\" }) { applied } }", json!({ "id": invoiced }))
        .await;
    assert_eq!(body["data"]["invoiceOrder"]["applied"], true, "{body}");
    // Shipped as shipments were before they named their invoice.
    let ship = "mutation($id: ID!) { addShipment(id: $id, shipment: { carrier: \"Correios\", trackingNumber: \"BR1\" }) { applied } }";
    assert_eq!(app.gql(Some(&t.staff), ship, json!({ "id": invoiced })).await["data"]["addShipment"]["applied"], true);

    // Back to before invoices had a table of their own, and forward again.
    let all = migration::Migrator::migrations();
    let at = all.iter().position(|m| m.name() == "m20261205_000018_invoices_and_tracking").unwrap();
    migration::Migrator::down(&app.db, Some(u32::try_from(all.len() - at).unwrap())).await.unwrap();
    assert!(invoice::Entity::find().all(&app.db).await.is_err(), "the table is gone");
    migration::Migrator::up(&app.db, None).await.unwrap();
    let kept = invoice::Entity::find().all(&app.db).await.unwrap();
    let kept: Vec<(i32, &str, i64, Option<&str>)> = kept.iter().map(|i| (i.order_id, i.number.as_str(), i.value_cents, i.series.as_deref())).collect();
    assert_eq!(kept, [(invoiced.parse().unwrap(), "NF-77", 1234, Some("2"))]);
    // Its shipment now names the order's one invoice, so a carrier's report finds it.
    let shipped = entities::shipment::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(shipped.iter().map(|s| s.invoice_number.as_deref()).collect::<Vec<_>>(), [Some("NF-77")]);
    let shown = app.gql(Some(&t.staff), "query($id: ID!) { order(id: $id) { invoices { number value } } }", json!({ "id": invoiced })).await;
    assert_eq!(shown["data"]["order"]["invoices"], json!([{ "number": "NF-77", "value": "12.34" }]), "{shown}");
}

/// A role that may create tables but not extensions (no `CREATE` on the
/// database) still migrates: `pg_trgm` is skipped with a warning, the text
/// filters then read rows, and the server starts.
#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "PostgreSQL only: roles and extensions (TEST_DATABASE_URL)")]
async fn a_role_that_may_not_create_pg_trgm_still_migrates() {
    use sqlx::{postgres::PgConnectOptions, Connection, Executor};
    let url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let suffix: u32 = rand::random();
    let (database, role) = (format!("rastro_t_role_{suffix:x}"), format!("rastro_limited_{suffix:x}"));
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    admin.execute(format!("CREATE ROLE {role} LOGIN").as_str()).await.unwrap();
    admin.execute(format!("CREATE DATABASE {database}").as_str()).await.unwrap();
    let options: PgConnectOptions = url.parse().unwrap();
    let mut inside = sqlx::PgConnection::connect_with(&options.clone().database(&database)).await.unwrap();
    inside.execute(format!("GRANT USAGE, CREATE ON SCHEMA public TO {role}").as_str()).await.unwrap();
    inside.close().await.unwrap();

    let pool = sqlx::PgPool::connect_with(options.clone().database(&database).username(&role)).await.unwrap();
    let db = sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
    let migrated = domain::db::migrate(&db).await;
    let probe = |sql: &'static str| {
        let db = db.clone();
        async move {
            use sea_orm::ConnectionTrait;
            db.query_one(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await.unwrap().is_some()
        }
    };
    let (extension, index, table) = (
        probe("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").await,
        probe("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_orders_code_trgm'").await,
        probe("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_orders_company_total'").await,
    );
    db.close().await.unwrap();
    admin.execute(format!("DROP DATABASE {database} WITH (FORCE)").as_str()).await.unwrap();
    admin.execute(format!("DROP ROLE {role}").as_str()).await.unwrap();
    migrated.expect("migrations run without the right to create extensions");
    assert!(!extension && !index, "the role could not have made them");
    assert!(table, "the migrations before it ran, in the same transaction");
}
