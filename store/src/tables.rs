//! The local table catalog. `&[u8]` values are JSON of the type in the comment.

use redb::{TableDefinition, WriteTransaction};

use crate::Result;

/// `"schema_version"`, `"events_seq"` → number.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// `"account"` → `Account`.
pub const ACCOUNT: TableDefinition<&str, &[u8]> = TableDefinition::new("account");
/// user id → `UserSummary` (everyone seen: friends, group members, requesters).
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// friend user id → `Friend`.
pub const FRIENDS: TableDefinition<u64, &[u8]> = TableDefinition::new("friends");
/// request id → `FriendRequest`.
pub const REQUESTS: TableDefinition<u64, &[u8]> = TableDefinition::new("friend_requests");
/// group id → `Group`.
pub const GROUPS: TableDefinition<u64, &[u8]> = TableDefinition::new("groups");
/// conversation id → `Conversation`.
pub const CONVERSATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("conversations");
/// (conversation, seq) → `Message`.
pub const MESSAGES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("messages");
/// (conversation, client id) → `OutboxEntry`.
pub const OUTBOX: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("outbox");
/// key → JSON value.
pub const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
/// block → lower-cased texts separated by NUL.
pub const SEARCH_TEXT: TableDefinition<u64, &[u8]> = TableDefinition::new("search_text");
/// block → packed (conversation u64, seq u64, end offset u32) per text.
pub const SEARCH_META: TableDefinition<u64, &[u8]> = TableDefinition::new("search_meta");

/// Creates every table.
pub fn create_all(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(META)?;
    txn.open_table(ACCOUNT)?;
    txn.open_table(USERS)?;
    txn.open_table(FRIENDS)?;
    txn.open_table(REQUESTS)?;
    txn.open_table(GROUPS)?;
    txn.open_table(CONVERSATIONS)?;
    txn.open_table(MESSAGES)?;
    txn.open_table(OUTBOX)?;
    txn.open_table(SETTINGS)?;
    txn.open_table(SEARCH_TEXT)?;
    txn.open_table(SEARCH_META)?;
    Ok(())
}
