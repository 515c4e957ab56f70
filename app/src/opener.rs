//! Opening a downloaded file with the system's default application, and
//! showing it in its folder, through the platform's opener (`xdg-open` on
//! Linux and the BSDs, `open` on macOS, `explorer` on Windows).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An opener that has not answered in this long has started an application
/// that is still running: it worked.
const ANSWER: Duration = Duration::from_secs(3);

/// Why a file could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The platform's opener is not installed; its name.
    NoOpener(String),
    /// The opener ran and failed (no application for this kind of file).
    Failed(String),
}

/// Opens `path` with its default application.
pub async fn open(path: PathBuf) -> Result<(), OpenError> {
    let (program, args) = command(&path, false);
    run(program, args).await
}

/// Shows the folder holding `path` (with the file selected where the
/// platform can).
pub async fn show_in_folder(path: PathBuf) -> Result<(), OpenError> {
    let (program, args) = command(&path, true);
    run(program, args).await
}

/// The program and arguments that open `path`, or its folder if `reveal`.
fn command(path: &Path, reveal: bool) -> (OsString, Vec<OsString>) {
    let folder = || {
        path.parent()
            .map(|p| p.as_os_str().to_owned())
            .unwrap_or_else(|| OsString::from("."))
    };
    if cfg!(target_os = "macos") {
        let mut args = Vec::new();
        if reveal {
            args.push(OsString::from("-R"));
        }
        args.push(path.as_os_str().to_owned());
        (OsString::from("open"), args)
    } else if cfg!(windows) {
        let arg = if reveal {
            let mut a = OsString::from("/select,");
            a.push(path.as_os_str());
            a
        } else {
            path.as_os_str().to_owned()
        };
        (OsString::from("explorer"), vec![arg])
    } else {
        let target = if reveal {
            folder()
        } else {
            path.as_os_str().to_owned()
        };
        (OsString::from("xdg-open"), vec![target])
    }
}

/// Runs the opener off the UI thread and waits briefly for its answer.
async fn run(program: OsString, args: Vec<OsString>) -> Result<(), OpenError> {
    let name = program.to_string_lossy().into_owned();
    let mut child = tokio::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                OpenError::NoOpener(name.clone())
            }
            _ => OpenError::Failed(e.to_string()),
        })?;
    match tokio::time::timeout(ANSWER, child.wait()).await {
        Err(_) => Ok(()),
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => {
            let mut why = String::new();
            if let Some(mut err) = child.stderr.take() {
                use tokio::io::AsyncReadExt;
                let _ = err.read_to_string(&mut why).await;
            }
            let why = why.lines().next().unwrap_or_default().trim().to_string();
            Err(OpenError::Failed(if why.is_empty() {
                format!("{name}: {status}")
            } else {
                why
            }))
        }
        Ok(Err(e)) => Err(OpenError::Failed(e.to_string())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn script(dir: &Path, name: &str, body: &str) -> OsString {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.into_os_string()
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_opener_gets_the_file_and_its_failures_are_told() {
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        let ok = script(
            dir.path(),
            "opener",
            &format!("echo \"$1\" > {}", seen.display()),
        );
        run(ok, vec![OsString::from("/x/report.pdf")])
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&seen).unwrap().trim(),
            "/x/report.pdf"
        );
        let failing = script(
            dir.path(),
            "failing",
            "echo 'no application for this file' >&2; exit 3",
        );
        assert_eq!(
            run(failing, vec![]).await,
            Err(OpenError::Failed("no application for this file".into()))
        );
        let missing = dir.path().join("xdg-open").into_os_string();
        assert_eq!(
            run(missing.clone(), vec![]).await,
            Err(OpenError::NoOpener(missing.to_string_lossy().into_owned()))
        );
    }

    #[test]
    fn show_in_folder_opens_the_folder() {
        let (program, args) = command(Path::new("/home/a/Downloads/x.txt"), true);
        if cfg!(target_os = "linux") {
            assert_eq!(program, "xdg-open");
            assert_eq!(args, vec![OsString::from("/home/a/Downloads")]);
            let (_, args) = command(Path::new("/home/a/Downloads/x.txt"), false);
            assert_eq!(args, vec![OsString::from("/home/a/Downloads/x.txt")]);
        }
    }
}
