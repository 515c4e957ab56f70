//! Where received audio goes: a speaker ([`crate::device::audio::Speaker`]), a
//! collector that keeps it for inspection (tests, level meters), or nowhere.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

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
}

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
            c.samples.extend(samples.iter().copied());
            c.total += samples.len() as u64;
            let excess = c.samples.len().saturating_sub(c.limit);
            c.samples.drain(..excess);
        }
    }
}
