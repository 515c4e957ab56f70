//! Replay of the message log after a crash, on a log file of any content.
//!
//! The first byte picks how the rest becomes the file: raw (headers and all
//! from the input), or as records `len: u16, payload` framed with a correct
//! header and checksum, so the fuzzer reaches the payload decoder past the
//! checksum. The second and third bytes pick the generation written and the
//! position replay starts from.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use natter_server::storage::embedded::wal_hook;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("natter-fuzz-wal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let [mode, generation, offset, rest @ ..] = data else {
        return;
    };
    let generation = u64::from(*generation % 4);
    let file_generation = if mode & 2 == 0 {
        generation
    } else {
        generation + 1
    };
    let mut file = Vec::new();
    if mode & 1 == 0 {
        file.extend_from_slice(rest);
    } else {
        let mut rest = rest;
        while let [a, b, tail @ ..] = rest {
            let len = usize::from(u16::from_le_bytes([*a, *b])).min(tail.len());
            let (payload, next) = tail.split_at(len);
            let mut h = crc32fast::Hasher::new();
            h.update(&file_generation.to_le_bytes());
            h.update(payload);
            file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            file.extend_from_slice(&h.finalize().to_le_bytes());
            file.extend_from_slice(&file_generation.to_le_bytes());
            file.extend_from_slice(payload);
            rest = next;
        }
    }
    let dir = dir();
    let path = dir.join(format!("natter-{}.wal", file_generation % 2));
    let other = dir.join(format!("natter-{}.wal", (file_generation + 1) % 2));
    std::fs::write(&path, &file).expect("write the log");
    std::fs::write(&other, b"").expect("write the other log");
    let offset = u64::from(*offset) * 16;
    let _ = wal_hook::replay(dir, generation, offset);
});
