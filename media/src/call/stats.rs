//! The numbers behind the in-call stats line, condensed from WebRTC's stats report.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use natter_proto::model::UserId;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use webrtc::peer_connection::{RTCStatsReport, RTCStatsReportEntry};

/// How long a stream's picture rate is counted over.
const PICTURE_WINDOW: Duration = Duration::from_secs(1);
/// A stream with no picture for this long shows none.
const PICTURE_STALE: Duration = Duration::from_secs(3);

/// The pictures a stream carries: their size and how many a second.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VideoStats {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pictures a second, over the last second or so.
    pub fps: f64,
}

/// One other participant of a group call, as this device receives them.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantStats {
    /// Who.
    pub user: UserId,
    /// Their packets lost on the way here, `lost / (lost + received)`.
    pub loss_fraction: f64,
    /// Inter-arrival jitter of their streams (the larger of audio and video).
    pub jitter: Option<Duration>,
    /// Their incoming bits a second since the previous snapshot.
    pub recv_bitrate_bps: f64,
    /// Their picture, while one arrives.
    pub video: Option<VideoStats>,
}

/// A snapshot of call quality.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallStats {
    /// Round-trip time to the peer, once measured.
    pub rtt: Option<Duration>,
    /// RTP packets received, all streams.
    pub packets_received: u64,
    /// RTP packets the peer sent that never arrived, all streams.
    pub packets_lost: u64,
    /// `packets_lost / (packets_lost + packets_received)`, 0.0 when nothing arrived.
    pub loss_fraction: f64,
    /// Payload bytes sent, all streams.
    pub bytes_sent: u64,
    /// Payload bytes received, all streams.
    pub bytes_received: u64,
    /// Outgoing bits a second since the previous snapshot.
    pub send_bitrate_bps: f64,
    /// Incoming bits a second since the previous snapshot.
    pub recv_bitrate_bps: f64,
    /// Inter-arrival jitter of the incoming streams (the largest), once
    /// measured.
    pub jitter: Option<Duration>,
    /// What the congestion controller says the path to the peer (or the
    /// relay) carries now, from the receiver's feedback; the encoder follows
    /// it. `None` until the first feedback.
    pub target_bitrate_bps: Option<f64>,
    /// The audio codec ("Opus").
    pub audio_codec: &'static str,
    /// The video codec ("H.264"), when the call carries video.
    pub video_codec: Option<&'static str>,
    /// The picture this device sends, while it sends one.
    pub sent_video: Option<VideoStats>,
    /// The peer's picture as received, in a 1:1 call.
    pub received_video: Option<VideoStats>,
    /// In a group call: each other participant heard or seen so far.
    pub participants: Vec<ParticipantStats>,
}

/// Counts pictures per stream as they pass (sent or decoded).
#[derive(Debug, Default)]
pub(crate) struct Pictures {
    streams: Mutex<HashMap<Option<UserId>, Counter>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    window_start: Option<Instant>,
    in_window: u32,
    last: Option<Instant>,
    stats: VideoStats,
}

impl Pictures {
    /// One picture of `width × height` passed on stream `from` (`None`: the
    /// one stream of a 1:1 call, or this device's own).
    pub(crate) fn count(&self, from: Option<UserId>, width: usize, height: usize) {
        let now = Instant::now();
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let counter = streams.entry(from).or_default();
        counter.stats.width = u32::try_from(width).unwrap_or(u32::MAX);
        counter.stats.height = u32::try_from(height).unwrap_or(u32::MAX);
        if counter.last.is_some_and(|last| now - last > PICTURE_WINDOW) {
            // After a pause (camera off, a blackout) the rate starts over.
            counter.window_start = None;
            counter.in_window = 0;
            counter.stats.fps = 0.0;
        }
        counter.last = Some(now);
        counter.in_window += 1;
        let start = *counter.window_start.get_or_insert(now);
        let elapsed = now - start;
        if elapsed >= PICTURE_WINDOW {
            counter.stats.fps = f64::from(counter.in_window) / elapsed.as_secs_f64();
            counter.window_start = Some(now);
            counter.in_window = 0;
        }
    }

    /// Stream `from`'s pictures, unless none passed lately.
    pub(crate) fn read(&self, from: Option<UserId>) -> Option<VideoStats> {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let counter = streams.get(&from)?;
        let fresh = counter.last.is_some_and(|t| t.elapsed() < PICTURE_STALE);
        let mut stats = counter.stats;
        if stats.fps == 0.0 {
            // No full window yet: the rate so far.
            let elapsed = counter
                .window_start
                .map_or(0.0, |t| t.elapsed().as_secs_f64());
            if counter.in_window > 1 && elapsed > 0.5 {
                stats.fps = f64::from(counter.in_window) / elapsed;
            }
        }
        fresh.then_some(stats)
    }

    /// Forgets stream `from` (a participant left).
    pub(crate) fn forget(&self, from: Option<UserId>) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.remove(&from);
    }
}

/// What [`summarise`] reads besides the report: who sends each incoming
/// stream, and the picture counters.
pub(super) struct Context<'a> {
    pub(super) senders: &'a HashMap<u32, UserId>,
    pub(super) sent: &'a Pictures,
    pub(super) received: &'a Pictures,
    pub(super) group: bool,
    pub(super) video: bool,
}

/// One participant's counters while a report is read.
#[derive(Default)]
struct Tally {
    received: u64,
    lost: u64,
    bytes: u64,
    jitter: Option<f64>,
}

/// The previous snapshot's counters, for bitrates.
#[derive(Debug, Default)]
pub(super) struct Previous {
    at: Option<Instant>,
    bytes_sent: u64,
    bytes_received: u64,
    /// Bytes received per participant at the previous snapshot.
    bytes_from: HashMap<UserId, u64>,
}

pub(super) fn summarise(
    report: &RTCStatsReport,
    previous: &mut Previous,
    now: Instant,
    context: &Context<'_>,
) -> CallStats {
    let mut stats = CallStats {
        audio_codec: "Opus",
        video_codec: context.video.then_some("H.264"),
        ..CallStats::default()
    };
    let mut pair_rtt = None;
    let mut remote_rtt = None;
    let mut jitter: Option<f64> = None;
    let mut tallies: HashMap<UserId, Tally> = HashMap::new();
    for entry in report.iter() {
        match entry {
            RTCStatsReportEntry::IceCandidatePair(pair)
                if pair.nominated && pair.current_round_trip_time > 0.0 =>
            {
                pair_rtt = Some(pair.current_round_trip_time);
            }
            RTCStatsReportEntry::RemoteInboundRtp(remote)
                if remote.round_trip_time_measurements > 0 =>
            {
                remote_rtt = Some(remote.round_trip_time);
            }
            RTCStatsReportEntry::InboundRtp(inbound) => {
                let received = &inbound.received_rtp_stream_stats;
                let lost = received.packets_lost.max(0).unsigned_abs();
                stats.packets_received += received.packets_received;
                stats.packets_lost += lost;
                stats.bytes_received += inbound.bytes_received;
                // Jitter comes in RTP timestamp units: 90 kHz for video, 48 kHz
                // for Opus.
                let clock = match received.rtp_stream_stats.kind {
                    RtpCodecKind::Video => 90_000.0,
                    _ => 48_000.0,
                };
                let stream_jitter = (received.jitter.is_finite() && received.packets_received > 0)
                    .then_some(received.jitter / clock);
                jitter = larger(jitter, stream_jitter);
                if let Some(user) = context.senders.get(&received.rtp_stream_stats.ssrc) {
                    let tally = tallies.entry(*user).or_default();
                    tally.received += received.packets_received;
                    tally.lost += lost;
                    tally.bytes += inbound.bytes_received;
                    tally.jitter = larger(tally.jitter, stream_jitter);
                }
            }
            RTCStatsReportEntry::OutboundRtp(outbound) => {
                stats.bytes_sent += outbound.sent_rtp_stream_stats.bytes_sent;
                // One estimate for the connection, reported on each stream.
                if outbound.target_bitrate > 0.0
                    && (stats.target_bitrate_bps.is_none()
                        || outbound.sent_rtp_stream_stats.rtp_stream_stats.kind
                            == RtpCodecKind::Video)
                {
                    stats.target_bitrate_bps = Some(outbound.target_bitrate);
                }
            }
            _ => {}
        }
    }
    stats.rtt = pair_rtt
        .or(remote_rtt)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    stats.loss_fraction = fraction(stats.packets_lost, stats.packets_received);
    stats.jitter = jitter.map(Duration::from_secs_f64);
    let secs = previous
        .at
        .map(|at| (now - at).as_secs_f64())
        .filter(|s| *s > 0.0);
    let rate = |bytes: u64, before: u64| match secs {
        Some(secs) => bytes.saturating_sub(before) as f64 * 8.0 / secs,
        None => 0.0,
    };
    stats.send_bitrate_bps = rate(stats.bytes_sent, previous.bytes_sent);
    stats.recv_bitrate_bps = rate(stats.bytes_received, previous.bytes_received);
    stats.sent_video = context.sent.read(None);
    if !context.group {
        stats.received_video = context.received.read(None);
    }
    let mut bytes_from = HashMap::new();
    for (user, tally) in tallies {
        let before = previous.bytes_from.get(&user).copied().unwrap_or(0);
        stats.participants.push(ParticipantStats {
            user,
            loss_fraction: fraction(tally.lost, tally.received),
            jitter: tally.jitter.map(Duration::from_secs_f64),
            recv_bitrate_bps: rate(tally.bytes, before),
            video: context.received.read(Some(user)),
        });
        bytes_from.insert(user, tally.bytes);
    }
    stats.participants.sort_by_key(|p| p.user);
    *previous = Previous {
        at: Some(now),
        bytes_sent: stats.bytes_sent,
        bytes_received: stats.bytes_received,
        bytes_from,
    };
    stats
}

/// The larger of two measurements, either of which may be missing.
fn larger(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// `lost / (lost + received)`, 0.0 when nothing was expected.
fn fraction(lost: u64, received: u64) -> f64 {
    let expected = lost + received;
    if expected == 0 {
        0.0
    } else {
        lost as f64 / expected as f64
    }
}
