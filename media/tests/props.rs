//! Property tests of the voice-message container decoder, which reads
//! someone else's bytes: any input is refused with an error or gives at most
//! [`voice::MAX_LENGTH`] of audio. The fuzz target in `media/fuzz/` goes
//! deeper; this keeps the guarantee in `make test`.

#![allow(clippy::unwrap_used)]

use natter_media::voice;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Failures are reported, not written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Most samples a voice message may decode to (48 kHz mono).
const MAX_SAMPLES: usize = voice::MAX_LENGTH.as_secs() as usize * 48_000;

/// A container with the right header and packets of any bytes, its count
/// right or not.
fn container() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
        prop_oneof![Just(None), any::<u32>().prop_map(Some)],
    )
        .prop_map(|(packets, count)| {
            let mut out = b"NATVOICE".to_vec();
            out.extend_from_slice(&[1, 20, 0, 0]);
            let count = count.unwrap_or(packets.len() as u32);
            out.extend_from_slice(&count.to_le_bytes());
            for p in packets {
                out.extend_from_slice(&(p.len() as u16).to_le_bytes());
                out.extend_from_slice(&p);
            }
            out
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_refused_or_at_most_two_minutes(
        bytes in prop_oneof![proptest::collection::vec(any::<u8>(), 0..256), container()]
    ) {
        match voice::decode(&bytes) {
            Ok(clip) => prop_assert!(clip.samples().len() <= MAX_SAMPLES),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
