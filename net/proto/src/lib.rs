//! Natter's wire protocol, defined once.
//!
//! Every REST body and every WebSocket frame that passes between the relay and a
//! client is a type in this crate. It does no I/O: the relay (`natter-server`), the
//! client (`natter-net`), the load generator and the tests all share these
//! definitions, and so can a third-party client written in Rust.
//!
//! - [`model`]: the nouns — users, friends, groups, conversations, messages.
//! - [`event`]: per-account events (friend requests, group changes) with their own
//!   gapless sequence, replayed on catch-up.
//! - [`frame`]: WebSocket frames in both directions.
//! - [`call`]: call signalling carried inside frames.
//! - [`rest`]: request and response bodies of the REST endpoints.
//! - [`error`]: error codes shared by REST responses and error frames.
//! - [`limits`]: the sizes and rates a relay enforces, sent to clients at connect.
//!
//! The human-readable description of all of it, with an example of every frame, is
//! `PROTOCOL.md` next to this crate's `Cargo.toml`.

pub mod call;
pub mod error;
pub mod event;
pub mod frame;
pub mod limits;
pub mod model;
pub mod ops;
pub mod rest;

pub use error::{ErrorBody, ErrorCode};
pub use event::{Event, EventBody};
pub use frame::{ClientFrame, ServerFrame};
pub use model::{ConversationId, Message, MessageBody, UserId};

/// Protocol versions this crate speaks, newest last.
pub const PROTOCOL_VERSIONS: &[u32] = &[1, 2, 3, 4, 5, 6, 7];

/// Path of the WebSocket endpoint on the relay.
pub const WS_PATH: &str = "/v1/ws";

/// Milliseconds since the Unix epoch, the one time unit on the wire.
pub type Millis = i64;

/// The clock now, in [`Millis`] (0 if the clock is before 1970).
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}
