//! A sine-wave microphone stand-in.

use std::f64::consts::TAU;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::frame::{AudioFrame, FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE};
use crate::source::{AudioCapture, Pacer};
use crate::{Error, Result};

/// A continuous sine tone at a fixed frequency, 48 kHz mono, in 20 ms frames.
#[derive(Debug)]
pub struct ToneSource {
    step: f64,
    phase: f64,
    amplitude: f64,
    pacer: Option<Pacer>,
    /// Beeps instead of a continuous tone: (period, start within it) in ms
    /// of wall time.
    beeps: Option<(u32, u32)>,
}

/// How long each beep of [`ToneSource::beeping`] lasts.
pub const BEEP_MS: u32 = 100;

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
            beeps: None,
        }
    }

    /// Silence but for a [`BEEP_MS`] beep whenever the wall clock's
    /// milliseconds modulo `period_ms` pass `at_ms`. Each 20 ms frame is
    /// taken to hold the 20 ms of sound before it is handed over, as a
    /// microphone's does, so a beep's first sample is the sound at the
    /// beep's time.
    pub fn beeping(mut self, period_ms: u32, at_ms: u32) -> Result<Self> {
        if period_ms < 2 * BEEP_MS || at_ms >= period_ms {
            return Err(Error::Config(format!(
                "beeps every {period_ms} ms at {at_ms} ms: the period needs at least {} ms and the start must fall inside it",
                2 * BEEP_MS
            )));
        }
        self.beeps = Some((period_ms, at_ms));
        Ok(self)
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
        let mut frame = self.generate();
        if let Some((period, at)) = self.beeps {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64()
                * 1000.0;
            let start = now - f64::from(FRAME_MS);
            let period = f64::from(period);
            let per_sample = f64::from(FRAME_MS) / frame.samples.len() as f64;
            for (i, sample) in frame.samples.iter_mut().enumerate() {
                let t = start + i as f64 * per_sample;
                if (t - f64::from(at)).rem_euclid(period) >= f64::from(BEEP_MS) {
                    *sample = 0;
                }
            }
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beeps_sound_only_at_their_time() {
        let now = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
        };
        let mut beeps = ToneSource::unpaced(440.0).beeping(200, 0).unwrap();
        let mut loud = 0;
        let mut quiet = 0;
        for _ in 0..200 {
            let before = now();
            let frame = beeps.next_frame().unwrap();
            let after = now();
            let peak = frame
                .samples
                .iter()
                .map(|s| s.unsigned_abs())
                .max()
                .unwrap();
            // The frame holds the sound of somewhere in [before - 20, after]:
            // wholly inside a beep it is loud, wholly between beeps silent.
            let (from, to) = (before - 20, after);
            if from / 200 == to / 200 && to % 200 < 100 {
                assert!(
                    peak > 12_000,
                    "peak {peak} for {}..{}",
                    from % 200,
                    to % 200
                );
                loud += 1;
            } else if from / 200 == to / 200 && from % 200 >= 100 {
                assert_eq!(peak, 0, "for {}..{}", from % 200, to % 200);
                quiet += 1;
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        assert!(loud > 0 && quiet > 0, "{loud} loud, {quiet} quiet");
        assert!(ToneSource::unpaced(440.0).beeping(150, 0).is_err());
        assert!(ToneSource::unpaced(440.0).beeping(500, 500).is_err());
    }

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
