//! A received voice message, decoded for playing: any bytes are refused or
//! give at most two minutes of audio.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_media::voice;

fuzz_target!(|data: &[u8]| {
    if let Ok(clip) = voice::decode(data) {
        let max = voice::MAX_LENGTH.as_millis() as usize * 48;
        assert!(clip.samples().len() <= max, "{}", clip.samples().len());
    }
});
