//! Test harness: a relay, HTTP helpers and a WebSocket client that speaks the
//! protocol.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use natter_proto::frame::{ClientFrame, Cursor, ServerFrame};
use natter_proto::model::{ConversationId, ConversationState, Message, MessageBody, UserId};
use natter_proto::rest::{
    FriendRequests, LoginRequest, RegisterRequest, SendFriendRequest, Session,
};
use natter_proto::{ErrorBody, Event, PROTOCOL_VERSIONS};
use natter_server::{Config, Relay};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expected frame may take.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestRelay {
    pub relay: Relay,
    /// Kept so the data directory lives as long as the relay.
    pub _dir: TempDir,
    pub api: Api,
}

/// REST and WebSocket helpers for a relay at `base` (in this process or not).
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl std::ops::Deref for TestRelay {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub account: String,
    pub password: String,
    pub token: String,
    pub session: Session,
}

pub type ApiResult<T> = Result<T, (StatusCode, ErrorBody)>;

impl TestRelay {
    pub async fn start() -> TestRelay {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestRelay {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path());
        if crate::POSTGRES {
            config.database = Some(crate::pg::shared().fresh_database().await);
            config.database_max_connections = 8;
        }
        tweak(&mut config);
        let relay = Relay::start(config).await.unwrap();
        let api = Api::new(&relay.http_url());
        TestRelay {
            relay,
            _dir: dir,
            api,
        }
    }
}

/// Flags that put a relay process on this test binary's backend: a fresh
/// database on the shared PostgreSQL server, or none (embedded).
pub async fn backend_flags() -> Vec<String> {
    if crate::POSTGRES {
        vec![
            "--database".into(),
            crate::pg::shared().fresh_database().await,
        ]
    } else {
        Vec::new()
    }
}

impl Api {
    /// Helpers for the relay whose base URL is `base` (`http://host:port`).
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            http: http_client(),
        }
    }

    pub fn ws_url(&self) -> String {
        format!(
            "{}{}",
            self.base.replacen("http", "ws", 1),
            natter_proto::WS_PATH
        )
    }

    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Option<&B>,
    ) -> ApiResult<R> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        if status.is_success() {
            let bytes = if bytes.is_empty() {
                &b"null"[..]
            } else {
                &bytes[..]
            };
            Ok(serde_json::from_slice(bytes).unwrap())
        } else {
            let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "error body is not JSON: {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            Err((status, body))
        }
    }

    pub async fn get<R: DeserializeOwned>(&self, user: &User, path: &str) -> ApiResult<R> {
        self.call::<(), R>(Method::GET, Some(&user.token), path, None)
            .await
    }

    pub async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        user: &User,
        path: &str,
        body: &B,
    ) -> ApiResult<R> {
        self.call(Method::POST, Some(&user.token), path, Some(body))
            .await
    }

    pub async fn patch<B: Serialize, R: DeserializeOwned>(
        &self,
        user: &User,
        path: &str,
        body: &B,
    ) -> ApiResult<R> {
        self.call(Method::PATCH, Some(&user.token), path, Some(body))
            .await
    }

    pub async fn put<B: Serialize, R: DeserializeOwned>(
        &self,
        user: &User,
        path: &str,
        body: &B,
    ) -> ApiResult<R> {
        self.call(Method::PUT, Some(&user.token), path, Some(body))
            .await
    }

    /// Signs in and answers the status of a refusal (for accounts that may be
    /// kept out).
    pub async fn try_login(
        &self,
        account: &str,
        password: &str,
    ) -> Result<serde_json::Value, StatusCode> {
        self.call(
            Method::POST,
            None,
            "/v1/auth/login",
            Some(&LoginRequest {
                account: account.into(),
                password: password.into(),
                device_id: None,
                device_name: None,
            }),
        )
        .await
        .map_err(|(status, _)| status)
    }

    pub async fn delete(&self, user: &User, path: &str) -> ApiResult<()> {
        self.call::<(), ()>(Method::DELETE, Some(&user.token), path, None)
            .await
    }

    /// Registers `account` and signs in once.
    pub async fn user(&self, account: &str) -> User {
        let password = format!("pw-{account}-secret");
        let req = RegisterRequest {
            account: account.into(),
            password: password.clone(),
            nickname: format!("Nick {account}"),
            email: Some(format!("{account}@example.com")),
            phone: None,
            avatar: None,
        };
        let _: serde_json::Value = self
            .call(Method::POST, None, "/v1/auth/register", Some(&req))
            .await
            .unwrap();
        self.login(account, &password, None).await
    }

    pub async fn login(&self, account: &str, password: &str, device: Option<&str>) -> User {
        let req = LoginRequest {
            account: account.into(),
            password: password.into(),
            device_id: device.map(Into::into),
            device_name: None,
        };
        let session: Session = self
            .call(Method::POST, None, "/v1/auth/login", Some(&req))
            .await
            .unwrap();
        User {
            id: session.profile.user.id,
            account: account.into(),
            password: password.into(),
            token: session.access_token.clone(),
            session,
        }
    }

    /// Makes `a` and `b` friends; returns their conversation.
    pub async fn befriend(&self, a: &User, b: &User) -> ConversationId {
        let req: natter_proto::model::FriendRequest = self
            .post(
                a,
                "/v1/friends/requests",
                &SendFriendRequest {
                    to: b.id,
                    message: "hi".into(),
                },
            )
            .await
            .unwrap();
        let _: serde_json::Value = self
            .post(b, &format!("/v1/friends/requests/{}/accept", req.id), &())
            .await
            .unwrap();
        let friends: natter_proto::rest::Friends = self.get(a, "/v1/friends").await.unwrap();
        friends
            .friends
            .iter()
            .find(|f| f.user.id == b.id)
            .unwrap()
            .conversation
    }

    pub async fn requests(&self, user: &User) -> FriendRequests {
        self.get(user, "/v1/friends/requests").await.unwrap()
    }

    pub async fn ws(&self, user: &User) -> Ws {
        Ws::connect(&self.ws_url(), &user.token).await
    }
}

pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub welcome: ServerFrame,
    counter: u64,
}

/// What a full catch-up returned.
#[derive(Debug, Default)]
pub struct Synced {
    pub events: Vec<Event>,
    pub messages: BTreeMap<ConversationId, Vec<Message>>,
    pub conversations: Vec<ConversationState>,
    pub events_seq: u64,
}

impl Ws {
    pub async fn connect_raw(url: &str) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
        let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        stream
    }

    /// Wraps a stream that has not said hello.
    pub fn from_stream(stream: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Ws {
        Ws {
            stream,
            welcome: ServerFrame::Pong { nonce: 0 },
            counter: 0,
        }
    }

    pub async fn connect(url: &str, token: &str) -> Ws {
        let mut ws = Ws::from_stream(Self::connect_raw(url).await);
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

    pub async fn send(&mut self, frame: &ClientFrame) {
        self.send_raw(&serde_json::to_string(frame).unwrap()).await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.stream
            .send(WsMessage::Text(text.into()))
            .await
            .unwrap();
    }

    /// The next protocol frame (WebSocket pings are answered and skipped).
    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match msg.ok()? {
                WsMessage::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
                WsMessage::Close(_) => return None,
                _ => continue,
            }
        }
    }

    pub async fn next(&mut self) -> ServerFrame {
        self.try_next(WAIT).await.expect("no frame in time")
    }

    /// Skips frames until one matches.
    pub async fn wait_for(
        &mut self,
        what: &str,
        pred: impl Fn(&ServerFrame) -> bool,
    ) -> ServerFrame {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_next(left).await {
                Some(f) if pred(&f) => return f,
                Some(_) => continue,
                None => panic!("no {what} frame in time"),
            }
        }
    }

    pub async fn error(&mut self) -> ErrorBody {
        match self
            .wait_for("error", |f| matches!(f, ServerFrame::Error { .. }))
            .await
        {
            ServerFrame::Error { error, .. } => error,
            _ => unreachable!(),
        }
    }

    pub async fn event(&mut self) -> Event {
        match self
            .wait_for("event", |f| matches!(f, ServerFrame::Event { .. }))
            .await
        {
            ServerFrame::Event { event } => event,
            _ => unreachable!(),
        }
    }

    pub async fn message(&mut self) -> Message {
        match self
            .wait_for("message", |f| matches!(f, ServerFrame::Message { .. }))
            .await
        {
            ServerFrame::Message { message } => message,
            _ => unreachable!(),
        }
    }

    pub fn fresh_id(&mut self) -> String {
        self.counter += 1;
        format!("c{}-{}", self.counter, rand_suffix())
    }

    /// Sends a body and waits for its ack (or error).
    pub async fn send_body(
        &mut self,
        conversation: ConversationId,
        body: MessageBody,
        client_id: &str,
    ) -> Result<u64, ErrorBody> {
        self.send_extras(conversation, body, client_id, Default::default())
            .await
    }

    /// Sends a body with mentions or as a forwarded copy and waits for its ack
    /// (or error).
    pub async fn send_extras(
        &mut self,
        conversation: ConversationId,
        body: MessageBody,
        client_id: &str,
        extras: natter_proto::model::Extras,
    ) -> Result<u64, ErrorBody> {
        self.send(&ClientFrame::Send {
            client_id: client_id.into(),
            conversation,
            body,
            reply_to: None,
            extras,
        })
        .await;
        let frame = self
            .wait_for("ack", |f| match f {
                ServerFrame::Ack { client_id: c, .. } => c == client_id,
                ServerFrame::Error {
                    client_id: Some(c), ..
                } => c == client_id,
                _ => false,
            })
            .await;
        match frame {
            ServerFrame::Ack { seq, .. } => Ok(seq),
            ServerFrame::Error { error, .. } => Err(error),
            _ => unreachable!(),
        }
    }

    pub async fn send_text(
        &mut self,
        conversation: ConversationId,
        text: &str,
    ) -> Result<u64, ErrorBody> {
        let id = self.fresh_id();
        self.send_body(conversation, MessageBody::Text { text: text.into() }, &id)
            .await
    }

    pub async fn sync(&mut self, events_after: u64, cursors: Vec<Cursor>) -> Synced {
        self.counter += 1;
        let rid = self.counter;
        self.send(&ClientFrame::Sync {
            rid,
            events_after,
            cursors,
        })
        .await;
        let mut out = Synced::default();
        loop {
            match self.next().await {
                ServerFrame::Events { rid: r, events } if r == rid => out.events.extend(events),
                ServerFrame::Messages {
                    rid: r,
                    conversation,
                    messages,
                    ..
                } if r == rid => out
                    .messages
                    .entry(conversation)
                    .or_default()
                    .extend(messages),
                ServerFrame::Synced {
                    rid: r,
                    events_seq,
                    conversations,
                } if r == rid => {
                    out.events_seq = events_seq;
                    out.conversations = conversations;
                    return out;
                }
                ServerFrame::Error {
                    rid: Some(r),
                    error,
                    ..
                } if r == rid => panic!("sync failed: {error:?}"),
                _ => continue,
            }
        }
    }

    pub async fn history(
        &mut self,
        conversation: ConversationId,
        after: Option<u64>,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> Result<(Vec<Message>, bool), ErrorBody> {
        self.counter += 1;
        let rid = self.counter;
        self.send(&ClientFrame::History {
            rid,
            conversation,
            after,
            before,
            limit,
        })
        .await;
        let frame = self
            .wait_for("history", |f| match f {
                ServerFrame::Messages { rid: r, .. } => *r == rid,
                ServerFrame::Error { rid: Some(r), .. } => *r == rid,
                _ => false,
            })
            .await;
        match frame {
            ServerFrame::Messages { messages, more, .. } => Ok((messages, more)),
            ServerFrame::Error { error, .. } => Err(error),
            _ => unreachable!(),
        }
    }

    /// Asserts that nothing matching arrives within `wait`.
    pub async fn assert_quiet(&mut self, wait: Duration, pred: impl Fn(&ServerFrame) -> bool) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            if let Some(f) = self.try_next(left).await {
                assert!(!pred(&f), "unexpected frame {f:?}");
            } else {
                return;
            }
        }
    }
}

/// A reqwest client; the workspace builds rustls without a default crypto
/// provider, so one is installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub fn rand_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

pub fn text(m: &Message) -> &str {
    match &m.body {
        MessageBody::Text { text } => text,
        other => panic!("not text: {other:?}"),
    }
}

/// The relay as a separate process, so it can be killed for real.
pub struct Proc {
    pub child: Child,
    pub addr: String,
}

impl Proc {
    /// A relay process on `dir` with `extra` flags (e.g. [`backend_flags`]).
    pub fn start(dir: &std::path::Path, extra: &[String]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_natter-server"))
            .args([
                "--bind",
                "127.0.0.1:0",
                "--turn-bind",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(dir)
            .args(["--argon2-memory-kib", "64", "--argon2-iterations", "1"])
            .args(["--registrations-per-hour", "0"])
            .args(extra)
            .env("NATTER_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.trim().rsplit(' ').next().unwrap().to_string();
        Proc { child, addr }
    }
}

impl Drop for Proc {
    /// A failed test must not leave its relay running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
