//! The page under each filter and sort the API offers, on a small table and a
//! large one served side by side, measured interleaved so that the machine's
//! drift falls on both: the ratio large / small is the figure (issue 16: at
//! most 1.2 from 1,000 to 1,000,000 orders).
//!
//! Each filter's term is chosen the way a user would use it on either table:
//! the code of one order, a product, a customer, a status held by one order in
//! a hundred, a day's window in the middle of the table, the top and bottom of
//! the totals, one destination.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use entities::{locality, order};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{json, Value};

use crate::{fresh_database, ms, percentile, start, Args, Started};

/// The page: 20 orders with lines, history, destination and shipments.
const PAGE: &str = "query($filter: OrderFilterInput, $sort: OrderSortInput) {
  orders(first: 20, filter: $filter, sort: $sort) { totalCount edges { node {
    id code status total customerName createdAt
    destination { name responsible { email } }
    items { productId name quantity unitPrice }
    history { fromStatus toStatus comment occurredAt }
    shipments { carrier trackingNumber } } } } }";

/// One way to ask for the page.
struct Variant {
    name: &'static str,
    variables: Value,
}

/// What a variant's terms depend on in one database.
struct Terms {
    orders: usize,
    /// `createdAt` of the order in the middle of the table.
    middle: DateTime<Utc>,
    locality_id: i32,
}

async fn terms_of(started: &Started, orders: usize) -> anyhow::Result<Terms> {
    let company = started.fixture.company_id;
    let middle: DateTime<Utc> = order::Entity::find()
        .filter(order::Column::CompanyId.eq(company))
        .filter(order::Column::Code.eq(format!("#{}", orders / 2)))
        .select_only()
        .column(order::Column::CreatedAt)
        .into_tuple()
        .one(&started.db)
        .await?
        .context("the middle order")?;
    let locality_id: i32 = locality::Entity::find()
        .filter(locality::Column::CompanyId.eq(company))
        .order_by_asc(locality::Column::Id)
        .select_only()
        .column(locality::Column::Id)
        .into_tuple()
        .one(&started.db)
        .await?
        .context("a locality")?;
    Ok(Terms { orders, middle, locality_id })
}

fn variants(t: &Terms) -> Vec<Variant> {
    let sort = |field: &str, direction: &str| json!({ "sort": { "field": field, "direction": direction } });
    let filter = |f: Value| json!({ "filter": f });
    vec![
        Variant { name: "newest first (the default)", variables: json!({}) },
        Variant { name: "sort: oldest first", variables: sort("CREATED_AT", "ASC") },
        Variant { name: "sort: last changed", variables: sort("UPDATED_AT", "DESC") },
        Variant { name: "sort: total, largest first", variables: sort("TOTAL", "DESC") },
        Variant { name: "sort: total, smallest first", variables: sort("TOTAL", "ASC") },
        Variant { name: "sort: code", variables: sort("CODE", "ASC") },
        Variant { name: "sort: priority", variables: sort("PRIORITY", "DESC") },
        Variant { name: "filter: status of 99 % (INVOICED)", variables: filter(json!({ "statuses": ["INVOICED"] })) },
        Variant { name: "filter: status of 1 % (DELIVERY_FAILED)", variables: filter(json!({ "statuses": ["DELIVERY_FAILED"] })) },
        Variant {
            name: "filter: two statuses, 1 % (DELIVERY_FAILED, IN_TRANSIT)",
            variables: filter(json!({ "statuses": ["DELIVERY_FAILED", "IN_TRANSIT"] })),
        },
        Variant { name: "filter: code of one order", variables: filter(json!({ "code": format!("#{}", t.orders / 2) })) },
        Variant { name: "filter: product (0.4 %)", variables: filter(json!({ "product": "SKU-123" })) },
        Variant { name: "filter: customer name (2 %)", variables: filter(json!({ "customerName": "customer 7" })) },
        Variant {
            name: "filter: a day's window mid-table",
            variables: filter(json!({ "createdFrom": t.middle - chrono::Duration::days(1), "createdTo": t.middle })),
        },
        Variant { name: "filter: total at least 980.00 (top 2 %)", variables: filter(json!({ "minTotal": "980.00" })) },
        Variant { name: "filter: total at most 20.00 (bottom 1 %)", variables: filter(json!({ "maxTotal": "20.00" })) },
        Variant { name: "filter: one destination (2 %)", variables: filter(json!({ "localityId": t.locality_id.to_string() })) },
        Variant {
            name: "filter: status of 1 %, sorted by total",
            variables: json!({ "filter": { "statuses": ["DELIVERY_FAILED"] }, "sort": { "field": "TOTAL", "direction": "DESC" } }),
        },
    ]
}

/// Runs the page with `variables` one request at a time for `time`; returns
/// sorted latencies (one client, so they are the service time).
async fn time_page(client: &reqwest::Client, started: &Started, variables: &Value, time: Duration) -> anyhow::Result<Vec<Duration>> {
    let url = format!("{}/graphql", started.base);
    let body = json!({ "query": PAGE, "variables": variables });
    let deadline = Instant::now() + time;
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let t = Instant::now();
        let answer: Value = client.post(&url).bearer_auth(&started.token).json(&body).send().await?.json().await?;
        anyhow::ensure!(answer["errors"].is_null(), "query failed: {answer}");
        latencies.push(t.elapsed());
    }
    latencies.sort();
    Ok(latencies)
}

/// Seeds both tables, serves both, and prints one row per variant: p50 on each
/// and the ratio, from `rounds` interleaved rounds (small, large, large, small).
pub async fn run(args: &Args) -> anyhow::Result<()> {
    let (small_url, name) = fresh_database(&args.database, "rastro_bench_small").await?;
    let small = start(&small_url, name, args.small_orders).await?;
    let (large_url, _) = fresh_database(&args.database, "rastro_bench").await?;
    let large = start(&large_url, name, args.orders).await?;
    let (small_terms, large_terms) = (terms_of(&small, args.small_orders).await?, terms_of(&large, args.orders).await?);
    let client = reqwest::Client::new();
    let time = Duration::from_secs(args.seconds.max(1));
    println!(
        "| database | page of 20 orders | {} orders: p50 | {} orders: p50 | ratio | orders on the page (and counted), small / large |",
        args.small_orders, args.orders
    );
    println!("|---|---|---|---|---|---|");
    for (on_small, on_large) in variants(&small_terms).into_iter().zip(variants(&large_terms)) {
        // Warm both: the first request of a shape plans it and fills caches.
        let warm = Duration::from_millis(500);
        time_page(&client, &small, &on_small.variables, warm).await?;
        time_page(&client, &large, &on_large.variables, warm).await?;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            a.extend(time_page(&client, &small, &on_small.variables, time / 4).await?);
            b.extend(time_page(&client, &large, &on_large.variables, time / 2).await?);
            a.extend(time_page(&client, &small, &on_small.variables, time / 4).await?);
        }
        a.sort();
        b.sort();
        let rows = format!(
            "{} / {}",
            first_page_rows(&client, &small, &on_small.variables).await?,
            first_page_rows(&client, &large, &on_large.variables).await?
        );
        let (p_small, p_large) = (percentile(&a, 0.5), percentile(&b, 0.5));
        println!(
            "| {name} | {} | {} ms | {} ms | **{:.2}** | {rows} |",
            on_small.name,
            ms(p_small),
            ms(p_large),
            p_large.as_secs_f64() / p_small.as_secs_f64().max(1e-9)
        );
    }
    Ok(())
}

/// How many orders a table's first page holds, and its count: a variant that
/// finds nothing would measure nothing, and one that finds fewer on the small
/// table does less there.
async fn first_page_rows(client: &reqwest::Client, started: &Started, variables: &Value) -> anyhow::Result<String> {
    let body = json!({ "query": PAGE, "variables": variables });
    let answer: Value =
        client.post(format!("{}/graphql", started.base)).bearer_auth(&started.token).json(&body).send().await?.json().await?;
    let edges = answer["data"]["orders"]["edges"].as_array().map_or(0, Vec::len);
    Ok(format!("{edges} (count {})", answer["data"]["orders"]["totalCount"]))
}
