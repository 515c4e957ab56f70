//! Server frames, call notices included: each fixture parses and serialises
//! back, every variant has a fixture, and the defaults of what a server sends.

use std::collections::{BTreeMap, BTreeSet};

use natter_proto::call::{CallNotice, EndReason, SdpType};
use natter_proto::error::{ErrorBody, ErrorCode};
use natter_proto::frame::ServerFrame;
use natter_proto::limits::Limits;
use natter_proto::model::{
    CallMedia, ConversationId, ConversationState, Message, MessageBody, UserId,
};
use serde_json::Value;

use crate::support::*;

/// Li's message 42 as first sent.
fn message_42() -> Message {
    Message {
        reply_to: Some(41),
        ..message(
            42,
            LI,
            LI_42,
            1762164060250,
            text("Yes! Climbing on Saturday?"),
        )
    }
}

fn server_fixtures() -> Vec<(&'static str, ServerFrame)> {
    let call = |call: CallNotice| ServerFrame::Call { call };
    let id = || CALL_ID.to_string();
    vec![
        (
            r#"{
  "type": "welcome",
  "protocol": 1,
  "user": {
    "id": 108439142400001,
    "account": "li.wei",
    "nickname": "Li Wei"
  },
  "device": "li-laptop-7f3a",
  "server_ts": 1762164005120,
  "heartbeat_ms": 15000,
  "limits": {
    "max_frame_bytes": 131072,
    "max_text_chars": 8000,
    "frames_per_sec": 50,
    "frames_burst": 200,
    "page_size": 200,
    "max_group_members": 500,
    "recall_window_secs": 120,
    "edit_window_secs": 172800,
    "max_file_bytes": 52428800,
    "account_file_bytes": 1073741824
  }
}"#,
            ServerFrame::Welcome {
                protocol: 1,
                user: li(),
                device: "li-laptop-7f3a".into(),
                server_ts: 1762164005120,
                heartbeat_ms: 15000,
                limits: Limits::default(),
            },
        ),
        (
            r#"{
  "type": "pong",
  "nonce": 42
}"#,
            ServerFrame::Pong { nonce: 42 },
        ),
        (
            r#"{
  "type": "ack",
  "client_id": "0b7f6c1e-4d2a-4f0e-9a51-3c2d8e9f1a10",
  "conversation": 108441307136000,
  "seq": 42,
  "ts": 1762164060250
}"#,
            ServerFrame::Ack {
                client_id: LI_42.into(),
                conversation: DIRECT,
                seq: 42,
                ts: 1762164060250,
            },
        ),
        (
            r#"{
  "type": "message",
  "message": {
    "conversation": 108441307136000,
    "seq": 42,
    "sender": 108439142400001,
    "client_id": "0b7f6c1e-4d2a-4f0e-9a51-3c2d8e9f1a10",
    "ts": 1762164060250,
    "body": {
      "kind": "text",
      "text": "Yes! Climbing on Saturday?"
    },
    "reply_to": 41
  }
}"#,
            ServerFrame::Message {
                message: message_42(),
            },
        ),
        (
            concat!(
                r#"{
  "type": "event",
  "event": "#,
                request_received_json!(),
                r#"
}"#
            ),
            ServerFrame::Event {
                event: request_received_event(),
            },
        ),
        (
            concat!(
                r#"{
  "type": "events",
  "rid": 1,
  "events": ["#,
                request_received_json!(),
                r#"]
}"#
            ),
            ServerFrame::Events {
                rid: 1,
                events: vec![request_received_event()],
            },
        ),
        (
            r#"{
  "type": "messages",
  "rid": 1,
  "conversation": 108441307136000,
  "messages": [
    {
      "conversation": 108441307136000,
      "seq": 41,
      "sender": 108439146594305,
      "client_id": "ana-ios-000732",
      "ts": 1762164000000,
      "body": {
        "kind": "text",
        "text": "Are you free this weekend?"
      },
      "reactions": {
        "👍": [108439142400001]
      }
    },
    {
      "conversation": 108441307136000,
      "seq": 42,
      "sender": 108439142400001,
      "client_id": "0b7f6c1e-4d2a-4f0e-9a51-3c2d8e9f1a10",
      "ts": 1762164060250,
      "body": {
        "kind": "text",
        "text": "Yes! Climbing on Saturday? 🧗"
      },
      "reply_to": 41,
      "edited_ts": 1762164090500
    },
    {
      "conversation": 108441307136000,
      "seq": 43,
      "sender": 108439142400001,
      "client_id": "5e2c9a7d-1f3b-4c6e-8d0a-7b9e2f4c6a18",
      "ts": 1762164070000,
      "body": {
        "kind": "reaction",
        "target": 41,
        "emoji": "👍",
        "add": true
      }
    },
    {
      "conversation": 108441307136000,
      "seq": 44,
      "sender": 108439142400001,
      "client_id": "9a4d2e6f-8b1c-4e7a-a3f5-1c8e6d2b9f07",
      "ts": 1762164090500,
      "body": {
        "kind": "edit",
        "target": 42,
        "text": "Yes! Climbing on Saturday? 🧗"
      }
    }
  ],
  "more": false
}"#,
            ServerFrame::Messages {
                rid: 1,
                conversation: DIRECT,
                messages: vec![
                    Message {
                        reactions: BTreeMap::from([("👍".to_string(), vec![LI])]),
                        extras: Default::default(),
                        ..message(
                            41,
                            ANA,
                            "ana-ios-000732",
                            1762164000000,
                            text("Are you free this weekend?"),
                        )
                    },
                    Message {
                        body: text("Yes! Climbing on Saturday? 🧗"),
                        edited_ts: Some(1762164090500),
                        ..message_42()
                    },
                    message(
                        43,
                        LI,
                        "5e2c9a7d-1f3b-4c6e-8d0a-7b9e2f4c6a18",
                        1762164070000,
                        MessageBody::Reaction {
                            target: 41,
                            emoji: "👍".into(),
                            add: true,
                        },
                    ),
                    message(
                        44,
                        LI,
                        "9a4d2e6f-8b1c-4e7a-a3f5-1c8e6d2b9f07",
                        1762164090500,
                        MessageBody::Edit {
                            target: 42,
                            text: "Yes! Climbing on Saturday? 🧗".into(),
                        },
                    ),
                ],
                more: false,
            },
        ),
        (
            concat!(
                r#"{
  "type": "synced",
  "rid": 1,
  "events_seq": 18,
  "conversations": "#,
                conversation_states_json!(),
                r#"
}"#
            ),
            ServerFrame::Synced {
                rid: 1,
                events_seq: 18,
                conversations: conversation_states(),
            },
        ),
        (
            r#"{
  "type": "read_receipt",
  "conversation": 108441307136000,
  "user": 108439146594305,
  "seq": 44
}"#,
            ServerFrame::ReadReceipt {
                conversation: DIRECT,
                user: ANA,
                seq: 44,
            },
        ),
        (
            r#"{
  "type": "typing",
  "conversation": 108453710000128,
  "user": 108439150788609
}"#,
            ServerFrame::Typing {
                conversation: GROUP,
                user: SAM,
            },
        ),
        (
            r#"{
  "type": "presence",
  "user": 108439146594305,
  "online": true
}"#,
            ServerFrame::Presence {
                user: ANA,
                online: true,
            },
        ),
        (
            r#"{
  "type": "error",
  "code": "not_friends",
  "message": "not friends",
  "client_id": "3c8e1f2a-7b6d-4e9c-8a05-d2f1b7c4e6a9"
}"#,
            ServerFrame::Error {
                error: ErrorBody::new(ErrorCode::NotFriends, "not friends"),
                rid: None,
                client_id: Some("3c8e1f2a-7b6d-4e9c-8a05-d2f1b7c4e6a9".into()),
            },
        ),
        (
            r#"{
  "type": "error",
  "code": "not_member",
  "message": "not in this conversation",
  "rid": 5
}"#,
            ServerFrame::Error {
                error: ErrorBody::new(ErrorCode::NotMember, "not in this conversation"),
                rid: Some(5),
                client_id: None,
            },
        ),
        (
            r#"{
  "type": "error",
  "code": "rate_limited",
  "message": "too many frames; slow down"
}"#,
            ServerFrame::error(ErrorCode::RateLimited, "too many frames; slow down"),
        ),
        (
            r#"{
  "type": "error",
  "code": "not_found",
  "message": "no such call"
}"#,
            ServerFrame::error(ErrorCode::NotFound, "no such call"),
        ),
        (
            r#"{
  "type": "call",
  "notice": "incoming",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "conversation": 108441307136000,
  "from": 108439146594305,
  "media": "video"
}"#,
            call(CallNotice::Incoming {
                call_id: id(),
                conversation: DIRECT,
                from: ANA,
                media: CallMedia::Video,
            }),
        ),
        (
            r#"{
  "type": "call",
  "notice": "ringing",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01"
}"#,
            call(CallNotice::Ringing { call_id: id() }),
        ),
        (
            r#"{
  "type": "call",
  "notice": "accepted",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01"
}"#,
            call(CallNotice::Accepted { call_id: id() }),
        ),
        (
            r#"{
  "type": "call",
  "notice": "ended",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "reason": "completed",
  "duration_ms": 754000
}"#,
            call(CallNotice::Ended {
                call_id: id(),
                reason: EndReason::Completed,
                duration_ms: 754000,
            }),
        ),
        (
            r#"{
  "type": "call",
  "notice": "sdp",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "sdp_type": "answer",
  "sdp": "v=0\r\no=- 2890844526 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
}"#,
            call(CallNotice::Sdp {
                call_id: id(),
                sdp_type: SdpType::Answer,
                sdp: "v=0\r\no=- 2890844526 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n".into(),
            }),
        ),
        (
            r#"{
  "type": "call",
  "notice": "ice",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "candidate": {
    "candidate": "candidate:1467250027 1 udp 2122260223 192.168.1.31 56143 typ host",
    "sdp_mid": "0"
  }
}"#,
            call(CallNotice::Ice {
                call_id: id(),
                candidate: ice(
                    "candidate:1467250027 1 udp 2122260223 192.168.1.31 56143 typ host",
                    Some("0"),
                    None,
                ),
            }),
        ),
        (
            r#"{
  "type": "call",
  "notice": "participants",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "conversation": 108441307136000,
  "media": "video",
  "participants": [4211, 4213]
}"#,
            call(CallNotice::Participants {
                call_id: id(),
                conversation: ConversationId(108441307136000),
                media: CallMedia::Video,
                participants: vec![UserId(4211), UserId(4213)],
                muted: None,
            }),
        ),
        (
            r#"{
  "type": "call",
  "notice": "participants",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "conversation": 108441307136000,
  "media": "video",
  "participants": [4211, 4213, 4217],
  "muted": [4213]
}"#,
            call(CallNotice::Participants {
                call_id: id(),
                conversation: ConversationId(108441307136000),
                media: CallMedia::Video,
                participants: vec![UserId(4211), UserId(4213), UserId(4217)],
                muted: Some(vec![UserId(4213)]),
            }),
        ),
    ]
}

/// The `type` of a server frame, and for `call` its `notice`. Exhaustive, like
/// [`client_variant`].
fn server_variant(frame: &ServerFrame) -> &'static str {
    match frame {
        ServerFrame::Welcome { .. } => "welcome",
        ServerFrame::Pong { .. } => "pong",
        ServerFrame::Ack { .. } => "ack",
        ServerFrame::Message { .. } => "message",
        ServerFrame::Event { .. } => "event",
        ServerFrame::Events { .. } => "events",
        ServerFrame::Messages { .. } => "messages",
        ServerFrame::Synced { .. } => "synced",
        ServerFrame::ReadReceipt { .. } => "read_receipt",
        ServerFrame::Typing { .. } => "typing",
        ServerFrame::Presence { .. } => "presence",
        ServerFrame::Error { .. } => "error",
        ServerFrame::Call { call } => match call {
            CallNotice::Incoming { .. } => "call/incoming",
            CallNotice::Ringing { .. } => "call/ringing",
            CallNotice::Accepted { .. } => "call/accepted",
            CallNotice::Ended { .. } => "call/ended",
            CallNotice::Sdp { .. } => "call/sdp",
            CallNotice::Ice { .. } => "call/ice",
            CallNotice::Participants { .. } => "call/participants",
        },
    }
}

const SERVER_VARIANTS: &[&str] = &[
    "welcome",
    "pong",
    "ack",
    "message",
    "event",
    "events",
    "messages",
    "synced",
    "read_receipt",
    "typing",
    "presence",
    "error",
    "call/incoming",
    "call/ringing",
    "call/accepted",
    "call/ended",
    "call/sdp",
    "call/ice",
    "call/participants",
];

#[test]
fn server_frames_match_their_fixtures() {
    for (fixture, expected) in server_fixtures() {
        check(fixture, &expected);
    }
}

#[test]
fn every_server_frame_and_call_notice_has_a_fixture() {
    let covered: BTreeSet<&str> = server_fixtures()
        .iter()
        .map(|(_, f)| server_variant(f))
        .collect();
    assert_eq!(covered, SERVER_VARIANTS.iter().copied().collect());
}

#[test]
fn server_frame_defaults() {
    // `duration_ms` of an ended call defaults to 0.
    let ended: ServerFrame =
        serde_json::from_str(r#"{"type":"call","notice":"ended","call_id":"c","reason":"missed"}"#)
            .unwrap();
    assert_eq!(
        ended,
        ServerFrame::Call {
            call: CallNotice::Ended {
                call_id: "c".into(),
                reason: EndReason::Missed,
                duration_ms: 0,
            },
        }
    );
    // Every end reason is snake_case on the wire.
    for (reason, name) in [
        (EndReason::Missed, "missed"),
        (EndReason::Rejected, "rejected"),
        (EndReason::Cancelled, "cancelled"),
        (EndReason::Busy, "busy"),
        (EndReason::Completed, "completed"),
        (EndReason::AnsweredElsewhere, "answered_elsewhere"),
        (EndReason::ConnectionLost, "connection_lost"),
    ] {
        assert_eq!(serde_json::to_value(reason).unwrap(), Value::from(name));
    }
    // A conversation state without `first_seq` reads as 0.
    let state: ConversationState =
        serde_json::from_str(r#"{"id":3,"kind":"group","name":"g","last_seq":0,"read_seq":0}"#)
            .unwrap();
    assert_eq!(state.first_seq, 0);
    assert_eq!(state.peer_read_seq, None);
}
