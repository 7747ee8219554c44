//! `rastro import` throughput: an order-lines file of N orders (2 lines each)
//! through the ingestion pipeline, one transaction per order, against the
//! floor of N one-row transactions on the same database (what committing N
//! times costs at all, with `synchronous=FULL` on SQLite).

use std::{io::Write, time::{Duration, Instant}};

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

/// Imports `orders` new orders for `company_id`; the time it took.
pub async fn import(ctx: &domain::Ctx, company_id: i32, orders: usize) -> anyhow::Result<Duration> {
    let path = std::env::temp_dir().join(format!("rastro-bench-import-{}.csv", std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(file, "{}", adapter_rastro_csv::COLUMNS.join(","))?;
    for i in 0..orders {
        for line in 1..=2 {
            writeln!(file, "IMP-{i},#IMP-{i},INVOICED,Customer {i},L-{},{line},SKU-{line},Item {line},{line},19.90", i % 50)?;
        }
    }
    file.flush()?;
    drop(file);
    let started = Instant::now();
    let summary = api::import::import_csv(ctx, company_id, &adapter_rastro_csv::RastroCsv, &path, &indicatif::ProgressBar::hidden()).await?;
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&path);
    anyhow::ensure!(summary.report.applied == orders, "import applied {} of {orders}: {summary}", summary.report.applied);
    Ok(elapsed)
}

/// `n` one-row write transactions, one after another.
pub async fn floor(db: &DatabaseConnection, n: usize) -> anyhow::Result<Duration> {
    db.execute_unprepared("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").await?;
    let started = Instant::now();
    for i in 0..n {
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!("INSERT INTO bench_floor (id, v) VALUES ({i}, 'x')")).await?;
        txn.commit().await?;
    }
    let elapsed = started.elapsed();
    db.execute_unprepared("DROP TABLE bench_floor").await?;
    Ok(elapsed)
}
