//! Request and response bodies of the REST endpoints (JSON). Paths are in
//! `PROTOCOL.md`; every endpoint except register, login, refresh and health takes
//! `Authorization: Bearer <access token>`.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::model::{
    ConversationId, ConversationState, Friend, FriendRequest, Group, Message, Profile, Role,
    UserId, UserSummary,
};

/// `POST /v1/auth/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Unique account name: 3–32 of `a-z 0-9 _ . -`, case-insensitive.
    pub account: String,
    /// At least 8 characters.
    pub password: String,
    /// Display name; the account name when empty.
    #[serde(default)]
    pub nickname: String,
    /// Optional e-mail, unique when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Optional phone number, unique when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Optional avatar (file id or URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Account name (or registered e-mail or phone).
    pub account: String,
    /// Password.
    pub password: String,
    /// Stable id of this installation; the relay makes one up when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Human name of the device ("Li's laptop").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRequest {
    /// The refresh token; it is used up, a new one comes back.
    pub refresh_token: String,
}

/// Reply to login and refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Bearer token for REST and the WebSocket `hello`.
    pub access_token: String,
    /// When the access token stops working.
    pub access_expires_ts: Millis,
    /// Single-use token to get a new pair.
    pub refresh_token: String,
    /// When the refresh token stops working.
    pub refresh_expires_ts: Millis,
    /// This device's id.
    pub device_id: String,
    /// The account.
    pub profile: Profile,
}

/// `PATCH /v1/me`: fields present are changed; `""` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateProfile {
    /// New nickname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// New avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// New e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `GET /v1/users/search?q=...`: exact match on account, e-mail or phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// At most one account per field matched.
    pub users: Vec<UserSummary>,
}

/// `POST /v1/friends/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFriendRequest {
    /// Whom to ask.
    pub to: UserId,
    /// A note for them.
    #[serde(default)]
    pub message: String,
}

/// `GET /v1/friends/requests`: pending requests both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequests {
    /// Sent to this account.
    pub incoming: Vec<FriendRequest>,
    /// Sent by this account.
    pub outgoing: Vec<FriendRequest>,
}

/// `GET /v1/friends`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Friends {
    /// Everyone this account is friends with.
    pub friends: Vec<Friend>,
}

/// `POST /v1/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroup {
    /// Group name.
    pub name: String,
    /// Friends to add besides the creator.
    #[serde(default)]
    pub members: Vec<UserId>,
}

/// `PATCH /v1/groups/{id}`: fields present are changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateGroup {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New announcement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<String>,
}

/// `POST /v1/groups/{id}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteMembers {
    /// Friends of the inviter to add.
    pub users: Vec<UserId>,
}

/// `PUT /v1/groups/{id}/members/{user}/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRole {
    /// `admin` or `member`; ownership passes with `owner`.
    pub role: Role,
}

/// `GET /v1/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Groups {
    /// Groups this account is in.
    pub groups: Vec<Group>,
}

/// `GET /v1/conversations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversations {
    /// Every conversation this account is in.
    pub conversations: Vec<ConversationState>,
}

/// One member's read cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadCursor {
    /// The member.
    pub user: UserId,
    /// The highest seq they have read.
    pub seq: u64,
}

/// `GET /v1/conversations/{id}/reads` (version 2): every member's read cursor,
/// for "read by" in groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reads {
    /// The conversation.
    pub conversation: ConversationId,
    /// One per member, in member order; 0 for nothing read yet.
    pub reads: Vec<ReadCursor>,
}

/// `GET /v1/conversations/{id}/messages?after=&before=&limit=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    /// The conversation.
    pub conversation: ConversationId,
    /// Oldest first.
    pub messages: Vec<Message>,
    /// Whether more messages exist in the requested direction.
    pub more: bool,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Relay version.
    pub version: String,
    /// Open WebSocket sessions.
    pub sessions: u64,
    /// What keeps the relay from serving, when `status` is `unavailable`
    /// (e.g. its database cannot be reached); empty when all is well.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One STUN or TURN server, as in the browser's `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:host:port` or `turn:host:port?transport=udp`.
    pub urls: Vec<String>,
    /// TURN user name (short-lived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password for `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// `GET /v1/calls/ice-servers`: where to find STUN and TURN for calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServers {
    /// The servers; empty when the relay runs none.
    pub ice_servers: Vec<IceServer>,
    /// When the TURN credentials stop working (ms since the epoch); fetch new
    /// ones before each call.
    pub expires_at: Millis,
}

/// `POST /v1/uploads`, `GET` and `PATCH /v1/uploads/{id}`: a resumable upload
/// and how much of it the relay holds (protocol 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    /// The upload's id (32 lowercase hex digits; not the file's id).
    pub upload: String,
    /// Bytes the relay holds; the next `PATCH` starts here.
    pub offset: u64,
    /// The file's size, as announced.
    pub size: u64,
    /// The stored file, once all of it arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<crate::model::FileRef>,
}
