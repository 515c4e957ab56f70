//! REST bodies: requests and responses of the HTTP API.

use natter_proto::error::{ErrorBody, ErrorCode};
use natter_proto::model::{Friend, Group, Profile, RequestStatus, Role, UserSummary};
use natter_proto::rest::{
    Conversations, CreateGroup, FriendRequests, Friends, Groups, Health, IceServer, IceServers,
    InviteMembers, LoginRequest, MessagePage, RefreshRequest, RegisterRequest, SearchResult,
    SendFriendRequest, Session, SetRole, UpdateGroup, UpdateProfile,
};

use crate::support::*;

const REFRESH_1: &str = "108460001230848.npmK64i0_9micINABWUsAr7Q-sY-8Pp2KXMtMZl9-0w";

fn li_profile() -> Profile {
    Profile {
        user: li(),
        email: Some("li.wei@example.com".into()),
        phone: Some("+8613800138000".into()),
        created_ts: 1761901200000,
    }
}

/// The JSON of [`li_profile`], a string literal for `concat!`.
macro_rules! li_profile_json {
    () => {
        r#"{
  "id": 108439142400001,
  "account": "li.wei",
  "nickname": "Li Wei",
  "email": "li.wei@example.com",
  "phone": "+8613800138000",
  "created_ts": 1761901200000
}"#
    };
}

#[test]
fn ice_servers_match_their_fixture() {
    check(
        r#"{
  "ice_servers": [
    {
      "urls": ["stun:203.0.113.7:3478"]
    },
    {
      "urls": ["turn:203.0.113.7:3478?transport=udp"],
      "username": "1761922800:108439142400001",
      "credential": "yc5n1Y7Hg3l0Ss8I2XvQh3w2Z0Q="
    }
  ],
  "expires_at": 1761922800000
}"#,
        &IceServers {
            ice_servers: vec![
                IceServer {
                    urls: vec!["stun:203.0.113.7:3478".into()],
                    username: None,
                    credential: None,
                },
                IceServer {
                    urls: vec!["turn:203.0.113.7:3478?transport=udp".into()],
                    username: Some("1761922800:108439142400001".into()),
                    credential: Some("yc5n1Y7Hg3l0Ss8I2XvQh3w2Z0Q=".into()),
                },
            ],
            expires_at: 1761922800000,
        },
    );
}

#[test]
fn rest_bodies_match_their_fixtures() {
    check(
        r#"{
  "code": "bad_credentials",
  "message": "wrong account name or password"
}"#,
        &ErrorBody::new(ErrorCode::BadCredentials, "wrong account name or password"),
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
            problems: vec![],
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
    check(li_profile_json!(), &li_profile());
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
        concat!(
            r#"{
  "access_token": "MTA4NDM5MTQyNDAwMDAxLjEwODQ2MDAwMTIzMDg0OC4xNzYyMTY3NjAwMDAw.xH1sYq1eXJuQl_9H1Y9W9ytug14fY4A_kSqdQ_-S2Kg",
  "access_expires_ts": 1762167600000,
  "refresh_token": "108460001230848.npmK64i0_9micINABWUsAr7Q-sY-8Pp2KXMtMZl9-0w",
  "refresh_expires_ts": 1764756000000,
  "device_id": "li-laptop-7f3a",
  "profile": "#,
            li_profile_json!(),
            r#"
}"#
        ),
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
        concat!(
            r#"{
  "access_token": "MTA4NDM5MTQyNDAwMDAxLjEwODQ2MDAwMTIzMDg0OC4xNzYyMTcxMjAwMDAw.gpdh5zg5_jr9PUWzhcLPoUACMOdtE8xrWKq8jTbkgtI",
  "access_expires_ts": 1762171200000,
  "refresh_token": "108460001230848.shhqfwGNv7jGhNWvnYlpsLwaxVnKNLURobnKF3Vj5HQ",
  "refresh_expires_ts": 1764759600000,
  "device_id": "li-laptop-7f3a",
  "profile": "#,
            li_profile_json!(),
            r#"
}"#
        ),
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
        concat!(
            r#"{
  "incoming": ["#,
            sam_request_json!("pending"),
            r#"],
  "outgoing": []
}"#
        ),
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
        sam_request_json!("pending"),
        &sam_request(RequestStatus::Pending),
    );
    check(
        sam_request_json!("accepted"),
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
    check(new_group_json!(), &new_group());
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
        concat!(
            r#"{
  "conversations": "#,
            conversation_states_json!(),
            r#"
}"#
        ),
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

#[test]
fn version_2_reads_match_the_document() {
    use natter_proto::rest::{ReadCursor, Reads};
    check(
        r#"{
  "conversation": 108453710000128,
  "reads": [
    {
      "user": 108439142400001,
      "seq": 57
    },
    {
      "user": 108439146594305,
      "seq": 55
    },
    {
      "user": 108439150788609,
      "seq": 0
    }
  ]
}"#,
        &Reads {
            conversation: GROUP,
            reads: vec![
                ReadCursor { user: LI, seq: 57 },
                ReadCursor { user: ANA, seq: 55 },
                ReadCursor { user: SAM, seq: 0 },
            ],
        },
    );
}
