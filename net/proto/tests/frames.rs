//! Fixture tests of the wire format.
//!
//! Every client frame, server frame, account event, message body, call request
//! and call notice is parsed from a literal JSON example, compared with the Rust
//! value it must be, and serialised back to the same JSON (compared as
//! `serde_json::Value`, so key order and whitespace do not matter). The examples
//! are the ones in `PROTOCOL.md`: every fixture must appear there, and every JSON
//! block of that document must be a protocol value that round-trips, so the
//! document and the types cannot drift apart. The last tests pin down how
//! `decode_client` classifies frames it cannot read.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::OnceLock;

use natter_proto::call::{CallNotice, CallRequest, EndReason, IceCandidate, SdpType};
use natter_proto::error::{ErrorBody, ErrorCode};
use natter_proto::event::{Event, EventBody};
use natter_proto::frame::{ClientFrame, Cursor, ServerFrame, decode_client};
use natter_proto::limits::Limits;
use natter_proto::model::{
    CallMedia, CallOutcome, ConversationId, ConversationKind, ConversationState, FileRef, Friend,
    FriendRequest, Group, Member, Message, MessageBody, Profile, RequestStatus, Role, UserId,
    UserSummary,
};
use natter_proto::rest::{
    Conversations, CreateGroup, FriendRequests, Friends, Groups, Health, InviteMembers,
    LoginRequest, MessagePage, RefreshRequest, RegisterRequest, SearchResult, SendFriendRequest,
    Session, SetRole, UpdateGroup, UpdateProfile,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

const DOC: &str = include_str!("../PROTOCOL.md");

/// The ```json blocks of `PROTOCOL.md`, parsed.
fn doc_examples() -> &'static [Value] {
    static EXAMPLES: OnceLock<Vec<Value>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        json_blocks(DOC)
            .into_iter()
            .map(|(line, text)| {
                serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("PROTOCOL.md line {line}: example is not JSON: {e}\n{text}")
                })
            })
            .collect()
    })
}

/// (first line number, text) of every fenced block tagged `json`.
fn json_blocks(doc: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (n, line) in doc.lines().enumerate() {
        let fence = line.trim();
        match &mut current {
            None if fence == "```json" => current = Some((n + 2, Vec::new())),
            Some((start, lines)) if fence == "```" => {
                blocks.push((*start, lines.join("\n")));
                current = None;
            }
            Some((_, lines)) => lines.push(line),
            None => {}
        }
    }
    assert!(
        current.is_none(),
        "unterminated ```json block in PROTOCOL.md"
    );
    blocks
}

/// Parses `fixture` as `T`, expects `expected`, serialises `expected` back to the
/// fixture's JSON, and checks that the fixture is one of the document's examples.
fn check<T>(fixture: &str, expected: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json: Value = serde_json::from_str(fixture)
        .unwrap_or_else(|e| panic!("fixture is not JSON: {e}\n{fixture}"));
    let parsed: T = serde_json::from_str(fixture).unwrap_or_else(|e| {
        panic!(
            "fixture does not parse as {}: {e}\n{fixture}",
            std::any::type_name::<T>()
        )
    });
    assert_eq!(&parsed, expected, "parsed value differs\n{fixture}");
    assert_eq!(
        serde_json::to_value(expected).unwrap(),
        json,
        "serialised value differs from the fixture\n{fixture}"
    );
    assert!(
        doc_examples().contains(&json),
        "fixture is not an example in PROTOCOL.md:\n{fixture}"
    );
}

/// [`check`], plus the relay's own decoder must accept the frame as is.
fn check_client(fixture: &str, expected: &ClientFrame) {
    check(fixture, expected);
    assert_eq!(decode_client(fixture).as_ref(), Ok(expected), "{fixture}");
}

/// Whether `value` is a `T` that serialises back to exactly `value`.
fn round_trips<T: Serialize + DeserializeOwned>(value: &Value) -> bool {
    serde_json::from_value::<T>(value.clone())
        .ok()
        .and_then(|t| serde_json::to_value(&t).ok())
        .is_some_and(|back| &back == value)
}

// ---------------------------------------------------------------------------
// The cast of the examples
// ---------------------------------------------------------------------------

const LI: UserId = UserId(108439142400001);
const ANA: UserId = UserId(108439146594305);
const SAM: UserId = UserId(108439150788609);
/// Li and Ana's 1:1 conversation.
const DIRECT: ConversationId = ConversationId(108441307136000);
/// Li and Sam's 1:1 conversation.
const SAM_DIRECT: ConversationId = ConversationId(108460005425152);
const GROUP: ConversationId = ConversationId(108453710000128);
/// Sam's friend request to Li.
const REQUEST: u64 = 108460003328000;
const CALL_ID: &str = "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01";
const LI_42: &str = "0b7f6c1e-4d2a-4f0e-9a51-3c2d8e9f1a10";
const ACCESS_1: &str = "MTA4NDM5MTQyNDAwMDAxLjEwODQ2MDAwMTIzMDg0OC4xNzYyMTY3NjAwMDAw.xH1sYq1eXJuQl_9H1Y9W9ytug14fY4A_kSqdQ_-S2Kg";
const REFRESH_1: &str = "108460001230848.npmK64i0_9micINABWUsAr7Q-sY-8Pp2KXMtMZl9-0w";

fn li() -> UserSummary {
    UserSummary {
        id: LI,
        account: "li.wei".into(),
        nickname: "Li Wei".into(),
        avatar: None,
    }
}

fn ana() -> UserSummary {
    UserSummary {
        id: ANA,
        account: "ana".into(),
        nickname: "Ana Souza".into(),
        avatar: Some("https://cdn.example.com/a/ana.png".into()),
    }
}

fn sam() -> UserSummary {
    UserSummary {
        id: SAM,
        account: "sam_k".into(),
        nickname: "Sam".into(),
        avatar: None,
    }
}

fn li_profile() -> Profile {
    Profile {
        user: li(),
        email: Some("li.wei@example.com".into()),
        phone: Some("+8613800138000".into()),
        created_ts: 1761901200000,
    }
}

fn sam_request(status: RequestStatus) -> FriendRequest {
    FriendRequest {
        id: REQUEST,
        from: sam(),
        to: li(),
        message: "hi, it's Sam from the gym".into(),
        status,
        ts: 1762164030000,
    }
}

fn member(user: UserSummary, role: Role, joined_ts: i64) -> Member {
    Member {
        user,
        role,
        joined_ts,
    }
}

/// The group as Ana created it, with Li.
fn new_group() -> Group {
    Group {
        id: GROUP,
        name: "Saturday climbing".into(),
        announcement: String::new(),
        owner: ANA,
        created_ts: 1762000000000,
        members: vec![
            member(ana(), Role::Owner, 1762000000000),
            member(li(), Role::Member, 1762000000000),
        ],
    }
}

fn text(t: &str) -> MessageBody {
    MessageBody::Text { text: t.into() }
}

fn message(seq: u64, sender: UserId, client_id: &str, ts: i64, body: MessageBody) -> Message {
    Message {
        conversation: DIRECT,
        seq,
        sender,
        client_id: client_id.into(),
        ts,
        body,
        reply_to: None,
        edited_ts: None,
        reactions: BTreeMap::new(),
    }
}

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

fn conversation_states() -> Vec<ConversationState> {
    vec![
        ConversationState {
            id: DIRECT,
            kind: ConversationKind::Direct { peer: ANA },
            last_seq: 44,
            read_seq: 44,
            peer_read_seq: Some(41),
            first_seq: 1,
        },
        ConversationState {
            id: GROUP,
            kind: ConversationKind::Group {
                name: "Saturday climbing".into(),
            },
            last_seq: 7,
            read_seq: 6,
            peer_read_seq: None,
            first_seq: 5,
        },
    ]
}

fn request_received_event() -> Event {
    Event {
        seq: 18,
        ts: 1762164030000,
        body: EventBody::FriendRequestReceived {
            request: sam_request(RequestStatus::Pending),
        },
    }
}

fn ice(candidate: &str, sdp_mid: Option<&str>, sdp_mline_index: Option<u16>) -> IceCandidate {
    IceCandidate {
        candidate: candidate.into(),
        sdp_mid: sdp_mid.map(Into::into),
        sdp_mline_index,
    }
}

// ---------------------------------------------------------------------------
// Client frames
// ---------------------------------------------------------------------------

fn client_fixtures() -> Vec<(&'static str, ClientFrame)> {
    let call = |call: CallRequest| ClientFrame::Call { call };
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
            },
        ),
        (
            r#"{
  "type": "typing",
  "conversation": 108453710000128
}"#,
            ClientFrame::Typing {
                conversation: GROUP,
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
        ClientFrame::Call { call } => match call {
            CallRequest::Invite { .. } => "call/invite",
            CallRequest::Ringing { .. } => "call/ringing",
            CallRequest::Accept { .. } => "call/accept",
            CallRequest::Reject { .. } => "call/reject",
            CallRequest::Cancel { .. } => "call/cancel",
            CallRequest::Hangup { .. } => "call/hangup",
            CallRequest::Sdp { .. } => "call/sdp",
            CallRequest::Ice { .. } => "call/ice",
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
        Ok(ClientFrame::History {
            rid: 5,
            conversation: ConversationId(7),
            after: None,
            before: None,
            limit: None,
        })
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
        })
    );
    // Unknown fields are ignored, at the top and inside.
    assert_eq!(
        decode_client(r#"{"type":"typing","conversation":7,"mood":"happy"}"#),
        Ok(ClientFrame::Typing {
            conversation: ConversationId(7),
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
        })
    );
    // Optional fields left out are left out again when serialised.
    let frame = ClientFrame::History {
        rid: 5,
        conversation: ConversationId(7),
        after: None,
        before: None,
        limit: None,
    };
    assert_eq!(
        serde_json::to_value(&frame).unwrap(),
        serde_json::json!({"type": "history", "rid": 5, "conversation": 7})
    );
}

// ---------------------------------------------------------------------------
// Server frames
// ---------------------------------------------------------------------------

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
    "max_frame_bytes": 65536,
    "max_text_chars": 8000,
    "frames_per_sec": 50,
    "frames_burst": 200,
    "page_size": 200,
    "max_group_members": 500,
    "recall_window_secs": 120,
    "max_file_bytes": 52428800
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
            r#"{
  "type": "event",
  "event": {
    "seq": 18,
    "ts": 1762164030000,
    "kind": "friend_request_received",
    "request": {
      "id": 108460003328000,
      "from": {
        "id": 108439150788609,
        "account": "sam_k",
        "nickname": "Sam"
      },
      "to": {
        "id": 108439142400001,
        "account": "li.wei",
        "nickname": "Li Wei"
      },
      "message": "hi, it's Sam from the gym",
      "status": "pending",
      "ts": 1762164030000
    }
  }
}"#,
            ServerFrame::Event {
                event: request_received_event(),
            },
        ),
        (
            r#"{
  "type": "events",
  "rid": 1,
  "events": [
    {
      "seq": 18,
      "ts": 1762164030000,
      "kind": "friend_request_received",
      "request": {
        "id": 108460003328000,
        "from": {
          "id": 108439150788609,
          "account": "sam_k",
          "nickname": "Sam"
        },
        "to": {
          "id": 108439142400001,
          "account": "li.wei",
          "nickname": "Li Wei"
        },
        "message": "hi, it's Sam from the gym",
        "status": "pending",
        "ts": 1762164030000
      }
    }
  ]
}"#,
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
            r#"{
  "type": "synced",
  "rid": 1,
  "events_seq": 18,
  "conversations": [
    {
      "id": 108441307136000,
      "kind": "direct",
      "peer": 108439146594305,
      "last_seq": 44,
      "read_seq": 44,
      "peer_read_seq": 41,
      "first_seq": 1
    },
    {
      "id": 108453710000128,
      "kind": "group",
      "name": "Saturday climbing",
      "last_seq": 7,
      "read_seq": 6,
      "first_seq": 5
    }
  ]
}"#,
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
                error: ErrorBody {
                    code: ErrorCode::NotFriends,
                    message: "not friends".into(),
                },
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
                error: ErrorBody {
                    code: ErrorCode::NotMember,
                    message: "not in this conversation".into(),
                },
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
  "code": "unsupported",
  "message": "calls are not offered by this relay yet"
}"#,
            ServerFrame::error(
                ErrorCode::Unsupported,
                "calls are not offered by this relay yet",
            ),
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

// ---------------------------------------------------------------------------
// Message bodies
// ---------------------------------------------------------------------------

fn body_fixtures() -> Vec<(&'static str, MessageBody)> {
    vec![
        (
            r#"{
  "kind": "text",
  "text": "Yes! Climbing on Saturday?"
}"#,
            text("Yes! Climbing on Saturday?"),
        ),
        (
            r#"{
  "kind": "image",
  "file": {
    "id": "f_9Qx2mB7c",
    "name": "crag.jpg",
    "size": 482113,
    "mime": "image/jpeg"
  },
  "width": 1600,
  "height": 1200
}"#,
            MessageBody::Image {
                file: FileRef {
                    id: "f_9Qx2mB7c".into(),
                    name: "crag.jpg".into(),
                    size: 482113,
                    mime: "image/jpeg".into(),
                },
                width: 1600,
                height: 1200,
            },
        ),
        (
            r#"{
  "kind": "file",
  "file": {
    "id": "f_Lr8s0aZk",
    "name": "route-topo.pdf",
    "size": 1048576,
    "mime": "application/pdf"
  }
}"#,
            MessageBody::File {
                file: FileRef {
                    id: "f_Lr8s0aZk".into(),
                    name: "route-topo.pdf".into(),
                    size: 1048576,
                    mime: "application/pdf".into(),
                },
            },
        ),
        (
            r#"{
  "kind": "voice",
  "file": {
    "id": "f_v01ce7Qe",
    "name": "voice-note.ogg",
    "size": 38211,
    "mime": "audio/ogg"
  },
  "duration_ms": 6400
}"#,
            MessageBody::Voice {
                file: FileRef {
                    id: "f_v01ce7Qe".into(),
                    name: "voice-note.ogg".into(),
                    size: 38211,
                    mime: "audio/ogg".into(),
                },
                duration_ms: 6400,
            },
        ),
        (
            r#"{
  "kind": "recall",
  "target": 42
}"#,
            MessageBody::Recall { target: 42 },
        ),
        (
            r#"{
  "kind": "edit",
  "target": 42,
  "text": "Yes! Climbing on Saturday? 🧗"
}"#,
            MessageBody::Edit {
                target: 42,
                text: "Yes! Climbing on Saturday? 🧗".into(),
            },
        ),
        (
            r#"{
  "kind": "reaction",
  "target": 41,
  "emoji": "👍",
  "add": true
}"#,
            MessageBody::Reaction {
                target: 41,
                emoji: "👍".into(),
                add: true,
            },
        ),
        (
            r#"{
  "kind": "recalled"
}"#,
            MessageBody::Recalled,
        ),
        (
            r#"{
  "kind": "call",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "media": "video",
  "outcome": "completed",
  "duration_ms": 754000
}"#,
            MessageBody::Call {
                call_id: CALL_ID.into(),
                media: CallMedia::Video,
                outcome: CallOutcome::Completed,
                duration_ms: 754000,
            },
        ),
    ]
}

fn body_variant(body: &MessageBody) -> &'static str {
    match body {
        MessageBody::Text { .. } => "text",
        MessageBody::Image { .. } => "image",
        MessageBody::File { .. } => "file",
        MessageBody::Voice { .. } => "voice",
        MessageBody::Recall { .. } => "recall",
        MessageBody::Edit { .. } => "edit",
        MessageBody::Reaction { .. } => "reaction",
        MessageBody::Recalled => "recalled",
        MessageBody::Call { .. } => "call",
    }
}

const BODY_VARIANTS: &[&str] = &[
    "text", "image", "file", "voice", "recall", "edit", "reaction", "recalled", "call",
];

#[test]
fn message_bodies_match_their_fixtures() {
    for (fixture, expected) in body_fixtures() {
        check(fixture, &expected);
        // The `kind` tag is the variant's name.
        let json: Value = serde_json::from_str(fixture).unwrap();
        assert_eq!(json["kind"], Value::from(body_variant(&expected)));
    }
}

#[test]
fn every_message_body_has_a_fixture() {
    let covered: BTreeSet<&str> = body_fixtures()
        .iter()
        .map(|(_, b)| body_variant(b))
        .collect();
    assert_eq!(covered, BODY_VARIANTS.iter().copied().collect());
}

#[test]
fn operations_name_their_target() {
    for (_, body) in body_fixtures() {
        let expected = match body_variant(&body) {
            "recall" | "edit" => Some(42),
            "reaction" => Some(41),
            _ => None,
        };
        assert_eq!(body.target(), expected, "{body:?}");
    }
}

#[test]
fn call_outcomes_and_defaults() {
    for (outcome, name) in [
        (CallOutcome::Missed, "missed"),
        (CallOutcome::Rejected, "rejected"),
        (CallOutcome::Cancelled, "cancelled"),
        (CallOutcome::Busy, "busy"),
        (CallOutcome::Completed, "completed"),
    ] {
        assert_eq!(serde_json::to_value(outcome).unwrap(), Value::from(name));
    }
    let missed: MessageBody =
        serde_json::from_str(r#"{"kind":"call","call_id":"c","media":"audio","outcome":"missed"}"#)
            .unwrap();
    assert_eq!(
        missed,
        MessageBody::Call {
            call_id: "c".into(),
            media: CallMedia::Audio,
            outcome: CallOutcome::Missed,
            duration_ms: 0,
        }
    );
}

// ---------------------------------------------------------------------------
// Account events
// ---------------------------------------------------------------------------

fn event_fixtures() -> Vec<(&'static str, Event)> {
    let event = |seq: u64, ts: i64, body: EventBody| Event { seq, ts, body };
    vec![
        (
            r#"{
  "seq": 18,
  "ts": 1762164030000,
  "kind": "friend_request_received",
  "request": {
    "id": 108460003328000,
    "from": {
      "id": 108439150788609,
      "account": "sam_k",
      "nickname": "Sam"
    },
    "to": {
      "id": 108439142400001,
      "account": "li.wei",
      "nickname": "Li Wei"
    },
    "message": "hi, it's Sam from the gym",
    "status": "pending",
    "ts": 1762164030000
  }
}"#,
            request_received_event(),
        ),
        (
            r#"{
  "seq": 9,
  "ts": 1762164030000,
  "kind": "friend_request_sent",
  "request": {
    "id": 108460003328000,
    "from": {
      "id": 108439150788609,
      "account": "sam_k",
      "nickname": "Sam"
    },
    "to": {
      "id": 108439142400001,
      "account": "li.wei",
      "nickname": "Li Wei"
    },
    "message": "hi, it's Sam from the gym",
    "status": "pending",
    "ts": 1762164030000
  }
}"#,
            event(
                9,
                1762164030000,
                EventBody::FriendRequestSent {
                    request: sam_request(RequestStatus::Pending),
                },
            ),
        ),
        (
            r#"{
  "seq": 19,
  "ts": 1762164100000,
  "kind": "friend_added",
  "request_id": 108460003328000,
  "friend": {
    "user": {
      "id": 108439150788609,
      "account": "sam_k",
      "nickname": "Sam"
    },
    "conversation": 108460005425152,
    "since_ts": 1762164100000
  }
}"#,
            event(
                19,
                1762164100000,
                EventBody::FriendAdded {
                    request_id: REQUEST,
                    friend: Friend {
                        user: sam(),
                        conversation: SAM_DIRECT,
                        since_ts: 1762164100000,
                    },
                },
            ),
        ),
        (
            r#"{
  "seq": 20,
  "ts": 1762165000000,
  "kind": "friend_request_rejected",
  "request_id": 108460007522304,
  "by": 108439142400001
}"#,
            event(
                20,
                1762165000000,
                EventBody::FriendRequestRejected {
                    request_id: 108460007522304,
                    by: LI,
                },
            ),
        ),
        (
            r#"{
  "seq": 21,
  "ts": 1762166000000,
  "kind": "friend_removed",
  "user": 108439150788609,
  "conversation": 108460005425152
}"#,
            event(
                21,
                1762166000000,
                EventBody::FriendRemoved {
                    user: SAM,
                    conversation: SAM_DIRECT,
                },
            ),
        ),
        (
            r#"{
  "seq": 12,
  "ts": 1762000000000,
  "kind": "group_joined",
  "group": {
    "id": 108453710000128,
    "name": "Saturday climbing",
    "announcement": "",
    "owner": 108439146594305,
    "created_ts": 1762000000000,
    "members": [
      {
        "user": {
          "id": 108439146594305,
          "account": "ana",
          "nickname": "Ana Souza",
          "avatar": "https://cdn.example.com/a/ana.png"
        },
        "role": "owner",
        "joined_ts": 1762000000000
      },
      {
        "user": {
          "id": 108439142400001,
          "account": "li.wei",
          "nickname": "Li Wei"
        },
        "role": "member",
        "joined_ts": 1762000000000
      }
    ]
  },
  "by": 108439146594305,
  "first_seq": 1
}"#,
            event(
                12,
                1762000000000,
                EventBody::GroupJoined {
                    group: new_group(),
                    by: ANA,
                    first_seq: 1,
                },
            ),
        ),
        (
            r#"{
  "seq": 22,
  "ts": 1762170000000,
  "kind": "group_members_added",
  "group": 108453710000128,
  "members": [
    {
      "user": {
        "id": 108439150788609,
        "account": "sam_k",
        "nickname": "Sam"
      },
      "role": "member",
      "joined_ts": 1762170000000
    }
  ],
  "by": 108439142400001
}"#,
            event(
                22,
                1762170000000,
                EventBody::GroupMembersAdded {
                    group: GROUP,
                    members: vec![member(sam(), Role::Member, 1762170000000)],
                    by: LI,
                },
            ),
        ),
        (
            r#"{
  "seq": 23,
  "ts": 1762171000000,
  "kind": "group_member_left",
  "group": 108453710000128,
  "user": 108439150788609,
  "owner": 108439146594305
}"#,
            event(
                23,
                1762171000000,
                EventBody::GroupMemberLeft {
                    group: GROUP,
                    user: SAM,
                    owner: ANA,
                },
            ),
        ),
        (
            r#"{
  "seq": 24,
  "ts": 1762172000000,
  "kind": "group_member_removed",
  "group": 108453710000128,
  "user": 108439150788609,
  "by": 108439146594305
}"#,
            event(
                24,
                1762172000000,
                EventBody::GroupMemberRemoved {
                    group: GROUP,
                    user: SAM,
                    by: ANA,
                },
            ),
        ),
        (
            r#"{
  "seq": 25,
  "ts": 1762173000000,
  "kind": "group_updated",
  "group": 108453710000128,
  "name": "Saturday climbing",
  "announcement": "Meet at the crag car park, 9:00",
  "by": 108439146594305
}"#,
            event(
                25,
                1762173000000,
                EventBody::GroupUpdated {
                    group: GROUP,
                    name: "Saturday climbing".into(),
                    announcement: "Meet at the crag car park, 9:00".into(),
                    by: ANA,
                },
            ),
        ),
        (
            r#"{
  "seq": 26,
  "ts": 1762174000000,
  "kind": "group_role_changed",
  "group": 108453710000128,
  "user": 108439142400001,
  "role": "admin"
}"#,
            event(
                26,
                1762174000000,
                EventBody::GroupRoleChanged {
                    group: GROUP,
                    user: LI,
                    role: Role::Admin,
                },
            ),
        ),
        (
            r#"{
  "seq": 27,
  "ts": 1762175000000,
  "kind": "group_disbanded",
  "group": 108453710000128,
  "by": 108439146594305
}"#,
            event(
                27,
                1762175000000,
                EventBody::GroupDisbanded {
                    group: GROUP,
                    by: ANA,
                },
            ),
        ),
        (
            r#"{
  "seq": 28,
  "ts": 1762176000000,
  "kind": "profile_updated",
  "user": {
    "id": 108439146594305,
    "account": "ana",
    "nickname": "Ana S.",
    "avatar": "https://cdn.example.com/a/ana-2.png"
  }
}"#,
            event(
                28,
                1762176000000,
                EventBody::ProfileUpdated {
                    user: UserSummary {
                        nickname: "Ana S.".into(),
                        avatar: Some("https://cdn.example.com/a/ana-2.png".into()),
                        ..ana()
                    },
                },
            ),
        ),
    ]
}

fn event_variant(body: &EventBody) -> &'static str {
    match body {
        EventBody::FriendRequestReceived { .. } => "friend_request_received",
        EventBody::FriendRequestSent { .. } => "friend_request_sent",
        EventBody::FriendAdded { .. } => "friend_added",
        EventBody::FriendRequestRejected { .. } => "friend_request_rejected",
        EventBody::FriendRemoved { .. } => "friend_removed",
        EventBody::GroupJoined { .. } => "group_joined",
        EventBody::GroupMembersAdded { .. } => "group_members_added",
        EventBody::GroupMemberLeft { .. } => "group_member_left",
        EventBody::GroupMemberRemoved { .. } => "group_member_removed",
        EventBody::GroupUpdated { .. } => "group_updated",
        EventBody::GroupRoleChanged { .. } => "group_role_changed",
        EventBody::GroupDisbanded { .. } => "group_disbanded",
        EventBody::ProfileUpdated { .. } => "profile_updated",
    }
}

const EVENT_VARIANTS: &[&str] = &[
    "friend_request_received",
    "friend_request_sent",
    "friend_added",
    "friend_request_rejected",
    "friend_removed",
    "group_joined",
    "group_members_added",
    "group_member_left",
    "group_member_removed",
    "group_updated",
    "group_role_changed",
    "group_disbanded",
    "profile_updated",
];

#[test]
fn events_match_their_fixtures() {
    for (fixture, expected) in event_fixtures() {
        check(fixture, &expected);
        // The body is flattened: `kind` sits next to `seq` and `ts`.
        let json: Value = serde_json::from_str(fixture).unwrap();
        assert_eq!(json["kind"], Value::from(event_variant(&expected.body)));
        // Each event is also a valid live `event` frame.
        let frame = ServerFrame::Event { event: expected };
        let wrapped = serde_json::json!({"type": "event", "event": json});
        assert_eq!(serde_json::to_value(&frame).unwrap(), wrapped);
        assert_eq!(
            serde_json::from_value::<ServerFrame>(wrapped).unwrap(),
            frame
        );
    }
}

#[test]
fn every_event_kind_has_a_fixture() {
    let covered: BTreeSet<&str> = event_fixtures()
        .iter()
        .map(|(_, e)| event_variant(&e.body))
        .collect();
    assert_eq!(covered, EVENT_VARIANTS.iter().copied().collect());
}

// ---------------------------------------------------------------------------
// REST bodies
// ---------------------------------------------------------------------------

#[test]
fn rest_bodies_match_their_fixtures() {
    check(
        r#"{
  "code": "bad_credentials",
  "message": "wrong account name or password"
}"#,
        &ErrorBody {
            code: ErrorCode::BadCredentials,
            message: "wrong account name or password".into(),
        },
    );
    check(
        r#"{
  "status": "ok",
  "version": "0.1.0",
  "sessions": 3
}"#,
        &Health {
            status: "ok".into(),
            version: "0.1.0".into(),
            sessions: 3,
        },
    );
    check(
        r#"{
  "account": "li.wei",
  "password": "correct horse battery",
  "nickname": "Li Wei",
  "email": "Li.Wei@example.com",
  "phone": "+86 138-0013-8000"
}"#,
        &RegisterRequest {
            account: "li.wei".into(),
            password: "correct horse battery".into(),
            nickname: "Li Wei".into(),
            email: Some("Li.Wei@example.com".into()),
            phone: Some("+86 138-0013-8000".into()),
            avatar: None,
        },
    );
    check(
        r#"{
  "id": 108439142400001,
  "account": "li.wei",
  "nickname": "Li Wei",
  "email": "li.wei@example.com",
  "phone": "+8613800138000",
  "created_ts": 1761901200000
}"#,
        &li_profile(),
    );
    check(
        r#"{
  "account": "li.wei@example.com",
  "password": "correct horse battery",
  "device_id": "li-laptop-7f3a",
  "device_name": "Li's laptop"
}"#,
        &LoginRequest {
            account: "li.wei@example.com".into(),
            password: "correct horse battery".into(),
            device_id: Some("li-laptop-7f3a".into()),
            device_name: Some("Li's laptop".into()),
        },
    );
    check(
        r#"{
  "access_token": "MTA4NDM5MTQyNDAwMDAxLjEwODQ2MDAwMTIzMDg0OC4xNzYyMTY3NjAwMDAw.xH1sYq1eXJuQl_9H1Y9W9ytug14fY4A_kSqdQ_-S2Kg",
  "access_expires_ts": 1762167600000,
  "refresh_token": "108460001230848.npmK64i0_9micINABWUsAr7Q-sY-8Pp2KXMtMZl9-0w",
  "refresh_expires_ts": 1764756000000,
  "device_id": "li-laptop-7f3a",
  "profile": {
    "id": 108439142400001,
    "account": "li.wei",
    "nickname": "Li Wei",
    "email": "li.wei@example.com",
    "phone": "+8613800138000",
    "created_ts": 1761901200000
  }
}"#,
        &Session {
            access_token: ACCESS_1.into(),
            access_expires_ts: 1762167600000,
            refresh_token: REFRESH_1.into(),
            refresh_expires_ts: 1764756000000,
            device_id: "li-laptop-7f3a".into(),
            profile: li_profile(),
        },
    );
    check(
        r#"{
  "refresh_token": "108460001230848.npmK64i0_9micINABWUsAr7Q-sY-8Pp2KXMtMZl9-0w"
}"#,
        &RefreshRequest {
            refresh_token: REFRESH_1.into(),
        },
    );
    check(
        r#"{
  "access_token": "MTA4NDM5MTQyNDAwMDAxLjEwODQ2MDAwMTIzMDg0OC4xNzYyMTcxMjAwMDAw.gpdh5zg5_jr9PUWzhcLPoUACMOdtE8xrWKq8jTbkgtI",
  "access_expires_ts": 1762171200000,
  "refresh_token": "108460001230848.shhqfwGNv7jGhNWvnYlpsLwaxVnKNLURobnKF3Vj5HQ",
  "refresh_expires_ts": 1764759600000,
  "device_id": "li-laptop-7f3a",
  "profile": {
    "id": 108439142400001,
    "account": "li.wei",
    "nickname": "Li Wei",
    "email": "li.wei@example.com",
    "phone": "+8613800138000",
    "created_ts": 1761901200000
  }
}"#,
        &Session {
            access_token: "MTA4NDM5MTQyNDAwMDAxLjEwODQ2MDAwMTIzMDg0OC4xNzYyMTcxMjAwMDAw.gpdh5zg5_jr9PUWzhcLPoUACMOdtE8xrWKq8jTbkgtI".into(),
            access_expires_ts: 1762171200000,
            refresh_token: "108460001230848.shhqfwGNv7jGhNWvnYlpsLwaxVnKNLURobnKF3Vj5HQ".into(),
            refresh_expires_ts: 1764759600000,
            device_id: "li-laptop-7f3a".into(),
            profile: li_profile(),
        },
    );
    check(
        r#"{
  "nickname": "Li W.",
  "phone": ""
}"#,
        &UpdateProfile {
            nickname: Some("Li W.".into()),
            phone: Some(String::new()),
            ..UpdateProfile::default()
        },
    );
    check(
        r#"{
  "id": 108439142400001,
  "account": "li.wei",
  "nickname": "Li W.",
  "email": "li.wei@example.com",
  "created_ts": 1761901200000
}"#,
        &Profile {
            user: UserSummary {
                nickname: "Li W.".into(),
                ..li()
            },
            phone: None,
            ..li_profile()
        },
    );
    check(
        r#"{
  "users": [
    {
      "id": 108439146594305,
      "account": "ana",
      "nickname": "Ana Souza",
      "avatar": "https://cdn.example.com/a/ana.png"
    }
  ]
}"#,
        &SearchResult { users: vec![ana()] },
    );
    check(
        r#"{
  "id": 108439150788609,
  "account": "sam_k",
  "nickname": "Sam"
}"#,
        &sam(),
    );
    check(
        r#"{
  "friends": [
    {
      "user": {
        "id": 108439146594305,
        "account": "ana",
        "nickname": "Ana Souza",
        "avatar": "https://cdn.example.com/a/ana.png"
      },
      "conversation": 108441307136000,
      "since_ts": 1761990000000
    }
  ]
}"#,
        &Friends {
            friends: vec![Friend {
                user: ana(),
                conversation: DIRECT,
                since_ts: 1761990000000,
            }],
        },
    );
    check(
        r#"{
  "incoming": [
    {
      "id": 108460003328000,
      "from": {
        "id": 108439150788609,
        "account": "sam_k",
        "nickname": "Sam"
      },
      "to": {
        "id": 108439142400001,
        "account": "li.wei",
        "nickname": "Li Wei"
      },
      "message": "hi, it's Sam from the gym",
      "status": "pending",
      "ts": 1762164030000
    }
  ],
  "outgoing": []
}"#,
        &FriendRequests {
            incoming: vec![sam_request(RequestStatus::Pending)],
            outgoing: vec![],
        },
    );
    check(
        r#"{
  "to": 108439142400001,
  "message": "hi, it's Sam from the gym"
}"#,
        &SendFriendRequest {
            to: LI,
            message: "hi, it's Sam from the gym".into(),
        },
    );
    check(
        r#"{
  "id": 108460003328000,
  "from": {
    "id": 108439150788609,
    "account": "sam_k",
    "nickname": "Sam"
  },
  "to": {
    "id": 108439142400001,
    "account": "li.wei",
    "nickname": "Li Wei"
  },
  "message": "hi, it's Sam from the gym",
  "status": "pending",
  "ts": 1762164030000
}"#,
        &sam_request(RequestStatus::Pending),
    );
    check(
        r#"{
  "id": 108460003328000,
  "from": {
    "id": 108439150788609,
    "account": "sam_k",
    "nickname": "Sam"
  },
  "to": {
    "id": 108439142400001,
    "account": "li.wei",
    "nickname": "Li Wei"
  },
  "message": "hi, it's Sam from the gym",
  "status": "accepted",
  "ts": 1762164030000
}"#,
        &sam_request(RequestStatus::Accepted),
    );
    check(
        r#"{
  "groups": [
    {
      "id": 108453710000128,
      "name": "Saturday climbing",
      "announcement": "Meet at the crag car park, 9:00",
      "owner": 108439146594305,
      "created_ts": 1762000000000,
      "members": [
        {
          "user": {
            "id": 108439146594305,
            "account": "ana",
            "nickname": "Ana Souza",
            "avatar": "https://cdn.example.com/a/ana.png"
          },
          "role": "owner",
          "joined_ts": 1762000000000
        },
        {
          "user": {
            "id": 108439142400001,
            "account": "li.wei",
            "nickname": "Li Wei"
          },
          "role": "admin",
          "joined_ts": 1762000000000
        },
        {
          "user": {
            "id": 108439150788609,
            "account": "sam_k",
            "nickname": "Sam"
          },
          "role": "member",
          "joined_ts": 1762170000000
        }
      ]
    }
  ]
}"#,
        &Groups {
            groups: vec![Group {
                announcement: "Meet at the crag car park, 9:00".into(),
                members: vec![
                    member(ana(), Role::Owner, 1762000000000),
                    member(li(), Role::Admin, 1762000000000),
                    member(sam(), Role::Member, 1762170000000),
                ],
                ..new_group()
            }],
        },
    );
    check(
        r#"{
  "name": "Saturday climbing",
  "members": [108439142400001]
}"#,
        &CreateGroup {
            name: "Saturday climbing".into(),
            members: vec![LI],
        },
    );
    check(
        r#"{
  "id": 108453710000128,
  "name": "Saturday climbing",
  "announcement": "",
  "owner": 108439146594305,
  "created_ts": 1762000000000,
  "members": [
    {
      "user": {
        "id": 108439146594305,
        "account": "ana",
        "nickname": "Ana Souza",
        "avatar": "https://cdn.example.com/a/ana.png"
      },
      "role": "owner",
      "joined_ts": 1762000000000
    },
    {
      "user": {
        "id": 108439142400001,
        "account": "li.wei",
        "nickname": "Li Wei"
      },
      "role": "member",
      "joined_ts": 1762000000000
    }
  ]
}"#,
        &new_group(),
    );
    check(
        r#"{
  "announcement": "Meet at the crag car park, 9:00"
}"#,
        &UpdateGroup {
            name: None,
            announcement: Some("Meet at the crag car park, 9:00".into()),
        },
    );
    check(
        r#"{
  "users": [108439150788609]
}"#,
        &InviteMembers { users: vec![SAM] },
    );
    check(
        r#"{
  "role": "admin"
}"#,
        &SetRole { role: Role::Admin },
    );
    check(
        r#"{
  "conversations": [
    {
      "id": 108441307136000,
      "kind": "direct",
      "peer": 108439146594305,
      "last_seq": 44,
      "read_seq": 44,
      "peer_read_seq": 41,
      "first_seq": 1
    },
    {
      "id": 108453710000128,
      "kind": "group",
      "name": "Saturday climbing",
      "last_seq": 7,
      "read_seq": 6,
      "first_seq": 5
    }
  ]
}"#,
        &Conversations {
            conversations: conversation_states(),
        },
    );
    check(
        r#"{
  "conversation": 108441307136000,
  "messages": [
    {
      "conversation": 108441307136000,
      "seq": 39,
      "sender": 108439146594305,
      "client_id": "ana-ios-000731",
      "ts": 1762160000000,
      "body": {
        "kind": "text",
        "text": "Did you see the new route at the gym?"
      }
    },
    {
      "conversation": 108441307136000,
      "seq": 40,
      "sender": 108439142400001,
      "client_id": "6f1d3b2a-0c4e-4b7f-9e85-2a6c1d9e3f40",
      "ts": 1762160100000,
      "body": {
        "kind": "text",
        "text": "The overhang one? Brutal."
      }
    }
  ],
  "more": true
}"#,
        &MessagePage {
            conversation: DIRECT,
            messages: vec![
                message(
                    39,
                    ANA,
                    "ana-ios-000731",
                    1762160000000,
                    text("Did you see the new route at the gym?"),
                ),
                message(
                    40,
                    LI,
                    "6f1d3b2a-0c4e-4b7f-9e85-2a6c1d9e3f40",
                    1762160100000,
                    text("The overhang one? Brutal."),
                ),
            ],
            more: true,
        },
    );
}

// ---------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------

/// Every JSON example in `PROTOCOL.md` is a value of some protocol type that
/// serialises back to exactly the example.
#[test]
fn every_example_in_the_document_is_a_protocol_value() {
    macro_rules! any_round_trips {
        ($value:expr; $($t:ty),+ $(,)?) => {
            false $(|| round_trips::<$t>($value))+
        };
    }
    let blocks = json_blocks(DOC);
    assert_eq!(blocks.len(), doc_examples().len());
    assert!(blocks.len() > 80, "only {} examples found", blocks.len());
    for ((line, text), value) in blocks.iter().zip(doc_examples()) {
        let ok = any_round_trips!(value;
            ClientFrame, ServerFrame, Event, Message, MessageBody, ErrorBody,
            Health, RegisterRequest, LoginRequest, RefreshRequest, Session, Profile,
            UpdateProfile, SearchResult, UserSummary, Friends, FriendRequests,
            SendFriendRequest, FriendRequest, Groups, CreateGroup, Group, UpdateGroup,
            InviteMembers, SetRole, Conversations, MessagePage,
        );
        assert!(
            ok,
            "PROTOCOL.md line {line}: example is no protocol value:\n{text}"
        );
    }
}

/// The limits table of the document states the defaults of `Limits`.
#[test]
fn document_states_the_default_limits() {
    let limits = serde_json::to_value(Limits::default()).unwrap();
    let fields = limits.as_object().unwrap();
    for (name, value) in fields {
        let value = value.as_u64().unwrap();
        // Written with a space between groups of three digits, e.g. `65 536`.
        let mut digits = value.to_string();
        let mut grouped = String::new();
        while digits.len() > 3 {
            let tail = digits.split_off(digits.len() - 3);
            grouped = format!(" {tail}{grouped}");
        }
        grouped = format!("{digits}{grouped}");
        let row = format!("| `{name}` | {grouped}");
        assert!(DOC.contains(&row), "PROTOCOL.md lacks the row `{row}`");
    }
}

// ---------------------------------------------------------------------------
// decode_client classification
// ---------------------------------------------------------------------------

fn code_of(text: &str) -> ErrorCode {
    match decode_client(text) {
        Ok(frame) => panic!("{text:?} decoded as {frame:?}"),
        Err(e) => e.code,
    }
}

#[test]
fn text_that_is_not_a_json_object_is_malformed() {
    for text in [
        "",
        "   ",
        "not json at all",
        "{",
        r#"{"type":"ping""#,
        r#"{"type":"ping"} trailing"#,
        "null",
        "true",
        "42",
        r#""hello""#,
        "[]",
        "[1,2,3]",
        r#"["ping"]"#,
        r#"["ping",5]"#,
        r#"["send","k",1,{"kind":"text","text":"hi"}]"#,
        r#"["teleport"]"#,
    ] {
        assert_eq!(code_of(text), ErrorCode::MalformedFrame, "{text:?}");
    }
}

#[test]
fn an_object_without_a_string_type_is_malformed() {
    for text in [
        "{}",
        r#"{"no_type":1}"#,
        r#"{"Type":"ping"}"#,
        r#"{"type":null}"#,
        r#"{"type":42}"#,
        r#"{"type":true}"#,
        r#"{"type":["ping"]}"#,
        r#"{"type":{"name":"ping"}}"#,
    ] {
        assert_eq!(code_of(text), ErrorCode::MalformedFrame, "{text:?}");
    }
}

#[test]
fn an_unknown_type_is_an_unknown_frame() {
    for text in [
        r#"{"type":"teleport","to":"mars"}"#,
        r#"{"type":""}"#,
        r#"{"type":"Ping"}"#,
        r#"{"type":"welcome"}"#,
        r#"{"type":"ack","client_id":"k","conversation":1,"seq":1,"ts":1}"#,
    ] {
        assert_eq!(code_of(text), ErrorCode::UnknownFrame, "{text:?}");
    }
    // The message names the type, cut to 40 characters.
    let long = "x".repeat(100);
    let err = decode_client(&format!(r#"{{"type":"{long}"}}"#)).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownFrame);
    assert!(err.message.contains(&"x".repeat(40)), "{}", err.message);
    assert!(!err.message.contains(&"x".repeat(41)), "{}", err.message);
}

#[test]
fn a_known_type_with_wrong_fields_is_a_bad_request() {
    for text in [
        r#"{"type":"hello"}"#,
        r#"{"type":"hello","protocols":1,"token":"t"}"#,
        r#"{"type":"hello","protocols":[1]}"#,
        r#"{"type":"ping","nonce":-1}"#,
        r#"{"type":"ping","nonce":"42"}"#,
        r#"{"type":"send","conversation":"seven"}"#,
        r#"{"type":"send","client_id":"k","conversation":1}"#,
        r#"{"type":"send","client_id":"k","conversation":1,"body":{"kind":"hologram"}}"#,
        r#"{"type":"send","client_id":"k","conversation":1,"body":{"text":"no kind"}}"#,
        r#"{"type":"send","client_id":"k","conversation":1,"body":{"kind":"text"}}"#,
        r#"{"type":"sync","rid":1}"#,
        r#"{"type":"sync","rid":1,"events_after":0,"cursors":{}}"#,
        r#"{"type":"history","rid":1}"#,
        r#"{"type":"history","rid":1,"conversation":1,"limit":-5}"#,
        r#"{"type":"read","conversation":1}"#,
        r#"{"type":"read","conversation":{"id":1},"seq":2}"#,
        r#"{"type":"typing"}"#,
        r#"{"type":"call"}"#,
        r#"{"type":"call","action":"teleport","call_id":"c"}"#,
        r#"{"type":"call","action":"invite","call_id":"c","conversation":1,"media":"hologram"}"#,
        r#"{"type":"call","action":"sdp","call_id":"c","sdp_type":"pranswer","sdp":""}"#,
    ] {
        assert_eq!(code_of(text), ErrorCode::BadRequest, "{text:?}");
    }
}

#[test]
fn leading_whitespace_is_fine() {
    assert_eq!(
        decode_client(" \r\n\t{\"type\":\"ping\",\"nonce\":7}\n"),
        Ok(ClientFrame::Ping { nonce: 7 })
    );
}
