//! Subscription fan-out: thousands of company users hold a GraphQL WebSocket
//! each (`orderStatusChanged`, graphql-transport-ws), and one status change
//! is timed from the mutation's sending to every recipient's receiving it.
//!
//! The server is this process; the subscribers live in a child process (this
//! binary again, `--fanout-loader`), so this process's CPU time is the
//! server's alone. The two talk over the child's stdin and stdout:
//! `READY subscribed failed`, then `FIRE event group unix_nanos` (a change in
//! the company of subscriber group `group` was sent at that time) answered by
//! `DONE event received expected` once every member has it (or after 10 s),
//! `QUIET event group unix_nanos` the same without an answer, `SETTLE`
//! answered by `SETTLED` once every event fired has been answered or timed
//! out, and `REPORT` answered by `LATENCY count p50_us p99_us max_us` over
//! every delivery since the last report.

use std::{
    collections::HashMap,
    io::Write,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use chrono::Utc;
use domain::Ctx;
use entities::{company, order, session, user, OrderStatus, UserRole};
use futures::{SinkExt, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::json;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    sync::{Notify, Semaphore},
};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue, Message};

const WATCH: &str = "subscription { orderStatusChanged { orderId status } }";
/// Handshakes in flight at once: under the listen backlog (128), so no SYN is
/// dropped and retried a second later.
const HANDSHAKES: usize = 64;

/// A company, the orders whose changes its subscribers hear, and the token
/// of the staff user who changes them (not a subscriber).
#[derive(Clone)]
struct Company {
    id: i32,
    orders: Vec<i32>,
    trigger: String,
}

/// Orders per company, changed in turn: under a sustained rate one order's
/// change is long done before its next, which must follow it.
const ORDERS_PER_COMPANY: usize = 4;

/// What one fan-out measurement found.
pub struct Fanout {
    pub what: String,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Server CPU per event (or, sustained, the share of a core).
    pub cpu: f64,
    pub delivered: usize,
    pub expected: usize,
}

/// The measurements, with the server's memory per subscriber.
pub struct Report {
    pub rows: Vec<Fanout>,
    pub kib_per_subscriber: f64,
    /// CPU of one status change nobody listens to, ms.
    pub bare_change_ms: f64,
}

/// Seconds of CPU this process's threads have used, to the nanosecond (the
/// scheduler's own count; `/proc/self/stat` counts in 10 ms ticks).
fn cpu_seconds() -> f64 {
    let Ok(threads) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    let nanos: u64 = threads
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}

fn rss_kib() -> f64 {
    crate::status_kib("VmRSS:")
}

fn unix_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// Raises this process's open-file limit as far as it may go: each socket is
/// a descriptor, in the server and in the loader (which inherits the limit).
pub fn raise_file_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// Creates `companies` companies with one order and one staff user who
/// changes it each, and `users_in[i]` more staff users of company `i` with a
/// live session: the subscribers, as `(company index, token)`.
async fn seed(ctx: &Ctx, companies: usize, users_in: &[usize]) -> anyhow::Result<(Vec<Company>, Vec<(usize, String)>)> {
    let now = Utc::now();
    let rows: Vec<company::ActiveModel> = (0..companies)
        .map(|i| company::ActiveModel {
            identifier: Set(format!("fanout-{i}")),
            email: Set(format!("c{i}@bench.example")),
            phone: Set("+55 11 3333-4444".into()),
            cnpj: Set(format!("{:014}", 90_000_000_000_000_u64 + i as u64)),
            integration_token_hash: Set(format!("unused-{i}")),
            integration_token_prefix: Set("unused".into()),
            active: Set(true),
            vtex_require_invoice_file: Set(false),
            vtex_status_updates: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    company::Entity::insert_many(rows).exec_without_returning(&ctx.db).await?;
    let ids: Vec<(i32, String)> = company::Entity::find()
        .select_only()
        .column(company::Column::Id)
        .column(company::Column::Identifier)
        .filter(company::Column::Identifier.starts_with("fanout-"))
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let mut by_index: Vec<i32> = vec![0; companies];
    for (id, identifier) in ids {
        let index: usize = identifier.trim_start_matches("fanout-").parse()?;
        by_index[index] = id;
    }
    let orders: Vec<order::ActiveModel> = by_index
        .iter()
        .flat_map(|&company_id| (0..ORDERS_PER_COMPANY).map(move |k| (company_id, k)))
        .map(|(company_id, k)| order::ActiveModel {
            company_id: Set(company_id),
            source_id: Set(format!("F-{company_id}-{k}")),
            code: Set(format!("#F{company_id}-{k}")),
            status: Set(OrderStatus::Invoiced),
            customer_status: Set(OrderStatus::Invoiced),
            priority: Set(0),
            total_cents: Set(25_000),
            refunded_cents: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    order::Entity::insert_many(orders).exec_without_returning(&ctx.db).await?;
    let mut order_ids: HashMap<i32, Vec<i32>> = HashMap::new();
    let rows: Vec<(i32, i32)> = order::Entity::find()
        .select_only()
        .column(order::Column::CompanyId)
        .column(order::Column::Id)
        .filter(order::Column::SourceId.starts_with("F-"))
        .into_tuple()
        .all(&ctx.db)
        .await?;
    for (company_id, order_id) in rows {
        order_ids.entry(company_id).or_default().push(order_id);
    }
    let mut companies: Vec<Company> =
        by_index.iter().map(|&id| Company { id, orders: order_ids.remove(&id).unwrap_or_default(), trigger: String::new() }).collect();

    // Users are written directly, with tokens signed as a login would: ten
    // thousand password hashes would take minutes and measure nothing here.
    let mut tokens = Vec::new();
    for (group, company) in companies.iter_mut().enumerate() {
        let count = users_in.get(group).copied().unwrap_or(0) + 1;
        let company_id = company.id;
        for start in (0..count).step_by(1_000) {
            let end = (start + 1_000).min(count);
            let rows: Vec<user::ActiveModel> = (start..end)
                .map(|n| user::ActiveModel {
                    company_id: Set(Some(company_id)),
                    role: Set(UserRole::Company),
                    email: Set(format!("u{n}@fanout-{group}.example")),
                    name: Set(format!("Subscriber {n}")),
                    password_hash: Set("!".into()),
                    must_change_password: Set(false),
                    active: Set(true),
                    token_version: Set(0),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .collect();
            user::Entity::insert_many(rows).exec_without_returning(&ctx.db).await?;
        }
        let users: Vec<i32> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::CompanyId.eq(company_id))
            .into_tuple()
            .all(&ctx.db)
            .await?;
        for chunk in users.chunks(1_000) {
            let rows: Vec<session::ActiveModel> = chunk
                .iter()
                .map(|&user_id| session::ActiveModel {
                    user_id: Set(user_id),
                    token_version: Set(0),
                    created_at: Set(now),
                    refreshed_at: Set(now),
                    revoked_at: Set(None),
                    ..Default::default()
                })
                .collect();
            session::Entity::insert_many(rows).exec_without_returning(&ctx.db).await?;
        }
        let sessions: Vec<(i32, i32)> = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .column(session::Column::UserId)
            .filter(session::Column::UserId.is_in(users))
            .into_tuple()
            .all(&ctx.db)
            .await?;
        for (n, (session_id, user_id)) in sessions.into_iter().enumerate() {
            let token = ctx.tokens.issue(user_id, 0, session_id, now)?.0;
            if n == 0 {
                company.trigger = token;
            } else {
                tokens.push((group, token));
            }
        }
    }
    Ok((companies, tokens))
}

/// The loader child, and its lines.
struct Loader {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Loader {
    async fn start(ws: &str, tokens: &[(usize, String)]) -> anyhow::Result<(Self, usize)> {
        let file = std::env::temp_dir().join(format!("rastro-fanout-{}.tokens", std::process::id()));
        let mut out = std::fs::File::create(&file)?;
        for (group, token) in tokens {
            writeln!(out, "{group} {token}")?;
        }
        drop(out);
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["--fanout-loader", "--fanout-ws", ws, "--fanout-tokens"])
            .arg(&file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().context("loader stdin")?;
        let lines = BufReader::new(child.stdout.take().context("loader stdout")?).lines();
        let mut loader = Loader { child, stdin, lines };
        let ready = loader.line().await?;
        let _ = std::fs::remove_file(&file);
        let mut words = ready.split_whitespace().skip(1);
        let subscribed: usize = words.next().context("READY subscribed")?.parse()?;
        let failed: usize = words.next().context("READY failed")?.parse()?;
        anyhow::ensure!(failed == 0, "{failed} subscribers failed to subscribe");
        Ok((loader, subscribed))
    }

    async fn line(&mut self) -> anyhow::Result<String> {
        self.lines.next_line().await?.context("the loader ended")
    }

    async fn send(&mut self, line: &str) -> anyhow::Result<()> {
        self.stdin.write_all(format!("{line}\n").as_bytes()).await?;
        Ok(self.stdin.flush().await?)
    }

    /// `(count, p50, p99, max)` of every delivery since the last report.
    async fn report(&mut self) -> anyhow::Result<(usize, Duration, Duration, Duration)> {
        self.send("REPORT").await?;
        let line = self.line().await?;
        let v: Vec<u64> = line.split_whitespace().skip(1).map(str::parse).collect::<Result<_, _>>()?;
        anyhow::ensure!(v.len() == 4, "bad report {line}");
        Ok((v[0] as usize, Duration::from_micros(v[1]), Duration::from_micros(v[2]), Duration::from_micros(v[3])))
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// Sends one status change of `company`'s order, as its staff would.
async fn change(client: &reqwest::Client, url: &str, company: &Company, (order_id, to): (i32, &str)) -> anyhow::Result<()> {
    let body: serde_json::Value = client
        .post(url)
        .bearer_auth(&company.trigger)
        .json(&json!({ "query": "mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { applied } }",
            "variables": { "id": order_id.to_string(), "s": to } }))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(body["errors"].is_null(), "status change failed: {body}");
    Ok(())
}

/// The next change of `company`: its orders in turn, each between two
/// statuses that follow each other both ways.
fn next_status(count: &mut HashMap<i32, usize>, company: &Company) -> (i32, &'static str) {
    let n = count.entry(company.id).or_insert(0);
    let (order, round) = (company.orders[*n % company.orders.len()], *n / company.orders.len());
    *n += 1;
    (order, if round % 2 == 0 { "IN_TRANSIT" } else { "DELIVERY_FAILED" })
}

/// Runs the three measurements: `subscribers` spread over `companies`, one
/// event at a time; the same under `rate` changes a second for `seconds`; and
/// `subscribers` of a single company.
pub async fn measure(ctx: &Ctx, base: &str, subscribers: usize, companies: usize, events: usize, rate: u32, seconds: u64) -> anyhow::Result<Report> {
    raise_file_limit();
    let client = reqwest::Client::new();
    let url = format!("{base}/graphql");
    // Groups 0..companies share the spread subscribers; the last company holds
    // the single-company crowd; one more company has no subscriber at all.
    let per_company = subscribers / companies;
    let mut users_in = vec![per_company; companies];
    users_in.push(subscribers);
    let (all, tokens) = seed(ctx, companies + 2, &users_in).await?;
    let (spread, crowd, bare) = (&all[..companies], &all[companies], &all[companies + 1]);
    let ws = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
    let mut statuses = HashMap::new();

    // A change nobody hears: the cost of the change itself.
    for _ in 0..3 {
        change(&client, &url, bare, next_status(&mut statuses, bare)).await?;
    }
    let cpu = cpu_seconds();
    for _ in 0..events {
        change(&client, &url, bare, next_status(&mut statuses, bare)).await?;
    }
    let bare_change_ms = (cpu_seconds() - cpu) * 1000.0 / events as f64;

    let rss = rss_kib();
    let spread_tokens: Vec<_> = tokens.iter().filter(|(g, _)| *g < companies).cloned().collect();
    let (mut loader, subscribed) = Loader::start(&ws, &spread_tokens).await?;
    let kib_per_subscriber = (rss_kib() - rss) / subscribed as f64;
    let mut rows = Vec::new();
    rows.push(one_at_a_time(&mut loader, &client, &url, spread, &mut statuses, events, format!("{subscribed} subscribers over {companies} companies, one company's change ({per_company} recipients)")).await?);

    // Sustained: `rate` changes a second, round robin over the companies.
    if seconds > 0 {
        rows.push(sustained(&mut loader, &client, &url, spread, &mut statuses, rate, seconds, per_company).await?);
    }
    loader.stop().await?;

    let crowd_tokens: Vec<_> = tokens.iter().filter(|(g, _)| *g == companies).map(|(_, t)| (0, t.clone())).collect();
    let (mut loader, subscribed) = Loader::start(&ws, &crowd_tokens).await?;
    rows.push(one_at_a_time(&mut loader, &client, &url, std::slice::from_ref(crowd), &mut statuses, events, format!("{subscribed} subscribers of one company")).await?);
    loader.stop().await?;
    Ok(Report { rows, kib_per_subscriber, bare_change_ms })
}

/// `rate` changes a second for `seconds`, round robin over `companies`.
#[allow(clippy::too_many_arguments)]
async fn sustained(
    loader: &mut Loader,
    client: &reqwest::Client,
    url: &str,
    spread: &[Company],
    statuses: &mut HashMap<i32, usize>,
    rate: u32,
    seconds: u64,
    per_company: usize,
) -> anyhow::Result<Fanout> {
    let companies = spread.len();
    loader.report().await?;
    let cpu = cpu_seconds();
    let started = Instant::now();
    let total = rate as usize * seconds as usize;
    let mut fired = 0;
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    let mut sent = Vec::new();
    while fired < total {
        ticks.tick().await;
        let group = fired % companies;
        let company = &spread[group];
        let to = next_status(statuses, company);
        let (client, url, company) = (client.clone(), url.to_owned(), company.clone());
        let at = unix_nanos();
        loader.send(&format!("QUIET {fired} {group} {at}")).await?;
        sent.push(tokio::spawn(async move { change(&client, &url, &company, to).await }));
        fired += 1;
    }
    for call in sent {
        call.await??;
    }
    loader.send("SETTLE").await?;
    anyhow::ensure!(loader.line().await? == "SETTLED", "the loader did not settle");
    let window = started.elapsed().as_secs_f64();
    let busy = (cpu_seconds() - cpu) / window;
    let (delivered, p50, p99, max) = loader.report().await?;
    Ok(Fanout {
        what: format!("{} subscribers over {companies} companies, {rate} changes/s for {seconds} s", per_company * companies),
        p50,
        p99,
        max,
        cpu: busy * 100.0,
        delivered,
        expected: total * per_company,
    })
}

/// Fires `events` changes one after another, each once the last was delivered
/// everywhere, round robin over `companies` (loader groups by index).
#[allow(clippy::too_many_arguments)]
async fn one_at_a_time(
    loader: &mut Loader,
    client: &reqwest::Client,
    url: &str,
    companies: &[Company],
    statuses: &mut HashMap<i32, usize>,
    events: usize,
    what: String,
) -> anyhow::Result<Fanout> {
    let (mut delivered, mut expected, mut cpu) = (0, 0, 0.0);
    // One change first, unmeasured, so every socket has been polled once.
    for round in 0..=events {
        let group = round % companies.len();
        let company = &companies[group];
        let before = cpu_seconds();
        loader.send(&format!("FIRE {round} {group} {}", unix_nanos())).await?;
        change(client, url, company, next_status(statuses, company)).await?;
        let done = loader.line().await?;
        let counts: Vec<usize> = done.split_whitespace().skip(2).map(str::parse).collect::<Result<_, _>>()?;
        if round == 0 {
            loader.report().await?;
            continue;
        }
        cpu += cpu_seconds() - before;
        delivered += counts.first().copied().unwrap_or(0);
        expected += counts.get(1).copied().unwrap_or(0);
    }
    let (_, p50, p99, max) = loader.report().await?;
    Ok(Fanout { what, p50, p99, max, cpu: cpu * 1000.0 / events as f64, delivered, expected })
}

/// The loader: subscribes every token's user, then answers `FIRE` and `REPORT`.
pub async fn loader(ws: &str, tokens_file: &std::path::Path) -> anyhow::Result<()> {
    raise_file_limit();
    let text = std::fs::read_to_string(tokens_file)?;
    let tokens: Vec<(usize, String)> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(g, t)| Ok::<_, anyhow::Error>((g.parse()?, t.to_owned())))
        .collect::<Result<_, _>>()?;
    let groups = tokens.iter().map(|(g, _)| g + 1).max().unwrap_or(0);
    // Per subscriber, when each `next` came (ns since the epoch).
    let arrivals: Vec<Arc<Mutex<Vec<u128>>>> = tokens.iter().map(|_| Arc::default()).collect();
    // Per group, deliveries so far, and a wake-up each time every member has
    // one more: each member gets each of its group's events once, so the
    // k-th event is everywhere when the count reaches k × members. (A scan of
    // every member per delivery would cost the loader N² for N members.)
    let arrived: Vec<Arc<(std::sync::atomic::AtomicUsize, Notify)>> = (0..groups).map(|_| Arc::default()).collect();
    let members: Vec<Vec<usize>> = (0..groups).map(|g| tokens.iter().enumerate().filter(|(_, (tg, _))| *tg == g).map(|(i, _)| i).collect()).collect();
    let handshakes = Arc::new(Semaphore::new(HANDSHAKES));
    let subscribed = futures::future::join_all(tokens.iter().enumerate().map(|(i, (group, token))| {
        let (handshakes, arrivals, notify) = (handshakes.clone(), arrivals[i].clone(), arrived[*group].clone());
        let members = tokens.iter().filter(|(g, _)| g == group).count();
        let (ws, token) = (ws.to_owned(), token.clone());
        async move {
            let socket = {
                let _turn = handshakes.acquire().await?;
                subscribe(&ws, &token).await?
            };
            tokio::spawn(async move {
                let (_write, mut read) = socket.split();
                while let Some(Ok(message)) = read.next().await {
                    if let Message::Text(text) = &message {
                        if text.contains("\"next\"") {
                            let at = unix_nanos();
                            arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(at);
                            let (count, wake) = &*notify;
                            if (count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1) % members == 0 {
                                wake.notify_waiters();
                            }
                        }
                    }
                }
            });
            Ok::<_, anyhow::Error>(())
        }
    }))
    .await;
    let failed = subscribed.iter().filter(|r| r.is_err()).count();
    if let Some(Err(err)) = subscribed.iter().find(|r| r.is_err()) {
        eprintln!("fan-out loader: {err:#}");
    }
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let say = {
        let out = out.clone();
        move |line: String| {
            let mut out = out.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    };
    say(format!("READY {} {failed}", tokens.len() - failed));
    let latencies: Arc<Mutex<Vec<u64>>> = Arc::default();
    // Events fired so far per group: the k-th is every member's k-th arrival.
    let mut fired = vec![0_usize; groups];
    let mut waiters = Vec::new();
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = stdin.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [command @ ("FIRE" | "QUIET"), event, group, at] => {
                let answer = *command == "FIRE";
                let (event, group, at): (usize, usize, u128) = (event.parse()?, group.parse()?, at.parse()?);
                fired[group] += 1;
                let nth = fired[group];
                let (members, arrivals, notify, latencies, say) =
                    (members[group].clone(), arrivals.clone(), arrived[group].clone(), latencies.clone(), say.clone());
                waiters.push(tokio::spawn(async move {
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
                    let (count, wake) = &*notify;
                    loop {
                        let wake = wake.notified();
                        let everywhere = count.load(std::sync::atomic::Ordering::SeqCst) >= nth * members.len();
                        if everywhere || tokio::time::Instant::now() >= deadline {
                            let mut got = Vec::new();
                            for &m in &members {
                                if let Some(t) = arrivals[m].lock().ok().and_then(|a| a.get(nth - 1).copied()) {
                                    got.push(u64::try_from(t.saturating_sub(at) / 1_000).unwrap_or(u64::MAX));
                                }
                            }
                            let count = got.len();
                            latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(got);
                            if answer {
                                say(format!("DONE {event} {count} {}", members.len()));
                            }
                            break;
                        }
                        let _ = tokio::time::timeout_at(deadline, wake).await;
                    }
                }));
            }
            ["SETTLE"] => {
                for waiter in waiters.drain(..) {
                    waiter.await?;
                }
                say("SETTLED".into());
            }
            ["REPORT"] => {
                let mut all = std::mem::take(&mut *latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                all.sort_unstable();
                let at = |p: f64| all.get(((all.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(0);
                say(format!("LATENCY {} {} {} {}", all.len(), at(0.5), at(0.99), all.last().copied().unwrap_or(0)));
            }
            _ => anyhow::bail!("unknown command {line}"),
        }
    }
    Ok(())
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects, initialises with `token` and subscribes to `WATCH`.
async fn subscribe(ws: &str, token: &str) -> anyhow::Result<Socket> {
    let mut request = ws.into_client_request()?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(30), tokio_tungstenite::connect_async(request)).await??;
    socket.send(Message::Text(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }).to_string().into())).await?;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next()).await?.context("closed before the ack")??;
        if let Message::Text(text) = &message {
            anyhow::ensure!(text.contains("connection_ack"), "not acknowledged: {text}");
            break;
        }
    }
    socket.send(Message::Text(json!({ "id": "1", "type": "subscribe", "payload": { "query": WATCH } }).to_string().into())).await?;
    // A ping after `subscribe` is answered once the subscription listens.
    socket.send(Message::Text(json!({ "type": "ping" }).to_string().into())).await?;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next()).await?.context("closed before the pong")??;
        if let Message::Text(text) = &message {
            anyhow::ensure!(text.contains("pong"), "unexpected: {text}");
            return Ok(socket);
        }
    }
}
