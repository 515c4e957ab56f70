//! The bundled relay: when the configured relay address is on this machine and
//! nothing answers there, the app starts the relay in-process on that address,
//! so a fresh machine gets a working messenger with no set-up.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use natter_server::{Config, Relay};

/// The loopback socket address of `server` (`http://127.0.0.1:7878`), if it is
/// one.
pub fn loopback_addr(server: &str) -> Option<SocketAddr> {
    let rest = server.strip_prefix("http://")?;
    let hostport = rest.split('/').next()?;
    let addr = hostport
        .to_socket_addrs()
        .ok()?
        .find(|a| a.ip().is_loopback())?;
    Some(addr)
}

/// Starts the bundled relay if `server` is local and silent. Returns it so it
/// lives as long as the app.
pub async fn ensure(server: &str, data_home: &Path) -> Result<Option<Arc<Relay>>, String> {
    let Some(addr) = loopback_addr(server) else {
        return Ok(None);
    };
    if let Ok(http) = natter_net::http::Http::new(server)
        && let Ok(Ok(health)) =
            tokio::time::timeout(Duration::from_millis(800), http.health()).await
    {
        crate::about::record_relay_version(server, &health.version);
        return Ok(None);
    }
    let config = Config {
        bind: addr,
        data_dir: data_home.join("relay"),
        ..Config::default()
    };
    match Relay::start(config).await {
        Ok(relay) => {
            tracing::info!(%addr, "started the bundled relay");
            crate::about::record_relay_version(server, natter_server::VERSION);
            Ok(Some(Arc::new(relay)))
        }
        // Another instance may have started it a moment ago.
        Err(e) => {
            let http = natter_net::http::Http::new(server).map_err(|e| e.to_string())?;
            if http.health().await.is_ok() {
                Ok(None)
            } else {
                Err(e.to_string())
            }
        }
    }
}
