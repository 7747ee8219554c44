//! Storefront feeds over HTTP, against the real routes, each signed as its
//! platform signs it (the HMAC computed per event by the client, checked by
//! the server against the company's encrypted secret):
//! - Shopify `orders/create`: the order created with its customer and
//!   approved;
//! - Shopify `fulfillments/create`: a shipment with its tracking page,
//!   `IN_TRANSIT`, a mail queued;
//! - Rastro's generic event `DELIVERED` for half of those orders, beside
//!   the bare status change: `updateOrderStatus` to `DELIVERED` through
//!   GraphQL for the other half, with a staff token, the same clients.
//!
//! Each from [`CLIENTS`] clients at once; latencies per event.

use std::time::{Duration, Instant};

use adapter_storefront::signature::{generic_headers, sign};
use base64::{engine::general_purpose::STANDARD, Engine};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{json, Value};

/// Clients sending at once.
const CLIENTS: usize = 4;
const SHOPIFY_SECRET: &str = "shpss_bench-secret-0001";
const GENERIC_SECRET: &str = "whsec_bench-secret-0001";
const ORDER: &str = include_str!("../../adapters/storefront/tests/fixtures/shopify/order.json");
const FULFILLMENT: &str = include_str!("../../adapters/storefront/tests/fixtures/shopify/fulfillment.json");

/// One kind of call, measured.
pub struct Rate {
    /// What it was.
    pub what: &'static str,
    /// Calls made.
    pub calls: usize,
    /// Calls per second, end to end.
    pub per_second: f64,
    /// Latency, median.
    pub p50: Duration,
    /// Latency, 99th percentile.
    pub p99: Duration,
}

/// A request for call `n`.
type Build = dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync;
/// Whether an answer is what a success looks like.
type Check = fn(&Value) -> bool;

/// Sends `calls` requests from [`CLIENTS`] clients, each checked.
async fn drive(what: &'static str, calls: usize, build: std::sync::Arc<Build>, ok: Check) -> anyhow::Result<Rate> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let workers = (0..CLIENTS).map(|k| {
        let (client, build) = (client.clone(), build.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            for n in (k..calls).step_by(CLIENTS) {
                let t = Instant::now();
                let response = build(&client, n).send().await?;
                let status = response.status();
                let answer: Value = response.json().await?;
                anyhow::ensure!(status.is_success() && ok(&answer), "{what} failed ({status}): {answer}");
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
    let at = |p: f64| crate::percentile(&all, p);
    Ok(Rate { what, calls: all.len(), per_second: all.len() as f64 / wall.as_secs_f64(), p50: at(0.5), p99: at(0.99) })
}

fn applied(answer: &Value) -> bool {
    answer["applied"] == 1
}

async fn set_secrets(client: &reqwest::Client, base: &str, token: &str, company_id: i32) -> anyhow::Result<()> {
    for (platform, secret) in [("SHOPIFY", SHOPIFY_SECRET), ("GENERIC", GENERIC_SECRET)] {
        let set = "mutation($id: ID!, $p: WebhookPlatform!, $s: String!) { setWebhookSecret(companyId: $id, platform: $p, secret: $s) { platform } }";
        let body = json!({ "query": set, "variables": { "id": company_id.to_string(), "p": platform, "s": secret } });
        let answer: Value = client.post(format!("{base}/graphql")).bearer_auth(token).json(&body).send().await?.json().await?;
        anyhow::ensure!(answer["errors"].is_null(), "setWebhookSecret failed: {answer}");
    }
    Ok(())
}

fn shopify(client: &reqwest::Client, url: &str, topic: &str, webhook_id: String, body: String) -> reqwest::RequestBuilder {
    let hmac = STANDARD.encode(sign(SHOPIFY_SECRET.as_bytes(), body.as_bytes()));
    client
        .post(url)
        .header("content-type", "application/json")
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Hmac-Sha256", hmac)
        .header("X-Shopify-Webhook-Id", webhook_id)
        .body(body)
}

/// Measures `events` orders through Shopify's two webhooks, then half of
/// them delivered by signed generic events and half by GraphQL.
pub async fn measure(db: &DatabaseConnection, base: &str, token: &str, company: &str, company_id: i32, events: usize) -> anyhow::Result<Vec<Rate>> {
    let client = reqwest::Client::new();
    set_secrets(&client, base, token, company_id).await?;
    let shopify_url = format!("{base}/integrations/shopify/{company}");
    let order: Value = serde_json::from_str(ORDER)?;
    let fulfillment: Value = serde_json::from_str(FULFILLMENT)?;
    let id = |n: usize| 9_000_000_000 + n as u64;

    let url = shopify_url.clone();
    let create: std::sync::Arc<Build> = std::sync::Arc::new(move |client, n| {
        let mut body = order.clone();
        body["id"] = json!(id(n));
        body["name"] = json!(format!("#B{n}"));
        body["email"] = json!(format!("customer{}@shop.example", n % 200));
        shopify(client, &url, "orders/create", format!("bench-create-{n}"), body.to_string())
    });
    let created = drive("Shopify `orders/create` (order, customer, `APPROVED`)", events, create, applied).await?;

    let url = shopify_url.clone();
    let ship: std::sync::Arc<Build> = std::sync::Arc::new(move |client, n| {
        let mut body = fulfillment.clone();
        body["id"] = json!(id(n) + 1);
        body["order_id"] = json!(id(n));
        body["tracking_number"] = json!(format!("JD{n}"));
        body["tracking_numbers"] = json!([format!("JD{n}")]);
        shopify(client, &url, "fulfillments/create", format!("bench-ship-{n}"), body.to_string())
    });
    let shipped = drive("Shopify `fulfillments/create` (shipment, `IN_TRANSIT`, mail)", events, ship, applied).await?;

    let half = events / 2;
    let generic_url = format!("{base}/integrations/events/{company}");
    let deliver: std::sync::Arc<Build> = std::sync::Arc::new(move |client, n| {
        let body = json!({ "eventId": format!("bench-delivered-{n}"), "orderId": id(n).to_string(), "status": "DELIVERED",
            "occurredAt": chrono::Utc::now().to_rfc3339(), "comment": "Entregue" })
        .to_string();
        let (timestamp, signature) = generic_headers(GENERIC_SECRET.as_bytes(), body.as_bytes(), chrono::Utc::now());
        client
            .post(&generic_url)
            .header("content-type", "application/json")
            .header("X-Rastro-Timestamp", timestamp)
            .header("X-Rastro-Signature", signature)
            .body(body)
    });
    let generic = drive("generic signed event `DELIVERED`", half, deliver, applied).await?;

    // The other half, by their ids in Rastro, through GraphQL.
    let rows = db
        .query_all(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id FROM orders WHERE company_id = {company_id} AND code LIKE '#B%' AND status = 'IN_TRANSIT' ORDER BY id"),
        ))
        .await?;
    let ids: Vec<i32> = rows.iter().map(|r| r.try_get_by_index(0)).collect::<Result<_, _>>()?;
    anyhow::ensure!(ids.len() >= events - half, "{} orders left in transit", ids.len());
    let (graphql_url, token) = (format!("{base}/graphql"), token.to_owned());
    let update: std::sync::Arc<Build> = std::sync::Arc::new(move |client, n| {
        let query = "mutation($id: ID!) { updateOrderStatus(id: $id, status: DELIVERED, comment: \"Entregue\", notifyCustomer: true) { applied } }";
        client.post(&graphql_url).bearer_auth(&token).json(&json!({ "query": query, "variables": { "id": ids[n].to_string() } }))
    });
    let graphql = drive("bare status change, GraphQL `updateOrderStatus` `DELIVERED`", events - half, update, |a| {
        a["errors"].is_null() && a["data"]["updateOrderStatus"]["applied"] == true
    })
    .await?;
    Ok(vec![created, shipped, generic, graphql])
}
