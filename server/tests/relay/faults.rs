use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::MessageBody;
use natter_proto::rest::Health;
use natter_proto::{ErrorCode, PROTOCOL_VERSIONS};
use reqwest::Method;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::support::*;

#[tokio::test]
async fn bad_frames_get_errors_and_everyone_carries_on() {
    let t = TestRelay::start_with(|c| c.limits.max_frame_bytes = 4096).await;
    let (a, b) = (t.user("pat").await, t.user("quin").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let cases: Vec<(String, ErrorCode)> = vec![
        ("not json at all".into(), ErrorCode::MalformedFrame),
        ("[1,2,3]".into(), ErrorCode::MalformedFrame),
        (r#"{"no_type":1}"#.into(), ErrorCode::MalformedFrame),
        (r#"{"type":42}"#.into(), ErrorCode::MalformedFrame),
        (
            r#"{"type":"teleport","to":"mars"}"#.into(),
            ErrorCode::UnknownFrame,
        ),
        (
            r#"{"type":"send","conversation":"seven"}"#.into(),
            ErrorCode::BadRequest,
        ),
        (
            r#"{"type":"send","client_id":"k","conversation":1,"body":{"kind":"hologram"}}"#.into(),
            ErrorCode::BadRequest,
        ),
        (
            format!(
                r#"{{"type":"send","client_id":"big","conversation":{conv},"body":{{"kind":"text","text":"{}"}}}}"#,
                "x".repeat(5000)
            ),
            ErrorCode::TooLarge,
        ),
        (
            r#"{"type":"hello","protocols":[1],"token":"again"}"#.into(),
            ErrorCode::BadRequest,
        ),
    ];
    for (frame, code) in cases {
        wa.send_raw(&frame).await;
        assert_eq!(
            wa.error().await.code,
            code,
            "frame {}",
            &frame[..frame.len().min(60)]
        );
    }
    wa.stream
        .send(WsMessage::Binary(vec![1u8, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(wa.error().await.code, ErrorCode::MalformedFrame);
    // The same connection still works, and so does everyone else's.
    assert_eq!(wa.send_text(conv, "still fine").await.unwrap(), 1);
    assert_eq!(text(&wb.message().await), "still fine");
    // Nothing of the bad frames was stored.
    let (msgs, _) = wb.history(conv, None, None, None).await.unwrap();
    assert_eq!(msgs.len(), 1);
    // A frame far beyond any limit closes only that connection.
    wa.send_raw(&"y".repeat(2 << 20)).await;
    // (Frames already on their way, such as the other side's presence, may
    // come first.)
    while let Some(f) = wa.try_next(WAIT).await {
        assert!(matches!(f, ServerFrame::Presence { .. }), "{f:?}");
    }
    assert_eq!(wb.send_text(conv, "others unaffected").await.unwrap(), 2);
    let h: Health = t
        .call::<(), _>(Method::GET, None, "/healthz", None)
        .await
        .unwrap();
    assert_eq!(h.sessions, 1);
}

#[tokio::test]
async fn hello_is_required_and_checked() {
    let t = TestRelay::start_with(|c| c.hello_timeout_secs = 1).await;
    let a = t.user("rae").await;
    let url = t.relay.ws_url();
    let expect_refusal = |frame: String, code: ErrorCode| {
        let url = url.clone();
        async move {
            let mut s = Ws::connect_raw(&url).await;
            if !frame.is_empty() {
                s.send(WsMessage::Text(frame.into())).await.unwrap();
            }
            let mut ws = Ws::from_stream(s);
            assert_eq!(ws.error().await.code, code);
            assert!(ws.try_next(WAIT).await.is_none(), "closed after refusal");
        }
    };
    let hello = |protocols: Vec<u32>, token: &str| {
        serde_json::to_string(&ClientFrame::Hello {
            protocols,
            token: token.into(),
        })
        .unwrap()
    };
    expect_refusal(
        hello(PROTOCOL_VERSIONS.to_vec(), "garbage"),
        ErrorCode::Unauthorized,
    )
    .await;
    expect_refusal(hello(vec![999], &a.token), ErrorCode::UnsupportedVersion).await;
    expect_refusal(r#"{"type":"ping"}"#.into(), ErrorCode::HelloRequired).await;
    // Saying nothing: refused after the hello timeout.
    expect_refusal(String::new(), ErrorCode::HelloRequired).await;
}

#[tokio::test]
async fn rate_limit_refuses_excess_frames_only() {
    let t = TestRelay::start_with(|c| {
        c.limits.frames_per_sec = 5;
        c.limits.frames_burst = 10;
    })
    .await;
    let a = t.user("sam").await;
    let mut wa = t.ws(&a).await;
    for n in 0..30 {
        wa.send(&ClientFrame::Ping { nonce: n }).await;
    }
    let mut pongs = 0;
    let mut limited = 0;
    for _ in 0..30 {
        match wa.next().await {
            ServerFrame::Pong { .. } => pongs += 1,
            ServerFrame::Error { error, .. } if error.code == ErrorCode::RateLimited => {
                limited += 1
            }
            other => panic!("{other:?}"),
        }
    }
    assert!((10..=12).contains(&pongs), "burst allowed, got {pongs}");
    assert_eq!(pongs + limited, 30);
    // After a pause the connection works again.
    tokio::time::sleep(Duration::from_millis(400)).await;
    wa.send(&ClientFrame::Ping { nonce: 99 }).await;
    assert!(matches!(wa.next().await, ServerFrame::Pong { nonce: 99 }));
}

#[tokio::test]
async fn silent_peers_are_dropped_and_a_device_reconnect_replaces() {
    let t = TestRelay::start_with(|c| c.heartbeat_ms = 100).await;
    let a = t.user("tia").await;
    let sessions = || async {
        t.call::<(), Health>(Method::GET, None, "/healthz", None)
            .await
            .unwrap()
            .sessions
    };
    // A peer that never reads never answers pings: it is dropped within 3–4 beats.
    let silent = t.ws(&a).await;
    assert_eq!(sessions().await, 1);
    let start = Instant::now();
    while sessions().await > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "silent peer not dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(silent);
    // A live client that reads keeps its session across many beats.
    let mut live = t.ws(&a).await;
    live.assert_quiet(Duration::from_millis(600), |f| {
        !matches!(f, ServerFrame::Presence { .. })
    })
    .await;
    assert_eq!(sessions().await, 1);
    // The same device connecting again replaces the old connection.
    let mut again = t.ws(&a).await;
    let e = live.error().await;
    assert_eq!(e.code, ErrorCode::Unauthorized);
    assert!(live.try_next(WAIT).await.is_none());
    again.send(&ClientFrame::Ping { nonce: 1 }).await;
    assert!(matches!(
        again
            .wait_for("pong", |f| matches!(f, ServerFrame::Pong { .. }))
            .await,
        ServerFrame::Pong { nonce: 1 }
    ));
    assert_eq!(sessions().await, 1);
}

#[tokio::test]
async fn acked_message_survives_kill_9_and_resend_is_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let flags = backend_flags().await;
    let mut p = Proc::start(dir.path(), &flags);
    let t = Api::new(&format!("http://{}", p.addr));
    let (a, b) = (t.user("uma").await, t.user("vic").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = Ws::connect(&t.ws_url(), &a.token).await;
    let mut seqs = Vec::new();
    for i in 0..20 {
        seqs.push(
            wa.send_body(
                conv,
                MessageBody::Text {
                    text: format!("durable {i}"),
                },
                &format!("k{i}"),
            )
            .await
            .unwrap(),
        );
    }
    // A recall rewrites an earlier message: that write must survive too.
    wa.send_body(conv, MessageBody::Recall { target: seqs[3] }, "recall-3")
        .await
        .unwrap();
    // Kill without any chance to flush, right after the last ack.
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    drop(wa);

    let mut p2 = Proc::start(dir.path(), &flags);
    let t2 = Api::new(&format!("http://{}", p2.addr));
    // Tokens survive the restart (the signing key is stored).
    let mut wb = Ws::connect(&t2.ws_url(), &b.token).await;
    let s = wb.sync(0, vec![]).await;
    let got: Vec<String> = s.messages[&conv]
        .iter()
        .filter(|m| matches!(m.body, MessageBody::Text { .. }))
        .map(|m| text(m).to_string())
        .collect();
    let mut expected: Vec<String> = (0..20).map(|i| format!("durable {i}")).collect();
    expected.remove(3);
    assert_eq!(got, expected);
    assert!(matches!(s.messages[&conv][3].body, MessageBody::Recalled));
    // The sender, unsure about the last one, resends it: same seq, nothing new.
    let mut wa = Ws::connect(&t2.ws_url(), &a.token).await;
    let again = wa
        .send_body(
            conv,
            MessageBody::Text {
                text: "durable 19".into(),
            },
            "k19",
        )
        .await
        .unwrap();
    assert_eq!(again, seqs[19]);
    let (msgs, _) = wa.history(conv, None, None, None).await.unwrap();
    assert_eq!(msgs.len(), 21);
    // New messages continue the sequence, and survive a second crash.
    let next = wa
        .send_body(
            conv,
            MessageBody::Text {
                text: "after".into(),
            },
            "k-after",
        )
        .await
        .unwrap();
    assert_eq!(next, seqs[19] + 2);
    p2.child.kill().unwrap();
    p2.child.wait().unwrap();
    drop((wa, wb));
    let mut p2 = Proc::start(dir.path(), &flags);
    let t2 = Api::new(&format!("http://{}", p2.addr));
    let mut wa = Ws::connect(&t2.ws_url(), &a.token).await;
    let (msgs, _) = wa.history(conv, None, None, None).await.unwrap();
    let seqs_now: Vec<u64> = msgs.iter().map(|m| m.seq).collect();
    assert_eq!(seqs_now, (1..=next).collect::<Vec<_>>());
    assert_eq!(text(msgs.last().unwrap()), "after");

    // SIGTERM: sessions are told and the process exits 0 within seconds.
    let start = Instant::now();
    Command::new("kill")
        .args(["-TERM", &p2.child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(wa.error().await.code, ErrorCode::ShuttingDown);
    let status = p2.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// The next `error` frame, with the ids it names.
async fn refusal(ws: &mut Ws) -> (ErrorCode, Option<u64>, Option<String>) {
    match ws
        .wait_for("error", |f| matches!(f, ServerFrame::Error { .. }))
        .await
    {
        ServerFrame::Error {
            error,
            rid,
            client_id,
        } => (error.code, rid, client_id),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn every_refused_frame_is_named_by_the_id_it_carried() {
    let t = TestRelay::start_with(|c| c.limits.max_frame_bytes = 4096).await;
    let (a, b) = (t.user("uma").await, t.user("vic").await);
    let conv = t.befriend(&a, &b).await;
    let stranger = t.user("wes").await;
    let mut ws = t.ws(&stranger).await;
    use natter_proto::call::CallRequest;
    use natter_proto::model::CallMedia;
    let refused = [
        ClientFrame::Read {
            conversation: conv,
            seq: 1,
            rid: Some(17),
        },
        ClientFrame::Typing {
            conversation: conv,
            rid: Some(18),
        },
        ClientFrame::Call {
            call: CallRequest::Invite {
                call_id: "not-yours".into(),
                conversation: conv,
                media: CallMedia::Audio,
            },
            rid: Some(19),
        },
    ];
    for (frame, rid) in refused.iter().zip([17, 18, 19]) {
        ws.send(frame).await;
        let (code, got, _) = refusal(&mut ws).await;
        assert_ne!(code, ErrorCode::Internal);
        assert_eq!(got, Some(rid), "{frame:?}");
    }
    // Refused before decoding: too large, wrong fields; ids read from the text.
    let big = format!(
        r#"{{"type":"send","client_id":"big-one","conversation":{conv},"body":{{"kind":"text","text":"{}"}}}}"#,
        "x".repeat(5000)
    );
    ws.send_raw(&big).await;
    assert_eq!(
        refusal(&mut ws).await,
        (ErrorCode::TooLarge, None, Some("big-one".into()))
    );
    ws.send_raw(r#"{"type":"history","rid":21,"conversation":"seven"}"#)
        .await;
    assert_eq!(
        refusal(&mut ws).await,
        (ErrorCode::BadRequest, Some(21), None)
    );
    ws.send_raw(r#"{"type":"teleport","rid":22}"#).await;
    assert_eq!(
        refusal(&mut ws).await,
        (ErrorCode::UnknownFrame, Some(22), None)
    );
    ws.send_raw("rid 23, not JSON").await;
    assert_eq!(
        refusal(&mut ws).await,
        (ErrorCode::MalformedFrame, None, None)
    );

    // Over the rate limit: still named.
    let t = TestRelay::start_with(|c| {
        c.limits.frames_per_sec = 1;
        c.limits.frames_burst = 2;
    })
    .await;
    let (a, b) = (t.user("xia").await, t.user("yan").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    for rid in 1..=3 {
        wa.send(&ClientFrame::Typing {
            conversation: conv,
            rid: Some(rid),
        })
        .await;
    }
    assert_eq!(
        refusal(&mut wa).await,
        (ErrorCode::RateLimited, Some(3), None)
    );
}

#[tokio::test]
async fn the_longest_text_fits_a_frame_even_with_every_character_escaped() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("zoe").await, t.user("abe").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let max = natter_proto::limits::Limits::default().max_text_chars as usize;
    // As Python's json.dumps writes it: 12 bytes per emoji.
    let frame = format!(
        r#"{{"type":"send","client_id":"escaped","conversation":{conv},"body":{{"kind":"text","text":"{}"}}}}"#,
        "\\ud83d\\ude00".repeat(max)
    );
    assert!(frame.len() > 96_000);
    wa.send_raw(&frame).await;
    let ack = wa
        .wait_for("ack", |f| {
            matches!(f, ServerFrame::Ack { .. } | ServerFrame::Error { .. })
        })
        .await;
    assert!(matches!(ack, ServerFrame::Ack { seq: 1, .. }), "{ack:?}");
    let m = wb.message().await;
    assert_eq!(text(&m).chars().count(), max);
    assert!(text(&m).chars().all(|c| c == '😀'));
}
