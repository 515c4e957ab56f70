//! Outgoing media: a capture + encode thread per kind hands encoded frames to an
//! async task that writes them to the WebRTC track.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media::Sample;
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use tokio::sync::mpsc;
use webrtc::media_stream::Track;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::rtp_transceiver::RtpSender;

use super::adapt::Adapter;
use super::{CallEvent, Shared};
use crate::codec::audio::OpusEncoder;
use crate::codec::video::{H264Encoder, VideoEncoderSettings};
use crate::config::{AudioSource, VideoSource};
use crate::device::DeviceKind;
use crate::frame::{AudioFrame, FRAME_MS};
use crate::source::pattern::PatternSource;
use crate::source::tone::ToneSource;
use crate::source::{AudioCapture, VideoCapture};
use crate::{Error, Result};

/// Encoded frames waiting for the network; small, because stale media is useless.
const QUEUE: usize = 8;
/// Pattern used when a camera fails and synthetic fallback is on.
const FALLBACK_PATTERN: (usize, usize, u32) = (640, 360, 15);

/// One encoded frame and how much media time it covers.
type Encoded = (Bytes, Duration);

fn spawn_thread(name: &str, body: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map(|_| ())
        .map_err(|e| Error::System(format!("cannot start the {name} thread: {e}")))
}

/// Starts sending audio on `track`.
pub(super) fn start_audio(
    shared: Arc<Shared>,
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
) -> Result<()> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let thread_shared = shared.clone();
    spawn_thread("natter-audio-send", move || audio_loop(&thread_shared, &tx))?;
    tokio::spawn(write_loop(shared.clone(), track.clone(), sender, rx));
    tokio::spawn(watch_rtcp(shared, track));
    Ok(())
}

/// Starts sending video on `track`.
pub(super) fn start_video(
    shared: Arc<Shared>,
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
) -> Result<()> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let thread_shared = shared.clone();
    spawn_thread("natter-video-send", move || video_loop(&thread_shared, &tx))?;
    tokio::spawn(write_loop(shared.clone(), track.clone(), sender, rx));
    tokio::spawn(watch_rtcp(shared, track));
    Ok(())
}

/// Opens the chosen audio source; returns it with the choice's generation.
fn open_audio(shared: &Shared) -> (Box<dyn AudioCapture>, u64) {
    let (source, generation) = shared.audio_source.get();
    let capture = match source.open() {
        Ok(capture) => capture,
        Err(error) => audio_fallback(shared, &source, &error),
    };
    (capture, generation)
}

/// A failed microphone is replaced by the tone or by silence; the call goes on.
fn audio_fallback(shared: &Shared, source: &AudioSource, error: &Error) -> Box<dyn AudioCapture> {
    let tone = shared.config.fallback_to_synthetic || matches!(source, AudioSource::Tone { .. });
    tracing::warn!(%error, tone, "microphone unavailable");
    shared.emit(CallEvent::DeviceFailed {
        kind: DeviceKind::Microphone,
        reason: error.to_string(),
        fell_back: tone,
    });
    // A 0 Hz tone is paced silence.
    Box::new(ToneSource::new(if tone { 440.0 } else { 0.0 }))
}

fn audio_loop(shared: &Shared, tx: &mpsc::Sender<Encoded>) {
    let mut encoder = match OpusEncoder::new(shared.config.audio_bitrate) {
        Ok(encoder) => encoder,
        Err(error) => {
            tracing::error!(%error, "no audio encoder");
            return;
        }
    };
    let (mut capture, mut generation) = open_audio(shared);
    let silence = AudioFrame::silence();
    let duration = Duration::from_millis(u64::from(FRAME_MS));
    while !shared.is_closed() {
        if shared.audio_source.changed_since(generation) {
            // Release the old device before opening the new one.
            drop(capture);
            (capture, generation) = open_audio(shared);
        }
        let frame = match capture.next_frame() {
            Ok(frame) => frame,
            Err(error) => {
                capture = audio_fallback(shared, &shared.audio_source.get().0, &error);
                continue;
            }
        };
        if !shared.connected.load(Ordering::Acquire) {
            continue;
        }
        let frame = if shared.muted.load(Ordering::Acquire) {
            &silence
        } else {
            &frame
        };
        match encoder.encode(frame) {
            Ok(packet) => {
                if let Err(mpsc::error::TrySendError::Closed(_)) =
                    tx.try_send((Bytes::from(packet), duration))
                {
                    return;
                }
            }
            Err(error) => tracing::warn!(%error, "audio frame not encoded"),
        }
    }
}

/// What the video thread has open.
enum VideoState {
    /// Camera off (by the user), nothing open.
    Off,
    /// Capturing.
    Running(Box<dyn VideoCapture>),
    /// Nothing to capture: the device failed without a fallback, or "no video" was
    /// chosen. Retried when the camera is switched off and on or another source is
    /// chosen.
    Failed,
}

/// Opens the chosen video source; returns what is open and the choice's generation.
fn open_video(shared: &Shared) -> (VideoState, u64) {
    let (source, generation) = shared.video_source.get();
    let state = match source.open() {
        Ok(Some(capture)) => VideoState::Running(capture),
        // Switched to "no video": behave like a camera that stays off.
        Ok(None) => VideoState::Failed,
        Err(error) => video_fallback(shared, &source, &error),
    };
    (state, generation)
}

fn video_fallback(shared: &Shared, source: &VideoSource, error: &Error) -> VideoState {
    let pattern = shared.config.fallback_to_synthetic && matches!(source, VideoSource::Camera(_));
    tracing::warn!(%error, pattern, "camera unavailable");
    shared.emit(CallEvent::DeviceFailed {
        kind: if source.is_screen() {
            DeviceKind::Screen
        } else {
            DeviceKind::Camera
        },
        reason: error.to_string(),
        fell_back: pattern,
    });
    let (w, h, fps) = FALLBACK_PATTERN;
    match pattern.then(|| PatternSource::new(w, h, fps)) {
        Some(Ok(source)) => VideoState::Running(Box::new(source)),
        _ => VideoState::Failed,
    }
}

fn video_loop(shared: &Shared, tx: &mpsc::Sender<Encoded>) {
    let mut adapter = Adapter::new(
        shared.config.video.bitrate,
        u32::try_from(shared.config.audio_bitrate).unwrap_or(0),
        shared.video_source.get().0.is_screen(),
    );
    let settings = VideoEncoderSettings {
        bitrate: adapter.current().bitrate,
        ..shared.config.video
    };
    let mut encoder = match H264Encoder::new(settings) {
        Ok(encoder) => encoder,
        Err(error) => {
            tracing::error!(%error, "no video encoder");
            return;
        }
    };
    let mut state = VideoState::Off;
    let mut generation = 0;
    let mut last_sent: Option<Instant> = None;
    let mut preview_count = 0u64;
    let mut sent_count = 0u64;
    while !shared.is_closed() {
        if !shared.camera_on.load(Ordering::Acquire) {
            // Dropping the capture releases the camera while it is off.
            if !matches!(state, VideoState::Off) {
                state = VideoState::Off;
                shared.local_video.clear();
            }
            last_sent = None;
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        if !matches!(state, VideoState::Off) && shared.video_source.changed_since(generation) {
            // Release the old camera before the new one opens on the next pass.
            state = VideoState::Off;
            shared.local_video.clear();
            continue;
        }
        let capture = match &mut state {
            VideoState::Off => {
                (state, generation) = open_video(shared);
                adapter.set_screen(shared.video_source.get().0.is_screen());
                shared.keyframe_wanted.store(true, Ordering::Release);
                continue;
            }
            VideoState::Failed => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            VideoState::Running(capture) => capture,
        };
        let frame = match capture.next_frame() {
            Ok(frame) => frame,
            Err(error) => {
                state = video_fallback(shared, &shared.video_source.get().0, &error);
                continue;
            }
        };
        let nominal = Duration::from_secs(1) / capture.fps().max(1);
        preview_count += 1;
        if preview_count.is_multiple_of(2) {
            shared.local_video.publish(frame.to_rgba(2));
        }
        if !shared.connected.load(Ordering::Acquire) {
            continue;
        }
        // The encoder follows the path: its bitrate, and when that is too
        // little, half the size or half the frames.
        if let Some(step) = adapter.update(Instant::now(), shared.target()) {
            tracing::debug!(?step, "video follows the path's estimate");
            if let Err(error) = encoder.set_bitrate(step.bitrate) {
                tracing::warn!(%error, "video bitrate not changed");
            }
        }
        let step = adapter.current();
        sent_count += 1;
        if !sent_count.is_multiple_of(u64::from(step.frame_divisor.max(1))) {
            continue;
        }
        let halved;
        // Halving stops at 320 px wide: smaller is not worth watching.
        let frame = if step.scale > 1 && frame.width >= 2 * 320 {
            halved = frame.half();
            &halved
        } else {
            &frame
        };
        if shared.keyframe_wanted.swap(false, Ordering::AcqRel) {
            encoder.force_keyframe();
        }
        let data = match encoder.encode(frame) {
            Ok(data) if data.is_empty() => continue,
            Ok(data) => data,
            Err(error) => {
                tracing::warn!(%error, "video frame not encoded");
                continue;
            }
        };
        shared.sent_pictures.count(None, frame.width, frame.height);
        // RTP time follows wall time, so skipped frames keep the clock right.
        let now = Instant::now();
        let duration = last_sent.map_or(nominal, |t| now - t);
        last_sent = Some(now);
        if let Err(mpsc::error::TrySendError::Closed(_)) =
            tx.try_send((Bytes::from(data), duration))
        {
            return;
        }
    }
}

/// Writes encoded frames to the track once the connection has negotiated a payload
/// type.
async fn write_loop(
    shared: Arc<Shared>,
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    mut rx: mpsc::Receiver<Encoded>,
) {
    let mut target = None;
    while let Some((data, duration)) = rx.recv().await {
        if shared.is_closed() {
            break;
        }
        if target.is_none() {
            target = resolve_target(&track, &sender).await;
        }
        let Some((ssrc, payload_type)) = target else {
            continue;
        };
        let sample = Sample {
            data,
            duration,
            ..Sample::new(Instant::now())
        };
        if let Err(error) = track
            .sample_writer(ssrc, payload_type)
            .write_sample(&sample)
            .await
        {
            tracing::debug!(%error, "sample not sent");
        }
    }
}

async fn resolve_target(
    track: &TrackLocalStaticSample,
    sender: &Arc<dyn RtpSender>,
) -> Option<(u32, u8)> {
    let ssrc = *track.ssrcs().await.first()?;
    let parameters = sender.get_parameters().await.ok()?;
    let payload_type = parameters.rtp_parameters.codecs.first()?.payload_type;
    Some((ssrc, payload_type))
}

/// Reads RTCP about our stream; a picture-loss or full-intra request asks the
/// encoder for a key frame.
async fn watch_rtcp(shared: Arc<Shared>, track: Arc<TrackLocalStaticSample>) {
    while let Some(event) = track.poll().await {
        if shared.is_closed() {
            break;
        }
        if let TrackLocalEvent::OnRtcpPacket(packets) = event {
            let wants_keyframe = packets.iter().any(|p| {
                p.as_any().is::<PictureLossIndication>() || p.as_any().is::<FullIntraRequest>()
            });
            if wants_keyframe {
                shared.keyframe_wanted.store(true, Ordering::Release);
            }
        }
    }
}
