//! Incoming media: an async task per remote track forwards RTP to a dedicated thread
//! that reassembles frames (the jitter buffer: webrtc's sample builder, which reorders
//! and waits a bounded time for late packets), decodes them and hands them on —
//! audio to the sink, video to the latest-frame slot.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use rtc::media::io::sample_builder::SampleBuilder;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp::codec::h264::H264Packet;
use rtc::rtp::codec::opus::OpusPacket;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::{CallEvent, Shared};
use crate::codec::audio::OpusDecoder;
use crate::codec::video::H264Decoder;
use crate::device::DeviceKind;
use crate::sink::{AudioPlayback, Discard};

/// How long the audio jitter buffer waits for a late packet before concealing it.
const AUDIO_MAX_DELAY: Duration = Duration::from_millis(100);
/// How long the video buffer waits for the rest of a picture.
const VIDEO_MAX_DELAY: Duration = Duration::from_millis(500);
/// How often a decoder thread looks at the close flag when no packets come.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// Minimum spacing of picture-loss requests to the sender.
const PLI_SPACING: Duration = Duration::from_millis(500);

/// Starts the pipeline for one remote track.
pub(super) fn start(shared: Arc<Shared>, track: Arc<dyn TrackRemote>) {
    tokio::spawn(async move {
        let kind = track.kind().await;
        let (tx, rx) = std_mpsc::channel();
        let thread_shared = shared.clone();
        let want_keyframe = Arc::new(AtomicBool::new(false));
        let spawned = match kind {
            RtpCodecKind::Audio => std::thread::Builder::new()
                .name("natter-audio-recv".into())
                .spawn(move || audio_thread(&thread_shared, &rx)),
            RtpCodecKind::Video => {
                let flag = want_keyframe.clone();
                tokio::spawn(request_keyframes(
                    shared.clone(),
                    track.clone(),
                    flag.clone(),
                ));
                std::thread::Builder::new()
                    .name("natter-video-recv".into())
                    .spawn(move || video_thread(&thread_shared, &rx, &flag))
            }
            _ => return,
        };
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start a decoder thread");
            return;
        }
        while let Some(event) = track.poll().await {
            let delivered = match event {
                TrackRemoteEvent::OnRtpPacket(packet) => tx.send(packet).is_ok(),
                TrackRemoteEvent::OnEnded => false,
                _ => true,
            };
            if !delivered || shared.is_closed() {
                break;
            }
        }
    });
}

/// Sends a picture-loss indication whenever the decoder asks, at most every
/// [`PLI_SPACING`].
async fn request_keyframes(
    shared: Arc<Shared>,
    track: Arc<dyn TrackRemote>,
    wanted: Arc<AtomicBool>,
) {
    let Some(media_ssrc) = track.ssrcs().await.first().copied() else {
        return;
    };
    while !shared.is_closed() {
        tokio::time::sleep(PLI_SPACING).await;
        if wanted.swap(false, Ordering::AcqRel) {
            let pli = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc,
            };
            if let Err(error) = track.write_rtcp(vec![Box::new(pli)]).await {
                tracing::debug!(%error, "picture-loss request not sent");
            }
        }
    }
}

/// Opens the chosen sink; returns it with the choice's generation.
fn open_sink(shared: &Shared) -> (Box<dyn AudioPlayback>, u64) {
    let (sink, generation) = shared.audio_sink.get();
    let sink: Box<dyn AudioPlayback> = match sink.open() {
        Ok(sink) => sink,
        Err(error) => {
            tracing::warn!(%error, "speaker unavailable");
            shared.emit(CallEvent::DeviceFailed {
                kind: DeviceKind::Speaker,
                reason: error.to_string(),
                fell_back: true,
            });
            Box::new(Discard)
        }
    };
    (sink, generation)
}

/// Waits for the next packet; `None` when the call is over.
fn next_packet(
    shared: &Shared,
    rx: &std_mpsc::Receiver<rtc::rtp::Packet>,
) -> Option<Option<rtc::rtp::Packet>> {
    match rx.recv_timeout(IDLE_POLL) {
        Ok(packet) => Some(Some(packet)),
        Err(std_mpsc::RecvTimeoutError::Timeout) if !shared.is_closed() => Some(None),
        Err(_) => None,
    }
}

fn audio_thread(shared: &Shared, rx: &std_mpsc::Receiver<rtc::rtp::Packet>) {
    let (mut sink, mut generation) = open_sink(shared);
    let mut decoder = match OpusDecoder::new() {
        Ok(decoder) => decoder,
        Err(error) => {
            tracing::error!(%error, "no audio decoder");
            return;
        }
    };
    let mut buffer =
        SampleBuilder::new(16, OpusPacket, 48_000).with_max_time_delay(AUDIO_MAX_DELAY);
    while let Some(packet) = next_packet(shared, rx) {
        if let Some(packet) = packet {
            buffer.push(Instant::now(), packet);
        }
        if shared.audio_sink.changed_since(generation) {
            drop(sink);
            (sink, generation) = open_sink(shared);
        }
        while let Some(sample) = buffer.pop(Instant::now()) {
            // Lost packets: plain concealment for all but the last, which the
            // in-band FEC of this packet can rebuild.
            let lost = sample.prev_dropped_packets.min(5);
            for i in 0..lost {
                let fec = (i + 1 == lost).then_some(&sample.data[..]);
                if let Ok(pcm) = decoder.conceal(fec) {
                    sink.play(&pcm);
                }
            }
            match decoder.decode(&sample.data) {
                Ok(pcm) => {
                    sink.play(&pcm);
                    if !shared.first_audio.swap(true, Ordering::AcqRel) {
                        shared.emit(CallEvent::FirstAudio);
                    }
                }
                Err(error) => tracing::debug!(%error, "audio packet not decoded"),
            }
        }
    }
}

fn video_thread(
    shared: &Shared,
    rx: &std_mpsc::Receiver<rtc::rtp::Packet>,
    want_keyframe: &AtomicBool,
) {
    let mut decoder = match H264Decoder::new() {
        Ok(decoder) => decoder,
        Err(error) => {
            tracing::error!(%error, "no video decoder");
            return;
        }
    };
    let mut buffer =
        SampleBuilder::new(512, H264Packet::default(), 90_000).with_max_time_delay(VIDEO_MAX_DELAY);
    let mut decoded_any = false;
    while let Some(packet) = next_packet(shared, rx) {
        if let Some(packet) = packet {
            buffer.push(Instant::now(), packet);
        }
        while let Some(sample) = buffer.pop(Instant::now()) {
            if sample.prev_dropped_packets > 0 {
                want_keyframe.store(true, Ordering::Release);
            }
            match decoder.decode(&sample.data) {
                Ok(Some(frame)) => {
                    decoded_any = true;
                    shared.remote_video.publish(frame);
                    if !shared.first_video.swap(true, Ordering::AcqRel) {
                        shared.emit(CallEvent::FirstVideo);
                    }
                }
                Ok(None) if !decoded_any => want_keyframe.store(true, Ordering::Release),
                Ok(None) => {}
                Err(error) => {
                    tracing::debug!(%error, "video frame not decoded");
                    want_keyframe.store(true, Ordering::Release);
                }
            }
        }
    }
}
