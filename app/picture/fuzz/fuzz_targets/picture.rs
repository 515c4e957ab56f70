//! Any bytes as a received picture or avatar: refused, or decoded to a
//! thumbnail within the asked size, within the decoder's memory bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(small) = natter_picture::thumbnail(data, 256) {
        assert!(small.width() <= 256 && small.height() <= 256);
    }
    if let Some((w, h)) = natter_picture::dimensions(data) {
        assert!(w <= natter_picture::MAX_SIDE && h <= natter_picture::MAX_SIDE);
    }
});
