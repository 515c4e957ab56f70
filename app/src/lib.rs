//! Natter's desktop app (iced). The binary is `natter`; this library holds the
//! screens so tests can drive them with `iced_test`.
//!
//! - [`app`]: the application — boot, the top-level message, update, view.
//! - [`about`]: versions (Settings → About, `--version`) and where data lives
//!   (the `portable` marker, per-OS directories).
//! - [`screen`]: the login/register screen and the main window (conversation
//!   list, chat pane, friends, groups, settings, 1:1 calls).
//! - [`embedded`]: starts the bundled relay in-process when none answers on
//!   this machine.
//! - [`clock`]: message times in the local time zone.
//! - [`dialog`]: the system's file dialog, and telling when there is none.
//! - [`opener`]: opening a downloaded file, and showing it in its folder.
//! - [`sound`]: the new-message sound and the ringtone.
//! - [`fonts`]: finds a CJK-capable font so Chinese renders everywhere.
//! - [`style`]: colours and bubbles.
//! - [`icon`]: the bundled icon font and named icon buttons.
//! - [`widget`]: small shared widgets (avatars, labelled elements).

pub mod about;
pub mod app;

/// When the process started, for the start-up time logged once the
/// conversation list is on screen.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
pub mod clock;
pub mod dialog;
pub mod embedded;
pub mod emoji;
pub mod fonts;
pub mod icon;
pub mod opener;
pub mod screen;
pub mod sound;
pub mod style;
pub mod widget;

/// What a refusal by the relay means, in the reader's language.
pub fn code_text(i18n: &natter_i18n::I18n, code: natter_proto::ErrorCode) -> String {
    use natter_proto::ErrorCode::*;
    match code {
        BadCredentials => i18n.tr("error-bad-credentials"),
        AccountTaken => i18n.tr("error-account-taken"),
        BadRequest | MalformedFrame | UnknownFrame => i18n.tr_args(
            "error-bad-request",
            &[("detail", natter_i18n::Arg::from(""))],
        ),
        TooLarge => i18n.tr("error-too-large"),
        QuotaExceeded => i18n.tr("error-quota-exceeded"),
        RateLimited => i18n.tr("error-rate-limited"),
        Unauthorized | TokenExpired | HelloRequired => i18n.tr("error-unauthorized"),
        Forbidden => i18n.tr("error-forbidden"),
        NotFound => i18n.tr("error-not-found"),
        NotFriends => i18n.tr("error-not-friends"),
        NotMember => i18n.tr("error-not-member"),
        AlreadyFriends => i18n.tr("error-already-friends"),
        InvalidState => i18n.tr("error-invalid-state"),
        RecallExpired => i18n.tr("error-recall-expired"),
        EditExpired => i18n.tr("error-edit-expired"),
        BadMention => i18n.tr("error-bad-mention"),
        Busy => i18n.tr("error-busy"),
        UnsupportedVersion | Unsupported | Internal | ShuttingDown | Unavailable => {
            i18n.tr("error-server")
        }
    }
}

/// A device or media problem in the reader's language. The media layer says
/// what went wrong in English ("audio device error: speaker has no usable
/// format"); its kind (the part before the colon) picks the sentence shown,
/// and the details stay in the log. Text of any other shape is shown as it
/// is.
pub fn device_text(i18n: &natter_i18n::I18n, raw: &str) -> String {
    let kind = raw.split(':').next().unwrap_or_default().trim();
    let key = match kind {
        "no audio device" => "device-no-audio",
        "audio device error" => "device-audio",
        "no camera" => "device-no-camera",
        "camera error" => "device-camera",
        "codec error" => "device-codec",
        "WebRTC error"
        | "system error"
        | "invalid configuration"
        | "bad signalling"
        | "the call is closed" => "device-other",
        // Not the media layer's words: nothing to translate it by.
        _ => return raw.to_string(),
    };
    tracing::info!(problem = raw, "device problem shown as {key}");
    i18n.tr(key)
}

/// The relay's error code kept with a refused outbox entry (its Rust name,
/// as the session records it), read back.
pub fn stored_code(reason: &str) -> Option<natter_proto::ErrorCode> {
    let mut snake = String::new();
    for (i, c) in reason.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    serde_json::from_value(serde_json::Value::String(snake)).ok()
}

/// Text for a client error, in the current language.
pub fn error_text(i18n: &natter_i18n::I18n, server: &str, err: &natter_net::Error) -> String {
    use natter_i18n::Arg;
    use natter_proto::ErrorCode::*;
    match err {
        natter_net::Error::Unreachable(_) => {
            i18n.tr_args("error-unreachable", &[("server", Arg::from(server))])
        }
        natter_net::Error::Api { code, message, .. } => match code {
            BadRequest | MalformedFrame | UnknownFrame => i18n.tr_args(
                "error-bad-request",
                &[("detail", Arg::from(message.as_str()))],
            ),
            RateLimited if err.retry_after().is_some() => {
                wait_text(i18n, err.retry_after().unwrap_or_default())
            }
            other => code_text(i18n, *other),
        },
        natter_net::Error::Store(e) => {
            i18n.tr_args("error-local", &[("detail", Arg::from(e.to_string()))])
        }
        natter_net::Error::Untrusted { reason, .. } => i18n.tr_args(
            "error-untrusted",
            &[
                ("server", Arg::from(server)),
                ("detail", Arg::from(reason.as_str())),
            ],
        ),
        natter_net::Error::SignedOut => i18n.tr("error-unauthorized"),
        natter_net::Error::Protocol(m) => {
            i18n.tr_args("error-generic", &[("detail", Arg::from(m.as_str()))])
        }
    }
}

/// "Try again in N s" (or N min from two minutes on), rounded up, for a
/// refusal that says how long to wait.
fn wait_text(i18n: &natter_i18n::I18n, wait: std::time::Duration) -> String {
    use natter_i18n::Arg;
    let seconds = wait.as_millis().div_ceil(1000).max(1);
    if seconds < 120 {
        i18n.tr_args(
            "error-rate-limited-seconds",
            &[("seconds", Arg::from(seconds.to_string()))],
        )
    } else {
        i18n.tr_args(
            "error-rate-limited-minutes",
            &[("minutes", Arg::from(seconds.div_ceil(60).to_string()))],
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use natter_i18n::{I18n, Language};

    #[test]
    fn a_throttled_sign_in_says_how_long_to_wait() {
        let limited = |ms| natter_net::Error::Api {
            status: 429,
            code: natter_proto::ErrorCode::RateLimited,
            message: "too many failed sign-ins".into(),
            retry_after_ms: ms,
        };
        let en = I18n::new(Language::EnUs).unwrap();
        let zh = I18n::new(Language::ZhCn).unwrap();
        let said = |i18n: &I18n, ms| super::error_text(i18n, "relay", &limited(ms));
        assert_eq!(
            said(&en, Some(1_500)),
            "Too many attempts. Try again in 2 s."
        );
        assert_eq!(
            said(&en, Some(900_000)),
            "Too many attempts. Try again in 15 min."
        );
        assert_eq!(said(&zh, Some(30_000)), "尝试次数过多,请 30 秒后再试。");
        // Without a hint, the general sentence.
        assert_eq!(said(&en, None), en.tr("error-rate-limited"));
    }

    #[test]
    fn device_problems_are_said_in_the_readers_language() {
        let zh = I18n::new(Language::ZhCn).unwrap();
        let raw = "audio device error: speaker has no usable format (48000 Hz)";
        let said = zh.tr_args(
            "voice-cannot-play",
            &[(
                "error",
                natter_i18n::Arg::from(super::device_text(&zh, raw)),
            )],
        );
        assert!(
            !said.chars().any(|c| c.is_ascii_alphabetic()),
            "English in the Chinese UI: {said}"
        );
        let en = I18n::new(Language::EnUs).unwrap();
        assert_eq!(
            super::device_text(&en, "no camera: none found"),
            "no camera was found"
        );
        assert_eq!(
            super::device_text(&en, "WebRTC error: disconnected."),
            en.tr("device-other")
        );
        assert_eq!(
            super::device_text(&en, "camera: unplugged"),
            "camera: unplugged"
        );
    }
}
