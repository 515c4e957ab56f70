//! The nouns of the protocol: users, friends, groups, conversations and messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Millis;

/// A relay-assigned account id. Account names can change hands in other systems;
/// ids never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub u64);

/// A conversation: a 1:1 chat between two friends or a group. A group's id is its
/// conversation id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(pub u64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for ConversationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What anyone may see of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// Relay-assigned id.
    pub id: UserId,
    /// Unique account name used to sign in and to be found.
    pub account: String,
    /// Display name.
    pub nickname: String,
    /// Avatar: a file id on the relay, or a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// The signed-in account's own profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Public part.
    #[serde(flatten)]
    pub user: UserSummary,
    /// Optional e-mail address; others can find the account by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Optional phone number; others can find the account by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// When the account was registered.
    pub created_ts: Millis,
}

/// A friend and the 1:1 conversation shared with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Friend {
    /// The friend.
    pub user: UserSummary,
    /// The 1:1 conversation between the two accounts.
    pub conversation: ConversationId,
    /// When the friendship began.
    pub since_ts: Millis,
}

/// State of a friend request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for the recipient.
    Pending,
    /// The recipient accepted; the two are friends.
    Accepted,
    /// The recipient declined.
    Rejected,
}

/// A request from one account to become friends with another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequest {
    /// Relay-assigned id.
    pub id: u64,
    /// Who asked.
    pub from: UserSummary,
    /// Who is asked.
    pub to: UserSummary,
    /// A note from the requester ("hi, it's Li from the meetup").
    pub message: String,
    /// Current state.
    pub status: RequestStatus,
    /// When it was sent.
    pub ts: Millis,
}

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Ordinary member.
    Member,
    /// May rename, set the announcement and remove ordinary members.
    Admin,
    /// One per group: everything an admin may, plus roles and disbanding.
    Owner,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member.
    pub user: UserSummary,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_ts: Millis,
}

/// A group with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group's id, which is also its conversation id.
    pub id: ConversationId,
    /// Display name.
    pub name: String,
    /// Pinned text shown to members; empty when unset.
    #[serde(default)]
    pub announcement: String,
    /// The current owner.
    pub owner: UserId,
    /// When it was created.
    pub created_ts: Millis,
    /// Everyone in it, owner included.
    pub members: Vec<Member>,
}

/// The kind of a conversation, seen from one participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConversationKind {
    /// A 1:1 conversation with `peer`.
    Direct {
        /// The other participant.
        peer: UserId,
    },
    /// A group conversation.
    Group {
        /// The group's name.
        name: String,
    },
}

/// A conversation's sync state, as the relay sees it for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Which conversation.
    pub id: ConversationId,
    /// 1:1 or group.
    #[serde(flatten)]
    pub kind: ConversationKind,
    /// Highest seq stored; 0 for an empty conversation.
    pub last_seq: u64,
    /// Highest seq this account has read (on any device).
    pub read_seq: u64,
    /// In a 1:1 conversation, the highest seq the peer has read (read receipts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_read_seq: Option<u64>,
    /// Lowest seq this account may read: messages before it were sent before it joined.
    #[serde(default)]
    pub first_seq: u64,
}

/// A file stored on the relay and referenced from a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// Relay file id (from the upload endpoint).
    pub id: String,
    /// Original file name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type, e.g. `image/png`.
    pub mime: String,
}

/// Audio-only or audio and video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallMedia {
    /// Voice call.
    Audio,
    /// Video call (with audio).
    Video,
}

/// How a call ended, as recorded in the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Nobody answered within the ring timeout.
    Missed,
    /// The callee declined.
    Rejected,
    /// The caller gave up before an answer.
    Cancelled,
    /// The callee was already in a call.
    Busy,
    /// The call was answered and later ended.
    Completed,
}

/// The longest side of an image's `preview`, in pixels.
pub const PREVIEW_SIDE: u32 = 48;
/// The most characters an image's `preview` may have.
pub const PREVIEW_MAX_CHARS: usize = 4096;

/// What a message carries. Besides content (`text`, `image`, ...) a few kinds are
/// operations on an earlier message of the same conversation (`recall`, `edit`,
/// `reaction`); they get a seq like any other message so that every device applies
/// them in the same order, and the relay also applies them to the stored target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageBody {
    /// Plain text (emoji included).
    Text {
        /// The text, at most `limits.max_text_chars` characters.
        text: String,
    },
    /// An image uploaded to the relay.
    Image {
        /// The stored file.
        file: FileRef,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// A small copy made by the sender before uploading (at most
        /// [`PREVIEW_SIDE`] pixels a side), base64 of a PNG or JPEG of at most
        /// [`PREVIEW_MAX_CHARS`] characters, so the picture shows before the
        /// file arrives. Absent from older clients.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview: Option<String>,
    },
    /// Any file uploaded to the relay.
    File {
        /// The stored file.
        file: FileRef,
    },
    /// A voice clip uploaded to the relay.
    Voice {
        /// The stored clip.
        file: FileRef,
        /// Its length.
        duration_ms: u32,
    },
    /// Withdraws message `target`; allowed for its sender within the recall window,
    /// and for group owners and admins at any time.
    Recall {
        /// Seq of the message withdrawn.
        target: u64,
    },
    /// Replaces the text of the sender's own text message `target`.
    Edit {
        /// Seq of the message edited.
        target: u64,
        /// The new text.
        text: String,
    },
    /// Adds or removes the sender's reaction to `target`.
    Reaction {
        /// Seq of the message reacted to.
        target: u64,
        /// One emoji.
        emoji: String,
        /// `true` adds, `false` removes.
        add: bool,
    },
    /// What a recalled message's body becomes in stored history.
    Recalled,
    /// A record of a call, written by the relay when the call ends.
    Call {
        /// The call.
        call_id: String,
        /// Audio or video.
        media: CallMedia,
        /// How it ended.
        outcome: CallOutcome,
        /// Talk time, for completed calls.
        #[serde(default)]
        duration_ms: u64,
        /// Who took part, for a group call (version 4); empty for a 1:1 call.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        participants: Vec<UserId>,
    },
}

impl MessageBody {
    /// The seq of the message this one operates on, for recall/edit/reaction.
    pub fn target(&self) -> Option<u64> {
        match self {
            MessageBody::Recall { target }
            | MessageBody::Edit { target, .. }
            | MessageBody::Reaction { target, .. } => Some(*target),
            _ => None,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The conversation it belongs to.
    pub conversation: ConversationId,
    /// Position in the conversation: 1, 2, 3, ... with no gaps.
    pub seq: u64,
    /// Who sent it.
    pub sender: UserId,
    /// The sender's idempotency key.
    pub client_id: String,
    /// When the relay stored it.
    pub ts: Millis,
    /// The content.
    pub body: MessageBody,
    /// Seq of the message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
    /// When the text was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_ts: Option<Millis>,
    /// Reactions: emoji → who reacted, in order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, Vec<UserId>>,
    /// Mentions and where it was forwarded from, as sent.
    #[serde(flatten)]
    pub extras: Extras,
}

/// Where a forwarded message was first written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarded {
    /// Who wrote the original.
    pub from: UserId,
    /// Their display name when it was forwarded.
    pub name: String,
}

/// What a message says besides its body (protocol version 2): whom it
/// mentions, and whether it is a forwarded copy. Sent in `send` and kept in the
/// stored message; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extras {
    /// Members mentioned (`@name` in the text); groups only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// `@all`: every member is mentioned; the owner and admins only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mention_all: bool,
    /// Set on a forwarded copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<Forwarded>,
}

impl Extras {
    /// Whether `user` is mentioned.
    pub fn mentions(&self, user: UserId) -> bool {
        self.mention_all || self.mentions.contains(&user)
    }
}
