//! The `natter-server` program: `--check-config`, `--log-format json`, and
//! `admin` from the command line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::make_cert;

fn relay_bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_natter-server"));
    c.env_remove("NATTER_CONFIG").env_remove("NATTER_LOG");
    c
}

#[test]
fn check_config_accepts_a_good_file_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = make_cert(dir.path());
    let toml = dir.path().join("relay.toml");
    std::fs::write(
        &toml,
        format!(
            "bind = \"127.0.0.1:7443\"\ndata_dir = {:?}\ntls_cert = {:?}\ntls_key = {:?}\nmetrics_bind = \"127.0.0.1:9464\"\nlog_format = \"json\"\n",
            dir.path().join("data"),
            cert,
            key
        ),
    )
    .unwrap();
    let out = relay_bin()
        .arg("--config")
        .arg(&toml)
        .arg("--check-config")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(stdout.contains("https://127.0.0.1:7443"), "{stdout}");
    assert!(stdout.contains("http://127.0.0.1:9464/metrics"), "{stdout}");
    // Checking starts nothing and creates nothing.
    assert!(!dir.path().join("data").exists());

    // A key file that is not a key: exit 1, the file named.
    let out = relay_bin()
        .arg("--config")
        .arg(&toml)
        .arg("--tls-key")
        .arg(&toml)
        .arg("--check-config")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("relay.toml"), "{stderr}");

    // An unknown key in the file: exit 1, the key named.
    std::fs::write(&toml, "bind = \"127.0.0.1:7443\"\nmetrics_port = 9\n").unwrap();
    let out = relay_bin()
        .arg("--config")
        .arg(&toml)
        .arg("--check-config")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("metrics_port"), "{stderr}");
}

#[test]
fn the_sample_relay_toml_in_packaging_is_valid() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../packaging/relay/relay.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = relay_bin()
        .args(["--config", sample, "--check-config"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("metrics: http://127.0.0.1:9464/metrics"),
        "{stdout}"
    );
}

#[test]
fn json_logs_and_admin_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut relay = relay_bin()
        .args([
            "--bind",
            "127.0.0.1:0",
            "--no-turn",
            "--log-format",
            "json",
            "--argon2-memory-kib",
            "64",
            "--argon2-iterations",
            "1",
        ])
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(relay.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("natter-server listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();

    // Register an account over HTTP with a blocking client on a runtime.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api = crate::support::Api::new(&format!("http://{addr}"));
        api.user("cli-erin").await;
    });

    // The running relay answers the CLI over its admin socket.
    let out = relay_bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["admin", "search", "erin"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("cli-erin") && text.contains("1 account(s)"),
        "{text}"
    );
    let out = relay_bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["admin", "--json", "disable", "cli-erin"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["reply"], "changed");
    assert_eq!(reply["account"]["disabled"], true);
    assert_eq!(reply["sessions_closed"], 1);
    let out = relay_bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["admin", "enable", "nobody-here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody-here"));

    stop(&mut relay);
    // Every log line is one JSON object with a level and a message.
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut relay.stderr.take().unwrap(), &mut stderr).unwrap();
    let mut lines = 0;
    for l in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{l}"
        );
        lines += 1;
    }
    assert!(lines >= 2, "{stderr}");
    assert!(stderr.contains("account disabled"), "{stderr}");
    assert!(!stderr.contains("pw-cli-erin"), "a password was logged");

    // Stopped: the CLI opens the data directory itself.
    let out = relay_bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["admin", "reset-password", "cli-erin"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("new password: "))
        .unwrap();
    assert_eq!(password.len(), 16);
}

fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("relay did not stop on SIGTERM");
}
