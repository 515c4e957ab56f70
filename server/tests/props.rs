//! Property tests of what the relay reads from outside: the message log's
//! records after a crash, a download's `Range` header, the TOML
//! configuration. The fuzz targets in `server/fuzz/` go deeper; these keep the
//! guarantee in `make test`.

#![allow(clippy::unwrap_used)]

use natter_server::Config;
use natter_server::files::{Wanted, wanted};
use natter_server::storage::embedded::wal_hook;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Failures are reported, not written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A message-log payload: well-formed writes, or any bytes, or well-formed
/// writes with a cut or a flipped byte.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let message = (
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(c, s, v)| {
            let mut out = vec![1u8];
            out.extend_from_slice(&c.to_le_bytes());
            out.extend_from_slice(&s.to_le_bytes());
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(&v);
            out
        });
    let client_id =
        (any::<u64>(), any::<u64>(), any::<u64>(), "[a-z0-9]{0,64}").prop_map(|(c, u, s, id)| {
            let mut out = vec![2u8];
            out.extend_from_slice(&c.to_le_bytes());
            out.extend_from_slice(&u.to_le_bytes());
            out.extend_from_slice(&s.to_le_bytes());
            out.extend_from_slice(&(id.len() as u16).to_le_bytes());
            out.extend_from_slice(id.as_bytes());
            out
        });
    let good = proptest::collection::vec(prop_oneof![message, client_id], 0..6)
        .prop_map(|ops| ops.concat());
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        good.clone(),
        (
            good,
            any::<prop::sample::Index>(),
            any::<u8>(),
            any::<bool>()
        )
            .prop_map(|(mut p, at, byte, cut)| {
                if !p.is_empty() {
                    let i = at.index(p.len());
                    if cut {
                        p.truncate(i);
                    } else {
                        p[i] = byte;
                    }
                }
                p
            }),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// What the decoder accepts encodes back to exactly the payload: it
    /// never holds more than the payload carried.
    #[test]
    fn log_records_decode_to_no_more_than_they_carry(payload in payload()) {
        if let Some(again) = wal_hook::decode_reencoded(&payload) {
            prop_assert_eq!(again, payload);
        }
    }

    /// A log file of any content replays without a panic, from any position.
    #[test]
    fn a_log_file_of_any_content_replays(
        file in proptest::collection::vec(any::<u8>(), 0..512),
        generation in 0u64..4,
        offset in 0u64..600,
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("natter-{}.wal", generation % 2)), &file).unwrap();
        let _ = wal_hook::replay(dir.path(), generation, offset);
    }

    /// A part asked for lies within the file, whatever the header says.
    #[test]
    fn a_range_stays_within_the_file(
        header in prop_oneof![
            any::<String>(),
            "bytes=[0-9]{0,21}-[0-9]{0,21}",
            "bytes= ?-?[0-9]{0,3} ?- ?[0-9]{0,3},?[0-9]{0,2}",
        ],
        len in prop_oneof![Just(0u64), Just(1), 0u64..2000, Just(u64::MAX)],
    ) {
        match wanted(Some(&header), len) {
            Wanted::Part { start, end } => {
                prop_assert!(start <= end, "{header:?} {len}: {start}..={end}");
                prop_assert!(end < len, "{header:?} {len}: {start}..={end}");
            }
            Wanted::Whole | Wanted::Unsatisfiable => {}
        }
    }

    /// Any text as the configuration file: read or refused, never a panic.
    #[test]
    fn any_text_as_the_config_file(
        text in prop_oneof![
            any::<String>(),
            "(\\[(limits|throttle|turn)\\]\n)?((bind|data_dir|heartbeat_ms|max_frame_bytes|frames_per_sec|page_size|enabled|min_port|max_port|public_ip|cors_origins|trusted_proxies|log_format) = ([0-9]{1,22}|\"[^\"\n]{0,12}\"|true|\\[\\]|-1)\n){0,4}",
        ]
    ) {
        if let Ok(config) = toml::from_str::<Config>(&text) {
            let _ = config.heartbeat();
            let _ = config.files_dir();
        }
    }
}
