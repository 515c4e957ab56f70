//! Errors a UI can show to a person.

use natter_proto::ErrorCode;

/// What went wrong talking to the relay. `Clone` so it can travel in UI messages.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// No connection could be made (relay down, wrong address, no network).
    #[error("cannot reach the relay at {0}")]
    Unreachable(String),
    /// The relay refused the request.
    #[error("{message}")]
    Api {
        /// HTTP status (0 for WebSocket errors).
        status: u16,
        /// Machine-readable code; UIs translate this.
        code: ErrorCode,
        /// The relay's explanation, for logs.
        message: String,
        /// With `rate_limited`: how long the relay asks to wait before trying
        /// again, in milliseconds (protocol 3's `retry_after_ms`, or a REST
        /// `Retry-After` header).
        retry_after_ms: Option<u64>,
    },
    /// The relay's TLS certificate was refused, so nothing was sent to it.
    #[error("the relay at {server} has a certificate this device does not trust: {reason}")]
    Untrusted {
        /// The relay's address.
        server: String,
        /// Why the certificate was refused.
        reason: String,
    },
    /// The relay answered something this client does not understand.
    #[error("unexpected reply from the relay: {0}")]
    Protocol(String),
    /// The local database failed.
    #[error(transparent)]
    Store(#[from] natter_store::Error),
    /// The session ended for good (logged out, or the session was revoked).
    #[error("signed out")]
    SignedOut,
}

impl Error {
    /// The relay's error code, when the relay refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// How long the relay asked to wait before trying again, when it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Api {
                retry_after_ms: Some(ms),
                ..
            } => Some(std::time::Duration::from_millis(*ms)),
            _ => None,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unreachable(_) => true,
            Error::Api { code, .. } => matches!(
                code,
                ErrorCode::RateLimited
                    | ErrorCode::Internal
                    | ErrorCode::ShuttingDown
                    | ErrorCode::Unavailable
            ),
            _ => false,
        }
    }
}

/// Client result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
