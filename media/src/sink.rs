//! Where received audio goes: a speaker ([`crate::device::audio::Speaker`]), a
//! collector that keeps it for inspection (tests, level meters), or nowhere.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::frame::SAMPLE_RATE;

/// A started audio output. Called from the decoder thread with 48 kHz mono samples.
pub trait AudioPlayback {
    /// Queues decoded samples for output. Must not block for long.
    fn play(&mut self, samples: &[i16]);
}

/// Drops everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl AudioPlayback for Discard {
    fn play(&mut self, _samples: &[i16]) {}
}

/// Keeps the most recent received audio (up to a limit) where other threads can read
/// it. Clones share the same buffer.
#[derive(Debug, Clone)]
pub struct AudioCollector {
    inner: Arc<Mutex<Collected>>,
}

#[derive(Debug, Default)]
struct Collected {
    samples: VecDeque<i16>,
    total: u64,
    limit: usize,
    /// Samples in a row below [`ONSET_LEVEL`], up to the last one played.
    quiet: usize,
    /// When each sound after a silence was played, the newest last.
    onsets: VecDeque<SystemTime>,
}

/// A sample this loud or louder after a silence starts a sound.
const ONSET_LEVEL: u16 = 4_000;
/// Samples below [`ONSET_LEVEL`] that make a silence (100 ms).
const ONSET_QUIET: usize = SAMPLE_RATE as usize / 10;
/// Onsets kept.
const ONSETS_KEPT: usize = 10_000;

impl Default for AudioCollector {
    fn default() -> Self {
        Self::new(10)
    }
}

impl AudioCollector {
    /// Keeps the last `seconds` of audio.
    pub fn new(seconds: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Collected {
                limit: seconds.max(1) * SAMPLE_RATE as usize,
                ..Collected::default()
            })),
        }
    }

    /// A copy of the samples kept now, oldest first.
    pub fn samples(&self) -> Vec<i16> {
        self.inner
            .lock()
            .map(|c| c.samples.iter().copied().collect())
            .unwrap_or_default()
    }

    /// How many samples arrived in total, including ones no longer kept.
    pub fn total_samples(&self) -> u64 {
        self.inner.lock().map(|c| c.total).unwrap_or(0)
    }

    /// When each sound that followed at least 100 ms of silence started to
    /// play, by the wall clock, oldest first: a sample handed over at `t`
    /// as the `i`-th of its batch plays at `t + i / 48 kHz`. With a beeping
    /// source on the same clock, this times mouth to ear.
    pub fn onsets(&self) -> Vec<SystemTime> {
        self.inner
            .lock()
            .map(|c| c.onsets.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Forgets what was kept (the total keeps counting).
    pub fn clear(&self) {
        if let Ok(mut c) = self.inner.lock() {
            c.samples.clear();
        }
    }
}

impl AudioPlayback for AudioCollector {
    fn play(&mut self, samples: &[i16]) {
        if let Ok(mut c) = self.inner.lock() {
            let now = SystemTime::now();
            for (i, sample) in samples.iter().enumerate() {
                if sample.unsigned_abs() < ONSET_LEVEL {
                    c.quiet += 1;
                    continue;
                }
                if c.quiet >= ONSET_QUIET {
                    let offset = Duration::from_secs_f64(i as f64 / f64::from(SAMPLE_RATE));
                    c.onsets.push_back(now + offset);
                    if c.onsets.len() > ONSETS_KEPT {
                        c.onsets.pop_front();
                    }
                }
                c.quiet = 0;
            }
            c.samples.extend(samples.iter().copied());
            c.total += samples.len() as u64;
            let excess = c.samples.len().saturating_sub(c.limit);
            c.samples.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sound_after_silence_is_timed_once() {
        let mut collector = AudioCollector::new(1);
        let silence = vec![0i16; SAMPLE_RATE as usize / 5];
        let mut beep = vec![0i16; 480];
        beep.extend(std::iter::repeat_n(10_000i16, 960));
        let before = SystemTime::now();
        collector.play(&beep); // no silence before it yet
        collector.play(&silence);
        collector.play(&beep);
        collector.play(&beep[480..]); // goes on: no new onset
        collector.play(&silence[..SAMPLE_RATE as usize / 20]); // too short a pause
        collector.play(&beep[480..]);
        let onsets = collector.onsets();
        assert_eq!(onsets.len(), 1, "{onsets:?}");
        // The loud sample came 480 samples (10 ms) into its batch.
        let at = onsets[0].duration_since(before).unwrap();
        assert!(
            at >= Duration::from_millis(10) && at < Duration::from_millis(500),
            "{at:?}"
        );
    }
}
