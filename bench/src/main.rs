//! `rastro-bench`: how fast is the 50-order nested `orders` page over 100k
//! orders, next to the same rows read with hand-written SQL in the same process
//! (the floor); and how fast, and in how much memory, is a 100k-order export.
//!
//! ```sh
//! cargo run --release -p bench -- --database sqlite
//! cargo run --release -p bench -- --database postgres://postgres@127.0.0.1:5432/test
//! ```
//! It creates a fresh database (a temporary SQLite file, or a `rastro_bench`
//! database on the PostgreSQL server), seeds it, starts the real server on a
//! free port and loads it over HTTP from this process. Results are printed as
//! Markdown rows for BENCHMARKS.md.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde_json::json;

/// A general-purpose allocator built for many threads and small objects:
/// parsing a call and serving a page allocate per element and per field.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod fanout;
mod feeds;
mod import;
mod r2;
mod seed;
mod sink;
mod variants;
mod vtex;

#[derive(Parser)]
struct Args {
    /// `sqlite`, or a PostgreSQL URL whose server gets a fresh `rastro_bench` database.
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Orders to seed.
    #[arg(long, default_value_t = 100_000)]
    orders: usize,
    /// Seconds of load per measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Mails for the delivery throughput measurement.
    #[arg(long, default_value_t = 2_000)]
    mails: usize,
    /// Orders in the `rastro import` file.
    #[arg(long, default_value_t = 10_000)]
    import_orders: usize,
    /// Orders sent in 1,000-order `createOrders` calls (half as many in calls
    /// of 100, a twentieth one at a time).
    #[arg(long, default_value_t = 5_000)]
    r2_orders: usize,
    /// VTEX import calls of 1,000 orders (and as many hook notifications).
    #[arg(long, default_value_t = 2)]
    vtex_calls: usize,
    /// Orders sent through the storefront feeds (two Shopify webhooks each,
    /// then a generic event or a GraphQL status change).
    #[arg(long, default_value_t = 2_000)]
    feed_orders: usize,
    /// Only the TOTVS R2 `createOrders` rows (for profiling the ingestion path).
    #[arg(long)]
    only_r2: bool,
    /// Only the mail delivery row.
    #[arg(long)]
    only_mail: bool,
    /// Only the subscription fan-out rows.
    #[arg(long)]
    only_fanout: bool,
    /// Only the orders page and its floor (for the page's cost at 1k, 100k
    /// and 1M orders).
    #[arg(long)]
    only_page: bool,
    /// Only the CSV export, twice, with the process's peak and current RSS
    /// before and after each (does memory stay flat as the export grows?).
    #[arg(long)]
    only_export: bool,
    /// Only the page under each filter and sort the API offers, at
    /// `--orders` and at `--small-orders`, interleaved, with the ratio.
    #[arg(long)]
    only_variants: bool,
    /// The smaller table of `--only-variants`.
    #[arg(long, default_value_t = 1_000)]
    small_orders: usize,
    /// Seed, start the server, print `KEY=value` lines (the GraphQL URL, a
    /// staff token, the company and the database) and serve until standard
    /// input closes: the Rastro side of `bench/peer.sh`.
    #[arg(long)]
    serve: bool,
    /// WebSocket subscribers in the fan-out measurement (spread over
    /// `--fanout-companies`, then as many again of one company).
    #[arg(long, default_value_t = 10_000)]
    subscribers: usize,
    /// Companies the spread subscribers belong to.
    #[arg(long, default_value_t = 100)]
    fanout_companies: usize,
    /// Status changes timed one at a time in each fan-out measurement.
    #[arg(long, default_value_t = 20)]
    fanout_events: usize,
    /// Status changes a second in the sustained fan-out measurement.
    #[arg(long, default_value_t = 100)]
    fanout_rate: u32,
    /// Seconds of the sustained fan-out measurement.
    #[arg(long, default_value_t = 60)]
    fanout_seconds: u64,
    /// Internal: run as the fan-out measurement's subscriber process.
    #[arg(long, hide = true)]
    fanout_loader: bool,
    #[arg(long, hide = true, default_value = "")]
    fanout_ws: String,
    #[arg(long, hide = true)]
    fanout_tokens: Option<std::path::PathBuf>,
    /// Connections the worker may hold to the SMTP sink (the company's
    /// `maxConnections`).
    #[arg(long, default_value_t = 8)]
    mail_connections: i32,
}

const PAGE: &str = "query { orders(first: 50) { totalCount edges { node {
  id code status total customerName createdAt invoice { number }
  destination { name responsible { email } }
  items { productId name quantity unitPrice }
  classifications { key value }
  history { fromStatus toStatus comment occurredAt }
  shipments { carrier trackingNumber }
  refunds { amount } } } } }";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A memory figure of this process from `/proc/self/status` (`VmRSS:`,
/// `VmHWM:`, …), in KiB; 0 where it cannot be read.
fn status_kib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0)
}

fn peak_rss_mib() -> f64 {
    status_kib("VmHWM:") / 1024.0
}

/// `GET /exports/orders.csv`, counted as it arrives (so the client holds no
/// more than a chunk); its bytes and how long it took.
async fn export_csv(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<(usize, Duration)> {
    let t = Instant::now();
    let response = client.get(format!("{base}/exports/orders.csv")).bearer_auth(token).send().await?.error_for_status()?;
    let mut bytes = 0;
    let mut body = response.bytes_stream();
    while let Some(chunk) = futures::StreamExt::next(&mut body).await {
        bytes += chunk?.len();
    }
    Ok((bytes, t.elapsed()))
}

/// A fresh database called `label`: a file of that name in a temporary
/// directory, or a database of that name on the PostgreSQL server of `arg`.
pub(crate) async fn fresh_database(arg: &str, label: &str) -> anyhow::Result<(String, &'static str)> {
    if arg == "sqlite" {
        let dir = std::env::temp_dir().join(format!("rastro-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        return Ok((format!("sqlite://{}/{label}.db?mode=rwc", dir.display()), "SQLite"));
    }
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(arg).await.context("connecting to PostgreSQL")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {label} WITH (FORCE)")).execute(&mut admin).await?;
    sqlx::query(&format!("CREATE DATABASE {label}")).execute(&mut admin).await?;
    // The URL's options (`?sslmode=disable`) apply to the new database too.
    let (address, options) = arg.split_once('?').map_or((arg, String::new()), |(a, o)| (a, format!("?{o}")));
    let (base, _) = address.rsplit_once('/').context("the URL ends with /database")?;
    Ok((format!("{base}/{label}{options}"), "PostgreSQL"))
}

/// A GraphQL answer as the load clients read it: checked as JSON whole, but
/// its data not built into a tree, which would be the client's cost, not the
/// server's (the floor does not decode its rows either).
#[derive(serde::Deserialize)]
struct Answer {
    #[serde(default)]
    errors: Option<serde::de::IgnoredAny>,
    #[serde(rename = "data")]
    _data: serde::de::IgnoredAny,
}

/// Runs `PAGE` from `concurrency` clients for `seconds`; returns sorted latencies.
async fn load(url: &str, token: &str, concurrency: usize, seconds: u64) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers = (0..concurrency).map(|_| {
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let response = client.post(&url).bearer_auth(&token).json(&json!({ "query": PAGE })).send().await?;
                let body = response.bytes().await?;
                let answer: Answer = serde_json::from_slice(&body)?;
                anyhow::ensure!(answer.errors.is_none(), "query failed: {}", String::from_utf8_lossy(&body));
                latencies.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        })
    });
    let mut all = Vec::new();
    for worker in futures::future::join_all(workers).await {
        all.extend(worker??);
    }
    let wall = started.elapsed();
    all.sort();
    Ok((all, wall))
}

/// The same rows as `PAGE`, read with hand-written SQL, one request at a time.
async fn floor(db: &DatabaseConnection, company_id: i32, seconds: u64) -> anyhow::Result<Vec<Duration>> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut latencies = Vec::new();
    macro_rules! run {
        ($pool:expr, $row:ty) => {{
            let pool = $pool;
            while Instant::now() < deadline {
                let t = Instant::now();
                let count: i64 = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM (SELECT id FROM orders WHERE company_id = {company_id} LIMIT {}) AS bounded",
                    domain::orders::COUNT_UP_TO
                ))
                    .fetch_one(pool)
                    .await?;
                let page: Vec<$row> = sqlx::query(&format!(
                    "SELECT * FROM orders WHERE company_id = {company_id} ORDER BY created_at DESC, id DESC LIMIT 51"
                ))
                .fetch_all(pool)
                .await?;
                let ids: Vec<i32> = page.iter().take(50).map(|r| sqlx::Row::get::<i32, _>(r, "id")).collect();
                let destinations: Vec<i32> =
                    page.iter().take(50).filter_map(|r| sqlx::Row::get::<Option<i32>, _>(r, "destination_locality_id")).collect();
                let list = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
                let (ids, destinations) = (list(&ids), list(&destinations));
                for sql in [
                    format!("SELECT * FROM order_items WHERE order_id IN ({ids}) ORDER BY id"),
                    format!("SELECT * FROM order_status_history WHERE order_id IN ({ids}) ORDER BY id"),
                    format!("SELECT * FROM shipments WHERE order_id IN ({ids}) ORDER BY id"),
                    format!("SELECT * FROM order_attributes WHERE order_id IN ({ids}) ORDER BY id"),
                    format!("SELECT * FROM refunds WHERE order_id IN ({ids}) ORDER BY id"),
                    format!("SELECT * FROM localities WHERE id IN ({destinations})"),
                ] {
                    let rows: Vec<$row> = sqlx::query(&sql).fetch_all(pool).await?;
                    std::hint::black_box(rows);
                }
                std::hint::black_box(count);
                latencies.push(t.elapsed());
            }
        }};
    }
    match db.get_database_backend() {
        DbBackend::Sqlite => run!(db.get_sqlite_connection_pool(), sqlx::sqlite::SqliteRow),
        DbBackend::Postgres => run!(db.get_postgres_connection_pool(), sqlx::postgres::PgRow),
        DbBackend::MySql => anyhow::bail!("MySQL is not supported"),
    }
    latencies.sort();
    Ok(latencies)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.fanout_loader {
        return fanout::loader(&args.fanout_ws, &args.fanout_tokens.context("--fanout-tokens")?).await;
    }
    api::telemetry::init_tracing();
    if args.only_variants {
        return variants::run(&args).await;
    }
    let (url, name) = fresh_database(&args.database, "rastro_bench").await?;
    let Started { db, ctx, fixture, base, token } = start(&url, name, args.orders).await?;
    let client = reqwest::Client::new();

    if args.serve {
        println!("RASTRO_URL={base}/graphql\nRASTRO_TOKEN={token}\nCOMPANY_ID={}\nDATABASE_URL={url}\nREADY", fixture.company_id);
        let mut rest = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut rest).await?;
        return Ok(());
    }
    if args.only_r2 {
        r2::prepare(&db, fixture.company_id).await?;
        print_r2(name, &db, &base, &fixture, args.r2_orders).await?;
        return Ok(());
    }
    if args.only_mail {
        print_mail(name, &ctx, &token, fixture.company_id, &args).await?;
        return Ok(());
    }
    if args.only_fanout {
        print_fanout(name, &ctx, &base, &args).await?;
        return Ok(());
    }
    if args.only_export {
        for _ in 0..2 {
            let (peak, now) = (peak_rss_mib(), status_kib("VmRSS:") / 1024.0);
            let (bytes, time) = export_csv(&client, &base, &token).await?;
            println!(
                "| {name} | CSV export of {} orders | {:.0} rows/s ({:.1} MB in {:.2} s) | peak RSS {peak:.0} → {:.0} MiB, RSS {now:.0} → {:.0} MiB | |",
                args.orders,
                args.orders as f64 / time.as_secs_f64(),
                bytes as f64 / 1e6,
                time.as_secs_f64(),
                peak_rss_mib(),
                status_kib("VmRSS:") / 1024.0
            );
        }
        return Ok(());
    }
    // Warm up caches and connections.
    load(&format!("{base}/graphql"), &token, args.concurrency, 2).await?;
    let (latencies, wall) = load(&format!("{base}/graphql"), &token, args.concurrency, args.seconds).await?;
    let rps = latencies.len() as f64 / wall.as_secs_f64();
    let floor_latencies = floor(&db, fixture.company_id, args.seconds).await?;
    let floor_rps = floor_latencies.len() as f64 / args.seconds as f64;
    let page_rows = || {
        println!("| {name} | orders page over {} orders (GraphQL, {} clients) | {:.0} req/s | {} ms | {} ms |", args.orders, args.concurrency, rps, ms(percentile(&latencies, 0.5)), ms(percentile(&latencies, 0.99)));
        println!("| {name} | same rows, hand-written SQL (1 client) | {:.0} pages/s | {} ms | {} ms |", floor_rps, ms(percentile(&floor_latencies, 0.5)), ms(percentile(&floor_latencies, 0.99)));
    };
    if args.only_page {
        page_rows();
        return Ok(());
    }

    let rss_before = peak_rss_mib();
    let (bytes, export_time) = export_csv(&client, &base, &token).await?;
    // Read now: the stages after the export (import, ingestion) raise the peak.
    let rss_after = peak_rss_mib();

    let import_time = import::import(&ctx, fixture.company_id, args.import_orders).await?;
    let floor_time = import::floor(&db, args.import_orders).await?;
    r2::prepare(&db, fixture.company_id).await?;
    let vtex = vtex::measure(&db, &base, &fixture.integration_token, fixture.company_id, args.vtex_calls).await?;
    let feeds = feeds::measure(&db, &base, &token, seed::COMPANY, fixture.company_id, args.feed_orders).await?;

    page_rows();
    println!(
        "| {name} | CSV export of {} orders | {:.0} rows/s ({:.1} MB in {:.2} s) | peak RSS {:.0} → {:.0} MiB | |",
        args.orders,
        args.orders as f64 / export_time.as_secs_f64(),
        bytes as f64 / 1e6,
        export_time.as_secs_f64(),
        rss_before,
        rss_after
    );
    print_mail(name, &ctx, &token, fixture.company_id, &args).await?;
    let (import_rate, floor_rate) =
        (args.import_orders as f64 / import_time.as_secs_f64(), args.import_orders as f64 / floor_time.as_secs_f64());
    println!(
        "| {name} | `rastro import` of {} orders (2 lines each) | {import_rate:.0} orders/s ({:.2} s) | {:.2}× the floor | |",
        args.import_orders,
        import_time.as_secs_f64(),
        import_rate / floor_rate
    );
    print_r2(name, &db, &base, &fixture, args.r2_orders).await?;
    println!(
        "| {name} | VTEX import, {} orders per call ({} orders) | {:.0} orders/s | {:.2}× the floor | floor {:.0} orders/s |",
        vtex::CALL,
        vtex.orders,
        vtex.import,
        vtex.import / vtex.floor,
        vtex.floor
    );
    println!(
        "| {name} | VTEX hook notifications (`canceled`, 4 clients, {} events) | {:.0} events/s | p50 {} ms | p99 {} ms |",
        vtex.events,
        vtex.hooks,
        ms(vtex.hook_p50),
        ms(vtex.hook_p99)
    );
    for rate in &feeds {
        println!(
            "| {name} | {} ({} events, 4 clients) | {:.0} events/s | p50 {} ms | p99 {} ms |",
            rate.what,
            rate.calls,
            rate.per_second,
            ms(rate.p50),
            ms(rate.p99)
        );
    }
    if let [.., generic, graphql] = &feeds[..] {
        println!(
            "| {name} | per event: signed generic event vs GraphQL status change | {:.2} ms vs {:.2} ms | {:.2}× the GraphQL cost | |",
            1000.0 / generic.per_second,
            1000.0 / graphql.per_second,
            graphql.per_second / generic.per_second
        );
    }
    println!("| {name} | floor: {} one-row transactions | {floor_rate:.0} commits/s ({:.2} s) | | |", args.import_orders, floor_time.as_secs_f64());
    Ok(())
}

/// A seeded database and the real server on it, with a staff user's token.
pub(crate) struct Started {
    pub db: DatabaseConnection,
    pub ctx: domain::Ctx,
    pub fixture: seed::Fixture,
    /// `http://127.0.0.1:port`.
    pub base: String,
    pub token: String,
}

/// How long the server takes a token's check as fresh: the server's default,
/// unless `RASTRO_TOKEN_RECHECK_MS` says otherwise (0 measures a check on
/// every request, as before the checks were kept).
fn token_recheck_ms() -> u64 {
    std::env::var("RASTRO_TOKEN_RECHECK_MS").ok().and_then(|ms| ms.parse().ok()).unwrap_or(domain::sessions::verified::VERIFIED_FOR_MS)
}

/// Seeds `orders` orders into the fresh database at `url`, runs `ANALYZE`,
/// starts the server on a free port and logs the bench's staff user in.
pub(crate) async fn start(url: &str, name: &str, orders: usize) -> anyhow::Result<Started> {
    let mut config = api::config::Config::from_args(&api::config::ServerArgs {
        database_url: url.to_owned(),
        bind: "127.0.0.1:0".parse()?,
        jwt_secret: Some("bench-secret-".repeat(4)),
        public_base_url: "http://127.0.0.1".into(),
        token_ttl_minutes: 15,
        token_recheck_ms: token_recheck_ms(),
        policy_dir: None,
        db_max_connections: 10,
        secret_key: Some(domain::notifications::SecretKey::generate_base64()),
        smtp_url: None,
        mail_from: "Rastro <no-reply@rastro.local>".into(),
        mail_max_attempts: 8,
        mail_backoff_ms: 100,
        mail_backoff_max_ms: 1_000,
        mail_poll_ms: 100,
        graphql_introspection: true,
        rate_requests_per_minute: 600,
        rate_sensitive_per_minute: 20,
        rate_account_per_minute: 6,
        trusted_proxies: Vec::new(),
        request_timeout_secs: 60,
        header_timeout_secs: 10,
        max_connections: 10_000,
        password_hash_concurrency: 2,
        no_mail_worker: false,
        // The bench's SMTP sink listens on 127.0.0.1.
        smtp_allow_private: true,
        smtp_ca_file: None,
    })
    .await?;
    config.limits.body_bytes = 1 << 20;
    // The benchmark's clients all come from one address and measure throughput.
    let unlimited = api::ratelimit::Rate::new(u32::MAX / 2, u32::MAX / 4);
    config.rates = api::ratelimit::RateSettings { requests_per_ip: unlimited, sensitive_per_ip: unlimited, sensitive_per_account: unlimited };
    let db = api::startup::open_database(&config).await?;
    let seeding = Instant::now();
    let fixture = seed::seed(&api::startup::domain_ctx(&config, db.clone()).await?, orders).await?;
    // Fresh bulk-loaded tables have no planner statistics yet; production ones do.
    db.execute_unprepared("ANALYZE").await?;
    eprintln!("{name}: seeded {} orders in {:.1} s", orders, seeding.elapsed().as_secs_f64());

    let app = api::startup::Application::with_database(config, db.clone()).await?;
    let ctx = app.state().ctx.clone();
    let base = format!("http://{}", app.local_addr()?);
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "mutation($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, company: $c) { accessToken } }",
            "variables": { "e": seed::STAFF_EMAIL, "p": seed::STAFF_PASSWORD, "c": seed::COMPANY } }))
        .send()
        .await?
        .json()
        .await?;
    let token = login["data"]["login"]["accessToken"].as_str().context("login failed")?.to_owned();

    Ok(Started { db, ctx, fixture, base, token })
}

/// Measures and prints the TOTVS R2 `createOrders` rows: calls of 1, 100 and
/// 1,000 orders against their floor, and the parse+validate rate alone.
async fn print_r2(name: &str, db: &sea_orm::DatabaseConnection, base: &str, fixture: &seed::Fixture, orders: usize) -> anyhow::Result<()> {
    let sizes = [(1, orders / 20), (100, orders / 2), (1_000, orders)];
    for rate in r2::measure(db, base, &fixture.integration_token, fixture.company_id, &sizes).await? {
        println!(
            "| {name} | R2 `createOrders`, {} orders × 10 items per call ({} orders) | {:.0} orders/s | {:.2}× the floor | floor {:.0} orders/s |",
            rate.batch,
            rate.orders,
            rate.end_to_end,
            rate.end_to_end / rate.floor,
            rate.floor
        );
    }
    println!("| {name} | R2 parse+validate alone (1000-order call) | {:.0} orders/s | | |", r2::parse_rate(1_000)?);
    Ok(())
}

/// Measures and prints the subscription fan-out rows.
async fn print_fanout(name: &str, ctx: &domain::Ctx, base: &str, args: &Args) -> anyhow::Result<()> {
    let report =
        fanout::measure(ctx, base, args.subscribers, args.fanout_companies, args.fanout_events, args.fanout_rate, args.fanout_seconds).await?;
    for row in &report.rows {
        let cpu = if row.what.contains("changes/s") { format!("server {:.0} % of a core", row.cpu) } else { format!("server CPU {:.2} ms per event", row.cpu) };
        println!(
            "| {name} | fan-out: {} | p99 {} ms (p50 {}, max {}) | {cpu} | delivered {}/{} |",
            row.what,
            ms(row.p99),
            ms(row.p50),
            ms(row.max),
            row.delivered,
            row.expected
        );
    }
    println!(
        "| {name} | fan-out: server memory per subscriber | {:.1} KiB | a change nobody hears: {:.2} ms CPU | |",
        report.kib_per_subscriber, report.bare_change_ms
    );
    Ok(())
}

/// Delivers `--mails` queued mails to a local SMTP sink and prints the row.
async fn print_mail(name: &str, ctx: &domain::Ctx, token: &str, company_id: i32, args: &Args) -> anyhow::Result<()> {
    let (mails, time) = sink::mail_throughput(ctx, token, company_id, args.mails, args.mail_connections).await?;
    println!(
        "| {name} | mail delivery to a local SMTP sink (1 worker, {} connections) | {:.0} mails/s ({mails} in {:.2} s) | | |",
        args.mail_connections,
        mails as f64 / time.as_secs_f64(),
        time.as_secs_f64()
    );
    Ok(())
}
