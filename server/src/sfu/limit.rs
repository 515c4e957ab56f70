//! The relay's limit on what one stream of a group call may carry: how its
//! offer says so, and how what a stream sends beyond it is dropped.

use std::time::Duration;

/// Bytes of an RTP packet besides its payload (the fixed header), counted
/// against a stream's allowance.
pub(super) const RTP_HEADER_BYTES: usize = 12;

/// A stream's allowance: a bucket of bytes filled at the stream's limit,
/// holding at most a second's worth; a packet the bucket cannot pay for is
/// dropped.
pub(super) struct Allowance {
    bytes_per_sec: f64,
    bytes: f64,
    at: Option<std::time::Instant>,
    dropped: u64,
    /// When the last drop was logged.
    told: Option<std::time::Instant>,
}

impl Allowance {
    pub(super) fn new(bits_per_sec: u64) -> Allowance {
        let bytes_per_sec = bits_per_sec as f64 / 8.0;
        Allowance {
            bytes_per_sec,
            bytes: bytes_per_sec,
            at: None,
            dropped: 0,
            told: None,
        }
    }

    /// Whether a packet of `size` bytes arriving `now` may be forwarded.
    pub(super) fn take(&mut self, size: usize, now: std::time::Instant) -> bool {
        if let Some(at) = self.at {
            let refill = now.saturating_duration_since(at).as_secs_f64() * self.bytes_per_sec;
            self.bytes = (self.bytes + refill).min(self.bytes_per_sec);
        }
        self.at = Some(now);
        let size = size as f64;
        if self.bytes >= size {
            self.bytes -= size;
            return true;
        }
        self.dropped += 1;
        if self.told.is_none_or(|t| now - t >= Duration::from_secs(1)) {
            self.told = Some(now);
            tracing::info!(
                dropped = self.dropped,
                limit_kbps = self.bytes_per_sec * 8.0 / 1_000.0,
                "a group call stream is over the relay's limit"
            );
        }
        false
    }
}

/// The relay's offer with `b=AS:kbps` on every section the device sends on
/// (the relay's `recvonly` ones), after the section's connection line: the
/// most each of its streams may carry.
pub(super) fn with_stream_limit(sdp: &str, kbps: u64) -> String {
    let mut out = String::with_capacity(sdp.len() + 64);
    for (i, section) in sdp.split("\r\nm=").enumerate() {
        if i > 0 {
            out.push_str("\r\nm=");
        }
        let receives = i > 0 && section.contains("\r\na=recvonly");
        match section.find("\r\nc=") {
            Some(at) if receives => {
                let end = section[at + 2..]
                    .find("\r\n")
                    .map_or(section.len(), |n| at + 2 + n);
                out.push_str(&section[..end]);
                out.push_str(&format!("\r\nb=AS:{kbps}"));
                out.push_str(&section[end..]);
            }
            _ => out.push_str(section),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_names_the_limit_on_what_the_device_sends() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sendonly\r\n";
        let limited = with_stream_limit(sdp, 300);
        let sections: Vec<&str> = limited.split("\r\nm=").collect();
        assert_eq!(sections.len(), 4);
        assert!(!sections[0].contains("b=AS"));
        for upstream in &sections[1..3] {
            assert!(
                upstream.contains("\r\nc=IN IP4 0.0.0.0\r\nb=AS:300\r\na=mid:"),
                "{upstream}"
            );
        }
        assert!(!sections[3].contains("b=AS"), "{}", sections[3]);
        assert_eq!(limited.len(), sdp.len() + 2 * "\r\nb=AS:300".len());
    }

    #[test]
    fn a_stream_over_its_limit_loses_what_exceeds_it() {
        // 80 kbit/s = 10,000 bytes a second, a second's worth of burst.
        let mut allowance = Allowance::new(80_000);
        let start = std::time::Instant::now();
        let mut passed = 0;
        // 1,000-byte packets at 40 a second (4× the limit) for 5 s.
        for i in 0..200u32 {
            let now = start + Duration::from_millis(u64::from(i) * 25);
            if allowance.take(1_000, now) {
                passed += 1;
            }
        }
        // The burst (10) and then 10 a second for the 4.975 s after it.
        assert!((55..=61).contains(&passed), "{passed} passed");
        assert_eq!(allowance.dropped, 200 - passed);
        // Within the limit, nothing is lost.
        let mut allowance = Allowance::new(80_000);
        for i in 0..100u32 {
            let now = start + Duration::from_millis(u64::from(i) * 100);
            assert!(allowance.take(1_000, now), "packet {i}");
        }
    }
}
