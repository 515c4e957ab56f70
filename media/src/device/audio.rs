//! Microphone capture and speaker playback through cpal. Both convert to and from the
//! crate's 48 kHz mono at the edge, whatever the device's own rate and channel count.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample};

use crate::frame::{AudioFrame, FRAME_SAMPLES, SAMPLE_RATE};
use crate::sink::AudioPlayback;
use crate::source::AudioCapture;
use crate::{Error, Result};

/// How long a device may stay silent (no callbacks) before capture reports it dead.
const STALL: Duration = Duration::from_secs(1);
/// Playback queue limit: beyond this the oldest audio is dropped, bounding latency.
const MAX_QUEUED: usize = SAMPLE_RATE as usize / 4;

fn find_device(input: bool, name: Option<&str>) -> Result<cpal::Device> {
    let host = cpal::default_host();
    let what = if input { "microphone" } else { "speaker" };
    let missing = |msg: String| Error::NoAudioDevice(msg);
    match name {
        None => {
            let device = if input {
                host.default_input_device()
            } else {
                host.default_output_device()
            };
            device.ok_or_else(|| missing(format!("no default {what}")))
        }
        Some(wanted) => {
            let devices = if input {
                host.input_devices().map(|it| it.collect::<Vec<_>>())
            } else {
                host.output_devices().map(|it| it.collect::<Vec<_>>())
            }
            .map_err(|e| missing(format!("cannot list {what}s: {e}")))?;
            devices
                .into_iter()
                .find(|d| d.description().is_ok_and(|desc| desc.name() == wanted))
                .ok_or_else(|| missing(format!("no {what} named {wanted:?}")))
        }
    }
}

/// A running microphone.
pub struct Microphone {
    _stream: cpal::Stream,
    chunks: mpsc::Receiver<Vec<i16>>,
    pending: VecDeque<i16>,
}

impl std::fmt::Debug for Microphone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Microphone").finish_non_exhaustive()
    }
}

/// Opens the named microphone, or the default one, and starts capturing.
pub fn open_microphone(name: Option<&str>) -> Result<Microphone> {
    let device = find_device(true, name)?;
    let supported = device
        .default_input_config()
        .map_err(|e| Error::AudioDevice(format!("microphone has no usable format: {e}")))?;
    let config: cpal::StreamConfig = supported.config();
    let (tx, chunks) = mpsc::sync_channel(64);
    let stream = match supported.sample_format() {
        SampleFormat::F32 => build_input::<f32>(&device, &config, tx),
        SampleFormat::I16 => build_input::<i16>(&device, &config, tx),
        SampleFormat::I32 => build_input::<i32>(&device, &config, tx),
        SampleFormat::U16 => build_input::<u16>(&device, &config, tx),
        other => Err(Error::AudioDevice(format!(
            "microphone sample format {other} is not supported"
        ))),
    }?;
    stream
        .play()
        .map_err(|e| Error::AudioDevice(format!("microphone would not start: {e}")))?;
    Ok(Microphone {
        _stream: stream,
        chunks,
        pending: VecDeque::with_capacity(FRAME_SAMPLES * 4),
    })
}

fn build_input<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    tx: mpsc::SyncSender<Vec<i16>>,
) -> Result<cpal::Stream>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let mut resampler = Resampler::new(config.sample_rate, SAMPLE_RATE);
    device
        .build_input_stream::<T, _, _>(
            *config,
            move |data: &[T], _| {
                let mono = data.chunks(channels).map(|frame| {
                    frame.iter().map(|s| f32::from_sample(*s)).sum::<f32>() / channels as f32
                });
                let out = resampler.run(mono);
                // Never block the audio callback: a full queue drops the chunk.
                let _ = tx.try_send(out);
            },
            |error| tracing::warn!(%error, "microphone stream error"),
            None,
        )
        .map_err(|e| Error::AudioDevice(format!("microphone would not open: {e}")))
}

impl AudioCapture for Microphone {
    fn next_frame(&mut self) -> Result<AudioFrame> {
        while self.pending.len() < FRAME_SAMPLES {
            match self.chunks.recv_timeout(STALL) {
                Ok(chunk) => self.pending.extend(chunk),
                Err(_) => {
                    return Err(Error::AudioDevice(
                        "the microphone stopped delivering audio".into(),
                    ));
                }
            }
        }
        Ok(AudioFrame {
            samples: self.pending.drain(..FRAME_SAMPLES).collect(),
        })
    }
}

/// A running speaker fed from a bounded queue.
pub struct Speaker {
    _stream: cpal::Stream,
    queue: Arc<Mutex<VecDeque<i16>>>,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker").finish_non_exhaustive()
    }
}

/// Opens the named speaker, or the default one, and starts playing (silence until
/// audio arrives).
pub fn open_speaker(name: Option<&str>) -> Result<Speaker> {
    let device = find_device(false, name)?;
    let supported = device
        .default_output_config()
        .map_err(|e| Error::AudioDevice(format!("speaker has no usable format: {e}")))?;
    let config: cpal::StreamConfig = supported.config();
    let queue = Arc::new(Mutex::new(VecDeque::with_capacity(MAX_QUEUED)));
    let stream = match supported.sample_format() {
        SampleFormat::F32 => build_output::<f32>(&device, &config, queue.clone()),
        SampleFormat::I16 => build_output::<i16>(&device, &config, queue.clone()),
        SampleFormat::I32 => build_output::<i32>(&device, &config, queue.clone()),
        SampleFormat::U16 => build_output::<u16>(&device, &config, queue.clone()),
        other => Err(Error::AudioDevice(format!(
            "speaker sample format {other} is not supported"
        ))),
    }?;
    stream
        .play()
        .map_err(|e| Error::AudioDevice(format!("speaker would not start: {e}")))?;
    Ok(Speaker {
        _stream: stream,
        queue,
    })
}

fn build_output<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    queue: Arc<Mutex<VecDeque<i16>>>,
) -> Result<cpal::Stream>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let mut resampler = Resampler::new(SAMPLE_RATE, config.sample_rate);
    let mut ready: VecDeque<f32> = VecDeque::new();
    device
        .build_output_stream::<T, _, _>(
            *config,
            move |data: &mut [T], _| {
                let frames = data.len() / channels;
                if ready.len() < frames {
                    // A poisoned lock means the decoder thread panicked; play silence.
                    if let Ok(mut queue) = queue.lock() {
                        let take = queue.len();
                        let input: Vec<f32> = queue
                            .drain(..take)
                            .map(|s| f32::from(s) / 32768.0)
                            .collect();
                        ready.extend(
                            resampler
                                .run(input)
                                .into_iter()
                                .map(|s| f32::from(s) / 32768.0),
                        );
                    }
                }
                for frame in data.chunks_mut(channels) {
                    let value = ready.pop_front().unwrap_or(0.0);
                    for slot in frame {
                        *slot = T::from_sample(value);
                    }
                }
            },
            |error| tracing::warn!(%error, "speaker stream error"),
            None,
        )
        .map_err(|e| Error::AudioDevice(format!("speaker would not open: {e}")))
}

impl AudioPlayback for Speaker {
    fn play(&mut self, samples: &[i16]) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.extend(samples.iter().copied());
            let excess = queue.len().saturating_sub(MAX_QUEUED);
            queue.drain(..excess);
        }
    }
}

/// Linear-interpolation sample-rate converter for mono audio; plenty for speech on
/// the way to or from a device running at 44.1 kHz or similar.
struct Resampler {
    step: f64,
    pos: f64,
    last: f32,
}

impl Resampler {
    fn new(from: u32, to: u32) -> Self {
        Self {
            step: f64::from(from) / f64::from(to.max(1)),
            pos: 0.0,
            last: 0.0,
        }
    }

    /// Converts `input` (−1.0..=1.0) and returns 16-bit samples at the target rate.
    fn run(&mut self, input: impl IntoIterator<Item = f32>) -> Vec<i16> {
        let input: Vec<f32> = input.into_iter().collect();
        let mut out = Vec::with_capacity((input.len() as f64 / self.step) as usize + 2);
        // `pos` is measured from `last` (index −1) onwards.
        while self.pos < input.len() as f64 {
            let i = self.pos.floor();
            let frac = (self.pos - i) as f32;
            let a = if i < 1.0 {
                self.last
            } else {
                input[i as usize - 1]
            };
            let b = input[i as usize];
            let value = a + (b - a) * frac;
            out.push((value.clamp(-1.0, 1.0) * 32767.0) as i16);
            self.pos += self.step;
        }
        self.pos -= input.len() as f64;
        if let Some(last) = input.last() {
            self.last = *last;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampler_keeps_duration() {
        let mut r = Resampler::new(44_100, 48_000);
        let mut total = 0;
        for _ in 0..100 {
            total += r.run(vec![0.5f32; 441]).len();
        }
        // 1 s of input → 1 s of output, give or take a sample.
        assert!((total as i64 - 48_000).abs() <= 2, "{total}");
    }
}
