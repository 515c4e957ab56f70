//! Cluster mode: several relays (nodes) behind one address, sharing one
//! PostgreSQL database and exchanging live traffic over core NATS.
//!
//! Durability never depends on the bus. A node commits to PostgreSQL, answers
//! the sender, delivers to the devices connected to it and publishes the frame
//! for the others; every node delivers what it receives to its own devices.
//! A frame lost on the bus is repaired by the client's gap detection and
//! catch-up, as after any reconnect.
//!
//! ## Subjects
//!
//! One subject per account, `natter.user.<id>`. A node subscribes to an
//! account's subject while at least one device of the account is connected to
//! it, and unsubscribes when the last one leaves, so a frame for an account
//! goes only to the nodes that hold one of its devices. A user with devices on
//! three nodes has three subscriptions on that subject, one per node; each node
//! delivers to the devices it holds. Nodes connect with `no_echo`: a node never
//! receives what it published, since it already delivered that locally.
//!
//! Each bus message carries the frame exactly as a device receives it, as the
//! payload, and headers saying what to do with it:
//!
//! | `Natter-Kind` | Other headers | What the receiving node does |
//! |---|---|---|
//! | `frame` | `Natter-Device` (optional) | queues the payload for the account's devices there (only that device, if named) |
//! | `close-device` | `Natter-Device`, `Natter-Reason` | closes that device's connections there (signed out, or connected again elsewhere) |
//! | `close-user` | `Natter-Reason` | closes every connection of the account there (disabled, password reset) |
//!
//! Every node also hears `natter.throttle`: each failed or successful sign-in
//! and each registration a node counts, as JSON ([`crate::throttle::Counted`]),
//! which the others count too.
//!
//! ## What nodes share in the database
//!
//! Presence and calls need one view across nodes, so they live in PostgreSQL
//! ([`Shared`]): every node's open connections (an account is online if any
//! live node holds one of its connections), a heartbeat per node (a node not
//! seen for [`DEAD_AFTER`] is dead: the others remove its connections, tell
//! friends of accounts that went offline, and start the grace period of its
//! calls), and the table of calls ringing or in progress, changed under one
//! lock so that busy detection and the single call record hold whichever node
//! each party is on.
//!
//! ## When the bus fails
//!
//! Publishing never waits for the bus: frames go to a bounded queue that a
//! task writes to NATS, and are dropped when it is full. While the bus is down
//! every node keeps serving its own devices; commits and acks go on. When a
//! node's bus connection comes back it closes its sessions with close code 1013
//! ("reconnect"): its devices may have missed frames from other nodes while it
//! was cut off, and reconnecting makes them catch up from the database.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use futures_util::StreamExt;
use natter_proto::model::UserId;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::hub::{CloseReason, Hub};
use crate::throttle::{Counted, Throttle};

/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node not seen for this long is dead.
pub const DEAD_AFTER: Duration = Duration::from_secs(10);

/// Prefix of the per-account subjects.
pub const SUBJECT_PREFIX: &str = "natter.user.";

/// The subject every node hears for the sign-in and registration throttles.
pub const THROTTLE_SUBJECT: &str = "natter.throttle";

/// Frames waiting to be written to the bus before new ones are dropped.
const PUBLISH_QUEUE: usize = 64 * 1024;
/// How long a connecting device waits for its account's subscription.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(2);

const KIND: &str = "Natter-Kind";
const DEVICE: &str = "Natter-Device";
const REASON: &str = "Natter-Reason";

/// The subject of `user`'s live traffic.
pub fn subject(user: UserId) -> String {
    format!("{SUBJECT_PREFIX}{}", user.0)
}

/// A call as the shared table stores it.
#[derive(Debug, Clone)]
pub struct CallRow {
    /// The call id.
    pub id: String,
    /// The two accounts.
    pub caller: UserId,
    /// The account called.
    pub callee: UserId,
    /// When its ring or a grace period runs out (ms since the epoch).
    pub deadline: Option<i64>,
    /// The relay's record of the call.
    pub state: serde_json::Value,
}

/// Which calls a change of the call table reads.
#[derive(Debug, Clone, Copy)]
pub enum CallScope<'a> {
    /// The call with this id, if any, and every call of these accounts.
    Of(Option<&'a str>, &'a [UserId]),
    /// Calls whose deadline is before this time (ms since the epoch).
    Expired(i64),
}

/// A change of the call table in progress: the table is locked until it is
/// committed or dropped.
#[async_trait]
pub trait CallsTx: Send {
    /// Writes `put` (inserted or replaced), deletes `delete` and unlocks.
    async fn commit(self: Box<Self>, put: Vec<CallRow>, delete: Vec<String>) -> Result<()>;
}

/// What the nodes of a cluster share in the database while they run.
#[async_trait]
pub trait Shared: Send + Sync {
    /// Records that `node` is alive and, with `reap`, removes nodes dead for
    /// [`DEAD_AFTER`]. Returns whether `node` was unknown (it was taken for
    /// dead, or is new: its connections must be written again) and the
    /// connections the dead nodes held (account, device).
    async fn heartbeat(&self, node: i64, reap: bool) -> Result<(bool, Vec<(UserId, String)>)>;
    /// Removes `node` and its connections (it is shutting down).
    async fn leave(&self, node: i64) -> Result<()>;
    /// Replaces the connections recorded for `node` with `conns` (connection
    /// id, account, device).
    async fn set_connections(&self, node: i64, conns: Vec<(u64, UserId, String)>) -> Result<()>;
    /// Records a connection.
    async fn connection_opened(
        &self,
        node: i64,
        conn: u64,
        user: UserId,
        device: &str,
    ) -> Result<()>;
    /// Removes a connection.
    async fn connection_closed(&self, node: i64, conn: u64) -> Result<()>;
    /// Which of `users` have a connection on a live node other than `except`.
    async fn online(&self, users: &[UserId], except: Option<i64>) -> Result<Vec<UserId>>;
    /// Whether `user`'s `device` has a connection on a live node other than
    /// `except`.
    async fn device_online(&self, user: UserId, device: &str, except: Option<i64>) -> Result<bool>;
    /// On live nodes other than `node`: whether `user` has any connection,
    /// and whether its `device` has one. One look for a connecting device.
    async fn elsewhere(&self, user: UserId, device: &str, node: i64) -> Result<(bool, bool)>;
    /// Locks the call table and reads the calls in `scope`.
    async fn lock_calls(&self, scope: CallScope<'_>) -> Result<(Vec<CallRow>, Box<dyn CallsTx>)>;
}

/// One command for the publisher task.
struct Publish {
    subject: String,
    headers: async_nats::HeaderMap,
    payload: Bytes,
}

/// An account's subscription task, if it has one.
type Slot = Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>;

/// This node's connection to the bus.
pub struct Bus {
    client: async_nats::Client,
    hub: Arc<Hub>,
    queue: mpsc::Sender<Publish>,
    /// One slot per account with devices here. The map's lock is held only
    /// to find a slot; a slot's own lock is held while subscribing, so
    /// connects of different accounts never wait for each other.
    subs: std::sync::Mutex<HashMap<UserId, Slot>>,
    /// Whether the bus connection is up.
    pub up: Arc<AtomicBool>,
    /// Frames dropped because the publish queue was full.
    pub dropped: AtomicU64,
}

impl Drop for Bus {
    fn drop(&mut self) {
        let subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        for slot in subs.values() {
            if let Ok(task) = slot.try_lock()
                && let Some(task) = task.as_ref()
            {
                task.abort();
            }
        }
    }
}

impl Bus {
    /// Connects to NATS at `url` (retrying in the background if it is not
    /// reachable yet). `restored` gets a message each time the connection
    /// comes back after being lost.
    pub async fn connect(
        url: &str,
        hub: Arc<Hub>,
        throttle: Arc<Throttle>,
        restored: mpsc::UnboundedSender<()>,
    ) -> anyhow::Result<Bus> {
        let up = Arc::new(AtomicBool::new(false));
        let was_lost = Arc::new(AtomicBool::new(false));
        let (up2, lost2) = (up.clone(), was_lost.clone());
        let client = async_nats::ConnectOptions::new()
            .name(format!("natter-relay {}", crate::VERSION))
            .no_echo()
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .reconnect_delay_callback(|attempt| {
                Duration::from_millis((100 * attempt as u64).min(2000))
            })
            .event_callback(move |event| {
                let (up, lost, restored) = (up2.clone(), lost2.clone(), restored.clone());
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            up.store(true, Ordering::Relaxed);
                            if lost.swap(false, Ordering::Relaxed) {
                                tracing::warn!("bus connection restored");
                                let _ = restored.send(());
                            } else {
                                tracing::info!("bus connected");
                            }
                        }
                        async_nats::Event::Disconnected => {
                            up.store(false, Ordering::Relaxed);
                            lost.store(true, Ordering::Relaxed);
                            tracing::warn!("bus connection lost; serving local devices, retrying");
                        }
                        other => tracing::warn!(event = %other, "bus"),
                    }
                }
            })
            .connect(split_urls(url))
            .await?;
        let (queue, rx) = mpsc::channel(PUBLISH_QUEUE);
        tokio::spawn(publisher(client.clone(), rx));
        // Subscribed while disconnected too: the client subscribes again
        // whenever it connects.
        let counted = client.subscribe(THROTTLE_SUBJECT).await?;
        tokio::spawn(count_throttled(throttle, counted));
        // A node starts serving once the bus has its throttle subscription,
        // so what the others count from then on reaches it; if the bus is
        // not reachable, after SUBSCRIBE_WAIT it starts without.
        if !matches!(
            tokio::time::timeout(SUBSCRIBE_WAIT, client.flush()).await,
            Ok(Ok(()))
        ) {
            tracing::warn!("bus not reachable yet; starting without it");
        }
        Ok(Bus {
            client,
            hub,
            queue,
            subs: std::sync::Mutex::new(HashMap::new()),
            up,
            dropped: AtomicU64::new(0),
        })
    }

    fn enqueue(&self, subject: String, headers: async_nats::HeaderMap, payload: Bytes) {
        let publish = Publish {
            subject,
            headers,
            payload,
        };
        if self.queue.try_send(publish).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Publishes `frame` for `users`' devices on other nodes (only `device`,
    /// if given).
    pub fn frame(&self, users: &[UserId], device: Option<&str>, frame: &Utf8Bytes) {
        let payload = Bytes::copy_from_slice(frame.as_str().as_bytes());
        for user in users {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(KIND, "frame");
            if let Some(device) = device {
                headers.insert(DEVICE, device);
            }
            self.enqueue(subject(*user), headers, payload.clone());
        }
    }

    /// Closes `user`'s `device` on other nodes.
    pub fn close_device(&self, user: UserId, device: &str, reason: CloseReason) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(KIND, "close-device");
        headers.insert(DEVICE, device);
        headers.insert(REASON, reason.key());
        self.enqueue(subject(user), headers, Bytes::new());
    }

    /// Closes every connection of `user` on other nodes.
    pub fn close_user(&self, user: UserId, reason: CloseReason) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(KIND, "close-user");
        headers.insert(REASON, reason.key());
        self.enqueue(subject(user), headers, Bytes::new());
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Slot>> {
        // The map holds handles only; a panic elsewhere leaves it usable.
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `slot` is still `user`'s (an `unwant` may have removed it).
    fn current(&self, user: UserId, slot: &Slot) -> bool {
        self.slots()
            .get(&user)
            .is_some_and(|s| Arc::ptr_eq(s, slot))
    }

    /// Tells the other nodes what this node's throttles counted.
    pub fn throttled(&self, counted: &Counted) {
        let Ok(payload) = serde_json::to_vec(counted) else {
            return;
        };
        self.enqueue(
            THROTTLE_SUBJECT.to_string(),
            async_nats::HeaderMap::new(),
            payload.into(),
        );
    }

    /// Makes sure this node hears `user`'s subject (a device of it just
    /// connected here). Returns once the bus has the subscription, or after
    /// [`SUBSCRIBE_WAIT`] if the bus is down.
    pub async fn want(&self, user: UserId) {
        let mut task = loop {
            let slot = self.slots().entry(user).or_default().clone();
            let guard = slot.clone().lock_owned().await;
            // Removed while we waited: take the account's new slot instead, or
            // two listeners would deliver every frame twice.
            if self.current(user, &slot) {
                break guard;
            }
        };
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let subscribed =
            tokio::time::timeout(SUBSCRIBE_WAIT, self.client.subscribe(subject(user))).await;
        let sub = match subscribed {
            Ok(Ok(sub)) => sub,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "bus subscribe failed");
                return;
            }
            Err(_) => {
                tracing::warn!("bus subscribe timed out");
                return;
            }
        };
        let hub = self.hub.clone();
        *task = Some(tokio::spawn(listen(hub, user, sub)));
        drop(task);
        // The subscription is in place once the server answers a ping after it.
        if tokio::time::timeout(SUBSCRIBE_WAIT, self.client.flush())
            .await
            .is_err()
        {
            tracing::warn!("bus flush timed out");
        }
    }

    /// Stops hearing `user`'s subject if no device of it is connected here.
    pub async fn unwant(&self, user: UserId) {
        let Some(slot) = self.slots().get(&user).cloned() else {
            return;
        };
        let mut task = slot.lock().await;
        if self.hub.is_online(user) {
            return;
        }
        if let Some(task) = task.take() {
            // Dropping the subscriber (in the aborted task) unsubscribes.
            task.abort();
        }
        let mut slots = self.slots();
        if slots.get(&user).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
            slots.remove(&user);
        }
    }
}

/// `nats://a:4222,nats://b:4222` → the list async-nats takes.
fn split_urls(url: &str) -> Vec<async_nats::ServerAddr> {
    url.split(',')
        .filter_map(|u| u.trim().parse().ok())
        .collect()
}

async fn publisher(client: async_nats::Client, mut rx: mpsc::Receiver<Publish>) {
    while let Some(p) = rx.recv().await {
        if let Err(e) = client
            .publish_with_headers(p.subject, p.headers, p.payload)
            .await
        {
            tracing::debug!(error = %e, "bus publish failed");
        }
    }
}

async fn count_throttled(throttle: Arc<Throttle>, mut sub: async_nats::Subscriber) {
    while let Some(msg) = sub.next().await {
        match serde_json::from_slice::<Counted>(&msg.payload) {
            Ok(counted) => throttle.apply(&counted),
            Err(e) => tracing::debug!(error = %e, "unreadable throttle message on the bus"),
        }
    }
}

async fn listen(hub: Arc<Hub>, user: UserId, mut sub: async_nats::Subscriber) {
    while let Some(msg) = sub.next().await {
        let header = |name: &str| {
            msg.headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_string())
        };
        match header(KIND).as_deref() {
            Some("frame") => {
                let Ok(text) = std::str::from_utf8(&msg.payload) else {
                    continue;
                };
                let frame = Utf8Bytes::from(text);
                match header(DEVICE) {
                    Some(device) => hub.send_to_device(user, &device, &frame),
                    None => hub.send(&[user], &frame, None),
                }
            }
            Some("close-device") => {
                if let Some(device) = header(DEVICE) {
                    let reason = CloseReason::from_key(header(REASON).as_deref());
                    hub.close_device(user, &device, reason);
                }
            }
            Some("close-user") => {
                let reason = CloseReason::from_key(header(REASON).as_deref());
                hub.close_user(user, reason);
            }
            other => tracing::debug!(kind = ?other, "bus message of unknown kind"),
        }
    }
}
