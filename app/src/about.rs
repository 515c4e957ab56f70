//! Versions for Settings → About and `natter --version`, and where the app
//! keeps its data.
//!
//! Data: with a file named `portable` next to the executable, everything
//! (profiles, settings, the bundled relay's data) lives in `data/` beside it,
//! so a portable folder carries its own state and writes nothing elsewhere.
//! Otherwise `NATTER_HOME` if set, else the OS's per-user data directory
//! (`~/.local/share/natter` on Linux, `%APPDATA%\Natter\data` on Windows,
//! `~/Library/Application Support/Natter` on macOS).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// This app's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The name of the marker file that makes a folder portable.
pub const PORTABLE_MARKER: &str = "portable";

fn relay_versions() -> &'static Mutex<HashMap<String, String>> {
    static VERSIONS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    VERSIONS.get_or_init(Default::default)
}

/// Remembers the version the relay at `server` reported.
pub fn record_relay_version(server: &str, version: &str) {
    relay_versions()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            server.trim_end_matches('/').to_string(),
            version.to_string(),
        );
}

/// The version the relay at `server` reported, if it has answered.
pub fn relay_version(server: &str) -> Option<String> {
    relay_versions()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(server.trim_end_matches('/'))
        .cloned()
}

/// The About line: the app's version and the relay's.
pub fn line(i18n: &natter_i18n::I18n, server: &str) -> String {
    use natter_i18n::Arg;
    let relay = relay_version(server).unwrap_or_else(|| i18n.tr("settings-about-relay-unknown"));
    i18n.tr_args(
        "settings-about",
        &[("app", Arg::from(VERSION)), ("relay", Arg::from(relay))],
    )
}

/// Where the app keeps its data, given the directory of its executable and
/// the value of `NATTER_HOME`.
pub fn data_home(exe_dir: Option<&Path>, natter_home: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = exe_dir.filter(|d| d.join(PORTABLE_MARKER).is_file()) {
        return dir.join("data");
    }
    if let Some(home) = natter_home {
        return home;
    }
    match directories::ProjectDirs::from("", "", "Natter") {
        // On Linux this is $XDG_DATA_HOME/natter or ~/.local/share/natter.
        Some(dirs) => dirs.data_dir().to_path_buf(),
        None => PathBuf::from("natter-data"),
    }
}

/// The directory of the running executable, symlinks resolved.
pub fn exe_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    exe.parent().map(Path::to_path_buf)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_portable_marker_keeps_data_beside_the_executable() {
        let dir = tempfile::tempdir().unwrap();
        let home = Some(PathBuf::from("/elsewhere"));
        assert_eq!(
            data_home(Some(dir.path()), home.clone()),
            PathBuf::from("/elsewhere")
        );
        std::fs::write(dir.path().join(PORTABLE_MARKER), "").unwrap();
        assert_eq!(data_home(Some(dir.path()), home), dir.path().join("data"));
    }

    #[test]
    fn without_marker_or_natter_home_the_os_data_dir_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let got = data_home(Some(dir.path()), None);
        assert!(!got.starts_with(dir.path()));
        assert!(
            got.to_string_lossy().to_lowercase().contains("natter"),
            "{got:?}"
        );
    }

    #[test]
    fn relay_versions_are_kept_per_server() {
        record_relay_version("http://127.0.0.1:1/", "9.9.9");
        assert_eq!(
            relay_version("http://127.0.0.1:1").as_deref(),
            Some("9.9.9")
        );
        assert_eq!(relay_version("http://127.0.0.1:2"), None);
    }
}
