use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use natter_net::Client;
use natter_net::session::{Command, Event};
use natter_proto::frame::ServerFrame;
use natter_proto::limits::Limits;
use natter_proto::model::{MessageBody, Profile, UserId, UserSummary};
use natter_server::storage::NewMessage;
use natter_store::{Account, OutboxState, Store};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::support::*;

#[tokio::test]
async fn chat_survives_socket_drops_and_a_relay_restart_without_gaps_or_duplicates() {
    let mut relay = TestRelay::start().await;
    let mut a = TestClient::new(&relay, "alice").await;
    let mut b = TestClient::new(&relay, "bob").await;
    a.synced().await;
    b.synced().await;
    let conv = befriend(&a, &b).await;
    b.wait_event("friend added", |e| matches!(e, Event::Account(_)))
        .await;

    for i in 1..=20 {
        a.client.send_text(conv, &format!("m{i}")).await.unwrap();
        if i == 8 {
            // Drop b's socket mid-stream.
            b.client.session().send(Command::Reconnect);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    b.client.send_text(conv, "from bob").await.unwrap();
    // Restart the relay while a keeps sending.
    let sender = {
        let client = a.client.clone();
        tokio::spawn(async move {
            for i in 21..=50 {
                client.send_text(conv, &format!("m{i}")).await.unwrap();
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    relay.restart().await;
    sender.await.unwrap();
    a.wait_held(conv, 51).await;
    b.wait_held(conv, 51).await;
    // Both stores: the same 51 messages in the same order.
    let (ma, mb) = (a.all(conv).await, b.all(conv).await);
    assert_eq!(ma, mb);
    assert_eq!(
        ma.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=51).collect::<Vec<_>>()
    );
    let from_a: Vec<String> = texts(&ma)
        .into_iter()
        .filter(|t| t.starts_with('m'))
        .collect();
    assert_eq!(
        from_a,
        (1..=50).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    assert!(a.client.outbox().await.unwrap().is_empty());
    assert!(b.client.outbox().await.unwrap().is_empty());
    // Unread counts follow: b has 50 unread from a; reading clears them.
    let cb = b.client.store().conversation(conv).await.unwrap().unwrap();
    assert_eq!(cb.unread, 50);
    let cb = b.client.mark_read(conv, 51).await.unwrap();
    assert_eq!(cb.unread, 0);
    a.wait_event("receipt", |e| {
        matches!(e, Event::ReadReceipt { seq: 51, .. })
    })
    .await;
    assert_eq!(
        a.client
            .store()
            .conversation(conv)
            .await
            .unwrap()
            .unwrap()
            .peer_read_seq,
        Some(51)
    );
}

#[tokio::test]
async fn messages_composed_offline_are_delivered_in_order_after_reconnect() {
    let mut relay = TestRelay::start().await;
    let mut a = TestClient::new(&relay, "carol").await;
    let mut b = TestClient::new(&relay, "dave").await;
    a.synced().await;
    b.synced().await;
    let conv = befriend(&a, &b).await;
    a.wait_event("friend added", |e| matches!(e, Event::Account(_)))
        .await;
    relay.stop().await;
    a.wait_event("disconnect", |e| matches!(e, Event::Disconnected { .. }))
        .await;
    for i in 1..=10 {
        a.client
            .send_text(conv, &format!("offline {i}"))
            .await
            .unwrap();
    }
    let outbox = a.client.outbox().await.unwrap();
    assert_eq!(outbox.len(), 10);
    assert!(outbox.iter().all(|e| e.state == OutboxState::Sending));
    relay.restart().await;
    b.wait_held(conv, 10).await;
    a.wait_held(conv, 10).await;
    assert_eq!(
        texts(&b.all(conv).await),
        (1..=10).map(|i| format!("offline {i}")).collect::<Vec<_>>()
    );
    assert!(a.client.outbox().await.unwrap().is_empty());
}

#[tokio::test]
async fn refused_messages_fail_and_can_be_resent() {
    let relay = TestRelay::start().await;
    let mut a = TestClient::new(&relay, "erin").await;
    let b = TestClient::new(&relay, "fred").await;
    a.synced().await;
    let conv = befriend(&a, &b).await;
    a.wait_event("friend added", |e| matches!(e, Event::Account(_)))
        .await;
    // Unfriend: sending is refused by the relay.
    let t = a.client.token().await.unwrap();
    a.client
        .http()
        .remove_friend(&t, b.client.me())
        .await
        .unwrap();
    let e = a.client.send_text(conv, "are you there?").await.unwrap();
    a.wait_event("outbox change", |e| matches!(e, Event::Outbox))
        .await;
    let failed = a.client.outbox().await.unwrap();
    assert!(
        matches!(failed[0].state, OutboxState::Failed { .. }),
        "{failed:?}"
    );
    // Friends again: the resend goes through with the same client id.
    befriend(&b, &a).await;
    a.client.resend(conv, &e.client_id).await.unwrap();
    a.wait_held(conv, 1).await;
    assert_eq!(a.all(conv).await[0].client_id, e.client_id);
    assert!(a.client.outbox().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_live_gap_is_filled_with_a_range_fetch() {
    let relay = TestRelay::start().await;
    let mut a = TestClient::new(&relay, "gina").await;
    let mut b = TestClient::new(&relay, "hugo").await;
    a.synced().await;
    b.synced().await;
    let conv = befriend(&a, &b).await;
    b.wait_event("friend added", |e| matches!(e, Event::Account(_)))
        .await;
    // Three messages stored on the relay whose live delivery to b was lost.
    let storage = relay.relay.as_ref().unwrap().service.storage.clone();
    for i in 1..=3 {
        storage
            .append(NewMessage {
                conversation: conv,
                sender: a.client.me(),
                client_id: format!("lost{i}"),
                body: MessageBody::Text {
                    text: format!("lost {i}"),
                },
                reply_to: None,
                ts: 1,
                recall_window_ms: 0,
                edit_window_ms: 0,
                extras: Default::default(),
            })
            .await
            .unwrap();
    }
    a.client.send_text(conv, "seq four").await.unwrap();
    b.wait_held(conv, 4).await;
    assert_eq!(
        texts(&b.all(conv).await),
        vec!["lost 1", "lost 2", "lost 3", "seq four"]
    );
}

#[tokio::test]
async fn garbage_from_a_server_is_reported_and_the_client_reconnects() {
    // A fake relay that welcomes, then talks nonsense.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let _hello = ws.next().await;
                let welcome = ServerFrame::Welcome {
                    protocol: 1,
                    user: user(),
                    device: "d".into(),
                    server_ts: 0,
                    heartbeat_ms: 1000,
                    limits: Limits::default(),
                };
                let _ = ws
                    .send(WsMessage::Text(
                        serde_json::to_string(&welcome).unwrap().into(),
                    ))
                    .await;
                let _ = ws
                    .send(WsMessage::Text(
                        "{\"type\":\"message\",\"message\":42}".into(),
                    ))
                    .await;
                let _ = ws.send(WsMessage::Text("\u{0}\u{1} not json".into())).await;
                while ws.next().await.is_some() {}
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let account = Account {
        server: format!("http://{addr}"),
        profile: Profile {
            user: user(),
            email: None,
            phone: None,
            created_ts: 0,
        },
        device_id: "d".into(),
        access_token: "t".into(),
        access_expires_ts: i64::MAX,
        refresh_token: "r".into(),
        refresh_expires_ts: i64::MAX,
    };
    let (client, mut events) = Client::start(store, account).unwrap();
    let mut problems = 0;
    let mut disconnects = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while disconnects < 2 {
        let e = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap()
            .unwrap();
        match e {
            Event::Problem(natter_net::Error::Protocol(_)) => problems += 1,
            Event::Disconnected { .. } => disconnects += 1,
            _ => {}
        }
    }
    assert!(problems >= 2);
    assert!(
        connections.load(Ordering::SeqCst) >= 2,
        "the client dialled again"
    );
    client.shutdown();
}

fn user() -> UserSummary {
    UserSummary {
        id: UserId(1),
        account: "x".into(),
        nickname: "x".into(),
        avatar: None,
    }
}

#[tokio::test]
async fn a_stolen_refresh_token_used_first_by_the_thief_signs_the_device_out() {
    let relay = TestRelay::start_with(|c| c.access_ttl_secs = 1).await;
    let (store, _dir) = signed_in_store(&relay.url(), "rita", "laptop").await;

    // Someone copies the device's refresh token and uses it first.
    let stolen = store.account().await.unwrap().unwrap().refresh_token;
    let http = natter_net::http::Http::new(&relay.url()).unwrap();
    let thief = http.refresh(&stolen).await.unwrap();
    let _: Profile = http.me(&thief.access_token).await.unwrap();

    // The device's access token has expired meanwhile; its refresh presents
    // the used-up token, which ends the session for both.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (_client, mut events) = Client::resume(store).await.unwrap();
    let signed_out = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(e) = events.next().await {
            if matches!(e, Event::SignedOut) {
                return true;
            }
        }
        false
    })
    .await
    .expect("no SignedOut within 20 s");
    assert!(signed_out, "events ended without SignedOut");
    let err = http.refresh(&thief.refresh_token).await.unwrap_err();
    assert_eq!(err.code(), Some(natter_proto::ErrorCode::Unauthorized));
}

#[tokio::test]
async fn after_a_long_outage_the_session_returns_within_the_backoff_cap() {
    use natter_net::session::MAX_BACKOFF;
    let mut relay = TestRelay::start().await;
    let mut a = TestClient::new(&relay, "olga").await;
    a.synced().await;
    relay.stop().await;
    // Enough failed attempts for the backoff to reach its cap; none waits
    // longer than it.
    let mut waits = Vec::new();
    while waits.len() < 7 {
        if let Event::Disconnected { retry_in, .. } = a
            .wait_event("disconnect", |e| matches!(e, Event::Disconnected { .. }))
            .await
        {
            assert!(retry_in <= MAX_BACKOFF, "waited {retry_in:?}");
            waits.push(retry_in);
        }
    }
    assert!(
        waits.last().is_some_and(|w| *w >= MAX_BACKOFF / 2),
        "{waits:?}"
    );
    // The relay comes back: the session is current again within one wait
    // (plus time to connect and catch up).
    let back = std::time::Instant::now();
    relay.restart().await;
    a.synced().await;
    let took = back.elapsed();
    assert!(took <= MAX_BACKOFF + Duration::from_secs(2), "{took:?}");
    eprintln!("waits {waits:?}; back {took:?} after the relay restarted");
}

#[tokio::test]
async fn a_throttled_sign_in_says_how_long_to_wait() {
    use natter_proto::rest::{LoginRequest, RegisterRequest};
    let relay = TestRelay::start().await;
    let http = natter_net::http::Http::new(&relay.url()).unwrap();
    http.register(&RegisterRequest {
        account: "wren".into(),
        password: "wren-long-password".into(),
        nickname: "Wren".into(),
        email: None,
        phone: None,
        avatar: None,
    })
    .await
    .unwrap();
    let attempt = |password: &str| {
        let http = http.clone();
        let req = LoginRequest {
            account: "wren".into(),
            password: password.into(),
            device_id: None,
            device_name: None,
        };
        async move { http.login(&req).await }
    };
    // The free failures are refused as wrong, with no wait.
    for _ in 0..5 {
        let err = attempt("guess").await.unwrap_err();
        assert_eq!(err.code(), Some(natter_proto::ErrorCode::BadCredentials));
        assert_eq!(err.retry_after(), None);
    }
    // Then even the right password waits, and the client knows for how long.
    let _ = attempt("guess").await;
    let err = attempt("wren-long-password").await.unwrap_err();
    assert_eq!(err.code(), Some(natter_proto::ErrorCode::RateLimited));
    let wait = err.retry_after().expect("a wait");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
}
