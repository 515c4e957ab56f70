//! Call signalling through the live session: the notices arrive as events, the
//! requests go out on the session, and the record lands in both stores.

use natter_net::session::Event;
use natter_proto::call::{CallNotice, CallRequest, EndReason};
use natter_proto::model::{CallMedia, CallOutcome, MessageBody};

use crate::support::*;

fn is_notice(e: &Event, pred: impl Fn(&CallNotice) -> bool) -> bool {
    matches!(e, Event::Call(n) if pred(n))
}

#[tokio::test]
async fn a_call_signalled_through_sessions_ends_with_a_record_in_both_stores() {
    let relay = TestRelay::start().await;
    let mut a = TestClient::new(&relay, "caller").await;
    let mut b = TestClient::new(&relay, "callee").await;
    let conv = befriend(&a, &b).await;
    a.synced().await;
    b.synced().await;

    let servers = a.client.ice_servers().await.unwrap();
    assert_eq!(servers.ice_servers.len(), 2, "{servers:?}");

    a.client.call(CallRequest::Invite {
        call_id: "net-1".into(),
        conversation: conv,
        media: CallMedia::Audio,
    });
    b.wait_event("incoming", |e| {
        is_notice(e, |n| matches!(n, CallNotice::Incoming { call_id, from, .. } if call_id == "net-1" && *from == a.client.me()))
    })
    .await;
    b.client.call(CallRequest::Accept {
        call_id: "net-1".into(),
    });
    a.wait_event("accepted", |e| {
        is_notice(e, |n| matches!(n, CallNotice::Accepted { .. }))
    })
    .await;
    a.client.call(CallRequest::Hangup {
        call_id: "net-1".into(),
    });
    b.wait_event("ended", |e| {
        is_notice(e, |n| {
            matches!(
                n,
                CallNotice::Ended {
                    reason: EndReason::Completed,
                    ..
                }
            )
        })
    })
    .await;
    for c in [&a, &b] {
        c.wait_held(conv, 1).await;
        let all = c.all(conv).await;
        assert!(
            matches!(
                all[0].body,
                MessageBody::Call {
                    outcome: CallOutcome::Completed,
                    media: CallMedia::Audio,
                    ..
                }
            ),
            "{:?}",
            all[0].body
        );
    }
}
