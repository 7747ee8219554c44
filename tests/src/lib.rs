//! Black-box test support: [`TestApp`] starts the real server on an ephemeral
//! port against a fresh database and talks HTTP to it.
//!
//! Every test gets its own database: a temporary SQLite file, or, when
//! `TEST_DATABASE_URL` points at PostgreSQL, a new database created on that
//! server (named `rastro_t_…`, so CI can drop leftovers).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use api::{
    config::{Config, GraphqlLimits},
    startup::Application,
};
use rand::Rng;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use serde_json::{json, Value};

pub mod browser;
pub mod portal;
pub mod process;
pub mod smtp;
pub mod ws;

/// Password used for accounts the helpers create.
pub const PASSWORD: &str = "Test-password-2026";

/// A running server and a client for it.
pub struct TestApp {
    /// Address the server listens on.
    pub addr: SocketAddr,
    /// `http://addr`.
    pub base: String,
    /// The server's database, for assertions on what was stored.
    pub db: DatabaseConnection,
    /// The server's domain context, for setting up what the API cannot (admins).
    pub ctx: domain::Ctx,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The database URL the server uses.
    pub database_url: String,
    temp_dir: Option<PathBuf>,
}

/// Whether this run targets PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// A new, empty database (PostgreSQL when `TEST_DATABASE_URL` says so, else a
/// SQLite file in a new temporary directory, returned too).
pub async fn fresh_database_url() -> (String, Option<PathBuf>) {
    let suffix: u64 = rand::thread_rng().gen();
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!("rastro_t_{suffix:x}");
            let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect to TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create test database");
            let (base, _) = url.rsplit_once('/').expect("TEST_DATABASE_URL ends with /database");
            (format!("{base}/{name}"), None)
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("rastro-test-{suffix:x}"));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            (format!("sqlite://{}/rastro.db?mode=rwc", dir.display()), Some(dir))
        }
    }
}

/// Mail settings for tests: a fixed key, and a worker that retries fast.
pub fn test_mail_settings() -> domain::notifications::MailSettings {
    let key = domain::notifications::SecretKey::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").expect("key");
    let mut mail = domain::notifications::MailSettings::new(key, "http://rastro.test".into());
    mail.backoff_base = Duration::from_millis(100);
    mail.backoff_max = Duration::from_millis(400);
    mail.poll_interval = Duration::from_millis(100);
    mail.max_attempts = 1_000;
    mail.smtp_timeout = Duration::from_secs(5);
    mail.test_email_timeout = Duration::from_secs(5);
    // The SMTP sink the tests use listens on 127.0.0.1.
    mail.allow_private_smtp = true;
    // The secure sink's throwaway certificate, as an operator's private CA.
    mail.extra_root_certificates.push(smtp::test_ca_pem());
    mail
}

/// The configuration tests run with; `tweak` adjusts it.
pub fn test_config(database_url: String) -> Config {
    Config {
        database_url,
        bind: "127.0.0.1:0".parse().expect("address"),
        jwt_secret: SecretString::from("test-secret-".repeat(4)),
        public_base_url: "http://rastro.test".into(),
        token_ttl: Duration::from_secs(600),
        policy_dir: None,
        db_max_connections: 5,
        mail: test_mail_settings(),
        run_mail_worker: true,
        limits: GraphqlLimits {
            ws_init_timeout: Duration::from_millis(500),
            // The sweep is a statement every tick, which the statement-counting
            // tests would see; the tests of the sweep set their own.
            revocation_sweep: Duration::from_secs(3600),
            ..GraphqlLimits::default()
        },
        integrations: api::config::IntegrationLimits::default(),
        // Every test talks from 127.0.0.1; the rate-limit tests set their own.
        rates: api::ratelimit::RateSettings {
            requests_per_ip: api::ratelimit::Rate::new(1_000_000, 100_000),
            sensitive_per_ip: api::ratelimit::Rate::new(1_000_000, 100_000),
            sensitive_per_account: api::ratelimit::Rate::new(1_000_000, 100_000),
        },
        trusted_proxies: api::ratelimit::TrustedProxies::default(),
        request_timeout: Duration::from_secs(30),
        connections: api::serve::ConnectionLimits::default(),
        password_hash_concurrency: 2,
    }
}

impl TestApp {
    /// Starts a server on a fresh database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server on a fresh database with an adjusted configuration.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        // Server logs (warnings and errors by default) show with a failing test.
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "warn");
        }
        api::telemetry::init_tracing();
        let (url, temp_dir) = fresh_database_url().await;
        let mut config = test_config(url.clone());
        tweak(&mut config);
        let app = Application::build(config).await.expect("build application");
        let addr = app.local_addr().expect("local addr");
        let ctx = app.state().ctx.clone();
        tokio::spawn(app.run_until(std::future::pending()));
        TestApp {
            addr,
            base: format!("http://{addr}"),
            db: ctx.db.clone(),
            ctx,
            // A hung server fails the test instead of hanging the run.
            http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client"),
            database_url: url,
            temp_dir,
        }
    }

    /// POSTs a GraphQL operation and returns the JSON body (HTTP status must be 200).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql_raw(token, &json!({ "query": query, "variables": variables })).await;
        assert_eq!(status, 200, "unexpected HTTP status, body: {body}");
        body
    }

    /// POSTs any JSON body to `/graphql`; returns status and JSON body.
    pub async fn gql_raw(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.http.post(format!("{}/graphql", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Logs in and returns the whole `login` result or the error body.
    pub async fn login_body(&self, email: &str, password: &str, company: Option<&str>) -> Value {
        self.gql(
            None,
            "mutation($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, company: $c) { accessToken user { id role mustChangePassword companyId } } }",
            json!({ "e": email, "p": password, "c": company }),
        )
        .await
    }

    /// Logs in and returns `(accessToken, refreshToken)`.
    pub async fn login_session(&self, email: &str, password: &str, company: Option<&str>) -> (String, String) {
        let body = self
            .gql(
                None,
                "mutation($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, company: $c) { accessToken refreshToken } }",
                json!({ "e": email, "p": password, "c": company }),
            )
            .await;
        let session = &body["data"]["login"];
        let access = session["accessToken"].as_str().unwrap_or_else(|| panic!("login failed: {body}"));
        (access.to_owned(), session["refreshToken"].as_str().unwrap().to_owned())
    }

    /// Calls `refreshSession`; returns the whole body.
    pub async fn refresh_body(&self, refresh_token: &str) -> Value {
        self.gql(
            None,
            "mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken expiresAt refreshTokenExpiresAt user { id } } }",
            json!({ "r": refresh_token }),
        )
        .await
    }

    /// Whether `token` is accepted (`me` answers with an id; a refused bearer
    /// token is a 401).
    pub async fn token_works(&self, token: &str) -> bool {
        let (status, body) = self.gql_raw(Some(token), &json!({ "query": "{ me { id } }" })).await;
        status == 200 && body["data"]["me"]["id"].is_string()
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, email: &str, password: &str, company: Option<&str>) -> String {
        let body = self.login_body(email, password, company).await;
        body["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("login failed: {body}")).to_owned()
    }

    /// Creates a platform admin (through the domain, as `rastro create-admin` does)
    /// and returns its token.
    pub async fn admin(&self) -> String {
        let email = format!("admin{}@rastro.test", rand::thread_rng().gen::<u32>());
        domain::users::create_admin(&self.ctx, &domain::Actor::system("test"), &email, PASSWORD).await.expect("create admin");
        self.login(&email, PASSWORD, None).await
    }

    /// Creates a company through the API; returns its id and integration token.
    pub async fn create_company(&self, admin: &str, identifier: &str) -> (String, String) {
        let body = self
            .gql(
                Some(admin),
                "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } integrationToken } }",
                json!({ "i": { "identifier": identifier, "email": format!("contact@{identifier}.test"), "phone": "+55 11 3333-4444", "cnpj": "11.222.333/0001-81" } }),
            )
            .await;
        let created = &body["data"]["createCompany"];
        assert!(created.is_object(), "createCompany failed: {body}");
        (created["company"]["id"].as_str().unwrap().to_owned(), created["integrationToken"].as_str().unwrap().to_owned())
    }

    /// Creates a company user through the API, logs in with the temporary
    /// password, changes it to [`PASSWORD`], and returns a usable token and the id.
    pub async fn company_user(&self, admin: &str, company_id: &str, identifier: &str, email: &str) -> (String, String) {
        let body = self
            .gql(
                Some(admin),
                "mutation($i: CreateCompanyUserInput!) { createCompanyUser(input: $i) { user { id } temporaryPassword } }",
                json!({ "i": { "companyId": company_id, "email": email, "name": "Staff" } }),
            )
            .await;
        let temporary = body["data"]["createCompanyUser"]["temporaryPassword"].as_str().unwrap_or_else(|| panic!("{body}"));
        let id = body["data"]["createCompanyUser"]["user"]["id"].as_str().unwrap().to_owned();
        let token = self.login(email, temporary, Some(identifier)).await;
        let changed = self
            .gql(
                Some(&token),
                "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }",
                json!({ "c": temporary, "n": PASSWORD }),
            )
            .await;
        let token = changed["data"]["changePassword"]["accessToken"].as_str().unwrap_or_else(|| panic!("{changed}"));
        (token.to_owned(), id)
    }

    /// Creates a customer account (first access arrives with the notifications
    /// work; until then customers are created through the domain) and logs in.
    pub async fn customer(&self, company_id: &str, identifier: &str, email: &str) -> String {
        let company_id: i32 = company_id.parse().expect("numeric id");
        domain::users::create_customer(&self.ctx, &domain::Actor::system("test"), company_id, email, "Customer", PASSWORD)
            .await
            .expect("create customer");
        self.login(email, PASSWORD, Some(identifier)).await
    }

    /// Creates a locality through the API and returns its id. `responsible` is
    /// the e-mail of its responsible person (the customer who follows it).
    pub async fn create_locality(&self, token: &str, source_id: &str, role: &str, responsible: Option<&str>) -> String {
        let responsible = responsible.map(|email| json!({ "name": "Responsible", "email": email }));
        let body = self
            .gql(
                Some(token),
                "mutation($i: LocalityInput!) { createLocality(input: $i) { id } }",
                json!({ "i": { "sourceId": source_id, "name": format!("Locality {source_id}"), "logisticRole": role,
                    "address": { "city": "São Paulo", "state": "SP", "latitude": -23.5, "longitude": -46.6 }, "responsible": responsible } }),
            )
            .await;
        body["data"]["createLocality"]["id"].as_str().unwrap_or_else(|| panic!("createLocality failed: {body}")).to_owned()
    }

    /// Creates an order with two items through the API; returns its id.
    pub async fn create_order(&self, token: &str, source_id: &str, destination: &str, status: Option<&str>) -> String {
        let body = self
            .gql(
                Some(token),
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                json!({ "i": {
                    "sourceId": source_id, "code": format!("#{source_id}"), "destinationLocalityId": destination,
                    "status": status, "customerName": "Maria Souza",
                    "items": [
                        { "sourceId": "1", "productId": "SKU-CHAIR", "name": "Office chair", "quantity": 2, "unitPrice": "459.90" },
                        { "sourceId": "2", "productId": "SKU-DESK", "name": "Desk", "quantity": 1, "unitPrice": "1299.00" }
                    ],
                    "classifications": [{ "key": "channel", "value": "web" }]
                } }),
            )
            .await;
        body["data"]["createOrder"]["id"].as_str().unwrap_or_else(|| panic!("createOrder failed: {body}")).to_owned()
    }

    /// `rastro_db_statements_total` as the server reports it on `/metrics`.
    pub async fn statements_run(&self) -> u64 {
        let (_, metrics) = self.get("/metrics").await;
        metrics
            .lines()
            .filter(|l| l.starts_with("rastro_db_statements_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// `rastro_graphql_ws_shared_executions`: shared subscription executions running.
    pub async fn shared_executions(&self) -> i64 {
        let (_, metrics) = self.get("/metrics").await;
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("rastro_graphql_ws_shared_executions ")?.parse().ok())
            .expect("the gauge is on /metrics")
    }

    /// Waits until `/metrics` shows `count` shared subscription executions,
    /// failing the test after `within`.
    pub async fn await_shared_executions(&self, count: i64, within: Duration) {
        let until = tokio::time::Instant::now() + within;
        loop {
            let now = self.shared_executions().await;
            if now == count {
                return;
            }
            assert!(tokio::time::Instant::now() < until, "{now} shared executions, expected {count}");
            // A poll interval, not a wait standing in for the event: the deadline fails the test.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A GET request to a path; returns status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.expect("send");
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Inserts `n` orders (one item each) straight into the database, for volume
/// tests where creating them one by one through the API would take minutes.
pub async fn seed_orders(db: &DatabaseConnection, company_id: &str, destination: &str, n: usize) {
    use entities::{order, order_item, OrderStatus};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
    let company_id: i32 = company_id.parse().unwrap();
    let destination: i32 = destination.parse().unwrap();
    let now = chrono::Utc::now();
    // Later calls add to earlier ones: number past what is there.
    let first_new: i32 = order::Entity::find()
        .select_only()
        .column_as(order::Column::Id.max(), "max")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await
        .unwrap()
        .flatten()
        .unwrap_or(0);
    let offset = usize::try_from(first_new).unwrap();
    let statuses = [OrderStatus::Received, OrderStatus::Invoiced, OrderStatus::InTransit, OrderStatus::Delivered];
    for start in (0..n).step_by(500) {
        let end = (start + 500).min(n);
        let orders: Vec<order::ActiveModel> = (start..end)
            .map(|i| order::ActiveModel {
                company_id: Set(company_id),
                source_id: Set(format!("SEED-{}", offset + i)),
                code: Set(format!("#S{}", offset + i)),
                status: Set(statuses[i % statuses.len()]),
                status_before_hold: Set(None),
                customer_status: Set(statuses[i % statuses.len()]),
                customer_name: Set(Some(format!("Customer \"{i}\", Ltd."))),
                destination_locality_id: Set(Some(destination)),
                priority: Set(0),
                total_cents: Set(1_000 + i64::try_from(i).unwrap()),
                // Realistically long free texts: rows held in memory would show.
                reference: Set(Some(format!("{i} {}", "reference text ".repeat(30)))),
                observations: Set(Some(format!("{i} {}", "observation text ".repeat(28)))),
                refunded_cents: Set(0),
                last_event_at: Set(Some(now)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
        order::Entity::insert_many(orders).exec_without_returning(db).await.unwrap();
    }
    let ids: Vec<i32> = order::Entity::find()
        .filter(order::Column::Id.gt(first_new))
        .select_only()
        .column(order::Column::Id)
        .order_by_asc(order::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    for chunk in ids.chunks(500) {
        let items: Vec<order_item::ActiveModel> = chunk
            .iter()
            .map(|id| order_item::ActiveModel {
                order_id: Set(*id),
                source_id: Set("1".into()),
                product_id: Set(format!("SKU-{}", id % 7)),
                name: Set("Seeded <item> & co".into()),
                quantity: Set(1.0),
                unit_price_cents: Set(1_000),
                ..Default::default()
            })
            .collect();
        order_item::Entity::insert_many(items).exec_without_returning(db).await.unwrap();
    }
}

/// A company with a staff login, an origin and a destination locality.
pub struct Tenant {
    /// Company id.
    pub id: String,
    /// Company identifier.
    pub identifier: String,
    /// A staff member's token.
    pub staff: String,
    /// An origin locality.
    pub origin: String,
    /// A destination locality whose responsible person is `customer@<identifier>.test`.
    pub destination: String,
    /// The company's integration token.
    pub integration_token: String,
}

impl Tenant {
    /// The e-mail of the destination's responsible person.
    pub fn customer_email(&self) -> String {
        format!("customer@{}.test", self.identifier)
    }
}

impl TestApp {
    /// Creates a company with a staff login and two localities.
    pub async fn tenant(&self, admin: &str, identifier: &str) -> Tenant {
        let (id, integration_token) = self.create_company(admin, identifier).await;
        let (staff, _) = self.company_user(admin, &id, identifier, &format!("staff@{identifier}.test")).await;
        let origin = self.create_locality(&staff, "CD-1", "ORIGIN", None).await;
        let customer = format!("customer@{identifier}.test");
        let destination = self.create_locality(&staff, "STORE-1", "DESTINATION", Some(&customer)).await;
        Tenant { id, identifier: identifier.to_owned(), staff, origin, destination, integration_token }
    }
}

/// Whether `needle` appears anywhere in the test database, in any table and
/// column (SQLite: the database and WAL files; PostgreSQL: every row as JSON).
pub async fn database_contains(app: &TestApp, needle: &str) -> bool {
    use sea_orm::{ConnectionTrait, Statement};
    if on_postgres() {
        let tables: Vec<String> = app
            .db
            .query_all(Statement::from_string(app.db.get_database_backend(), "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "tablename").unwrap())
            .collect();
        for table in tables {
            let sql = format!("SELECT COUNT(*) AS hits FROM \"{table}\" t WHERE row_to_json(t)::text LIKE '%' || $1 || '%'");
            let row = app
                .db
                .query_one(Statement::from_sql_and_values(app.db.get_database_backend(), sql, [needle.into()]))
                .await
                .unwrap()
                .unwrap();
            if row.try_get::<i64>("", "hits").unwrap() > 0 {
                return true;
            }
        }
        false
    } else {
        let dir = app.temp_dir.as_ref().expect("SQLite tests have a directory");
        std::fs::read_dir(dir).unwrap().flatten().any(|entry| {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
    }
}

/// Every table's content, as one string per table, for checking that an
/// operation wrote nothing: equal fingerprints before and after mean no row
/// was added, changed or removed. Tables named in `except` are left out.
pub async fn fingerprint(db: &DatabaseConnection, except: &[&str]) -> Vec<(String, String)> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = db.get_database_backend();
    let list = if on_postgres() {
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    };
    let tables: Vec<String> = db
        .query_all(Statement::from_string(backend, list))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .filter(|t| !except.contains(&t.as_str()))
        .collect();
    let mut out = Vec::new();
    for table in tables {
        let sql = if on_postgres() {
            format!("SELECT COALESCE(string_agg(row_to_json(t)::text, '|' ORDER BY row_to_json(t)::text), '') AS rows FROM \"{table}\" t")
        } else {
            let columns: Vec<String> = db
                .query_all(Statement::from_string(backend, format!("SELECT name FROM pragma_table_info('{table}')")))
                .await
                .unwrap()
                .iter()
                .map(|r| format!("quote(\"{}\")", r.try_get::<String>("", "name").unwrap()))
                .collect();
            format!("SELECT COALESCE(group_concat(r, '|'), '') AS rows FROM (SELECT {} AS r FROM \"{table}\" ORDER BY 1)", columns.join(" || ',' || "))
        };
        let row = db.query_one(Statement::from_string(backend, sql)).await.unwrap().unwrap();
        out.push((table, row.try_get::<String>("", "rows").unwrap()));
    }
    out
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Sends `request` and reads its answer as JSON, with its status; panics
/// with the body when it is not JSON.
pub async fn json_answer(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body read");
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
}
