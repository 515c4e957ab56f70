//! Codec round trips without a network: what goes in comes out recognisably.

use crate::common;
use natter_media::codec::audio::{OpusDecoder, OpusEncoder};
use natter_media::codec::video::{H264Decoder, H264Encoder, VideoEncoderSettings};
use natter_media::source::pattern::{self, PatternSource};
use natter_media::source::tone::ToneSource;

#[test]
fn opus_round_trip_keeps_the_tone() {
    let mut tone = ToneSource::unpaced(440.0);
    let mut encoder = OpusEncoder::new(32_000).unwrap();
    let mut decoder = OpusDecoder::new().unwrap();
    let mut out = Vec::new();
    for _ in 0..50 {
        let packet = encoder.encode(&tone.generate()).unwrap();
        assert!(
            !packet.is_empty() && packet.len() < 400,
            "{} bytes",
            packet.len()
        );
        out.extend(decoder.decode(&packet).unwrap());
    }
    assert_eq!(out.len(), 50 * 960);
    // Skip the codec's start-up, then look at half a second.
    let tail = &out[out.len() - 24_000..];
    common::assert_dominant(tail, 440.0);
    assert!(common::rms(tail) > 3_000.0, "rms {}", common::rms(tail));
}

#[test]
fn opus_conceals_a_lost_packet() {
    let mut tone = ToneSource::unpaced(440.0);
    let mut encoder = OpusEncoder::new(32_000).unwrap();
    let mut decoder = OpusDecoder::new().unwrap();
    let packets: Vec<_> = (0..10)
        .map(|_| encoder.encode(&tone.generate()).unwrap())
        .collect();
    for p in &packets[..5] {
        decoder.decode(p).unwrap();
    }
    // Packet 5 is lost: rebuild it from packet 6's FEC.
    let rebuilt = decoder.conceal(Some(&packets[6])).unwrap();
    assert_eq!(rebuilt.len(), 960);
    assert!(common::rms(&rebuilt) > 1_000.0);
}

#[test]
fn opus_refuses_a_short_frame() {
    let mut encoder = OpusEncoder::new(32_000).unwrap();
    let frame = natter_media::AudioFrame {
        samples: vec![0; 100],
    };
    assert!(matches!(
        encoder.encode(&frame),
        Err(natter_media::Error::Codec(_))
    ));
}

#[test]
fn h264_round_trip_keeps_the_pattern() {
    let (w, h) = (320, 240);
    let mut source = PatternSource::unpaced(w, h, 30).unwrap();
    let mut encoder = H264Encoder::new(VideoEncoderSettings {
        bitrate: 800_000,
        ..Default::default()
    })
    .unwrap();
    let mut decoder = H264Decoder::new().unwrap();
    let mut last = None;
    for _ in 0..15 {
        let bitstream = encoder.encode(&source.generate()).unwrap();
        if bitstream.is_empty() {
            continue;
        }
        if let Some(frame) = decoder.decode(&bitstream).unwrap() {
            last = Some(frame);
        }
    }
    let frame = last.expect("at least one picture decoded");
    assert_eq!((frame.width, frame.height), (w, h));
    let y = pattern::band_top(h) / 2;
    for (i, want) in pattern::BARS.iter().enumerate() {
        let x = w * i / 8 + w / 16;
        let [r, g, b, _] = frame.pixel(x, y).unwrap();
        assert!(
            common::close([r, g, b], *want, 40),
            "bar {i} at ({x},{y}): got {:?}, want {want:?}",
            [r, g, b]
        );
    }
}

#[test]
fn h264_decoder_rejects_garbage_without_panicking() {
    let mut decoder = H264Decoder::new().unwrap();
    let garbage = [0u8, 0, 0, 1, 0x65, 0xff, 0x00, 0x12, 0x34];
    // Either an error or no picture; never a panic or a bogus frame.
    if let Ok(Some(frame)) = decoder.decode(&garbage) {
        panic!(
            "garbage decoded to a {}×{} picture",
            frame.width, frame.height
        );
    }
}
