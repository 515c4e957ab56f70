//! Failures, injected for real: a node killed with SIGKILL mid-stream, the bus
//! killed for 10 s, and a node dying during a call.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use natter_proto::call::{CallNotice, CallRequest, EndReason};
use natter_proto::frame::{ClientFrame, Cursor, ServerFrame};
use natter_proto::model::{CallMedia, CallOutcome, ConversationId, Message, MessageBody};

use crate::infra::Cluster;
use crate::support::*;

/// Everything in a conversation, read through haproxy.
async fn all_messages(c: &Cluster, user: &User, conv: ConversationId) -> Vec<Message> {
    let mut ws = c.ws_any(user).await.0;
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (page, more) = ws
            .history(conv, Some(after), None, Some(200))
            .await
            .unwrap();
        after = page.last().map(|m| m.seq).unwrap_or(after);
        out.extend(page);
        if !more {
            return out;
        }
    }
}

/// Reads frames until the connection ends, collecting messages of `conv`.
async fn drain(ws: &mut Ws, conv: ConversationId, got: &mut BTreeMap<u64, String>) {
    while let Some(f) = ws.try_next(Duration::from_secs(30)).await {
        if let ServerFrame::Message { message } = f
            && message.conversation == conv
        {
            got.insert(message.seq, message.client_id.clone());
        }
    }
}

fn assert_gapless(history: &[Message]) {
    let seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
    let want: Vec<u64> = (1..=history.len() as u64).collect();
    assert_eq!(seqs, want, "seqs are not gapless");
}

#[tokio::test]
async fn a_node_killed_mid_stream_loses_nothing_acknowledged_and_duplicates_nothing() {
    let mut c = Cluster::start(3).await;
    let (ann, bob, dan) = (
        c.api.user("ann").await,
        c.api.user("bob").await,
        c.api.user("dan").await,
    );
    c.api.befriend(&ann, &bob).await;
    c.api.befriend(&ann, &dan).await;
    let group: natter_proto::model::Group = c
        .api
        .post(
            &ann,
            "/v1/groups",
            &natter_proto::rest::CreateGroup {
                name: "crew".into(),
                members: vec![bob.id, dan.id],
            },
        )
        .await
        .unwrap();
    let conv = group.id;
    // Ann (sending) and Dan (receiving) are on node 0, which dies; Bob
    // receives on node 1.
    let mut wa = c.ws_on(&ann, 0).await;
    let mut wd = c.ws_on(&dan, 0).await;
    let wb = c.ws_on(&bob, 1).await;
    let (stop_bob, stopped) = tokio::sync::oneshot::channel::<()>();
    let bob_task = tokio::spawn(async move {
        let mut wb = wb;
        let mut got = BTreeMap::new();
        let mut stopped = stopped;
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                f = wb.try_next(Duration::from_secs(60)) => match f {
                    Some(ServerFrame::Message { message }) if message.conversation == conv => {
                        got.insert(message.seq, message.client_id.clone());
                    }
                    Some(_) => {}
                    None => break,
                },
            }
        }
        (wb, got)
    });

    // Ann streams 300 messages without waiting for acks, the way the
    // client's outbox sends; node 0 is killed while they flow.
    const N: usize = 300;
    let ids: Vec<String> = (0..N).map(|i| format!("k{i:04}")).collect();
    let mut acked = BTreeMap::new();
    let mut sent = 0;
    // Up to 40 in flight; node 0 dies once 100 are acknowledged.
    while acked.len() < 100 {
        while sent < N && sent - acked.len() < 40 {
            wa.send(&ClientFrame::Send {
                client_id: ids[sent].clone(),
                conversation: conv,
                body: MessageBody::Text {
                    text: ids[sent].clone(),
                },
                reply_to: None,
                extras: Default::default(),
            })
            .await;
            sent += 1;
        }
        if let ServerFrame::Ack { client_id, seq, .. } = wa.next().await {
            acked.insert(client_id, seq);
        }
    }
    c.nodes[0].kill9();
    assert!(sent > acked.len(), "nothing was in flight when node 0 died");
    // Ann's connection is gone; whatever acks were in flight are lost.
    while let Some(f) = wa.try_next(Duration::from_secs(5)).await {
        if let ServerFrame::Ack { client_id, seq, .. } = f {
            acked.insert(client_id, seq);
        }
    }
    let acked_before = acked.clone();

    // Ann reconnects through haproxy and sends again everything not acked,
    // with the same client ids, then the rest.
    let (mut wa, node) = c.ws_any(&ann).await;
    assert_ne!(node, 0, "haproxy sent Ann to the dead node");
    for id in ids.iter().filter(|id| !acked.contains_key(*id)) {
        wa.send(&ClientFrame::Send {
            client_id: id.clone(),
            conversation: conv,
            body: MessageBody::Text { text: id.clone() },
            reply_to: None,
            extras: Default::default(),
        })
        .await;
    }
    while acked.len() < N {
        match wa.next().await {
            ServerFrame::Ack { client_id, seq, .. } => {
                acked.insert(client_id, seq);
            }
            ServerFrame::Error { error, .. } => panic!("send refused: {error:?}"),
            _ => {}
        }
    }

    // Everything acked before the kill kept its seq; the history holds each
    // message once, with gapless seqs.
    for (id, seq) in &acked_before {
        assert_eq!(acked[id], *seq, "{id} changed its seq");
    }
    let history = all_messages(&c, &ann, conv).await;
    assert_gapless(&history);
    let ids_in_history: Vec<&str> = history.iter().map(|m| m.client_id.as_str()).collect();
    let unique: BTreeSet<&str> = ids_in_history.iter().copied().collect();
    assert_eq!(
        unique.len(),
        ids_in_history.len(),
        "a message is stored twice"
    );
    assert_eq!(unique, ids.iter().map(String::as_str).collect());

    // Dan's session died with node 0: he reconnects and catches up from the
    // last seq he holds without gaps.
    let mut dan_got = BTreeMap::new();
    drain(&mut wd, conv, &mut dan_got).await;
    let cursor = (1..)
        .take_while(|s| dan_got.contains_key(s))
        .last()
        .unwrap_or(0);
    let (mut wd, _) = c.ws_any(&dan).await;
    let synced = wd
        .sync(
            0,
            vec![Cursor {
                conversation: conv,
                after: cursor,
            }],
        )
        .await;
    for m in synced.messages.get(&conv).into_iter().flatten() {
        dan_got.insert(m.seq, m.client_id.clone());
    }
    let want: BTreeMap<u64, String> = history
        .iter()
        .map(|m| (m.seq, m.client_id.clone()))
        .collect();
    assert_eq!(dan_got, want, "Dan's copy differs from the history");

    // Bob, on a node that stayed up, got the messages live; what the dead
    // node had committed but not yet published, his client fills from the
    // history, as it fills any gap.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_bob.send(()).unwrap();
    let (mut wb, mut bob_got) = bob_task.await.unwrap();
    for (seq, id) in &bob_got {
        assert_eq!(want.get(seq), Some(id), "Bob got something else live");
    }
    let missing: Vec<u64> = want
        .keys()
        .filter(|s| !bob_got.contains_key(s))
        .copied()
        .collect();
    println!(
        "Bob: {} live, {} filled from history",
        bob_got.len(),
        missing.len()
    );
    for seq in missing {
        let (page, _) = wb
            .history(conv, Some(seq - 1), Some(seq + 1), Some(1))
            .await
            .unwrap();
        bob_got.insert(seq, page[0].client_id.clone());
    }
    assert_eq!(bob_got, want);
}

#[tokio::test]
async fn with_the_bus_down_for_10_s_nodes_serve_their_own_devices_and_others_catch_up_in_order() {
    let mut c = Cluster::start(3).await;
    let (ann, bob) = (c.api.user("ann").await, c.api.user("bob").await);
    let conv = c.api.befriend(&ann, &bob).await;
    let ann_tablet = c.api.login("ann", &ann.password, Some("tablet")).await;
    let mut wa = c.ws_on(&ann, 0).await;
    let mut wa2 = c.ws_on(&ann_tablet, 0).await;
    let mut wb = c.ws_on(&bob, 1).await;
    let before = wa.send_text(conv, "before").await.unwrap();
    assert_eq!(wb.message().await.seq, before);
    assert_eq!(wa2.message().await.seq, before);

    c.nats.kill();
    let down = std::time::Instant::now();
    let mut seqs = Vec::new();
    for i in 0..10 {
        // Commits and acks go on.
        seqs.push(wa.send_text(conv, &format!("during {i}")).await.unwrap());
        // Ann's other device on the same node hears them live.
        assert_eq!(wa2.message().await.seq, *seqs.last().unwrap());
    }
    let left = Duration::from_secs(10).saturating_sub(down.elapsed());
    tokio::time::sleep(left).await;
    c.nats.restart();

    // Bob's node, its bus back, closes his session with 1013 "reconnect";
    // he reconnects and catches up, in order.
    let mut live = BTreeMap::new();
    drain(&mut wb, conv, &mut live).await;
    let cursor = (before..)
        .take_while(|s| *s == before || live.contains_key(s))
        .last()
        .unwrap();
    let mut wb = c.ws_on(&bob, 1).await;
    let synced = wb
        .sync(
            0,
            vec![Cursor {
                conversation: conv,
                after: cursor,
            }],
        )
        .await;
    let caught: Vec<u64> = synced
        .messages
        .get(&conv)
        .into_iter()
        .flatten()
        .map(|m| m.seq)
        .collect();
    let mut all: Vec<u64> = live.keys().copied().filter(|s| *s > before).collect();
    all.extend(caught.iter().copied().filter(|s| !live.contains_key(s)));
    all.sort();
    assert_eq!(all, seqs);
    assert!(
        caught.windows(2).all(|w| w[0] < w[1]),
        "catch-up out of order"
    );

    // Ann's node closed her sessions too; once she is back, live traffic
    // flows across nodes again.
    drop(wa);
    let mut wa = c.ws_on(&ann, 0).await;
    let after = wa.send_text(conv, "after").await.unwrap();
    let m = loop {
        let m = wb.message().await;
        if m.seq == after {
            break m;
        }
    };
    assert_eq!(text(&m), "after");
}

#[tokio::test]
async fn a_call_whose_callers_node_dies_ends_for_the_other_side_once() {
    let mut c = Cluster::start(3).await;
    let (ann, bob) = (c.api.user("ann").await, c.api.user("bob").await);
    let conv = c.api.befriend(&ann, &bob).await;
    let mut wa = c.ws_on(&ann, 0).await;
    let mut wb = c.ws_on(&bob, 1).await;
    wa.send(&ClientFrame::Call {
        call: CallRequest::Invite {
            call_id: "d1".into(),
            conversation: conv,
            media: CallMedia::Audio,
        },
        rid: None,
    })
    .await;
    wb.wait_for("incoming", |f| {
        matches!(
            f,
            ServerFrame::Call {
                call: CallNotice::Incoming { .. }
            }
        )
    })
    .await;
    wb.send(&ClientFrame::Call {
        call: CallRequest::Accept {
            call_id: "d1".into(),
        },
        rid: None,
    })
    .await;
    wa.wait_for("accepted", |f| {
        matches!(
            f,
            ServerFrame::Call {
                call: CallNotice::Accepted { .. }
            }
        )
    })
    .await;

    // Ann's node dies and Ann does not come back: once the others see the
    // node dead and her grace period passes, Bob's call ends, and Ann shows
    // offline.
    c.nodes[0].kill9();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let mut offline = false;
    let reason = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match wb.try_next(left).await.expect("the call did not end") {
            ServerFrame::Call {
                call: CallNotice::Ended { reason, .. },
            } => break reason,
            ServerFrame::Presence {
                user,
                online: false,
            } if user == ann.id => offline = true,
            _ => {}
        }
    };
    assert_eq!(reason, EndReason::ConnectionLost);
    if !offline {
        wb.wait_for("offline", |f| {
            matches!(f, ServerFrame::Presence { online: false, .. })
        })
        .await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let records: Vec<CallOutcome> = all_messages(&c, &bob, conv)
        .await
        .iter()
        .filter_map(|m| match &m.body {
            MessageBody::Call { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect();
    assert_eq!(records, [CallOutcome::Completed]);
}

#[tokio::test]
async fn with_the_database_down_nodes_refuse_writes_stay_up_and_resume_by_themselves() {
    let mut pg = crate::pg::PgServer::start();
    let c = Cluster::start_on(2, &pg.fresh_database().await).await;
    let (ann, bob) = (c.api.user("ann").await, c.api.user("bob").await);
    let conv = c.api.befriend(&ann, &bob).await;
    let mut wa = c.ws_on(&ann, 0).await;
    let mut wb = c.ws_on(&bob, 1).await;
    assert_eq!(wa.send_text(conv, "before").await.unwrap(), 1);
    assert_eq!(wb.message().await.seq, 1);

    pg.stop();
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
    assert_eq!(refused.code, natter_proto::ErrorCode::Unavailable);
    for node in &c.nodes {
        let h = http_client()
            .get(format!("{}/healthz", node.base()))
            .send()
            .await
            .unwrap();
        assert_eq!(h.status(), 503);
        let body: natter_proto::rest::Health = h.json().await.unwrap();
        assert!(
            body.problems
                .iter()
                .any(|p| p.contains("storage unavailable"))
        );
    }
    // The sessions stay up.
    for ws in [&mut wa, &mut wb] {
        ws.send(&ClientFrame::Ping { nonce: 5 }).await;
        ws.wait_for("pong", |f| matches!(f, ServerFrame::Pong { nonce: 5 }))
            .await;
    }
    // Long enough for every node's heartbeat to go stale.
    tokio::time::sleep(Duration::from_secs(12)).await;

    pg.restart();
    let start = std::time::Instant::now();
    for node in &c.nodes {
        loop {
            let h = http_client()
                .get(format!("{}/healthz", node.base()))
                .send()
                .await
                .unwrap();
            if h.status() == 200 {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "never recovered");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The same sessions, the same resend: acknowledged once, delivered
    // across nodes; nobody was taken for offline.
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
    assert_eq!(wb.message().await.seq, 2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    wa.assert_quiet(Duration::from_millis(500), |f| {
        matches!(f, ServerFrame::Presence { online: false, .. })
    })
    .await;
}
