//! Following the path: the congestion controller's estimate (Google
//! congestion control over transport-wide feedback from the receiver, in the
//! WebRTC stack) becomes the video encoder's bitrate, and, when that is too
//! little for the picture, a smaller picture or fewer frames.
//!
//! Down-steps happen as soon as the estimate falls; up-steps wait until the
//! estimate has held for a while, so a call does not flap between sizes.

use std::time::{Duration, Instant};

/// Where the estimate starts before any feedback has arrived.
pub(crate) const INITIAL_BPS: f64 = 1_000_000.0;
/// The estimate never goes below this.
pub(crate) const MIN_BPS: f64 = 100_000.0;
/// The least bitrate the video encoder is given.
const MIN_VIDEO_BPS: u32 = 60_000;
/// The share of the estimate media may fill: key frames overshoot the
/// encoder's average, and RTP headers and retransmissions need the rest.
const HEADROOM: f64 = 0.85;
/// Per-second overhead of audio beyond its codec bitrate (RTP, SRTP, UDP).
const AUDIO_OVERHEAD_BPS: u32 = 16_000;
/// Below this, a camera picture is sent at half size.
const HALF_SIZE_BELOW: u32 = 350_000;
/// ...and goes back to full size above this.
const FULL_SIZE_ABOVE: u32 = 500_000;
/// Below this, half the frames are sent (a screen: below [`HALF_SIZE_BELOW`]).
const HALF_RATE_BELOW: u32 = 150_000;
/// ...and all of them again above this.
const FULL_RATE_ABOVE: u32 = 220_000;
/// A screen shows text: it keeps its size and drops to a quarter of its frames
/// below this instead.
const QUARTER_RATE_BELOW: u32 = 150_000;
/// An estimate this much below the encoder's bitrate lowers it.
const DOWN_RATIO: f64 = 0.85;
/// An estimate this much above the encoder's bitrate raises it...
const UP_RATIO: f64 = 1.2;
/// ...once this long has passed since the last change.
const UP_AFTER: Duration = Duration::from_secs(2);
/// The least time between two down-steps (the estimate moves every 200 ms).
const DOWN_AFTER: Duration = Duration::from_millis(500);

/// What the video encoder is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// Encoder bitrate in bits a second.
    pub(crate) bitrate: u32,
    /// 1: the picture as captured; 2: half its width and height.
    pub(crate) scale: usize,
    /// Send one frame in this many.
    pub(crate) frame_divisor: u32,
}

/// Whether `bitrate` is under `low`, or `was` and has not yet passed `high`.
fn below(bitrate: u32, low: u32, high: u32, was: bool) -> bool {
    bitrate < low || (was && bitrate <= high)
}

/// Turns estimates into [`Step`]s.
#[derive(Debug)]
pub(crate) struct Adapter {
    max_video: u32,
    audio: u32,
    screen: bool,
    current: Step,
    changed_at: Option<Instant>,
}

impl Adapter {
    /// Starts at `max_video` bits a second (capped by the initial estimate),
    /// beside audio at `audio` bits a second. A `screen` keeps its size and
    /// loses frames instead.
    pub(crate) fn new(max_video: u32, audio: u32, screen: bool) -> Self {
        let mut adapter = Self {
            max_video: max_video.max(MIN_VIDEO_BPS),
            audio,
            screen,
            current: Step {
                bitrate: max_video,
                scale: 1,
                frame_divisor: 1,
            },
            changed_at: None,
        };
        let budget = adapter.budget(INITIAL_BPS);
        adapter.current = adapter.shape(budget);
        adapter
    }

    /// The encoder's current step.
    pub(crate) fn current(&self) -> Step {
        self.current
    }

    /// Switches between camera and screen rules; takes effect on the next
    /// estimate.
    pub(crate) fn set_screen(&mut self, screen: bool) {
        self.screen = screen;
    }

    /// What video may use of an estimate of `target` bits a second.
    fn budget(&self, target: f64) -> u32 {
        let media = target * HEADROOM - f64::from(self.audio + AUDIO_OVERHEAD_BPS);
        (media.max(0.0) as u32).clamp(MIN_VIDEO_BPS, self.max_video)
    }

    /// The step for `bitrate`, with size and rate chosen with hysteresis from
    /// the current step. A narrow path halves a camera's size, and a
    /// screen's frames instead.
    fn shape(&self, bitrate: u32) -> Step {
        let was_narrow = self.current.scale > 1 || (self.screen && self.current.frame_divisor > 1);
        let narrow = below(bitrate, HALF_SIZE_BELOW, FULL_SIZE_ABOVE, was_narrow);
        if self.screen {
            let frame_divisor = if bitrate < QUARTER_RATE_BELOW {
                4
            } else if narrow {
                2
            } else {
                1
            };
            return Step {
                bitrate,
                scale: 1,
                frame_divisor,
            };
        }
        let was_slow = self.current.frame_divisor > 1;
        let slow = below(bitrate, HALF_RATE_BELOW, FULL_RATE_ABOVE, was_slow);
        Step {
            bitrate,
            scale: if narrow { 2 } else { 1 },
            frame_divisor: if slow { 2 } else { 1 },
        }
    }

    /// Takes the latest estimate (`None` before any feedback) and returns the
    /// new step when the encoder should change.
    pub(crate) fn update(&mut self, now: Instant, target: Option<f64>) -> Option<Step> {
        let budget = self.budget(target.unwrap_or(INITIAL_BPS));
        let since = self.changed_at.map(|at| now.saturating_duration_since(at));
        let current = f64::from(self.current.bitrate);
        let down = f64::from(budget) < current * DOWN_RATIO
            && since.is_none_or(|since| since >= DOWN_AFTER);
        let up = f64::from(budget) > current * UP_RATIO
            && self.current.bitrate < self.max_video
            && since.is_none_or(|since| since >= UP_AFTER);
        if !down && !up {
            return None;
        }
        let next = self.shape(budget);
        if next == self.current {
            return None;
        }
        self.current = next;
        self.changed_at = Some(now);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_falling_estimate_lowers_the_bitrate_then_the_size_then_the_rate() {
        let t0 = Instant::now();
        let mut a = Adapter::new(1_500_000, 32_000, false);
        assert_eq!(a.current().scale, 1);
        let start = a.current().bitrate;
        assert!(
            start < 1_000_000,
            "the first estimate caps the start: {start}"
        );

        let step = a
            .update(t0, Some(500_000.0))
            .expect("a lower estimate lowers");
        assert!(step.bitrate < start && step.bitrate >= MIN_VIDEO_BPS);
        assert_eq!(step.scale, 1, "{step:?}");

        // Within half a second nothing moves again.
        assert_eq!(
            a.update(t0 + Duration::from_millis(100), Some(300_000.0)),
            None
        );
        let step = a
            .update(t0 + Duration::from_millis(600), Some(300_000.0))
            .expect("lower again");
        assert_eq!((step.scale, step.frame_divisor), (2, 1), "{step:?}");

        let step = a
            .update(t0 + Duration::from_millis(1200), Some(150_000.0))
            .expect("lower again");
        assert_eq!((step.scale, step.frame_divisor), (2, 2), "{step:?}");
        assert!(step.bitrate >= MIN_VIDEO_BPS, "{step:?}");
    }

    #[test]
    fn a_recovering_estimate_raises_only_after_it_held() {
        let t0 = Instant::now();
        let mut a = Adapter::new(1_500_000, 32_000, false);
        a.update(t0, Some(200_000.0)).expect("down");
        assert_eq!(a.current().scale, 2);
        // Up waits two seconds after the last change.
        assert_eq!(
            a.update(t0 + Duration::from_secs(1), Some(3_000_000.0)),
            None
        );
        let step = a
            .update(t0 + Duration::from_secs(3), Some(3_000_000.0))
            .expect("up");
        assert_eq!(step.bitrate, 1_500_000, "capped at the configured bitrate");
        assert_eq!((step.scale, step.frame_divisor), (1, 1));
        // At the ceiling, a higher estimate changes nothing.
        assert_eq!(
            a.update(t0 + Duration::from_secs(9), Some(9_000_000.0)),
            None
        );
    }

    #[test]
    fn a_size_between_the_thresholds_stays_where_it_was() {
        let t0 = Instant::now();
        let mut a = Adapter::new(1_500_000, 32_000, false);
        a.update(t0, Some(300_000.0)).expect("down");
        assert_eq!(a.current().scale, 2);
        // 420 kb/s of video: above "half size below", under "full size above".
        let step = a
            .update(t0 + Duration::from_secs(3), Some(560_000.0))
            .expect("up");
        assert_eq!(step.scale, 2, "{step:?}");
    }

    #[test]
    fn a_screen_keeps_its_size_and_loses_frames() {
        let t0 = Instant::now();
        let mut a = Adapter::new(1_500_000, 32_000, true);
        let step = a.update(t0, Some(300_000.0)).expect("down");
        assert_eq!((step.scale, step.frame_divisor), (1, 2), "{step:?}");
        let step = a
            .update(t0 + Duration::from_secs(1), Some(150_000.0))
            .expect("down");
        assert_eq!((step.scale, step.frame_divisor), (1, 4), "{step:?}");
    }
}
