//! Seeds a benchmark profile: an account with `conversations` friends, each
//! with a short 1:1 history, and one of them (`Friend 000`, the newest
//! conversation) with `big` messages. Everything goes through a real relay
//! (started here on 127.0.0.1, data in `<home>/relay`) and the account's local
//! store is filled by the real catch-up, so the app opens what it would open
//! after syncing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use natter_net::http::Http;
use natter_net::session::Event;
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::{ConversationId, MessageBody};
use natter_proto::rest::{LoginRequest, RegisterRequest};
use natter_server::{Config, Relay};
use natter_store::Store;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The profile name the benchmark account lives under.
pub const PROFILE: &str = "bench";

/// What was seeded.
pub struct Seeded {
    /// The relay's data directory, to start it again.
    pub relay_dir: PathBuf,
    /// The big conversation.
    pub big: ConversationId,
    /// Where the relay listened; start it there again.
    pub addr: SocketAddr,
}

/// A relay configuration for the seeded data at `bind` (a loopback address;
/// the account stays signed in to it): cheap hashing, no rate limit (the seeder
/// sends as fast as acks come back).
pub fn relay_config(relay_dir: &Path, bind: SocketAddr) -> Config {
    let mut config = Config::for_tests(relay_dir);
    config.bind = bind;
    config.limits.frames_per_sec = 1_000_000;
    config.limits.frames_burst = 1_000_000;
    config
}

/// Seeds `home`; see the module docs.
pub async fn seed(
    home: &Path,
    bind: SocketAddr,
    conversations: usize,
    big: u64,
) -> Result<Seeded, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let relay_dir = home.join("relay");
    let relay = Relay::start(relay_config(&relay_dir, bind)).await?;
    let addr = relay.addr;
    let url = relay.http_url();
    let http = Http::new(&url)?;

    let me_password = "bench-password".to_string();
    natter_net::client::register(
        &url,
        &RegisterRequest {
            account: "bench-me".into(),
            password: me_password.clone(),
            nickname: "我 Me".into(),
            email: None,
            phone: None,
            avatar: None,
        },
    )
    .await?;
    let store = Store::open(natter_store::profile_dir(home, PROFILE)).await?;
    natter_net::client::sign_in(&url, &store, "bench-me", &me_password, Some("bench".into()))
        .await?;
    let (me, mut events) = natter_net::Client::resume(store).await?;
    let me_token = me.token().await?;

    // Oldest first, so `Friend 000` (the big one) ends up newest.
    let mut big_conv = None;
    for i in (0..conversations).rev() {
        let account = format!("bench-f{i:03}");
        let password = format!("{account}-password");
        http.register(&RegisterRequest {
            account: account.clone(),
            password: password.clone(),
            nickname: if i % 2 == 0 {
                format!("Friend {i:03}")
            } else {
                format!("朋友 {i:03}")
            },
            email: None,
            phone: None,
            avatar: None,
        })
        .await?;
        let session = http
            .login(&LoginRequest {
                account,
                password,
                device_id: None,
                device_name: None,
            })
            .await?;
        let token = session.access_token;
        let request = http
            .send_friend_request(&token, me.me(), "benchmark")
            .await?;
        http.answer_friend_request(&me_token, request.id, true)
            .await?;
        let conv = http.friends(&token).await?.friends[0].conversation;
        let count = if i == 0 { big } else { 3 };
        send_many(&http.ws_url(), &token, conv, count).await?;
        if i == 0 {
            big_conv = Some(conv);
        }
    }

    let big_conv: ConversationId = big_conv.ok_or("no conversations")?;
    // Let the account's own catch-up fill its store.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let held = me
            .store()
            .conversation(big_conv)
            .await?
            .map(|c| c.held_seq)
            .unwrap_or(0);
        if held >= big {
            break;
        }
        if Instant::now() > deadline {
            return Err("catch-up did not finish".into());
        }
        // Drain session events meanwhile.
        let _ = tokio::time::timeout(Duration::from_millis(50), events.next()).await;
    }
    me.shutdown();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), events.next()).await {
        if matches!(e, Event::SignedOut) {
            break;
        }
    }
    relay.shutdown().await;
    eprintln!(
        "seeded {conversations} conversations, {big} messages in the big one, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Seeded {
        relay_dir,
        big: big_conv,
        addr,
    })
}

/// Sends `count` texts on one WebSocket, keeping up to 2,000 unacknowledged.
async fn send_many(
    ws_url: &str,
    token: &str,
    conversation: ConversationId,
    count: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await?;
    let hello = ClientFrame::Hello {
        protocols: natter_proto::PROTOCOL_VERSIONS.to_vec(),
        token: token.into(),
    };
    ws.send(WsMessage::Text(serde_json::to_string(&hello)?.into()))
        .await?;
    let (mut sent, mut acked) = (0u64, 0u64);
    while acked < count {
        while sent < count && sent - acked < 2_000 {
            sent += 1;
            let text = match sent % 4 {
                0 => format!("第{sent}条:周末我们一起去爬山吧,记得带水"),
                1 => format!("Meeting notes #{sent}: ship the relay before Friday"),
                2 => format!("好的👌 see you at {sent}"),
                _ => format!("random chatter {sent} lorem ipsum dolor sit amet"),
            };
            let frame = ClientFrame::Send {
                client_id: format!("seed-{sent}"),
                conversation,
                body: MessageBody::Text { text },
                reply_to: None,
                extras: Default::default(),
            };
            ws.feed(WsMessage::Text(serde_json::to_string(&frame)?.into()))
                .await?;
        }
        ws.flush().await?;
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await? {
            Some(Ok(WsMessage::Text(t))) => match serde_json::from_str::<ServerFrame>(&t)? {
                ServerFrame::Ack { .. } => acked += 1,
                ServerFrame::Error { error, .. } => {
                    return Err(format!("relay refused a seed message: {error:?}").into());
                }
                _ => {}
            },
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err("relay closed the seeding connection".into()),
        }
    }
    ws.close(None).await?;
    Ok(())
}
