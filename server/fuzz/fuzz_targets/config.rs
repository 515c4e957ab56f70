//! The relay's TOML configuration file, as `Config::from_file` reads it, and
//! the checks `--check-config` makes that need no files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_server::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = toml::from_str::<Config>(text) {
        let _ = config.heartbeat();
        let _ = config.files_dir();
        let _ = config.clustered();
        // `check` reads the TLS files and looks at the data directory: only
        // when no files are named, so the fuzzer never opens what it names.
        if config.tls_cert.is_none() && config.tls_key.is_none() {
            let _ = config.check();
        }
    }
});
