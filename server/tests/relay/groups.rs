use std::time::Duration;

use natter_proto::ErrorCode;
use natter_proto::event::EventBody;
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::{Group, Role};
use natter_proto::rest::{CreateGroup, Groups, InviteMembers, SetRole, UpdateGroup};

use crate::support::*;

struct Crew {
    t: TestRelay,
    owner: User,
    a: User,
    b: User,
    c: User,
}

async fn crew() -> Crew {
    let t = TestRelay::start().await;
    let owner = t.user("olga").await;
    let a = t.user("abe").await;
    let b = t.user("bea").await;
    let c = t.user("cal").await;
    for u in [&a, &b, &c] {
        t.befriend(&owner, u).await;
    }
    Crew { t, owner, a, b, c }
}

#[tokio::test]
async fn create_invite_and_everyone_is_told() {
    let Crew { t, owner, a, b, c } = crew().await;
    let mut wa = t.ws(&a).await;
    let mut wc = t.ws(&c).await;
    let g: Group = t
        .post(
            &owner,
            "/v1/groups",
            &CreateGroup {
                name: "周末徒步".into(),
                members: vec![a.id, b.id],
            },
        )
        .await
        .unwrap();
    assert_eq!(g.members.len(), 3);
    assert_eq!(g.owner, owner.id);
    assert_eq!(g.members[0].role, Role::Owner);
    match wa.event().await.body {
        EventBody::GroupJoined {
            group,
            by,
            first_seq,
        } => {
            assert_eq!(first_seq, 1);
            assert_eq!(group.id, g.id);
            assert_eq!(group.name, "周末徒步");
            assert_eq!(by, owner.id);
        }
        other => panic!("{other:?}"),
    }
    // Messages reach members, not outsiders.
    let mut wo = t.ws(&owner).await;
    assert_eq!(wo.send_text(g.id, "出发!").await.unwrap(), 1);
    assert_eq!(text(&wa.message().await), "出发!");
    wc.assert_quiet(Duration::from_millis(100), |f| {
        matches!(f, ServerFrame::Message { .. })
    })
    .await;

    // Invite c: c gets the group and member list, the others are told.
    let g2: Group = t
        .post(
            &owner,
            &format!("/v1/groups/{}/members", g.id),
            &InviteMembers { users: vec![c.id] },
        )
        .await
        .unwrap();
    assert_eq!(g2.members.len(), 4);
    match wc.event().await.body {
        EventBody::GroupJoined {
            group, first_seq, ..
        } => {
            assert_eq!(group.members.len(), 4);
            assert_eq!(first_seq, 2, "one message was sent before the invitation");
        }
        other => panic!("{other:?}"),
    }
    match wa.event().await.body {
        EventBody::GroupMembersAdded { members, .. } => {
            assert_eq!(members.len(), 1);
            assert_eq!(members[0].user.id, c.id);
        }
        other => panic!("{other:?}"),
    }
    // The newcomer sees messages from when they joined, not before.
    let (history, _) = wc.history(g.id, None, None, None).await.unwrap();
    assert!(history.is_empty());
    wo.send_text(g.id, "欢迎").await.unwrap();
    assert_eq!(text(&wc.message().await), "欢迎");
    let (history, _) = wc.history(g.id, None, None, None).await.unwrap();
    assert_eq!(history.len(), 1);
    let synced = wc.sync(0, vec![]).await;
    assert_eq!(synced.messages.get(&g.id).map(Vec::len), Some(1));
    let groups: Groups = t.get(&c, "/v1/groups").await.unwrap();
    assert_eq!(groups.groups.len(), 1);
}

#[tokio::test]
async fn non_members_can_neither_send_nor_read() {
    let Crew { t, owner, a, c, .. } = crew().await;
    let g: Group = t
        .post(
            &owner,
            "/v1/groups",
            &CreateGroup {
                name: "inner".into(),
                members: vec![a.id],
            },
        )
        .await
        .unwrap();
    let mut wc = t.ws(&c).await;
    assert_eq!(
        wc.send_text(g.id, "let me in").await.unwrap_err().code,
        ErrorCode::NotMember
    );
    assert_eq!(
        wc.history(g.id, None, None, None).await.unwrap_err().code,
        ErrorCode::NotMember
    );
    wc.send(&ClientFrame::Read {
        conversation: g.id,
        seq: 1,
        rid: None,
    })
    .await;
    assert_eq!(wc.error().await.code, ErrorCode::NotMember);
    wc.send(&ClientFrame::Typing {
        conversation: g.id,
        rid: None,
    })
    .await;
    assert_eq!(wc.error().await.code, ErrorCode::NotMember);
    let err = t
        .get::<Group>(&c, &format!("/v1/groups/{}", g.id))
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::NotMember);
    let err = t
        .get::<serde_json::Value>(&c, &format!("/v1/conversations/{}/messages", g.id))
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::NotMember);
    let s = wc.sync(0, vec![]).await;
    assert!(!s.messages.contains_key(&g.id));
    // Inviting non-friends is refused: a is not c's friend.
    let err = t
        .post::<_, Group>(
            &a,
            &format!("/v1/groups/{}/members", g.id),
            &InviteMembers { users: vec![c.id] },
        )
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::NotFriends);
}

#[tokio::test]
async fn leave_remove_rename_roles_disband() {
    let Crew { t, owner, a, b, c } = crew().await;
    let g: Group = t
        .post(
            &owner,
            "/v1/groups",
            &CreateGroup {
                name: "team".into(),
                members: vec![a.id, b.id, c.id],
            },
        )
        .await
        .unwrap();
    let path = format!("/v1/groups/{}", g.id);
    let mut wb = t.ws(&b).await;

    // Members cannot rename; the owner can, and everyone is told.
    let err = t
        .patch::<_, Group>(
            &a,
            &path,
            &UpdateGroup {
                name: Some("mine".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::Forbidden);
    let g2: Group = t
        .patch(
            &owner,
            &path,
            &UpdateGroup {
                name: Some("core team".into()),
                announcement: Some("standup 10:00".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(g2.name, "core team");
    assert!(
        matches!(wb.event().await.body, EventBody::GroupUpdated { ref announcement, .. } if announcement == "standup 10:00")
    );

    // Roles: a becomes admin and may then remove ordinary members but not the owner.
    let _: Group = t
        .put(
            &owner,
            &format!("{path}/members/{}/role", a.id),
            &SetRole { role: Role::Admin },
        )
        .await
        .unwrap();
    assert!(matches!(
        wb.event().await.body,
        EventBody::GroupRoleChanged {
            role: Role::Admin,
            ..
        }
    ));
    let err = t
        .delete(&a, &format!("{path}/members/{}", owner.id))
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::Forbidden);
    let err = t
        .delete(&b, &format!("{path}/members/{}", c.id))
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::Forbidden);
    t.delete(&a, &format!("{path}/members/{}", c.id))
        .await
        .unwrap();
    assert!(
        matches!(wb.event().await.body, EventBody::GroupMemberRemoved { user, .. } if user == c.id)
    );
    let mut wc = t.ws(&c).await;
    assert_eq!(
        wc.send_text(g.id, "still here?").await.unwrap_err().code,
        ErrorCode::NotMember
    );
    let s = wc.sync(0, vec![]).await;
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e.body, EventBody::GroupMemberRemoved { user, .. } if user == c.id))
    );

    // b leaves.
    t.call::<(), ()>(
        reqwest::Method::POST,
        Some(&b.token),
        &format!("{path}/leave"),
        None,
    )
    .await
    .unwrap();
    assert!(
        matches!(wb.event().await.body, EventBody::GroupMemberLeft { user, .. } if user == b.id)
    );
    let g3: Group = t.get(&owner, &path).await.unwrap();
    assert_eq!(g3.members.len(), 2);

    // The owner leaving hands the group to the admin.
    let mut wa = t.ws(&a).await;
    t.call::<(), ()>(
        reqwest::Method::POST,
        Some(&owner.token),
        &format!("{path}/leave"),
        None,
    )
    .await
    .unwrap();
    match wa.event().await.body {
        EventBody::GroupMemberLeft {
            user, owner: heir, ..
        } => {
            assert_eq!(user, owner.id);
            assert_eq!(heir, a.id);
        }
        other => panic!("{other:?}"),
    }
    let g4: Group = t.get(&a, &path).await.unwrap();
    assert_eq!(g4.owner, a.id);

    // Disband: only the owner; afterwards the group is gone.
    wa.send_text(g.id, "last words").await.unwrap();
    t.delete(&a, &path).await.unwrap();
    assert!(matches!(
        wa.event().await.body,
        EventBody::GroupDisbanded { .. }
    ));
    let err = t.get::<Group>(&a, &path).await.unwrap_err();
    assert_eq!(err.1.code, ErrorCode::NotFound);
    assert_eq!(
        wa.send_text(g.id, "echo?").await.unwrap_err().code,
        ErrorCode::NotFound
    );
    assert!(
        t.relay
            .service
            .storage
            .messages(g.id, 0, u64::MAX, 10, false)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn disband_is_owner_only_and_told_to_offline_members() {
    let Crew { t, owner, a, b, .. } = crew().await;
    let g: Group = t
        .post(
            &owner,
            "/v1/groups",
            &CreateGroup {
                name: "short-lived".into(),
                members: vec![a.id, b.id],
            },
        )
        .await
        .unwrap();
    let path = format!("/v1/groups/{}", g.id);
    assert_eq!(
        t.delete(&a, &path).await.unwrap_err().1.code,
        ErrorCode::Forbidden
    );
    t.delete(&owner, &path).await.unwrap();
    let mut wb = t.ws(&b).await;
    let s = wb.sync(0, vec![]).await;
    let kinds: Vec<bool> = s
        .events
        .iter()
        .map(|e| matches!(e.body, EventBody::GroupDisbanded { .. }))
        .collect();
    assert_eq!(kinds.last(), Some(&true));
    assert!(s.conversations.iter().all(|c| c.id != g.id));
}

#[tokio::test]
async fn profile_changes_reach_fellow_members_who_are_not_friends() {
    let Crew { t, owner, a, b, c } = crew().await;
    // abe and bea are both the owner's friends, not each other's; cal is in
    // no group with abe.
    let _: Group = t
        .post(
            &owner,
            "/v1/groups",
            &CreateGroup {
                name: "Crag".into(),
                members: vec![a.id, b.id],
            },
        )
        .await
        .unwrap();
    let mut wb = t.ws(&b).await;
    let mut wc = t.ws(&c).await;
    let patch = natter_proto::rest::UpdateProfile {
        nickname: Some("Abe the climber".into()),
        ..Default::default()
    };
    let _: natter_proto::model::Profile = t.patch(&a, "/v1/me", &patch).await.unwrap();
    let seen = wb
        .wait_for("profile", |f| {
            matches!(f, ServerFrame::Event { event } if matches!(&event.body, EventBody::ProfileUpdated { user } if user.id == a.id))
        })
        .await;
    let ServerFrame::Event { event } = seen else {
        unreachable!()
    };
    assert!(
        matches!(event.body, EventBody::ProfileUpdated { user } if user.nickname == "Abe the climber")
    );
    wc.assert_quiet(Duration::from_millis(300), |f| {
        matches!(f, ServerFrame::Event { event } if matches!(&event.body, EventBody::ProfileUpdated { .. }))
    })
    .await;
}
