//! The numbers behind the in-call stats line, condensed from WebRTC's stats report.

use std::time::{Duration, Instant};

use webrtc::peer_connection::{RTCStatsReport, RTCStatsReportEntry};

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
}

/// The previous snapshot's counters, for bitrates.
#[derive(Debug, Default)]
pub(super) struct Previous {
    at: Option<Instant>,
    bytes_sent: u64,
    bytes_received: u64,
}

pub(super) fn summarise(
    report: &RTCStatsReport,
    previous: &mut Previous,
    now: Instant,
) -> CallStats {
    let mut stats = CallStats::default();
    let mut pair_rtt = None;
    let mut remote_rtt = None;
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
                stats.packets_received += received.packets_received;
                stats.packets_lost += received.packets_lost.max(0).unsigned_abs();
                stats.bytes_received += inbound.bytes_received;
            }
            RTCStatsReportEntry::OutboundRtp(outbound) => {
                stats.bytes_sent += outbound.sent_rtp_stream_stats.bytes_sent;
            }
            _ => {}
        }
    }
    stats.rtt = pair_rtt
        .or(remote_rtt)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    let expected = stats.packets_lost + stats.packets_received;
    if expected > 0 {
        stats.loss_fraction = stats.packets_lost as f64 / expected as f64;
    }
    if let Some(at) = previous.at {
        let secs = (now - at).as_secs_f64();
        if secs > 0.0 {
            stats.send_bitrate_bps =
                stats.bytes_sent.saturating_sub(previous.bytes_sent) as f64 * 8.0 / secs;
            stats.recv_bitrate_bps =
                stats.bytes_received.saturating_sub(previous.bytes_received) as f64 * 8.0 / secs;
        }
    }
    *previous = Previous {
        at: Some(now),
        bytes_sent: stats.bytes_sent,
        bytes_received: stats.bytes_received,
    };
    stats
}
