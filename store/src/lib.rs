//! Natter's local database: one redb file per profile holding the account,
//! contacts, friend requests, groups, conversations, message history, the
//! outbox of unacknowledged messages, sync cursors, settings and a search index.
//!
//! - [`Store`] is the async API. Every call runs redb's blocking work on tokio's
//!   blocking pool, never on the async executor.
//! - [`model`]: local records ([`Conversation`], [`OutboxEntry`], [`Account`]).
//! - `db/`: the transactions behind each call — messages and unread counts,
//!   account events (friends, groups), the outbox, and search.
//! - `tables`: the table catalog.
//!
//! Search works on any language, Chinese included, because it matches substrings
//! of lower-cased text instead of splitting words: texts are packed into blocks
//! that a SIMD substring finder scans newest-first.

mod db;
pub mod model;
mod tables;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use natter_proto::event::Event;
use natter_proto::frame::Cursor;
use natter_proto::model::{
    ConversationId, ConversationState, Friend, FriendRequest, Group, Message, MessageBody, UserId,
    UserSummary,
};
pub(crate) use natter_proto::now_ms;
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use db::messages::Applied;
pub use model::{Account, Conversation, OutboxEntry, OutboxState, Preview};

/// The schema this build writes. Older files are migrated on open.
pub const SCHEMA_VERSION: u64 = 1;

/// What can go wrong.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The database file or a transaction failed.
    #[error("local database: {0}")]
    Db(String),
    /// A stored value could not be read.
    #[error("local data is corrupt: {0}")]
    Corrupt(String),
    /// The file was written by a newer Natter.
    #[error("local data is from a newer version of Natter (schema {0})")]
    TooNew(u64),
    /// The thing asked for is not there.
    #[error("not found")]
    NotFound,
}

/// Store result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! db_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::Db(e.to_string())
            }
        }
    )*};
}
db_error!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);

pub(crate) fn enc<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Corrupt(e.to_string()))
}

pub(crate) fn dec<T: DeserializeOwned>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| Error::Corrupt(e.to_string()))
}

/// The data directory of profile `name` under `base`: two profiles never share a
/// database.
pub fn profile_dir(base: &Path, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.join("profiles").join(if safe.is_empty() {
        "default".into()
    } else {
        safe
    })
}

/// The local database of one profile. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) `natter.redb` in `dir`, migrating older schemas.
    pub async fn open(dir: impl Into<PathBuf>) -> Result<Store> {
        let dir = dir.into();
        tokio::task::spawn_blocking(move || Store::open_blocking(&dir))
            .await
            .map_err(|e| Error::Db(e.to_string()))?
    }

    fn open_blocking(dir: &Path) -> Result<Store> {
        const CACHE_BYTES: usize = 16 << 20;
        let fresh = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| Error::Db(format!("{}: {e}", dir.display())))?;
        // Messages and tokens are private: a folder this store made, and the
        // database file, are the owner's alone. (A folder the user chose and
        // that already existed keeps its permissions.)
        if fresh {
            owner_only(dir, 0o700)?;
        }
        let path = dir.join("natter.redb");
        // redb's own page cache defaults to 1 GiB and grows as pages are read
        // (all of them when the file is checked after an unclean exit); the OS
        // caches the file anyway, so a small cache keeps the app's memory flat.
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)?;
        let txn = db.begin_write()?;
        tables::create_all(&txn)?;
        {
            let mut meta = txn.open_table(tables::META)?;
            let version = meta.get("schema_version")?.map(|v| v.value()).unwrap_or(0);
            if version > SCHEMA_VERSION {
                return Err(Error::TooNew(version));
            }
            // Migrations from older schemas go here, one step per version.
            meta.insert("schema_version", SCHEMA_VERSION)?;
        }
        txn.commit()?;
        owner_only(&path, 0o600)?;
        Ok(Store {
            db: Arc::new(db),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db.begin_read()?))
            .await
            .map_err(|e| Error::Db(e.to_string()))?
    }

    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_write()?;
            let out = f(&txn)?;
            txn.commit()?;
            Ok(out)
        })
        .await
        .map_err(|e| Error::Db(e.to_string()))?
    }

    // ---- account -------------------------------------------------------------

    /// The signed-in account, if any.
    pub async fn account(&self) -> Result<Option<Account>> {
        self.read(|txn| {
            let t = txn.open_table(tables::ACCOUNT)?;
            t.get("account")?.map(|v| dec(v.value())).transpose()
        })
        .await
    }

    /// Saves the signed-in account (after login or a token refresh).
    pub async fn set_account(&self, account: Account) -> Result<()> {
        self.write(move |txn| {
            txn.open_table(tables::ACCOUNT)?
                .insert("account", enc(&account)?.as_slice())?;
            Ok(())
        })
        .await
    }

    /// Forgets the account (logout); history stays.
    pub async fn clear_account(&self) -> Result<()> {
        self.write(|txn| {
            txn.open_table(tables::ACCOUNT)?.remove("account")?;
            Ok(())
        })
        .await
    }

    // ---- sync ----------------------------------------------------------------

    /// Highest account event applied.
    pub async fn events_seq(&self) -> Result<u64> {
        self.read(|txn| {
            Ok(txn
                .open_table(tables::META)?
                .get("events_seq")?
                .map(|v| v.value())
                .unwrap_or(0))
        })
        .await
    }

    /// Per-conversation cursors to present at catch-up: the highest seq held
    /// without gaps.
    pub async fn cursors(&self) -> Result<Vec<Cursor>> {
        Ok(self
            .conversations()
            .await?
            .into_iter()
            .map(|c| Cursor {
                conversation: c.id,
                after: c.held_seq,
            })
            .collect())
    }

    /// Applies account events (in one transaction) and advances the event cursor.
    pub async fn apply_events(&self, me: UserId, events: Vec<Event>) -> Result<()> {
        self.write(move |txn| db::social::apply_events(txn, me, &events))
            .await
    }

    /// Records the relay's view of every conversation (from `synced`).
    pub async fn apply_states(&self, me: UserId, states: Vec<ConversationState>) -> Result<()> {
        self.write(move |txn| db::social::apply_states(txn, me, &states))
            .await
    }

    /// Stores messages of one conversation (any order, duplicates ignored),
    /// applies operations to their targets, settles matching outbox entries,
    /// updates the conversation and the search index, in one transaction.
    pub async fn apply_messages(
        &self,
        me: UserId,
        conversation: ConversationId,
        messages: Vec<Message>,
    ) -> Result<Applied> {
        self.write(move |txn| db::messages::apply(txn, me, conversation, messages))
            .await
    }

    // ---- reading -------------------------------------------------------------

    /// Every conversation: pinned first, then by last activity.
    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        self.read(db::social::conversations).await
    }

    /// One conversation.
    pub async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>> {
        self.read(move |txn| db::social::conversation(txn, id))
            .await
    }

    /// Messages with `from <= seq <= to`, oldest first, at most `limit`; with
    /// `newest` the last `limit` of the range.
    pub async fn messages(
        &self,
        conversation: ConversationId,
        from: u64,
        to: u64,
        limit: usize,
        newest: bool,
    ) -> Result<Vec<Message>> {
        self.read(move |txn| db::messages::range(txn, conversation, from, to, limit, newest))
            .await
    }

    /// The newest `limit` messages below `before` (or the newest of all).
    pub async fn history(
        &self,
        conversation: ConversationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let to = before.map(|b| b.saturating_sub(1)).unwrap_or(u64::MAX);
        self.messages(conversation, 1, to, limit, true).await
    }

    /// Seqs in `1..=up_to` missing locally (gaps to fetch), at most `limit`.
    pub async fn missing(
        &self,
        conversation: ConversationId,
        from: u64,
        up_to: u64,
        limit: usize,
    ) -> Result<Vec<u64>> {
        self.read(move |txn| db::messages::missing(txn, conversation, from, up_to, limit))
            .await
    }

    /// Friends.
    pub async fn friends(&self) -> Result<Vec<Friend>> {
        self.read(|txn| db::social::all(txn, tables::FRIENDS)).await
    }

    /// Friend requests (all states), newest first.
    pub async fn friend_requests(&self) -> Result<Vec<FriendRequest>> {
        self.read(|txn| {
            let mut v: Vec<FriendRequest> = db::social::all(txn, tables::REQUESTS)?;
            v.sort_by_key(|r| std::cmp::Reverse(r.ts));
            Ok(v)
        })
        .await
    }

    /// Groups this account is in.
    pub async fn groups(&self) -> Result<Vec<Group>> {
        self.read(|txn| db::social::all(txn, tables::GROUPS)).await
    }

    /// A group.
    pub async fn group(&self, id: ConversationId) -> Result<Option<Group>> {
        self.read(move |txn| db::social::get(txn, tables::GROUPS, id.0))
            .await
    }

    /// A known user.
    pub async fn user(&self, id: UserId) -> Result<Option<UserSummary>> {
        self.read(move |txn| db::social::get(txn, tables::USERS, id.0))
            .await
    }

    /// Replaces cached friends, requests and groups with the relay's lists (used
    /// after a fresh login, before events take over).
    pub async fn replace_social(
        &self,
        friends: Vec<Friend>,
        requests: Vec<FriendRequest>,
        groups: Vec<Group>,
    ) -> Result<()> {
        self.write(move |txn| db::social::replace(txn, &friends, &requests, &groups))
            .await
    }

    // ---- local state ---------------------------------------------------------

    /// Marks read up to `seq` locally; returns the conversation after.
    pub async fn mark_read(
        &self,
        me: UserId,
        conversation: ConversationId,
        seq: u64,
    ) -> Result<Conversation> {
        self.write(move |txn| db::messages::mark_read(txn, me, conversation, seq, None))
            .await
    }

    /// Applies a read receipt from the relay.
    pub async fn apply_receipt(
        &self,
        me: UserId,
        conversation: ConversationId,
        user: UserId,
        seq: u64,
    ) -> Result<Option<Conversation>> {
        self.write(move |txn| db::messages::apply_receipt(txn, me, conversation, user, seq))
            .await
    }

    /// Pins or unpins.
    pub async fn set_pinned(&self, conversation: ConversationId, pinned: bool) -> Result<()> {
        self.update_conversation(conversation, move |c| c.pinned = pinned)
            .await
    }

    /// Mutes or unmutes.
    pub async fn set_muted(&self, conversation: ConversationId, muted: bool) -> Result<()> {
        self.update_conversation(conversation, move |c| c.muted = muted)
            .await
    }

    /// Keeps the composer's text.
    pub async fn set_draft(&self, conversation: ConversationId, draft: String) -> Result<()> {
        self.update_conversation(conversation, move |c| c.draft = draft)
            .await
    }

    async fn update_conversation(
        &self,
        id: ConversationId,
        f: impl FnOnce(&mut Conversation) + Send + 'static,
    ) -> Result<()> {
        self.write(move |txn| {
            let mut t = txn.open_table(tables::CONVERSATIONS)?;
            let mut c: Conversation = match t.get(id.0)? {
                Some(v) => dec(v.value())?,
                None => return Err(Error::NotFound),
            };
            f(&mut c);
            t.insert(id.0, enc(&c)?.as_slice())?;
            Ok(())
        })
        .await
    }

    /// A setting.
    pub async fn setting<T: DeserializeOwned + Send + 'static>(
        &self,
        key: &str,
    ) -> Result<Option<T>> {
        let key = key.to_string();
        self.read(move |txn| {
            let t = txn.open_table(tables::SETTINGS)?;
            t.get(key.as_str())?.map(|v| dec(v.value())).transpose()
        })
        .await
    }

    /// Saves a setting.
    pub async fn set_setting<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let key = key.to_string();
        let bytes = enc(value)?;
        self.write(move |txn| {
            txn.open_table(tables::SETTINGS)?
                .insert(key.as_str(), bytes.as_slice())?;
            Ok(())
        })
        .await
    }

    // ---- outbox --------------------------------------------------------------

    /// Queues a new message for sending; returns its entry (with a fresh client id).
    pub async fn enqueue(
        &self,
        conversation: ConversationId,
        body: MessageBody,
        reply_to: Option<u64>,
    ) -> Result<OutboxEntry> {
        self.enqueue_with(conversation, body, reply_to, Default::default())
            .await
    }

    /// Queues a new message with mentions or as a forwarded copy.
    pub async fn enqueue_with(
        &self,
        conversation: ConversationId,
        body: MessageBody,
        reply_to: Option<u64>,
        extras: natter_proto::model::Extras,
    ) -> Result<OutboxEntry> {
        let entry = OutboxEntry {
            conversation,
            client_id: new_client_id(),
            body,
            reply_to,
            extras,
            created_ts: now_ms(),
            order: 0,
            state: OutboxState::Sending,
            attempts: 0,
        };
        self.write(move |txn| db::outbox::put(txn, entry)).await
    }

    /// Everything not yet acknowledged, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.read(db::outbox::all).await
    }

    /// Counts a send attempt.
    pub async fn outbox_attempted(
        &self,
        conversation: ConversationId,
        client_id: String,
    ) -> Result<()> {
        self.write(move |txn| {
            db::outbox::update(txn, conversation, &client_id, |e| e.attempts += 1)
        })
        .await
    }

    /// Marks an entry failed (the relay refused it).
    pub async fn outbox_failed(
        &self,
        conversation: ConversationId,
        client_id: String,
        reason: String,
    ) -> Result<()> {
        self.write(move |txn| {
            db::outbox::update(txn, conversation, &client_id, |e| {
                e.state = OutboxState::Failed { reason }
            })
        })
        .await
    }

    /// Puts a failed entry back to sending (resend).
    pub async fn outbox_retry(
        &self,
        conversation: ConversationId,
        client_id: String,
    ) -> Result<()> {
        self.write(move |txn| {
            db::outbox::update(txn, conversation, &client_id, |e| {
                e.state = OutboxState::Sending
            })
        })
        .await
    }

    /// Drops an entry without sending it.
    pub async fn outbox_discard(
        &self,
        conversation: ConversationId,
        client_id: String,
    ) -> Result<()> {
        self.write(move |txn| db::outbox::remove(txn, conversation, &client_id))
            .await
    }

    // ---- search --------------------------------------------------------------

    /// Messages whose text contains `query` (case-insensitive, any language),
    /// newest first, at most `limit`, optionally in one conversation.
    pub async fn search(
        &self,
        query: &str,
        conversation: Option<ConversationId>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let query = query.to_lowercase();
        self.read(move |txn| db::search::search(txn, &query, conversation, limit))
            .await
    }
}

/// A fresh idempotency key.
pub fn new_client_id() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// Reads a whole table of JSON values.
pub(crate) fn read_all<T: DeserializeOwned>(
    t: &impl ReadableTable<u64, &'static [u8]>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for item in t.iter()? {
        let (_, v) = item?;
        out.push(dec(v.value())?);
    }
    Ok(out)
}

/// Restricts `path` to its owner (`mode` on Unix; elsewhere the per-user
/// folders already are).
fn owner_only(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::Db(format!("{}: {e}", path.display())))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
