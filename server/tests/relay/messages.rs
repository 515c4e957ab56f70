use std::time::Duration;

use natter_proto::ErrorCode;
use natter_proto::frame::{ClientFrame, Cursor, ServerFrame};
use natter_proto::model::MessageBody;
use natter_proto::rest::{Conversations, MessagePage};

use crate::support::*;

#[tokio::test]
async fn send_ack_and_delivery_to_every_device() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("ann").await, t.user("bob").await);
    let conv = t.befriend(&a, &b).await;
    let a2 = t.login("ann", &a.password, Some("tablet")).await;
    let b2 = t.login("bob", &b.password, Some("phone")).await;
    let mut wa = t.ws(&a).await;
    let mut wa2 = t.ws(&a2).await;
    let mut wb = t.ws(&b).await;
    let mut wb2 = t.ws(&b2).await;
    for i in 1..=5u64 {
        assert_eq!(wa.send_text(conv, &format!("m{i}")).await.unwrap(), i);
    }
    for ws in [&mut wa2, &mut wb, &mut wb2] {
        for i in 1..=5u64 {
            let m = ws.message().await;
            assert_eq!((m.seq, text(&m)), (i, format!("m{i}").as_str()));
            assert_eq!(m.sender, a.id);
        }
    }
    // The sending connection gets acks, not echoes.
    wa.assert_quiet(Duration::from_millis(100), |f| {
        matches!(f, ServerFrame::Message { .. })
    })
    .await;
    // Replies and a message from the other side continue the same sequence.
    wb.send(&ClientFrame::Send {
        client_id: "r1".into(),
        conversation: conv,
        body: MessageBody::Text { text: "re".into() },
        reply_to: Some(3),
        extras: Default::default(),
    })
    .await;
    wb.wait_for("ack", |f| matches!(f, ServerFrame::Ack { seq: 6, .. }))
        .await;
    let m = wa.message().await;
    assert_eq!((m.seq, m.reply_to), (6, Some(3)));
}

#[tokio::test]
async fn resend_after_lost_ack_is_not_duplicated() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("cyd").await, t.user("dia").await);
    let conv = t.befriend(&a, &b).await;
    let mut wb = t.ws(&b).await;
    let mut wa = t.ws(&a).await;
    // Send, then drop the socket before reading the ack.
    wa.send(&ClientFrame::Send {
        client_id: "once".into(),
        conversation: conv,
        body: MessageBody::Text {
            text: "only once".into(),
        },
        reply_to: None,
        extras: Default::default(),
    })
    .await;
    let first = wb.message().await;
    drop(wa);
    // Reconnect and resend with the same client id.
    let mut wa = t.ws(&a).await;
    let seq = wa
        .send_body(
            conv,
            MessageBody::Text {
                text: "only once".into(),
            },
            "once",
        )
        .await
        .unwrap();
    assert_eq!(seq, first.seq);
    wb.assert_quiet(Duration::from_millis(150), |f| {
        matches!(f, ServerFrame::Message { .. })
    })
    .await;
    let (all, _) = wa.history(conv, None, None, None).await.unwrap();
    assert_eq!(all.len(), 1);
    // A different id is a different message.
    assert_eq!(
        wa.send_body(
            conv,
            MessageBody::Text {
                text: "only once".into()
            },
            "twice"
        )
        .await
        .unwrap(),
        2
    );
}

#[tokio::test]
async fn offline_member_catches_up_in_order_paged() {
    let t = TestRelay::start_with(|c| c.limits.page_size = 7).await;
    let (a, b, c) = (
        t.user("eddy").await,
        t.user("flo").await,
        t.user("gil").await,
    );
    let direct = t.befriend(&a, &b).await;
    t.befriend(&a, &c).await;
    let g: natter_proto::model::Group = t
        .post(
            &a,
            "/v1/groups",
            &natter_proto::rest::CreateGroup {
                name: "g".into(),
                members: vec![b.id, c.id],
            },
        )
        .await
        .unwrap();
    let mut wa = t.ws(&a).await;
    for i in 0..30 {
        wa.send_text(direct, &format!("d{i}")).await.unwrap();
        wa.send_text(g.id, &format!("g{i}")).await.unwrap();
    }
    // b was offline the whole time.
    let mut wb = t.ws(&b).await;
    let s = wb.sync(0, vec![]).await;
    for conv in [direct, g.id] {
        let seqs: Vec<u64> = s.messages[&conv].iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=30).collect::<Vec<_>>(), "conversation {conv}");
    }
    assert_eq!(text(&s.messages[&g.id][29]), "g29");
    let state = s.conversations.iter().find(|c| c.id == direct).unwrap();
    assert_eq!(state.last_seq, 30);

    // With cursors, only what is missing comes.
    for i in 30..35 {
        wa.send_text(direct, &format!("d{i}")).await.unwrap();
    }
    let s2 = wb
        .sync(
            s.events_seq,
            vec![
                Cursor {
                    conversation: direct,
                    after: 30,
                },
                Cursor {
                    conversation: g.id,
                    after: 30,
                },
            ],
        )
        .await;
    assert!(s2.events.is_empty());
    assert!(!s2.messages.contains_key(&g.id));
    let seqs: Vec<u64> = s2.messages[&direct].iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![31, 32, 33, 34, 35]);
}

#[tokio::test]
async fn gaps_are_filled_with_history_ranges() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("hua").await, t.user("ion").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    for i in 1..=20 {
        wa.send_text(conv, &format!("{i}")).await.unwrap();
    }
    let mut wb = t.ws(&b).await;
    // b holds 1..=5 and sees 20 live: it asks for 6..=19.
    let (page, more) = wb.history(conv, Some(5), Some(20), None).await.unwrap();
    assert_eq!(
        page.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (6..=19).collect::<Vec<_>>()
    );
    assert!(!more);
    // Newest page, then older pages.
    let (newest, more) = wb.history(conv, None, None, Some(8)).await.unwrap();
    assert_eq!(
        newest.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (13..=20).collect::<Vec<_>>()
    );
    assert!(more);
    let (older, more) = wb.history(conv, None, Some(13), Some(8)).await.unwrap();
    assert_eq!(
        older.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (5..=12).collect::<Vec<_>>()
    );
    assert!(more);
    let (oldest, more) = wb.history(conv, None, Some(5), Some(8)).await.unwrap();
    assert_eq!(oldest.len(), 4);
    assert!(!more);
    // The same over REST.
    let page: MessagePage = t
        .get(
            &b,
            &format!("/v1/conversations/{conv}/messages?after=10&limit=3"),
        )
        .await
        .unwrap();
    assert_eq!(
        page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![11, 12, 13]
    );
    assert!(page.more);
}

#[tokio::test]
async fn read_receipts_typing_and_unread_state() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("joe").await, t.user("kuo").await);
    let conv = t.befriend(&a, &b).await;
    let b2 = t.login("kuo", &b.password, Some("second")).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let mut wb2 = t.ws(&b2).await;
    for i in 0..4 {
        wa.send_text(conv, &format!("{i}")).await.unwrap();
    }
    wb.send(&ClientFrame::Typing {
        conversation: conv,
        rid: None,
    })
    .await;
    wa.wait_for(
        "typing",
        |f| matches!(f, ServerFrame::Typing { user, .. } if *user == b.id),
    )
    .await;
    wb.send(&ClientFrame::Read {
        conversation: conv,
        seq: 3,
        rid: None,
    })
    .await;
    wa.wait_for(
        "receipt",
        |f| matches!(f, ServerFrame::ReadReceipt { user, seq: 3, .. } if *user == b.id),
    )
    .await;
    // The reader's other device learns too (unread counts stay in step).
    wb2.wait_for("receipt", |f| {
        matches!(f, ServerFrame::ReadReceipt { seq: 3, .. })
    })
    .await;
    // Cursors never go back and never pass the end.
    wb.send(&ClientFrame::Read {
        conversation: conv,
        seq: 1,
        rid: None,
    })
    .await;
    wb.send(&ClientFrame::Read {
        conversation: conv,
        seq: 99,
        rid: None,
    })
    .await;
    wa.wait_for("receipt", |f| {
        matches!(f, ServerFrame::ReadReceipt { seq: 4, .. })
    })
    .await;
    let convs: Conversations = t.get(&b, "/v1/conversations").await.unwrap();
    let c = &convs.conversations[0];
    assert_eq!((c.last_seq, c.read_seq), (4, 4));
    let convs: Conversations = t.get(&a, "/v1/conversations").await.unwrap();
    assert_eq!(convs.conversations[0].peer_read_seq, Some(4));
}

#[tokio::test]
async fn recall_edit_and_reactions() {
    let t = TestRelay::start_with(|c| c.limits.recall_window_secs = 1).await;
    let (a, b) = (t.user("luc").await, t.user("mol").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let s1 = wa.send_text(conv, "typo").await.unwrap();
    let s2 = wa.send_text(conv, "oops").await.unwrap();
    // Only the sender edits; edits replace the stored text.
    let err = wb
        .send_body(
            conv,
            MessageBody::Edit {
                target: s1,
                text: "hijack".into(),
            },
            "e0",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    wa.send_body(
        conv,
        MessageBody::Edit {
            target: s1,
            text: "fixed".into(),
        },
        "e1",
    )
    .await
    .unwrap();
    // Reactions from both.
    wb.send_body(
        conv,
        MessageBody::Reaction {
            target: s1,
            emoji: "👍".into(),
            add: true,
        },
        "r1",
    )
    .await
    .unwrap();
    wa.send_body(
        conv,
        MessageBody::Reaction {
            target: s1,
            emoji: "👍".into(),
            add: true,
        },
        "r2",
    )
    .await
    .unwrap();
    // Recall: the other side may not; the sender may, within the window.
    let err = wb
        .send_body(conv, MessageBody::Recall { target: s2 }, "x0")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    wa.send_body(conv, MessageBody::Recall { target: s2 }, "x1")
        .await
        .unwrap();
    let (msgs, _) = wb.history(conv, None, None, None).await.unwrap();
    assert_eq!(text(&msgs[0]), "fixed");
    assert!(msgs[0].edited_ts.is_some());
    assert_eq!(msgs[0].reactions["👍"], vec![b.id, a.id]);
    assert_eq!(msgs[1].body, MessageBody::Recalled);
    // The operations themselves are in the log, in order, for live clients.
    let kinds: Vec<_> = msgs[2..].iter().map(|m| m.body.target()).collect();
    assert_eq!(kinds, vec![Some(s1), Some(s1), Some(s1), Some(s2)]);
    // Past the window the sender can no longer recall.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let err = wa
        .send_body(conv, MessageBody::Recall { target: s1 }, "x2")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::RecallExpired);
    // Targets must exist; relay-only kinds are refused.
    let err = wa
        .send_body(conv, MessageBody::Recall { target: 999 }, "x3")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    let err = wa
        .send_body(conv, MessageBody::Recalled, "x4")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
}

#[tokio::test]
async fn message_limits() {
    let t = TestRelay::start_with(|c| c.limits.max_text_chars = 10).await;
    let (a, b) = (t.user("ned").await, t.user("ola").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    assert_eq!(wa.send_text(conv, "一二三四五六七八九十").await.unwrap(), 1);
    assert_eq!(
        wa.send_text(conv, "一二三四五六七八九十一")
            .await
            .unwrap_err()
            .code,
        ErrorCode::TooLarge
    );
    assert_eq!(
        wa.send_text(conv, "   ").await.unwrap_err().code,
        ErrorCode::BadRequest
    );
    let long_id = "x".repeat(65);
    let err = wa
        .send_body(conv, MessageBody::Text { text: "hi".into() }, &long_id)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    // Nothing of that was stored.
    let (msgs, _) = wa.history(conv, None, None, None).await.unwrap();
    assert_eq!(msgs.len(), 1);
}
