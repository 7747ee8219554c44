//! Server configuration: one typed struct built once from flags and environment
//! and passed down; secrets are wrapped so they cannot be printed by accident.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use secrecy::SecretString;

/// The longest access-token lifetime accepted: a stolen access token is usable
/// this long at most, even where a revocation could not reach (a server whose
/// database listener was down).
pub const MAX_TOKEN_TTL_MINUTES: u64 = 15;
/// Longest `RASTRO_TOKEN_RECHECK_MS`: how long a token's passed check may answer
/// for its next requests, and so how late a revocation whose signal was lost,
/// or a row changed by hand, may be seen.
pub const MAX_TOKEN_RECHECK_MS: u64 = 10_000;

/// Flags (and their environment variables) shared by the commands that open the
/// database or serve.
#[derive(Clone, clap::Args)]
pub struct ServerArgs {
    /// Database URL: `sqlite://path?mode=rwc` (default, embedded) or `postgres://…`.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = "sqlite://data/rastro.db?mode=rwc")]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, global = true, env = "RASTRO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Secret that signs access tokens (at least 32 characters). With SQLite a
    /// random one is created beside the database file when unset; with PostgreSQL
    /// it is required, so every process shares it.
    #[arg(long, global = true, env = "RASTRO_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Public base URL of the portal, used in links sent to customers.
    #[arg(long, global = true, env = "RASTRO_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_base_url: String,
    /// Access-token lifetime in minutes, at most 15 ([`MAX_TOKEN_TTL_MINUTES`]);
    /// clients keep going with refresh tokens.
    #[arg(long, global = true, env = "RASTRO_TOKEN_TTL_MINUTES", default_value_t = MAX_TOKEN_TTL_MINUTES)]
    pub token_ttl_minutes: u64,
    /// Milliseconds a token whose check against the database (user, company,
    /// session) passed is taken as checked for its next requests; any
    /// revocation clears them all at once. 0 checks every request; at most
    /// [`MAX_TOKEN_RECHECK_MS`].
    #[arg(long, global = true, env = "RASTRO_TOKEN_RECHECK_MS", default_value_t = domain::sessions::verified::VERIFIED_FOR_MS)]
    pub token_recheck_ms: u64,
    /// Directory with casbin `model.conf` and `policy.csv`; the copies compiled
    /// from `policies/` are used when unset.
    #[arg(long, global = true, env = "RASTRO_POLICY_DIR")]
    pub policy_dir: Option<PathBuf>,
    /// Maximum database connections in the pool.
    #[arg(long, global = true, env = "RASTRO_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// Key (32 bytes, base64) that encrypts stored SMTP passwords. With SQLite a
    /// random one is created beside the database file when unset; with
    /// PostgreSQL it is required.
    #[arg(long, global = true, env = "RASTRO_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// The platform's own SMTP sender for password mails of companies without
    /// one: `smtp://user:pass@host:587?tls=required` or `smtps://…`.
    #[arg(long, global = true, env = "RASTRO_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// `From` of the platform's own mails.
    #[arg(long, global = true, env = "RASTRO_MAIL_FROM", default_value = "Rastro <no-reply@rastro.local>")]
    pub mail_from: String,
    /// Delivery attempts before a mail is given up.
    #[arg(long, global = true, env = "RASTRO_MAIL_MAX_ATTEMPTS", default_value_t = 8)]
    pub mail_max_attempts: i32,
    /// Wait after a failed delivery, in milliseconds; doubles with each attempt.
    #[arg(long, global = true, env = "RASTRO_MAIL_BACKOFF_MS", default_value_t = 30_000)]
    pub mail_backoff_ms: u64,
    /// Longest wait between delivery attempts, in milliseconds.
    #[arg(long, global = true, env = "RASTRO_MAIL_BACKOFF_MAX_MS", default_value_t = 3_600_000)]
    pub mail_backoff_max_ms: u64,
    /// How often the mail worker looks for due mails, in milliseconds.
    #[arg(long, global = true, env = "RASTRO_MAIL_POLL_MS", default_value_t = 2_000)]
    pub mail_poll_ms: u64,
    /// Answer introspection (`__schema`, `__type`); turn off in production if
    /// the schema should not be discoverable.
    #[arg(long, global = true, env = "RASTRO_GRAPHQL_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new())]
    pub graphql_introspection: bool,
    /// GraphQL operations, WebSocket upgrades and exports per client address
    /// and minute (bursts of a fifth of it).
    #[arg(long, global = true, env = "RASTRO_RATE_REQUESTS_PER_MINUTE", default_value_t = 600)]
    pub rate_requests_per_minute: u32,
    /// Each sensitive operation (login, password change and reset, test e-mail,
    /// session refresh) per client address and minute (bursts of half of it).
    #[arg(long, global = true, env = "RASTRO_RATE_SENSITIVE_PER_MINUTE", default_value_t = 20)]
    pub rate_sensitive_per_minute: u32,
    /// Each sensitive operation per account and minute (bursts of half of it).
    #[arg(long, global = true, env = "RASTRO_RATE_ACCOUNT_PER_MINUTE", default_value_t = 6)]
    pub rate_account_per_minute: u32,
    /// Proxies (addresses or CIDR networks, comma-separated) whose
    /// `X-Forwarded-For` names the client; empty trusts none.
    #[arg(long, global = true, env = "RASTRO_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Longest time a request may take to produce its response, in seconds.
    #[arg(long, global = true, env = "RASTRO_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Time a client has to send a request's headers, in seconds.
    #[arg(long, global = true, env = "RASTRO_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Open connections at most.
    #[arg(long, global = true, env = "RASTRO_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Password hashes (argon2) computed at once; further logins wait briefly,
    /// then get RATE_LIMITED.
    #[arg(long, global = true, env = "RASTRO_PASSWORD_HASH_CONCURRENCY", default_value_t = 2)]
    pub password_hash_concurrency: usize,
    /// Let companies use SMTP hosts on internal addresses (loopback, private,
    /// link-local, CGNAT, metadata endpoints, …). Off by default: on, any
    /// company user could make the server connect inside its network. For
    /// development with a local mail sink, or a trusted private relay.
    #[arg(long, global = true, env = "RASTRO_SMTP_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
    pub smtp_allow_private: bool,
    /// A PEM file of certificate authorities trusted for company SMTP servers
    /// besides the public roots: a relay whose certificate a private CA signed.
    #[arg(long, global = true, env = "RASTRO_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// Do not run the mail worker in this process (another one does).
    #[arg(long, global = true, env = "RASTRO_NO_MAIL_WORKER", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_mail_worker: bool,
}

/// Safety limits of the GraphQL endpoint.
#[derive(Debug, Clone)]
pub struct GraphqlLimits {
    /// Maximum selection depth.
    pub depth: usize,
    /// Maximum complexity (fields, with list multipliers).
    pub complexity: usize,
    /// Maximum aliased fields in one document, fragments inlined.
    pub aliases: usize,
    /// Deepest nesting of brackets (`{`, `[`, `(`) in a document's text:
    /// selections, arguments, input values, variable types and defaults.
    pub nesting: usize,
    /// Maximum selections in one document once fragments are inlined.
    pub selections: usize,
    /// Maximum fragment definitions in one document.
    pub fragments: usize,
    /// Whether `__schema` and `__type` are answered; production may turn them off.
    pub introspection: bool,
    /// Maximum operations in one batched request.
    pub batch: usize,
    /// Maximum request body size, bytes.
    pub body_bytes: usize,
    /// Time a WebSocket may stay open without a successful `connection_init`.
    pub ws_init_timeout: Duration,
    /// How often the process looks in the database for sessions revoked
    /// without its hearing of it (`domain::sessions::sweep`). Revocations
    /// (logout, password change, deactivation) close sockets at once; the
    /// sweep is the backstop should a signal be lost, and the only way one
    /// crosses between processes on SQLite. A socket also closes when its
    /// token expires.
    pub revocation_sweep: Duration,
    /// How long a token whose check against the database passed is taken as
    /// checked for its next requests (`domain::sessions::verified`): any
    /// revocation clears every such check at once in this process, and in the
    /// others as its signal arrives; this bounds what a lost signal costs.
    /// Zero checks every request.
    pub token_recheck: Duration,
    /// Concurrent operations (subscriptions) one WebSocket may run.
    pub ws_subscriptions_per_socket: usize,
    /// Open WebSockets one user may hold in one server process.
    pub ws_sockets_per_user: usize,
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        GraphqlLimits {
            depth: 16,
            complexity: 2_000,
            aliases: 30,
            nesting: 48,
            selections: 2_000,
            fragments: 64,
            introspection: true,
            batch: 10,
            body_bytes: 256 * 1024,
            ws_init_timeout: Duration::from_secs(10),
            revocation_sweep: Duration::from_secs(30),
            token_recheck: domain::sessions::verified::VERIFIED_FOR,
            ws_subscriptions_per_socket: 10,
            ws_sockets_per_user: 5,
        }
    }
}

/// Bounds of the integration endpoints (SOAP and webhooks), which take bigger
/// bodies than GraphQL: a batch of orders.
#[derive(Debug, Clone)]
pub struct IntegrationLimits {
    /// Maximum request body size, bytes.
    pub body_bytes: usize,
    /// Integration calls parsed and applied at once in this process; a body
    /// read into a tree costs a few times its size, so this bounds memory.
    pub concurrent: usize,
    /// Most orders one group record (a TRE trip event) moves.
    pub group_orders: u64,
}

impl Default for IntegrationLimits {
    fn default() -> Self {
        IntegrationLimits { body_bytes: 16 * 1024 * 1024, concurrent: 4, group_orders: domain::ingest::Limits::default().group_orders }
    }
}

/// The resolved configuration.
#[derive(Clone)]
pub struct Config {
    /// Database URL.
    pub database_url: String,
    /// Listen address (port 0 picks a free one).
    pub bind: SocketAddr,
    /// Token signing secret.
    pub jwt_secret: SecretString,
    /// Public base URL, without a trailing slash.
    pub public_base_url: String,
    /// Access-token lifetime.
    pub token_ttl: Duration,
    /// Policy directory, if not the embedded policy.
    pub policy_dir: Option<PathBuf>,
    /// Pool size.
    pub db_max_connections: u32,
    /// GraphQL limits.
    pub limits: GraphqlLimits,
    /// Integration endpoint limits.
    pub integrations: IntegrationLimits,
    /// Mail settings.
    pub mail: domain::notifications::MailSettings,
    /// Whether this process runs the mail worker.
    pub run_mail_worker: bool,
    /// Request budgets.
    pub rates: crate::ratelimit::RateSettings,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: crate::ratelimit::TrustedProxies,
    /// Longest time to produce a response.
    pub request_timeout: Duration,
    /// Connection limits of the accept loop.
    pub connections: crate::serve::ConnectionLimits,
    /// Password hashes computed at once.
    pub password_hash_concurrency: usize,
}

impl Config {
    /// Resolves flags into a configuration, creating the SQLite token secret on
    /// first use.
    pub async fn from_args(args: &ServerArgs) -> anyhow::Result<Self> {
        let jwt_secret = match &args.jwt_secret {
            Some(secret) => secret.clone(),
            None => stored_secret(&args.database_url, "jwt-secret", "RASTRO_JWT_SECRET", || domain::tokens::random_token(48)).await?,
        };
        let secret_key = match &args.secret_key {
            Some(key) => key.clone(),
            None => stored_secret(&args.database_url, "secret-key", "RASTRO_SECRET_KEY", domain::notifications::SecretKey::generate_base64)
                .await?,
        };
        let secret_key = domain::notifications::SecretKey::from_base64(&secret_key).context("RASTRO_SECRET_KEY")?;
        let public_base_url = args.public_base_url.trim_end_matches('/').to_owned();
        let mut mail = domain::notifications::MailSettings::new(secret_key, public_base_url.clone());
        mail.platform_smtp_url = args.smtp_url.clone().map(SecretString::from);
        mail.platform_from = args.mail_from.clone();
        mail.max_attempts = args.mail_max_attempts.max(1);
        mail.backoff_base = Duration::from_millis(args.mail_backoff_ms.max(1));
        mail.backoff_max = Duration::from_millis(args.mail_backoff_max_ms.max(args.mail_backoff_ms));
        mail.poll_interval = Duration::from_millis(args.mail_poll_ms.max(10));
        mail.allow_private_smtp = args.smtp_allow_private;
        if let Some(path) = &args.smtp_ca_file {
            let pem = std::fs::read(path).map_err(|e| anyhow::anyhow!("RASTRO_SMTP_CA_FILE {}: {e}", path.display()))?;
            // Checked now: a bad file would otherwise break TLS for every
            // company at its first mail.
            domain::notifications::check_root_certificate(&pem)
                .map_err(|e| anyhow::anyhow!("RASTRO_SMTP_CA_FILE {}: {e}", path.display()))?;
            mail.extra_root_certificates.push(pem);
        }
        if args.token_recheck_ms > MAX_TOKEN_RECHECK_MS {
            anyhow::bail!("RASTRO_TOKEN_RECHECK_MS must be at most {MAX_TOKEN_RECHECK_MS}: it is how late a missed revocation or a row changed by hand may be seen");
        }
        if args.token_ttl_minutes > MAX_TOKEN_TTL_MINUTES {
            anyhow::bail!("RASTRO_TOKEN_TTL_MINUTES must be at most {MAX_TOKEN_TTL_MINUTES}; sessions go on with refresh tokens");
        }
        if jwt_secret.len() < 32 {
            anyhow::bail!("RASTRO_JWT_SECRET must be at least 32 characters");
        }
        Ok(Config {
            database_url: args.database_url.clone(),
            bind: args.bind,
            jwt_secret: SecretString::from(jwt_secret),
            public_base_url,
            token_ttl: Duration::from_secs(args.token_ttl_minutes.max(1) * 60),
            policy_dir: args.policy_dir.clone(),
            db_max_connections: args.db_max_connections.max(1),
            limits: GraphqlLimits {
                introspection: args.graphql_introspection,
                token_recheck: Duration::from_millis(args.token_recheck_ms),
                ..GraphqlLimits::default()
            },
            integrations: IntegrationLimits::default(),
            mail,
            run_mail_worker: !args.no_mail_worker,
            rates: crate::ratelimit::RateSettings {
                requests_per_ip: rate(args.rate_requests_per_minute, 5),
                sensitive_per_ip: rate(args.rate_sensitive_per_minute, 2),
                sensitive_per_account: rate(args.rate_account_per_minute, 2),
            },
            trusted_proxies: crate::ratelimit::TrustedProxies(args.trusted_proxies.clone()),
            request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
            connections: crate::serve::ConnectionLimits {
                header_read_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
                max_connections: args.max_connections.max(1),
                ..crate::serve::ConnectionLimits::default()
            },
            password_hash_concurrency: args.password_hash_concurrency.max(1),
        })
    }
}

/// `per_minute` with a burst of `per_minute / burst_divisor` (at least 1).
fn rate(per_minute: u32, burst_divisor: u32) -> crate::ratelimit::Rate {
    crate::ratelimit::Rate::new(per_minute.max(1), (per_minute / burst_divisor).max(1))
}

/// For SQLite, a random secret kept in `file` beside the database file so it
/// survives restarts. PostgreSQL deployments must configure `variable`, since
/// every process has to share it.
async fn stored_secret(database_url: &str, file: &str, variable: &str, generate: impl FnOnce() -> String) -> anyhow::Result<String> {
    let Some(path) = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:")) else {
        anyhow::bail!("{variable} is required with PostgreSQL, so that every process uses the same one");
    };
    let db_path = PathBuf::from(path.split('?').next().unwrap_or(path));
    let dir = db_path.parent().map(PathBuf::from).unwrap_or_default();
    let secret_path = dir.join(file);
    if let Ok(existing) = tokio::fs::read_to_string(&secret_path).await {
        return Ok(existing.trim().to_owned());
    }
    if !dir.as_os_str().is_empty() {
        tokio::fs::create_dir_all(&dir).await.with_context(|| format!("creating {}", dir.display()))?;
    }
    let secret = generate();
    tokio::fs::write(&secret_path, &secret).await.with_context(|| format!("writing {}", secret_path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(&secret_path, std::fs::Permissions::from_mode(0o600)).await?;
    }
    Ok(secret)
}
