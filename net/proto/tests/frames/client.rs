//! Client frames, call requests included: each fixture parses, serialises back
//! and is accepted by `decode_client` as is; every variant has a fixture; and the
//! defaults, nulls and unknown fields a client may send.

use std::collections::BTreeSet;

use natter_proto::call::{CallRequest, SdpType};
use natter_proto::frame::{ClientFrame, Cursor, decode_client};
use natter_proto::model::{CallMedia, ConversationId};

use crate::support::*;

fn client_fixtures() -> Vec<(&'static str, ClientFrame)> {
    let call = |call: CallRequest| ClientFrame::Call { call, rid: None };
    let id = || CALL_ID.to_string();
    vec![
        (
            r#"{
  "type": "hello",
  "protocols": [1],
  "token": "MTA4NDM5MTQyNDAwMDAxLjEwODQ2MDAwMTIzMDg0OC4xNzYyMTY3NjAwMDAw.xH1sYq1eXJuQl_9H1Y9W9ytug14fY4A_kSqdQ_-S2Kg"
}"#,
            ClientFrame::Hello {
                protocols: vec![1],
                token: ACCESS_1.into(),
            },
        ),
        (
            r#"{
  "type": "ping",
  "nonce": 42
}"#,
            ClientFrame::Ping { nonce: 42 },
        ),
        (
            r#"{
  "type": "send",
  "client_id": "0b7f6c1e-4d2a-4f0e-9a51-3c2d8e9f1a10",
  "conversation": 108441307136000,
  "body": {
    "kind": "text",
    "text": "Yes! Climbing on Saturday?"
  },
  "reply_to": 41
}"#,
            ClientFrame::Send {
                client_id: LI_42.into(),
                conversation: DIRECT,
                body: text("Yes! Climbing on Saturday?"),
                reply_to: Some(41),
                extras: Default::default(),
            },
        ),
        (
            r#"{
  "type": "sync",
  "rid": 1,
  "events_after": 17,
  "cursors": [
    {
      "conversation": 108441307136000,
      "after": 40
    },
    {
      "conversation": 108453710000128,
      "after": 0
    }
  ]
}"#,
            ClientFrame::Sync {
                rid: 1,
                events_after: 17,
                cursors: vec![
                    Cursor {
                        conversation: DIRECT,
                        after: 40,
                    },
                    Cursor {
                        conversation: GROUP,
                        after: 0,
                    },
                ],
            },
        ),
        (
            r#"{
  "type": "history",
  "rid": 2,
  "conversation": 108441307136000,
  "before": 41,
  "limit": 2
}"#,
            ClientFrame::History {
                rid: 2,
                conversation: DIRECT,
                after: None,
                before: Some(41),
                limit: Some(2),
            },
        ),
        (
            r#"{
  "type": "history",
  "rid": 3,
  "conversation": 108441307136000,
  "after": 44,
  "before": 47
}"#,
            ClientFrame::History {
                rid: 3,
                conversation: DIRECT,
                after: Some(44),
                before: Some(47),
                limit: None,
            },
        ),
        (
            r#"{
  "type": "read",
  "conversation": 108441307136000,
  "seq": 44
}"#,
            ClientFrame::Read {
                conversation: DIRECT,
                seq: 44,
                rid: None,
            },
        ),
        (
            r#"{
  "type": "typing",
  "conversation": 108453710000128
}"#,
            ClientFrame::Typing {
                conversation: GROUP,
                rid: None,
            },
        ),
        (
            r#"{
  "type": "call",
  "action": "invite",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "conversation": 108441307136000,
  "media": "video"
}"#,
            call(CallRequest::Invite {
                call_id: id(),
                conversation: DIRECT,
                media: CallMedia::Video,
            }),
        ),
        (
            r#"{
  "type": "call",
  "action": "ringing",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01"
}"#,
            call(CallRequest::Ringing { call_id: id() }),
        ),
        (
            r#"{
  "type": "call",
  "action": "accept",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01"
}"#,
            call(CallRequest::Accept { call_id: id() }),
        ),
        (
            r#"{
  "type": "call",
  "action": "reject",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01"
}"#,
            call(CallRequest::Reject { call_id: id() }),
        ),
        (
            r#"{
  "type": "call",
  "action": "cancel",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01"
}"#,
            call(CallRequest::Cancel { call_id: id() }),
        ),
        (
            r#"{
  "type": "call",
  "action": "hangup",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01"
}"#,
            call(CallRequest::Hangup { call_id: id() }),
        ),
        (
            r#"{
  "type": "call",
  "action": "sdp",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "sdp_type": "offer",
  "sdp": "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
}"#,
            call(CallRequest::Sdp {
                call_id: id(),
                sdp_type: SdpType::Offer,
                sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n".into(),
            }),
        ),
        (
            r#"{
  "type": "call",
  "action": "ice",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "candidate": {
    "candidate": "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 192.168.1.20 rport 61665",
    "sdp_mid": "0",
    "sdp_mline_index": 0
  }
}"#,
            call(CallRequest::Ice {
                call_id: id(),
                candidate: ice(
                    "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 192.168.1.20 rport 61665",
                    Some("0"),
                    Some(0),
                ),
            }),
        ),
        (
            r#"{
  "type": "call",
  "action": "media_state",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "muted": true
}"#,
            call(CallRequest::MediaState {
                call_id: id(),
                muted: true,
            }),
        ),
    ]
}

/// The `type` of a client frame, and for `call` its `action`. Exhaustive, so a
/// new variant does not compile until it is named here (and given a fixture).
fn client_variant(frame: &ClientFrame) -> &'static str {
    match frame {
        ClientFrame::Hello { .. } => "hello",
        ClientFrame::Ping { .. } => "ping",
        ClientFrame::Send { .. } => "send",
        ClientFrame::Sync { .. } => "sync",
        ClientFrame::History { .. } => "history",
        ClientFrame::Read { .. } => "read",
        ClientFrame::Typing { .. } => "typing",
        ClientFrame::Call { call, .. } => match call {
            CallRequest::Invite { .. } => "call/invite",
            CallRequest::Ringing { .. } => "call/ringing",
            CallRequest::Accept { .. } => "call/accept",
            CallRequest::Reject { .. } => "call/reject",
            CallRequest::Cancel { .. } => "call/cancel",
            CallRequest::Hangup { .. } => "call/hangup",
            CallRequest::Sdp { .. } => "call/sdp",
            CallRequest::Ice { .. } => "call/ice",
            CallRequest::MediaState { .. } => "call/media_state",
        },
    }
}

const CLIENT_VARIANTS: &[&str] = &[
    "hello",
    "ping",
    "send",
    "sync",
    "history",
    "read",
    "typing",
    "call/invite",
    "call/ringing",
    "call/accept",
    "call/reject",
    "call/cancel",
    "call/hangup",
    "call/sdp",
    "call/ice",
    "call/media_state",
];

#[test]
fn client_frames_match_their_fixtures() {
    for (fixture, expected) in client_fixtures() {
        check_client(fixture, &expected);
    }
}

#[test]
fn every_client_frame_and_call_request_has_a_fixture() {
    let covered: BTreeSet<&str> = client_fixtures()
        .iter()
        .map(|(_, f)| client_variant(f))
        .collect();
    let all: BTreeSet<&str> = CLIENT_VARIANTS.iter().copied().collect();
    assert_eq!(covered, all);
    // `ClientFrame::TYPES`, which `decode_client` relies on, names every type.
    let types: BTreeSet<&str> = CLIENT_VARIANTS
        .iter()
        .map(|v| v.split('/').next().unwrap())
        .collect();
    assert_eq!(types, ClientFrame::TYPES.iter().copied().collect());
}

#[test]
fn client_frame_defaults_nulls_and_unknown_fields() {
    // A history request without `after`, `before` or `limit`.
    let bare_history = ClientFrame::History {
        rid: 5,
        conversation: ConversationId(7),
        after: None,
        before: None,
        limit: None,
    };
    // Fields with a default may be left out; optional ones may also be null.
    assert_eq!(
        decode_client(r#"{"type":"ping"}"#),
        Ok(ClientFrame::Ping { nonce: 0 })
    );
    assert_eq!(
        decode_client(r#"{"type":"sync","rid":4,"events_after":0}"#),
        Ok(ClientFrame::Sync {
            rid: 4,
            events_after: 0,
            cursors: vec![],
        })
    );
    assert_eq!(
        decode_client(
            r#"{"type":"history","rid":5,"conversation":7,"after":null,"before":null,"limit":null}"#
        ),
        Ok(bare_history.clone())
    );
    assert_eq!(
        decode_client(
            r#"{"type":"send","client_id":"k1","conversation":7,"body":{"kind":"text","text":"hi"},"reply_to":null}"#
        ),
        Ok(ClientFrame::Send {
            client_id: "k1".into(),
            conversation: ConversationId(7),
            body: text("hi"),
            reply_to: None,
            extras: Default::default(),
        })
    );
    // Unknown fields are ignored, at the top and inside.
    assert_eq!(
        decode_client(r#"{"type":"typing","conversation":7,"mood":"happy"}"#),
        Ok(ClientFrame::Typing {
            conversation: ConversationId(7),
            rid: None,
        })
    );
    assert_eq!(
        decode_client(
            r#"{"type":"call","action":"ice","call_id":"c","candidate":{"candidate":"a","usernameFragment":"x"}}"#
        ),
        Ok(ClientFrame::Call {
            call: CallRequest::Ice {
                call_id: "c".into(),
                candidate: ice("a", None, None),
            },
            rid: None,
        })
    );
    // Optional fields left out are left out again when serialised.
    assert_eq!(
        serde_json::to_value(&bare_history).unwrap(),
        serde_json::json!({"type": "history", "rid": 5, "conversation": 7})
    );
}

#[test]
fn version_2_mentions_and_forwarded_copies_match_the_document() {
    use natter_proto::model::{Extras, FileRef, Forwarded, Message, MessageBody};
    check(
        r#"{
  "type": "send",
  "client_id": "5d1c9e2b-8f3a-4c6d-b7e0-1a2b3c4d5e6f",
  "conversation": 108453710000128,
  "body": {
    "kind": "text",
    "text": "@Ana Souza @Sam the crag opens at nine"
  },
  "mentions": [108439146594305, 108439150788609]
}"#,
        &ClientFrame::Send {
            client_id: "5d1c9e2b-8f3a-4c6d-b7e0-1a2b3c4d5e6f".into(),
            conversation: GROUP,
            body: text("@Ana Souza @Sam the crag opens at nine"),
            reply_to: None,
            extras: Extras {
                mentions: vec![ANA, SAM],
                ..Extras::default()
            },
        },
    );
    let from_ana = Extras {
        forwarded: Some(Forwarded {
            from: ANA,
            name: "Ana Souza".into(),
        }),
        ..Extras::default()
    };
    check(
        r#"{
  "type": "send",
  "client_id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
  "conversation": 108441307136000,
  "body": {
    "kind": "text",
    "text": "Yes! Climbing on Saturday?"
  },
  "forwarded": {
    "from": 108439146594305,
    "name": "Ana Souza"
  }
}"#,
        &ClientFrame::Send {
            client_id: "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f".into(),
            conversation: DIRECT,
            body: text("Yes! Climbing on Saturday?"),
            reply_to: None,
            extras: from_ana.clone(),
        },
    );
    let picture = MessageBody::Image {
        file: FileRef {
            id: "f_9Qx2mB7c".into(),
            name: "crag.jpg".into(),
            size: 482113,
            mime: "image/jpeg".into(),
        },
        width: 1600,
        height: 1200,
        preview: None,
    };
    check(
        r#"{
  "conversation": 108441307136000,
  "seq": 57,
  "sender": 108439142400001,
  "client_id": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
  "ts": 1764580000000,
  "body": {
    "kind": "image",
    "file": {
      "id": "f_9Qx2mB7c",
      "name": "crag.jpg",
      "size": 482113,
      "mime": "image/jpeg"
    },
    "width": 1600,
    "height": 1200
  },
  "forwarded": {
    "from": 108439146594305,
    "name": "Ana Souza"
  }
}"#,
        &Message {
            extras: from_ana,
            ..message(
                57,
                LI,
                "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
                1764580000000,
                picture,
            )
        },
    );
}
