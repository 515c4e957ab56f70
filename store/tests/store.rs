//! The local database against a real redb file in a temp dir.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use natter_proto::event::{Event, EventBody};
use natter_proto::model::*;
use natter_store::model::{PreviewKind, preview_of};
use natter_store::{OutboxState, Store};

const ME: UserId = UserId(1);
const PEER: UserId = UserId(2);
const CONV: ConversationId = ConversationId(100);

fn user(id: u64, nick: &str) -> UserSummary {
    UserSummary {
        id: UserId(id),
        account: format!("u{id}"),
        nickname: nick.into(),
        avatar: None,
    }
}

fn msg(seq: u64, sender: UserId, body: MessageBody) -> Message {
    Message {
        conversation: CONV,
        seq,
        sender,
        client_id: format!("c{seq}"),
        ts: 1_000 + seq as i64,
        body,
        reply_to: None,
        edited_ts: None,
        reactions: Default::default(),
        extras: Default::default(),
    }
}

fn text(seq: u64, sender: UserId, t: &str) -> Message {
    msg(seq, sender, MessageBody::Text { text: t.into() })
}

async fn befriended(store: &Store) {
    let friend = Friend {
        user: user(2, "Peer"),
        conversation: CONV,
        since_ts: 1,
    };
    let ev = Event {
        seq: 1,
        ts: 1,
        body: EventBody::FriendAdded {
            request_id: 9,
            friend,
        },
    };
    store.apply_events(ME, vec![ev]).await.unwrap();
}

#[tokio::test]
async fn out_of_order_and_duplicate_messages_settle_into_one_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    befriended(&store).await;
    let applied = store
        .apply_messages(
            ME,
            CONV,
            vec![
                text(3, PEER, "three"),
                text(1, PEER, "one"),
                text(5, PEER, "five"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(applied.new.len(), 3);
    let c = applied.conversation.unwrap();
    assert_eq!((c.held_seq, c.last_seq, c.unread), (1, 5, 3));
    assert_eq!(c.title, "Peer");
    assert_eq!(store.missing(CONV, 1, 5, 10).await.unwrap(), vec![2, 4]);
    let again = store
        .apply_messages(
            ME,
            CONV,
            vec![
                text(2, PEER, "two"),
                text(3, PEER, "three"),
                text(4, ME, "four"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(again.new.len(), 2, "seq 3 was a duplicate");
    let c = again.conversation.unwrap();
    assert_eq!((c.held_seq, c.unread), (5, 4));
    assert_eq!(c.last_message.unwrap().text, "five");
    let all = store.history(CONV, None, 50).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    let older = store.history(CONV, Some(4), 2).await.unwrap();
    assert_eq!(older.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![2, 3]);
    // Reading clears the unread count; cursors come from what is held.
    let c = store.mark_read(ME, CONV, 3).await.unwrap();
    assert_eq!(c.unread, 1);
    let cursors = store.cursors().await.unwrap();
    assert_eq!(cursors[0].after, 5);
}

#[tokio::test]
async fn operations_change_their_targets_and_previews() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    befriended(&store).await;
    store
        .apply_messages(
            ME,
            CONV,
            vec![text(1, PEER, "hello"), text(2, PEER, "secret")],
        )
        .await
        .unwrap();
    let a = store
        .apply_messages(
            ME,
            CONV,
            vec![
                msg(3, PEER, MessageBody::Recall { target: 2 }),
                msg(
                    4,
                    PEER,
                    MessageBody::Edit {
                        target: 1,
                        text: "hello world".into(),
                    },
                ),
                msg(
                    5,
                    ME,
                    MessageBody::Reaction {
                        target: 1,
                        emoji: "❤".into(),
                        add: true,
                    },
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(a.updated.len(), 3);
    let c = a.conversation.unwrap();
    let last = c.last_message.unwrap();
    assert_eq!(last.text, "[recalled]");
    assert_eq!(last.kind, PreviewKind::Recalled);
    assert_eq!(c.unread, 2, "operations are not unread messages");
    let h = store.history(CONV, None, 10).await.unwrap();
    assert_eq!(
        h[0].body,
        MessageBody::Text {
            text: "hello world".into()
        }
    );
    assert_eq!(h[0].reactions["❤"], vec![ME]);
    assert_eq!(h[1].body, MessageBody::Recalled);
    assert!(
        store.search("secret", None, 10).await.unwrap().is_empty(),
        "recalled text is not found"
    );
    assert_eq!(
        store.search("WORLD", None, 10).await.unwrap().len(),
        1,
        "edited text is found"
    );
}

#[tokio::test]
async fn search_finds_chinese_and_english_substrings() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    befriended(&store).await;
    let other = ConversationId(200);
    let mut batch = Vec::new();
    for i in 1..=3000u64 {
        let t = match i % 3 {
            0 => format!("第{i}条消息:我们明天去爬山吧"),
            1 => format!("Meeting notes #{i}: ship the Relay"),
            _ => format!("filler {i}"),
        };
        batch.push(text(i, PEER, &t));
    }
    store.apply_messages(ME, CONV, batch).await.unwrap();
    let mut o = text(1, PEER, "爬山 in another chat");
    o.conversation = other;
    store.apply_messages(ME, other, vec![o]).await.unwrap();

    let hits = store.search("爬山", None, 5).await.unwrap();
    assert_eq!(hits.len(), 5);
    assert_eq!(hits[0].conversation, other, "newest first");
    let hits = store.search("明天去", Some(CONV), 2000).await.unwrap();
    assert_eq!(hits.len(), 1000);
    assert!(hits.windows(2).all(|w| w[0].seq > w[1].seq));
    assert_eq!(
        store.search("relay", None, 10_000).await.unwrap().len(),
        1000
    );
    assert_eq!(
        store.search("notes #2998", None, 10).await.unwrap()[0].seq,
        2998
    );
    assert!(
        store
            .search("no such words", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.search("  ", None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn outbox_keeps_order_and_settles_when_the_message_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    befriended(&store).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let e = store
            .enqueue(
                CONV,
                MessageBody::Text {
                    text: format!("o{i}"),
                },
                None,
            )
            .await
            .unwrap();
        ids.push(e.client_id);
    }
    let outbox = store.outbox().await.unwrap();
    assert_eq!(
        outbox
            .iter()
            .map(|e| e.client_id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    store
        .outbox_failed(CONV, ids[1].clone(), "too_large".into())
        .await
        .unwrap();
    assert!(matches!(
        store.outbox().await.unwrap()[1].state,
        OutboxState::Failed { .. }
    ));
    store.outbox_retry(CONV, ids[1].clone()).await.unwrap();
    assert_eq!(store.outbox().await.unwrap()[1].state, OutboxState::Sending);
    // The relay's copy of message 0 arrives (ack lost, seen via catch-up).
    let mut m = text(1, ME, "o0");
    m.client_id = ids[0].clone();
    let a = store.apply_messages(ME, CONV, vec![m]).await.unwrap();
    assert_eq!(a.settled, vec![ids[0].clone()]);
    assert_eq!(store.outbox().await.unwrap().len(), 19);
}

#[tokio::test]
async fn events_build_contacts_groups_and_requests() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let req = FriendRequest {
        id: 5,
        from: user(3, "Three"),
        to: user(1, "Me"),
        message: "hi".into(),
        status: RequestStatus::Pending,
        ts: 10,
    };
    let g = Group {
        id: ConversationId(300),
        name: "徒步".into(),
        announcement: String::new(),
        owner: UserId(3),
        created_ts: 1,
        members: vec![
            Member {
                user: user(3, "Three"),
                role: Role::Owner,
                joined_ts: 1,
            },
            Member {
                user: user(1, "Me"),
                role: Role::Member,
                joined_ts: 1,
            },
        ],
    };
    let events = vec![
        Event {
            seq: 1,
            ts: 1,
            body: EventBody::FriendRequestReceived { request: req },
        },
        Event {
            seq: 2,
            ts: 2,
            body: EventBody::GroupJoined {
                group: g.clone(),
                by: UserId(3),
                first_seq: 1,
            },
        },
        Event {
            seq: 3,
            ts: 3,
            body: EventBody::GroupUpdated {
                group: g.id,
                name: "周末徒步".into(),
                announcement: "8点集合".into(),
                by: UserId(3),
            },
        },
    ];
    store.apply_events(ME, events.clone()).await.unwrap();
    // Replaying is harmless: the cursor skips what was applied.
    store.apply_events(ME, events).await.unwrap();
    assert_eq!(store.events_seq().await.unwrap(), 3);
    assert_eq!(
        store.friend_requests().await.unwrap()[0].status,
        RequestStatus::Pending
    );
    let convs = store.conversations().await.unwrap();
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].title, "周末徒步");
    assert_eq!(
        store.group(g.id).await.unwrap().unwrap().announcement,
        "8点集合"
    );
    store
        .apply_events(
            ME,
            vec![Event {
                seq: 4,
                ts: 4,
                body: EventBody::GroupDisbanded {
                    group: g.id,
                    by: UserId(3),
                },
            }],
        )
        .await
        .unwrap();
    assert!(store.group(g.id).await.unwrap().is_none());
    assert!(store.conversation(g.id).await.unwrap().unwrap().closed);
    // Pin, mute, draft and settings persist.
    store.set_pinned(g.id, true).await.unwrap();
    store.set_draft(g.id, "未完".into()).await.unwrap();
    store.set_setting("language", &"zh-CN").await.unwrap();
    let c = store.conversation(g.id).await.unwrap().unwrap();
    assert!(c.pinned);
    assert_eq!(c.draft, "未完");
    assert_eq!(
        store
            .setting::<String>("language")
            .await
            .unwrap()
            .as_deref(),
        Some("zh-CN")
    );
}

#[tokio::test]
async fn profiles_never_share_a_database() {
    let base = tempfile::tempdir().unwrap();
    let a = Store::open(natter_store::profile_dir(base.path(), "alice"))
        .await
        .unwrap();
    let b = Store::open(natter_store::profile_dir(base.path(), "bob"))
        .await
        .unwrap();
    assert_ne!(a.path(), b.path());
    a.set_setting("who", &"alice").await.unwrap();
    assert_eq!(b.setting::<String>("who").await.unwrap(), None);
    assert_ne!(
        natter_store::profile_dir(base.path(), "../x"),
        natter_store::profile_dir(base.path(), "x/..")
    );
    assert!(natter_store::profile_dir(base.path(), "../x").starts_with(base.path()));
}

/// Run as a child process by `committed_data_survives_kill_9`: writes batches
/// and reports each commit on stdout until it is killed.
#[tokio::test]
#[ignore = "helper process for committed_data_survives_kill_9"]
async fn child_writer() {
    let Ok(dir) = std::env::var("NATTER_STORE_CHILD_DIR") else {
        return;
    };
    let store = Store::open(dir).await.unwrap();
    befriended(&store).await;
    for batch in 0u64.. {
        let msgs = (1..=10)
            .map(|i| text(batch * 10 + i, PEER, &format!("m{}", batch * 10 + i)))
            .collect();
        store.apply_messages(ME, CONV, msgs).await.unwrap();
        println!("committed {}", batch * 10 + 10);
    }
}

#[test]
fn committed_data_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NATTER_STORE_CHILD_DIR", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut committed = 0;
    while let Some(Ok(line)) = lines.next() {
        if let Some(n) = line.strip_prefix("committed ") {
            committed = n.trim().parse().unwrap();
            if committed >= 300 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(committed >= 300);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(dir.path()).await.unwrap();
        let c = store.conversation(CONV).await.unwrap().unwrap();
        assert!(
            c.held_seq >= committed,
            "held {} < committed {committed}",
            c.held_seq
        );
        let h = store
            .messages(CONV, 1, committed, usize::MAX, false)
            .await
            .unwrap();
        assert_eq!(h.len() as u64, committed);
    });
}

#[test]
fn previews_keep_the_kind_so_text_that_looks_like_a_label_stays_text() {
    let text = |t: &str| MessageBody::Text { text: t.into() };
    assert_eq!(
        preview_of(&text("[image]")),
        Some((PreviewKind::Text, "[image]".into()))
    );
    assert_eq!(
        preview_of(&text("[file] plan.txt")),
        Some((PreviewKind::Text, "[file] plan.txt".into()))
    );
    let file = FileRef {
        id: "ab12".into(),
        name: "plan.txt".into(),
        size: 52,
        mime: "text/plain".into(),
    };
    assert_eq!(
        preview_of(&MessageBody::File { file }),
        Some((PreviewKind::File, "plan.txt".into()))
    );
    assert_eq!(preview_of(&MessageBody::Recall { target: 1 }), None);
}

#[cfg(unix)]
#[tokio::test]
async fn the_store_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("profile");
    let store = Store::open(&dir).await.unwrap();
    drop(store);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("natter.redb")), 0o600);
    // A file left readable by others (an older version) is closed up on open.
    std::fs::set_permissions(
        dir.join("natter.redb"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let _store = Store::open(&dir).await.unwrap();
    assert_eq!(mode(&dir.join("natter.redb")), 0o600);
}
