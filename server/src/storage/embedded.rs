//! The embedded backend: one redb file in the data directory.
//!
//! Writes go through a single writer thread that groups whatever jobs are waiting
//! into one transaction and makes it durable before answering any of them (group
//! commit): one fsync covers many messages, so throughput grows with load while
//! every acknowledgement still follows its commit. A batch of message appends
//! only is made durable by the message log ([`wal`]) and committed to redb
//! without an fsync; any other batch is a full durable commit, which also
//! checkpoints the log. Reads run on tokio's blocking pool against a snapshot.
//!
//! Values are JSON so the schema can grow fields without a migration; keys are
//! fixed-width integers or tuples so range scans stay ordered.

mod messages;
mod social;
mod tables;
mod wal;

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, mpsc};

use async_trait::async_trait;
use natter_proto::event::{Event, EventBody};
use natter_proto::model::{ConversationId, Message, UserId};
use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::{
    Appended, Appends, ConversationRecord, EventsFn, FriendshipRecord, GroupChange, Lookup,
    MemberRecord, NewMessage, RequestRecord, Resolution, SessionRecord, Storage, UserRecord,
};
use crate::error::{Error, Result};
use crate::util::now_ms;
use messages::{AppendTables, ConvCache};
use tables::*;
use wal::{Op, Wal};

/// Most jobs committed together.
const MAX_BATCH: usize = 512;
/// Schema version written to a new database.
const SCHEMA_VERSION: u64 = 1;

type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// What applying a job left behind: how to answer it, whether the batch must be
/// aborted, and the writes to log (for a logged job that succeeded).
struct Applied {
    finish: Finish,
    poisoned: bool,
    ops: Vec<Op>,
}

type WriteFn = Box<dyn FnOnce(&WriteTransaction) -> Applied + Send>;
type AppendFn = Box<dyn FnOnce(&mut AppendTables<'_>, &mut ConvCache) -> Applied + Send>;

/// One write for the writer thread.
enum Job {
    /// Any write, committed durably.
    Write(WriteFn),
    /// A message append: made durable by the message log, so it may only write
    /// what it returns as [`Op`]s.
    Append(AppendFn),
}

/// Runs a job body, turning a panic into an internal error, and packs its
/// outcome for the writer.
fn apply<T: Send + 'static>(
    tx: oneshot::Sender<Result<T>>,
    body: impl FnOnce(&mut Vec<Op>) -> Result<T>,
) -> Applied {
    let mut ops = Vec::new();
    let res = std::panic::catch_unwind(AssertUnwindSafe(|| body(&mut ops)))
        .unwrap_or_else(|_| Err(Error::Internal("write job panicked".into())));
    let poisoned = matches!(res, Err(Error::Internal(_)));
    if res.is_err() {
        ops.clear();
    }
    let finish: Finish = Box::new(move |commit_err| {
        let out = match (res, commit_err) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(e)) => Err(Error::Internal(format!("commit: {e}"))),
            (Ok(v), None) => Ok(v),
        };
        // The caller may have gone away (connection closed); the write stands.
        let _ = tx.send(out);
    });
    Applied {
        finish,
        poisoned,
        ops,
    }
}

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
}

impl Embedded {
    /// Opens (or creates) `natter.redb` in `dir` and starts the writer thread,
    /// which ends when the last clone of this handle is dropped. The receiver
    /// gets one message once the file is closed.
    pub fn open(dir: &Path) -> Result<(Embedded, mpsc::Receiver<()>)> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Internal(format!("create {}: {e}", dir.display())))?;
        let database = Database::create(dir.join("natter.redb"))?;
        init(&database)?;
        let wal = recover(&database, &dir.join("natter.wal"))?;
        let (closed, closed_rx) = mpsc::channel();
        let db = Arc::new(Db {
            db: Some(database),
            closed,
        });
        let (jobs, rx) = mpsc::channel::<Job>();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("natter-db-writer".into())
            .spawn(move || writer(&writer_db, wal, rx))
            .map_err(|e| Error::Internal(format!("spawn writer: {e}")))?;
        Ok((Embedded { db, jobs }, closed_rx))
    }

    /// Runs `f` in the writer's next batch, committed durably.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::Write(Box::new(move |txn| apply(tx, |_| f(txn)))), rx)
            .await
    }

    /// Appends a message in the writer's next batch, made durable by the
    /// message log.
    async fn write_append(&self, new: NewMessage) -> Result<Appended> {
        let (tx, rx) = oneshot::channel();
        self.submit(
            Job::Append(Box::new(move |tables, cache| {
                apply(tx, |ops| messages::append(tables, cache, new, ops))
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

/// Commit statistics, logged at debug level every few seconds.
#[derive(Default)]
struct WriterStats {
    batches: u64,
    jobs: u64,
    busy: std::time::Duration,
    commit: std::time::Duration,
    since: Option<std::time::Instant>,
}

impl WriterStats {
    fn record(&mut self, jobs: usize, busy: std::time::Duration, commit: std::time::Duration) {
        let since = *self.since.get_or_insert_with(std::time::Instant::now);
        self.batches += 1;
        self.jobs += jobs as u64;
        self.busy += busy;
        self.commit += commit;
        if since.elapsed() >= std::time::Duration::from_secs(1) {
            let b = self.batches.max(1) as f64;
            tracing::debug!(
                batches = self.batches,
                jobs_per_batch = format!("{:.1}", self.jobs as f64 / b),
                apply_ms = format!("{:.3}", self.busy.as_secs_f64() * 1000.0 / b),
                commit_ms = format!("{:.3}", self.commit.as_secs_f64() * 1000.0 / b),
                "group commit"
            );
            *self = WriterStats::default();
        }
    }
}

/// `"wal_generation"` in `META`: the generation of the message log whose
/// records are not yet in a durable commit.
const WAL_GENERATION: &str = "wal_generation";

/// Opens the message log and replays what it holds into the database, then
/// checkpoints so the log starts empty.
fn recover(db: &Database, path: &Path) -> Result<Wal> {
    let generation = {
        let txn = db.begin_read()?;
        let meta = txn.open_table(META)?;
        meta.get(WAL_GENERATION)?.map(|v| v.value()).unwrap_or(0)
    };
    let (mut wal, ops) = Wal::open(path, generation)
        .map_err(|e| Error::Internal(format!("open {}: {e}", path.display())))?;
    if wal.is_empty() {
        return Ok(wal);
    }
    let count = ops.len();
    let txn = db.begin_write()?;
    {
        let mut messages = txn.open_table(MESSAGES)?;
        let mut ids = txn.open_table(CLIENT_IDS)?;
        for op in ops {
            match op {
                Op::Message {
                    conversation,
                    seq,
                    value,
                } => {
                    messages.insert((conversation, seq), value.as_slice())?;
                }
                Op::ClientId {
                    conversation,
                    sender,
                    client_id,
                    seq,
                } => {
                    ids.insert((conversation, sender, client_id.as_str()), seq)?;
                }
            }
        }
    }
    checkpoint(&txn, &wal)?;
    txn.commit()?;
    wal.reset(generation + 1);
    tracing::info!(writes = count, "replayed the message log");
    Ok(wal)
}

/// Makes `txn` a checkpoint: once it is committed durably, the log's records
/// are redundant and the log starts over under the next generation.
fn checkpoint(txn: &WriteTransaction, wal: &Wal) -> Result<()> {
    txn.open_table(META)?
        .insert(WAL_GENERATION, wal.generation() + 1)?;
    Ok(())
}

/// How long the writer waits for work before checkpointing a non-empty log.
const IDLE_CHECKPOINT: std::time::Duration = std::time::Duration::from_secs(2);

fn writer(db: &Database, mut wal: Wal, rx: mpsc::Receiver<Job>) {
    let mut stats = WriterStats::default();
    let mut cache = ConvCache::default();
    loop {
        let first = match rx.recv_timeout(IDLE_CHECKPOINT) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if !wal.is_empty() {
                    commit_batch(db, &mut wal, &mut cache, Vec::new(), &mut stats);
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if !wal.is_empty() {
                    commit_batch(db, &mut wal, &mut cache, Vec::new(), &mut stats);
                }
                return;
            }
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        commit_batch(db, &mut wal, &mut cache, jobs, &mut stats);
    }
}

/// Applies `jobs` in one transaction and commits it: through the log when
/// every job is logged and no checkpoint is due, durably (a checkpoint)
/// otherwise. An empty batch is a checkpoint.
fn commit_batch(
    db: &Database,
    wal: &mut Wal,
    cache: &mut ConvCache,
    jobs: Vec<Job>,
    stats: &mut WriterStats,
) {
    let txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(e) => {
            // Dropping the jobs drops their reply channels: every caller gets
            // "storage writer stopped" and nothing was written.
            tracing::error!(error = %e, "cannot begin write transaction");
            return;
        }
    };
    let logged = !jobs.is_empty()
        && jobs.iter().all(|j| matches!(j, Job::Append(_)))
        && !wal.checkpoint_due();
    let started = std::time::Instant::now();
    let count = jobs.len();
    let mut finishes = Vec::with_capacity(jobs.len());
    let mut ops = Vec::new();
    let mut poisoned = false;
    // Appends share the tables they use, opened once for a run of them.
    let mut tables: Option<AppendTables<'_>> = None;
    for job in jobs {
        let mut applied = match job {
            Job::Write(run) => {
                // Any other write may change conversations or members.
                tables = None;
                cache.clear();
                run(&txn)
            }
            Job::Append(run) => {
                if tables.is_none() {
                    match AppendTables::open(&txn) {
                        Ok(t) => tables = Some(t),
                        Err(e) => {
                            tracing::error!(error = %e, "cannot open message tables");
                            poisoned = true;
                            drop(run);
                            continue;
                        }
                    }
                }
                match tables.as_mut() {
                    Some(t) => run(t, cache),
                    None => continue,
                }
            }
        };
        poisoned |= applied.poisoned;
        ops.append(&mut applied.ops);
        finishes.push(applied.finish);
    }
    drop(tables);
    let applied = started.elapsed();
    let outcome = if poisoned {
        let _ = txn.abort();
        Some("batch aborted after a storage error".to_string())
    } else if logged {
        commit_logged(txn, wal, &ops)
    } else {
        let res = checkpoint(&txn, wal)
            .map_err(|e| e.to_string())
            .and_then(|()| txn.commit().map_err(|e| e.to_string()));
        match res {
            Ok(()) => {
                if !wal.is_empty() {
                    tracing::debug!(
                        jobs = count,
                        ms = format!(
                            "{:.3}",
                            (started.elapsed() - applied).as_secs_f64() * 1000.0
                        ),
                        "checkpoint"
                    );
                }
                wal.reset(wal.generation() + 1);
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed");
                Some(e)
            }
        }
    };
    if outcome.is_some() {
        // Nothing of this batch stands: forget what it taught the cache.
        cache.clear();
    }
    stats.record(count, applied, started.elapsed() - applied);
    for finish in finishes {
        finish(outcome.as_deref());
    }
}

/// Logs `ops`, then commits `txn` without an fsync. The writes become visible
/// to readers only once they are durable in the log.
fn commit_logged(mut txn: WriteTransaction, wal: &mut Wal, ops: &[Op]) -> Option<String> {
    if ops.is_empty() {
        // Nothing written (every job was refused): nothing to make durable.
        let _ = txn.abort();
        return None;
    }
    if let Err(e) = txn.set_durability(Durability::None) {
        let _ = txn.abort();
        return Some(e.to_string());
    }
    if let Err(e) = wal.append(ops) {
        tracing::error!(error = %e, "message log write failed");
        let _ = txn.abort();
        return Some(format!("message log: {e}"));
    }
    match txn.commit() {
        Ok(()) => None,
        Err(e) => {
            tracing::error!(error = %e, "commit failed");
            if let Err(e) = wal.undo_last() {
                // The record stays and would be replayed while the relay goes
                // on without it: stop writing rather than risk that.
                tracing::error!(error = %e, "cannot take back a message log record");
                std::process::abort();
            }
            Some(e.to_string())
        }
    }
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

fn lookup_key(key: &Lookup) -> String {
    match key {
        Lookup::Account(a) => format!("a:{a}"),
        Lookup::Email(e) => format!("e:{e}"),
        Lookup::Phone(p) => format!("p:{p}"),
    }
}

fn user_keys(user: &UserRecord) -> Vec<String> {
    let mut keys = vec![lookup_key(&Lookup::Account(user.account.clone()))];
    if let Some(e) = &user.email {
        keys.push(lookup_key(&Lookup::Email(e.clone())));
    }
    if let Some(p) = &user.phone {
        keys.push(lookup_key(&Lookup::Phone(p.clone())));
    }
    keys
}

#[async_trait]
impl Storage for Embedded {
    async fn signing_key(&self) -> Result<Vec<u8>> {
        self.write(|txn| {
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
        self.write(move |txn| {
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
        self.write(move |txn| {
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
        self.write(move |txn| {
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
        self.write(move |txn| {
            txn.open_table(SESSIONS)?.remove(id)?;
            Ok(())
        })
        .await
    }

    async fn rotate_session(&self, session: SessionRecord, expected_hash: String) -> Result<bool> {
        self.write(move |txn| {
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
        self.write(move |txn| social::create_request(txn, request, events))
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
        self.read(move |txn| messages::range(txn, conversation, after, before, limit, newest))
            .await
    }

    async fn set_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        seq: u64,
    ) -> Result<(u64, bool)> {
        self.write(move |txn| messages::set_read(txn, user, conversation, seq))
            .await
    }

    async fn read_cursors(&self, conversation: ConversationId) -> Result<Vec<(UserId, u64)>> {
        self.read(move |txn| messages::read_cursors(txn, conversation))
            .await
    }

    async fn append_events(&self, events: Vec<(UserId, EventBody)>) -> Result<Appends> {
        self.write(move |txn| append_events(txn, events)).await
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
}
