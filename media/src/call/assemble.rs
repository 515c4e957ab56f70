//! Puts a video stream's RTP packets back together into pictures, handing
//! each over as soon as its last packet is in.
//!
//! webrtc-rs's `SampleBuilder` hands a picture over only once the first
//! packet of the *next* one has arrived (to know the picture's duration),
//! which holds every picture back by one picture interval: 67 ms at 15 fps.
//! Here a picture is complete at its last packet (the RTP marker bit, or the
//! packet before one with a new timestamp), provided every packet since the
//! previous picture is in. A missing packet is waited for (a retransmission
//! may fill it) up to a limit; then the pictures it broke are dropped and the
//! next whole one is handed over, marked as following a loss.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rtc::rtp::codec::h264::H264Packet;
use rtc::rtp::packetizer::Depacketizer;

/// Packets held at most, so a stream that never completes a picture cannot
/// grow without bound.
const MOST_PACKETS: usize = 1_024;

/// One picture's bitstream.
#[derive(Debug)]
pub(crate) struct Picture {
    /// H.264 Annex B.
    pub(crate) data: Vec<u8>,
    /// Whether pictures before this one were lost (a key frame is due).
    pub(crate) after_loss: bool,
}

/// Reassembles pictures from an H.264 stream's RTP packets.
pub(crate) struct Assembler {
    /// Packets not handed over yet, by extended sequence number, with when
    /// each arrived.
    packets: BTreeMap<u64, (Instant, rtc::rtp::Packet)>,
    /// The newest extended sequence number seen.
    newest: Option<u64>,
    /// The first packet of the next picture.
    next: Option<u64>,
    max_wait: Duration,
    lost: bool,
    depacketizer: H264Packet,
}

impl Assembler {
    /// An assembler that waits up to `max_wait` for a missing packet.
    pub(crate) fn new(max_wait: Duration) -> Self {
        Self {
            packets: BTreeMap::new(),
            newest: None,
            next: None,
            max_wait,
            lost: false,
            depacketizer: H264Packet::default(),
        }
    }

    /// Takes one packet, arrived `now`, in any order; duplicates and packets
    /// of pictures already handed over are ignored.
    pub(crate) fn push(&mut self, packet: rtc::rtp::Packet, now: Instant) {
        let extended = extend_seq(self.newest, packet.header.sequence_number);
        if self.next.is_some_and(|next| extended < next) {
            return;
        }
        self.newest = Some(self.newest.map_or(extended, |n| n.max(extended)));
        self.next.get_or_insert(extended);
        self.packets.entry(extended).or_insert((now, packet));
        if self.packets.len() > MOST_PACKETS {
            // Something never completes: start over after the newest picture.
            self.skip_to_after_marker(None);
        }
    }

    /// The next complete picture, if any. A missing packet is waited for
    /// until `max_wait` after the first packet behind it arrived.
    pub(crate) fn pop(&mut self, now: Instant) -> Option<Picture> {
        loop {
            let next = self.next?;
            match self.complete_from(next) {
                Run::Picture(last) => {
                    let picture = self.take(next, last);
                    match picture {
                        // Only padding (a sender probing the path): nothing
                        // to show, nothing lost.
                        Some(data) if data.is_empty() => {}
                        Some(data) => {
                            return Some(Picture {
                                data,
                                after_loss: std::mem::take(&mut self.lost),
                            });
                        }
                        // Unusable payloads: like a loss.
                        None => self.lost = true,
                    }
                }
                Run::Incomplete => return None,
                Run::Gap => {
                    let after = self.first_after_gap(next)?;
                    let since = self.packets.get(&after).map_or(now, |(at, _)| *at);
                    if now.saturating_duration_since(since) < self.max_wait {
                        return None;
                    }
                    // Given up on: drop what the gap broke, go on from the
                    // first picture that starts after it.
                    self.lost = true;
                    let head = self.packet(next).map(|p| p.header.timestamp);
                    let resumes = self.packet(after).map(|p| p.header.timestamp);
                    if head.is_some() && head != resumes {
                        // The hole was the end of this picture; the next
                        // one begins right after it.
                        self.keep_from(after);
                    } else {
                        self.skip_to_after_marker(Some(after));
                    }
                }
            }
        }
    }

    /// Packet `seq`, if it is in.
    fn packet(&self, seq: u64) -> Option<&rtc::rtp::Packet> {
        self.packets.get(&seq).map(|(_, packet)| packet)
    }

    /// Whether the packets from `first` on make a whole picture.
    fn complete_from(&self, first: u64) -> Run {
        let Some(head) = self.packet(first) else {
            return if self.packets.is_empty() {
                Run::Incomplete
            } else {
                Run::Gap
            };
        };
        let timestamp = head.header.timestamp;
        let mut seq = first;
        loop {
            let Some(packet) = self.packet(seq) else {
                // Nothing after `seq` yet: still arriving; something after
                // it: a hole.
                return if self.packets.range(seq..).next().is_some() {
                    Run::Gap
                } else {
                    Run::Incomplete
                };
            };
            if packet.header.timestamp != timestamp {
                // The next picture began without this one's marker.
                return Run::Picture(seq - 1);
            }
            if packet.header.marker {
                return Run::Picture(seq);
            }
            seq += 1;
        }
    }

    /// The first packet present after the hole that begins at or after `from`.
    fn first_after_gap(&self, from: u64) -> Option<u64> {
        let mut seq = from;
        while self.packets.contains_key(&seq) {
            seq += 1;
        }
        self.packets.range(seq..).next().map(|(k, _)| *k)
    }

    /// Drops everything up to the end of the picture that `from` (or the
    /// newest packet) belongs to; the next picture starts after its marker,
    /// or at the first packet with a later timestamp.
    fn skip_to_after_marker(&mut self, from: Option<u64>) {
        let Some(from) = from.or_else(|| self.packets.keys().next_back().copied()) else {
            return;
        };
        let timestamp = self.packet(from).map(|p| p.header.timestamp);
        let mut start = None;
        for (seq, (_, packet)) in self.packets.range(from..) {
            if Some(packet.header.timestamp) != timestamp {
                start = Some(*seq);
                break;
            }
            if packet.header.marker {
                start = Some(seq + 1);
                break;
            }
        }
        let start = start.unwrap_or_else(|| self.newest.map_or(from, |n| n + 1));
        self.keep_from(start);
        self.lost = true;
    }

    /// Forgets every packet before `start`, where the next picture begins.
    fn keep_from(&mut self, start: u64) {
        self.packets = self.packets.split_off(&start);
        self.next = Some(start);
    }

    /// Removes packets `first..=last` and joins their payloads (empty for
    /// padding alone); `None` if one would not depacketize.
    fn take(&mut self, first: u64, last: u64) -> Option<Vec<u8>> {
        let rest = self.packets.split_off(&(last + 1));
        let run = std::mem::replace(&mut self.packets, rest);
        self.next = Some(last + 1);
        let mut data = Vec::new();
        let mut ok = true;
        for (_, (_, packet)) in run.range(first..) {
            match self.depacketizer.depacketize(&packet.payload) {
                Ok(bytes) => data.extend_from_slice(&bytes),
                // A packet of padding carries nothing.
                Err(_) if packet.payload.is_empty() => {}
                Err(_) => ok = false,
            }
        }
        ok.then_some(data)
    }
}

/// `seq` as a 64-bit number that keeps growing past 65 535: the nearest
/// to `newest` with these low 16 bits (the first starts high enough that
/// one arriving late cannot go below zero).
pub(super) fn extend_seq(newest: Option<u64>, seq: u16) -> u64 {
    match newest {
        None => u64::from(seq) + (1 << 32),
        Some(newest) => {
            let diff = i64::from(seq.wrapping_sub(newest as u16) as i16);
            newest.saturating_add_signed(diff)
        }
    }
}

enum Run {
    /// A whole picture, ending at this packet.
    Picture(u64),
    /// Its packets are still arriving.
    Incomplete,
    /// One of its packets is missing while later ones are in.
    Gap,
}

/// A packet of a picture, for the tests.
#[cfg(test)]
fn packet(seq: u16, timestamp: u32, marker: bool, payload: &[u8]) -> rtc::rtp::Packet {
    rtc::rtp::Packet {
        header: rtc::rtp::header::Header {
            sequence_number: seq,
            timestamp,
            marker,
            payload_type: 102,
            ..Default::default()
        },
        payload: bytes::Bytes::copy_from_slice(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single-NAL payload (type 1, a non-IDR slice) carrying `tag`.
    fn slice(tag: u8) -> Vec<u8> {
        vec![0x41, tag, tag, tag]
    }

    fn annex_b(tags: &[u8]) -> Vec<u8> {
        tags.iter()
            .flat_map(|t| {
                let mut nal = vec![0, 0, 0, 1];
                nal.extend(slice(*t));
                nal
            })
            .collect()
    }

    #[test]
    fn a_picture_goes_at_its_last_packet_not_at_the_next_pictures_first() {
        let now = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        a.push(packet(10, 3000, false, &slice(1)), now);
        assert!(a.pop(now).is_none());
        a.push(packet(11, 3000, true, &slice(2)), now);
        let picture = a.pop(now).expect("complete at the marker");
        assert_eq!(picture.data, annex_b(&[1, 2]));
        assert!(!picture.after_loss);
        assert!(a.pop(now).is_none());
    }

    #[test]
    fn packets_out_of_order_and_twice_make_one_picture() {
        let now = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        a.push(packet(65_534, 1, false, &slice(1)), now);
        a.push(packet(0, 1, true, &slice(3)), now);
        assert!(a.pop(now).is_none(), "65535 is missing");
        a.push(packet(65_535, 1, false, &slice(2)), now);
        a.push(packet(65_535, 1, false, &slice(2)), now);
        let picture = a.pop(now).unwrap();
        assert_eq!(picture.data, annex_b(&[1, 2, 3]));
        // A late copy of a packet already handed over changes nothing.
        a.push(packet(65_535, 1, false, &slice(2)), now);
        a.push(packet(1, 2, true, &slice(4)), now);
        assert_eq!(a.pop(now).unwrap().data, annex_b(&[4]));
    }

    #[test]
    fn a_lost_packet_is_waited_for_then_its_picture_is_dropped() {
        let start = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        a.push(packet(1, 100, true, &slice(1)), start);
        assert_eq!(a.pop(start).unwrap().data, annex_b(&[1]));
        // Picture 200 loses its packet 3; picture 300 arrives whole.
        a.push(packet(2, 200, false, &slice(2)), start);
        a.push(packet(4, 200, true, &slice(4)), start);
        a.push(packet(5, 300, false, &slice(5)), start);
        a.push(packet(6, 300, true, &slice(6)), start);
        assert!(a.pop(start).is_none());
        assert!(a.pop(start + Duration::from_millis(400)).is_none());
        let picture = a.pop(start + Duration::from_millis(600)).unwrap();
        assert_eq!(picture.data, annex_b(&[5, 6]));
        assert!(picture.after_loss);
        a.push(packet(7, 400, true, &slice(7)), start);
        assert!(
            !a.pop(start + Duration::from_millis(600))
                .unwrap()
                .after_loss
        );
    }

    #[test]
    fn a_picture_whose_last_packet_is_lost_does_not_take_the_next_with_it() {
        let start = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        a.push(packet(1, 100, false, &slice(1)), start);
        // 2 (100's marker) is lost; 3 and 4 make picture 200.
        a.push(packet(3, 200, false, &slice(3)), start);
        a.push(packet(4, 200, true, &slice(4)), start);
        assert!(a.pop(start).is_none());
        let picture = a.pop(start + Duration::from_millis(501)).unwrap();
        assert_eq!(picture.data, annex_b(&[3, 4]));
        assert!(picture.after_loss);
    }

    #[test]
    fn holes_that_arrived_together_are_given_up_together() {
        let start = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        // Pictures 100 and 200 each lose a packet; 300 is whole; all came
        // in at once.
        for (seq, ts, marker) in [(1, 100, false), (3, 100, true), (4, 200, false)] {
            a.push(packet(seq, ts, marker, &slice(seq as u8)), start);
        }
        for (seq, ts, marker) in [(6, 200, true), (7, 300, true)] {
            a.push(packet(seq, ts, marker, &slice(seq as u8)), start);
        }
        assert!(a.pop(start + Duration::from_millis(499)).is_none());
        // Half a second after they arrived, both holes are given up at once:
        // the second does not start its wait only when the first ends.
        let picture = a.pop(start + Duration::from_millis(501)).unwrap();
        assert_eq!(picture.data, annex_b(&[7]));
        assert!(picture.after_loss);
    }

    #[test]
    fn padding_between_pictures_is_no_loss() {
        let now = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        a.push(packet(1, 100, true, &slice(1)), now);
        a.push(packet(2, 100, false, &[]), now);
        a.push(packet(3, 100, false, &[]), now);
        a.push(packet(4, 200, true, &slice(4)), now);
        assert_eq!(a.pop(now).unwrap().data, annex_b(&[1]));
        let picture = a.pop(now).unwrap();
        assert_eq!(picture.data, annex_b(&[4]));
        assert!(!picture.after_loss);
    }

    #[test]
    fn a_lost_marker_ends_the_picture_at_the_next_timestamp() {
        let now = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        a.push(packet(1, 100, false, &slice(1)), now);
        a.push(packet(2, 200, true, &slice(2)), now);
        assert_eq!(a.pop(now).unwrap().data, annex_b(&[1]));
        assert_eq!(a.pop(now).unwrap().data, annex_b(&[2]));
    }

    #[test]
    fn a_retransmission_in_time_fills_the_hole() {
        let start = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        a.push(packet(1, 100, false, &slice(1)), start);
        a.push(packet(3, 100, true, &slice(3)), start);
        assert!(a.pop(start).is_none());
        a.push(packet(2, 100, false, &slice(2)), start);
        let picture = a.pop(start + Duration::from_millis(200)).unwrap();
        assert_eq!(picture.data, annex_b(&[1, 2, 3]));
        assert!(!picture.after_loss);
    }

    #[test]
    fn a_stream_that_never_completes_stays_bounded() {
        let now = Instant::now();
        let mut a = Assembler::new(Duration::from_millis(500));
        for i in 0..5_000u16 {
            a.push(packet(i, 7, false, &slice(1)), now);
            assert!(a.packets.len() <= MOST_PACKETS);
        }
        assert!(a.pop(now).is_none());
    }
}
