//! How `natter-server admin …` reaches the accounts: through the running
//! relay's admin socket (`<data_dir>/admin.sock`, Unix only, mode 0600 so only
//! the relay's own user can use it), or, when no relay is running on that data
//! directory, on the database itself.
//!
//! The socket speaks one JSON [`Command`] per line and answers one JSON
//! [`Reply`] per line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::service::Service;
pub use crate::service::admin::{AccountInfo, Command, Reply};

/// The admin socket's path for a data directory.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.sock")
}

/// Why a command could not be carried out at all.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The running relay's socket failed mid-way.
    #[error("admin socket {0}: {1}")]
    Socket(PathBuf, std::io::Error),
    /// The relay answered something that is not a reply.
    #[error("admin socket {0} answered something unexpected: {1}")]
    Garbled(PathBuf, String),
    /// The data directory could not be opened.
    #[error(
        "cannot open the relay's data in {0}: {1} (if the relay is running, run this as its user so the admin socket can be used)"
    )]
    Open(PathBuf, String),
}

/// Runs `command` against the relay configured by `config`.
pub async fn run(config: &Config, command: Command) -> Result<Reply, AdminError> {
    #[cfg(unix)]
    {
        let path = socket_path(&config.data_dir);
        match tokio::net::UnixStream::connect(&path).await {
            Ok(stream) => return over_socket(&path, stream, &command).await,
            Err(e) => tracing::debug!(error = %e, "no admin socket; opening the database"),
        }
    }
    direct(config, command).await
}

#[cfg(unix)]
async fn over_socket(
    path: &Path,
    stream: tokio::net::UnixStream,
    command: &Command,
) -> Result<Reply, AdminError> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let err = |e| AdminError::Socket(path.into(), e);
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_string(command)
        .map_err(|e| AdminError::Garbled(path.into(), e.to_string()))?;
    line.push('\n');
    write.write_all(line.as_bytes()).await.map_err(err)?;
    let mut answer = String::new();
    BufReader::new(read)
        .read_line(&mut answer)
        .await
        .map_err(err)?;
    serde_json::from_str(&answer).map_err(|e| AdminError::Garbled(path.into(), e.to_string()))
}

/// Opens the data directory (the relay must not be running on it), runs the
/// command, and closes the database again.
async fn direct(config: &Config, command: Command) -> Result<Reply, AdminError> {
    let open_err = |e: String| AdminError::Open(config.data_dir.clone(), e);
    let (storage, closed) = crate::storage::embedded::Embedded::open(&config.data_dir)
        .map_err(|e| open_err(e.to_string()))?;
    let mut config = config.clone();
    config.turn.enabled = false;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let service = Service::new(config, Arc::new(storage), None, stop_rx)
        .await
        .map_err(|e| open_err(e.to_string()))?;
    let reply = service.admin(command).await;
    drop(service);
    // Wait for the file to close, so the relay can be started right after.
    let _ =
        tokio::task::spawn_blocking(move || closed.recv_timeout(std::time::Duration::from_secs(5)))
            .await;
    Ok(reply)
}

/// Serves the admin socket for a running relay until `stop` turns true.
#[cfg(unix)]
pub fn serve_socket(
    svc: Arc<Service>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(&svc.config.data_dir);
    // A socket file left by a relay that did not exit cleanly; the database
    // lock already proved no other relay is using this directory.
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let cleanup = path.clone();
    tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(answer(svc.clone(), stream));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "admin socket accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
                () = &mut stopped => break,
            }
        }
        let _ = std::fs::remove_file(cleanup);
    });
    Ok(path)
}

#[cfg(unix)]
async fn answer(svc: Arc<Service>, stream: tokio::net::UnixStream) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let reply = match serde_json::from_str::<Command>(&line) {
            Ok(command) => svc.admin(command).await,
            Err(e) => Reply::Error {
                message: format!("not an admin command: {e}"),
            },
        };
        let Ok(mut out) = serde_json::to_string(&reply) else {
            break;
        };
        out.push('\n');
        if write.write_all(out.as_bytes()).await.is_err() {
            break;
        }
    }
}
