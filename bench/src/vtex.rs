//! VTEX throughput over HTTP, against the real routes:
//! - imports: calls of 1,000 invoiced orders in VTEX's `GetOrder` shape
//!   (VTEX's own sample, ~15 KB an order, with its tracking number), 200
//!   customers among them; each order is a destination upsert, the order,
//!   its invoice and its shipment, in one transaction of its own (VTEX
//!   records take the pipeline's one-by-one path);
//! - hook notifications: `canceled` for imported orders without tracking,
//!   from 4 clients at once, as VTEX sends them; with latency percentiles
//!   against VTEX's 5-second rule;
//! - the floor: the same rows for each imported order written by
//!   hand-written SQL of literal values, one transaction per order, on the
//!   same database, with the call already parsed.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde_json::{json, Value};

/// Orders per import call.
pub const CALL: usize = 1_000;
/// Customers the generated orders are spread over.
const CUSTOMERS: usize = 200;
/// Clients sending hook notifications at once.
const HOOK_CLIENTS: usize = 4;

/// What was measured.
pub struct Rates {
    /// Orders imported.
    pub orders: usize,
    /// Import, orders per second end to end.
    pub import: f64,
    /// The floor, orders per second.
    pub floor: f64,
    /// Hook notifications sent.
    pub events: usize,
    /// Hook notifications per second end to end.
    pub hooks: f64,
    /// Hook latency, median and 99th percentile.
    pub hook_p50: Duration,
    /// See `hook_p50`.
    pub hook_p99: Duration,
}

/// Order `n` of the generated calls: VTEX's sample, invoiced, with its own
/// id and one of [`CUSTOMERS`] e-mails; tracked or not.
fn order(prefix: &str, n: usize, tracked: bool) -> Value {
    let mut order: Value = serde_json::from_str(include_str!("../../adapters/vtex/tests/fixtures/get-order-handling.json")).unwrap_or_default();
    order["orderId"] = json!(format!("{prefix}{n}-01"));
    order["status"] = json!("invoiced");
    order["clientProfileData"]["email"] = json!(format!("customer{}@vtex.example", n % CUSTOMERS));
    let package = &mut order["packageAttachment"]["packages"][0];
    package["type"] = json!("Output");
    package["invoiceNumber"] = json!(format!("NF{n}"));
    if !tracked {
        package["trackingNumber"] = Value::Null;
    }
    order
}

fn call(prefix: &str, first: usize, tracked: bool) -> String {
    let orders: Vec<Value> = (first..first + CALL).map(|n| order(prefix, n, tracked)).collect();
    Value::Array(orders).to_string()
}

async fn send(client: &reqwest::Client, url: &str, token: &str, body: String) -> anyhow::Result<Value> {
    let response = client.post(url).header("X-VTEX-API-AppToken", token).header("content-type", "application/json").body(body).send().await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    anyhow::ensure!(status.is_success() && answer["failed"] == 0, "VTEX call failed ({status}): {}", answer.to_string().chars().take(500).collect::<String>());
    Ok(answer)
}

/// Imports `calls` calls of [`CALL`] orders; the time it took.
async fn import(base: &str, token: &str, prefix: &str, calls: usize, tracked: bool) -> anyhow::Result<Duration> {
    let client = reqwest::Client::new();
    let url = format!("{base}/integrations/vtex/orders");
    let bodies: Vec<String> = (0..calls).map(|c| call(prefix, c * CALL, tracked)).collect();
    let started = Instant::now();
    for body in bodies {
        send(&client, &url, token, body).await?;
    }
    Ok(started.elapsed())
}

/// Sends a `canceled` notification for each of `orders` orders from
/// [`HOOK_CLIENTS`] clients; the wall time and every latency, sorted.
async fn hooks(base: &str, token: &str, prefix: &str, orders: usize) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let client = reqwest::Client::new();
    let url = format!("{base}/integrations/vtex/hook");
    let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f0Z").to_string();
    let started = Instant::now();
    let workers = (0..HOOK_CLIENTS).map(|k| {
        let (client, url, token, prefix, at) = (client.clone(), url.clone(), token.to_owned(), prefix.to_owned(), at.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            for n in (k..orders).step_by(HOOK_CLIENTS) {
                let body = json!({ "Domain": "Fulfillment", "OrderId": format!("{prefix}{n}-01"), "State": "canceled", "LastState": "invoiced",
                    "LastChange": at, "CurrentChange": at, "Origin": { "Account": "bench", "Key": "vtexappkey-bench" } });
                let t = Instant::now();
                let answer = send(&client, &url, &token, body.to_string()).await?;
                anyhow::ensure!(answer["applied"] == 1, "not applied: {answer}");
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
    Ok((wall, all))
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The floor: for each order of `calls` calls, the rows the pipeline writes
/// for it in one transaction of its own (the customer's locality updated or
/// created, the order, its item and attribute, three history entries, its
/// invoice and shipment, two audit entries, the run item), and one run per
/// call with its request; the time the SQL took.
async fn floor(db: &DatabaseConnection, company_id: i32, calls: usize) -> anyhow::Result<Duration> {
    let mut spent = Duration::ZERO;
    let backend = db.get_database_backend();
    for c in 0..calls {
        let body = call("VF-", c * CALL, true);
        let started = Instant::now();
        let now = quote(&chrono::Utc::now().to_rfc3339());
        let run: i32 = db
            .query_one(sea_orm::Statement::from_string(
                backend,
                format!(
                    "INSERT INTO integration_runs (company_id, adapter, operation, outcome, received_at, finished_at, duration_ms, received, applied, skipped, failed, request, request_bytes, request_truncated, response, response_bytes, response_truncated) \
                     VALUES ({company_id}, 'vtex', 'import', 'SUCCESS', {now}, {now}, 1, {CALL}, {CALL}, 0, 0, {}, {}, false, '{{}}', 2, false) RETURNING id",
                    quote(&domain::ingest::runs::capped(body.as_bytes()).0),
                    body.len(),
                ),
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no run id"))?
            .try_get_by_index(0)?;
        for n in c * CALL..(c + 1) * CALL {
            let txn = db.begin().await?;
            let customer = quote(&format!("vtex-floor-{}", n % CUSTOMERS));
            let updated = txn
                .execute_unprepared(&format!("UPDATE localities SET name = 'Rodrigo Smith', updated_at = {now} WHERE company_id = {company_id} AND source_id = {customer}"))
                .await?
                .rows_affected();
            if updated == 0 {
                txn.execute_unprepared(&format!(
                    "INSERT INTO localities (company_id, source_id, name, logistic_role, city, state, country, responsible_name, responsible_email, created_at, updated_at) \
                     VALUES ({company_id}, {customer}, 'Rodrigo Smith', 'DESTINATION', 'Rio de Janeiro', 'RJ', 'BR', 'Rodrigo Smith', {}, {now}, {now})",
                    quote(&format!("customer{}@vtex.example", n % CUSTOMERS))
                ))
                .await?;
            }
            let source = quote(&format!("VF-{n}-01"));
            let id: i32 = txn
                .query_one(sea_orm::Statement::from_string(
                    backend,
                    format!(
                        "INSERT INTO orders (company_id, source_id, code, status, customer_status, destination_locality_id, customer_name, delivery_end, priority, total_cents, refunded_cents, \
                         invoice_number, invoice_value_cents, invoice_issued_at, invoice_url, last_event_at, created_at, updated_at) \
                         VALUES ({company_id}, {source}, {source}, 'IN_TRANSIT', 'IN_TRANSIT', (SELECT id FROM localities WHERE company_id = {company_id} AND source_id = {customer}), \
                         'Rodrigo Smith', {now}, 0, 990, 0, 'NF{n}', 1015, {now}, 'https://luxstore.example/nf.pdf', {now}, {now}, {now}) RETURNING id"
                    ),
                ))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no order id"))?
                .try_get_by_index(0)?;
            for sql in [
                format!("INSERT INTO order_items (order_id, source_id, product_id, name, quantity, unit_price_cents, total_cents, attributes) VALUES ({id}, '1', '1', 'Bone Fashion', 1, 990, 990, '{{\"vtex.refId\":\"BIGHEADL\"}}')"),
                format!("INSERT INTO order_attributes (order_id, kind, key, value) VALUES ({id}, 'ATTRIBUTE', 'vtex.sequence', '502556')"),
                format!(
                    "INSERT INTO order_status_history (order_id, company_id, from_status, to_status, comment, notify_customer, visible_to_customer, source, event_id, applied, occurred_at, recorded_at) VALUES \
                     ({id}, {company_id}, NULL, 'INVOICED', NULL, false, true, 'vtex', NULL, true, {now}, {now}), \
                     ({id}, {company_id}, 'INVOICED', 'INVOICED', 'Invoice NF{n}', false, true, 'vtex', 'vtex:invoice:VF-{n}-01:NF{n}', true, {now}, {now}), \
                     ({id}, {company_id}, 'INVOICED', 'IN_TRANSIT', 'Shipped by Correios: 1Z{n}', true, true, 'vtex', 'vtex:shipment:VF-{n}-01:NF{n}:1Z{n}', true, {now}, {now})"
                ),
                format!("INSERT INTO invoices (order_id, company_id, number, value_cents, issued_at, url, created_at) VALUES ({id}, {company_id}, 'NF{n}', 1015, {now}, 'https://luxstore.example/nf.pdf', {now})"),
                format!("INSERT INTO shipments (order_id, company_id, carrier, tracking_number, shipped_at, created_at, invoice_number) VALUES ({id}, {company_id}, 'Correios', '1Z{n}', {now}, {now}, 'NF{n}')"),
                format!(
                    "INSERT INTO audit_log (company_id, actor_user_id, actor_kind, action, entity, entity_id, detail, created_at) VALUES \
                     ({company_id}, NULL, 'integration', 'locality.upsert', 'locality', {customer}, NULL, {now}), ({company_id}, NULL, 'integration', 'order.create', 'order', '{id}', NULL, {now})"
                ),
                format!("INSERT INTO integration_run_items (run_id, company_id, position, source_id, outcome, order_id, applied) VALUES ({run}, {company_id}, {}, {source}, 'APPLIED', {id}, '[\"created\"]')", n % CALL),
            ] {
                txn.execute_unprepared(&sql).await?;
            }
            txn.commit().await?;
        }
        spent += started.elapsed();
    }
    Ok(spent)
}

/// Measures `calls` import calls of [`CALL`] orders end to end and against
/// the floor, then `calls × CALL` hook notifications; the company's status
/// updates are turned on first (as its staff would).
pub async fn measure(db: &DatabaseConnection, base: &str, token: &str, company_id: i32, calls: usize) -> anyhow::Result<Rates> {
    db.execute_unprepared(&format!("UPDATE companies SET vtex_status_updates = true WHERE id = {company_id}")).await?;
    let orders = calls * CALL;
    let imported = import(base, token, "VX-", calls, true).await?;
    let floor = floor(db, company_id, calls).await?;
    // Orders the hook may cancel: invoiced, not yet shipped.
    import(base, token, "VH-", calls, false).await?;
    let (wall, latencies) = hooks(base, token, "VH-", orders).await?;
    let at = |p: f64| crate::percentile(&latencies, p);
    Ok(Rates {
        orders,
        import: orders as f64 / imported.as_secs_f64(),
        floor: orders as f64 / floor.as_secs_f64(),
        events: latencies.len(),
        hooks: latencies.len() as f64 / wall.as_secs_f64(),
        hook_p50: at(0.5),
        hook_p99: at(0.99),
    })
}
