//! Incoming media: an async task per remote track forwards RTP to a dedicated thread
//! that reassembles frames (the jitter buffer: webrtc's sample builder, which reorders
//! and waits a bounded time for late packets), decodes them and hands them on —
//! audio to the sink, video to the latest-frame slot.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use natter_proto::model::UserId;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::assemble::Assembler;
use super::reorder::{InOrder, Reorder};
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
        // In a group call the relay names each stream after its sender.
        let from = match &shared.group {
            Some(_) => match track.stream_id().await.parse::<u64>() {
                Ok(id) => Some(UserId(id)),
                Err(_) => {
                    tracing::debug!("a group call stream without a sender");
                    return;
                }
            },
            None => None,
        };
        tracing::debug!(?kind, ?from, "remote track");
        let (tx, rx) = std_mpsc::channel();
        let thread_shared = shared.clone();
        let want_keyframe = Arc::new(AtomicBool::new(false));
        let spawned = match kind {
            RtpCodecKind::Audio => std::thread::Builder::new()
                .name("natter-audio-recv".into())
                .spawn(move || audio_thread(&thread_shared, &rx, from)),
            RtpCodecKind::Video => {
                let flag = want_keyframe.clone();
                tokio::spawn(request_keyframes(
                    shared.clone(),
                    track.clone(),
                    flag.clone(),
                ));
                std::thread::Builder::new()
                    .name("natter-video-recv".into())
                    .spawn(move || video_thread(&thread_shared, &rx, &flag, from))
            }
            _ => return,
        };
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start a decoder thread");
            return;
        }
        let mut known_ssrc = None;
        while let Some(event) = track.poll().await {
            let delivered = match event {
                TrackRemoteEvent::OnRtpPacket(packet) => {
                    let ssrc = packet.header.ssrc;
                    if known_ssrc != Some(ssrc) {
                        known_ssrc = Some(ssrc);
                        if let (Some(group), Some(from)) = (&shared.group, from) {
                            let mut senders =
                                group.senders.lock().unwrap_or_else(|e| e.into_inner());
                            senders.insert(ssrc, from);
                        }
                    }
                    tx.send(packet).is_ok()
                }
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
pub(super) fn open_sink(shared: &Shared) -> (Box<dyn AudioPlayback>, u64) {
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

/// The audio half of receiving, without the thread: RTP in (any order), 48 kHz PCM
/// out, with loss concealed.
pub(crate) struct AudioReceiver {
    buffer: Reorder,
    decoder: OpusDecoder,
    /// Packets lost before a padding packet, concealed at the next sound.
    lost: u64,
}

impl AudioReceiver {
    pub(crate) fn new() -> crate::Result<Self> {
        Ok(Self {
            buffer: Reorder::new(AUDIO_MAX_DELAY),
            decoder: OpusDecoder::new()?,
            lost: 0,
        })
    }

    /// Takes one packet (or none, to let time pass) and appends whatever audio is
    /// now complete to `out`. Returns whether a real packet was decoded.
    pub(crate) fn push(
        &mut self,
        packet: Option<rtc::rtp::Packet>,
        now: Instant,
        out: &mut Vec<i16>,
    ) -> bool {
        if let Some(packet) = packet {
            self.buffer.push(packet, now);
        }
        let mut decoded = false;
        while let Some(InOrder {
            packet,
            lost_before,
        }) = self.buffer.pop(now)
        {
            self.lost += lost_before;
            if packet.payload.is_empty() {
                // Padding: no sound of its own; what was lost before it is
                // concealed at the next packet of sound.
                continue;
            }
            // Lost packets: plain concealment for all but the last, which the
            // in-band FEC of this packet can rebuild.
            let lost = std::mem::take(&mut self.lost).min(5);
            for i in 0..lost {
                let fec = (i + 1 == lost).then_some(&packet.payload[..]);
                if let Ok(pcm) = self.decoder.conceal(fec) {
                    out.extend_from_slice(&pcm);
                }
            }
            match self.decoder.decode(&packet.payload) {
                Ok(pcm) => {
                    out.extend_from_slice(&pcm);
                    decoded = true;
                }
                Err(error) => tracing::debug!(%error, "audio packet not decoded"),
            }
        }
        decoded
    }
}

fn audio_thread(shared: &Shared, rx: &std_mpsc::Receiver<rtc::rtp::Packet>, from: Option<UserId>) {
    if let (Some(group), Some(from)) = (&shared.group, from) {
        return group_audio_thread(shared, group, rx, from);
    }
    let (mut sink, mut generation) = open_sink(shared);
    let mut receiver = match AudioReceiver::new() {
        Ok(receiver) => receiver,
        Err(error) => {
            tracing::error!(%error, "no audio decoder");
            return;
        }
    };
    let mut pcm = Vec::new();
    while let Some(packet) = next_packet(shared, rx) {
        if shared.audio_sink.changed_since(generation) {
            drop(sink);
            (sink, generation) = open_sink(shared);
        }
        pcm.clear();
        let decoded = receiver.push(packet, Instant::now(), &mut pcm);
        if !pcm.is_empty() {
            sink.play(&pcm);
        }
        if decoded && !shared.first_audio.swap(true, Ordering::AcqRel) {
            shared.emit(CallEvent::FirstAudio);
        }
    }
}

/// A group call participant's audio: decoded here, mixed by the call's mixer.
fn group_audio_thread(
    shared: &Shared,
    group: &super::Group,
    rx: &std_mpsc::Receiver<rtc::rtp::Packet>,
    from: UserId,
) {
    let mut receiver = match AudioReceiver::new() {
        Ok(receiver) => receiver,
        Err(error) => {
            tracing::error!(%error, "no audio decoder");
            return;
        }
    };
    let mut pcm = Vec::new();
    while let Some(packet) = next_packet(shared, rx) {
        pcm.clear();
        let decoded = receiver.push(packet, Instant::now(), &mut pcm);
        if !pcm.is_empty() {
            group.mixer.push(from, &pcm);
        }
        if decoded && group.first(from, false) {
            shared.emit(CallEvent::StreamStarted { from, video: false });
        }
    }
}

fn video_thread(
    shared: &Shared,
    rx: &std_mpsc::Receiver<rtc::rtp::Packet>,
    want_keyframe: &AtomicBool,
    from: Option<UserId>,
) {
    let slot = match (&shared.group, from) {
        (Some(group), Some(from)) => Some((group, from, group.video(from))),
        _ => None,
    };
    let mut decoder = match H264Decoder::new() {
        Ok(decoder) => decoder,
        Err(error) => {
            tracing::error!(%error, "no video decoder");
            return;
        }
    };
    // Each picture goes to the decoder as soon as its last packet is in.
    let mut pictures = Assembler::new(VIDEO_MAX_DELAY);
    let mut decoded_any = false;
    while let Some(packet) = next_packet(shared, rx) {
        if let Some(packet) = packet {
            pictures.push(packet, Instant::now());
        }
        while let Some(picture) = pictures.pop(Instant::now()) {
            if picture.after_loss {
                want_keyframe.store(true, Ordering::Release);
            }
            match decoder.decode(&picture.data) {
                Ok(Some(frame)) => {
                    decoded_any = true;
                    shared
                        .received_pictures
                        .count(from, frame.width, frame.height);
                    if let Some((group, from, slot)) = &slot {
                        slot.publish(frame);
                        if group.first(*from, true) {
                            shared.emit(CallEvent::StreamStarted {
                                from: *from,
                                video: true,
                            });
                        }
                        continue;
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::audio::OpusEncoder;
    use crate::frame::FRAME_SAMPLES;
    use crate::source::tone::ToneSource;

    /// `n` consecutive 20 ms Opus packets of a 440 Hz tone as RTP.
    fn packets(n: u16) -> Vec<rtc::rtp::Packet> {
        let mut tone = ToneSource::unpaced(440.0);
        let mut encoder = OpusEncoder::new(32_000).unwrap();
        (0..n)
            .map(|i| rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    payload_type: 111,
                    sequence_number: 1000u16.wrapping_add(i),
                    timestamp: 5000 + u32::from(i) * 960,
                    ssrc: 42,
                    marker: i == 0,
                    ..Default::default()
                },
                payload: encoder.encode(&tone.generate()).unwrap().into(),
            })
            .collect()
    }

    fn receive(order: impl IntoIterator<Item = rtc::rtp::Packet>) -> Vec<i16> {
        let mut receiver = AudioReceiver::new().unwrap();
        let mut out = Vec::new();
        let start = Instant::now();
        for (i, packet) in order.into_iter().enumerate() {
            let now = start + Duration::from_millis(20 * i as u64);
            receiver.push(Some(packet), now, &mut out);
        }
        out
    }

    #[test]
    fn in_order_packets_come_out_whole() {
        let out = receive(packets(50));
        // Each packet is played as it arrives, the newest too.
        assert_eq!(out.len(), 50 * FRAME_SAMPLES);
    }

    #[test]
    fn reordered_packets_are_put_back_in_order() {
        let in_order = receive(packets(50));
        let mut shuffled = packets(50);
        shuffled.swap(10, 11);
        shuffled.swap(30, 32);
        let out = receive(shuffled);
        assert_eq!(out.len(), in_order.len());
        // Same packets decoded in the same order: same audio, sample for sample.
        assert_eq!(out, in_order);
    }

    #[test]
    fn a_lost_packet_is_concealed_not_skipped() {
        let in_order = receive(packets(50));
        let mut lossy = packets(50);
        lossy.remove(20);
        let out = receive(lossy);
        // 49 packets arrived, but the gap is filled: the timeline keeps its length.
        assert_eq!(out.len(), in_order.len(), "gap not filled");
        // And the filler is not silence.
        let gap = &out[20 * FRAME_SAMPLES..21 * FRAME_SAMPLES];
        let energy = gap.iter().map(|s| i64::from(*s).pow(2)).sum::<i64>() / gap.len() as i64;
        assert!(energy > 1_000_000, "concealed frame energy {energy}");
    }
}
