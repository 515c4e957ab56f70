//! What only the PostgreSQL backend has: several relays on one database, and
//! the database going away and coming back.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_proto::ErrorCode;
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::MessageBody;
use natter_proto::rest::{Health, IceServers, UpdateProfile};
use natter_server::{Config, Relay};

use crate::pg::PgServer;
use crate::support::*;

/// A relay on `database`, with its own file directory.
async fn node(database: &str) -> TestRelay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.database = Some(database.to_string());
    config.database_max_connections = 8;
    let relay = Relay::start(config).await.unwrap();
    let api = Api::new(&relay.http_url());
    TestRelay {
        relay,
        _dir: dir,
        api,
    }
}

/// `/healthz` as it is, whatever its status.
async fn health(api: &Api) -> (u16, Health) {
    let resp = api
        .http
        .get(format!("{}/healthz", api.base))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// Sends `n` messages without waiting, then collects every ack: (client id,
/// seq).
async fn burst(
    ws: &mut Ws,
    conv: natter_proto::model::ConversationId,
    tag: &str,
    n: usize,
) -> Vec<(String, u64)> {
    for i in 0..n {
        ws.send(&ClientFrame::Send {
            client_id: format!("{tag}{i}"),
            conversation: conv,
            body: MessageBody::Text {
                text: format!("{tag} {i}"),
            },
            reply_to: None,
            extras: Default::default(),
        })
        .await;
    }
    let mut acks = Vec::new();
    while acks.len() < n {
        match ws.next().await {
            ServerFrame::Ack { client_id, seq, .. } => acks.push((client_id, seq)),
            ServerFrame::Error { error, .. } => panic!("send refused: {error:?}"),
            _ => {}
        }
    }
    acks
}

#[tokio::test]
async fn relays_on_one_database_share_accounts_tokens_and_gapless_seqs() {
    let database = crate::pg::shared().fresh_database().await;
    let (x, y) = (node(&database).await, node(&database).await);
    // Accounts registered on both at once: distinct ids, no collision.
    let (on_x, on_y) = tokio::join!(
        async {
            let mut v = Vec::new();
            for i in 0..10 {
                v.push(x.user(&format!("xuser{i}")).await);
            }
            v
        },
        async {
            let mut v = Vec::new();
            for i in 0..10 {
                v.push(y.user(&format!("yuser{i}")).await);
            }
            v
        }
    );
    let ids: BTreeSet<_> = on_x.iter().chain(&on_y).map(|u| u.id).collect();
    assert_eq!(ids.len(), 20);
    // A name taken on one node is taken on the other.
    let again = y
        .call::<_, serde_json::Value>(
            reqwest::Method::POST,
            None,
            "/v1/auth/register",
            Some(&serde_json::json!({"account": "xuser0", "password": "another-password"})),
        )
        .await
        .unwrap_err();
    assert_eq!(again.1.code, ErrorCode::AccountTaken);

    // A token issued by x works on y (one signing key), and a friendship made
    // through both is one friendship.
    let (a, b) = (&on_x[0], &on_y[0]);
    let req: natter_proto::model::FriendRequest = x
        .post(
            a,
            "/v1/friends/requests",
            &natter_proto::rest::SendFriendRequest {
                to: b.id,
                message: "hi".into(),
            },
        )
        .await
        .unwrap();
    let _: serde_json::Value = y
        .post(b, &format!("/v1/friends/requests/{}/accept", req.id), &())
        .await
        .unwrap();
    let friends: natter_proto::rest::Friends = y.get(a, "/v1/friends").await.unwrap();
    let conv = friends.friends[0].conversation;

    // Both write to the conversation at once, each through its own node.
    let mut wa = x.ws(a).await;
    let mut wb = y.ws(b).await;
    let (acks_a, acks_b) =
        tokio::join!(burst(&mut wa, conv, "a", 60), burst(&mut wb, conv, "b", 60));
    let mut seqs: Vec<u64> = acks_a.iter().chain(&acks_b).map(|(_, s)| *s).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=120).collect::<Vec<_>>(), "gapless, no seq twice");
    // Each sender's messages keep their order.
    for acks in [&acks_a, &acks_b] {
        assert!(acks.windows(2).all(|w| w[0].1 < w[1].1));
    }
    // A resend to the other node gets the first ack and stores nothing.
    let mut wa_on_y = y.ws(a).await;
    let (id, first) = acks_a[17].clone();
    let resent = wa_on_y
        .send_body(
            conv,
            MessageBody::Text {
                text: "a 17".into(),
            },
            &id,
        )
        .await
        .unwrap();
    assert_eq!(resent, first);
    let next = wa_on_y.send_text(conv, "one more").await.unwrap();
    assert_eq!(next, 121);
    // Either node's history is the same, complete and in order.
    for ws in [&mut wa, &mut wb] {
        let s = ws.sync(0, vec![]).await;
        let got: Vec<u64> = s.messages[&conv].iter().map(|m| m.seq).collect();
        assert_eq!(got, (1..=121).collect::<Vec<_>>());
    }

    // A TURN credential handed out by x is accepted by y's TURN server.
    let from_x: IceServers = x.get(a, "/v1/calls/ice-servers").await.unwrap();
    let from_y: IceServers = y.get(a, "/v1/calls/ice-servers").await.unwrap();
    let y_addr = from_y.ice_servers[0].urls[0]
        .strip_prefix("stun:")
        .unwrap()
        .to_string();
    let turn = &from_x.ice_servers[1];
    let allocate = |password: String| {
        let (addr, username) = (y_addr.clone(), turn.username.clone().unwrap());
        async move {
            let conn = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let client = turn::client::Client::new(turn::client::ClientConfig {
                stun_serv_addr: addr.clone(),
                turn_serv_addr: addr,
                username,
                password,
                realm: "natter".into(),
                software: String::new(),
                rto_in_ms: 0,
                conn,
                vnet: None,
            })
            .await
            .unwrap();
            client.listen().await.unwrap();
            let ok = client.allocate().await.is_ok();
            client.close().await.unwrap();
            ok
        }
    };
    assert!(allocate(turn.credential.clone().unwrap()).await);
    assert!(!allocate("not-the-password".into()).await);
}

#[tokio::test]
async fn database_down_refuses_writes_and_service_resumes_when_it_returns() {
    let mut server = PgServer::start();
    let t = node(&server.fresh_database().await).await;
    let (a, b) = (t.user("ada").await, t.user("bob").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    assert_eq!(wa.send_text(conv, "before").await.unwrap(), 1);
    assert_eq!(text(&wb.message().await), "before");
    assert_eq!(health(&t).await.0, 200);

    server.stop();
    // A send is refused with `unavailable`, never acknowledged.
    let refused = wa
        .send_body(
            conv,
            MessageBody::Text {
                text: "during".into(),
            },
            "during",
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unavailable, "{refused:?}");
    // So is a REST write, with 503.
    let (status, body) = t
        .patch::<_, serde_json::Value>(
            &a,
            "/v1/me",
            &UpdateProfile {
                nickname: Some("Ada L.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!((status.as_u16(), body.code), (503, ErrorCode::Unavailable));
    // /healthz says what is wrong; the relay itself still answers.
    let (status, h) = health(&t).await;
    assert_eq!(status, 503);
    assert_eq!(h.status, "unavailable");
    assert!(
        h.problems.iter().any(|p| p.contains("storage unavailable")),
        "{:?}",
        h.problems
    );
    wa.send(&ClientFrame::Ping { nonce: 7 }).await;
    wa.wait_for("pong", |f| matches!(f, ServerFrame::Pong { nonce: 7 }))
        .await;
    wb.assert_quiet(Duration::from_millis(200), |f| {
        matches!(f, ServerFrame::Message { .. })
    })
    .await;

    server.restart();
    // Service resumes by itself: the same connections, the same resend.
    let start = Instant::now();
    while health(&t).await.0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(20), "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seq = wa
        .send_body(
            conv,
            MessageBody::Text {
                text: "during".into(),
            },
            "during",
        )
        .await
        .unwrap();
    assert_eq!(seq, 2);
    assert_eq!(text(&wb.message().await), "during");
    let me: natter_proto::model::Profile = t
        .patch(
            &a,
            "/v1/me",
            &UpdateProfile {
                nickname: Some("Ada L.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(me.user.nickname, "Ada L.");
    let (msgs, _) = wb.history(conv, None, None, None).await.unwrap();
    assert_eq!(
        msgs.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2],
        "nothing lost, nothing twice"
    );
}
