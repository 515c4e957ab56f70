//! Relay configuration: defaults, then an optional TOML file, then environment
//! variables and flags (clap handles the last two), later sources winning.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use natter_proto::limits::Limits;
use serde::{Deserialize, Serialize};

/// Everything the relay can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Directory for the database and the signing key.
    pub data_dir: PathBuf,
    /// Access token lifetime, seconds.
    pub access_ttl_secs: u64,
    /// Refresh token lifetime, seconds.
    pub refresh_ttl_secs: u64,
    /// The relay pings every connection this often, milliseconds. A connection
    /// that sends nothing (not even a pong) for three intervals is dropped.
    pub heartbeat_ms: u64,
    /// Seconds a new connection has to send `hello`.
    pub hello_timeout_secs: u64,
    /// Frames queued for one connection before it is considered too slow and
    /// dropped (it catches up on reconnect).
    pub outbound_queue: usize,
    /// WebSocket read buffer per connection, bytes.
    pub ws_read_buffer: usize,
    /// Limits announced to and enforced on clients.
    pub limits: Limits,
    /// Argon2id memory cost in KiB (OWASP default 19456). Lower only for tests
    /// and benchmarks.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations (default 2).
    pub argon2_iterations: u32,
    /// Seconds to wait for connections to close on shutdown.
    pub shutdown_grace_secs: u64,
    /// The embedded STUN/TURN server.
    pub turn: crate::turn::TurnConfig,
    /// How long a call rings before it counts as missed, milliseconds.
    pub call_ring_timeout_ms: u64,
    /// How long a call survives a party's lost connection, milliseconds.
    pub call_grace_ms: u64,
    /// PEM certificate chain; with `tls_key`, the listener speaks TLS only
    /// (`https://`, `wss://`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Where `GET /metrics` is served (a listener of its own, never the public
    /// one); no metrics listener unless set.
    pub metrics_bind: Option<SocketAddr>,
    /// If set, `/metrics` needs `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Log lines as text (default) or JSON objects, one per line.
    pub log_format: LogFormat,
    /// PostgreSQL URL (`postgres://user:password@host:port/db`): keep
    /// everything there instead of the embedded database, so several relays
    /// can share it.
    pub database: Option<String>,
    /// Most connections to PostgreSQL this relay opens.
    pub database_max_connections: u32,
    /// NATS URL (`nats://host:4222`, several comma-separated): with
    /// `database`, this relay is a node of a cluster and exchanges live
    /// traffic with the other nodes over this bus.
    pub nats: Option<String>,
    /// Where uploaded files are kept; default `<data_dir>/files`. The nodes of
    /// a cluster must all see the same directory (a shared file system).
    pub files_dir: Option<PathBuf>,
    /// Web origins (`https://chat.example.com`) whose pages may call the REST
    /// API from a browser (CORS). Empty: none (the default). The WebSocket
    /// needs no such permission.
    pub cors_origins: Vec<String>,
    /// Failed sign-ins and registrations per account and address.
    pub throttle: crate::throttle::ThrottleConfig,
    /// Group calls: the forwarding unit's address and limits.
    pub sfu: crate::sfu::SfuConfig,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 7878)),
            data_dir: PathBuf::from("natter-data"),
            access_ttl_secs: 60 * 60,
            refresh_ttl_secs: 30 * 24 * 60 * 60,
            heartbeat_ms: 15_000,
            hello_timeout_secs: 10,
            outbound_queue: 1024,
            ws_read_buffer: 4 * 1024,
            limits: Limits::default(),
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            shutdown_grace_secs: 5,
            turn: crate::turn::TurnConfig::default(),
            call_ring_timeout_ms: 60_000,
            call_grace_ms: 10_000,
            tls_cert: None,
            tls_key: None,
            metrics_bind: None,
            metrics_token: None,
            log_format: LogFormat::Text,
            database: None,
            database_max_connections: 16,
            nats: None,
            files_dir: None,
            cors_origins: Vec::new(),
            throttle: crate::throttle::ThrottleConfig::default(),
            sfu: crate::sfu::SfuConfig::default(),
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse(path.into(), Box::new(e)))
    }

    /// A configuration for tests and benchmarks: a port chosen by the OS, cheap
    /// password hashing, and the given data directory.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            shutdown_grace_secs: 1,
            // Test suites register many accounts from one address.
            throttle: crate::throttle::ThrottleConfig {
                registrations_per_hour: 0,
                ..Default::default()
            },
            turn: crate::turn::TurnConfig {
                bind: SocketAddr::from(([127, 0, 0, 1], 0)),
                ..Default::default()
            },
            ..Config::default()
        }
    }

    /// The TLS server configuration, if TLS is configured; an error names the
    /// file that cannot be used.
    pub fn tls(&self) -> Result<Option<std::sync::Arc<rustls::ServerConfig>>, ConfigError> {
        match (&self.tls_cert, &self.tls_key) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(crate::tls::TlsError::Incomplete("tls_cert").into()),
            (None, Some(_)) => Err(crate::tls::TlsError::Incomplete("tls_key").into()),
            (Some(cert), Some(key)) => Ok(Some(crate::tls::server_config(cert, key)?)),
        }
    }

    /// Checks what can be checked without starting: TLS files, the data
    /// directory, value ranges. Returns a summary for `--check-config`.
    pub fn check(&self) -> Result<Vec<String>, ConfigError> {
        let mut out = Vec::new();
        let scheme = if self.tls()?.is_some() {
            out.push(format!(
                "TLS: certificate {} and key {} load and match",
                self.tls_cert.as_deref().unwrap_or(Path::new("")).display(),
                self.tls_key.as_deref().unwrap_or(Path::new("")).display()
            ));
            "https"
        } else {
            out.push(
                "TLS: off (plain HTTP; put a TLS proxy in front or set tls_cert/tls_key)".into(),
            );
            "http"
        };
        out.push(format!("listen: {scheme}://{}", self.bind));
        if self.data_dir.exists() && !self.data_dir.is_dir() {
            return Err(ConfigError::Invalid(format!(
                "data_dir {} exists and is not a directory",
                self.data_dir.display()
            )));
        }
        out.push(format!("data: {}", self.data_dir.display()));
        out.push(format!("files: {}", self.files_dir().display()));
        match (&self.database, &self.nats) {
            (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "nats needs database: the nodes of a cluster share one PostgreSQL database"
                        .into(),
                ));
            }
            (Some(_), Some(_)) => {
                out.push("storage: PostgreSQL; cluster node, live traffic over NATS".into())
            }
            (Some(_), None) => out.push("storage: PostgreSQL; single node (no nats)".into()),
            (None, None) => out.push("storage: embedded (redb)".into()),
        }
        match self.metrics_bind {
            Some(addr) if addr == self.bind && addr.port() != 0 => {
                return Err(ConfigError::Invalid(format!(
                    "metrics_bind {addr} is the public listener; give metrics a listener of its own"
                )));
            }
            Some(addr) => out.push(format!(
                "metrics: http://{addr}/metrics{}",
                if self.metrics_token.is_some() {
                    " (bearer token required)"
                } else {
                    ""
                }
            )),
            None => out.push("metrics: off (set metrics_bind)".into()),
        }
        if self.limits.frames_per_sec == 0 || self.heartbeat_ms == 0 || self.access_ttl_secs == 0 {
            return Err(ConfigError::Invalid(
                "frames_per_sec, heartbeat_ms and access_ttl_secs must be above 0".into(),
            ));
        }
        if self.turn.enabled {
            out.push(format!("STUN/TURN: udp {}", self.turn.bind));
        }
        for origin in &self.cors_origins {
            if axum::http::HeaderValue::from_str(origin).is_err()
                || !(origin.starts_with("https://") || origin.starts_with("http://"))
                || origin.ends_with('/')
            {
                return Err(ConfigError::Invalid(format!(
                    "cors_origins: {origin:?} is not an origin like https://chat.example.com"
                )));
            }
        }
        if self.cors_origins.is_empty() {
            out.push("CORS: off (no web origin may call the REST API)".into());
        } else {
            out.push(format!("CORS: {}", self.cors_origins.join(", ")));
        }
        Ok(out)
    }

    /// Where uploaded files are kept.
    pub fn files_dir(&self) -> PathBuf {
        self.files_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("files"))
    }

    /// Whether this relay is a node of a cluster (PostgreSQL and NATS).
    pub fn clustered(&self) -> bool {
        self.database.is_some() && self.nats.is_some()
    }

    /// Heartbeat interval.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.max(10))
    }
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not readable.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// Not valid TOML for this configuration.
    #[error("invalid configuration in {0}: {1}")]
    Parse(PathBuf, Box<toml::de::Error>),
    /// The TLS certificate or key cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A value is out of range or contradicts another.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_naming_some_fields_keeps_the_defaults_of_the_others() {
        let config: Config =
            toml::from_str("[limits]\nframes_per_sec = 10\n\n[turn]\nenabled = false\n").unwrap();
        assert_eq!(config.limits.frames_per_sec, 10);
        assert_eq!(
            Limits {
                frames_per_sec: 10,
                ..Limits::default()
            },
            config.limits
        );
        assert!(!config.turn.enabled);
        assert_eq!(config.turn.bind, crate::turn::TurnConfig::default().bind);
    }

    #[test]
    fn nats_without_a_database_is_refused() {
        let config = Config {
            nats: Some("nats://127.0.0.1:4222".into()),
            ..Config::default()
        };
        assert!(config.check().is_err());
        let config = Config {
            database: Some("postgres://natter@127.0.0.1/natter".into()),
            ..config
        };
        let summary = config.check().unwrap();
        assert!(
            summary.iter().any(|l| l.contains("cluster node")),
            "{summary:?}"
        );
    }
}
