//! Mail throughput: queue N mails in the outbox and time the worker delivering
//! them to a local SMTP server that only counts what it accepts.

use std::{
    net::{IpAddr, TcpListener},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use domain::{notifications::settings, Ctx};
use entities::{notification, NotificationKind, NotificationState, SmtpSecurity};
use mailin_embedded::{response, Handler, Response, Server};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

#[derive(Clone)]
struct Counter(Arc<AtomicUsize>);

impl Handler for Counter {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }

    fn data_end(&mut self) -> Response {
        self.0.fetch_add(1, Ordering::Relaxed);
        response::OK
    }
}

/// Delivers `count` queued mails (and any the company had waiting) over at
/// most `connections` connections; returns how many and how long it took.
pub async fn mail_throughput(ctx: &Ctx, token: &str, company_id: i32, count: usize, connections: i32) -> anyhow::Result<(usize, Duration)> {
    let received = Arc::new(AtomicUsize::new(0));
    // BENCH_SMTP_PORT points at an SMTP server of your own instead.
    let external = std::env::var("BENCH_SMTP_PORT").ok().and_then(|p| p.parse::<u16>().ok());
    let port = match external {
        Some(port) => port,
        None => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let port = listener.local_addr()?.port();
            let mut server = Server::new(Counter(received.clone()));
            server.with_name("sink.local").with_num_threads(8).with_tcp_listener(listener);
            std::thread::spawn(move || {
                let _ = server.serve();
            });
            port
        }
    };

    // Mails the company's earlier changes queued (the feeds' status mails, in
    // a full run, held until it has a sender) go out with these once its SMTP
    // is set, so they are counted.
    let of_company = || notification::Entity::find().filter(notification::Column::CompanyId.eq(company_id));
    let waiting = of_company()
        .filter(notification::Column::State.is_in([NotificationState::Pending, NotificationState::Sending, NotificationState::Held]))
        .count(&ctx.db)
        .await?;
    let sent_before = of_company().filter(notification::Column::State.eq(NotificationState::Sent)).count(&ctx.db).await?;
    let expected = count + usize::try_from(waiting)?;
    let staff = domain::auth::authenticate(ctx, token).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let input = settings::SmtpInput {
        host: "127.0.0.1".into(),
        port: i32::from(port),
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from_address: "pedidos@bench.example".into(),
        from_name: Some("Bench".into()),
        reply_to: None,
        max_connections: Some(connections),
        max_per_second: None,
    };
    settings::save_smtp(ctx, &staff, input).await.map_err(|e| anyhow::anyhow!("{e}"))?;

    let now = Utc::now();
    let rows: Vec<notification::ActiveModel> = (0..count)
        .map(|n| notification::ActiveModel {
            company_id: Set(Some(company_id)),
            kind: Set(NotificationKind::Resend),
            recipient: Set(format!("customer{}@bench.example", n % 50)),
            subject: Set(format!("Pedido #{n} — Em trânsito")),
            html: Set(format!("<p>Olá! O seu pedido #{n} está a caminho.</p><p><a href=\"http://127.0.0.1/orders/{n}\">Resumo do pedido</a></p>")),
            text: Set(format!("Olá! O seu pedido #{n} está a caminho.\n\nResumo do pedido: http://127.0.0.1/orders/{n}\n")),
            state: Set(NotificationState::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(500) {
        notification::Entity::insert_many(chunk.to_vec()).exec_without_returning(&ctx.db).await?;
    }
    ctx.mail_wakeup.notify_one();
    loop {
        let sent = of_company().filter(notification::Column::State.eq(NotificationState::Sent)).count(&ctx.db).await? - sent_before;
        if usize::try_from(sent)? >= expected {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(300), "mail delivery stalled at {sent}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    if external.is_none() {
        let got = received.load(Ordering::Relaxed);
        anyhow::ensure!(got == expected, "the sink got {got} mails, {expected} expected");
    }
    Ok((expected, elapsed))
}
