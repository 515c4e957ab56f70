//! Call signalling with the two parties on different nodes: ringing on every
//! device, answered elsewhere, busy, ring timeout, and one record per call.

use natter_proto::call::{CallNotice, CallRequest, EndReason, SdpType};
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::{CallMedia, CallOutcome, ConversationId, MessageBody};

use crate::infra::Cluster;
use crate::support::*;

fn call(call: CallRequest) -> ClientFrame {
    ClientFrame::Call { call, rid: None }
}

fn invite(id: &str, conversation: ConversationId) -> ClientFrame {
    call(CallRequest::Invite {
        call_id: id.into(),
        conversation,
        media: CallMedia::Audio,
    })
}

async fn notice(ws: &mut Ws) -> CallNotice {
    match ws
        .wait_for("call", |f| matches!(f, ServerFrame::Call { .. }))
        .await
    {
        ServerFrame::Call { call } => call,
        _ => unreachable!(),
    }
}

async fn ended(ws: &mut Ws) -> EndReason {
    match ws
        .wait_for("ended", |f| {
            matches!(
                f,
                ServerFrame::Call {
                    call: CallNotice::Ended { .. }
                }
            )
        })
        .await
    {
        ServerFrame::Call {
            call: CallNotice::Ended { reason, .. },
        } => reason,
        _ => unreachable!(),
    }
}

/// The call records in a conversation, read through haproxy.
async fn records(c: &Cluster, user: &User, conv: ConversationId) -> Vec<CallOutcome> {
    let mut ws = c.ws_any(user).await.0;
    ws.history(conv, None, None, Some(200))
        .await
        .unwrap()
        .0
        .iter()
        .filter_map(|m| match &m.body {
            MessageBody::Call { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_call_across_three_nodes_rings_everywhere_is_answered_once_and_recorded_once() {
    let c = Cluster::start(3).await;
    let (ann, bob) = (c.api.user("ann").await, c.api.user("bob").await);
    let conv = c.api.befriend(&ann, &bob).await;
    let bob_laptop = c.api.login("bob", &bob.password, Some("laptop")).await;
    let mut wa = c.ws_on(&ann, 0).await;
    let mut wb = c.ws_on(&bob, 1).await;
    let mut wb2 = c.ws_on(&bob_laptop, 2).await;

    wa.send(&invite("x1", conv)).await;
    for ws in [&mut wb, &mut wb2] {
        assert_eq!(
            notice(ws).await,
            CallNotice::Incoming {
                call_id: "x1".into(),
                conversation: conv,
                from: ann.id,
                media: CallMedia::Audio
            }
        );
    }
    wb.send(&call(CallRequest::Ringing {
        call_id: "x1".into(),
    }))
    .await;
    assert_eq!(
        notice(&mut wa).await,
        CallNotice::Ringing {
            call_id: "x1".into()
        }
    );

    // Busy: Carol, on node 1, calls Bob while his devices ring.
    let carol = c.api.user("carol").await;
    let conv_cb = c.api.befriend(&carol, &bob).await;
    let mut wc = c.ws_on(&carol, 1).await;
    wc.send(&invite("x2", conv_cb)).await;
    assert_eq!(ended(&mut wc).await, EndReason::Busy);

    // The laptop (node 2) answers; the phone (node 1) stops ringing.
    wb2.send(&call(CallRequest::Accept {
        call_id: "x1".into(),
    }))
    .await;
    assert_eq!(
        notice(&mut wa).await,
        CallNotice::Accepted {
            call_id: "x1".into()
        }
    );
    assert_eq!(ended(&mut wb).await, EndReason::AnsweredElsewhere);

    // SDP flows between the two devices taking part, across nodes.
    wa.send(&call(CallRequest::Sdp {
        call_id: "x1".into(),
        sdp_type: SdpType::Offer,
        sdp: "v=0 offer".into(),
    }))
    .await;
    let got = wb2
        .wait_for("sdp", |f| {
            matches!(
                f,
                ServerFrame::Call {
                    call: CallNotice::Sdp { .. }
                }
            )
        })
        .await;
    assert!(
        matches!(got, ServerFrame::Call { call: CallNotice::Sdp { sdp, .. } } if sdp == "v=0 offer")
    );
    wb2.send(&call(CallRequest::Sdp {
        call_id: "x1".into(),
        sdp_type: SdpType::Answer,
        sdp: "v=0 answer".into(),
    }))
    .await;
    let got = wa
        .wait_for("sdp", |f| {
            matches!(
                f,
                ServerFrame::Call {
                    call: CallNotice::Sdp { .. }
                }
            )
        })
        .await;
    assert!(
        matches!(got, ServerFrame::Call { call: CallNotice::Sdp { sdp, .. } } if sdp == "v=0 answer")
    );

    // The phone is not taking part: its SDP is refused.
    wb.send(&call(CallRequest::Sdp {
        call_id: "x1".into(),
        sdp_type: SdpType::Answer,
        sdp: "v=0".into(),
    }))
    .await;
    assert_eq!(wb.error().await.code, natter_proto::ErrorCode::Forbidden);

    wa.send(&call(CallRequest::Hangup {
        call_id: "x1".into(),
    }))
    .await;
    assert_eq!(ended(&mut wa).await, EndReason::Completed);
    assert_eq!(ended(&mut wb2).await, EndReason::Completed);
    // Ann can call again at once: nothing of the call is left anywhere.
    wa.send(&invite("x3", conv)).await;
    assert!(matches!(notice(&mut wb).await, CallNotice::Incoming { .. }));
    wa.send(&call(CallRequest::Cancel {
        call_id: "x3".into(),
    }))
    .await;
    assert_eq!(ended(&mut wa).await, EndReason::Cancelled);

    // x1 completed and x3 cancelled, each recorded once; x2 busy in its own
    // conversation.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        records(&c, &ann, conv).await,
        [CallOutcome::Completed, CallOutcome::Cancelled]
    );
    assert_eq!(records(&c, &carol, conv_cb).await, [CallOutcome::Busy]);
}

#[tokio::test]
async fn an_unanswered_call_across_nodes_times_out_once() {
    let c = Cluster::start(3).await;
    let (ann, bob) = (c.api.user("ann").await, c.api.user("bob").await);
    let conv = c.api.befriend(&ann, &bob).await;
    let mut wa = c.ws_on(&ann, 0).await;
    let mut wb = c.ws_on(&bob, 2).await;
    wa.send(&invite("t1", conv)).await;
    assert!(matches!(notice(&mut wb).await, CallNotice::Incoming { .. }));
    // The ring timeout is 3 s in the test configuration.
    assert_eq!(ended(&mut wa).await, EndReason::Missed);
    assert_eq!(ended(&mut wb).await, EndReason::Missed);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(records(&c, &bob, conv).await, [CallOutcome::Missed]);
}

/// Group calls need one relay: a node of a cluster refuses them, by name, and
/// nobody rings.
#[tokio::test]
async fn a_group_call_on_a_cluster_node_is_refused_as_unsupported() {
    let c = Cluster::start(2).await;
    let (ann, bob) = (c.api.user("ann").await, c.api.user("bob").await);
    c.api.befriend(&ann, &bob).await;
    let group: natter_proto::model::Group = c
        .api
        .post(
            &ann,
            "/v1/groups",
            &natter_proto::rest::CreateGroup {
                name: "cluster".into(),
                members: vec![bob.id],
            },
        )
        .await
        .unwrap();
    let mut wa = c.ws_on(&ann, 0).await;
    let mut wb = c.ws_on(&bob, 1).await;
    wa.send(&invite("g1", group.id)).await;
    let error = wa.error().await;
    assert_eq!(error.code, natter_proto::ErrorCode::Unsupported);
    assert!(error.message.contains("cluster"), "{}", error.message);
    wb.assert_quiet(std::time::Duration::from_millis(500), |f| {
        matches!(f, ServerFrame::Call { .. })
    })
    .await;
}
