//! The embedded backend: one redb file in the data directory.
//!
//! Every write goes through one writer thread, in order. Message appends that
//! are waiting together become one record of the message log ([`wal`]), made
//! durable with one `fdatasync` before any of them is acknowledged (group
//! commit); the applier thread ([`apply`]) then writes them into redb behind
//! the log, with a durable checkpoint every second that never holds up a send.
//! Any other write is committed durably by the applier, in order with the
//! appends, before it is answered. Reads run on tokio's blocking pool against a
//! snapshot; reads of messages first wait until the applier has written every
//! message acknowledged so far.
//!
//! Values are JSON so the schema can grow fields without a migration; keys are
//! fixed-width integers or tuples so range scans stay ordered.

mod admin;
mod apply;
mod messages;
mod social;
mod tables;
mod wal;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use async_trait::async_trait;
use natter_proto::event::{Event, EventBody};
use natter_proto::model::{ConversationId, Message, UserId};
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{oneshot, watch};

use super::{
    Appended, Appends, ConversationRecord, EventsFn, FriendshipRecord, GroupChange, Lookup,
    MemberRecord, NewMessage, RequestRecord, Resolution, SessionRecord, Storage, UserRecord,
    lookup_key, user_keys,
};
use crate::error::{Error, Result};
use crate::util::now_ms;
use tables::*;
use writer::{Job, Progress, WriteFn, apply};

/// The message log's record decoder and replay, reachable from the fuzz
/// targets (`server/fuzz`) and property tests; not an API.
#[doc(hidden)]
pub mod wal_hook {
    use std::path::Path;

    /// Decodes a record's payload and encodes what it read again: `None` if
    /// it is not a valid payload, else bytes that must equal the input.
    pub fn decode_reencoded(payload: &[u8]) -> Option<Vec<u8>> {
        let ops = super::wal::decode(payload)?;
        let mut out = Vec::with_capacity(ops.iter().map(super::wal::op_len).sum());
        for op in &ops {
            super::wal::encode(op, &mut out);
        }
        Some(out)
    }

    /// Replays the log in `dir` from `offset` of `generation`, as a restart
    /// does: the number of writes read back.
    pub fn replay(dir: &Path, generation: u64, offset: u64) -> std::io::Result<usize> {
        let from = super::wal::WalPos { generation, offset };
        Ok(super::wal::replay(dir, from)?.len())
    }
}

/// Schema version written to a new database.
const SCHEMA_VERSION: u64 = 1;

/// The open database. Dropping the last handle closes the file and then says so
/// on `closed`, so a restart in the same process knows when it may reopen it
/// (redb holds a lock on the file until its `Drop` has finished).
struct Db {
    db: Option<Database>,
    closed: mpsc::Sender<()>,
}

impl std::ops::Deref for Db {
    type Target = Database;

    fn deref(&self) -> &Database {
        // Only `Drop` takes the database out.
        #[allow(clippy::expect_used)]
        self.db.as_ref().expect("database is open until dropped")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        drop(self.db.take());
        let _ = self.closed.send(());
    }
}

/// redb-backed [`Storage`].
#[derive(Clone)]
pub struct Embedded {
    db: Arc<Db>,
    jobs: mpsc::Sender<Job>,
    applied: watch::Receiver<u64>,
    progress: Arc<Progress>,
}

impl Embedded {
    /// Opens (or creates) `natter.redb` in `dir`, replays the message log and
    /// starts the writer and applier threads, which end when the last clone of
    /// this handle is dropped. The receiver gets one message once the file is
    /// closed.
    pub fn open(dir: &Path) -> Result<(Embedded, mpsc::Receiver<()>)> {
        crate::util::private_dir(dir)
            .map_err(|e| Error::Internal(format!("create {}: {e}", dir.display())))?;
        let path = dir.join("natter.redb");
        let database = Database::create(&path)?;
        // The token-signing key is in there.
        crate::util::restrict(&path, 0o600)
            .map_err(|e| Error::Internal(format!("permissions of {}: {e}", path.display())))?;
        init(&database)?;
        let (wal, start) = apply::recover(&database, dir)?;
        let (closed, closed_rx) = mpsc::channel();
        let db = Arc::new(Db {
            db: Some(database),
            closed,
        });
        let progress = Arc::new(Progress {
            logged: AtomicU64::new(0),
            durable_generation: AtomicU64::new(start.generation),
        });
        let (applied_tx, applied) = watch::channel(0u64);
        // Bounded: a writer far ahead of the applier waits for it.
        let (items, items_rx) = mpsc::sync_channel(64);
        let (jobs, rx) = mpsc::channel::<Job>();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map(drop)
                .map_err(|e| Error::Internal(format!("spawn {name}: {e}")))
        };
        let (apply_db, apply_progress) = (db.clone(), progress.clone());
        spawn(
            "natter-db-apply",
            Box::new(move || {
                apply::applier(&apply_db, items_rx, applied_tx, &apply_progress, start)
            }),
        )?;
        let (writer_db, writer_progress, writer_applied) =
            (db.clone(), progress.clone(), applied.clone());
        spawn(
            "natter-db-write",
            Box::new(move || {
                writer::writer(&writer_db, wal, rx, items, writer_applied, &writer_progress)
            }),
        )?;
        Ok((
            Embedded {
                db,
                jobs,
                applied,
                progress,
            },
            closed_rx,
        ))
    }

    /// Waits until the applier has written every message acknowledged so far.
    async fn caught_up(&self) -> Result<()> {
        let logged = self.progress.logged.load(Ordering::Acquire);
        let mut applied = self.applied.clone();
        applied
            .wait_for(|a| *a >= logged)
            .await
            .map(drop)
            .map_err(|_| Error::Internal("storage writer stopped".into()))
    }

    /// Runs `f` in the writer's next batch, committed durably.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T> + Send + 'static,
    {
        self.durable(Job::Write, f).await
    }

    /// Like [`Embedded::write`], for a write that changes no conversation,
    /// member or message (accounts, sessions, requests, read cursors, events):
    /// message appends go on while it commits.
    async fn write_aside<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T> + Send + 'static,
    {
        self.durable(Job::Aside, f).await
    }

    async fn durable<T, F>(&self, kind: fn(WriteFn) -> Job, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(kind(Box::new(move |txn| apply(tx, |_| f(txn)))), rx)
            .await
    }

    /// Appends a message in the writer's next batch, made durable by the
    /// message log.
    async fn write_append(&self, new: NewMessage) -> Result<Appended> {
        let (tx, rx) = oneshot::channel();
        self.submit(
            Job::Append(Box::new(move |tables, cache, pending| {
                apply(tx, |ops| messages::append(tables, cache, pending, new, ops))
            })),
            rx,
        )
        .await
    }

    async fn submit<T>(&self, job: Job, rx: oneshot::Receiver<Result<T>>) -> Result<T> {
        self.jobs
            .send(job)
            .map_err(|_| Error::Internal("storage writer stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("storage writer stopped".into()))?
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read()?;
            f(&txn)
        })
        .await
        .map_err(|e| Error::Internal(format!("read task: {e}")))?
    }
}

fn init(db: &Database) -> Result<()> {
    let txn = db.begin_write()?;
    tables::create_all(&txn)?;
    {
        let mut meta = txn.open_table(META)?;
        let version = meta.get("schema_version")?.map(|v| v.value());
        match version {
            None => {
                meta.insert("schema_version", SCHEMA_VERSION)?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(other) => {
                return Err(Error::Internal(format!(
                    "database schema {other} is newer than this relay ({SCHEMA_VERSION})"
                )));
            }
        }
    }
    txn.commit()?;
    Ok(())
}

pub(crate) fn enc<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(value)?)
}

pub(crate) fn dec<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    Ok(serde_json::from_slice(bytes)?)
}

/// Appends events inside `txn`, giving each the next seq of its account's log.
pub(crate) fn append_events(
    txn: &WriteTransaction,
    events: Vec<(UserId, EventBody)>,
) -> Result<Appends> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let ts = now_ms();
    let mut seqs = txn.open_table(EVENT_SEQ)?;
    let mut log = txn.open_table(EVENTS)?;
    let mut out = Vec::with_capacity(events.len());
    for (user, body) in events {
        let seq = seqs.get(user.0)?.map(|v| v.value()).unwrap_or(0) + 1;
        seqs.insert(user.0, seq)?;
        let event = Event { seq, ts, body };
        log.insert((user.0, seq), enc(&event)?.as_slice())?;
        out.push((user, event));
    }
    Ok(out)
}

fn get_user(txn: &ReadTransaction, id: UserId) -> Result<Option<UserRecord>> {
    let users = txn.open_table(USERS)?;
    users.get(id.0)?.map(|v| dec(v.value())).transpose()
}

#[async_trait]
impl Storage for Embedded {
    async fn signing_key(&self) -> Result<Vec<u8>> {
        self.write_aside(|txn| {
            let mut meta = txn.open_table(META_BYTES)?;
            if let Some(key) = meta.get("signing_key")? {
                return Ok(key.value().to_vec());
            }
            let key: [u8; 32] = rand::random();
            meta.insert("signing_key", key.as_slice())?;
            Ok(key.to_vec())
        })
        .await
    }

    async fn create_user(&self, user: UserRecord) -> Result<()> {
        self.write_aside(move |txn| {
            let mut keys = txn.open_table(USER_KEYS)?;
            let wanted = user_keys(&user);
            for k in &wanted {
                if keys.get(k.as_str())?.is_some() {
                    return Err(Error::client(
                        natter_proto::ErrorCode::AccountTaken,
                        "account name, e-mail or phone already registered",
                    ));
                }
            }
            for k in &wanted {
                keys.insert(k.as_str(), user.id.0)?;
            }
            txn.open_table(USERS)?
                .insert(user.id.0, enc(&user)?.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>> {
        self.read(move |txn| get_user(txn, id)).await
    }

    async fn users(&self, ids: Vec<UserId>) -> Result<Vec<UserRecord>> {
        self.read(move |txn| {
            let users = txn.open_table(USERS)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(v) = users.get(id.0)? {
                    out.push(dec(v.value())?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn lookup(&self, key: Lookup) -> Result<Option<UserRecord>> {
        self.read(move |txn| {
            let keys = txn.open_table(USER_KEYS)?;
            let id = keys.get(lookup_key(&key).as_str())?.map(|v| v.value());
            match id {
                Some(id) => get_user(txn, UserId(id)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn update_user(
        &self,
        user: UserRecord,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<Appends> {
        self.write_aside(move |txn| {
            let mut users = txn.open_table(USERS)?;
            let old: UserRecord = match users.get(user.id.0)? {
                Some(v) => dec(v.value())?,
                None => return Err(Error::not_found("no such account")),
            };
            let mut keys = txn.open_table(USER_KEYS)?;
            let (old_keys, new_keys) = (user_keys(&old), user_keys(&user));
            for k in new_keys.iter().filter(|k| !old_keys.contains(k)) {
                if keys.get(k.as_str())?.is_some() {
                    return Err(Error::client(
                        natter_proto::ErrorCode::AccountTaken,
                        "e-mail or phone already registered",
                    ));
                }
            }
            for k in old_keys.iter().filter(|k| !new_keys.contains(k)) {
                keys.remove(k.as_str())?;
            }
            for k in &new_keys {
                keys.insert(k.as_str(), user.id.0)?;
            }
            users.insert(user.id.0, enc(&user)?.as_slice())?;
            drop((users, keys));
            append_events(txn, events)
        })
        .await
    }

    async fn put_session(&self, session: SessionRecord) -> Result<()> {
        self.write_aside(move |txn| {
            txn.open_table(SESSIONS)?
                .insert(session.id, enc(&session)?.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn session(&self, id: u64) -> Result<Option<SessionRecord>> {
        self.read(move |txn| {
            let t = txn.open_table(SESSIONS)?;
            t.get(id)?.map(|v| dec(v.value())).transpose()
        })
        .await
    }

    async fn delete_session(&self, id: u64) -> Result<()> {
        self.write_aside(move |txn| {
            txn.open_table(SESSIONS)?.remove(id)?;
            Ok(())
        })
        .await
    }

    async fn rotate_session(&self, session: SessionRecord, expected_hash: String) -> Result<bool> {
        self.write_aside(move |txn| {
            let mut t = txn.open_table(SESSIONS)?;
            let current: Option<SessionRecord> =
                t.get(session.id)?.map(|v| dec(v.value())).transpose()?;
            match current {
                Some(cur) if cur.refresh_hash == expected_hash => {
                    t.insert(session.id, enc(&session)?.as_slice())?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn request(&self, id: u64) -> Result<Option<RequestRecord>> {
        self.read(move |txn| social::request(txn, id)).await
    }

    async fn pending_requests(&self, user: UserId) -> Result<Vec<RequestRecord>> {
        self.read(move |txn| social::pending_requests(txn, user))
            .await
    }

    async fn create_request(
        &self,
        request: RequestRecord,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<(RequestRecord, Appends)> {
        self.write_aside(move |txn| social::create_request(txn, request, events))
            .await
    }

    async fn resolve_request(
        &self,
        resolution: Resolution,
        events: EventsFn,
    ) -> Result<(RequestRecord, Appends)> {
        self.write(move |txn| social::resolve_request(txn, resolution, events))
            .await
    }

    async fn friends(&self, user: UserId) -> Result<Vec<FriendshipRecord>> {
        self.read(move |txn| social::friends(txn, user)).await
    }

    async fn friendship(&self, user: UserId, friend: UserId) -> Result<Option<FriendshipRecord>> {
        self.read(move |txn| {
            let t = txn.open_table(FRIENDS)?;
            t.get((user.0, friend.0))?
                .map(|v| dec(v.value()))
                .transpose()
        })
        .await
    }

    async fn remove_friend(
        &self,
        user: UserId,
        friend: UserId,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<Appends> {
        self.write(move |txn| social::remove_friend(txn, user, friend, events))
            .await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<ConversationRecord>> {
        self.read(move |txn| social::conversation(txn, id)).await
    }

    async fn members(&self, id: ConversationId) -> Result<Vec<MemberRecord>> {
        self.read(move |txn| social::members(txn, id)).await
    }

    async fn conversations_of(
        &self,
        user: UserId,
    ) -> Result<Vec<(ConversationRecord, MemberRecord, u64)>> {
        self.caught_up().await?;
        self.read(move |txn| social::conversations_of(txn, user))
            .await
    }

    async fn change_group(&self, change: GroupChange) -> Result<Appends> {
        self.write(move |txn| social::change_group(txn, change))
            .await
    }

    async fn append(&self, message: NewMessage) -> Result<Appended> {
        self.write_append(message).await
    }

    async fn messages(
        &self,
        conversation: ConversationId,
        after: u64,
        before: u64,
        limit: usize,
        newest: bool,
    ) -> Result<Vec<Message>> {
        self.caught_up().await?;
        self.read(move |txn| messages::range(txn, conversation, after, before, limit, newest))
            .await
    }

    async fn set_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        seq: u64,
    ) -> Result<(u64, bool)> {
        self.write_aside(move |txn| messages::set_read(txn, user, conversation, seq))
            .await
    }

    async fn read_cursors(&self, conversation: ConversationId) -> Result<Vec<(UserId, u64)>> {
        self.read(move |txn| messages::read_cursors(txn, conversation))
            .await
    }

    async fn append_events(&self, events: Vec<(UserId, EventBody)>) -> Result<Appends> {
        self.write_aside(move |txn| append_events(txn, events))
            .await
    }

    async fn events(&self, user: UserId, after: u64, limit: usize) -> Result<Vec<Event>> {
        self.read(move |txn| {
            let t = txn.open_table(EVENTS)?;
            let mut out = Vec::new();
            for item in t
                .range((user.0, after.saturating_add(1))..=(user.0, u64::MAX))?
                .take(limit)
            {
                let (_, v) = item?;
                out.push(dec(v.value())?);
            }
            Ok(out)
        })
        .await
    }

    async fn event_seq(&self, user: UserId) -> Result<u64> {
        self.read(move |txn| {
            let t = txn.open_table(EVENT_SEQ)?;
            Ok(t.get(user.0)?.map(|v| v.value()).unwrap_or(0))
        })
        .await
    }

    async fn list_users(&self, after: UserId, limit: usize) -> Result<Vec<UserRecord>> {
        self.read(move |txn| admin::list_users(txn, after, limit))
            .await
    }

    async fn set_disabled(&self, user: UserId, disabled: bool) -> Result<usize> {
        self.write_aside(move |txn| admin::set_disabled(txn, user, disabled))
            .await
    }

    async fn add_file_bytes(&self, user: UserId, bytes: u64, quota: u64) -> Result<bool> {
        self.write_aside(move |txn| {
            let mut t = txn.open_table(FILE_BYTES)?;
            let used = t.get(user.0)?.map(|v| v.value()).unwrap_or(0);
            let next = used.saturating_add(bytes);
            if quota > 0 && next > quota {
                return Ok(false);
            }
            t.insert(user.0, next)?;
            Ok(true)
        })
        .await
    }

    async fn is_disabled(&self, user: UserId) -> Result<bool> {
        self.read(move |txn| admin::is_disabled(txn, user)).await
    }

    async fn delete_sessions_of(&self, user: UserId) -> Result<usize> {
        self.write_aside(move |txn| admin::delete_sessions(txn, user))
            .await
    }
}
