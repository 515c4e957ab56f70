//! The service's error type and its mapping to HTTP responses and error frames.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use natter_proto::{ErrorBody, ErrorCode};

/// What can go wrong serving a request. Every variant but `Internal` is the
/// client's doing and is reported to it as is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client is wrong; the code and message go back to it.
    #[error("{code:?}: {message}")]
    Client {
        /// Machine-readable code.
        code: ErrorCode,
        /// Details for developers.
        message: String,
    },
    /// Another writer changed the same thing first; the service retries.
    #[error("concurrent change")]
    Conflict,
    /// The relay failed. Logged, reported as `internal` without details.
    #[error("internal error: {0}")]
    Internal(String),
    /// Too many attempts; the client may try again after `retry_after_ms`.
    #[error("rate limited: {message}")]
    Throttled {
        /// Details for developers.
        message: String,
        /// How long to wait, milliseconds.
        retry_after_ms: u64,
    },
    /// The database cannot be reached (PostgreSQL down, connections
    /// exhausted). Nothing was stored; reported as `unavailable`.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// Service result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A client error.
    pub fn client(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::Client {
            code,
            message: message.into(),
        }
    }

    /// `bad_request` with a message.
    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::client(ErrorCode::BadRequest, message)
    }

    /// `not_found` with a message.
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::client(ErrorCode::NotFound, message)
    }

    /// `forbidden` with a message.
    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::client(ErrorCode::Forbidden, message)
    }

    /// The error as it is shown to the client. Internal details stay in the log.
    pub fn body(&self) -> ErrorBody {
        match self {
            Error::Client { code, message } => ErrorBody::new(*code, message.clone()),
            Error::Throttled {
                message,
                retry_after_ms,
            } => ErrorBody {
                retry_after_ms: Some(*retry_after_ms),
                ..ErrorBody::new(ErrorCode::RateLimited, message.clone())
            },
            Error::Conflict | Error::Internal(_) => {
                ErrorBody::new(ErrorCode::Internal, "internal error")
            }
            Error::Unavailable(_) => ErrorBody::new(
                ErrorCode::Unavailable,
                "the relay's database is unavailable; nothing was stored, try again",
            ),
        }
    }

    /// A copy, for answering several waiters with one failure.
    pub fn duplicate(&self) -> Error {
        match self {
            Error::Client { code, message } => Error::client(*code, message.clone()),
            Error::Throttled {
                message,
                retry_after_ms,
            } => Error::Throttled {
                message: message.clone(),
                retry_after_ms: *retry_after_ms,
            },
            Error::Conflict => Error::Conflict,
            Error::Internal(d) => Error::Internal(d.clone()),
            Error::Unavailable(d) => Error::Unavailable(d.clone()),
        }
    }

    /// The code alone.
    pub fn code(&self) -> ErrorCode {
        self.body().code
    }
}

/// HTTP status for a code.
pub fn status(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        BadRequest | MalformedFrame | UnknownFrame | UnsupportedVersion | HelloRequired => {
            StatusCode::BAD_REQUEST
        }
        TooLarge | QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Unauthorized | TokenExpired | BadCredentials => StatusCode::UNAUTHORIZED,
        Forbidden | NotFriends | NotMember | RecallExpired | EditExpired | BadMention => {
            StatusCode::FORBIDDEN
        }
        NotFound => StatusCode::NOT_FOUND,
        AccountTaken | AlreadyFriends | InvalidState | Busy => StatusCode::CONFLICT,
        Unsupported => StatusCode::NOT_IMPLEMENTED,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ShuttingDown | Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::Internal(detail) => tracing::error!(%detail, "request failed"),
            Error::Unavailable(detail) => tracing::warn!(%detail, "request refused"),
            _ => {}
        }
        let body = self.body();
        let code = body.code;
        let retry_after = body.retry_after_ms.map(|ms| ms.div_ceil(1000).max(1));
        let mut response = (status(code), Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        // For the metrics layer, which counts errors by code.
        response.extensions_mut().insert(code);
        response
    }
}

impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Error {
        Error::Internal(format!("storage: {e}"))
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::Internal(format!("storage: {e}"))
            }
        }
    )*};
}
from_redb!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Internal(format!("encoding: {e}"))
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        use sqlx::Error as E;
        let unavailable = match &e {
            E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
            // Class 08: connection exception; 57P01–57P03: the server is
            // shutting down or starting up; 53300: too many connections;
            // 57014: the statement timeout ran out (the database is stuck).
            E::Database(db) => db.code().is_some_and(|c| {
                c.starts_with("08") || c.starts_with("57P") || c == "53300" || c == "57014"
            }),
            _ => false,
        };
        if unavailable {
            Error::Unavailable(format!("database: {e}"))
        } else {
            Error::Internal(format!("database: {e}"))
        }
    }
}
