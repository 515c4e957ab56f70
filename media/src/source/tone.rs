//! A sine-wave microphone stand-in.

use std::f64::consts::TAU;
use std::time::Duration;

use crate::Result;
use crate::frame::{AudioFrame, FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE};
use crate::source::{AudioCapture, Pacer};

/// A continuous sine tone at a fixed frequency, 48 kHz mono, in 20 ms frames.
#[derive(Debug)]
pub struct ToneSource {
    step: f64,
    phase: f64,
    amplitude: f64,
    pacer: Option<Pacer>,
}

impl ToneSource {
    /// A tone at `hz` that releases one frame every 20 ms of wall time.
    pub fn new(hz: f32) -> Self {
        Self {
            pacer: Some(Pacer::new(Duration::from_millis(u64::from(FRAME_MS)))),
            ..Self::unpaced(hz)
        }
    }

    /// The same tone without pacing: frames come as fast as they are asked for
    /// (codec tests and benchmarks).
    pub fn unpaced(hz: f32) -> Self {
        Self {
            step: TAU * f64::from(hz) / f64::from(SAMPLE_RATE),
            phase: 0.0,
            // Loud enough to dominate after a lossy codec, well clear of clipping.
            amplitude: 0.4 * f64::from(i16::MAX),
            pacer: None,
        }
    }

    /// The next 20 ms of the tone, without waiting.
    pub fn generate(&mut self) -> AudioFrame {
        let mut samples = Vec::with_capacity(FRAME_SAMPLES);
        for _ in 0..FRAME_SAMPLES {
            // Within ±amplitude < i16::MAX, so the cast cannot saturate.
            samples.push((self.phase.sin() * self.amplitude) as i16);
            self.phase = (self.phase + self.step) % TAU;
        }
        AudioFrame { samples }
    }
}

impl AudioCapture for ToneSource {
    fn next_frame(&mut self) -> Result<AudioFrame> {
        if let Some(pacer) = &mut self.pacer {
            pacer.wait();
        }
        Ok(self.generate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_is_continuous_across_frames() {
        let mut tone = ToneSource::unpaced(440.0);
        let a = tone.generate();
        let b = tone.generate();
        assert_eq!(a.samples.len(), FRAME_SAMPLES);
        // 440 Hz changes by at most ~0.06 × amplitude per sample: no jump at the seam.
        let last = i32::from(a.samples[FRAME_SAMPLES - 1]);
        let first = i32::from(b.samples[0]);
        assert!((last - first).abs() < 1_500, "{last} → {first}");
        let peak = a
            .samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!(peak > 12_000, "peak {peak}");
    }
}
