//! What the local database keeps, beyond the wire types it stores as they came.

use natter_proto::Millis;
use natter_proto::model::{ConversationId, ConversationKind, MessageBody, Profile, UserId};
use serde::{Deserialize, Serialize};

/// The signed-in account on this profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Relay base URL, e.g. `http://127.0.0.1:7878`.
    pub server: String,
    /// The account's profile.
    pub profile: Profile,
    /// This installation's device id.
    pub device_id: String,
    /// Current access token.
    pub access_token: String,
    /// Its expiry.
    pub access_expires_ts: Millis,
    /// Current refresh token.
    pub refresh_token: String,
    /// Its expiry.
    pub refresh_expires_ts: Millis,
}

impl Account {
    /// The account id.
    pub fn id(&self) -> UserId {
        self.profile.user.id
    }
}

/// A short view of a message for the conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    /// Its seq.
    pub seq: u64,
    /// Who sent it.
    pub sender: UserId,
    /// When.
    pub ts: Millis,
    /// What kind of message it is; the UI words non-text kinds in the
    /// reader's language.
    #[serde(default)]
    pub kind: PreviewKind,
    /// Its first line for a text, the file name for a file, an English label
    /// for the other kinds.
    pub text: String,
}

/// The kind of message a preview stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewKind {
    /// Text.
    #[default]
    Text,
    /// A picture.
    Image,
    /// A file.
    File,
    /// A voice message.
    Voice,
    /// A recalled message.
    Recalled,
    /// A call record.
    Call,
}

/// A conversation as the conversation list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Id.
    pub id: ConversationId,
    /// 1:1 (with whom) or group.
    pub kind: ConversationKind,
    /// Peer nickname or group name.
    pub title: String,
    /// Highest seq known to exist on the relay.
    pub last_seq: u64,
    /// Highest seq held locally with nothing missing below it.
    pub held_seq: u64,
    /// Lowest seq this account may read.
    pub first_seq: u64,
    /// Highest seq read by this account.
    pub read_seq: u64,
    /// Highest seq read by the peer (1:1 only).
    pub peer_read_seq: Option<u64>,
    /// The newest content message.
    pub last_message: Option<Preview>,
    /// Messages from others above `read_seq`.
    pub unread: u32,
    /// Shown first in the list.
    pub pinned: bool,
    /// No notifications.
    pub muted: bool,
    /// Unsent text in the composer.
    pub draft: String,
    /// No longer open for sending (unfriended, left, removed, disbanded).
    pub closed: bool,
    /// Last activity, for ordering.
    pub updated_ts: Millis,
}

impl Conversation {
    /// A new, empty conversation.
    pub fn new(
        id: ConversationId,
        kind: ConversationKind,
        title: String,
        ts: Millis,
    ) -> Conversation {
        Conversation {
            id,
            kind,
            title,
            last_seq: 0,
            held_seq: 0,
            first_seq: 1,
            read_seq: 0,
            peer_read_seq: None,
            last_message: None,
            unread: 0,
            pinned: false,
            muted: false,
            draft: String::new(),
            closed: false,
            updated_ts: ts,
        }
    }
}

/// Delivery state of a message not yet acknowledged by the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent or for its ack.
    Sending,
    /// The relay refused it; it can be resent.
    Failed {
        /// Why, from the relay's error.
        reason: String,
    },
}

/// A message composed on this device and not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Where to.
    pub conversation: ConversationId,
    /// Idempotency key, kept across retries.
    pub client_id: String,
    /// What.
    pub body: MessageBody,
    /// Reply target.
    pub reply_to: Option<u64>,
    /// Mentions and forwarding.
    #[serde(default)]
    pub extras: natter_proto::model::Extras,
    /// When composed.
    pub created_ts: Millis,
    /// Position in the outbox: entries are sent in this order.
    #[serde(default)]
    pub order: u64,
    /// Sending or failed.
    pub state: OutboxState,
    /// How many times it was sent.
    pub attempts: u32,
}

/// The kind and one line of text of a message body, for previews; `None`
/// for bodies that change another message.
pub fn preview_of(body: &MessageBody) -> Option<(PreviewKind, String)> {
    Some(match body {
        MessageBody::Text { text } => (
            PreviewKind::Text,
            text.lines().next().unwrap_or("").chars().take(80).collect(),
        ),
        MessageBody::Image { .. } => (PreviewKind::Image, "[image]".into()),
        MessageBody::File { file } => (PreviewKind::File, file.name.clone()),
        MessageBody::Voice { .. } => (PreviewKind::Voice, "[voice]".into()),
        MessageBody::Recalled => (PreviewKind::Recalled, "[recalled]".into()),
        MessageBody::Call { .. } => (PreviewKind::Call, "[call]".into()),
        MessageBody::Recall { .. } | MessageBody::Edit { .. } | MessageBody::Reaction { .. } => {
            return None;
        }
    })
}
