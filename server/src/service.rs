//! The service layer: every rule of accounts, friends, groups and messages, on top
//! of the [`Storage`] trait and the live [`Hub`]. The REST handlers and the
//! WebSocket sessions are thin callers of these methods.

mod accounts;
pub mod admin;
pub mod calls;
mod friends;
pub mod group_calls;
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
use crate::cluster::{Bus, Shared};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::hub::{CloseReason, Hub, Outbound};
use crate::storage::{Appends, Storage};
use crate::turn::Turn;
use crate::util::IdGen;

/// Shared state of the relay.
pub struct Service {
    /// Configuration in force.
    pub config: Config,
    /// Where everything is kept.
    pub storage: Arc<dyn Storage>,
    /// The sessions open on this relay.
    pub hub: Arc<Hub>,
    /// In cluster mode, this node's link to the others.
    pub node: Option<Node>,
    /// Calls in progress.
    pub calls: calls::Calls,
    /// Group calls in progress (on one relay; not in a cluster).
    pub group_calls: group_calls::GroupCalls,
    /// The STUN/TURN server, unless turned off.
    pub turn: Option<Turn>,
    /// Password hashing.
    pub passwords: Passwords,
    /// Token signing.
    pub tokens: Tokens,
    /// Failed sign-ins and registrations.
    pub throttle: Arc<crate::throttle::Throttle>,
    /// Resumable uploads being written now.
    pub uploads: crate::uploads::Writing,
    /// Id source.
    pub ids: IdGen,
    /// Flips to `true` when the relay begins shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// What `/metrics` reports.
    pub metrics: crate::metrics::Metrics,
}

impl Service {
    /// Builds the service over `storage`. With `shared` (PostgreSQL) and
    /// `config.nats`, the relay is a node of a cluster.
    pub async fn new(
        config: Config,
        storage: Arc<dyn Storage>,
        shared: Option<Arc<dyn Shared>>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Service>> {
        let key = storage.signing_key().await?;
        let node_number = storage.node_number().await?;
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
        let hub = Arc::new(Hub::default());
        let throttle = Arc::new(crate::throttle::Throttle::new(config.throttle.clone()));
        let (node, restored) = match (shared, &config.nats) {
            (Some(shared), Some(url)) => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let bus = Bus::connect(url, hub.clone(), throttle.clone(), tx)
                    .await
                    .map_err(|e| Error::Internal(format!("cannot use the bus at {url}: {e}")))?;
                let id = (rand::random::<u64>() >> 1) as i64;
                shared.set_connections(id, Vec::new()).await?;
                tracing::info!(node = id, "cluster node");
                (Some(Node { id, bus, shared }), Some(rx))
            }
            _ => (None, None),
        };
        let calls = match &node {
            Some(node) => calls::Calls::shared(node.shared.clone()),
            None => calls::Calls::default(),
        };
        let svc = Arc::new(Service {
            turn,
            config,
            storage,
            hub,
            node,
            calls,
            group_calls: group_calls::GroupCalls::default(),
            passwords,
            tokens: Tokens::new(key),
            throttle,
            uploads: crate::uploads::Writing::default(),
            ids: IdGen::for_node(node_number),
            shutdown,
            metrics: crate::metrics::Metrics::new(),
        });
        if let Some(restored) = restored {
            tokio::spawn(node_loop(Arc::downgrade(&svc), restored));
        }
        Ok(svc)
    }

    /// Pushes freshly appended events to the connected devices of their accounts.
    pub fn deliver_events(&self, appends: &Appends) {
        for (user, event) in appends {
            let frame = ServerFrame::Event {
                event: event.clone(),
            };
            self.push(&[*user], &frame, None);
        }
    }

    /// Pushes one frame to every device of `users`, wherever they are
    /// connected, except connection `skip_conn` of this relay.
    pub fn push(&self, users: &[UserId], frame: &ServerFrame, skip_conn: Option<u64>) {
        let frame = encode(frame);
        self.hub.send(users, &frame, skip_conn);
        if let Some(node) = &self.node {
            node.bus.frame(users, None, &frame);
        }
    }

    /// Pushes one frame to `user`'s `device`, wherever it is connected.
    pub fn push_to_device(&self, user: UserId, device: &str, frame: &ServerFrame) {
        let frame = encode(frame);
        self.hub.send_to_device(user, device, &frame);
        if let Some(node) = &self.node {
            node.bus.frame(&[user], Some(device), &frame);
        }
    }

    /// Closes `user`'s `device`'s connections, wherever they are.
    pub fn close_device(&self, user: UserId, device: &str, reason: CloseReason) {
        self.hub.close_device(user, device, reason);
        if let Some(node) = &self.node {
            node.bus.close_device(user, device, reason);
        }
    }

    /// Closes every connection of `user`, wherever they are; returns how many
    /// this relay closed.
    pub fn close_user(&self, user: UserId, reason: CloseReason) -> usize {
        let n = self.hub.close_user(user, reason);
        if let Some(node) = &self.node {
            node.bus.close_user(user, reason);
        }
        n
    }

    /// Whether any device of `user` is connected, to any node.
    pub async fn is_online(&self, user: UserId) -> bool {
        !self.online_among(&[user]).await.is_empty()
    }

    /// Which of `users` have a device connected, to any node.
    pub async fn online_among(&self, users: &[UserId]) -> Vec<UserId> {
        let mut online: Vec<UserId> = users
            .iter()
            .copied()
            .filter(|u| self.hub.is_online(*u))
            .collect();
        if let Some(node) = &self.node {
            let rest: Vec<UserId> = users
                .iter()
                .copied()
                .filter(|u| !online.contains(u))
                .collect();
            match asked_twice(|| node.shared.online(&rest, Some(node.id))).await {
                Ok(more) => online.extend(more),
                Err(e) => tracing::warn!(error = %e, "presence of other nodes unknown"),
            }
        }
        online
    }

    /// Whether `user`'s `device` is connected, to any node.
    pub async fn is_device_online(&self, user: UserId, device: &str) -> bool {
        if self.hub.is_device_online(user, device) {
            return true;
        }
        match &self.node {
            Some(node) => {
                match asked_twice(|| node.shared.device_online(user, device, Some(node.id))).await {
                    Ok(online) => online,
                    Err(e) => {
                        tracing::warn!(error = %e, "device presence on other nodes unknown");
                        false
                    }
                }
            }
            None => false,
        }
    }

    /// Registers a connection of `user`'s `device`; a connection of the same
    /// device elsewhere is closed. Returns the connection id and whether the
    /// account was offline until now.
    pub async fn connect(
        &self,
        user: UserId,
        device: &str,
        protocol: u32,
        tx: tokio::sync::mpsc::Sender<Outbound>,
    ) -> (u64, bool) {
        let (conn, was_offline) = self.hub.register(user, device, protocol, tx);
        let Some(node) = &self.node else {
            return (conn, was_offline);
        };
        node.bus.want(user).await;
        if let Err(e) = node
            .shared
            .connection_opened(node.id, conn, user, device)
            .await
        {
            tracing::debug!(error = %e, "connection not recorded");
        }
        // One look at the other nodes, after this connection is recorded (so
        // of two connecting at once on two nodes, at least one sees the
        // other): is the account online there, and is this device?
        let (elsewhere, device_elsewhere) =
            match asked_twice(|| node.shared.elsewhere(user, device, node.id)).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "other nodes not asked");
                    (false, true)
                }
            };
        if device_elsewhere {
            node.bus.close_device(user, device, CloseReason::Replaced);
        }
        (conn, was_offline && !elsewhere)
    }

    /// Removes a connection registered by [`Service::connect`].
    pub async fn disconnect(&self, user: UserId, conn: u64) {
        self.hub.unregister(user, conn);
        if let Some(node) = &self.node {
            node.bus.unwant(user).await;
            if let Err(e) = node.shared.connection_closed(node.id, conn).await {
                tracing::debug!(error = %e, "connection end not recorded");
            }
        }
    }

    /// Tells `user`'s friends that it went offline, if no device of it is
    /// connected anywhere.
    pub async fn announce_offline(&self, user: UserId) {
        if self.is_online(user).await {
            return;
        }
        let friends = self.storage.friends(user).await.unwrap_or_default();
        let ids: Vec<UserId> = friends.iter().map(|f| f.friend).collect();
        self.push(
            &ids,
            &ServerFrame::Presence {
                user,
                online: false,
            },
            None,
        );
    }
}

/// Runs a query of the shared state; a failure (a busy pool, a dropped
/// connection) is tried once more after a moment, so a passing hiccup does
/// not read as "nobody is online elsewhere" and repeat a presence notice.
async fn asked_twice<T, F, Fut>(query: F) -> crate::error::Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<T>>,
{
    match query().await {
        Ok(v) => Ok(v),
        Err(e) => {
            tracing::warn!(error = %e, "shared state query failed; trying again");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            query().await
        }
    }
}

/// In cluster mode: this node's id, bus and shared state.
pub struct Node {
    /// Random, for this run of the relay.
    pub id: i64,
    /// Live traffic to and from the other nodes.
    pub bus: Bus,
    /// Presence and calls, shared through the database.
    pub shared: Arc<dyn Shared>,
}

/// A cluster node's housekeeping: its heartbeat, cleaning up after dead
/// nodes, ending calls whose node died, and making its devices catch up when
/// the bus comes back after an outage.
async fn node_loop(
    svc: std::sync::Weak<Service>,
    mut restored: tokio::sync::mpsc::UnboundedReceiver<()>,
) {
    let mut tick = tokio::time::interval(crate::cluster::HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut resync = false;
    // Other nodes are judged dead only by a node that has itself been able
    // to write its heartbeat for a while: after a database outage every
    // node's heartbeat is stale, and none of them is dead.
    let mut healthy_since: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(()) = restored.recv() => {
                let Some(svc) = svc.upgrade() else { return };
                let n = svc.hub.drop_all();
                tracing::warn!(connections = n, "bus back: devices reconnect to catch up");
                continue;
            }
        }
        let Some(svc) = svc.upgrade() else { return };
        if *svc.shutdown.borrow() {
            return;
        }
        let Some(node) = &svc.node else { return };
        let reap = healthy_since.is_some_and(|t| t.elapsed() >= crate::cluster::DEAD_AFTER);
        match node.shared.heartbeat(node.id, reap).await {
            Ok((unknown, lost)) => {
                healthy_since.get_or_insert_with(tokio::time::Instant::now);
                if unknown || resync {
                    match node
                        .shared
                        .set_connections(node.id, svc.hub.connections())
                        .await
                    {
                        Ok(()) => resync = false,
                        Err(e) => {
                            tracing::warn!(error = %e, "connections not recorded");
                            resync = true;
                        }
                    }
                }
                for (user, device) in lost {
                    if !svc.is_device_online(user, &device).await {
                        svc.call_device_disconnected(user, &device).await;
                    }
                    svc.announce_offline(user).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "node heartbeat failed");
                resync = true;
                healthy_since = None;
            }
        }
        svc.end_expired_calls().await;
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
