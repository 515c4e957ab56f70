//! Sizes and rates a relay enforces. A relay tells each client its actual values in
//! the `welcome` frame; the defaults below are what `natter-server` uses unless
//! configured otherwise.

use serde::{Deserialize, Serialize};

/// Limits in force on one connection. A field left out (of the relay's
/// configuration, say) takes its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest WebSocket frame a client may send, in bytes.
    pub max_frame_bytes: u32,
    /// Longest text (message text, edit) in characters.
    pub max_text_chars: u32,
    /// Sustained frames per second a connection may send.
    pub frames_per_sec: u32,
    /// Size of the token bucket: the most frames a connection may send at once
    /// (it starts full and refills at `frames_per_sec`).
    pub frames_burst: u32,
    /// Most messages or events in one page.
    pub page_size: u32,
    /// Most members in one group.
    pub max_group_members: u32,
    /// Seconds after sending during which the sender may recall a message.
    pub recall_window_secs: u32,
    /// Seconds after sending during which the sender may edit a text message
    /// (protocol version 2; a relay that does not send it allows 48 hours).
    #[serde(default = "default_edit_window_secs")]
    pub edit_window_secs: u32,
    /// Largest uploaded file, in bytes.
    pub max_file_bytes: u64,
    /// Most bytes of files one account may have stored on the relay, 0 for no
    /// limit (protocol 3; a relay that does not send it may have any limit).
    pub account_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 128 * 1024,
            max_text_chars: 8_000,
            frames_per_sec: 50,
            frames_burst: 200,
            page_size: 200,
            max_group_members: 500,
            recall_window_secs: 120,
            edit_window_secs: default_edit_window_secs(),
            max_file_bytes: 50 * 1024 * 1024,
            account_file_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// 48 hours, what Telegram allows.
fn default_edit_window_secs() -> u32 {
    48 * 3600
}

/// Longest account name, in bytes.
pub const MAX_ACCOUNT_LEN: usize = 32;
/// Longest nickname or group name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest friend-request note or group announcement, in characters.
pub const MAX_NOTE_CHARS: usize = 1_000;
/// Longest client message id or device id, in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Shortest password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password, in bytes (argon2 input is bounded on purpose).
pub const MAX_PASSWORD_LEN: usize = 256;
