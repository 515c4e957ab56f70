//! WebSocket frames. Each frame is one JSON object in one text message, tagged by
//! its `type` field.
//!
//! The first client frame must be [`ClientFrame::Hello`]; the relay answers with
//! [`ServerFrame::Welcome`] or an error and a close.

use serde::{Deserialize, Serialize};

use crate::call::{CallNotice, CallRequest};
use crate::error::ErrorCode;
use crate::event::Event;
use crate::limits::Limits;
use crate::model::{
    ConversationId, ConversationState, Extras, Message, MessageBody, UserId, UserSummary,
};
use crate::{ErrorBody, Millis};

/// A client's cursor in one conversation: the highest seq it holds without gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The conversation.
    pub conversation: ConversationId,
    /// Highest contiguous seq held; 0 when none.
    pub after: u64,
}

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Opens the session: protocol versions the client speaks and its access token.
    Hello {
        /// Versions the client speaks; the relay picks the highest it shares.
        protocols: Vec<u32>,
        /// Access token from login or refresh.
        token: String,
    },
    /// Application-level keepalive for clients that cannot see WebSocket pings.
    Ping {
        /// Echoed in the pong.
        #[serde(default)]
        nonce: u64,
    },
    /// Sends a message. The relay acks with the same `client_id`; sending the same
    /// `client_id` again returns the same ack and stores nothing new.
    Send {
        /// Client-chosen idempotency key, unique per sender and conversation.
        client_id: String,
        /// Where to.
        conversation: ConversationId,
        /// What.
        body: MessageBody,
        /// Seq of the message replied to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<u64>,
        /// Mentions, and where a forwarded copy comes from (version 2).
        #[serde(flatten)]
        extras: Extras,
    },
    /// Catch-up: the relay sends the account's events after `events_after` and, for
    /// every conversation the account is in, the messages after the client's cursor
    /// (0 for conversations not listed), then `synced`.
    Sync {
        /// Request id echoed on every reply frame.
        rid: u64,
        /// Highest event seq applied.
        events_after: u64,
        /// Per-conversation cursors.
        #[serde(default)]
        cursors: Vec<Cursor>,
    },
    /// A page of history: messages with `after < seq < before`, oldest first, at most
    /// `limit` (capped by `limits.page_size`). With only `before`, the newest page
    /// below it; with neither, the newest page.
    History {
        /// Request id echoed in the reply.
        rid: u64,
        /// The conversation.
        conversation: ConversationId,
        /// Exclusive lower bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
        /// Exclusive upper bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        /// Page size.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Marks everything up to `seq` read.
    Read {
        /// The conversation.
        conversation: ConversationId,
        /// Highest seq read.
        seq: u64,
        /// Optional request id, echoed in an `error` refusing this frame
        /// (protocol 3).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rid: Option<u64>,
    },
    /// The user is typing (send at most every few seconds).
    Typing {
        /// The conversation.
        conversation: ConversationId,
        /// Optional request id, echoed in an `error` refusing this frame
        /// (protocol 3).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rid: Option<u64>,
    },
    /// Call signalling.
    Call {
        /// The action.
        #[serde(flatten)]
        call: CallRequest,
        /// Optional request id, echoed in an `error` refusing this frame
        /// (protocol 3).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rid: Option<u64>,
    },
}

impl ClientFrame {
    /// Every `type` a client frame may have.
    pub const TYPES: &'static [&'static str] = &[
        "hello", "ping", "send", "sync", "history", "read", "typing", "call",
    ];
}

/// Frames the relay sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The session is open.
    Welcome {
        /// The agreed protocol version.
        protocol: u32,
        /// The signed-in account.
        user: UserSummary,
        /// This connection's device.
        device: String,
        /// The relay's clock, for display offsets.
        server_ts: Millis,
        /// The relay pings this often; a connection silent for three intervals is
        /// dropped.
        heartbeat_ms: u64,
        /// Limits in force.
        limits: Limits,
    },
    /// Reply to `ping`.
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// A sent message is stored.
    Ack {
        /// The sender's idempotency key.
        client_id: String,
        /// The conversation.
        conversation: ConversationId,
        /// Its seq.
        seq: u64,
        /// Its timestamp.
        ts: Millis,
    },
    /// A new message, live.
    Message {
        /// The message.
        message: Message,
    },
    /// A new account event, live.
    Event {
        /// The event.
        event: Event,
    },
    /// A page of account events (catch-up).
    Events {
        /// The request.
        rid: u64,
        /// Oldest first.
        events: Vec<Event>,
    },
    /// A page of messages (catch-up or history).
    Messages {
        /// The request.
        rid: u64,
        /// The conversation.
        conversation: ConversationId,
        /// Oldest first.
        messages: Vec<Message>,
        /// In reply to `sync`: whether more pages of this conversation follow. In
        /// reply to `history`: whether more messages lie beyond this page in the
        /// direction read (the client asks again to get them).
        more: bool,
    },
    /// Catch-up is complete: the state of every conversation the account is in.
    Synced {
        /// The request.
        rid: u64,
        /// Highest event seq of the account.
        events_seq: u64,
        /// All conversations the account is in.
        conversations: Vec<ConversationState>,
    },
    /// Someone (possibly another device of this account) read up to `seq`.
    ReadReceipt {
        /// The conversation.
        conversation: ConversationId,
        /// Who read.
        user: UserId,
        /// Up to which seq.
        seq: u64,
    },
    /// Someone is typing.
    Typing {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        user: UserId,
    },
    /// A friend came online or went offline (all devices).
    Presence {
        /// The friend.
        user: UserId,
        /// Whether any of their devices is connected.
        online: bool,
    },
    /// Call signalling.
    Call {
        /// The notice.
        #[serde(flatten)]
        call: CallNotice,
    },
    /// Something the client sent was refused. The connection stays open unless the
    /// code is `unauthorized`, `token_expired`, `unsupported_version`,
    /// `hello_required` or `shutting_down`, or the error answers `hello` (then
    /// even `internal` closes it).
    Error {
        /// What went wrong.
        #[serde(flatten)]
        error: ErrorBody,
        /// The `rid` of the request refused, if it had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rid: Option<u64>,
        /// The `client_id` of the `send` refused, if it was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
}

impl ServerFrame {
    /// An error frame not tied to a request.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> ServerFrame {
        ServerFrame::Error {
            error: ErrorBody::new(code, message),
            rid: None,
            client_id: None,
        }
    }
}

/// Why a client frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// `malformed_frame`, `unknown_frame` or `bad_request`.
    pub code: ErrorCode,
    /// Details.
    pub message: String,
}

/// Parses one client frame, telling apart text that is not a frame at all, a frame
/// of a type nobody knows, and a known frame with wrong fields.
pub fn decode_client(text: &str) -> Result<ClientFrame, DecodeError> {
    // Only an object is a frame. Without this check serde would read an array as
    // a frame whose first element is the tag (`["ping", 5]`), and the `Tag` probe
    // below would take an array's first element for its `type`.
    if !text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
    {
        return Err(DecodeError {
            code: ErrorCode::MalformedFrame,
            message: "not a JSON object".to_string(),
        });
    }
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => Ok(frame),
        Err(err) => {
            #[derive(Deserialize)]
            struct Tag {
                #[serde(rename = "type")]
                ty: Option<serde_json::Value>,
            }
            let (code, message) = match serde_json::from_str::<Tag>(text) {
                Err(_) => (ErrorCode::MalformedFrame, "not a JSON object".to_string()),
                Ok(Tag { ty: None }) => (ErrorCode::MalformedFrame, "missing `type`".to_string()),
                Ok(Tag {
                    ty: Some(serde_json::Value::String(ty)),
                }) if !ClientFrame::TYPES.contains(&ty.as_str()) => (
                    ErrorCode::UnknownFrame,
                    format!("unknown frame type `{}`", truncate(&ty, 40)),
                ),
                Ok(Tag {
                    ty: Some(serde_json::Value::String(_)),
                }) => (ErrorCode::BadRequest, err.to_string()),
                Ok(Tag { ty: Some(_) }) => (
                    ErrorCode::MalformedFrame,
                    "`type` must be a string".to_string(),
                ),
            };
            Err(DecodeError { code, message })
        }
    }
}

/// The ids a client frame carries (`rid`, and `client_id` of a `send`), read
/// from its text alone: a frame refused before it is decoded (over the size
/// limit, over the rate limit, with wrong fields) is still answered with them.
/// `(None, None)` when the text is not a JSON object or has neither.
pub fn peek_ids(text: &str) -> (Option<u64>, Option<String>) {
    #[derive(Deserialize)]
    struct Ids {
        #[serde(default)]
        rid: Option<serde_json::Value>,
        #[serde(default)]
        client_id: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Ids>(text) {
        Ok(ids) => (
            ids.rid.and_then(|v| v.as_u64()),
            ids.client_id
                .and_then(|v| v.as_str().map(str::to_string))
                .filter(|c| !c.is_empty() && c.len() <= crate::limits::MAX_ID_LEN),
        ),
        Err(_) => (None, None),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
