//! A real PostgreSQL server for the tests: `initdb` into a temp dir, then
//! `postgres` on a free loopback port with its socket in that dir. As root it
//! runs as the `postgres` user (PostgreSQL refuses to run as root).
//!
//! One shared server per test binary ([`shared`]), with a fresh database per
//! relay ([`PgServer::fresh_database`]); tests that stop the server start
//! their own ([`PgServer::start`]).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sqlx::Connection;

pub struct PgServer {
    /// The cluster's directory (data, socket, log).
    pub dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
    bin: PathBuf,
    /// (uid, gid) of `postgres` when the tests run as root.
    user: Option<(u32, u32)>,
    /// Remove `dir` when dropped (not for the shared server, which a watchdog
    /// removes when the test process ends).
    owned: bool,
}

/// Where `initdb` and `postgres` are: on `PATH`, or Debian's versioned
/// directory.
fn bin_dir() -> PathBuf {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("postgres").is_file() && dir.join("initdb").is_file() {
                return dir;
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let v = e.file_name().to_str()?.parse().ok()?;
                    Some((v, e.path().join("bin")))
                })
                .filter(|(_, p)| p.join("postgres").is_file())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .map(|(_, p)| p)
        .expect("PostgreSQL is not installed (make test installs it: .ci/deps.sh)")
}

fn id(args: &[&str]) -> u32 {
    let out = Command::new("id").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgServer {
    /// A new cluster, started.
    pub fn start() -> PgServer {
        let dir = tempfile::Builder::new()
            .prefix("natter-pg-")
            .tempdir()
            .unwrap()
            .keep();
        let user = (id(&["-u"]) == 0).then(|| (id(&["-u", "postgres"]), id(&["-g", "postgres"])));
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let mut server = PgServer {
            dir,
            port: 0,
            child: None,
            bin: bin_dir(),
            user,
            owned: true,
        };
        let out = server
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "natter",
                "-E",
                "UTF8",
                "--no-locale",
                "-N",
                "-D",
            ])
            .arg(server.dir.join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server.port = free_port();
        server.run();
        server
    }

    fn command(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(name));
        cmd.current_dir(&self.dir).stdin(Stdio::null());
        if let Some((uid, gid)) = self.user {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn log(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    /// Starts `postgres` on the cluster and waits until it accepts
    /// connections.
    fn run(&mut self) {
        for _attempt in 0..3 {
            let log = std::fs::File::create(self.log()).unwrap();
            let child = self
                .command("postgres")
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-p", &self.port.to_string(), "-h", "127.0.0.1", "-k"])
                .arg(&self.dir)
                .args(["-c", "max_connections=300", "-c", "shared_buffers=32MB"])
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let text = read(&self.log());
                if text.contains("ready to accept connections") {
                    return;
                }
                let exited = self
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                    .is_some();
                if exited {
                    if text.contains("could not bind") || text.contains("already in use") {
                        // Someone took the port meanwhile: another one.
                        self.port = free_port();
                        break;
                    }
                    panic!("postgres exited: {text}");
                }
                assert!(Instant::now() < deadline, "postgres did not start: {text}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("postgres found no free port");
    }

    /// Stops the server the way an operator would (fast shutdown: clients are
    /// disconnected), and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Starts it again on the same data and port.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://natter@127.0.0.1:{}/{database}", self.port)
    }

    /// A new empty database; its URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!("t_{:016x}", rand::random::<u64>());
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        self.url(&name)
    }
}

fn read(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
        if self.owned {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The test binary's shared server, started on first use. Statics are never
/// dropped, so a watchdog process stops it and removes its directory once
/// this process has ended.
pub fn shared() -> &'static PgServer {
    static SHARED: OnceLock<PgServer> = OnceLock::new();
    SHARED.get_or_init(|| {
        let mut server = PgServer::start();
        server.owned = false;
        let pid = server.child.as_ref().unwrap().id();
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
             kill -INT {pid} 2>/dev/null; sleep 5; kill -KILL {pid} 2>/dev/null; \
             rm -rf '{dir}'",
            me = std::process::id(),
            dir = server.dir.display(),
        );
        // Outlives this process on purpose: it is what stops the server.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        server
    })
}
