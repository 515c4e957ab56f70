//! The system's file chooser (through `rfd`), and telling when there is none.
//!
//! On Linux `rfd` asks the xdg desktop portal over D-Bus and falls back to
//! `zenity`; with neither it returns nothing, exactly as if the person had
//! closed the dialog, and only logs the failure. So the app looks for a way in
//! before asking, and treats a dialog that "closes" faster than a person could
//! close it as missing too. Then the window says so and points to dragging
//! files onto it and pasting pictures.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A dialog that returns sooner than this never showed.
const TOO_FAST: Duration = Duration::from_millis(300);

/// What a file dialog gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// A path was chosen.
    Path(PathBuf),
    /// The person closed the dialog.
    Closed,
    /// There is no file dialog on this system.
    Unavailable,
}

/// Whether this system can show a file dialog.
pub fn available() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let runtime = std::env::var_os("XDG_RUNTIME_DIR");
    let path = std::env::var_os("PATH").unwrap_or_default();
    available_in(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").as_deref(),
        runtime.as_deref().map(Path::new),
        &path,
    )
}

/// Whether a portal could answer (a session bus, named or at its usual
/// socket) or `zenity` is on `path`.
fn available_in(bus: Option<&OsStr>, runtime: Option<&Path>, path: &OsStr) -> bool {
    let bus =
        bus.is_some_and(|b| !b.is_empty()) || runtime.is_some_and(|dir| dir.join("bus").exists());
    let zenity = std::env::split_paths(path).any(|dir| is_program(&dir.join("zenity")));
    bus || zenity
}

fn is_program(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Asks for a file to open; `filter` names the extensions offered.
pub async fn pick_file(title: String, filter: Option<(String, &'static [&'static str])>) -> Chosen {
    if !available() {
        return Chosen::Unavailable;
    }
    let mut dialog = rfd::AsyncFileDialog::new().set_title(title);
    if let Some((name, extensions)) = filter {
        dialog = dialog.add_filter(name, extensions);
    }
    let asked = Instant::now();
    let picked = dialog.pick_file().await.map(|f| f.path().to_path_buf());
    chosen(picked, asked.elapsed())
}

/// Asks where to save a file called `name`.
pub async fn save_file(title: String, name: String) -> Chosen {
    if !available() {
        return Chosen::Unavailable;
    }
    let asked = Instant::now();
    let picked = rfd::AsyncFileDialog::new()
        .set_title(title)
        .set_file_name(name)
        .save_file()
        .await
        .map(|f| f.path().to_path_buf());
    chosen(picked, asked.elapsed())
}

fn chosen(picked: Option<PathBuf>, took: Duration) -> Chosen {
    match picked {
        Some(path) => Chosen::Path(path),
        None if took < TOO_FAST => Chosen::Unavailable,
        None => Chosen::Closed,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_needs_a_session_bus_or_zenity() {
        let empty = tempfile::tempdir().unwrap();
        let none = OsStr::new("");
        assert!(!available_in(None, None, none));
        assert!(!available_in(Some(none), Some(empty.path()), none));
        assert!(available_in(
            Some(OsStr::new("unix:path=/run/bus")),
            None,
            none
        ));
        // The bus at its usual place under the runtime directory.
        let runtime = tempfile::tempdir().unwrap();
        std::fs::write(runtime.path().join("bus"), b"").unwrap();
        assert!(available_in(None, Some(runtime.path()), none));
        // zenity on the path counts only as a program.
        let bin = tempfile::tempdir().unwrap();
        let zenity = bin.path().join("zenity");
        std::fs::write(&zenity, b"#!/bin/sh\n").unwrap();
        let path = std::env::join_paths([empty.path(), bin.path()]).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert!(!available_in(None, None, &path), "not executable");
            std::fs::set_permissions(&zenity, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert!(available_in(None, None, &path));
    }

    #[test]
    fn a_dialog_that_closes_at_once_never_showed() {
        let p = PathBuf::from("/tmp/x.png");
        assert_eq!(
            chosen(Some(p.clone()), Duration::ZERO),
            Chosen::Path(p.clone())
        );
        assert_eq!(chosen(None, Duration::from_millis(5)), Chosen::Unavailable);
        assert_eq!(chosen(None, Duration::from_secs(4)), Chosen::Closed);
    }
}
