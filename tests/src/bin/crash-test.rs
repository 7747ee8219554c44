//! Crash safety, measured: clients create orders while the server is SIGKILLed
//! every few seconds and started again. Afterwards every order that got a
//! success answer must be in the database with all its items and its creation
//! entry, and no order may exist half-written.
//!
//! Runs on SQLite, or on PostgreSQL when `TEST_DATABASE_URL` names one (as the
//! test suite does). Prints one summary line and exits non-zero on any loss.
//!
//! `cargo build -p tests --bins && cargo run -p tests --bin crash-test -- --seconds 40`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use clap::Parser;
use rand::Rng;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use tests::{process::RastroProcess, TestApp};
use tokio::sync::{Mutex, RwLock};

/// Items per order: a success answer promises all of them.
const ITEMS: usize = 3;

#[derive(Parser)]
struct Args {
    /// How long to create orders and kill the server.
    #[arg(long, default_value_t = 40)]
    seconds: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Shortest and longest time between kills, in milliseconds.
    #[arg(long, default_value_t = 1_500)]
    kill_min_ms: u64,
    #[arg(long, default_value_t = 4_000)]
    kill_max_ms: u64,
}

/// Where the clients send requests: the base URL of the live process.
type Live = Arc<RwLock<Option<String>>>;

/// Server settings: no mail, and budgets wide enough for eight busy clients.
const SERVER_ENV: [(&str, &str); 4] = [
    ("RASTRO_NO_MAIL_WORKER", "true"),
    ("RASTRO_RATE_REQUESTS_PER_MINUTE", "10000000"),
    ("RASTRO_RATE_SENSITIVE_PER_MINUTE", "10000"),
    ("RASTRO_RATE_ACCOUNT_PER_MINUTE", "10000"),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let backend = if tests::on_postgres() { "postgres" } else { "sqlite" };
    let app = TestApp::spawn_with(|c| c.run_mail_worker = false).await;
    let admin = app.admin().await;
    let tenant = app.tenant(&admin, "crash").await;
    let token = Arc::new(tenant.staff.clone());
    let destination = Arc::new(tenant.destination.clone());

    let first = RastroProcess::start_with(&app.database_url, &SERVER_ENV).await;
    let live: Live = Arc::new(RwLock::new(Some(first.base().to_owned())));
    let server = Arc::new(Mutex::new(first));
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let failed_requests = Arc::new(AtomicU64::new(0));

    let mut clients = Vec::new();
    for client in 0..args.clients {
        let (live, stop, acknowledged, failed) = (live.clone(), stop.clone(), acknowledged.clone(), failed_requests.clone());
        let (token, destination) = (token.clone(), destination.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let Some(base) = live.read().await.clone() else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                n += 1;
                let source_id = format!("c{client}-{n}");
                match create(&http, &base, &token, &destination, &source_id).await {
                    Some(id) => {
                        acknowledged.lock().await.insert(source_id, id);
                    }
                    None => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }

    let started = Instant::now();
    let mut kills = 0u32;
    while started.elapsed() < Duration::from_secs(args.seconds) {
        let wait = rand::thread_rng().gen_range(args.kill_min_ms..=args.kill_max_ms);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let mut process = server.lock().await;
        process.kill().await;
        kills += 1;
        *live.write().await = None;
        let next = RastroProcess::start_with(&app.database_url, &SERVER_ENV).await;
        *live.write().await = Some(next.base().to_owned());
        *process = next;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await?;
    }
    server.lock().await.kill().await;
    let elapsed = started.elapsed();

    // What the database holds: per order, its items and creation entries.
    let rows = app
        .db
        .query_all(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT o.id, o.source_id, \
               (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS items, \
               (SELECT COUNT(*) FROM order_status_history h WHERE h.order_id = o.id) AS entries \
             FROM orders o"
                .to_owned(),
        ))
        .await?;
    let mut stored = HashMap::new();
    let mut partial = 0usize;
    for row in rows {
        let (id, source_id): (i32, String) = (row.try_get("", "id")?, row.try_get("", "source_id")?);
        let (items, entries): (i64, i64) = (row.try_get("", "items")?, row.try_get("", "entries")?);
        if items != ITEMS as i64 || entries < 1 {
            eprintln!("half-written order {source_id} (id {id}): {items} items, {entries} history entries");
            partial += 1;
        }
        stored.insert(source_id, id.to_string());
    }
    let acknowledged = acknowledged.lock().await;
    let mut lost = 0usize;
    for (source_id, id) in acknowledged.iter() {
        if stored.get(source_id) != Some(id) {
            eprintln!("acknowledged order {source_id} (id {id}) is missing");
            lost += 1;
        }
    }
    let found = acknowledged.len() - lost;
    println!(
        "crash-test {backend}: acknowledged={} found={found} lost={lost} partial={partial} kills={kills} \
         unanswered={} stored={} in {:.0?}",
        acknowledged.len(),
        failed_requests.load(Ordering::Relaxed),
        stored.len(),
        elapsed
    );
    if lost > 0 || partial > 0 {
        anyhow::bail!("orders were lost or half-written");
    }
    if kills < 3 || acknowledged.is_empty() {
        anyhow::bail!("the run proved nothing: {kills} kills, {} orders acknowledged", acknowledged.len());
    }
    Ok(())
}

/// Creates one order; its id when the server answered with success.
async fn create(http: &reqwest::Client, base: &str, token: &str, destination: &str, source_id: &str) -> Option<String> {
    let items: Vec<Value> = (1..=ITEMS)
        .map(|i| json!({ "sourceId": i.to_string(), "productId": format!("SKU-{i}"), "name": format!("Item {i}"), "quantity": i, "unitPrice": "10.00" }))
        .collect();
    let body = json!({
        "query": "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
        "variables": { "i": { "sourceId": source_id, "code": format!("#{source_id}"), "destinationLocalityId": destination, "items": items } },
    });
    let response = http.post(format!("{base}/graphql")).bearer_auth(token).json(&body).send().await.ok()?;
    let answer: Value = response.json().await.ok()?;
    answer["data"]["createOrder"]["id"].as_str().map(str::to_owned)
}
