use std::time::Duration;

use natter_proto::ErrorCode;
use natter_proto::event::EventBody;
use natter_proto::frame::ServerFrame;
use natter_proto::model::{FriendRequest, RequestStatus};
use natter_proto::rest::{Friends, SendFriendRequest};

use crate::support::*;

#[tokio::test]
async fn request_is_delivered_live_and_accept_tells_both() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("amy").await, t.user("ben").await);
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let req: FriendRequest = t
        .post(
            &a,
            "/v1/friends/requests",
            &SendFriendRequest {
                to: b.id,
                message: "我是艾米".into(),
            },
        )
        .await
        .unwrap();
    let ev = wb.event().await;
    match ev.body {
        EventBody::FriendRequestReceived { request } => {
            assert_eq!(request.id, req.id);
            assert_eq!(request.message, "我是艾米");
            assert_eq!(request.from.id, a.id);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        wa.event().await.body,
        EventBody::FriendRequestSent { .. }
    ));
    let incoming = t.requests(&b).await.incoming;
    assert_eq!(incoming.len(), 1);
    assert_eq!(t.requests(&a).await.outgoing.len(), 1);

    let _: FriendRequest = t
        .post(&b, &format!("/v1/friends/requests/{}/accept", req.id), &())
        .await
        .unwrap();
    let (ea, eb) = (wa.event().await, wb.event().await);
    let (EventBody::FriendAdded { friend: fa, .. }, EventBody::FriendAdded { friend: fb, .. }) =
        (ea.body, eb.body)
    else {
        panic!("expected friend_added on both sides");
    };
    assert_eq!(fa.user.id, b.id);
    assert_eq!(fb.user.id, a.id);
    assert_eq!(fa.conversation, fb.conversation);
    // The new friends learn each other is online.
    wa.wait_for(
        "presence",
        |f| matches!(f, ServerFrame::Presence { user, online: true } if *user == b.id),
    )
    .await;

    // Now they can chat; answering twice is refused.
    let seq = wa.send_text(fa.conversation, "hello").await.unwrap();
    assert_eq!(seq, 1);
    let err = t
        .post::<_, FriendRequest>(&b, &format!("/v1/friends/requests/{}/accept", req.id), &())
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::InvalidState);
    assert!(t.requests(&b).await.incoming.is_empty());
}

#[tokio::test]
async fn offline_recipient_gets_request_and_answer_at_next_login() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("cat").await, t.user("dan").await);
    let req: FriendRequest = t
        .post(
            &a,
            "/v1/friends/requests",
            &SendFriendRequest {
                to: b.id,
                message: "hey".into(),
            },
        )
        .await
        .unwrap();
    // b was offline; connects and catches up.
    let mut wb = t.ws(&b).await;
    let s = wb.sync(0, vec![]).await;
    assert!(s.events.iter().any(
        |e| matches!(&e.body, EventBody::FriendRequestReceived { request } if request.id == req.id)
    ));
    wb.stream.close(None).await.ok();

    // b rejects while a is offline; a learns at next catch-up.
    let r: FriendRequest = t
        .post(&b, &format!("/v1/friends/requests/{}/reject", req.id), &())
        .await
        .unwrap();
    assert_eq!(r.status, RequestStatus::Rejected);
    let mut wa = t.ws(&a).await;
    let s = wa.sync(0, vec![]).await;
    assert!(s.events.iter().any(|e| matches!(&e.body, EventBody::FriendRequestRejected { request_id, .. } if *request_id == req.id)));
    // Events come in order, gapless.
    let seqs: Vec<u64> = s.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(s.events_seq, seqs.len() as u64);
    // A cursor skips what the client already has.
    let again = wa.sync(s.events_seq, vec![]).await;
    assert!(again.events.is_empty());
}

#[tokio::test]
async fn only_friends_chat_and_unfriending_closes_the_chat() {
    let t = TestRelay::start().await;
    let (a, b, c) = (
        t.user("eve").await,
        t.user("fay").await,
        t.user("gus").await,
    );
    let conv = t.befriend(&a, &b).await;
    let mut wc = t.ws(&c).await;
    // A stranger cannot post into or read their conversation.
    let err = wc.send_text(conv, "intrusion").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFriends);
    let err = wc.history(conv, None, None, None).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotMember);

    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    wa.send_text(conv, "before").await.unwrap();
    t.delete(&a, &format!("/v1/friends/{}", b.id))
        .await
        .unwrap();
    assert!(matches!(wb.event().await.body, EventBody::FriendRemoved { user, .. } if user == a.id));
    let err = wb.send_text(conv, "after").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFriends);
    let friends: Friends = t.get(&a, "/v1/friends").await.unwrap();
    assert!(friends.friends.is_empty());
    // History stays readable; befriending again reopens the same conversation.
    let (msgs, _) = wb.history(conv, None, None, None).await.unwrap();
    assert_eq!(msgs.len(), 1);
    let again = t.befriend(&b, &a).await;
    assert_eq!(again, conv);
    assert_eq!(wb.send_text(conv, "friends again").await.unwrap(), 2);
    // Deleting a non-friend is refused.
    let err = t
        .delete(&a, &format!("/v1/friends/{}", c.id))
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::NotFriends);
    wa.assert_quiet(Duration::from_millis(50), |_| false).await;
}

#[tokio::test]
async fn request_rules() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("hal").await, t.user("ivy").await);
    let me = t
        .post::<_, FriendRequest>(
            &a,
            "/v1/friends/requests",
            &SendFriendRequest {
                to: a.id,
                message: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(me.1.code, ErrorCode::BadRequest);
    let ghost = t
        .post::<_, FriendRequest>(
            &a,
            "/v1/friends/requests",
            &SendFriendRequest {
                to: natter_proto::UserId(12345),
                message: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(ghost.1.code, ErrorCode::NotFound);
    // Repeating a pending request returns the same one.
    let r1: FriendRequest = t
        .post(
            &a,
            "/v1/friends/requests",
            &SendFriendRequest {
                to: b.id,
                message: "1".into(),
            },
        )
        .await
        .unwrap();
    let r2: FriendRequest = t
        .post(
            &a,
            "/v1/friends/requests",
            &SendFriendRequest {
                to: b.id,
                message: "2".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r1.id, r2.id);
    assert_eq!(t.requests(&b).await.incoming.len(), 1);
    // Only the recipient may answer.
    let err = t
        .post::<_, FriendRequest>(&a, &format!("/v1/friends/requests/{}/accept", r1.id), &())
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::NotFound);
    t.post::<_, FriendRequest>(&b, &format!("/v1/friends/requests/{}/accept", r1.id), &())
        .await
        .unwrap();
    let err = t
        .post::<_, FriendRequest>(
            &a,
            "/v1/friends/requests",
            &SendFriendRequest {
                to: b.id,
                message: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::AlreadyFriends);
}
