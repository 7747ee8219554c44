//! Building and running the server, the same way for `main` and for tests.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::{config::Config, graphql, ratelimit::Limits, routes, routes::graphql_ws::SharedSubscriptions, state::AppState, telemetry::Metrics};

/// A bound, ready-to-serve server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

/// The domain context for a configuration and an open database.
pub async fn domain_ctx(config: &Config, db: DatabaseConnection) -> anyhow::Result<domain::Ctx> {
    let authz = match &config.policy_dir {
        Some(dir) => domain::Authorizer::from_dir(dir).await.with_context(|| format!("loading policies from {}", dir.display()))?,
        None => domain::Authorizer::embedded().await.context("loading embedded policies")?,
    };
    let tokens = domain::tokens::TokenKeys::new(&config.jwt_secret, config.token_ttl);
    let events = domain::events::EventBus::for_database(&db, config.limits.token_recheck).await.context("listening for order events")?;
    // Computed once here, off the async runtime, instead of on the first login.
    tokio::task::spawn_blocking(domain::password::dummy_hash).await?;
    let relaxed_db = domain::db::connect_relaxed(&config.database_url).await.context("opening the database")?;
    Ok(domain::Ctx {
        db,
        relaxed_db,
        authz,
        tokens,
        events,
        mail: std::sync::Arc::new(config.mail.clone()),
        mail_wakeup: std::sync::Arc::new(tokio::sync::Notify::new()),
        ingest: domain::ingest::Limits { group_orders: config.integrations.group_orders },
    })
}

/// Opens the configured database and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = domain::db::connect(&config.database_url, config.db_max_connections)
        .await
        .context("opening the database")?;
    domain::db::migrate(&db).await.context("migrating the database")?;
    Ok(db)
}

impl Application {
    /// Opens and migrates the database, builds the schema and binds the address.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = open_database(&config).await?;
        Self::with_database(config, db).await
    }

    /// Like [`Application::build`] with an already open, migrated database.
    pub async fn with_database(config: Config, mut db: DatabaseConnection) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new()?);
        metrics.observe_database(&mut db);
        domain::password::limit_concurrency(config.password_hash_concurrency);
        let ctx = domain_ctx(&config, db).await?;
        let limits = Limits::new(&config.rates);
        limits.spawn_housekeeping(std::time::Duration::from_secs(60));
        let graphql = graphql::Runner::new(&config.limits, ctx.clone(), limits.clone());
        let listener = TcpListener::bind(config.bind).await.with_context(|| format!("binding {}", config.bind))?;
        let integration_slots =
            crate::routes::integrations::IntegrationSlots(Arc::new(tokio::sync::Semaphore::new(config.integrations.concurrent.max(1))));
        let shared = Arc::new(SharedSubscriptions::new(metrics.ws_shared_executions.clone()));
        let state =
            AppState { ctx, graphql, metrics, config: Arc::new(config), limits, sockets: Arc::default(), shared, integration_slots };
        Ok(Application { listener, state })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The shared state (domain context, schema, config).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves (and runs the mail worker and the revocation sweep) until `shutdown` completes, then
    /// finishes in-flight requests and the mail in hand.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = self.state.config.run_mail_worker.then(|| {
            let ctx = self.state.ctx.clone();
            let mut stop = stop_rx.clone();
            tokio::spawn(domain::notifications::worker::run(ctx, async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            }))
        });
        let sweep = {
            let (ctx, mut stop) = (self.state.ctx.clone(), stop_rx.clone());
            tokio::spawn(domain::sessions::sweep::run(ctx, self.state.config.limits.revocation_sweep, async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            }))
        };
        let connections = self.state.config.connections.clone();
        let router = routes::router(self.state);
        crate::serve::serve(self.listener, router, connections, async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await;
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        let _ = sweep.await;
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "listening for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "listening for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
