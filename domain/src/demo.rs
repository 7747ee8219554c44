//! Demo data for `rastro demo`: an admin, two companies with staff, localities,
//! customers and a few hundred orders over every status with their histories.
//! Loading is idempotent: if the demo admin exists, nothing is loaded again.

use chrono::{Duration, Utc};
use entities::{
    invoice, locality, order, order_attribute, order_item, order_status_history, refund, shipment, tracking_event, user, AttributeKind,
    Incoterm, LogisticRole,
    OrderStatus, UserRole,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::{
    auth::hash_password,
    companies::{self, NewCompany},
    users, Actor, Ctx, DomainError, DomainResult,
};

/// A login printed for the person trying the demo.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// `admin`, `company` or `customer`.
    pub role: &'static str,
    /// Company identifier to type at login (`None` for the admin).
    pub company: Option<&'static str>,
    /// E-mail.
    pub email: &'static str,
    /// Password.
    pub password: &'static str,
}

/// Orders created per demo company.
pub const ORDERS_PER_COMPANY: usize = 150;

const ADMIN: DemoLogin =
    DemoLogin { role: "admin", company: None, email: "admin@rastro.dev", password: "Rastro-admin-2026" };

struct DemoCompany {
    identifier: &'static str,
    email: &'static str,
    phone: &'static str,
    cnpj: &'static str,
    staff: DemoLogin,
    customers: [(&'static str, &'static str); 2],
    city: &'static str,
    state: &'static str,
}

const CUSTOMER_PASSWORD: &str = "Cliente-2026";

const COMPANIES: [DemoCompany; 2] = [
    DemoCompany {
        identifier: "acme-logistica",
        email: "contato@acme.example",
        phone: "+55 11 3333-4444",
        cnpj: "11.222.333/0001-81",
        staff: DemoLogin { role: "company", company: Some("acme-logistica"), email: "ops@acme.example", password: "Acme-ops-2026" },
        customers: [("maria@cliente.example", "Maria Souza"), ("joao@cliente.example", "João Lima")],
        city: "São Paulo",
        state: "SP",
    },
    DemoCompany {
        identifier: "borealis-store",
        email: "hello@borealis.example",
        phone: "+55 51 4000-1234",
        cnpj: "12.ABC.345/01DE-35",
        staff: DemoLogin { role: "company", company: Some("borealis-store"), email: "ops@borealis.example", password: "Borealis-ops-2026" },
        customers: [("maria@cliente.example", "Maria Souza"), ("ana@cliente.example", "Ana Pereira")],
        city: "Porto Alegre",
        state: "RS",
    },
];

/// The logins the demo data creates.
pub fn logins() -> Vec<DemoLogin> {
    let mut all = vec![ADMIN];
    for company in &COMPANIES {
        all.push(company.staff.clone());
        for (email, _) in company.customers {
            all.push(DemoLogin { role: "customer", company: Some(company.identifier), email, password: CUSTOMER_PASSWORD });
        }
    }
    all
}

/// Loads the demo data unless it is already there. Returns whether it loaded.
pub async fn load(ctx: &Ctx) -> DomainResult<bool> {
    let system = Actor::system("demo data");
    let admin_exists = user::Entity::find()
        .filter(user::Column::Email.eq(ADMIN.email))
        .filter(user::Column::Role.eq(UserRole::Admin))
        .count(&ctx.db)
        .await?
        > 0;
    if admin_exists {
        // The last step of a load is the second company's orders; without them an
        // earlier load was interrupted and the data is incomplete.
        let complete = order::Entity::find().count(&ctx.db).await? >= (ORDERS_PER_COMPANY * COMPANIES.len()) as u64;
        if !complete {
            return Err(DomainError::Conflict(
                "the demo data of an interrupted load is incomplete; remove the database (./data) and run again".into(),
            ));
        }
        return Ok(false);
    }
    users::create_admin(ctx, &system, ADMIN.email, ADMIN.password).await?;
    for (index, spec) in COMPANIES.iter().enumerate() {
        let created = companies::create(
            ctx,
            &system,
            NewCompany {
                identifier: spec.identifier.into(),
                email: spec.email.into(),
                phone: spec.phone.into(),
                cnpj: spec.cnpj.into(),
            },
        )
        .await?;
        let company_id = created.company.id;
        let staff_hash = hash_password(spec.staff.password.to_owned()).await?;
        users::insert_user(&ctx.db, Some(company_id), UserRole::Company, spec.staff.email, "Operações", staff_hash, false)
            .await?;
        for (email, name) in spec.customers {
            users::create_customer(ctx, &system, company_id, email, name, CUSTOMER_PASSWORD).await?;
        }
        load_orders(ctx, company_id, spec, index as u64 + 1).await?;
    }
    Ok(true)
}

/// A tiny deterministic generator, so every demo database looks the same.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

/// A plausible history leading to `status`.
fn path_to(status: OrderStatus) -> Vec<OrderStatus> {
    use OrderStatus::*;
    let shipped = vec![Received, Approved, Invoiced, InSeparation, InTransit];
    match status {
        Received => vec![Received],
        Approved => vec![Received, Approved],
        InProduction => vec![Received, Approved, InProduction],
        Invoiced => vec![Received, Approved, Invoiced],
        InSeparation => vec![Received, Approved, Invoiced, InSeparation],
        InTransit => shipped,
        DeliveryFailed => [shipped, vec![DeliveryFailed]].concat(),
        Delivered => [shipped, vec![Delivered]].concat(),
        Cancelled => vec![Received, Approved, Cancelled],
        Refunded => [shipped, vec![Delivered, Refunded]].concat(),
        OnHold => vec![Received, Approved, OnHold],
    }
}

const STATUSES: [OrderStatus; 11] = [
    OrderStatus::Received,
    OrderStatus::Approved,
    OrderStatus::InProduction,
    OrderStatus::Invoiced,
    OrderStatus::InSeparation,
    OrderStatus::InTransit,
    OrderStatus::DeliveryFailed,
    OrderStatus::Delivered,
    OrderStatus::Cancelled,
    OrderStatus::Refunded,
    OrderStatus::OnHold,
];

const PRODUCTS: [(&str, &str, i64); 6] = [
    ("SKU-1001", "Cadeira de escritório", 45_990),
    ("SKU-1002", "Mesa de reunião", 129_900),
    ("SKU-2001", "Monitor 27\"", 159_900),
    ("SKU-2002", "Teclado mecânico", 39_900),
    ("SKU-3001", "Caixa de papel A4", 2_990),
    ("SKU-3002", "Luminária LED", 8_990),
];

async fn load_orders(ctx: &Ctx, company_id: i32, spec: &DemoCompany, seed: u64) -> DomainResult<()> {
    let mut rng = Lcg(seed);
    let now = Utc::now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let origin = locality::ActiveModel {
        company_id: Set(company_id),
        source_id: Set("CD-01".into()),
        name: Set(format!("Centro de distribuição {}", spec.city)),
        logistic_role: Set(LogisticRole::Origin),
        street: Set(Some("Av. das Indústrias".into())),
        number: Set(Some("1000".into())),
        city: Set(Some(spec.city.into())),
        state: Set(Some(spec.state.into())),
        country: Set(Some("BR".into())),
        latitude: Set(Some(-23.55)),
        longitude: Set(Some(-46.63)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut destinations = Vec::new();
    for n in 0..6 {
        let (email, name) = spec.customers[n % 2];
        let destination = locality::ActiveModel {
            company_id: Set(company_id),
            source_id: Set(format!("LOJA-{:02}", n + 1)),
            name: Set(format!("Loja {} {}", spec.city, n + 1)),
            logistic_role: Set(if n == 5 { LogisticRole::Both } else { LogisticRole::Destination }),
            street: Set(Some(format!("Rua {}", ["das Flores", "Augusta", "XV de Novembro", "da Praia", "Bela", "Nova"][n]))),
            number: Set(Some(format!("{}", 100 + n * 37))),
            district: Set(Some("Centro".into())),
            city: Set(Some(spec.city.into())),
            state: Set(Some(spec.state.into())),
            country: Set(Some("BR".into())),
            zip_code: Set(Some(format!("0{}000-000", n + 1))),
            responsible_name: Set(Some(name.into())),
            responsible_email: Set(Some(email.into())),
            responsible_phone: Set(Some("+55 11 99999-0000".into())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        destinations.push(destination);
    }

    let prefix = spec.identifier.split('-').next().unwrap_or("PED").to_uppercase();
    let mut items = Vec::new();
    let mut history = Vec::new();
    let mut attributes = Vec::new();
    let mut shipments = Vec::new();
    let mut refunds = Vec::new();
    let mut invoices = Vec::new();
    // Per shipped order: its destination's city and whether it arrived, for
    // the carrier's timeline written once the shipments have ids.
    let mut journeys = std::collections::HashMap::new();
    for n in 0..ORDERS_PER_COMPANY {
        let status = STATUSES[n % STATUSES.len()];
        let path = path_to(status);
        let created_at = now - Duration::hours(i64::try_from(rng.next(60 * 24) + 48).unwrap_or(48));
        let destination = &destinations[usize::try_from(rng.next(destinations.len() as u64)).unwrap_or(0)];
        let lines: Vec<_> = (0..=rng.next(3)).map(|_| PRODUCTS[usize::try_from(rng.next(6)).unwrap_or(0)]).collect();
        let quantities: Vec<i64> = lines.iter().map(|_| i64::try_from(rng.next(4) + 1).unwrap_or(1)).collect();
        let total: i64 = lines.iter().zip(&quantities).map(|(p, q)| p.2 * q).sum();
        let step = Duration::hours(i64::try_from(rng.next(10) + 2).unwrap_or(2));
        let last_at = created_at + step * i32::try_from(path.len() - 1).unwrap_or(0);
        let invoiced = path.contains(&OrderStatus::Invoiced);
        let number = 10_000 + n;
        let order = order::ActiveModel {
            company_id: Set(company_id),
            source_id: Set(format!("{prefix}-{number}")),
            code: Set(format!("#{number}")),
            status: Set(status),
            status_before_hold: Set((status == OrderStatus::OnHold).then_some(OrderStatus::Approved)),
            // Demo holds are hidden from customers (see the history below).
            customer_status: Set(if status == OrderStatus::OnHold { OrderStatus::Approved } else { status }),
            customer_name: Set(destination.responsible_name.clone()),
            destination_locality_id: Set(Some(destination.id)),
            delivery_end: Set(Some(created_at + Duration::days(7))),
            pickup_start: Set(Some(created_at + Duration::days(1))),
            priority: Set(i32::try_from(rng.next(11)).unwrap_or(0)),
            incoterm: Set(Some(if n % 3 == 0 { Incoterm::Fob } else { Incoterm::Cif })),
            total_cents: Set(total),
            reference: Set(Some(format!("Pedido de demonstração {number}"))),
            invoice_number: Set(invoiced.then(|| format!("{}", 50_000 + n))),
            invoice_series: Set(invoiced.then(|| "1".to_owned())),
            invoice_key: Set(invoiced.then(|| format!("3526{:040}", number))),
            invoice_value_cents: Set(invoiced.then_some(total)),
            invoice_issued_at: Set(invoiced.then_some(created_at + step * 2)),
            refunded_cents: Set(if status == OrderStatus::Refunded { total } else { 0 }),
            last_event_at: Set(Some(last_at)),
            created_at: Set(created_at),
            updated_at: Set(last_at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if invoiced {
            invoices.push(invoice::ActiveModel {
                order_id: Set(order.id),
                company_id: Set(company_id),
                number: Set(format!("{}", 50_000 + n)),
                key: Set(order.invoice_key.clone()),
                series: Set(order.invoice_series.clone()),
                value_cents: Set(total),
                issued_at: Set(created_at + step * 2),
                created_at: Set(created_at + step * 2),
                ..Default::default()
            });
        }
        for (i, (line, quantity)) in lines.iter().zip(&quantities).enumerate() {
            items.push(order_item::ActiveModel {
                order_id: Set(order.id),
                source_id: Set(format!("{}-{}", order.source_id, i + 1)),
                product_id: Set(line.0.into()),
                name: Set(line.1.into()),
                quantity: Set(*quantity as f64),
                unit_price_cents: Set(line.2),
                weight: Set(Some(1.5)),
                origin_locality_id: Set(Some(origin.id)),
                ..Default::default()
            });
        }
        attributes.push(order_attribute::ActiveModel {
            order_id: Set(order.id),
            kind: Set(AttributeKind::Classification),
            key: Set("canal".into()),
            value: Set(if n % 2 == 0 { "e-commerce" } else { "b2b" }.into()),
            ..Default::default()
        });
        if let Some(step_index) = path.iter().position(|s| *s == OrderStatus::InTransit) {
            let carrier = ["Correios", "Jadlog", "Total Express"][n % 3];
            let shipped_at = created_at + step * i32::try_from(step_index).unwrap_or(0);
            let arrived = path.contains(&OrderStatus::Delivered).then_some(last_at);
            journeys.insert(order.id, (destination.city.clone().unwrap_or_default(), destination.state.clone(), shipped_at, shipped_at + step / 2, arrived));
            shipments.push(shipment::ActiveModel {
                order_id: Set(order.id),
                company_id: Set(company_id),
                carrier: Set(carrier.into()),
                title: Set(Some(format!("{carrier} expresso"))),
                tracking_number: Set(format!("BR{:09}XX", 100_000 + n)),
                tracking_url: Set(Some(format!("https://rastreio.example/{}", 100_000 + n))),
                shipped_at: Set(shipped_at),
                created_at: Set(shipped_at),
                invoice_number: Set(invoiced.then(|| format!("{}", 50_000 + n))),
                delivered_at: Set(arrived),
                ..Default::default()
            });
        }
        if status == OrderStatus::Refunded {
            refunds.push(refund::ActiveModel {
                order_id: Set(order.id),
                company_id: Set(company_id),
                amount_cents: Set(total),
                comment: Set(Some("Devolução a pedido do cliente".into())),
                actor_user_id: Set(None),
                created_at: Set(last_at),
                ..Default::default()
            });
        }
        let mut previous = None;
        for (i, to) in path.iter().enumerate() {
            history.push(order_status_history::ActiveModel {
                order_id: Set(order.id),
                company_id: Set(company_id),
                from_status: Set(previous),
                to_status: Set(*to),
                comment: Set((*to == OrderStatus::OnHold).then(|| "Aguardando análise de crédito".to_owned())),
                notify_customer: Set(matches!(to, OrderStatus::InSeparation | OrderStatus::InTransit | OrderStatus::Delivered)),
                visible_to_customer: Set(*to != OrderStatus::OnHold),
                source: Set("demo".into()),
                applied: Set(true),
                occurred_at: Set(created_at + step * i32::try_from(i).unwrap_or(0)),
                recorded_at: Set(created_at + step * i32::try_from(i).unwrap_or(0)),
                ..Default::default()
            });
            previous = Some(*to);
        }
    }
    // Bounded batches keep each statement under SQLite's bind-parameter limit.
    for chunk in items.chunks(500) {
        order_item::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    for chunk in history.chunks(500) {
        order_status_history::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    for chunk in attributes.chunks(500) {
        order_attribute::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    for chunk in shipments.chunks(500) {
        shipment::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    for chunk in refunds.chunks(500) {
        refund::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    for chunk in invoices.chunks(500) {
        invoice::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    let shipped = shipment::Entity::find().filter(shipment::Column::CompanyId.eq(company_id)).all(&txn).await?;
    let timeline: Vec<tracking_event::ActiveModel> = shipped
        .iter()
        .filter_map(|s| journeys.get(&s.order_id).map(|journey| (s, journey)))
        .flat_map(|(s, (city, state, shipped_at, halfway, arrived))| {
            let mut steps = vec![
                (Some(origin.city.clone().unwrap_or_default()), origin.state.clone(), *shipped_at, "Objeto postado".to_owned()),
                (None, None, *halfway, "Em trânsito para a unidade de distribuição".to_owned()),
            ];
            if let Some(at) = arrived {
                steps.push((Some(city.clone()), state.clone(), *at, "Objeto entregue ao destinatário".to_owned()));
            }
            steps.into_iter().enumerate().map(move |(position, (city, state, at, description))| tracking_event::ActiveModel {
                shipment_id: Set(s.id),
                order_id: Set(s.order_id),
                company_id: Set(company_id),
                position: Set(i32::try_from(position).unwrap_or(0)),
                occurred_at: Set(Some(at)),
                city: Set(city.filter(|c| !c.is_empty())),
                state: Set(state),
                description: Set(description),
                created_at: Set(at),
                ..Default::default()
            })
        })
        .collect();
    for chunk in timeline.chunks(500) {
        tracking_event::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}
