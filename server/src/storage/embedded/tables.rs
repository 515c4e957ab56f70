//! The table catalog: every table of the embedded database, in one place.
//!
//! Values typed `&[u8]` hold JSON of the record named in the comment.

use redb::{TableDefinition, WriteTransaction};

use crate::error::Result;

/// `"schema_version"` → version.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// `"signing_key"` → 32 bytes.
pub const META_BYTES: TableDefinition<&str, &[u8]> = TableDefinition::new("meta_bytes");
/// user id → `UserRecord`.
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// `a:<account>` / `e:<email>` / `p:<phone>` → user id.
pub const USER_KEYS: TableDefinition<&str, u64> = TableDefinition::new("user_keys");
/// session id → `SessionRecord`.
pub const SESSIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("sessions");
/// request id → `RequestRecord`.
pub const REQUESTS: TableDefinition<u64, &[u8]> = TableDefinition::new("requests");
/// (user, request id) → (): pending requests to or from a user.
pub const PENDING: TableDefinition<(u64, u64), ()> = TableDefinition::new("pending_requests");
/// (user, friend) → `FriendshipRecord`; stored both ways.
pub const FRIENDS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("friends");
/// (lower user id, higher user id) → their 1:1 conversation id.
pub const DIRECT: TableDefinition<(u64, u64), u64> = TableDefinition::new("direct");
/// conversation id → `ConversationRecord`.
pub const CONVERSATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("conversations");
/// (conversation, user) → `MemberRecord`.
pub const MEMBERS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("members");
/// (user, conversation) → (): conversations a user is in.
pub const USER_CONVERSATIONS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("user_conversations");
/// (conversation, seq) → `Message`.
pub const MESSAGES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("messages");
/// (conversation, sender, client id) → seq: the idempotency index.
pub const CLIENT_IDS: TableDefinition<(u64, u64, &str), u64> = TableDefinition::new("client_ids");
/// (conversation, user) → highest seq read.
pub const READS: TableDefinition<(u64, u64), u64> = TableDefinition::new("reads");
/// (user, seq) → `Event`.
pub const EVENTS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("events");
/// user → highest event seq.
pub const EVENT_SEQ: TableDefinition<u64, u64> = TableDefinition::new("event_seq");

/// user id → (): accounts an operator disabled.
pub const DISABLED: TableDefinition<u64, ()> = TableDefinition::new("disabled_users");

/// user id → bytes of files the account uploaded (counted since protocol 3).
pub const FILE_BYTES: TableDefinition<u64, u64> = TableDefinition::new("file_bytes");

/// Creates every table so that read transactions never meet a missing one.
pub fn create_all(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(META)?;
    txn.open_table(META_BYTES)?;
    txn.open_table(USERS)?;
    txn.open_table(USER_KEYS)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(REQUESTS)?;
    txn.open_table(PENDING)?;
    txn.open_table(FRIENDS)?;
    txn.open_table(DIRECT)?;
    txn.open_table(CONVERSATIONS)?;
    txn.open_table(MEMBERS)?;
    txn.open_table(USER_CONVERSATIONS)?;
    txn.open_table(MESSAGES)?;
    txn.open_table(CLIENT_IDS)?;
    txn.open_table(READS)?;
    txn.open_table(EVENTS)?;
    txn.open_table(EVENT_SEQ)?;
    txn.open_table(DISABLED)?;
    txn.open_table(FILE_BYTES)?;
    Ok(())
}
