//! What the relay counts, for `GET /metrics` in the Prometheus text format
//! (OpenMetrics flavour, which Prometheus reads natively).
//!
//! One [`Metrics`] per relay, so tests running several relays in one process
//! see their own figures. Counters are bumped where things happen; gauges
//! (connections, devices per account, TURN allocations) are read from the live
//! state at scrape time.
//!
//! The endpoint is served on its own listener (`metrics_bind`), never on the
//! public one, optionally behind a bearer token (`metrics_token`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use natter_proto::ErrorCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::service::Service;

/// Label of an error counter: the wire error code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

/// Label of the devices gauge: how many devices an account has connected.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DevicesLabel {
    devices: String,
}

/// The relay's counters, gauges and histograms.
pub struct Metrics {
    registry: Registry,
    connections: Gauge,
    accounts_by_devices: Family<DevicesLabel, Gauge>,
    turn_allocations: Gauge,
    frames_in: Counter,
    frames_out: Counter,
    messages_sent: Counter,
    catchup_pages: Counter,
    errors: Family<CodeLabel, Counter>,
    ack_latency: Histogram,
    commit_latency: Histogram,
    bus_connected: Gauge,
    bus_dropped: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric, all at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("natter");
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        let accounts_by_devices = Family::<DevicesLabel, Gauge>::default();
        registry.register(
            "accounts_online",
            "Accounts with live sessions, by how many devices each has connected (4 = four or more)",
            accounts_by_devices.clone(),
        );
        let bus_connected = Gauge::default();
        registry.register(
            "bus_connected",
            "Cluster node: 1 while connected to NATS, else 0 (always 0 on a single relay)",
            bus_connected.clone(),
        );
        let bus_dropped = Gauge::default();
        registry.register(
            "bus_dropped_frames",
            "Cluster node: frames for other nodes dropped because the bus queue was full",
            bus_dropped.clone(),
        );
        let turn_allocations = Gauge::default();
        registry.register(
            "turn_allocations",
            "Live TURN allocations of the embedded STUN/TURN server",
            turn_allocations.clone(),
        );
        let frames_in = Counter::default();
        registry.register(
            "frames_in",
            "WebSocket frames received from clients",
            frames_in.clone(),
        );
        let frames_out = Counter::default();
        registry.register(
            "frames_out",
            "WebSocket frames sent to clients",
            frames_out.clone(),
        );
        let messages_sent = Counter::default();
        registry.register(
            "messages_sent",
            "Messages accepted and stored (rate() of it is sends per second)",
            messages_sent.clone(),
        );
        let catchup_pages = Counter::default();
        registry.register(
            "catchup_pages",
            "Pages of events and history served to reconnecting clients",
            catchup_pages.clone(),
        );
        let errors = Family::<CodeLabel, Counter>::default();
        registry.register(
            "errors",
            "Errors answered to clients (REST and WebSocket), by error code",
            errors.clone(),
        );
        // 0.25 ms .. ~4 s.
        let ack_latency = Histogram::new(exponential_buckets(0.000_25, 2.0, 15));
        registry.register(
            "ack_latency_seconds",
            "From a send frame received to its ack written",
            ack_latency.clone(),
        );
        let commit_latency = Histogram::new(exponential_buckets(0.000_25, 2.0, 15));
        registry.register(
            "storage_commit_seconds",
            "Durable storage commit of a message append",
            commit_latency.clone(),
        );
        Metrics {
            registry,
            connections,
            accounts_by_devices,
            turn_allocations,
            frames_in,
            frames_out,
            messages_sent,
            catchup_pages,
            errors,
            ack_latency,
            commit_latency,
            bus_connected,
            bus_dropped,
        }
    }

    /// One frame received.
    pub fn frame_in(&self) {
        self.frames_in.inc();
    }

    /// One frame written.
    pub fn frame_out(&self) {
        self.frames_out.inc();
    }

    /// One message stored (not counting resends of a stored one).
    pub fn message_sent(&self) {
        self.messages_sent.inc();
    }

    /// One catch-up page served.
    pub fn catchup_page(&self) {
        self.catchup_pages.inc();
    }

    /// One error answered with `code`.
    pub fn error(&self, code: ErrorCode) {
        let code = serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into());
        self.errors.get_or_create(&CodeLabel { code }).inc();
    }

    /// Time from a send frame to its ack.
    pub fn ack(&self, took: Duration) {
        self.ack_latency.observe(took.as_secs_f64());
    }

    /// Time of one durable append.
    pub fn commit(&self, took: Duration) {
        self.commit_latency.observe(took.as_secs_f64());
    }

    /// The text exposition, with the gauges read from `svc` now.
    pub async fn render(&self, svc: &Service) -> String {
        self.connections.set(gauge(svc.hub.len()));
        let mut by_devices = [0u64; 4];
        for n in svc.hub.devices_per_account() {
            by_devices[n.clamp(1, 4) - 1] += 1;
        }
        for (i, count) in by_devices.iter().enumerate() {
            self.accounts_by_devices
                .get_or_create(&DevicesLabel {
                    devices: (i + 1).to_string(),
                })
                .set(gauge(*count));
        }
        if let Some(node) = &svc.node {
            let up = node.bus.up.load(std::sync::atomic::Ordering::Relaxed);
            self.bus_connected.set(i64::from(up));
            let dropped = node.bus.dropped.load(std::sync::atomic::Ordering::Relaxed);
            self.bus_dropped.set(gauge(dropped));
        }
        if let Some(turn) = &svc.turn {
            let (allocations, _) = turn.usage().await;
            self.turn_allocations.set(gauge(allocations as u64));
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The metrics listener's routes: `GET /metrics`, and `GET /healthz` for probes.
pub fn router(svc: Arc<Service>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(scrape))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(svc)
}

async fn scrape(State(svc): State<Arc<Service>>, headers: HeaderMap) -> Response {
    if let Some(token) = svc
        .config
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "metrics need the bearer token set as metrics_token\n",
            )
                .into_response();
        }
    }
    let body = svc.metrics.render(&svc).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves the metrics routes on `bind` until `stop` turns true; returns the
/// bound address.
pub async fn serve(
    bind: SocketAddr,
    svc: Arc<Service>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let app = router(svc);
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "metrics listener stopped");
        }
    });
    tracing::info!(%addr, "metrics listening");
    Ok(addr)
}
