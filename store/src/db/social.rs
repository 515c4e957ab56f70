//! Account events: friends, friend requests, groups, conversation states.

use natter_proto::event::{Event, EventBody};
use natter_proto::model::{
    ConversationId, ConversationKind, ConversationState, Friend, FriendRequest, Group,
    RequestStatus, Role, UserId, UserSummary,
};
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::messages::{load_conversation, save_conversation, set_read_from_relay};
use crate::model::Conversation;
use crate::tables::*;
use crate::{Result, dec, enc, now_ms, read_all};

type Json = TableDefinition<'static, u64, &'static [u8]>;

pub fn get<T: DeserializeOwned>(txn: &ReadTransaction, table: Json, id: u64) -> Result<Option<T>> {
    let t = txn.open_table(table)?;
    t.get(id)?.map(|v| dec(v.value())).transpose()
}

pub fn all<T: DeserializeOwned>(txn: &ReadTransaction, table: Json) -> Result<Vec<T>> {
    read_all(&txn.open_table(table)?)
}

fn put<T: Serialize>(txn: &WriteTransaction, table: Json, id: u64, v: &T) -> Result<()> {
    txn.open_table(table)?.insert(id, enc(v)?.as_slice())?;
    Ok(())
}

fn take<T: DeserializeOwned>(txn: &WriteTransaction, table: Json, id: u64) -> Result<Option<T>> {
    let t = txn.open_table(table)?;
    t.get(id)?.map(|v| dec(v.value())).transpose()
}

fn remember(txn: &WriteTransaction, user: &UserSummary) -> Result<()> {
    put(txn, USERS, user.id.0, user)
}

fn nickname(txn: &WriteTransaction, id: UserId) -> Result<String> {
    Ok(take::<UserSummary>(txn, USERS, id.0)?
        .map(|u| u.nickname)
        .unwrap_or_default())
}

fn upsert_conversation(
    txn: &WriteTransaction,
    id: ConversationId,
    kind: ConversationKind,
    title: String,
) -> Result<()> {
    let mut c = load_conversation(txn, id)?
        .unwrap_or_else(|| Conversation::new(id, kind.clone(), title.clone(), now_ms()));
    c.kind = kind;
    c.title = title;
    c.closed = false;
    save_conversation(txn, &c)
}

fn close_conversation(txn: &WriteTransaction, id: ConversationId) -> Result<()> {
    if let Some(mut c) = load_conversation(txn, id)? {
        c.closed = true;
        save_conversation(txn, &c)?;
    }
    Ok(())
}

fn set_title(txn: &WriteTransaction, id: ConversationId, title: &str) -> Result<()> {
    if let Some(mut c) = load_conversation(txn, id)? {
        c.title = title.to_string();
        save_conversation(txn, &c)?;
    }
    Ok(())
}

fn edit_group(
    txn: &WriteTransaction,
    id: ConversationId,
    f: impl FnOnce(&mut Group),
) -> Result<()> {
    if let Some(mut g) = take::<Group>(txn, GROUPS, id.0)? {
        f(&mut g);
        put(txn, GROUPS, id.0, &g)?;
    }
    Ok(())
}

fn leave_group(txn: &WriteTransaction, id: ConversationId) -> Result<()> {
    txn.open_table(GROUPS)?.remove(id.0)?;
    close_conversation(txn, id)
}

fn add_friend(txn: &WriteTransaction, friend: &Friend) -> Result<()> {
    remember(txn, &friend.user)?;
    put(txn, FRIENDS, friend.user.id.0, friend)?;
    upsert_conversation(
        txn,
        friend.conversation,
        ConversationKind::Direct {
            peer: friend.user.id,
        },
        friend.user.nickname.clone(),
    )
}

fn add_group(txn: &WriteTransaction, group: &Group) -> Result<()> {
    for m in &group.members {
        remember(txn, &m.user)?;
    }
    put(txn, GROUPS, group.id.0, group)?;
    upsert_conversation(
        txn,
        group.id,
        ConversationKind::Group {
            name: group.name.clone(),
        },
        group.name.clone(),
    )
}

pub fn apply_events(txn: &WriteTransaction, me: UserId, events: &[Event]) -> Result<()> {
    let mut cursor = txn
        .open_table(META)?
        .get("events_seq")?
        .map(|v| v.value())
        .unwrap_or(0);
    for event in events {
        if event.seq <= cursor {
            continue;
        }
        cursor = event.seq;
        apply_one(txn, me, &event.body)?;
    }
    txn.open_table(META)?.insert("events_seq", cursor)?;
    Ok(())
}

fn apply_one(txn: &WriteTransaction, me: UserId, body: &EventBody) -> Result<()> {
    match body {
        EventBody::FriendRequestReceived { request } | EventBody::FriendRequestSent { request } => {
            remember(txn, &request.from)?;
            remember(txn, &request.to)?;
            put(txn, REQUESTS, request.id, request)?;
        }
        EventBody::FriendAdded { request_id, friend } => {
            set_request_status(txn, *request_id, RequestStatus::Accepted)?;
            add_friend(txn, friend)?;
        }
        EventBody::FriendRequestRejected { request_id, .. } => {
            set_request_status(txn, *request_id, RequestStatus::Rejected)?;
        }
        EventBody::FriendRemoved { user, conversation } => {
            txn.open_table(FRIENDS)?.remove(user.0)?;
            close_conversation(txn, *conversation)?;
        }
        EventBody::GroupJoined {
            group, first_seq, ..
        } => {
            add_group(txn, group)?;
            if let Some(mut c) = load_conversation(txn, group.id)? {
                c.first_seq = (*first_seq).max(1);
                c.held_seq = c.held_seq.max(c.first_seq - 1);
                save_conversation(txn, &c)?;
            }
        }
        EventBody::GroupMembersAdded { group, members, .. } => {
            for m in members {
                remember(txn, &m.user)?;
            }
            edit_group(txn, *group, |g| {
                for m in members {
                    if !g.members.iter().any(|x| x.user.id == m.user.id) {
                        g.members.push(m.clone());
                    }
                }
            })?;
        }
        EventBody::GroupMemberLeft { group, user, owner } => {
            if *user == me {
                leave_group(txn, *group)?;
            } else {
                edit_group(txn, *group, |g| {
                    g.members.retain(|m| m.user.id != *user);
                    g.owner = *owner;
                    for m in &mut g.members {
                        if m.user.id == *owner {
                            m.role = Role::Owner;
                        }
                    }
                })?;
            }
        }
        EventBody::GroupMemberRemoved { group, user, .. } => {
            if *user == me {
                leave_group(txn, *group)?;
            } else {
                edit_group(txn, *group, |g| g.members.retain(|m| m.user.id != *user))?;
            }
        }
        EventBody::GroupUpdated {
            group,
            name,
            announcement,
            ..
        } => {
            edit_group(txn, *group, |g| {
                g.name = name.clone();
                g.announcement = announcement.clone();
            })?;
            if let Some(mut c) = load_conversation(txn, *group)? {
                c.title = name.clone();
                c.kind = ConversationKind::Group { name: name.clone() };
                save_conversation(txn, &c)?;
            }
        }
        EventBody::GroupRoleChanged { group, user, role } => {
            edit_group(txn, *group, |g| {
                for m in &mut g.members {
                    if m.user.id == *user {
                        m.role = *role;
                    }
                }
                if *role == Role::Owner {
                    g.owner = *user;
                }
            })?;
        }
        EventBody::GroupDisbanded { group, .. } => leave_group(txn, *group)?,
        EventBody::ProfileUpdated { user } => {
            remember(txn, user)?;
            if let Some(mut f) = take::<Friend>(txn, FRIENDS, user.id.0)? {
                f.user = user.clone();
                put(txn, FRIENDS, user.id.0, &f)?;
                set_title(txn, f.conversation, &user.nickname)?;
            }
            if user.id == me {
                let acc: Option<crate::Account> = {
                    let t = txn.open_table(ACCOUNT)?;
                    t.get("account")?.map(|v| dec(v.value())).transpose()?
                };
                if let Some(mut acc) = acc {
                    acc.profile.user = user.clone();
                    txn.open_table(ACCOUNT)?
                        .insert("account", enc(&acc)?.as_slice())?;
                }
            }
        }
    }
    Ok(())
}

fn set_request_status(txn: &WriteTransaction, id: u64, status: RequestStatus) -> Result<()> {
    if let Some(mut r) = take::<FriendRequest>(txn, REQUESTS, id)? {
        r.status = status;
        put(txn, REQUESTS, id, &r)?;
    }
    Ok(())
}

pub fn apply_states(
    txn: &WriteTransaction,
    me: UserId,
    states: &[ConversationState],
) -> Result<()> {
    let known: Vec<u64> = {
        let t = txn.open_table(CONVERSATIONS)?;
        t.iter()?
            .map(|i| i.map(|(k, _)| k.value()))
            .collect::<Result<_, _>>()?
    };
    for s in states {
        let title = match &s.kind {
            ConversationKind::Direct { peer } => nickname(txn, *peer)?,
            ConversationKind::Group { name } => name.clone(),
        };
        let mut c = load_conversation(txn, s.id)?
            .unwrap_or_else(|| Conversation::new(s.id, s.kind.clone(), title.clone(), now_ms()));
        c.kind = s.kind.clone();
        if !title.is_empty() {
            c.title = title;
        }
        c.last_seq = c.last_seq.max(s.last_seq);
        c.first_seq = s.first_seq.max(1);
        c.held_seq = c.held_seq.max(c.first_seq - 1);
        if let Some(p) = s.peer_read_seq {
            c.peer_read_seq = Some(c.peer_read_seq.unwrap_or(0).max(p));
        }
        c.closed = false;
        set_read_from_relay(txn, me, &mut c, s.read_seq)?;
        save_conversation(txn, &c)?;
    }
    for id in known {
        if !states.iter().any(|s| s.id.0 == id) {
            close_conversation(txn, ConversationId(id))?;
        }
    }
    Ok(())
}

pub fn conversations(txn: &ReadTransaction) -> Result<Vec<Conversation>> {
    let mut v: Vec<Conversation> = read_all(&txn.open_table(CONVERSATIONS)?)?;
    v.sort_by(|a, b| {
        b.pinned
            .cmp(&a.pinned)
            .then(b.updated_ts.cmp(&a.updated_ts))
            .then(a.id.cmp(&b.id))
    });
    Ok(v)
}

pub fn conversation(txn: &ReadTransaction, id: ConversationId) -> Result<Option<Conversation>> {
    get(txn, CONVERSATIONS, id.0)
}

pub fn replace(
    txn: &WriteTransaction,
    friends: &[Friend],
    requests: &[FriendRequest],
    groups: &[Group],
) -> Result<()> {
    txn.open_table(FRIENDS)?.retain(|_, _| false)?;
    for f in friends {
        add_friend(txn, f)?;
    }
    for r in requests {
        remember(txn, &r.from)?;
        remember(txn, &r.to)?;
        put(txn, REQUESTS, r.id, r)?;
    }
    txn.open_table(GROUPS)?.retain(|_, _| false)?;
    for g in groups {
        add_group(txn, g)?;
    }
    Ok(())
}
