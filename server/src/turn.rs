//! The embedded STUN/TURN server, so calls connect when the two parties cannot
//! reach each other directly.
//!
//! It listens on UDP next to the relay (port 3478 by default) and answers STUN
//! binding requests and TURN allocations. Credentials are short-lived and follow
//! the usual REST-API scheme: the user name is `<expiry secs>:<user id>` and the
//! password is base64(HMAC-SHA1(secret, user name)), so the relay hands them out
//! without storing anything, and they stop working at the expiry. The secret is
//! derived from the relay's signing key, so credentials survive a restart.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use natter_proto::model::UserId;
use natter_proto::rest::{IceServer, IceServers};
use ring::hmac;
use serde::{Deserialize, Serialize};
use tokio::net::UdpSocket;
use turn::auth::{AuthHandler, generate_auth_key};
use turn::relay::relay_range::RelayAddressGeneratorRanges;
use turn::server::Server;
use turn::server::config::{ConnConfig, ServerConfig};
use webrtc_util::vnet::net::Net;

/// TURN settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TurnConfig {
    /// Run the STUN/TURN server.
    pub enabled: bool,
    /// UDP address to listen on. An unspecified IP means the relay's bind IP.
    pub bind: SocketAddr,
    /// The address clients are told to use and relayed traffic comes from. By
    /// default the relay's bind IP (or 127.0.0.1 when that is unspecified): set
    /// it to the machine's public address when serving other machines.
    pub public_ip: Option<IpAddr>,
    /// Lowest UDP port for relayed allocations.
    pub min_port: u16,
    /// Highest UDP port for relayed allocations.
    pub max_port: u16,
    /// How long handed-out credentials work, seconds.
    pub credential_ttl_secs: u64,
}

impl Default for TurnConfig {
    fn default() -> Self {
        TurnConfig {
            enabled: true,
            bind: SocketAddr::from(([0, 0, 0, 0], 3478)),
            public_ip: None,
            min_port: 49152,
            max_port: 65535,
            credential_ttl_secs: 6 * 60 * 60,
        }
    }
}

const REALM: &str = "natter";

/// A running STUN/TURN server and the means to hand out credentials for it.
pub struct Turn {
    server: Server,
    addr: SocketAddr,
    secret: Arc<[u8]>,
    ttl: Duration,
}

impl Turn {
    /// Starts the server. `relay_bind` is the relay's HTTP address, whose IP is
    /// used where the TURN settings leave it open; `key` is the signing key.
    pub async fn start(
        config: &TurnConfig,
        relay_bind: SocketAddr,
        key: &[u8],
    ) -> anyhow::Result<Turn> {
        let mut bind = config.bind;
        if bind.ip().is_unspecified() {
            bind.set_ip(relay_bind.ip());
        }
        let public = config.public_ip.unwrap_or(if bind.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            bind.ip()
        });
        let socket = UdpSocket::bind(bind).await?;
        let mut addr = socket.local_addr()?;
        if addr.ip().is_unspecified() {
            addr.set_ip(public);
        }
        let secret: Arc<[u8]> = derive_secret(key).into();
        let server = Server::new(ServerConfig {
            conn_configs: vec![ConnConfig {
                conn: Arc::new(socket),
                relay_addr_generator: Box::new(RelayAddressGeneratorRanges {
                    relay_address: public,
                    min_port: config.min_port,
                    max_port: config.max_port.max(config.min_port),
                    max_retries: 20,
                    address: bind_ip_string(bind.ip()),
                    net: Arc::new(Net::new(None)),
                }),
            }],
            realm: REALM.into(),
            auth_handler: Arc::new(Credentials {
                secret: secret.clone(),
            }),
            channel_bind_timeout: Duration::from_secs(0),
            alloc_close_notify: None,
        })
        .await
        .map_err(|e| anyhow::anyhow!("TURN server: {e}"))?;
        tracing::info!(%addr, "STUN/TURN listening");
        Ok(Turn {
            server,
            addr,
            secret,
            ttl: Duration::from_secs(config.credential_ttl_secs.max(60)),
        })
    }

    /// The UDP address clients use.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// STUN and TURN entries with credentials for `user`, valid from now.
    pub fn ice_servers(&self, user: UserId, now_ms: i64) -> IceServers {
        let expires = now_ms / 1000 + self.ttl.as_secs() as i64;
        let username = format!("{expires}:{}", user.0);
        let credential = password(&self.secret, &username);
        IceServers {
            ice_servers: vec![
                IceServer {
                    urls: vec![format!("stun:{}", self.addr)],
                    username: None,
                    credential: None,
                },
                IceServer {
                    urls: vec![format!("turn:{}?transport=udp", self.addr)],
                    username: Some(username),
                    credential: Some(credential),
                },
            ],
            expires_at: expires * 1000,
        }
    }

    /// Live allocations and the bytes relayed through them so far.
    pub async fn usage(&self) -> (usize, usize) {
        match self.server.get_allocations_info(None).await {
            Ok(infos) => (infos.len(), infos.values().map(|i| i.relayed_bytes).sum()),
            Err(_) => (0, 0),
        }
    }

    /// Stops the server and frees its allocations.
    pub async fn close(&self) {
        if let Err(e) = self.server.close().await {
            tracing::debug!(error = %e, "closing TURN");
        }
    }
}

fn bind_ip_string(ip: IpAddr) -> String {
    if ip.is_unspecified() {
        "0.0.0.0".into()
    } else {
        ip.to_string()
    }
}

fn derive_secret(key: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, b"natter turn credentials")
        .as_ref()
        .to_vec()
}

fn password(secret: &[u8], username: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    BASE64_STANDARD.encode(hmac::sign(&key, username.as_bytes()).as_ref())
}

/// Checks time-limited user names and gives the TURN server the key for them.
struct Credentials {
    secret: Arc<[u8]>,
}

impl AuthHandler for Credentials {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        _src: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        let expires: i64 = username
            .split(':')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| turn::Error::Other("malformed user name".into()))?;
        if expires * 1000 < natter_proto::now_ms() {
            return Err(turn::Error::Other("credentials expired".into()));
        }
        Ok(generate_auth_key(
            username,
            realm,
            &password(&self.secret, username),
        ))
    }
}
