//! Short sounds outside calls (the new-message chime, the ringtone): a 16-bit
//! PCM WAV played once on the speaker, from its own thread so neither the UI
//! nor the async executor waits for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::device::audio::open_speaker;
use crate::frame::{FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE};
use crate::sink::AudioPlayback;
use crate::{Error, Result};

/// Mono samples at the media sample rate (48 kHz), ready to play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    samples: Vec<i16>,
}

impl Clip {
    /// Reads a RIFF/WAVE file of 16-bit PCM (mono or stereo, any rate).
    pub fn from_wav(bytes: &[u8]) -> Result<Clip> {
        let bad = |why: &str| Error::AudioDevice(format!("unusable sound file: {why}"));
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(bad("not a WAVE file"));
        }
        let (mut channels, mut rate, mut bits, mut data) = (0u16, 0u32, 0u16, None);
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let len =
                u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
                    as usize;
            let body = &bytes[at + 8..(at + 8 + len).min(bytes.len())];
            match id {
                b"fmt " if body.len() >= 16 => {
                    let format = u16::from_le_bytes([body[0], body[1]]);
                    if format != 1 {
                        return Err(bad("not PCM"));
                    }
                    channels = u16::from_le_bytes([body[2], body[3]]);
                    rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                    bits = u16::from_le_bytes([body[14], body[15]]);
                }
                b"data" => data = Some(body),
                _ => {}
            }
            at += 8 + len + (len & 1);
        }
        let data = data.ok_or_else(|| bad("no data"))?;
        if bits != 16 || !(1..=2).contains(&channels) || rate == 0 {
            return Err(bad("only 16-bit mono or stereo PCM is played"));
        }
        let frame = 2 * channels as usize;
        let mono: Vec<f32> = data
            .chunks_exact(frame)
            .map(|f| {
                let left = i16::from_le_bytes([f[0], f[1]]) as f32;
                if channels == 2 {
                    (left + i16::from_le_bytes([f[2], f[3]]) as f32) / 2.0
                } else {
                    left
                }
            })
            .collect();
        // Linear interpolation to 48 kHz: plenty for a chime.
        let out_len = (mono.len() as u64 * u64::from(SAMPLE_RATE) / u64::from(rate)) as usize;
        let step = f64::from(rate) / f64::from(SAMPLE_RATE);
        let samples = (0..out_len)
            .map(|i| {
                let pos = i as f64 * step;
                let j = pos as usize;
                let frac = (pos - j as f64) as f32;
                let a = mono.get(j).copied().unwrap_or(0.0);
                let b = mono.get(j + 1).copied().unwrap_or(a);
                (a + (b - a) * frac) as i16
            })
            .collect();
        Ok(Clip { samples })
    }

    /// Samples at 48 kHz mono.
    pub fn from_samples(samples: Vec<i16>) -> Clip {
        Clip { samples }
    }

    /// Length at 48 kHz.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(SAMPLE_RATE))
    }

    /// The samples, 48 kHz mono.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// Plays the clip once on the named speaker (or the default one) from a new
    /// thread. A missing speaker is reported through `on_error`, never a panic.
    pub fn play(&self, speaker: Option<String>, on_error: impl FnOnce(Error) + Send + 'static) {
        self.play_until(speaker, Arc::new(AtomicBool::new(false)), on_error);
    }

    /// Like [`Clip::play`], stopping early once `stop` is set.
    pub fn play_until(
        &self,
        speaker: Option<String>,
        stop: Arc<AtomicBool>,
        on_error: impl FnOnce(Error) + Send + 'static,
    ) {
        let samples = self.samples.clone();
        let spawned = std::thread::Builder::new()
            .name("natter-sound".into())
            .spawn(move || {
                let mut out = match open_speaker(speaker.as_deref()) {
                    Ok(out) => out,
                    Err(e) => return on_error(e),
                };
                // Fed in real time: the speaker keeps only a short queue.
                for chunk in samples.chunks(FRAME_SAMPLES) {
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    out.play(chunk);
                    std::thread::sleep(Duration::from_millis(u64::from(FRAME_MS)));
                }
                // Let the last frames drain before the device closes.
                std::thread::sleep(Duration::from_millis(100));
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no thread for a sound");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
        v.extend_from_slice(&(2 * channels).to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(&data);
        v
    }

    #[test]
    fn reads_and_resamples_pcm() {
        let clip = Clip::from_wav(&wav(24_000, 1, &[1000; 2400])).unwrap();
        assert_eq!(clip.samples().len(), 4800);
        assert_eq!(clip.duration(), Duration::from_millis(100));
        assert!(clip.samples().iter().all(|s| *s == 1000));
        let stereo = Clip::from_wav(&wav(48_000, 2, &[1000, 3000, 1000, 3000])).unwrap();
        assert_eq!(stereo.samples(), &[2000, 2000]);
    }

    #[test]
    fn refuses_what_it_cannot_play() {
        assert!(Clip::from_wav(b"not a wave file at all").is_err());
        let mut eight_bit = wav(8_000, 1, &[0; 10]);
        eight_bit[34] = 8;
        assert!(Clip::from_wav(&eight_bit).is_err());
    }

    #[test]
    fn a_missing_speaker_is_reported_not_a_panic() {
        let clip = Clip::from_wav(&wav(48_000, 1, &[0; 480])).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        clip.play(Some("no such speaker".into()), move |e| {
            let _ = tx.send(e.to_string());
        });
        let error = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        assert!(!error.is_empty());
    }
}
