//! What is live on one relay is live across nodes.

use std::time::Duration;

use natter_proto::EventBody;
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::{FileRef, MessageBody};
use reqwest::StatusCode;

use crate::infra::Cluster;
use crate::support::*;

#[tokio::test]
async fn messages_events_receipts_and_typing_reach_devices_on_other_nodes() {
    let c = Cluster::start(3).await;
    let (ann, bob) = (c.api.user("ann").await, c.api.user("bob").await);
    // Bob has a phone on node 1 and a laptop on node 2; Ann is on node 0.
    let bob_laptop = c.api.login("bob", &bob.password, Some("laptop")).await;
    let mut wa = c.ws_on(&ann, 0).await;
    let mut wb = c.ws_on(&bob, 1).await;
    let mut wb2 = c.ws_on(&bob_laptop, 2).await;

    // A friend request made through any node is an event on every device.
    let conv = c.api.befriend(&ann, &bob).await;
    for ws in [&mut wb, &mut wb2] {
        let e = ws.event().await;
        assert!(
            matches!(e.body, EventBody::FriendRequestReceived { .. }),
            "{e:?}"
        );
    }

    // Messages both ways, in order, with their seqs.
    let mut seqs = Vec::new();
    for i in 0..20 {
        seqs.push(wa.send_text(conv, &format!("m{i}")).await.unwrap());
    }
    assert_eq!(seqs, (seqs[0]..seqs[0] + 20).collect::<Vec<_>>());
    for ws in [&mut wb, &mut wb2] {
        for (i, seq) in seqs.iter().enumerate() {
            let m = ws.message().await;
            assert_eq!((m.seq, text(&m)), (*seq, format!("m{i}").as_str()));
        }
    }
    let reply = wb2.send_text(conv, "from the laptop").await.unwrap();
    let m = wa.message().await;
    assert_eq!((m.seq, text(&m)), (reply, "from the laptop"));
    // The sender's other device hears it too, on its node.
    let m = wb.message().await;
    assert_eq!(m.seq, reply);

    // Read receipts and typing cross nodes.
    wb.send(&ClientFrame::Read {
        conversation: conv,
        seq: reply,
        rid: None,
    })
    .await;
    let f = wa
        .wait_for("read receipt", |f| {
            matches!(f, ServerFrame::ReadReceipt { .. })
        })
        .await;
    assert_eq!(
        f,
        ServerFrame::ReadReceipt {
            conversation: conv,
            user: bob.id,
            seq: reply
        }
    );
    wb2.wait_for(
        "own read receipt",
        |f| matches!(f, ServerFrame::ReadReceipt { user, .. } if *user == bob.id),
    )
    .await;
    wa.send(&ClientFrame::Typing {
        conversation: conv,
        rid: None,
    })
    .await;
    for ws in [&mut wb, &mut wb2] {
        let f = ws
            .wait_for("typing", |f| matches!(f, ServerFrame::Typing { .. }))
            .await;
        assert_eq!(
            f,
            ServerFrame::Typing {
                conversation: conv,
                user: ann.id
            }
        );
    }
    // Nothing arrives twice.
    wb.assert_quiet(Duration::from_millis(300), |f| {
        matches!(f, ServerFrame::Message { .. })
    })
    .await;
}

#[tokio::test]
async fn presence_is_one_view_across_nodes() {
    let c = Cluster::start(3).await;
    let (ann, bob) = (c.api.user("ann").await, c.api.user("bob").await);
    c.api.befriend(&ann, &bob).await;
    let bob_laptop = c.api.login("bob", &bob.password, Some("laptop")).await;
    let mut wa = c.ws_on(&ann, 0).await;

    let presence = |online: bool| move |f: &ServerFrame| matches!(f, ServerFrame::Presence { online: o, .. } if *o == online);
    let wb = c.ws_on(&bob, 1).await;
    assert_eq!(
        wa.wait_for("online", presence(true)).await,
        ServerFrame::Presence {
            user: bob.id,
            online: true
        }
    );
    // A second device on another node changes nothing: Bob is already online.
    let mut wb2 = c.ws_on(&bob_laptop, 2).await;
    // ...and that device learns that Ann, on a third node, is online.
    assert_eq!(
        wb2.wait_for("online", presence(true)).await,
        ServerFrame::Presence {
            user: ann.id,
            online: true
        }
    );
    drop(wb);
    // One device left (on node 2): still online.
    wa.assert_quiet(Duration::from_millis(800), |f| {
        matches!(f, ServerFrame::Presence { .. })
    })
    .await;
    drop(wb2);
    assert_eq!(
        wa.wait_for("offline", presence(false)).await,
        ServerFrame::Presence {
            user: bob.id,
            online: false
        }
    );
}

#[tokio::test]
async fn a_device_connecting_to_another_node_replaces_its_old_session_and_sign_out_closes_it_everywhere()
 {
    let c = Cluster::start(3).await;
    let ann = c.api.user("ann").await;
    let mut old = c.ws_on(&ann, 0).await;
    let _new = c.ws_on(&ann, 1).await;
    let e = old.error().await;
    assert_eq!(e.code, natter_proto::ErrorCode::Unauthorized);
    assert!(e.message.contains("replaced"), "{e:?}");
    assert!(old.try_next(Duration::from_secs(5)).await.is_none());

    // Sign out through node 2 (directly), while the session is on node 1.
    let mut on_1 = c.ws_on(&ann, 1).await;
    let direct = Api::new(&c.nodes[2].base());
    direct
        .call::<(), ()>(
            reqwest::Method::POST,
            Some(&ann.token),
            "/v1/auth/logout",
            None,
        )
        .await
        .unwrap();
    let e = on_1.error().await;
    assert_eq!(e.message, "logged out");
    assert!(on_1.try_next(Duration::from_secs(5)).await.is_none());
}

#[tokio::test]
async fn a_file_uploaded_through_one_node_downloads_through_every_node() {
    let c = Cluster::start(3).await;
    let ann = c.api.user("ann").await;
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let up = c
        .api
        .http
        .post(format!("{}/v1/files?name=photo.png", c.nodes[0].base()))
        .bearer_auth(&ann.token)
        .header("content-type", "image/png")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), StatusCode::CREATED);
    let file: FileRef = up.json().await.unwrap();
    for node in &c.nodes[1..] {
        let down = c
            .api
            .http
            .get(format!("{}/v1/files/{}", node.base(), file.id))
            .bearer_auth(&ann.token)
            .send()
            .await
            .unwrap();
        assert_eq!(down.status(), StatusCode::OK);
        assert_eq!(down.bytes().await.unwrap().to_vec(), bytes);
    }
    // And it is one file in the shared directory.
    assert!(c.files.join(&file.id).is_file());
    // A message referencing it is accepted through another node.
    let bob = c.api.user("bob").await;
    let conv = c.api.befriend(&ann, &bob).await;
    let mut wa = c.ws_on(&ann, 2).await;
    let id = wa.fresh_id();
    wa.send_body(
        conv,
        MessageBody::Image {
            file,
            width: 64,
            height: 64,
            preview: None,
        },
        &id,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn failed_sign_ins_count_on_every_node() {
    let c = Cluster::start(3).await;
    let ann = c.api.user("ann").await;
    let http = reqwest::Client::new();
    let sign_in = |node: usize, password: &str| {
        let req = http
            .post(format!("{}/v1/auth/login", c.nodes[node].base()))
            .json(&serde_json::json!({"account": "ann", "password": password}));
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.unwrap();
            (status, body)
        }
    };
    // Four wrong guesses at node 0 and one at node 1: the five free ones.
    for node in [0, 0, 0, 0, 1] {
        let (status, body) = sign_in(node, "guess-guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        // What a node counted reaches the others over the bus.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Node 2 saw none of them, yet the account now waits there too, even with
    // the right password.
    let (status, body) = sign_in(2, &ann.password).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited");
    assert!(body["retry_after_ms"].as_u64().unwrap() > 0, "{body}");
    // Once the wait is over, the right password at node 0 signs in and clears
    // the count on every node: a wrong guess at node 2 is one free failure again.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, body) = sign_in(0, &ann.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = sign_in(2, "guess-guess").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = sign_in(2, &ann.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
