//! Voice messages: recorded from the microphone (or the test tone on machines
//! without one) on a thread of their own, Opus-encoded in 20 ms packets and
//! kept in a small container; decoded back to a [`Clip`] to play.
//!
//! Container (little endian): `NATVOICE`, version `1: u8`, frame length in ms
//! `20: u8`, two zero bytes, packet count `u32`, then each packet as `len: u16`
//! and its bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::codec::audio::{OpusDecoder, OpusEncoder};
use crate::config::AudioSource;
use crate::frame::FRAME_MS;
use crate::sound::Clip;
use crate::{Error, Result};

/// The longest voice message; recording stops by itself there.
pub const MAX_LENGTH: Duration = Duration::from_secs(120);
/// Bits a second: clear speech in ~3 KB a second.
const BITRATE: i32 = 24_000;
const MAGIC: &[u8; 8] = b"NATVOICE";
const HEADER: usize = 16;
/// Opus's own bound for one packet.
const MAX_PACKET: usize = 1_500;
const MAX_PACKETS: usize = (MAX_LENGTH.as_millis() / FRAME_MS as u128) as usize;
/// Samples in [`MAX_LENGTH`] of audio.
const MAX_SAMPLES: usize = MAX_PACKETS * crate::frame::FRAME_SAMPLES;

/// A finished recording, ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceNote {
    /// The container.
    pub bytes: Vec<u8>,
    /// Its length.
    pub duration_ms: u32,
}

/// A recording in progress. Dropping it stops and discards it.
#[derive(Debug)]
pub struct Recorder {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Vec<Vec<u8>>>>>,
    started: Instant,
}

impl Recorder {
    /// Opens `source` and starts recording. Blocking while the device starts;
    /// a missing microphone is an error here, not later.
    pub fn start(source: AudioSource) -> Result<Recorder> {
        let stop = Arc::new(AtomicBool::new(false));
        let (opened_tx, opened) = std::sync::mpsc::sync_channel(1);
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("natter-voice".into())
            .spawn(move || {
                // Devices may not move between threads: open it on this one.
                let mut capture = match source.open() {
                    Ok(c) => {
                        let _ = opened_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return Ok(Vec::new());
                    }
                };
                let mut encoder = OpusEncoder::new(BITRATE)?;
                let mut packets = Vec::new();
                while !flag.load(Ordering::Acquire) && packets.len() < MAX_PACKETS {
                    packets.push(encoder.encode(&capture.next_frame()?)?);
                }
                Ok(packets)
            })
            .map_err(|e| Error::System(format!("voice recording thread: {e}")))?;
        match opened.recv() {
            Ok(Ok(())) => Ok(Recorder {
                stop,
                thread: Some(thread),
                started: Instant::now(),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(Error::System("voice recording thread ended".into())),
        }
    }

    /// How long it has been recording.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed().min(MAX_LENGTH)
    }

    /// Stops and returns what was recorded. Blocks for up to one frame.
    pub fn finish(mut self) -> Result<VoiceNote> {
        self.stop.store(true, Ordering::Release);
        let packets = match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result?,
            _ => return Err(Error::System("voice recording thread failed".into())),
        };
        note(packets)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Encodes frames already at hand (a generated tone, a file) as a voice
/// message.
pub fn encode(frames: impl IntoIterator<Item = crate::frame::AudioFrame>) -> Result<VoiceNote> {
    let mut encoder = OpusEncoder::new(BITRATE)?;
    note(
        frames
            .into_iter()
            .take(MAX_PACKETS)
            .map(|f| encoder.encode(&f))
            .collect::<Result<Vec<_>>>()?,
    )
}

/// Packs encoded 20 ms packets as a voice message.
fn note(packets: Vec<Vec<u8>>) -> Result<VoiceNote> {
    if packets.is_empty() {
        return Err(Error::Config("nothing was recorded".into()));
    }
    Ok(VoiceNote {
        duration_ms: packets.len() as u32 * FRAME_MS,
        bytes: pack(&packets),
    })
}

fn pack(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + packets.iter().map(|p| 2 + p.len()).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, FRAME_MS as u8, 0, 0]);
    out.extend_from_slice(&(packets.len() as u32).to_le_bytes());
    for p in packets {
        out.extend_from_slice(&(p.len() as u16).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// Decodes a voice message for playing. Someone else's bytes: anything that is
/// not a well-formed container of at most [`MAX_LENGTH`] is refused.
pub fn decode(bytes: &[u8]) -> Result<Clip> {
    let bad = |why: &str| Error::Codec(format!("voice message: {why}"));
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(bad("not a Natter voice message"));
    }
    if bytes[8] != 1 || u32::from(bytes[9]) != FRAME_MS {
        return Err(bad("unknown version"));
    }
    let count = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    if count == 0 || count > MAX_PACKETS {
        return Err(bad("length out of range"));
    }
    let mut decoder = OpusDecoder::new()?;
    let mut samples = Vec::with_capacity(count * crate::frame::FRAME_SAMPLES);
    let mut rest = &bytes[HEADER..];
    for _ in 0..count {
        let [a, b, tail @ ..] = rest else {
            return Err(bad("cut short"));
        };
        let len = usize::from(u16::from_le_bytes([*a, *b]));
        if len == 0 || len > MAX_PACKET || tail.len() < len {
            return Err(bad("cut short"));
        }
        samples.extend(decoder.decode(&tail[..len])?);
        // A packet may hold up to 120 ms (several frames): the count alone
        // does not bound the length.
        if samples.len() > MAX_SAMPLES {
            return Err(bad("longer than a voice message may be"));
        }
        rest = &tail[len..];
    }
    if !rest.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Ok(Clip::from_samples(samples))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{FRAME_SAMPLES, SAMPLE_RATE};

    fn rms(samples: &[i16]) -> f64 {
        let sum: f64 = samples.iter().map(|s| f64::from(*s).powi(2)).sum();
        (sum / samples.len().max(1) as f64).sqrt()
    }

    #[test]
    fn a_recorded_tone_comes_back_as_long_and_as_loud() {
        let rec = Recorder::start(AudioSource::Tone { hz: 440.0 }).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let note = rec.finish().unwrap();
        assert!(
            (400..=700).contains(&note.duration_ms),
            "{}",
            note.duration_ms
        );
        // Opus at 24 kbit/s: about 3 KB a second.
        assert!(
            note.bytes.len() < note.duration_ms as usize * 5,
            "{}",
            note.bytes.len()
        );
        let clip = decode(&note.bytes).unwrap();
        assert_eq!(
            clip.samples().len(),
            note.duration_ms as usize * SAMPLE_RATE as usize / 1000
        );
        // The tone is 0.4 of full scale: its RMS is ~9,270. Skip the codec's
        // start-up frame.
        let level = rms(&clip.samples()[FRAME_SAMPLES * 2..]);
        assert!((7_000.0..11_000.0).contains(&level), "{level}");
    }

    #[test]
    fn frames_at_hand_encode_the_same_way() {
        let mut tone = crate::source::tone::ToneSource::unpaced(440.0);
        let note = encode((0..150).map(|_| tone.generate())).unwrap();
        assert_eq!(note.duration_ms, 3_000);
        assert_eq!(decode(&note.bytes).unwrap().samples().len(), 3 * 48_000);
        assert!(encode(std::iter::empty()).is_err());
    }

    #[test]
    fn a_missing_microphone_is_an_error_at_start() {
        let err =
            Recorder::start(AudioSource::Device(Some("no such microphone".into()))).unwrap_err();
        assert!(matches!(err, Error::NoAudioDevice(_)), "{err:?}");
    }

    #[test]
    fn bad_containers_are_refused() {
        let packets = vec![vec![0xf8, 0xff, 0xfe]; 3];
        let good = pack(&packets);
        assert!(decode(&good).is_ok());
        assert!(decode(b"NATVOICE").is_err());
        assert!(decode(&good[..good.len() - 1]).is_err());
        let mut long = good.clone();
        long.push(0);
        assert!(decode(&long).is_err());
        let mut huge = good.clone();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).is_err());
        let mut other = good;
        other[0] = b'X';
        assert!(decode(&other).is_err());
    }

    #[test]
    fn packets_of_120_ms_cannot_make_it_longer_than_two_minutes() {
        // TOC 0xfb: CELT, 20 ms frames, code 3; 0x06: six frames, CBR, no
        // padding, all empty (concealed). 120 ms from two bytes.
        let long = vec![vec![0xfb, 0x06]; MAX_PACKETS];
        let err = decode(&pack(&long)).unwrap_err();
        assert!(err.to_string().contains("longer"), "{err}");
        // Two minutes of them is still fine.
        let clip = decode(&pack(&long[..MAX_PACKETS / 6])).unwrap();
        assert_eq!(clip.samples().len(), MAX_SAMPLES);
    }
}
