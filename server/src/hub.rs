//! Live sessions: which connections are open for which account, and delivery of
//! frames to them.
//!
//! The hub holds the only sender of each connection's outbound queue. Dropping a
//! connection — because the queue is full (the client is too slow), its device
//! connected again, or it logged out — is removing its entry: the connection task
//! drains what was queued, sees the queue closed and ends. Nothing is lost by
//! this; the client catches up from storage when it reconnects.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use natter_proto::ErrorCode;
use natter_proto::model::UserId;
use tokio::sync::mpsc;

/// Why the relay closes a device's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The device connected again (here or on another node).
    Replaced,
    /// The device signed out.
    LoggedOut,
    /// An operator disabled the account.
    Disabled,
    /// An operator reset the account's password.
    PasswordReset,
    /// The session's refresh token was used twice, so it may be stolen: the
    /// whole session ended.
    Revoked,
}

impl CloseReason {
    /// What the closing `error` frame says.
    pub fn message(self) -> &'static str {
        match self {
            CloseReason::Replaced => "replaced by a newer connection of this device",
            CloseReason::LoggedOut => "logged out",
            CloseReason::Disabled => "account disabled by the operator",
            CloseReason::PasswordReset => "password was reset",
            CloseReason::Revoked => "session revoked: its refresh token was used twice",
        }
    }

    /// Its name between nodes.
    pub fn key(self) -> &'static str {
        match self {
            CloseReason::Replaced => "replaced",
            CloseReason::LoggedOut => "logged_out",
            CloseReason::Disabled => "disabled",
            CloseReason::PasswordReset => "password_reset",
            CloseReason::Revoked => "revoked",
        }
    }

    /// The reason named `key` (an unknown name closes as signed out).
    pub fn from_key(key: Option<&str>) -> CloseReason {
        match key {
            Some("replaced") => CloseReason::Replaced,
            Some("disabled") => CloseReason::Disabled,
            Some("password_reset") => CloseReason::PasswordReset,
            Some("revoked") => CloseReason::Revoked,
            _ => CloseReason::LoggedOut,
        }
    }
}

/// Something for a connection task to do.
#[derive(Debug)]
pub enum Outbound {
    /// Send this (already serialised) frame.
    Frame(Utf8Bytes),
    /// Send an error frame with this code, then close.
    Close(ErrorCode, &'static str),
}

struct Conn {
    id: u64,
    device: Box<str>,
    /// The protocol version the connection negotiated.
    protocol: u32,
    tx: mpsc::Sender<Outbound>,
}

/// The registry of open sessions.
#[derive(Default)]
pub struct Hub {
    users: RwLock<HashMap<UserId, Vec<Conn>>>,
    next_id: AtomicU64,
    count: AtomicU64,
}

impl Hub {
    /// Registers a connection of `user` on `device`, replacing an older connection
    /// of the same device. Returns the connection id and whether the account was
    /// offline until now.
    pub fn register(
        &self,
        user: UserId,
        device: &str,
        protocol: u32,
        tx: mpsc::Sender<Outbound>,
    ) -> (u64, bool) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let conns = users.entry(user).or_default();
        let was_offline = conns.is_empty();
        if let Some(pos) = conns.iter().position(|c| &*c.device == device) {
            let old = conns.swap_remove(pos);
            let _ = old.tx.try_send(Outbound::Close(
                ErrorCode::Unauthorized,
                CloseReason::Replaced.message(),
            ));
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        conns.push(Conn {
            id,
            device: device.into(),
            protocol,
            tx,
        });
        self.count.fetch_add(1, Ordering::Relaxed);
        (id, was_offline)
    }

    /// Removes a connection if it is still registered.
    pub fn unregister(&self, user: UserId, id: u64) {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let Some(conns) = users.get_mut(&user) else {
            return;
        };
        let before = conns.len();
        conns.retain(|c| c.id != id);
        if conns.len() < before {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        if conns.is_empty() {
            users.remove(&user);
        }
    }

    /// Queues `frame` for every connection of `users`, except connection `skip`.
    /// Connections whose queue is full are dropped.
    pub fn send(&self, users: &[UserId], frame: &Utf8Bytes, skip: Option<u64>) {
        self.send_since(users, frame, skip, 0);
    }

    /// Like [`Hub::send`], only to connections that negotiated protocol
    /// `min_protocol` or later.
    pub fn send_since(
        &self,
        users: &[UserId],
        frame: &Utf8Bytes,
        skip: Option<u64>,
        min_protocol: u32,
    ) {
        let mut slow = Vec::new();
        {
            let map = self.users.read().unwrap_or_else(|e| e.into_inner());
            for user in users {
                for conn in map.get(user).into_iter().flatten() {
                    if Some(conn.id) == skip || conn.protocol < min_protocol {
                        continue;
                    }
                    if let Err(mpsc::error::TrySendError::Full(_)) =
                        conn.tx.try_send(Outbound::Frame(frame.clone()))
                    {
                        slow.push((*user, conn.id));
                    }
                }
            }
        }
        for (user, id) in slow {
            tracing::warn!(
                user = user.0,
                conn = id,
                "dropping a connection that does not keep up"
            );
            self.unregister(user, id);
        }
    }

    /// Queues `frame` for one connection of `user`.
    pub fn send_to_conn(&self, user: UserId, id: u64, frame: &Utf8Bytes) {
        let map = self.users.read().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = map.get(&user).and_then(|c| c.iter().find(|c| c.id == id)) {
            let _ = conn.tx.try_send(Outbound::Frame(frame.clone()));
        }
    }

    /// Queues `frame` for the connection of `user`'s `device`, if it is connected.
    pub fn send_to_device(&self, user: UserId, device: &str, frame: &Utf8Bytes) {
        let map = self.users.read().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = map
            .get(&user)
            .and_then(|c| c.iter().find(|c| &*c.device == device))
        {
            let _ = conn.tx.try_send(Outbound::Frame(frame.clone()));
        }
    }

    /// Closes every connection of `user` on `device`.
    pub fn close_device(&self, user: UserId, device: &str, reason: CloseReason) {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        if let Some(conns) = users.get_mut(&user) {
            conns.retain(|c| {
                let keep = &*c.device != device;
                if !keep {
                    let _ =
                        c.tx.try_send(Outbound::Close(ErrorCode::Unauthorized, reason.message()));
                    self.count.fetch_sub(1, Ordering::Relaxed);
                }
                keep
            });
            if conns.is_empty() {
                users.remove(&user);
            }
        }
    }

    /// Closes every connection of `user`; returns how many there were.
    pub fn close_user(&self, user: UserId, reason: CloseReason) -> usize {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let conns = users.remove(&user).unwrap_or_default();
        for c in &conns {
            let _ =
                c.tx.try_send(Outbound::Close(ErrorCode::Unauthorized, reason.message()));
        }
        self.count.fetch_sub(conns.len() as u64, Ordering::Relaxed);
        conns.len()
    }

    /// Drops every connection, as if each were too slow: each closes with
    /// 1013 ("reconnect") once it has written what was queued, and its client
    /// reconnects and catches up.
    pub fn drop_all(&self) -> usize {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let n: usize = users.values().map(Vec::len).sum();
        users.clear();
        self.count.fetch_sub(n as u64, Ordering::Relaxed);
        n
    }

    /// Every open connection: (connection id, account, device).
    pub fn connections(&self) -> Vec<(u64, UserId, String)> {
        let map = self.users.read().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .flat_map(|(user, conns)| conns.iter().map(|c| (c.id, *user, c.device.to_string())))
            .collect()
    }

    /// For each account with a live connection, how many devices it has connected.
    pub fn devices_per_account(&self) -> Vec<usize> {
        let map = self.users.read().unwrap_or_else(|e| e.into_inner());
        map.values().map(Vec::len).filter(|n| *n > 0).collect()
    }

    /// Whether any device of `user` is connected.
    pub fn is_online(&self, user: UserId) -> bool {
        let map = self.users.read().unwrap_or_else(|e| e.into_inner());
        map.get(&user).is_some_and(|c| !c.is_empty())
    }

    /// Whether `user`'s `device` is connected.
    pub fn is_device_online(&self, user: UserId, device: &str) -> bool {
        let map = self.users.read().unwrap_or_else(|e| e.into_inner());
        map.get(&user)
            .is_some_and(|c| c.iter().any(|c| &*c.device == device))
    }

    /// Open connections.
    pub fn len(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
