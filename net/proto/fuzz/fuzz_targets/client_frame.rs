//! What the relay does with a WebSocket text frame from a client: decode it
//! (or say why not) and peek at its ids. A frame that decodes must survive a
//! round trip through JSON unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_proto::frame::{decode_client, peek_ids};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = peek_ids(text);
    match decode_client(text) {
        Ok(frame) => {
            let again = serde_json::to_string(&frame).expect("a decoded frame encodes");
            assert_eq!(decode_client(&again).as_ref(), Ok(&frame), "{again}");
        }
        Err(e) => assert!(!e.message.is_empty()),
    }
});
