//! The PostgreSQL backend, for several relays sharing one database (cluster
//! mode), chosen with `--database postgres://…`.
//!
//! It keeps the promises of the embedded backend with the database's own
//! means, so that they hold whichever node writes:
//!
//! - every write is one transaction, committed before the call returns;
//! - a message append locks its conversation's row, takes the next seq from
//!   the row's `last_seq` and raises it in the transaction that inserts the
//!   message, so seqs are gapless and in commit order across nodes; the unique
//!   key (conversation, sender, client id) makes a resend to any node return
//!   the first copy ([`messages`]);
//! - appends waiting together share one transaction and one commit (group
//!   commit), taken in conversation order so that nodes never deadlock;
//!   conversations are spread over a few batchers that commit in parallel;
//! - an account's event seqs come from its row in `event_seqs`, raised under
//!   its lock, so they are gapless too;
//! - the token-signing key lives in `meta` (the TURN secret is derived from
//!   it), so every node accepts what another issued.
//!
//! Records are stored as JSONB (the serde form the embedded backend stores),
//! beside the columns the constraints and indexes need. The schema is in
//! `server/migrations/`, applied at start under an advisory lock.
//!
//! A database that cannot be reached makes calls fail with
//! [`Error::Unavailable`]; the pool reconnects by itself once it is back.

mod accounts;
mod cluster;
mod messages;
mod social;

use std::sync::{Arc, mpsc as std_mpsc};
use std::time::Duration;

use async_trait::async_trait;
use natter_proto::event::{Event, EventBody};
use natter_proto::model::{ConversationId, Message, UserId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres as Pg, Transaction};
use tokio::sync::mpsc;

use super::{
    Appended, Appends, ConversationRecord, EventsFn, FriendshipRecord, GroupChange, Lookup,
    MemberRecord, NewMessage, RequestRecord, Resolution, SessionRecord, Storage, UserRecord,
};
use crate::error::{Error, Result};

/// The schema's migrations, in order: (version, name, SQL).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/0001_initial.sql"),
    ),
    (
        2,
        "disabled users",
        include_str!("../../migrations/0002_disabled_users.sql"),
    ),
    (
        3,
        "cluster",
        include_str!("../../migrations/0003_cluster.sql"),
    ),
    (
        4,
        "file quota",
        include_str!("../../migrations/0004_file_bytes.sql"),
    ),
];

/// Serialises schema changes of nodes starting at once (an arbitrary key).
const MIGRATION_LOCK: i64 = 0x6e61_7474_6572;

/// Append batchers (each holds at most one connection at a time).
const APPEND_SHARDS: usize = 4;

/// Longest a single statement may run.
const STATEMENT_TIMEOUT: &str = "10s";

/// How long a call waits for a connection before answering `unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How the relay connects to PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Most connections this relay opens.
    pub max_connections: u32,
}

/// PostgreSQL-backed [`Storage`].
#[derive(Clone)]
pub struct Postgres {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    /// One batcher per shard of conversations: a conversation's appends all
    /// go through one (so they keep their order), and shards commit in
    /// parallel.
    appends: Vec<mpsc::UnboundedSender<messages::AppendJob>>,
    closed: std_mpsc::Sender<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.closed.send(());
    }
}

type Tx = Transaction<'static, Pg>;

impl Postgres {
    /// Connects, brings the schema up to date and starts the append batcher.
    /// The receiver gets one message once the last handle is dropped.
    pub async fn connect(config: &PgConfig) -> Result<(Postgres, std_mpsc::Receiver<()>)> {
        // The URL may hold a password: errors never repeat it.
        let options: PgConnectOptions = config
            .url
            .parse()
            .map_err(|e| Error::Internal(format!("invalid database URL: {e}")))?;
        // A statement that waits longer than this (a stuck lock, a database
        // that stopped answering) fails as `unavailable` instead of holding
        // a request forever.
        let options = options.options([("statement_timeout", STATEMENT_TIMEOUT)]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(APPEND_SHARDS as u32 + 2))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        migrate(&pool).await?;
        let appends = (0..APPEND_SHARDS)
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(messages::batcher(pool.clone(), rx));
                tx
            })
            .collect();
        let (closed, closed_rx) = std_mpsc::channel();
        Ok((
            Postgres {
                inner: Arc::new(Inner {
                    pool,
                    appends,
                    closed,
                }),
            },
            closed_rx,
        ))
    }

    fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    async fn begin(&self) -> Result<Tx> {
        Ok(self.pool().begin().await?)
    }
}

/// Applies the migrations this database has not seen, in one transaction.
async fn migrate(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    // Schema changes, and waiting for another node's, may take longer than
    // any request should.
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS natter_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM natter_migrations")
        .fetch_all(&mut *tx)
        .await?;
    let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if let Some(newer) = done.iter().copied().find(|v| *v > known) {
        return Err(Error::Internal(format!(
            "database schema {newer} is newer than this relay ({known})"
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO natter_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tracing::info!(version, name, "database schema migrated");
    }
    tx.commit().await?;
    Ok(())
}

/// A relay id or seq as stored (they stay below 2^53; `u64::MAX`, meaning
/// "no bound", becomes the largest column value).
pub(crate) fn db(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored id or seq back.
pub(crate) fn un(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Appends events inside `tx`, giving each the next seq of its account's log.
/// Accounts' counters are locked in id order, so transactions never wait on
/// each other in a cycle.
pub(crate) async fn append_events(
    tx: &mut Tx,
    events: Vec<(UserId, EventBody)>,
) -> Result<Appends> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let ts = crate::util::now_ms();
    let mut counts = std::collections::BTreeMap::<u64, i64>::new();
    for (user, _) in &events {
        *counts.entry(user.0).or_default() += 1;
    }
    let mut next = std::collections::HashMap::new();
    for (user, n) in counts {
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO event_seqs (user_id, seq) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET seq = event_seqs.seq + EXCLUDED.seq
             RETURNING seq",
        )
        .bind(db(user))
        .bind(n)
        .fetch_one(&mut **tx)
        .await?;
        next.insert(user, un(last - n + 1));
    }
    let mut out = Vec::with_capacity(events.len());
    for (user, body) in events {
        let seq = next
            .get_mut(&user.0)
            .ok_or_else(|| Error::Internal("event counter missing".into()))?;
        let event = Event {
            seq: *seq,
            ts,
            body,
        };
        *seq += 1;
        sqlx::query("INSERT INTO events (user_id, seq, data) VALUES ($1, $2, $3)")
            .bind(db(user.0))
            .bind(db(event.seq))
            .bind(sqlx::types::Json(&event))
            .execute(&mut **tx)
            .await?;
        out.push((user, event));
    }
    Ok(out)
}

#[async_trait]
impl Storage for Postgres {
    async fn signing_key(&self) -> Result<Vec<u8>> {
        accounts::signing_key(self.pool()).await
    }

    async fn create_user(&self, user: UserRecord) -> Result<()> {
        accounts::create_user(self.begin().await?, user).await
    }

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>> {
        accounts::user(self.pool(), id).await
    }

    async fn users(&self, ids: Vec<UserId>) -> Result<Vec<UserRecord>> {
        accounts::users(self.pool(), ids).await
    }

    async fn lookup(&self, key: Lookup) -> Result<Option<UserRecord>> {
        accounts::lookup(self.pool(), key).await
    }

    async fn update_user(
        &self,
        user: UserRecord,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<Appends> {
        accounts::update_user(self.begin().await?, user, events).await
    }

    async fn put_session(&self, session: SessionRecord) -> Result<()> {
        accounts::put_session(self.pool(), session).await
    }

    async fn session(&self, id: u64) -> Result<Option<SessionRecord>> {
        accounts::session(self.pool(), id).await
    }

    async fn delete_session(&self, id: u64) -> Result<()> {
        accounts::delete_session(self.pool(), id).await
    }

    async fn rotate_session(&self, session: SessionRecord, expected_hash: String) -> Result<bool> {
        accounts::rotate_session(self.pool(), session, expected_hash).await
    }

    async fn request(&self, id: u64) -> Result<Option<RequestRecord>> {
        social::request(self.pool(), id).await
    }

    async fn pending_requests(&self, user: UserId) -> Result<Vec<RequestRecord>> {
        social::pending_requests(self.pool(), user).await
    }

    async fn create_request(
        &self,
        request: RequestRecord,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<(RequestRecord, Appends)> {
        social::create_request(self.begin().await?, request, events).await
    }

    async fn resolve_request(
        &self,
        resolution: Resolution,
        events: EventsFn,
    ) -> Result<(RequestRecord, Appends)> {
        social::resolve_request(self.begin().await?, resolution, events).await
    }

    async fn friends(&self, user: UserId) -> Result<Vec<FriendshipRecord>> {
        social::friends(self.pool(), user).await
    }

    async fn friendship(&self, user: UserId, friend: UserId) -> Result<Option<FriendshipRecord>> {
        social::friendship(self.pool(), user, friend).await
    }

    async fn remove_friend(
        &self,
        user: UserId,
        friend: UserId,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<Appends> {
        social::remove_friend(self.begin().await?, user, friend, events).await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<ConversationRecord>> {
        social::conversation(self.pool(), id).await
    }

    async fn members(&self, id: ConversationId) -> Result<Vec<MemberRecord>> {
        social::members(self.pool(), id).await
    }

    async fn conversations_of(
        &self,
        user: UserId,
    ) -> Result<Vec<(ConversationRecord, MemberRecord, u64)>> {
        social::conversations_of(self.pool(), user).await
    }

    async fn change_group(&self, change: GroupChange) -> Result<Appends> {
        social::change_group(self.begin().await?, change).await
    }

    async fn append(&self, message: NewMessage) -> Result<Appended> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        // Above the node bits of the id (see `util::IdGen`).
        let shard = ((message.conversation.0 >> 4) as usize) % self.inner.appends.len();
        self.inner.appends[shard]
            .send(messages::AppendJob {
                new: message,
                reply,
            })
            .map_err(|_| Error::Internal("append batcher stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("append batcher stopped".into()))?
    }

    async fn messages(
        &self,
        conversation: ConversationId,
        after: u64,
        before: u64,
        limit: usize,
        newest: bool,
    ) -> Result<Vec<Message>> {
        messages::range(self.pool(), conversation, after, before, limit, newest).await
    }

    async fn set_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        seq: u64,
    ) -> Result<(u64, bool)> {
        messages::set_read(self.pool(), user, conversation, seq).await
    }

    async fn read_cursors(&self, conversation: ConversationId) -> Result<Vec<(UserId, u64)>> {
        messages::read_cursors(self.pool(), conversation).await
    }

    async fn append_events(&self, events: Vec<(UserId, EventBody)>) -> Result<Appends> {
        let mut tx = self.begin().await?;
        let out = append_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn events(&self, user: UserId, after: u64, limit: usize) -> Result<Vec<Event>> {
        messages::events(self.pool(), user, after, limit).await
    }

    async fn list_users(&self, after: UserId, limit: usize) -> Result<Vec<UserRecord>> {
        accounts::list_users(self.pool(), after, limit).await
    }

    async fn set_disabled(&self, user: UserId, disabled: bool) -> Result<usize> {
        accounts::set_disabled(self.begin().await?, user, disabled).await
    }

    async fn add_file_bytes(&self, user: UserId, bytes: u64, quota: u64) -> Result<bool> {
        accounts::add_file_bytes(self.pool(), user, bytes, quota).await
    }

    async fn is_disabled(&self, user: UserId) -> Result<bool> {
        accounts::is_disabled(self.pool(), user).await
    }

    async fn delete_sessions_of(&self, user: UserId) -> Result<usize> {
        accounts::delete_sessions_of(self.pool(), user).await
    }

    async fn event_seq(&self, user: UserId) -> Result<u64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM event_seqs WHERE user_id = $1")
            .bind(db(user.0))
            .fetch_optional(self.pool())
            .await?;
        Ok(seq.map(un).unwrap_or(0))
    }

    async fn health(&self) -> Result<()> {
        let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(self.pool());
        match tokio::time::timeout(ACQUIRE_TIMEOUT, ping).await {
            Ok(r) => r.map(drop).map_err(Error::from),
            Err(_) => Err(Error::Unavailable("database did not answer in time".into())),
        }
    }

    async fn node_number(&self) -> Result<u16> {
        let n: i64 = sqlx::query_scalar("SELECT nextval('node_numbers')")
            .fetch_one(self.pool())
            .await?;
        Ok((n.rem_euclid(16)) as u16)
    }
}
