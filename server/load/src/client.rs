//! The relay under test (a child process) and the client side: REST provisioning
//! and WebSocket sessions.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::{ConversationId, FriendRequest, Group, UserId};
use natter_proto::rest::{
    CreateGroup, Friends, LoginRequest, RegisterRequest, SendFriendRequest, Session,
};
use natter_proto::{PROTOCOL_VERSIONS, WS_PATH};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A WebSocket session.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The relay under test: a child process, or one already running elsewhere.
pub struct Relay {
    child: Option<Mutex<Child>>,
    /// `host:port` sessions and REST go to.
    pub addr: String,
    http: reqwest::Client,
    _dir: Option<TempDir>,
}

fn http_client() -> reqwest::Client {
    // rustls is built without a default provider in this workspace.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

impl Relay {
    /// Starts `natter-server` on a free loopback port with a fresh data dir,
    /// benchmark-friendly limits and cheap password hashing (provisioning
    /// thousands of accounts is not what is measured).
    pub async fn spawn(bin: &Path) -> anyhow::Result<Relay> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(bin)
            .args(["--bind", "127.0.0.1:0", "--no-turn", "--data-dir"])
            .arg(dir.path())
            .args(["--argon2-memory-kib", "64", "--argon2-iterations", "1"])
            .args(["--registrations-per-hour", "0"])
            .args(["--frames-per-sec", "1000000", "--frames-burst", "1000000"])
            .env(
                "NATTER_LOG",
                std::env::var("NATTER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("relay stdout")?;
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().rsplit(' ').next().filter(|a| a.contains(':')) else {
            bail!("relay did not report its address: {line:?}");
        };
        Ok(Relay {
            addr: addr.to_string(),
            child: Some(Mutex::new(child)),
            http: http_client(),
            _dir: Some(dir),
        })
    }

    /// A relay (or load balancer) already running at `addr` (`host:port`).
    /// It should hash passwords cheaply and allow high frame rates, as a
    /// spawned one does (`--argon2-memory-kib 64 --argon2-iterations 1
    /// --frames-per-sec 1000000 --frames-burst 1000000`).
    pub fn external(addr: &str) -> Relay {
        let addr = addr
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Relay {
            child: None,
            addr,
            http: http_client(),
            _dir: None,
        }
    }

    /// Whether the relay is this tool's child (so its memory and CPU can be
    /// read).
    pub fn is_child(&self) -> bool {
        self.child.is_some()
    }

    /// The relay's pid (0 for an external relay).
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .and_then(|c| c.lock().ok().map(|c| c.id()))
            .unwrap_or(0)
    }

    /// Resident memory of the relay, KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .context("no VmRSS")?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .context("VmRSS value")?
            .parse()?)
    }

    /// CPU time the relay has used (user + system), seconds; 0 for an
    /// external relay.
    pub fn cpu_secs(&self) -> anyhow::Result<f64> {
        if !self.is_child() {
            return Ok(0.0);
        }
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        let after = stat.rsplit_once(')').context("stat")?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        Ok(ticks as f64 / 100.0)
    }

    /// Stops the relay.
    pub fn stop(&self) {
        if let Some(Ok(mut c)) = self.child.as_ref().map(|c| c.lock()) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Registers `account` and signs in `devices` times.
    pub async fn account(&self, account: &str, devices: usize) -> anyhow::Result<Vec<Session>> {
        let password = format!("load-{account}-password");
        let reg = RegisterRequest {
            account: account.into(),
            password: password.clone(),
            nickname: String::new(),
            email: None,
            phone: None,
            avatar: None,
        };
        let r = self
            .http
            .post(self.url("/v1/auth/register"))
            .json(&reg)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("register {account}: {}", r.text().await?);
        }
        let mut out = Vec::with_capacity(devices);
        for d in 0..devices {
            let login = LoginRequest {
                account: account.into(),
                password: password.clone(),
                device_id: Some(format!("dev{d}")),
                device_name: None,
            };
            let r = self
                .http
                .post(self.url("/v1/auth/login"))
                .json(&login)
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("login {account}: {}", r.text().await?);
            }
            out.push(r.json().await?);
        }
        Ok(out)
    }

    /// Makes two accounts friends; returns their conversation. Already being
    /// friends is fine.
    pub async fn befriend(&self, a: &Session, b: &Session) -> anyhow::Result<ConversationId> {
        let to = b.profile.user.id;
        let r = self
            .http
            .post(self.url("/v1/friends/requests"))
            .bearer_auth(&a.access_token)
            .json(&SendFriendRequest {
                to,
                message: String::new(),
            })
            .send()
            .await?;
        if r.status().is_success() {
            let req: FriendRequest = r.json().await?;
            let r = self
                .http
                .post(self.url(&format!("/v1/friends/requests/{}/accept", req.id)))
                .bearer_auth(&b.access_token)
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("accept: {}", r.text().await?);
            }
        }
        let friends: Friends = self
            .http
            .get(self.url("/v1/friends"))
            .bearer_auth(&a.access_token)
            .send()
            .await?
            .json()
            .await?;
        friends
            .friends
            .iter()
            .find(|f| f.user.id == to)
            .map(|f| f.conversation)
            .context("friendship missing")
    }

    /// Creates a group of `owner` and `members` (friends of the owner).
    pub async fn group(
        &self,
        owner: &Session,
        members: Vec<UserId>,
    ) -> anyhow::Result<ConversationId> {
        let r = self
            .http
            .post(self.url("/v1/groups"))
            .bearer_auth(&owner.access_token)
            .json(&CreateGroup {
                name: "load".into(),
                members,
            })
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("create group: {}", r.text().await?);
        }
        let g: Group = r.json().await?;
        Ok(g.id)
    }

    /// Opens a session and waits for `welcome`. Small buffers: thousands of
    /// these live in one process.
    pub async fn connect(&self, token: &str) -> anyhow::Result<Socket> {
        connect(&self.addr, token).await
    }
}

/// Opens a session to the relay at `addr` and waits for `welcome`.
pub async fn connect(addr: &str, token: &str) -> anyhow::Result<Socket> {
    {
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0)
            .max_write_buffer_size(1 << 20);
        let url = format!("ws://{addr}{WS_PATH}");
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
        let hello = ClientFrame::Hello {
            protocols: PROTOCOL_VERSIONS.to_vec(),
            token: token.into(),
        };
        ws.send(WsMessage::Text(serde_json::to_string(&hello)?.into()))
            .await?;
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Text(t))) => match serde_json::from_str::<ServerFrame>(&t)? {
                    ServerFrame::Welcome { .. } => return Ok(ws),
                    ServerFrame::Error { error, .. } => bail!("refused: {error:?}"),
                    _ => continue,
                },
                Some(Ok(_)) => continue,
                other => bail!("connection ended before welcome: {other:?}"),
            }
        }
    }
}
