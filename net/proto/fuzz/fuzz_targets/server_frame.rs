//! What the client does with a WebSocket text frame from the relay
//! (`natter_net::session` reads it with `serde_json::from_str`). A frame that
//! decodes must survive a round trip through JSON unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_proto::frame::ServerFrame;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = serde_json::from_str::<ServerFrame>(text) {
        let again = serde_json::to_string(&frame).expect("a decoded frame encodes");
        let back: ServerFrame = serde_json::from_str(&again).expect("an encoded frame decodes");
        assert_eq!(back, frame, "{again}");
    }
});
