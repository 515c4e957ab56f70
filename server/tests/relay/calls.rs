//! Call signalling: every way a call can end, each with its record on both sides;
//! SDP and ICE only between the two devices taking part.

use std::time::Duration;

use natter_proto::ErrorCode;
use natter_proto::call::{CallNotice, CallRequest, EndReason, IceCandidate, SdpType};
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::{CallMedia, CallOutcome, ConversationId, Message, MessageBody};

use crate::support::*;

fn call(call: CallRequest) -> ClientFrame {
    ClientFrame::Call { call, rid: None }
}

fn invite(id: &str, conversation: ConversationId) -> ClientFrame {
    call(CallRequest::Invite {
        call_id: id.into(),
        conversation,
        media: CallMedia::Video,
    })
}

fn id(s: &str) -> String {
    s.to_string()
}

impl Ws {
    async fn notice(&mut self) -> CallNotice {
        match self
            .wait_for("call", |f| matches!(f, ServerFrame::Call { .. }))
            .await
        {
            ServerFrame::Call { call } => call,
            _ => unreachable!(),
        }
    }

    async fn ended(&mut self) -> (EndReason, u64) {
        match self
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
                call:
                    CallNotice::Ended {
                        reason,
                        duration_ms,
                        ..
                    },
            } => (reason, duration_ms),
            _ => unreachable!(),
        }
    }

    /// The next call record message.
    async fn record(&mut self) -> (CallOutcome, u64, Message) {
        let m = self
            .wait_for("call record", |f| {
                matches!(f, ServerFrame::Message { message } if matches!(message.body, MessageBody::Call { .. }))
            })
            .await;
        let ServerFrame::Message { message } = m else {
            unreachable!()
        };
        let MessageBody::Call {
            outcome,
            duration_ms,
            ..
        } = message.body
        else {
            unreachable!()
        };
        (outcome, duration_ms, message)
    }
}

async fn relay() -> TestRelay {
    TestRelay::start_with(|c| {
        c.call_ring_timeout_ms = 1_500;
        c.call_grace_ms = 700;
    })
    .await
}

#[tokio::test]
async fn answered_on_one_device_then_hung_up_is_completed_with_duration() {
    let t = relay().await;
    let (a, b) = (t.user("ann").await, t.user("bob").await);
    let conv = t.befriend(&a, &b).await;
    let b2 = t.login("bob", &b.password, Some("laptop")).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let mut wb2 = t.ws(&b2).await;

    wa.send(&invite("c1", conv)).await;
    for ws in [&mut wb, &mut wb2] {
        assert_eq!(
            ws.notice().await,
            CallNotice::Incoming {
                call_id: id("c1"),
                conversation: conv,
                from: a.id,
                media: CallMedia::Video
            }
        );
        ws.send(&call(CallRequest::Ringing { call_id: id("c1") }))
            .await;
    }
    assert_eq!(wa.notice().await, CallNotice::Ringing { call_id: id("c1") });
    wb2.send(&call(CallRequest::Accept { call_id: id("c1") }))
        .await;
    assert_eq!(
        wa.wait_for("accepted", |f| matches!(
            f,
            ServerFrame::Call {
                call: CallNotice::Accepted { .. }
            }
        ))
        .await,
        ServerFrame::Call {
            call: CallNotice::Accepted { call_id: id("c1") }
        }
    );
    assert_eq!(wb.ended().await, (EndReason::AnsweredElsewhere, 0));

    // SDP and ICE flow between the caller and the answering device only.
    wa.send(&call(CallRequest::Sdp {
        call_id: id("c1"),
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
        matches!(got, ServerFrame::Call { call: CallNotice::Sdp { sdp_type: SdpType::Offer, sdp, .. } } if sdp == "v=0 offer")
    );
    let candidate = IceCandidate {
        candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
    };
    wb2.send(&call(CallRequest::Ice {
        call_id: id("c1"),
        candidate: candidate.clone(),
    }))
    .await;
    assert_eq!(
        wa.notice().await,
        CallNotice::Ice {
            call_id: id("c1"),
            candidate
        }
    );
    // The device that did not answer may not take part.
    wb.send(&call(CallRequest::Sdp {
        call_id: id("c1"),
        sdp_type: SdpType::Answer,
        sdp: "v=0".into(),
    }))
    .await;
    assert_eq!(wb.error().await.code, ErrorCode::Forbidden);

    tokio::time::sleep(Duration::from_millis(300)).await;
    wb2.send(&call(CallRequest::Hangup { call_id: id("c1") }))
        .await;
    let (reason, duration) = wa.ended().await;
    assert_eq!(reason, EndReason::Completed);
    assert!(duration >= 300, "duration {duration}");
    assert_eq!(wb2.ended().await, (EndReason::Completed, duration));
    for ws in [&mut wa, &mut wb, &mut wb2] {
        let (outcome, d, m) = ws.record().await;
        assert_eq!(
            (outcome, d, m.sender),
            (CallOutcome::Completed, duration, a.id)
        );
    }
    assert!(t.relay.service.calls.is_empty());
    // Candidates after the hang-up are refused and go nowhere.
    wa.send(&call(CallRequest::Ice {
        call_id: id("c1"),
        candidate: IceCandidate {
            candidate: "late".into(),
            sdp_mid: None,
            sdp_mline_index: None,
        },
    }))
    .await;
    assert_eq!(wa.error().await.code, ErrorCode::NotFound);
    wb2.assert_quiet(Duration::from_millis(200), |f| {
        matches!(f, ServerFrame::Call { .. })
    })
    .await;
}

#[tokio::test]
async fn rejected_cancelled_and_missed_calls_are_recorded() {
    let t = relay().await;
    let (a, b) = (t.user("cat").await, t.user("dan").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;

    wa.send(&invite("rej", conv)).await;
    wb.notice().await;
    wb.send(&call(CallRequest::Reject { call_id: id("rej") }))
        .await;
    assert_eq!(wa.ended().await.0, EndReason::Rejected);
    assert_eq!(wb.ended().await.0, EndReason::Rejected);
    assert_eq!(wa.record().await.0, CallOutcome::Rejected);
    assert_eq!(wb.record().await.0, CallOutcome::Rejected);

    wa.send(&invite("can", conv)).await;
    wb.notice().await;
    wa.send(&call(CallRequest::Cancel { call_id: id("can") }))
        .await;
    assert_eq!(wb.ended().await.0, EndReason::Cancelled);
    assert_eq!(wa.record().await.0, CallOutcome::Cancelled);
    assert_eq!(wb.record().await.0, CallOutcome::Cancelled);

    // Nobody answers: missed after the ring timeout (1.5 s here, 60 s by default).
    wa.send(&invite("mis", conv)).await;
    wb.notice().await;
    assert_eq!(wa.ended().await.0, EndReason::Missed);
    assert_eq!(wb.ended().await.0, EndReason::Missed);
    assert_eq!(wa.record().await.0, CallOutcome::Missed);
    assert_eq!(wb.record().await.0, CallOutcome::Missed);
    assert!(t.relay.service.calls.is_empty());
}

#[tokio::test]
async fn callee_in_another_call_is_busy() {
    let t = relay().await;
    let (a, b, c) = (
        t.user("eve").await,
        t.user("fay").await,
        t.user("gus").await,
    );
    let ab = t.befriend(&a, &b).await;
    let cb = t.befriend(&c, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let mut wc = t.ws(&c).await;
    wa.send(&invite("first", ab)).await;
    wb.notice().await;
    wb.send(&call(CallRequest::Accept {
        call_id: id("first"),
    }))
    .await;
    wa.notice().await; // accepted

    wc.send(&invite("second", cb)).await;
    assert_eq!(wc.ended().await, (EndReason::Busy, 0));
    assert_eq!(wc.record().await.0, CallOutcome::Busy);
    // The busy callee is not rung, but the record reaches them.
    let (outcome, _, m) = wb.record().await;
    assert_eq!((outcome, m.conversation), (CallOutcome::Busy, cb));
    // The first call is untouched.
    assert_eq!(t.relay.service.calls.len(), 1);
    // A caller already in a call cannot start another.
    wa.send(&invite("third", ab)).await;
    assert_eq!(wa.error().await.code, ErrorCode::InvalidState);
}

#[tokio::test]
async fn a_party_lost_mid_call_ends_it_after_the_grace_period() {
    let t = relay().await;
    let (a, b) = (t.user("hal").await, t.user("ivy").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    wa.send(&invite("x", conv)).await;
    wb.notice().await;
    wb.send(&call(CallRequest::Accept { call_id: id("x") }))
        .await;
    wa.notice().await;

    // A drop followed by a quick reconnect of the same device keeps the call.
    drop(wb);
    let mut wb = t.ws(&b).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(t.relay.service.calls.len(), 1);
    wb.send(&call(CallRequest::Ice {
        call_id: id("x"),
        candidate: IceCandidate {
            candidate: "again".into(),
            sdp_mid: None,
            sdp_mline_index: None,
        },
    }))
    .await;
    assert!(matches!(wa.notice().await, CallNotice::Ice { .. }));

    // Gone for good: the other side is told after the grace period.
    drop(wb);
    let (reason, _) = wa.ended().await;
    assert_eq!(reason, EndReason::ConnectionLost);
    assert_eq!(wa.record().await.0, CallOutcome::Completed);
    // The callee's device catches up on the record when it comes back.
    let mut wb = t.ws(&b).await;
    let synced = wb.sync(0, vec![]).await;
    let records: Vec<_> = synced.messages[&conv]
        .iter()
        .filter_map(|m| match m.body {
            MessageBody::Call { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(records, vec![CallOutcome::Completed]);
}

#[tokio::test]
async fn a_device_connecting_while_it_rings_is_told() {
    let t = relay().await;
    let (a, b) = (t.user("joe").await, t.user("kim").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    wa.send(&invite("late", conv)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut wb = t.ws(&b).await;
    assert!(matches!(wb.notice().await, CallNotice::Incoming { call_id, .. } if call_id == "late"));
    wb.send(&call(CallRequest::Accept {
        call_id: id("late"),
    }))
    .await;
    assert!(matches!(wa.notice().await, CallNotice::Accepted { .. }));
}

#[tokio::test]
async fn bad_signalling_is_refused_and_changes_nothing() {
    let t = relay().await;
    let (a, b, c) = (
        t.user("lee").await,
        t.user("max").await,
        t.user("ned").await,
    );
    let ab = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let mut wc = t.ws(&c).await;

    // Not in the conversation; malformed id; group calls; unknown call.
    wc.send(&invite("z", ab)).await;
    assert_eq!(wc.error().await.code, ErrorCode::NotMember);
    wa.send(&invite("bad id!", ab)).await;
    assert_eq!(wa.error().await.code, ErrorCode::BadRequest);
    wa.send(&call(CallRequest::Accept {
        call_id: id("nope"),
    }))
    .await;
    assert_eq!(wa.error().await.code, ErrorCode::NotFound);

    wa.send(&invite("y", ab)).await;
    wb.notice().await;
    // Before an answer there is nobody to send SDP to.
    wa.send(&call(CallRequest::Sdp {
        call_id: id("y"),
        sdp_type: SdpType::Offer,
        sdp: "v=0".into(),
    }))
    .await;
    assert_eq!(wa.error().await.code, ErrorCode::InvalidState);
    // A stranger can neither answer, hang up nor inject SDP: to them the call
    // does not exist.
    for req in [
        CallRequest::Accept { call_id: id("y") },
        CallRequest::Hangup { call_id: id("y") },
        CallRequest::Sdp {
            call_id: id("y"),
            sdp_type: SdpType::Answer,
            sdp: "v=0".into(),
        },
    ] {
        wc.send(&call(req)).await;
        assert_eq!(wc.error().await.code, ErrorCode::NotFound);
    }
    // The caller cannot answer their own call.
    wa.send(&call(CallRequest::Accept { call_id: id("y") }))
        .await;
    assert_eq!(wa.error().await.code, ErrorCode::Forbidden);
    // Still ringing, and still answerable by the callee.
    assert_eq!(t.relay.service.calls.len(), 1);
    wb.send(&call(CallRequest::Accept { call_id: id("y") }))
        .await;
    assert!(matches!(wa.notice().await, CallNotice::Accepted { .. }));
    // A second accept is refused.
    wb.send(&call(CallRequest::Accept { call_id: id("y") }))
        .await;
    assert_eq!(wb.error().await.code, ErrorCode::InvalidState);
    // No record was written by any of this.
    wa.assert_quiet(Duration::from_millis(200), |f| {
        matches!(f, ServerFrame::Message { .. })
    })
    .await;
}

#[tokio::test]
async fn turn_relays_with_handed_out_credentials_only() {
    use std::sync::Arc;

    use natter_proto::rest::IceServers;
    use turn::client::{Client, ClientConfig};
    use webrtc_util::Conn;

    let t = relay().await;
    let a = t.user("oli").await;
    let servers: IceServers = t.get(&a, "/v1/calls/ice-servers").await.unwrap();
    assert!(servers.expires_at > natter_proto::now_ms());
    let stun = &servers.ice_servers[0].urls[0];
    let turn = &servers.ice_servers[1];
    let addr = stun.strip_prefix("stun:").unwrap().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert_eq!(turn.urls[0], format!("turn:{addr}?transport=udp"));

    let client = |password: String| {
        let addr = addr.clone();
        let username = turn.username.clone().unwrap();
        async move {
            let conn = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let client = Client::new(ClientConfig {
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
            client
        }
    };

    // STUN: the server reports the address it saw.
    let good = client(turn.credential.clone().unwrap()).await;
    let mapped = good.send_binding_request().await.unwrap();
    assert_eq!(mapped.ip().to_string(), "127.0.0.1");

    // TURN: an allocation relays datagrams both ways.
    let relayed = good.allocate().await.unwrap();
    let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    relayed
        .send_to(b"through the relay", peer.local_addr().unwrap())
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = tokio::time::timeout(WAIT, peer.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"through the relay");
    assert_eq!(from, relayed.local_addr().unwrap());
    peer.send_to(b"and back", from).await.unwrap();
    let (n, _) = tokio::time::timeout(WAIT, relayed.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"and back");
    good.close().await.unwrap();

    // A made-up password gets no allocation.
    let bad = client("not-the-password".into()).await;
    assert!(bad.allocate().await.is_err());
    bad.close().await.unwrap();
}
