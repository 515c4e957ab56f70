//! Account events: each fixture parses and serialises back, flattened next to
//! `seq` and `ts`, is also a live `event` frame, and every kind has a fixture.

use std::collections::BTreeSet;

use natter_proto::event::{Event, EventBody};
use natter_proto::frame::ServerFrame;
use natter_proto::model::{ConversationId, Friend, RequestStatus, Role, UserSummary};
use serde_json::Value;

use crate::support::*;

/// Li and Sam's 1:1 conversation.
const SAM_DIRECT: ConversationId = ConversationId(108460005425152);

fn event_fixtures() -> Vec<(&'static str, Event)> {
    let event = |seq: u64, ts: i64, body: EventBody| Event { seq, ts, body };
    vec![
        (request_received_json!(), request_received_event()),
        (
            concat!(
                r#"{
  "seq": 9,
  "ts": 1762164030000,
  "kind": "friend_request_sent",
  "request": "#,
                sam_request_json!("pending"),
                r#"
}"#
            ),
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
            concat!(
                r#"{
  "seq": 12,
  "ts": 1762000000000,
  "kind": "group_joined",
  "group": "#,
                new_group_json!(),
                r#",
  "by": 108439146594305,
  "first_seq": 1
}"#
            ),
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
