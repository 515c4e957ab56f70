//! The service layer: every rule of accounts, friends, groups and messages, on top
//! of the [`Storage`] trait and the live [`Hub`]. The REST handlers and the
//! WebSocket sessions are thin callers of these methods.

mod accounts;
pub mod admin;
pub mod calls;
mod friends;
mod groups;
mod messages;

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use natter_proto::frame::ServerFrame;
use natter_proto::model::UserId;
use tokio::sync::watch;

pub use accounts::Authed;
pub use messages::Outgoing;

use crate::auth::{Passwords, Tokens};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::hub::Hub;
use crate::storage::{Appends, Storage};
use crate::turn::Turn;
use crate::util::IdGen;

/// Shared state of the relay.
pub struct Service {
    /// Configuration in force.
    pub config: Config,
    /// Where everything is kept.
    pub storage: Arc<dyn Storage>,
    /// Open sessions.
    pub hub: Hub,
    /// Calls in progress.
    pub calls: calls::Calls,
    /// The STUN/TURN server, unless turned off.
    pub turn: Option<Turn>,
    /// Password hashing.
    pub passwords: Passwords,
    /// Token signing.
    pub tokens: Tokens,
    /// Id source.
    pub ids: IdGen,
    /// Flips to `true` when the relay begins shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// What `/metrics` reports.
    pub metrics: crate::metrics::Metrics,
}

impl Service {
    /// Builds the service over `storage`.
    pub async fn new(
        config: Config,
        storage: Arc<dyn Storage>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Service> {
        let key = storage.signing_key().await?;
        let node = storage.node_number().await?;
        let passwords = {
            let (m, t) = (config.argon2_memory_kib, config.argon2_iterations);
            tokio::task::spawn_blocking(move || Passwords::new(m, t))
                .await
                .map_err(|e| Error::Internal(e.to_string()))??
        };
        let turn = if config.turn.enabled {
            // Calls still connect directly without it, so a busy port (say, a
            // second relay on this machine) is a warning, not a failure.
            match Turn::start(&config.turn, config.bind, &key).await {
                Ok(turn) => Some(turn),
                Err(e) => {
                    tracing::warn!(error = %e, "STUN/TURN not started; calls will only connect directly");
                    None
                }
            }
        } else {
            None
        };
        Ok(Service {
            turn,
            config,
            storage,
            hub: Hub::default(),
            calls: calls::Calls::default(),
            passwords,
            tokens: Tokens::new(key),
            ids: IdGen::for_node(node),
            shutdown,
            metrics: crate::metrics::Metrics::new(),
        })
    }

    /// Pushes freshly appended events to the connected devices of their accounts.
    pub fn deliver_events(&self, appends: &Appends) {
        for (user, event) in appends {
            let frame = ServerFrame::Event {
                event: event.clone(),
            };
            self.hub.send(&[*user], &encode(&frame), None);
        }
    }

    /// Pushes one frame to every device of `users`.
    pub fn push(&self, users: &[UserId], frame: &ServerFrame, skip_conn: Option<u64>) {
        self.hub.send(users, &encode(frame), skip_conn);
    }
}

/// Serialises a frame once, for any number of recipients.
pub fn encode(frame: &ServerFrame) -> Utf8Bytes {
    // Serialising these plain data types cannot fail: no maps with non-string
    // keys, no custom serializers that error.
    serde_json::to_string(frame)
        .unwrap_or_else(|_| r#"{"type":"error","code":"internal","message":"encoding"}"#.into())
        .into()
}

/// Trims and checks a display name.
pub(crate) fn clean_name(name: &str, what: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::bad_request(format!("{what} must not be empty")));
    }
    if name.chars().count() > natter_proto::limits::MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(Error::bad_request(format!(
            "{what} must be at most {} characters, without control characters",
            natter_proto::limits::MAX_NAME_CHARS
        )));
    }
    Ok(name.to_string())
}

/// Checks a free-text note (friend request, announcement).
pub(crate) fn clean_note(note: &str, what: &str) -> Result<String> {
    if note.chars().count() > natter_proto::limits::MAX_NOTE_CHARS {
        return Err(Error::bad_request(format!(
            "{what} must be at most {} characters",
            natter_proto::limits::MAX_NOTE_CHARS
        )));
    }
    Ok(note.trim().to_string())
}
