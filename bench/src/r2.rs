//! TOTVS R2 `createOrders` throughput: batches of 1, 100 and 1,000 orders of
//! 10 items each, sent over HTTP to the real SOAP endpoint; the adapter's
//! parse+validate rate alone; and the floor — the same rows (orders, items
//! with their R2 fields, attributes, history entries, audit entries, run
//! items and the run with its request) written by hand-written multi-row
//! INSERTs of literal values, one transaction per call, on the same
//! database, with the call already parsed.

use std::time::{Duration, Instant};

use adapter_totvs_r2::{TotvsR2, CREATE_ORDERS};
use domain::{
    ingest::{Adapter, Command, Context},
    orders::NewOrder,
};
use entities::{locality, LogisticRole};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};

/// Items per order, as the issue asks.
const ITEMS: usize = 10;
/// The origin locality every item ships from.
const ORIGIN: &str = "CD-R2";

/// One measured batch size.
pub struct Rates {
    /// Orders per call.
    pub batch: usize,
    /// Orders sent in all.
    pub orders: usize,
    /// End to end over HTTP, orders per second.
    pub end_to_end: f64,
    /// The hand-written floor, orders per second.
    pub floor: f64,
}

/// Creates the origin locality the generated items name.
pub async fn prepare(db: &DatabaseConnection, company_id: i32) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    locality::Entity::insert(locality::ActiveModel {
        company_id: Set(company_id),
        source_id: Set(ORIGIN.into()),
        name: Set("R2 distribution centre".into()),
        logistic_role: Set(LogisticRole::Origin),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// A `createOrders` call of `count` orders numbered from `first`, with the
/// fields a TRE integration typically sends.
pub fn envelope(prefix: &str, first: usize, count: usize) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ord="http://www.neolog.com.br/cpl/acquisition/order/">
<soapenv:Header/><soapenv:Body><ord:createOrders><ord:orders>"#,
    );
    for i in first..first + count {
        let id = format!("{prefix}{i}");
        xml.push_str(&format!(
            "<ord:order><ord:regionSourceId>SP</ord:regionSourceId><ord:identifier>{id}</ord:identifier>\
             <ord:code>Pedido {id}</ord:code><ord:shipperId>ACME</ord:shipperId><ord:orderTypeSourceId>VENDA</ord:orderTypeSourceId>\
             <ord:priority>5</ord:priority><ord:pickupStart>2026-12-07T00:01:00.000-03:00</ord:pickupStart>\
             <ord:pickupEnd>2026-12-07T18:00:00.000-03:00</ord:pickupEnd><ord:deliveryStart>2026-12-08T08:00:00-03:00</ord:deliveryStart>\
             <ord:deliveryEnd>2026-12-09T23:59:00-03:00</ord:deliveryEnd><ord:destinationId>L-{}</ord:destinationId>\
             <ord:integrationDataSource>PROTHEUS</ord:integrationDataSource><ord:incoterm>1</ord:incoterm>\
             <ord:reference>NF {i}</ord:reference>\
             <ord:classifications><ord:classification><ord:type>CANAL</ord:type><ord:value>B2B</ord:value></ord:classification></ord:classifications>\
             <ord:items>",
            i % 50
        ));
        for line in 1..=ITEMS {
            xml.push_str(&format!(
                "<ord:item><ord:orderId>{id}</ord:orderId><ord:sourceId>{id}-{line}</ord:sourceId><ord:productId>SKU-{line}</ord:productId>\
                 <ord:originId>{ORIGIN}</ord:originId><ord:shipmentUnitWrapperCode>CX</ord:shipmentUnitWrapperCode>\
                 <ord:price>{line}9.90</ord:price><ord:height>0.3</ord:height><ord:length>0.4</ord:length><ord:width>0.2</ord:width>\
                 <ord:weight>2.5</ord:weight><ord:quantity>{line}</ord:quantity><ord:quantityInShipmentUnits>1</ord:quantityInShipmentUnits></ord:item>"
            ));
        }
        xml.push_str("</ord:items></ord:order>");
    }
    xml.push_str("</ord:orders></ord:createOrders></soapenv:Body></soapenv:Envelope>");
    xml
}

/// Sends one call to the endpoint.
async fn send(client: &reqwest::Client, url: &str, token: &str, body: String) -> anyhow::Result<()> {
    let response = client
        .post(url)
        .header("user.token", token)
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", CREATE_ORDERS)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let answer = response.text().await?;
    anyhow::ensure!(status.is_success() && !answer.contains("<sucess>false"), "createOrders failed ({status}): {answer}");
    Ok(())
}

/// How many orders per second the adapter reads and checks (no database).
pub fn parse_rate(orders: usize) -> anyhow::Result<f64> {
    let body = envelope("P-", 0, orders);
    let adapter = TotvsR2::default();
    let context = Context { now: chrono::Utc::now(), ..Context::default() };
    let rounds = 5;
    let started = Instant::now();
    for _ in 0..rounds {
        let batch = adapter.parse(CREATE_ORDERS, body.as_bytes(), &context).map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(batch.records.iter().all(|r| r.refusals.is_empty()), "the generated orders are refused");
        std::hint::black_box(batch);
    }
    Ok((rounds * orders) as f64 / started.elapsed().as_secs_f64())
}

/// The orders a generated call creates, as the adapter reads them.
fn created_orders(body: &str) -> anyhow::Result<Vec<NewOrder>> {
    let batch = TotvsR2::default()
        .parse(CREATE_ORDERS, body.as_bytes(), &Context { now: chrono::Utc::now(), ..Context::default() })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(batch
        .records
        .into_iter()
        .filter_map(|r| match r.commands.into_iter().next() {
            Some(Command::Create(new)) => Some(new),
            _ => None,
        })
        .collect())
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn optional(text: Option<&str>) -> String {
    text.map_or_else(|| "NULL".to_owned(), quote)
}

/// The floor for one call: the rows the pipeline writes for it, by hand, in
/// one transaction: the run (with its request), then one multi-row INSERT per
/// table.
async fn floor_call(db: &DatabaseConnection, company_id: i32, destinations: &[i32], origin: i32, body: &str, orders: &[NewOrder]) -> anyhow::Result<()> {
    let now = quote(&chrono::Utc::now().to_rfc3339());
    let txn = db.begin().await?;
    let run: i32 = txn
        .query_one(sea_orm::Statement::from_string(
            txn.get_database_backend(),
            format!(
                "INSERT INTO integration_runs (company_id, adapter, operation, outcome, received_at, finished_at, duration_ms, received, applied, skipped, failed, request, request_bytes, request_truncated, response, response_bytes, response_truncated) \
                 VALUES ({company_id}, 'totvs-r2', 'createOrders', 'SUCCESS', {now}, {now}, 1, {n}, {n}, 0, 0, {}, {}, false, '<ok/>', 5, false) RETURNING id",
                quote(&domain::ingest::runs::capped(body.as_bytes()).0),
                body.len(),
                n = orders.len()
            ),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no run id"))?
        .try_get_by_index(0)?;
    let values: Vec<String> = orders
        .iter()
        .enumerate()
        .map(|(n, o)| {
            format!(
                "({company_id}, {}, {}, 'RECEIVED', 'RECEIVED', {}, {now}, {now}, {now}, {now}, 5, 'CIF', 1234500, {}, 0, {now}, {now}, {})",
                quote(&o.source_id),
                quote(&o.code),
                destinations[n % destinations.len()],
                optional(o.reference.as_deref()),
                quote(&"d".repeat(64)),
            )
        })
        .collect();
    let ids: Vec<(i32, String)> = txn
        .query_all(sea_orm::Statement::from_string(
            txn.get_database_backend(),
            format!(
                "INSERT INTO orders (company_id, source_id, code, status, customer_status, destination_locality_id, pickup_start, pickup_end, delivery_start, delivery_end, priority, incoterm, total_cents, reference, refunded_cents, created_at, updated_at, source_digest) VALUES {} RETURNING id, source_id",
                values.join(",")
            ),
        ))
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect::<Result<_, sea_orm::DbErr>>()?;
    let id_of: std::collections::HashMap<&str, i32> = ids.iter().map(|(id, source)| (source.as_str(), *id)).collect();
    let (mut items, mut pairs, mut history, mut audit, mut run_items) = (vec![], vec![], vec![], vec![], vec![]);
    for (position, o) in orders.iter().enumerate() {
        let id = id_of[o.source_id.as_str()];
        for item in &o.items {
            let attributes: serde_json::Map<String, serde_json::Value> =
                item.attributes.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
            items.push(format!(
                "({id}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {origin}, {}, {})",
                quote(&item.source_id),
                quote(&item.product_id),
                quote(&item.name),
                item.quantity,
                item.unit_price_cents,
                item.height.unwrap_or(0.0),
                item.length.unwrap_or(0.0),
                item.width.unwrap_or(0.0),
                item.weight.unwrap_or(0.0),
                item.total_cents.map_or_else(|| "NULL".to_owned(), |c| c.to_string()),
                quote(&serde_json::Value::Object(attributes).to_string()),
            ));
        }
        for (key, value) in &o.classifications {
            pairs.push(format!("({id}, 'CLASSIFICATION', {}, {})", quote(key), quote(value)));
        }
        for (key, value) in &o.attributes {
            pairs.push(format!("({id}, 'ATTRIBUTE', {}, {})", quote(key), quote(value)));
        }
        history.push(format!("({id}, {company_id}, NULL, 'RECEIVED', NULL, true, true, 'integration', NULL, NULL, true, NULL, {now}, {now})"));
        audit.push(format!("({company_id}, NULL, 'integration', 'order.create', 'order', '{id}', NULL, {now})"));
        run_items.push(format!("({run}, {company_id}, {position}, {}, 'APPLIED', {id}, '[\"created as RECEIVED\"]')", quote(&o.source_id)));
    }
    for (table, columns, rows) in [
        (
            "order_items",
            "order_id, source_id, product_id, name, quantity, unit_price_cents, height, length, width, weight, origin_locality_id, total_cents, attributes",
            items,
        ),
        ("order_attributes", "order_id, kind, key, value", pairs),
        (
            "order_status_history",
            "order_id, company_id, from_status, to_status, comment, notify_customer, visible_to_customer, source, actor_user_id, event_id, applied, skip_reason, occurred_at, recorded_at",
            history,
        ),
        ("audit_log", "company_id, actor_user_id, actor_kind, action, entity, entity_id, detail, created_at", audit),
        ("integration_run_items", "run_id, company_id, position, source_id, outcome, order_id, applied", run_items),
    ] {
        for chunk in rows.chunks(1_000) {
            txn.execute_unprepared(&format!("INSERT INTO {table} ({columns}) VALUES {}", chunk.join(","))).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Measures each batch size end to end and against its floor. The calls
/// alternate — one over HTTP, then the floor's of the same size — so both see
/// the same moments of a shared, noisy machine.
pub async fn measure(db: &DatabaseConnection, base: &str, token: &str, company_id: i32, sizes: &[(usize, usize)]) -> anyhow::Result<Vec<Rates>> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let localities: Vec<(i32, String)> = locality::Entity::find()
        .select_only()
        .column(locality::Column::Id)
        .column(locality::Column::SourceId)
        .filter(locality::Column::CompanyId.eq(company_id))
        .into_tuple()
        .all(db)
        .await?;
    let origin = localities.iter().find(|(_, s)| s == ORIGIN).map(|(id, _)| *id).ok_or_else(|| anyhow::anyhow!("no origin"))?;
    let destinations: Vec<i32> = localities.iter().filter(|(_, s)| s != ORIGIN).map(|(id, _)| *id).collect();
    let client = reqwest::Client::new();
    let url = format!("{base}/integrations/totvs-r2/OrderAcquisitionService");
    let mut rates = Vec::new();
    for &(batch, orders) in sizes {
        let (mut e2e, mut floor) = (Duration::ZERO, Duration::ZERO);
        for first in (0..orders).step_by(batch) {
            let body = envelope(&format!("R2-{batch}-"), first, batch);
            let started = Instant::now();
            send(&client, &url, token, body).await?;
            e2e += started.elapsed();
            // Reading the call is not the floor's work: only the SQL is timed.
            let body = envelope(&format!("F2-{batch}-"), first, batch);
            let created = created_orders(&body)?;
            let started = Instant::now();
            floor_call(db, company_id, &destinations, origin, &body, &created).await?;
            floor += started.elapsed();
        }
        rates.push(Rates { batch, orders, end_to_end: orders as f64 / e2e.as_secs_f64(), floor: orders as f64 / floor.as_secs_f64() });
    }
    Ok(rates)
}
