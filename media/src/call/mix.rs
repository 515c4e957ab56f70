//! Group call audio: every participant's decoded stream is queued on its own,
//! and one thread sums 20 ms of each into the sink at the pace of the clock.
//! A stream that falls behind contributes silence for that tick; one that runs
//! ahead loses its oldest audio beyond [`MAX_QUEUED`], so latency stays bounded.
//!
//! Each participant's audio is also kept for a moment ([`Mixer::heard`]) for
//! the level meter that picks the active speaker.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use natter_proto::model::UserId;

use super::receive::open_sink;
use super::{CallEvent, Shared};
use crate::frame::FRAME_SAMPLES;
use crate::sink::{AudioCollector, AudioPlayback};

/// Most audio queued per participant before the oldest is dropped (200 ms).
const MAX_QUEUED: usize = 10 * FRAME_SAMPLES;
/// Audio that must be queued before a participant's stream starts playing,
/// so small jitter does not punch holes (40 ms).
const START_AT: usize = 2 * FRAME_SAMPLES;
/// How much of each participant's audio is kept for levels and inspection.
const HEARD_SECONDS: usize = 2;

#[derive(Default)]
struct Queue {
    samples: VecDeque<i16>,
    playing: bool,
}

/// The mixing desk of one group call; cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Mixer {
    queues: Arc<Mutex<HashMap<UserId, Queue>>>,
    heard: Arc<Mutex<HashMap<UserId, AudioCollector>>>,
    /// Participants who left: what their decoder still hands over is dropped.
    gone: Arc<Mutex<std::collections::HashSet<UserId>>>,
}

impl Mixer {
    /// Queues decoded audio from `from`.
    pub(crate) fn push(&self, from: UserId, pcm: &[i16]) {
        if self
            .gone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&from)
        {
            return;
        }
        {
            let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            let queue = queues.entry(from).or_default();
            queue.samples.extend(pcm.iter().copied());
            let excess = queue.samples.len().saturating_sub(MAX_QUEUED);
            queue.samples.drain(..excess);
        }
        let mut heard = self.heard.lock().unwrap_or_else(|e| e.into_inner());
        heard
            .entry(from)
            .or_insert_with(|| AudioCollector::new(HEARD_SECONDS))
            .play(pcm);
    }

    /// The last moments of `from`'s audio (empty if none arrived).
    pub(crate) fn heard(&self, from: UserId) -> Vec<i16> {
        let heard = self.heard.lock().unwrap_or_else(|e| e.into_inner());
        heard
            .get(&from)
            .map(AudioCollector::samples)
            .unwrap_or_default()
    }

    /// Root-mean-square level of `from`'s last 200 ms, 0.0–1.0.
    pub(crate) fn level(&self, from: UserId) -> f32 {
        let samples = self.heard(from);
        let tail = &samples[samples.len().saturating_sub(MAX_QUEUED)..];
        if tail.is_empty() {
            return 0.0;
        }
        let sum: f64 = tail.iter().map(|s| f64::from(*s).powi(2)).sum();
        ((sum / tail.len() as f64).sqrt() / f64::from(i16::MAX)) as f32
    }

    /// Takes a participant (back) in, after [`Mixer::remove`].
    pub(crate) fn admit(&self, from: UserId) {
        self.gone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&from);
    }

    /// Forgets a participant who left; their audio still in flight is dropped
    /// until they are admitted again.
    pub(crate) fn remove(&self, from: UserId) {
        self.gone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(from);
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&from);
        self.heard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&from);
    }

    /// One tick: 20 ms from every queue that is playing, summed.
    fn mix(&self, out: &mut [i32]) -> bool {
        out.fill(0);
        let mut any = false;
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        for queue in queues.values_mut() {
            if !queue.playing {
                queue.playing = queue.samples.len() >= START_AT;
            }
            if !queue.playing {
                continue;
            }
            if queue.samples.len() < out.len() {
                // Ran dry: wait for a little backlog again.
                queue.playing = false;
            }
            let n = out.len().min(queue.samples.len());
            for (slot, sample) in out.iter_mut().zip(queue.samples.drain(..n)) {
                *slot += i32::from(sample);
                any = true;
            }
        }
        any
    }
}

/// Starts the thread that plays the mix into the call's sink.
pub(crate) fn start(shared: Arc<Shared>, mixer: Mixer) {
    let spawned = std::thread::Builder::new()
        .name("natter-mix".into())
        .spawn(move || run(&shared, &mixer));
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the group call mixer");
    }
}

fn run(shared: &Shared, mixer: &Mixer) {
    let (mut sink, mut generation) = open_sink(shared);
    let tick = Duration::from_millis(20);
    let mut next = Instant::now() + tick;
    let mut sum = vec![0i32; FRAME_SAMPLES];
    let mut pcm = vec![0i16; FRAME_SAMPLES];
    while !shared.is_closed() {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        next += tick;
        // A stalled thread (a suspended laptop) does not try to catch up.
        if Instant::now() > next + 5 * tick {
            next = Instant::now() + tick;
        }
        if shared.audio_sink.changed_since(generation) {
            drop(sink);
            (sink, generation) = open_sink(shared);
        }
        if mixer.mix(&mut sum) {
            for (out, s) in pcm.iter_mut().zip(&sum) {
                *out = (*s).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
            sink.play(&pcm);
            if !shared.first_audio.swap(true, Ordering::AcqRel) {
                shared.emit(CallEvent::FirstAudio);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_streams_are_summed_not_interleaved() {
        let mixer = Mixer::default();
        let a = UserId(1);
        let b = UserId(2);
        mixer.push(a, &vec![1000; 3 * FRAME_SAMPLES]);
        mixer.push(b, &vec![-300; 3 * FRAME_SAMPLES]);
        let mut out = vec![0i32; FRAME_SAMPLES];
        assert!(mixer.mix(&mut out));
        assert!(out.iter().all(|s| *s == 700), "{:?}", &out[..4]);
    }

    #[test]
    fn a_stream_waits_for_a_backlog_and_is_capped() {
        let mixer = Mixer::default();
        let a = UserId(1);
        mixer.push(a, &vec![5; FRAME_SAMPLES]);
        let mut out = vec![0i32; FRAME_SAMPLES];
        // 20 ms queued is below the start threshold: nothing plays yet.
        assert!(!mixer.mix(&mut out));
        mixer.push(a, &vec![5; 40 * FRAME_SAMPLES]);
        let queued = mixer.queues.lock().unwrap()[&a].samples.len();
        assert_eq!(queued, MAX_QUEUED);
        assert!(mixer.mix(&mut out));
        assert!(mixer.level(a) > 0.0);
        mixer.remove(a);
        assert_eq!(mixer.level(a), 0.0);
        // A decoder still draining after the leave does not bring them back.
        mixer.push(a, &vec![5; 3 * FRAME_SAMPLES]);
        assert!(mixer.heard(a).is_empty());
        mixer.admit(a);
        mixer.push(a, &vec![5; 3 * FRAME_SAMPLES]);
        assert!(!mixer.heard(a).is_empty());
    }
}
