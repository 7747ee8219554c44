//! Seeds a benchmark database: one company, 50 localities, and N orders with
//! two items, three history entries, a classification and, for half, a shipment.
//!
//! Values are spread so that each filter and sort has work to do: totals
//! over a range, three priorities, 50 customer names, 500 products, and one
//! order in a hundred held in `DELIVERY_FAILED` (the rest `INVOICED`).

use chrono::{Duration, Utc};
use domain::{
    auth::{self, Credentials},
    companies::{self, NewCompany},
    users, Actor, Ctx,
};
use entities::{locality, order, order_attribute, order_item, order_status_history, shipment, AttributeKind, LogisticRole, OrderStatus};
use sea_orm::{EntityTrait, QueryOrder, QuerySelect, Set};

/// Company identifier.
pub const COMPANY: &str = "bench-co";
/// Staff login.
pub const STAFF_EMAIL: &str = "staff@bench.example";
/// Staff password.
pub const STAFF_PASSWORD: &str = "Bench-password-2026";

/// What the seed created.
pub struct Fixture {
    /// The company.
    pub company_id: i32,
    /// The company's integration token.
    pub integration_token: String,
}

const BATCH: usize = 400;

pub async fn seed(ctx: &Ctx, orders: usize) -> anyhow::Result<Fixture> {
    let system = Actor::system("benchmark seed");
    let company = companies::create(
        ctx,
        &system,
        NewCompany { identifier: COMPANY.into(), email: "b@bench.example".into(), phone: "+55 11 3333-4444".into(), cnpj: "11222333000181".into() },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (company, integration_token) = (company.company, company.integration_token);
    let created = users::create_company_user(
        ctx,
        &system,
        users::NewCompanyUser { company_id: company.id, email: STAFF_EMAIL.into(), name: "Bench".into(), temporary_password: Some("Temporary-2026".into()) },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let session = auth::login(
        ctx,
        &Actor::anonymous(),
        Credentials { email: created.user.email, password: "Temporary-2026".into(), company: Some(COMPANY.into()), source: None },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let staff = auth::authenticate(ctx, &session.access_token).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    auth::change_password(ctx, &staff, "Temporary-2026", STAFF_PASSWORD).await.map_err(|e| anyhow::anyhow!("{e}"))?;

    let now = Utc::now();
    let localities: Vec<locality::ActiveModel> = (0..50)
        .map(|n| locality::ActiveModel {
            company_id: Set(company.id),
            source_id: Set(format!("L-{n}")),
            name: Set(format!("Store {n}")),
            logistic_role: Set(LogisticRole::Destination),
            city: Set(Some("São Paulo".into())),
            state: Set(Some("SP".into())),
            responsible_name: Set(Some(format!("Customer {n}"))),
            responsible_email: Set(Some(format!("customer{n}@bench.example"))),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    locality::Entity::insert_many(localities).exec_without_returning(&ctx.db).await?;
    let locality_ids: Vec<i32> =
        locality::Entity::find().select_only().column(locality::Column::Id).into_tuple().all(&ctx.db).await?;

    let path = [OrderStatus::Received, OrderStatus::Approved, OrderStatus::Invoiced];
    for start in (0..orders).step_by(BATCH) {
        let end = (start + BATCH).min(orders);
        let rows: Vec<order::ActiveModel> = (start..end)
            .map(|i| {
                let created = now - Duration::minutes(i64::try_from(orders - i).unwrap_or(0));
                let status = if i % 100 == 99 { OrderStatus::DeliveryFailed } else { OrderStatus::Invoiced };
                let spread = i64::try_from(i).unwrap_or(0);
                order::ActiveModel {
                    company_id: Set(company.id),
                    source_id: Set(format!("B-{i}")),
                    code: Set(format!("#{i}")),
                    status: Set(status),
                    customer_status: Set(status),
                    customer_name: Set(Some(format!("Customer {}", i % 50))),
                    destination_locality_id: Set(Some(locality_ids[i % locality_ids.len()])),
                    priority: Set(i32::try_from(i % 3).unwrap_or(0)),
                    total_cents: Set(1_000 + spread * 7_919 % 99_000),
                    refunded_cents: Set(0),
                    invoice_number: Set(Some(format!("{i}"))),
                    last_event_at: Set(Some(created)),
                    created_at: Set(created),
                    updated_at: Set(created),
                    ..Default::default()
                }
            })
            .collect();
        order::Entity::insert_many(rows).exec_without_returning(&ctx.db).await?;
        let ids: Vec<(i32, chrono::DateTime<Utc>)> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .column(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .limit(u64::try_from(end - start).unwrap_or(0))
            .into_tuple()
            .all(&ctx.db)
            .await?;
        let mut items = Vec::new();
        let mut history = Vec::new();
        let mut shipments = Vec::new();
        let mut attributes = Vec::new();
        for (id, created) in ids {
            for line in 0..2 {
                items.push(order_item::ActiveModel {
                    order_id: Set(id),
                    source_id: Set(format!("{line}")),
                    product_id: Set(format!("SKU-{}", (id + line) % 500)),
                    name: Set("Product".into()),
                    quantity: Set(1.0),
                    unit_price_cents: Set(12_500),
                    ..Default::default()
                });
            }
            let mut from = None;
            for (step, to) in path.iter().enumerate() {
                history.push(order_status_history::ActiveModel {
                    order_id: Set(id),
                    company_id: Set(company.id),
                    from_status: Set(from),
                    to_status: Set(*to),
                    notify_customer: Set(false),
                    visible_to_customer: Set(true),
                    source: Set("bench".into()),
                    applied: Set(true),
                    occurred_at: Set(created + Duration::seconds(i64::try_from(step).unwrap_or(0))),
                    recorded_at: Set(created),
                    ..Default::default()
                });
                from = Some(*to);
            }
            if id % 2 == 0 {
                shipments.push(shipment::ActiveModel {
                    order_id: Set(id),
                    company_id: Set(company.id),
                    carrier: Set("Correios".into()),
                    tracking_number: Set(format!("BR{id:09}")),
                    shipped_at: Set(created),
                    created_at: Set(created),
                    ..Default::default()
                });
            }
            attributes.push(order_attribute::ActiveModel {
                order_id: Set(id),
                kind: Set(AttributeKind::Classification),
                key: Set("channel".into()),
                value: Set("web".into()),
                ..Default::default()
            });
        }
        order_item::Entity::insert_many(items).exec_without_returning(&ctx.db).await?;
        order_status_history::Entity::insert_many(history).exec_without_returning(&ctx.db).await?;
        if !shipments.is_empty() {
            shipment::Entity::insert_many(shipments).exec_without_returning(&ctx.db).await?;
        }
        order_attribute::Entity::insert_many(attributes).exec_without_returning(&ctx.db).await?;
    }
    Ok(Fixture { company_id: company.id, integration_token })
}
