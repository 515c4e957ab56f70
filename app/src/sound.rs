//! The new-message sound and the ringtone.
//!
//! Both ship in the binary ([`NOTIFICATION_SOUND`], a 0.35 s chime, and
//! [`RINGTONE`], one 2 s ring; 16-bit mono WAVs made for Natter, see
//! `assets/sounds/README.md`). [`play_notification_sound`] and [`play_ringtone`]
//! are the one place the app asks for each sound; they play it on the default
//! speaker from a thread of their own (`natter_media::sound`), count the
//! requests, and log at debug level when there is no speaker.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use natter_media::sound::Clip;

/// The chime, as a WAV file.
pub const NOTIFICATION_SOUND: &[u8] = include_bytes!("../../assets/sounds/notify.wav");

/// Whether a message that just arrived should make a sound: someone else sent
/// it, the window is not focused, the conversation is not muted, and
/// notifications are on.
pub fn should_chime(from_someone_else: bool, focused: bool, muted: bool, enabled: bool) -> bool {
    from_someone_else && !focused && !muted && enabled
}

/// One ring of the incoming-call tone, as a WAV file; repeated while a call rings.
pub const RINGTONE: &[u8] = include_bytes!("../../assets/sounds/ring.wav");

static RINGS: AtomicU64 = AtomicU64::new(0);

/// How many rings were asked for since the process started.
pub fn rings() -> u64 {
    RINGS.load(Ordering::Relaxed)
}

/// Plays one ring of the incoming-call tone (the caller repeats it every
/// [`RING_EVERY`] while the call rings) on the default speaker, and counts it.
pub fn play_ringtone() {
    RINGS.fetch_add(1, Ordering::Relaxed);
    play(&RING_CLIP, RINGTONE);
}

static CHIME_CLIP: OnceLock<Option<Clip>> = OnceLock::new();
static RING_CLIP: OnceLock<Option<Clip>> = OnceLock::new();

/// Plays a built-in sound on the default speaker; a machine without one only
/// logs.
fn play(clip: &'static OnceLock<Option<Clip>>, wav: &'static [u8]) {
    let clip = clip.get_or_init(|| match Clip::from_wav(wav) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "built-in sound unreadable");
            None
        }
    });
    if let Some(clip) = clip {
        clip.play(None, |e| tracing::debug!(error = %e, "sound not played"));
    }
}

/// How often the ring repeats: the length of [`RINGTONE`].
pub const RING_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

static REQUESTED: AtomicU64 = AtomicU64::new(0);

/// How many times the chime was asked for since the process started.
pub fn requested() -> u64 {
    REQUESTED.load(Ordering::Relaxed)
}

/// Plays the new-message chime on the default speaker, and counts it.
pub fn play_notification_sound() {
    REQUESTED.fetch_add(1, Ordering::Relaxed);
    play(&CHIME_CLIP, NOTIFICATION_SOUND);
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
    fn the_ring_is_a_two_second_pcm_wav() {
        let wav = RINGTONE;
        assert_eq!(&wav[0..4], b"RIFF");
        let rate = u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]);
        let seconds = (wav.len() - 44) as f64 / f64::from(rate * 2);
        assert!(
            (seconds - RING_EVERY.as_secs_f64()).abs() < 0.01,
            "{seconds} s"
        );
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
