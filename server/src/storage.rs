//! The storage trait the service layer owns, the records it stores, and the
//! message rules every backend applies inside its write transaction.
//!
//! The trait is narrow on purpose: each mutating call is one atomic change that
//! the backend commits durably before returning, including the account events it
//! appends, so an acknowledged change is never lost and never half-applied.
//! Preconditions that depend on concurrent state (a request still pending, a
//! group unchanged since it was read) are checked inside the backend's
//! transaction; a stale group write fails with [`Error::Conflict`] and the service
//! retries it.

pub mod embedded;
pub mod postgres;

use async_trait::async_trait;
use natter_proto::event::{Event, EventBody};
use natter_proto::model::{
    ConversationId, Extras, FriendRequest, Message, MessageBody, RequestStatus, Role, UserId,
    UserSummary,
};
use natter_proto::{ErrorCode, Millis};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Unique account name, lower case.
    pub account: String,
    /// Display name.
    pub nickname: String,
    /// Avatar file id or URL.
    pub avatar: Option<String>,
    /// Unique e-mail, lower case.
    pub email: Option<String>,
    /// Unique phone number, digits and `+` only.
    pub phone: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Registration time.
    pub created_ts: Millis,
}

impl UserRecord {
    /// The public part.
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            account: self.account.clone(),
            nickname: self.nickname.clone(),
            avatar: self.avatar.clone(),
        }
    }
}

/// How to look an account up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// By account name (lower case).
    Account(String),
    /// By e-mail (lower case).
    Email(String),
    /// By phone (normalised).
    Phone(String),
}

/// One signed-in device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Session id, embedded in its tokens.
    pub id: u64,
    /// The account.
    pub user: UserId,
    /// The device.
    pub device: String,
    /// Human name of the device.
    pub device_name: Option<String>,
    /// SHA-256 of the current refresh secret, hex.
    pub refresh_hash: String,
    /// When the refresh token expires.
    pub refresh_expires_ts: Millis,
    /// When the session began.
    pub created_ts: Millis,
    /// SHA-256 of the refresh secret the last rotation used up: presented
    /// again, it is a replay, and the session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_refresh_hash: Option<String>,
}

/// A stored friend request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Id.
    pub id: u64,
    /// Requester.
    pub from: UserId,
    /// Recipient.
    pub to: UserId,
    /// Note.
    pub message: String,
    /// State.
    pub status: RequestStatus,
    /// When sent.
    pub ts: Millis,
}

impl RequestRecord {
    /// The wire form, given both parties' summaries.
    pub fn to_wire(&self, from: UserSummary, to: UserSummary) -> FriendRequest {
        FriendRequest {
            id: self.id,
            from,
            to,
            message: self.message.clone(),
            status: self.status,
            ts: self.ts,
        }
    }
}

/// One side of a friendship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendshipRecord {
    /// The friend.
    pub friend: UserId,
    /// The 1:1 conversation.
    pub conversation: ConversationId,
    /// Since when.
    pub since_ts: Millis,
}

/// What a conversation is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConversationKind {
    /// A 1:1 conversation; `open` while the two are friends.
    Direct {
        /// Lower user id.
        a: UserId,
        /// Higher user id.
        b: UserId,
        /// Whether messages may be sent.
        open: bool,
    },
    /// A group.
    Group {
        /// Name.
        name: String,
        /// Announcement.
        announcement: String,
        /// Owner.
        owner: UserId,
    },
}

/// A stored conversation, without its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRecord {
    /// Id.
    pub id: ConversationId,
    /// Kind.
    pub kind: ConversationKind,
    /// Bumped on every change; guards concurrent group edits.
    pub version: u64,
    /// Creation time.
    pub created_ts: Millis,
}

/// A member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// The member.
    pub user: UserId,
    /// Role (direct conversations: `member`).
    pub role: Role,
    /// When they joined.
    pub joined_ts: Millis,
    /// First seq they may read.
    pub first_seq: u64,
}

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Where.
    pub conversation: ConversationId,
    /// Who.
    pub sender: UserId,
    /// Idempotency key.
    pub client_id: String,
    /// What.
    pub body: MessageBody,
    /// Reply target.
    pub reply_to: Option<u64>,
    /// The relay's clock now.
    pub ts: Millis,
    /// Recall window, milliseconds.
    pub recall_window_ms: i64,
    /// Edit window, milliseconds.
    pub edit_window_ms: i64,
    /// Mentions and forwarding, already checked by the service.
    pub extras: Extras,
}

/// Result of an append.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The stored message (the original one for a duplicate).
    pub message: Message,
    /// Whether this was a resend of an already stored message.
    pub duplicate: bool,
    /// Everyone in the conversation, for delivery.
    pub members: Vec<UserId>,
}

/// A change to a group: its new record, members to add or update and members to
/// drop, or the whole group deleted.
#[derive(Debug, Clone)]
pub struct GroupChange {
    /// The group as it should be after the change (version already bumped).
    pub conversation: ConversationRecord,
    /// The version read before the change; `None` creates the group.
    pub expected_version: Option<u64>,
    /// Members to insert or overwrite.
    pub upsert: Vec<MemberRecord>,
    /// Members to remove.
    pub remove: Vec<UserId>,
    /// Delete the group with its members and messages.
    pub delete: bool,
    /// Events to append.
    pub events: Vec<(UserId, EventBody)>,
}

/// A friend request answered.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The request id.
    pub request: u64,
    /// Who answers; must be the recipient.
    pub by: UserId,
    /// Accepted or rejected.
    pub status: RequestStatus,
    /// When.
    pub ts: Millis,
    /// For an acceptance: the id to give the 1:1 conversation if the pair has none.
    pub new_conversation: ConversationId,
}

/// Builds the events of an answered request from the request and, for an
/// acceptance, the requester's side of the new friendship.
pub type EventsFn = Box<
    dyn for<'a> FnOnce(&'a RequestRecord, Option<FriendshipRecord>) -> Vec<(UserId, EventBody)>
        + Send
        + 'static,
>;

/// Events appended by a write, with their assigned seqs.
pub type Appends = Vec<(UserId, Event)>;

/// Storage the service needs. Every method is atomic; every mutating method is
/// durable before it returns.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// A 32-byte secret for signing tokens, created on first use and kept.
    async fn signing_key(&self) -> Result<Vec<u8>>;

    /// Stores a new account; `account_taken` if its name, e-mail or phone is in use.
    async fn create_user(&self, user: UserRecord) -> Result<()>;
    /// An account by id.
    async fn user(&self, id: UserId) -> Result<Option<UserRecord>>;
    /// Accounts by id; unknown ids are skipped.
    async fn users(&self, ids: Vec<UserId>) -> Result<Vec<UserRecord>>;
    /// An account by name, e-mail or phone.
    async fn lookup(&self, key: Lookup) -> Result<Option<UserRecord>>;
    /// Replaces an account's profile (keeping the unique indexes right) and
    /// appends `events`.
    async fn update_user(
        &self,
        user: UserRecord,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<Appends>;

    /// Stores a new session.
    async fn put_session(&self, session: SessionRecord) -> Result<()>;
    /// A session by id.
    async fn session(&self, id: u64) -> Result<Option<SessionRecord>>;
    /// Deletes a session (logout).
    async fn delete_session(&self, id: u64) -> Result<()>;
    /// Replaces a session if its refresh hash is still `expected_hash`; `false` if
    /// it was already rotated or is gone.
    async fn rotate_session(&self, session: SessionRecord, expected_hash: String) -> Result<bool>;

    /// A friend request by id.
    async fn request(&self, id: u64) -> Result<Option<RequestRecord>>;
    /// Pending requests to or from `user`.
    async fn pending_requests(&self, user: UserId) -> Result<Vec<RequestRecord>>;
    /// Stores a new pending request unless the two are friends (`already_friends`)
    /// or the same request is pending (then returns that one and appends nothing).
    async fn create_request(
        &self,
        request: RequestRecord,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<(RequestRecord, Appends)>;
    /// Answers a pending request. Acceptance makes the two friends and opens their
    /// 1:1 conversation (reusing an earlier one). `events` builds the events from
    /// the friendship records of (from, to); it runs inside the transaction.
    async fn resolve_request(
        &self,
        resolution: Resolution,
        events: EventsFn,
    ) -> Result<(RequestRecord, Appends)>;
    /// `user`'s friends.
    async fn friends(&self, user: UserId) -> Result<Vec<FriendshipRecord>>;
    /// The friendship of `user` with `friend`.
    async fn friendship(&self, user: UserId, friend: UserId) -> Result<Option<FriendshipRecord>>;
    /// Ends a friendship and closes the 1:1 conversation; `not_friends` if none.
    async fn remove_friend(
        &self,
        user: UserId,
        friend: UserId,
        events: Vec<(UserId, EventBody)>,
    ) -> Result<Appends>;

    /// A conversation by id.
    async fn conversation(&self, id: ConversationId) -> Result<Option<ConversationRecord>>;
    /// A conversation's members.
    async fn members(&self, id: ConversationId) -> Result<Vec<MemberRecord>>;
    /// Conversations `user` is in, with their member record and last seq.
    async fn conversations_of(
        &self,
        user: UserId,
    ) -> Result<Vec<(ConversationRecord, MemberRecord, u64)>>;
    /// Creates, changes or deletes a group.
    async fn change_group(&self, change: GroupChange) -> Result<Appends>;

    /// Appends a message: checks the sender may send, deduplicates by client id,
    /// assigns the next seq, applies recall/edit/reaction to their target.
    async fn append(&self, message: NewMessage) -> Result<Appended>;
    /// Messages with `after < seq < before`, oldest first, at most `limit`; with
    /// `newest` the last `limit` of that range, else the first.
    async fn messages(
        &self,
        conversation: ConversationId,
        after: u64,
        before: u64,
        limit: usize,
        newest: bool,
    ) -> Result<Vec<Message>>;
    /// Raises `user`'s read cursor; returns the cursor now and whether it moved.
    async fn set_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        seq: u64,
    ) -> Result<(u64, bool)>;
    /// Read cursors of everyone in a conversation.
    async fn read_cursors(&self, conversation: ConversationId) -> Result<Vec<(UserId, u64)>>;

    /// Appends events outside any other change.
    async fn append_events(&self, events: Vec<(UserId, EventBody)>) -> Result<Appends>;
    /// `user`'s events after `after`, at most `limit`.
    async fn events(&self, user: UserId, after: u64, limit: usize) -> Result<Vec<Event>>;
    /// `user`'s highest event seq.
    async fn event_seq(&self, user: UserId) -> Result<u64>;

    // Operator commands (`natter-server admin`). Defaults say the backend has
    // no support yet, so a backend can be added before it grows them.

    /// Accounts with ids above `after`, in id order, at most `limit`.
    async fn list_users(&self, after: UserId, limit: usize) -> Result<Vec<UserRecord>> {
        let _ = (after, limit);
        Err(unsupported("listing accounts"))
    }
    /// Marks an account disabled (or enabled again). A disabled account cannot
    /// sign in, refresh or use a token; with `disabled`, its sessions are
    /// deleted in the same change. Returns how many sessions were deleted.
    async fn set_disabled(&self, user: UserId, disabled: bool) -> Result<usize> {
        let _ = (user, disabled);
        Err(unsupported("disabling accounts"))
    }
    /// Adds `bytes` to the file bytes `user` has stored, unless that would take
    /// them past `quota` (0: no limit); `false` (and no change) if it would.
    async fn add_file_bytes(&self, user: UserId, bytes: u64, quota: u64) -> Result<bool>;
    /// Whether an account is disabled.
    async fn is_disabled(&self, user: UserId) -> Result<bool> {
        let _ = user;
        Ok(false)
    }
    /// Deletes every session of an account; returns how many there were.
    async fn delete_sessions_of(&self, user: UserId) -> Result<usize> {
        let _ = user;
        Err(unsupported("ending sessions"))
    }

    /// Whether the storage can serve now; the error says what is wrong.
    async fn health(&self) -> Result<()> {
        Ok(())
    }

    /// A number (0–15) that sets this relay apart from the others sharing the
    /// storage, mixed into the ids it makes. A backend only one relay opens
    /// keeps 0.
    async fn node_number(&self) -> Result<u16> {
        Ok(0)
    }
}

/// The most a stored message may grow to as reactions and edits rewrite it
/// (its text is at most a few tens of kilobytes).
pub(crate) const MAX_STORED_MESSAGE: usize = 256 << 10;

/// The unique key an account lookup goes through.
pub(crate) fn lookup_key(key: &Lookup) -> String {
    match key {
        Lookup::Account(a) => format!("a:{a}"),
        Lookup::Email(e) => format!("e:{e}"),
        Lookup::Phone(p) => format!("p:{p}"),
    }
}

/// Every unique key of an account: its name, and its e-mail and phone if set.
pub(crate) fn user_keys(user: &UserRecord) -> Vec<String> {
    let mut keys = vec![lookup_key(&Lookup::Account(user.account.clone()))];
    if let Some(e) = &user.email {
        keys.push(lookup_key(&Lookup::Email(e.clone())));
    }
    if let Some(p) = &user.phone {
        keys.push(lookup_key(&Lookup::Phone(p.clone())));
    }
    keys
}

fn unsupported(what: &str) -> Error {
    Error::Internal(format!("{what} is not supported by this storage backend"))
}

/// The rules of an append that depend on the conversation, the same on every
/// backend: the sender is a member (a friend, in a 1:1 that is still open),
/// and `reply_to` and an operation's target name messages the sender may
/// read. `last` is the conversation's last seq. Returns the sender's record.
pub(crate) fn check_append<'a>(
    new: &NewMessage,
    members: &'a [MemberRecord],
    direct_open: Option<bool>,
    last: u64,
) -> Result<&'a MemberRecord> {
    let Some(sender) = members.iter().find(|m| m.user == new.sender) else {
        return Err(match direct_open {
            Some(_) => Error::client(ErrorCode::NotFriends, "not friends"),
            None => Error::client(ErrorCode::NotMember, "not a member of this group"),
        });
    };
    if direct_open == Some(false) {
        return Err(Error::client(ErrorCode::NotFriends, "not friends"));
    }
    let readable = |seq: u64| seq != 0 && seq <= last && seq >= sender.first_seq;
    if new.reply_to.is_some_and(|r| !readable(r)) {
        return Err(Error::bad_request("reply_to names no message"));
    }
    if new.body.target().is_some_and(|t| !readable(t)) {
        return Err(Error::not_found("target message not found"));
    }
    Ok(sender)
}

/// Applies the operation `new` to its stored `target` under [`apply_op`]'s
/// rules and returns the target's new stored form, refused when it would grow
/// past [`MAX_STORED_MESSAGE`].
pub(crate) fn apply_to_target(
    target: &mut Message,
    new: &NewMessage,
    sender: &MemberRecord,
    group: bool,
) -> Result<Vec<u8>> {
    let privileged = group && sender.role >= Role::Admin;
    apply_op(
        target,
        &new.body,
        new.sender,
        privileged,
        new.ts,
        new.recall_window_ms,
        new.edit_window_ms,
    )?;
    let value = serde_json::to_vec(target)?;
    if value.len() > MAX_STORED_MESSAGE {
        return Err(Error::client(
            ErrorCode::TooLarge,
            "that message has as many reactions as it can hold",
        ));
    }
    Ok(value)
}

/// Checks that `sender` may apply `op` to `target` and applies it.
/// `privileged` is true for group owners and admins. Recalls and edits by the
/// sender must come within their windows of the target's `ts`.
pub fn apply_op(
    target: &mut Message,
    op: &MessageBody,
    sender: UserId,
    privileged: bool,
    now: Millis,
    recall_window_ms: i64,
    edit_window_ms: i64,
) -> Result<()> {
    if matches!(target.body, MessageBody::Recalled) {
        return Err(Error::client(
            ErrorCode::InvalidState,
            "message was recalled",
        ));
    }
    if target.body.target().is_some() {
        return Err(Error::bad_request("cannot operate on an operation"));
    }
    match op {
        MessageBody::Recall { .. } => {
            if target.sender != sender && !privileged {
                return Err(Error::forbidden(
                    "only the sender or a group admin may recall",
                ));
            }
            if target.sender == sender && !privileged && now - target.ts > recall_window_ms {
                return Err(Error::client(
                    ErrorCode::RecallExpired,
                    "recall window has passed",
                ));
            }
        }
        MessageBody::Edit { .. } => {
            if target.sender != sender {
                return Err(Error::forbidden("only the sender may edit"));
            }
            if !matches!(target.body, MessageBody::Text { .. }) {
                return Err(Error::bad_request("only text messages can be edited"));
            }
            if now - target.ts > edit_window_ms {
                return Err(Error::client(
                    ErrorCode::EditExpired,
                    "edit window has passed",
                ));
            }
        }
        MessageBody::Reaction { .. } => {}
        _ => return Err(Error::bad_request("not an operation")),
    }
    natter_proto::ops::apply(target, op, sender, now);
    Ok(())
}
