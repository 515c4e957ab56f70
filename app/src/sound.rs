//! The new-message sound.
//!
//! The chime ships in the binary ([`NOTIFICATION_SOUND`], a 0.35 s 16-bit mono
//! WAV made for Natter, see `assets/sounds/README.md`). Audio output belongs to
//! the `natter-media` crate; until it offers playback, [`play_notification_sound`]
//! is the one place the app asks for the sound, and it only logs.

use std::sync::atomic::{AtomicU64, Ordering};

/// The chime, as a WAV file.
pub const NOTIFICATION_SOUND: &[u8] = include_bytes!("../../assets/sounds/notify.wav");

/// Whether a message that just arrived should make a sound: someone else sent
/// it, the window is not focused, the conversation is not muted, and
/// notifications are on.
pub fn should_chime(from_someone_else: bool, focused: bool, muted: bool, enabled: bool) -> bool {
    from_someone_else && !focused && !muted && enabled
}

static REQUESTED: AtomicU64 = AtomicU64::new(0);

/// How many times the chime was asked for since the process started.
pub fn requested() -> u64 {
    REQUESTED.load(Ordering::Relaxed)
}

/// Plays the new-message chime. Not wired to audio output yet: it counts and
/// logs at debug level so the call sites and the decision above can be checked.
pub fn play_notification_sound() {
    REQUESTED.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(
        bytes = NOTIFICATION_SOUND.len(),
        "notification sound requested (audio output not wired yet)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chime_is_a_short_pcm_wav() {
        let wav = NOTIFICATION_SOUND;
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(&wav[8..12], b"WAVE");
        let channels = u16::from_le_bytes([wav[22], wav[23]]);
        let rate = u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]);
        let bits = u16::from_le_bytes([wav[34], wav[35]]);
        assert_eq!((channels, rate, bits), (1, 22_050, 16));
        let seconds = (wav.len() - 44) as f64 / f64::from(rate * 2);
        assert!(seconds > 0.2 && seconds < 1.0, "{seconds} s");
    }

    #[test]
    fn chimes_only_when_unfocused_unmuted_and_enabled() {
        assert!(should_chime(true, false, false, true));
        assert!(!should_chime(false, false, false, true), "own message");
        assert!(!should_chime(true, true, false, true), "window focused");
        assert!(!should_chime(true, false, true, true), "muted");
        assert!(
            !should_chime(true, false, false, false),
            "notifications off"
        );
    }
}
