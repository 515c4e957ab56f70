//! The harness every module checks its fixtures with, and the cast of the
//! examples: the people, conversations and values that several fixtures share,
//! and the JSON of those that more than one fixture embeds, written once here.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::OnceLock;

use natter_proto::call::IceCandidate;
use natter_proto::event::{Event, EventBody};
use natter_proto::frame::{ClientFrame, decode_client};
use natter_proto::model::{
    ConversationId, ConversationKind, ConversationState, FriendRequest, Group, Member, Message,
    MessageBody, RequestStatus, Role, UserId, UserSummary,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

pub const DOC: &str = include_str!("../../PROTOCOL.md");

/// The ```json blocks of `PROTOCOL.md`, parsed.
pub fn doc_examples() -> &'static [Value] {
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
pub fn json_blocks(doc: &str) -> Vec<(usize, String)> {
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
pub fn check<T>(fixture: &str, expected: &T)
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
pub fn check_client(fixture: &str, expected: &ClientFrame) {
    check(fixture, expected);
    assert_eq!(decode_client(fixture).as_ref(), Ok(expected), "{fixture}");
}

// ---------------------------------------------------------------------------
// The cast of the examples
// ---------------------------------------------------------------------------
//
// An example that several fixtures embed has its JSON written once, next to its
// value, as a macro that expands to a string literal (`*_json!`): fixtures put
// it together with `concat!`, which takes literals but not constants, so every
// fixture stays a `&'static str`.

pub const LI: UserId = UserId(108439142400001);
pub const ANA: UserId = UserId(108439146594305);
pub const SAM: UserId = UserId(108439150788609);
/// Li and Ana's 1:1 conversation.
pub const DIRECT: ConversationId = ConversationId(108441307136000);
pub const GROUP: ConversationId = ConversationId(108453710000128);
/// Sam's friend request to Li.
pub const REQUEST: u64 = 108460003328000;
pub const CALL_ID: &str = "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01";
pub const LI_42: &str = "0b7f6c1e-4d2a-4f0e-9a51-3c2d8e9f1a10";
pub const ACCESS_1: &str = "MTA4NDM5MTQyNDAwMDAxLjEwODQ2MDAwMTIzMDg0OC4xNzYyMTY3NjAwMDAw.xH1sYq1eXJuQl_9H1Y9W9ytug14fY4A_kSqdQ_-S2Kg";

pub fn li() -> UserSummary {
    UserSummary {
        id: LI,
        account: "li.wei".into(),
        nickname: "Li Wei".into(),
        avatar: None,
    }
}

pub fn ana() -> UserSummary {
    UserSummary {
        id: ANA,
        account: "ana".into(),
        nickname: "Ana Souza".into(),
        avatar: Some("https://cdn.example.com/a/ana.png".into()),
    }
}

pub fn sam() -> UserSummary {
    UserSummary {
        id: SAM,
        account: "sam_k".into(),
        nickname: "Sam".into(),
        avatar: None,
    }
}

pub fn sam_request(status: RequestStatus) -> FriendRequest {
    FriendRequest {
        id: REQUEST,
        from: sam(),
        to: li(),
        message: "hi, it's Sam from the gym".into(),
        status,
        ts: 1762164030000,
    }
}

/// The JSON of [`sam_request`], with `status` given by its wire name.
macro_rules! sam_request_json {
    ($status:literal) => {
        concat!(
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
  "status": ""#,
            $status,
            r#"",
  "ts": 1762164030000
}"#
        )
    };
}
pub(crate) use sam_request_json;

pub fn member(user: UserSummary, role: Role, joined_ts: i64) -> Member {
    Member {
        user,
        role,
        joined_ts,
    }
}

/// The group as Ana created it, with Li.
pub fn new_group() -> Group {
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

/// The JSON of [`new_group`], a string literal for `concat!`.
macro_rules! new_group_json {
    () => {
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
}"#
    };
}
pub(crate) use new_group_json;

pub fn text(t: &str) -> MessageBody {
    MessageBody::Text { text: t.into() }
}

pub fn message(seq: u64, sender: UserId, client_id: &str, ts: i64, body: MessageBody) -> Message {
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
        extras: Default::default(),
    }
}

pub fn conversation_states() -> Vec<ConversationState> {
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

/// The JSON of [`conversation_states`], a string literal for `concat!`.
macro_rules! conversation_states_json {
    () => {
        r#"[
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
]"#
    };
}
pub(crate) use conversation_states_json;

pub fn request_received_event() -> Event {
    Event {
        seq: 18,
        ts: 1762164030000,
        body: EventBody::FriendRequestReceived {
            request: sam_request(RequestStatus::Pending),
        },
    }
}

/// The JSON of [`request_received_event`], a string literal for `concat!`.
macro_rules! request_received_json {
    () => {
        concat!(
            r#"{
  "seq": 18,
  "ts": 1762164030000,
  "kind": "friend_request_received",
  "request": "#,
            $crate::support::sam_request_json!("pending"),
            r#"
}"#
        )
    };
}
pub(crate) use request_received_json;

pub fn ice(candidate: &str, sdp_mid: Option<&str>, sdp_mline_index: Option<u16>) -> IceCandidate {
    IceCandidate {
        candidate: candidate.into(),
        sdp_mid: sdp_mid.map(Into::into),
        sdp_mline_index,
    }
}
