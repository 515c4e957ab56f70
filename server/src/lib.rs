//! Natter's relay.
//!
//! - [`config`]: what can be configured, and the defaults.
//! - [`api`]: REST routes; [`ws`]: WebSocket sessions. Both call into
//! - [`service`]: the rules of accounts, friends, groups and messages, which keeps
//!   its data through the [`storage::Storage`] trait ([`storage::embedded`] is the
//!   redb backend) and reaches connected devices through the [`hub::Hub`].
//! - [`auth`]: password hashing and tokens.
//! - [`turn`]: the embedded STUN/TURN server for calls.
//! - [`tls`]: the listener's TLS; [`metrics`]: `GET /metrics` on its own
//!   listener; [`admin`]: the operator commands' socket and direct mode.
//! - [`cluster`]: cluster mode, several relays on one PostgreSQL database
//!   exchanging live traffic over NATS.
//! - [`files`]: uploads and downloads of the files that image, file and voice
//!   messages reference, kept under `<data_dir>/files/`.
//!
//! [`Relay::start`] runs the whole thing on a tokio runtime; tests start one on
//! `127.0.0.1:0` and talk to it over real sockets.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod admin;
pub mod api;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod error;
pub mod files;
pub mod hub;
pub mod metrics;
pub mod service;
pub mod sfu;
pub mod storage;
pub mod throttle;
pub mod tls;
pub mod turn;
pub mod uploads;
pub mod util;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::Config;

/// The relay's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use service::Service;

/// A running relay.
pub struct Relay {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where `/metrics` is served, if configured.
    pub metrics_addr: Option<SocketAddr>,
    /// Whether the listener speaks TLS.
    pub tls: bool,
    /// Its service, for tests that look inside.
    pub service: Arc<Service>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    db_closed: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl Relay {
    /// Opens storage (PostgreSQL when `config.database` is set, else the
    /// embedded database in `config.data_dir`), binds `config.bind` and starts
    /// serving.
    pub async fn start(config: Config) -> anyhow::Result<Relay> {
        let tls = config.tls()?;
        if config.nats.is_some() && config.database.is_none() {
            anyhow::bail!(
                "nats needs database: the nodes of a cluster share one PostgreSQL database"
            );
        }
        type Backend = (
            Arc<dyn storage::Storage>,
            Option<Arc<dyn cluster::Shared>>,
            std::sync::mpsc::Receiver<()>,
        );
        let (storage, shared, db_closed): Backend = match &config.database {
            Some(url) => {
                let pg = storage::postgres::PgConfig {
                    url: url.clone(),
                    max_connections: config.database_max_connections,
                };
                let (storage, closed) = storage::postgres::Postgres::connect(&pg).await?;
                tracing::info!("storage: PostgreSQL");
                let shared = Arc::new(storage.clone()) as Arc<dyn cluster::Shared>;
                (Arc::new(storage), Some(shared), closed)
            }
            None => {
                let (storage, closed) = storage::embedded::Embedded::open(&config.data_dir)?;
                (Arc::new(storage), None, closed)
            }
        };
        files::prepare(&config.files_dir(), config.clustered()).await?;
        uploads::prepare(&config.files_dir()).await?;
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let metrics_bind = config.metrics_bind;
        let service = Service::new(config, storage, shared, shutdown_rx.clone()).await?;
        let metrics_addr = match metrics_bind {
            Some(bind) => Some(metrics::serve(bind, service.clone(), shutdown_rx.clone()).await?),
            None => None,
        };
        #[cfg(unix)]
        admin::serve_socket(service.clone(), shutdown_rx.clone())?;
        let app = api::router(service.clone());
        let stop = shutdown_rx;
        let with_tls = tls.is_some();
        let server = match tls {
            Some(tls) => {
                let listener = tls::TlsListener::new(listener, tls)?;
                tokio::spawn(serve(listener, app, stop))
            }
            None => tokio::spawn(serve(NoDelay(listener), app, stop)),
        };
        tracing::info!(%addr, tls = with_tls, "relay listening");
        Ok(Relay {
            addr,
            metrics_addr,
            tls: with_tls,
            service,
            shutdown,
            server,
            db_closed: std::sync::Mutex::new(db_closed),
        })
    }

    /// Base URL for REST, e.g. `http://127.0.0.1:7878`.
    pub fn http_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// WebSocket URL.
    pub fn ws_url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.addr, natter_proto::WS_PATH)
    }

    /// Stops accepting, tells every session to go, and waits for them (at most the
    /// configured grace period).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let grace = Duration::from_secs(self.service.config.shutdown_grace_secs);
        let deadline = tokio::time::Instant::now() + grace;
        let _ = tokio::time::timeout_at(deadline, self.server).await;
        while !self.service.hub.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(turn) = &self.service.turn {
            turn.close().await;
        }
        if let Some(node) = &self.service.node
            && let Err(e) = node.shared.leave(node.id).await
        {
            tracing::warn!(error = %e, "node not removed from the cluster table");
        }
        // Wait for the database to close, so the same data directory can be
        // opened again at once (a restart in the same process).
        let closed = self.db_closed;
        drop(self.service);
        let wait = (deadline + Duration::from_secs(2))
            .saturating_duration_since(tokio::time::Instant::now());
        let done = tokio::task::spawn_blocking(move || {
            closed
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .recv_timeout(wait)
                .is_ok()
        })
        .await
        .unwrap_or(false);
        if !done {
            tracing::warn!("database still in use after shutdown");
        }
        tracing::info!("relay stopped");
    }
}

/// A connection's remote address, as request handlers see it (the throttles
/// count by it).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

/// The plain TCP listener: frames are small and latency matters more than
/// packet count, so no Nagle.
pub struct NoDelay(TcpListener);

impl axum::serve::Listener for NoDelay {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        if let Err(e) = io.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        (io, addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, NoDelay>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, NoDelay>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tls::TlsListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tls::TlsListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

async fn serve<L>(
    listener: L,
    app: axum::Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}
