//! The message log's record decoder on any payload: it never panics, and what
//! it accepts it encodes back to exactly the same bytes (so it never holds
//! more than the payload carried).
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_server::storage::embedded::wal_hook;

fuzz_target!(|data: &[u8]| {
    if let Some(again) = wal_hook::decode_reencoded(data) {
        assert_eq!(again, data);
    }
});
