//! Logs (tracing) and Prometheus metrics.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::state::AppState;

/// Installs the global log subscriber (`RUST_LOG` overrides the default level).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}

/// This server's metrics, in a registry of its own so several servers in one
/// process (tests) do not collide.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    /// Open GraphQL WebSocket connections.
    pub ws_connections: IntGauge,
    /// Shared subscription executions running (one per group of staff
    /// subscriptions that ask the same).
    pub ws_shared_executions: IntGauge,
    /// SQL statements run, by outcome; tests read it to prove the absence of N+1
    /// queries.
    pub db_statements: IntCounterVec,
    db_duration: Histogram,
}

impl Metrics {
    /// Creates and registers the metrics.
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("rastro".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route"),
            &["method", "route"],
        )?;
        let ws_connections = IntGauge::new("graphql_ws_connections", "Open GraphQL WebSocket connections")?;
        let ws_shared_executions =
            IntGauge::new("graphql_ws_shared_executions", "Subscription executions shared by sockets that ask the same")?;
        let db_statements =
            IntCounterVec::new(Opts::new("db_statements_total", "SQL statements executed"), &["outcome"])?;
        let db_duration = Histogram::with_opts(
            HistogramOpts::new("db_statement_duration_seconds", "SQL statement latency")
                .buckets(vec![0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0]),
        )?;
        registry.register(Box::new(db_statements.clone()))?;
        registry.register(Box::new(db_duration.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(ws_connections.clone()))?;
        registry.register(Box::new(ws_shared_executions.clone()))?;
        Ok(Metrics { registry, http_requests, http_duration, ws_connections, ws_shared_executions, db_statements, db_duration })
    }

    /// Counts and times every statement run through `db`. Call before cloning the
    /// connection: clones made earlier do not report.
    pub fn observe_database(self: &Arc<Self>, db: &mut sea_orm::DatabaseConnection) {
        let metrics = Arc::clone(self);
        db.set_metric_callback(move |info| {
            tracing::trace!(target: "rastro::sql", sql = %info.statement.sql, elapsed_us = info.elapsed.as_micros(), "statement");
            let outcome = if info.failed { "error" } else { "ok" };
            metrics.db_statements.with_label_values(&[outcome]).inc();
            metrics.db_duration.observe(info.elapsed.as_secs_f64());
        });
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_default()
    }
}

/// Counts and times every request by its route template (not its raw path, so
/// ids do not explode the label set).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    state.metrics.http_requests.with_label_values(&[&method, &route, &status]).inc();
    state.metrics.http_duration.with_label_values(&[&method, &route]).observe(started.elapsed().as_secs_f64());
    response
}

/// Marks a response whose 5xx status is the client's doing: a SOAP fault for
/// malformed or hostile input, sent with HTTP 500 as the WS-I Basic Profile
/// asks. The request log shows it as an answer, not as a server failure.
#[derive(Debug, Clone, Copy)]
pub struct ClientFault;

/// The request log's classifier: 5xx responses are server failures (logged
/// at ERROR) unless marked [`ClientFault`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerFailures;

impl tower_http::classify::ClassifyResponse for ServerFailures {
    type FailureClass = tower_http::classify::ServerErrorsFailureClass;
    type ClassifyEos = tower_http::classify::NeverClassifyEos<Self::FailureClass>;

    fn classify_response<B>(self, response: &axum::http::Response<B>) -> tower_http::classify::ClassifiedResponse<Self::FailureClass, Self::ClassifyEos> {
        use tower_http::classify::{ClassifiedResponse, ServerErrorsFailureClass};
        if response.status().is_server_error() && response.extensions().get::<ClientFault>().is_none() {
            ClassifiedResponse::Ready(Err(ServerErrorsFailureClass::StatusCode(response.status())))
        } else {
            ClassifiedResponse::Ready(Ok(()))
        }
    }

    fn classify_error<E: std::fmt::Display + 'static>(self, error: &E) -> Self::FailureClass {
        tower_http::classify::ServerErrorsFailureClass::Error(error.to_string())
    }
}
