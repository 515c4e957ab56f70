//! Error codes, shared by REST error bodies and WebSocket error frames.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. Clients switch on the code and show
/// their own words; `message` in [`ErrorBody`] is for logs and developers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request or frame is well-formed JSON but its fields are wrong.
    BadRequest,
    /// The frame is not JSON, or not an object with a `type`.
    MalformedFrame,
    /// The frame's `type` is not one this relay knows.
    UnknownFrame,
    /// The frame or body is larger than the limit.
    TooLarge,
    /// Too many frames or requests; slow down.
    RateLimited,
    /// No valid credentials were presented.
    Unauthorized,
    /// The access token has expired; refresh it.
    TokenExpired,
    /// Account name or password is wrong.
    BadCredentials,
    /// The action is not allowed for this account.
    Forbidden,
    /// The thing named does not exist (or is not visible to this account).
    NotFound,
    /// The account name, e-mail or phone is already registered.
    AccountTaken,
    /// A 1:1 message or call needs the two accounts to be friends.
    NotFriends,
    /// The account is not a member of the group.
    NotMember,
    /// They are already friends.
    AlreadyFriends,
    /// The thing is not in a state that allows this (e.g. request already answered).
    InvalidState,
    /// The recall window has passed.
    RecallExpired,
    /// The edit window has passed (protocol version 2).
    EditExpired,
    /// A mention names someone who is not a member, or `mention_all` was used by
    /// someone who is not the group's owner or an admin (protocol version 2).
    BadMention,
    /// No protocol version in common.
    UnsupportedVersion,
    /// The first frame on a connection must be `hello`.
    HelloRequired,
    /// The other party is already in a call.
    Busy,
    /// This relay does not offer the feature (yet).
    Unsupported,
    /// The relay failed; the request may be retried.
    Internal,
    /// The relay is shutting down; reconnect later.
    ShuttingDown,
    /// The relay cannot reach its database for now; nothing was stored. Retry
    /// later (the connection stays open). Added in protocol 1 with the
    /// PostgreSQL backend.
    Unavailable,
    /// The account's stored files would exceed `limits.account_file_bytes`;
    /// nothing was stored. Added in protocol 3.
    QuotaExceeded,
}

/// Body of every REST error response, and the payload of the `error` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub code: ErrorCode,
    /// Details for developers; never shown to end users as is.
    pub message: String,
    /// With `rate_limited`: milliseconds to wait before trying again (REST
    /// responses also carry it as `Retry-After`, in whole seconds). Added in
    /// protocol 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorBody {
    /// A body with no retry hint.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }
}
