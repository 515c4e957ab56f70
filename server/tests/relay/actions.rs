//! Protocol version 2's rules for acting on messages: the edit window,
//! mentions that must name members (`@all` for the owner and admins), and
//! forwarded copies whose author's name the relay fills in.

use std::time::Duration;

use natter_proto::ErrorBody;
use natter_proto::ErrorCode;
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::{ConversationId, Extras, Forwarded, Group, MessageBody, UserId};
use natter_proto::rest::CreateGroup;

use crate::support::*;

/// Sends a body with extras and waits for its ack (the seq) or error.
async fn send_with(
    ws: &mut Ws,
    conversation: ConversationId,
    body: MessageBody,
    extras: Extras,
) -> Result<u64, ErrorBody> {
    let client_id = ws.fresh_id();
    ws.send_extras(conversation, body, &client_id, extras).await
}

/// `owner`, friends with each of `members`, and a group of them all.
async fn group_of(t: &TestRelay, owner: &User, members: &[&User], name: &str) -> Group {
    for u in members {
        t.befriend(owner, u).await;
    }
    t.post(
        owner,
        "/v1/groups",
        &CreateGroup {
            name: name.into(),
            members: members.iter().map(|u| u.id).collect(),
        },
    )
    .await
    .unwrap()
}

fn text(t: &str) -> MessageBody {
    MessageBody::Text { text: t.into() }
}

fn mentions(users: &[UserId]) -> Extras {
    Extras {
        mentions: users.to_vec(),
        ..Extras::default()
    }
}

#[tokio::test]
async fn an_edit_after_the_window_is_refused_and_changes_nothing() {
    let t = TestRelay::start_with(|c| c.limits.edit_window_secs = 1).await;
    let (a, b) = (t.user("eda").await, t.user("edb").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let seq = wa.send_text(conv, "first").await.unwrap();
    let edit = |s: &str| MessageBody::Edit {
        target: seq,
        text: s.into(),
    };
    wa.send_body(conv, edit("second"), "e1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let err = wa.send_body(conv, edit("third"), "e2").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::EditExpired);
    let (page, _) = wa.history(conv, None, None, Some(10)).await.unwrap();
    let stored = page.iter().find(|m| m.seq == seq).unwrap();
    assert_eq!(crate::support::text(stored), "second");
    // The window is announced to clients, since protocol version 2.
    assert!(
        matches!(&wa.welcome, ServerFrame::Welcome { limits, protocol, .. }
            if limits.edit_window_secs == 1 && *protocol >= 2),
        "{:?}",
        wa.welcome
    );
}

#[tokio::test]
async fn mentions_name_members_and_everyone_is_for_the_owner_and_admins() {
    let t = TestRelay::start().await;
    let owner = t.user("mowner").await;
    let (a, b, stranger) = (
        t.user("mamy").await,
        t.user("mbob").await,
        t.user("mxen").await,
    );
    t.befriend(&owner, &stranger).await;
    let g = group_of(&t, &owner, &[&a, &b], "crag").await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let mut wo = t.ws(&owner).await;
    // A member mentioned: stored sorted and without duplicates, delivered.
    let seq = send_with(
        &mut wa,
        g.id,
        text("@mb @mo hi"),
        mentions(&[b.id, owner.id, b.id]),
    )
    .await
    .unwrap();
    let m = wb
        .wait_for(
            "mention",
            |f| matches!(f, ServerFrame::Message { message } if message.seq == seq),
        )
        .await;
    let ServerFrame::Message { message } = m else {
        unreachable!()
    };
    let mut want = vec![b.id, owner.id];
    want.sort();
    assert_eq!(message.extras.mentions, want);
    assert!(message.extras.mentions(b.id) && !message.extras.mentions(a.id));
    // Someone outside the group.
    let err = send_with(&mut wa, g.id, text("@mx"), mentions(&[stranger.id]))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadMention);
    assert!(
        err.message.contains(&stranger.id.to_string()),
        "{}",
        err.message
    );
    // @all: not for an ordinary member, fine for the owner.
    let all = Extras {
        mention_all: true,
        ..Extras::default()
    };
    let err = send_with(&mut wa, g.id, text("@all"), all.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadMention);
    let seq_all = send_with(&mut wo, g.id, text("@all meet at 9"), all.clone())
        .await
        .unwrap();
    // Not in a 1:1 conversation, not on an operation, not on a picture.
    let direct = t.befriend(&a, &b).await;
    let err = send_with(&mut wa, direct, text("@mb"), mentions(&[b.id]))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadMention);
    let err = send_with(
        &mut wa,
        g.id,
        MessageBody::Reaction {
            target: seq,
            emoji: "👍".into(),
            add: true,
        },
        mentions(&[b.id]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    // Nothing refused was stored: the history holds the two accepted ones.
    let (page, _) = wb.history(g.id, None, None, Some(50)).await.unwrap();
    let mentioning: Vec<u64> = page
        .iter()
        .filter(|m| m.extras != Extras::default())
        .map(|m| m.seq)
        .collect();
    assert_eq!(mentioning, vec![seq, seq_all]);
    assert!(
        page.iter()
            .find(|m| m.seq == seq_all)
            .unwrap()
            .extras
            .mention_all
    );
}

#[tokio::test]
async fn a_forwarded_copy_carries_the_authors_real_name() {
    let t = TestRelay::start().await;
    let (a, b, c) = (
        t.user("fwa").await,
        t.user("fwb").await,
        t.user("fwc").await,
    );
    let ab = t.befriend(&a, &b).await;
    let ac = t.befriend(&a, &c).await;
    let mut wb = t.ws(&b).await;
    let mut wa = t.ws(&a).await;
    let mut wc = t.ws(&c).await;
    wb.send_text(ab, "the crag opens at nine").await.unwrap();
    // a forwards b's message to c, claiming another name: the relay puts b's.
    let forged = Extras {
        forwarded: Some(Forwarded {
            from: b.id,
            name: "Somebody Else".into(),
        }),
        ..Extras::default()
    };
    let seq = send_with(&mut wa, ac, text("the crag opens at nine"), forged)
        .await
        .unwrap();
    let got = wc
        .wait_for(
            "forwarded",
            |f| matches!(f, ServerFrame::Message { message } if message.seq == seq),
        )
        .await;
    let ServerFrame::Message { message } = got else {
        unreachable!()
    };
    assert_eq!(
        message.extras.forwarded,
        Some(Forwarded {
            from: b.id,
            name: "Nick fwb".into()
        })
    );
    // An author that does not exist.
    let nobody = Extras {
        forwarded: Some(Forwarded {
            from: UserId(7),
            name: "x".into(),
        }),
        ..Extras::default()
    };
    let err = send_with(&mut wa, ac, text("hm"), nobody)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
}

#[tokio::test]
async fn every_members_read_cursor_is_there_for_members_only() {
    let t = TestRelay::start().await;
    let owner = t.user("rowner").await;
    let (a, b, stranger) = (
        t.user("ramy").await,
        t.user("rbob").await,
        t.user("rxen").await,
    );
    t.befriend(&owner, &stranger).await;
    let g = group_of(&t, &owner, &[&a, &b], "readers").await;
    let mut wa = t.ws(&a).await;
    let mut wo = t.ws(&owner).await;
    wa.send_text(g.id, "one").await.unwrap();
    let two = wa.send_text(g.id, "two").await.unwrap();
    let mut wb = t.ws(&b).await;
    wb.send(&ClientFrame::Read {
        conversation: g.id,
        seq: two,
        rid: None,
    })
    .await;
    // The owner is told live, and the reads say the same.
    wo.wait_for(
        "receipt",
        |f| matches!(f, ServerFrame::ReadReceipt { user, seq, .. } if *user == b.id && *seq == two),
    )
    .await;
    let reads: natter_proto::rest::Reads = t
        .get(&owner, &format!("/v1/conversations/{}/reads", g.id.0))
        .await
        .unwrap();
    let of = |u: UserId| reads.reads.iter().find(|r| r.user == u).map(|r| r.seq);
    assert_eq!(reads.reads.len(), 3);
    assert_eq!(of(b.id), Some(two));
    assert_eq!(of(owner.id), Some(0));
    let err = t
        .get::<natter_proto::rest::Reads>(&stranger, &format!("/v1/conversations/{}/reads", g.id.0))
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::NotMember);
}
