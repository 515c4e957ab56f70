//! Puts an audio stream's RTP packets back in order, handing each over as
//! soon as every packet before it is in.
//!
//! webrtc-rs's `SampleBuilder` hands a packet over only once the next one has
//! arrived (to know its duration), which holds all the sound back by one
//! packet: 20 ms. Here a packet goes out at once when it is the next in
//! sequence. A missing one is waited for (it may only be late) up to a
//! limit, counted from when the first packet behind it arrived; then it is
//! given up and counted as lost, for the decoder to conceal.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::assemble::extend_seq;

/// Packets held at most: beyond it the oldest hole is given up at once.
const MOST_PACKETS: usize = 256;

/// A packet in sequence, with how many were given up just before it.
#[derive(Debug)]
pub(crate) struct InOrder {
    pub(crate) packet: rtc::rtp::Packet,
    pub(crate) lost_before: u64,
}

/// Reorders one stream's packets.
pub(crate) struct Reorder {
    /// Packets not handed over yet, by extended sequence number, with when
    /// each arrived.
    packets: BTreeMap<u64, (Instant, rtc::rtp::Packet)>,
    newest: Option<u64>,
    /// The packet to hand over next.
    next: Option<u64>,
    /// The stream's source, to notice a new one.
    ssrc: Option<u32>,
    max_wait: Duration,
}

impl Reorder {
    /// A buffer that waits up to `max_wait` for a missing packet.
    pub(crate) fn new(max_wait: Duration) -> Self {
        Self {
            packets: BTreeMap::new(),
            newest: None,
            next: None,
            ssrc: None,
            max_wait,
        }
    }

    /// Forgets the stream so far: what comes next starts it afresh.
    fn start_over(&mut self) {
        self.packets.clear();
        self.newest = None;
        self.next = None;
    }

    /// Takes one packet, arrived `now`, in any order; duplicates and packets
    /// behind what was handed over are ignored. A new source, or a number
    /// far behind what went out (a sender that started its numbering over),
    /// starts the stream afresh rather than dropping all that follows.
    pub(crate) fn push(&mut self, packet: rtc::rtp::Packet, now: Instant) {
        let ssrc = packet.header.ssrc;
        if self.ssrc.is_some_and(|s| s != ssrc) {
            self.start_over();
        }
        self.ssrc = Some(ssrc);
        let mut extended = extend_seq(self.newest, packet.header.sequence_number);
        if let Some(next) = self.next
            && extended < next
        {
            if next - extended <= MOST_PACKETS as u64 {
                // Late: its turn has passed.
                return;
            }
            self.start_over();
            extended = extend_seq(None, packet.header.sequence_number);
        }
        self.newest = Some(self.newest.map_or(extended, |n| n.max(extended)));
        self.next.get_or_insert(extended);
        self.packets.entry(extended).or_insert((now, packet));
    }

    /// The next packet in sequence, if it is in, or once the ones missing
    /// before it were waited for long enough.
    pub(crate) fn pop(&mut self, now: Instant) -> Option<InOrder> {
        let next = self.next?;
        if let Some((_, packet)) = self.packets.remove(&next) {
            self.next = Some(next + 1);
            return Some(InOrder {
                packet,
                lost_before: 0,
            });
        }
        let (&behind, (arrived, _)) = self.packets.first_key_value()?;
        let waited = now.saturating_duration_since(*arrived);
        if waited < self.max_wait && self.packets.len() <= MOST_PACKETS {
            return None;
        }
        let (_, packet) = self.packets.remove(&behind)?;
        self.next = Some(behind + 1);
        Some(InOrder {
            packet,
            lost_before: behind - next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16) -> rtc::rtp::Packet {
        rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                sequence_number: seq,
                ..Default::default()
            },
            payload: bytes::Bytes::from(vec![seq as u8]),
        }
    }

    fn seqs(out: &[InOrder]) -> Vec<(u16, u64)> {
        out.iter()
            .map(|p| (p.packet.header.sequence_number, p.lost_before))
            .collect()
    }

    fn drain(buffer: &mut Reorder, now: Instant, out: &mut Vec<InOrder>) {
        while let Some(p) = buffer.pop(now) {
            out.push(p);
        }
    }

    #[test]
    fn a_packet_in_sequence_goes_out_at_once() {
        let mut buffer = Reorder::new(Duration::from_millis(100));
        let now = Instant::now();
        let mut out = Vec::new();
        for seq in [65_534, 65_535, 0, 1] {
            buffer.push(packet(seq), now);
            drain(&mut buffer, now, &mut out);
            assert_eq!(out.last().unwrap().packet.header.sequence_number, seq);
        }
        assert_eq!(seqs(&out), [(65_534, 0), (65_535, 0), (0, 0), (1, 0)]);
    }

    #[test]
    fn a_late_packet_is_waited_for_and_put_back_in_place() {
        let mut buffer = Reorder::new(Duration::from_millis(100));
        let t0 = Instant::now();
        let mut out = Vec::new();
        buffer.push(packet(10), t0);
        buffer.push(packet(12), t0);
        buffer.push(packet(12), t0);
        drain(&mut buffer, t0 + Duration::from_millis(99), &mut out);
        assert_eq!(seqs(&out), [(10, 0)]);
        buffer.push(packet(11), t0 + Duration::from_millis(99));
        drain(&mut buffer, t0 + Duration::from_millis(99), &mut out);
        assert_eq!(seqs(&out), [(10, 0), (11, 0), (12, 0)]);
    }

    #[test]
    fn a_missing_packet_is_given_up_after_the_wait_and_counted() {
        let mut buffer = Reorder::new(Duration::from_millis(100));
        let t0 = Instant::now();
        let mut out = Vec::new();
        buffer.push(packet(1), t0);
        drain(&mut buffer, t0, &mut out);
        // 2 and 3 never come; 4 arrives at 20 ms, 5 at 40 ms.
        buffer.push(packet(4), t0 + Duration::from_millis(20));
        buffer.push(packet(5), t0 + Duration::from_millis(40));
        drain(&mut buffer, t0 + Duration::from_millis(119), &mut out);
        assert_eq!(seqs(&out), [(1, 0)]);
        drain(&mut buffer, t0 + Duration::from_millis(120), &mut out);
        assert_eq!(seqs(&out), [(1, 0), (4, 2), (5, 0)]);
        // 3 turning up now is too late, and ignored.
        buffer.push(packet(3), t0 + Duration::from_millis(130));
        assert!(buffer.pop(t0 + Duration::from_millis(130)).is_none());
    }

    #[test]
    fn a_sender_that_starts_over_is_heard_at_once() {
        let mut buffer = Reorder::new(Duration::from_millis(100));
        let t0 = Instant::now();
        let mut out = Vec::new();
        for seq in [5_000, 5_001, 5_002] {
            buffer.push(packet(seq), t0);
        }
        drain(&mut buffer, t0, &mut out);
        // Numbering starts over far behind, then a new source far ahead.
        buffer.push(packet(17), t0);
        buffer.push(packet(18), t0);
        drain(&mut buffer, t0, &mut out);
        let mut other = packet(40_000);
        other.header.ssrc = 7;
        buffer.push(other, t0);
        drain(&mut buffer, t0, &mut out);
        assert_eq!(
            seqs(&out),
            [
                (5_000, 0),
                (5_001, 0),
                (5_002, 0),
                (17, 0),
                (18, 0),
                (40_000, 0)
            ]
        );
    }

    #[test]
    fn a_flood_behind_a_hole_does_not_grow_the_buffer() {
        let mut buffer = Reorder::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let mut out = Vec::new();
        buffer.push(packet(0), t0);
        for seq in 2..2_000u16 {
            buffer.push(packet(seq), t0);
            drain(&mut buffer, t0, &mut out);
            assert!(buffer.packets.len() <= MOST_PACKETS + 1);
        }
        // Once full, the hole is given up; every packet went out after all.
        assert_eq!(out.len(), 1 + 1_998);
        assert_eq!(seqs(&out[..2]), [(0, 0), (2, 1)]);
    }
}
