//! The parts of a cluster, started by the tests on loopback: a PostgreSQL
//! server (shared by the binary, a fresh database per cluster), nats-server,
//! relay nodes as real processes configured from `packaging/cluster/`
//! (node.toml, started with the ExecStart line of natter-relay@.service), and
//! haproxy in front of them with `packaging/cluster/haproxy.cfg`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use natter_proto::PROTOCOL_VERSIONS;
use natter_proto::frame::{ClientFrame, ServerFrame};
use tempfile::TempDir;

use crate::support::{Api, User, Ws, http_client};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn packaging(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../packaging/cluster")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn wait_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(child: &mut Option<Child>, signal: &str) {
    if let Some(mut c) = child.take() {
        let _ = Command::new("kill")
            .args([signal, &c.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = c.kill();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// `nats-server` on a free loopback port.
pub struct Nats {
    pub port: u16,
    child: Option<Child>,
}

impl Nats {
    pub fn start() -> Nats {
        let mut nats = Nats {
            port: free_port(),
            child: None,
        };
        nats.run();
        nats
    }

    fn run(&mut self) {
        let mut child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is not installed (make test installs it: .ci/deps.sh)");
        wait_port(self.port, "nats-server", &mut child);
        self.child = Some(child);
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops it (SIGKILL: the bus just goes away).
    pub fn kill(&mut self) {
        stop(&mut self.child, "-KILL");
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        stop(&mut self.child, "-KILL");
    }
}

/// haproxy in front of the nodes.
pub struct Haproxy {
    pub port: u16,
    child: Option<Child>,
    _dir: TempDir,
}

impl Haproxy {
    pub fn start(nodes: &[String]) -> Haproxy {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let servers: String = nodes
            .iter()
            .enumerate()
            .map(|(i, addr)| format!("    server n{} {addr}\n", i + 1))
            .collect();
        let cfg = packaging("haproxy.cfg")
            .replace("@FRONTEND@", &format!("127.0.0.1:{port}"))
            .replace("@SERVERS@", &servers);
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let check = Command::new("haproxy")
            .args(["-c", "-f"])
            .arg(&path)
            .output()
            .expect("haproxy is not installed (make test installs it: .ci/deps.sh)");
        assert!(
            check.status.success(),
            "haproxy refused the sample configuration ({}): {}{}",
            check.status,
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let mut child = Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_port(port, "haproxy", &mut child);
        Haproxy {
            port,
            child: Some(child),
            _dir: dir,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        stop(&mut self.child, "-KILL");
    }
}

/// One relay node, a real process.
pub struct Node {
    pub addr: String,
    /// Its id in the cluster (the `Natter-Node` header).
    pub id: String,
    child: Option<Child>,
}

impl Node {
    /// Starts node `index` the way `natter-relay@<index>.service` does, with
    /// its configuration made from `packaging/cluster/node.toml`.
    pub async fn start(index: usize, dir: &Path, database: &str, nats: &str, files: &Path) -> Node {
        let data = dir.join(format!("node-{index}"));
        std::fs::create_dir_all(&data).unwrap();
        // Short call timers, so the tests see rings and grace periods run out.
        let toml = "call_ring_timeout_ms = 3000\ncall_grace_ms = 1500\n".to_string()
            + &packaging("node.toml")
                .replace("@NODE@", &index.to_string())
                .replace("@BIND@", "127.0.0.1:0")
                .replace("@DATA_DIR@", &data.display().to_string())
                .replace("@DATABASE@", database)
                .replace("@NATS@", nats)
                .replace("@FILES_DIR@", &files.display().to_string());
        std::fs::write(dir.join(format!("relay-{index}.toml")), toml).unwrap();
        let unit = packaging("natter-relay@.service");
        let exec = unit
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .expect("the unit has an ExecStart line")
            .replace(
                "/usr/bin/natter-server",
                env!("CARGO_BIN_EXE_natter-server"),
            )
            .replace("/etc/natter", &dir.display().to_string())
            .replace("%i", &index.to_string());
        let mut args = exec.split_whitespace();
        let mut child = Command::new(args.next().unwrap())
            .args(args)
            // Cheap password hashing, so tests sign in quickly.
            .args(["--argon2-memory-kib", "64", "--argon2-iterations", "1"])
            .args(["--registrations-per-hour", "0"])
            .env("NATTER_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Killed if anything below fails.
        let mut node = Node {
            addr: String::new(),
            id: String::new(),
            child: Some(child),
        };
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(
            line.contains("listening on"),
            "node {index} did not start: {line:?}"
        );
        node.addr = line.trim().rsplit(' ').next().unwrap().to_string();
        let health = http_client()
            .get(format!("http://{}/healthz", node.addr))
            .send()
            .await
            .unwrap();
        node.id = health.headers()["natter-node"]
            .to_str()
            .unwrap()
            .to_string();
        node
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        stop(&mut self.child, "-KILL");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        stop(&mut self.child, "-KILL");
    }
}

/// Three (or `n`) nodes on one database and one bus, behind haproxy.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub nats: Nats,
    /// REST through haproxy.
    pub api: Api,
    /// The shared files directory.
    pub files: PathBuf,
    _lb: Haproxy,
    _dir: TempDir,
}

impl Cluster {
    pub async fn start(n: usize) -> Cluster {
        Self::start_on(n, &crate::pg::shared().fresh_database().await).await
    }

    /// `n` nodes on the database at `database`.
    pub async fn start_on(n: usize, database: &str) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let nats = Nats::start();
        let files = dir.path().join("files");
        let mut nodes = Vec::new();
        for i in 1..=n {
            nodes.push(Node::start(i, dir.path(), database, &nats.url(), &files).await);
        }
        let addrs: Vec<String> = nodes.iter().map(|n| n.addr.clone()).collect();
        let lb = Haproxy::start(&addrs);
        let api = Api::new(&lb.base());
        Cluster {
            nodes,
            nats,
            api,
            files,
            _lb: lb,
            _dir: dir,
        }
    }

    /// A WebSocket session through haproxy that landed on `node` (haproxy
    /// balances round robin; connections landing elsewhere are closed and
    /// tried again).
    pub async fn ws_on(&self, user: &User, node: usize) -> Ws {
        let want = &self.nodes[node].id;
        let url = self.api.ws_url();
        for _ in 0..50 {
            let (stream, response) = tokio_tungstenite::connect_async(&url).await.unwrap();
            let landed = response
                .headers()
                .get("natter-node")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if landed != want {
                continue;
            }
            return hello(Ws::from_stream(stream), &user.token).await;
        }
        panic!("haproxy never sent a session to node {node}");
    }

    /// A WebSocket session through haproxy on whichever node it picks, and
    /// which node that is.
    pub async fn ws_any(&self, user: &User) -> (Ws, usize) {
        let url = self.api.ws_url();
        let (stream, response) = tokio_tungstenite::connect_async(&url).await.unwrap();
        let landed = response.headers()["natter-node"]
            .to_str()
            .unwrap()
            .to_string();
        let node = self.nodes.iter().position(|n| n.id == landed).unwrap();
        (hello(Ws::from_stream(stream), &user.token).await, node)
    }
}

async fn hello(mut ws: Ws, token: &str) -> Ws {
    ws.send(&ClientFrame::Hello {
        protocols: PROTOCOL_VERSIONS.to_vec(),
        token: token.into(),
    })
    .await;
    let welcome = ws.next().await;
    assert!(
        matches!(welcome, ServerFrame::Welcome { .. }),
        "expected welcome, got {welcome:?}"
    );
    ws.welcome = welcome;
    ws
}
