//! Harness: a relay that can be restarted on the same port and data dir, and
//! clients whose events are drained in the background.

use std::net::SocketAddr;
use std::time::Duration;

use natter_net::Client;
use natter_net::session::Event;
use natter_proto::model::{ConversationId, Message, MessageBody};
use natter_proto::rest::RegisterRequest;
use natter_server::{Config, Relay};
use natter_store::Store;
use tempfile::TempDir;
use tokio::sync::mpsc;

pub struct TestRelay {
    pub relay: Option<Relay>,
    pub addr: SocketAddr,
    pub dir: TempDir,
}

impl TestRelay {
    pub async fn start() -> TestRelay {
        Self::start_with(|_| {}).await
    }

    /// A relay with some settings changed (kept only until a restart).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestRelay {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path());
        config.heartbeat_ms = 500;
        tweak(&mut config);
        let relay = Relay::start(config).await.unwrap();
        TestRelay {
            addr: relay.addr,
            relay: Some(relay),
            dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(&mut self) {
        if let Some(r) = self.relay.take() {
            r.shutdown().await;
        }
    }

    /// Starts again on the same address with the same data.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut config = Config::for_tests(self.dir.path());
        config.bind = self.addr;
        config.heartbeat_ms = 500;
        self.relay = Some(Relay::start(config).await.unwrap());
    }
}

pub struct TestClient {
    pub client: Client,
    pub events: mpsc::UnboundedReceiver<Event>,
    pub _dir: TempDir,
}

impl TestClient {
    /// Registers `account`, signs in with a fresh store and starts the session.
    pub async fn new(relay: &TestRelay, account: &str) -> TestClient {
        Self::new_at(&relay.url(), account).await
    }

    /// Like [`TestClient::new`], with the relay at `url` (a proxy in front).
    pub async fn new_at(url: &str, account: &str) -> TestClient {
        let (store, dir) = signed_in_store(url, account, "test").await;
        let (client, mut events) = Client::resume(store).await.unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(e) = events.next().await {
                if tx.send(e).is_err() {
                    break;
                }
            }
        });
        TestClient {
            client,
            events: rx,
            _dir: dir,
        }
    }

    /// Waits for an event matching `pred`, skipping others.
    pub async fn wait_event(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let e = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
                .unwrap_or_else(|| panic!("session ended while waiting for {what}"));
            if pred(&e) {
                return e;
            }
        }
    }

    pub async fn synced(&mut self) {
        self.wait_event("synced", |e| matches!(e, Event::Synced))
            .await;
    }

    /// Every stored message of a conversation.
    pub async fn all(&self, conv: ConversationId) -> Vec<Message> {
        self.client
            .store()
            .messages(conv, 1, u64::MAX, usize::MAX, false)
            .await
            .unwrap()
    }

    /// Waits until the store holds `n` messages of `conv` with no gap.
    pub async fn wait_held(&self, conv: ConversationId, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let c = self.client.store().conversation(conv).await.unwrap();
            if c.as_ref().is_some_and(|c| c.held_seq >= n) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "held {:?} of {n}",
                c.map(|c| c.held_seq)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Registers `account` (password `<account>-long-password`) and signs it in
/// as `device` into a fresh store, not yet started.
pub async fn signed_in_store(url: &str, account: &str, device: &str) -> (Store, TempDir) {
    let password = format!("{account}-long-password");
    natter_net::client::register(
        url,
        &RegisterRequest {
            account: account.into(),
            password: password.clone(),
            nickname: account.to_uppercase(),
            email: None,
            phone: None,
            avatar: None,
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    natter_net::client::sign_in(url, &store, account, &password, Some(device.into()))
        .await
        .unwrap();
    (store, dir)
}

/// Makes two clients friends over REST; returns the conversation.
pub async fn befriend(a: &TestClient, b: &TestClient) -> ConversationId {
    let ta = a.client.token().await.unwrap();
    let tb = b.client.token().await.unwrap();
    let req = a
        .client
        .http()
        .send_friend_request(&ta, b.client.me(), "hi")
        .await
        .unwrap();
    b.client
        .http()
        .answer_friend_request(&tb, req.id, true)
        .await
        .unwrap();
    let friends = a.client.http().friends(&ta).await.unwrap();
    friends.friends[0].conversation
}

pub fn texts(msgs: &[Message]) -> Vec<String> {
    msgs.iter()
        .map(|m| match &m.body {
            MessageBody::Text { text } => text.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}
