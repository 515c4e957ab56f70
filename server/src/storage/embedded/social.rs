//! Friend requests, friendships, conversations and group membership.

use natter_proto::ErrorCode;
use natter_proto::event::EventBody;
use natter_proto::model::{ConversationId, RequestStatus, Role, UserId};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::tables::*;
use super::{append_events, dec, enc};
use crate::error::{Error, Result};
use crate::storage::{
    Appends, ConversationKind, ConversationRecord, EventsFn, FriendshipRecord, GroupChange,
    MemberRecord, RequestRecord, Resolution,
};

pub fn request(txn: &ReadTransaction, id: u64) -> Result<Option<RequestRecord>> {
    let t = txn.open_table(REQUESTS)?;
    t.get(id)?.map(|v| dec(v.value())).transpose()
}

pub fn pending_requests(txn: &ReadTransaction, user: UserId) -> Result<Vec<RequestRecord>> {
    let index = txn.open_table(PENDING)?;
    let requests = txn.open_table(REQUESTS)?;
    let mut out = Vec::new();
    for item in index.range((user.0, 0)..=(user.0, u64::MAX))? {
        let (k, _) = item?;
        if let Some(v) = requests.get(k.value().1)? {
            out.push(dec(v.value())?);
        }
    }
    Ok(out)
}

pub fn create_request(
    txn: &WriteTransaction,
    request: RequestRecord,
    events: Vec<(UserId, EventBody)>,
) -> Result<(RequestRecord, Appends)> {
    if txn
        .open_table(FRIENDS)?
        .get((request.from.0, request.to.0))?
        .is_some()
    {
        return Err(Error::client(ErrorCode::AlreadyFriends, "already friends"));
    }
    let mut pending = txn.open_table(PENDING)?;
    let mut requests = txn.open_table(REQUESTS)?;
    let mut existing = None;
    for item in pending.range((request.from.0, 0)..=(request.from.0, u64::MAX))? {
        let (k, _) = item?;
        if let Some(v) = requests.get(k.value().1)? {
            let r: RequestRecord = dec(v.value())?;
            if r.from == request.from && r.to == request.to {
                existing = Some(r);
                break;
            }
        }
    }
    if let Some(r) = existing {
        return Ok((r, Vec::new()));
    }
    requests.insert(request.id, enc(&request)?.as_slice())?;
    pending.insert((request.from.0, request.id), ())?;
    pending.insert((request.to.0, request.id), ())?;
    drop((pending, requests));
    let appends = append_events(txn, events)?;
    Ok((request, appends))
}

pub fn resolve_request(
    txn: &WriteTransaction,
    resolution: Resolution,
    events: EventsFn,
) -> Result<(RequestRecord, Appends)> {
    let mut requests = txn.open_table(REQUESTS)?;
    let mut request: RequestRecord = match requests.get(resolution.request)? {
        Some(v) => dec(v.value())?,
        None => return Err(Error::not_found("no such friend request")),
    };
    if request.to != resolution.by {
        return Err(Error::not_found("no such friend request"));
    }
    if request.status != RequestStatus::Pending {
        return Err(Error::client(
            ErrorCode::InvalidState,
            "request already answered",
        ));
    }
    request.status = resolution.status;
    requests.insert(request.id, enc(&request)?.as_slice())?;
    drop(requests);
    let mut pending = txn.open_table(PENDING)?;
    pending.remove((request.from.0, request.id))?;
    pending.remove((request.to.0, request.id))?;
    drop(pending);

    let mut friendship = None;
    if resolution.status == RequestStatus::Accepted {
        let (from, to) = (request.from, request.to);
        let mut friends = txn.open_table(FRIENDS)?;
        let existing: Option<FriendshipRecord> = friends
            .get((from.0, to.0))?
            .map(|v| dec(v.value()))
            .transpose()?;
        let record = match existing {
            Some(f) => f,
            None => {
                let conversation =
                    open_direct(txn, from, to, resolution.new_conversation, resolution.ts)?;
                let record = FriendshipRecord {
                    friend: to,
                    conversation,
                    since_ts: resolution.ts,
                };
                friends.insert((from.0, to.0), enc(&record)?.as_slice())?;
                let back = FriendshipRecord {
                    friend: from,
                    ..record
                };
                friends.insert((to.0, from.0), enc(&back)?.as_slice())?;
                record
            }
        };
        friendship = Some(record);
    }
    let events = events(&request, friendship);
    let appends = append_events(txn, events)?;
    Ok((request, appends))
}

/// Opens (or reopens) the 1:1 conversation of two users.
fn open_direct(
    txn: &WriteTransaction,
    x: UserId,
    y: UserId,
    new_id: ConversationId,
    ts: i64,
) -> Result<ConversationId> {
    let (a, b) = if x < y { (x, y) } else { (y, x) };
    let mut direct = txn.open_table(DIRECT)?;
    let mut convs = txn.open_table(CONVERSATIONS)?;
    let existing = direct.get((a.0, b.0))?.map(|v| v.value());
    let id = match existing {
        Some(id) => {
            let mut conv: ConversationRecord = match convs.get(id)? {
                Some(v) => dec(v.value())?,
                None => return Err(Error::Internal("direct conversation record missing".into())),
            };
            conv.kind = ConversationKind::Direct { a, b, open: true };
            conv.version += 1;
            convs.insert(id, enc(&conv)?.as_slice())?;
            ConversationId(id)
        }
        None => {
            let conv = ConversationRecord {
                id: new_id,
                kind: ConversationKind::Direct { a, b, open: true },
                version: 1,
                created_ts: ts,
            };
            convs.insert(new_id.0, enc(&conv)?.as_slice())?;
            direct.insert((a.0, b.0), new_id.0)?;
            let mut members = txn.open_table(MEMBERS)?;
            let mut index = txn.open_table(USER_CONVERSATIONS)?;
            for user in [a, b] {
                let m = MemberRecord {
                    user,
                    role: Role::Member,
                    joined_ts: ts,
                    first_seq: 1,
                };
                members.insert((new_id.0, user.0), enc(&m)?.as_slice())?;
                index.insert((user.0, new_id.0), ())?;
            }
            new_id
        }
    };
    Ok(id)
}

pub fn friends(txn: &ReadTransaction, user: UserId) -> Result<Vec<FriendshipRecord>> {
    let t = txn.open_table(FRIENDS)?;
    let mut out = Vec::new();
    for item in t.range((user.0, 0)..=(user.0, u64::MAX))? {
        let (_, v) = item?;
        out.push(dec(v.value())?);
    }
    Ok(out)
}

pub fn remove_friend(
    txn: &WriteTransaction,
    user: UserId,
    friend: UserId,
    events: Vec<(UserId, EventBody)>,
) -> Result<Appends> {
    let mut friends = txn.open_table(FRIENDS)?;
    let record: FriendshipRecord = match friends.get((user.0, friend.0))? {
        Some(v) => dec(v.value())?,
        None => return Err(Error::client(ErrorCode::NotFriends, "not friends")),
    };
    friends.remove((user.0, friend.0))?;
    friends.remove((friend.0, user.0))?;
    drop(friends);
    let mut convs = txn.open_table(CONVERSATIONS)?;
    let conv: Option<ConversationRecord> = convs
        .get(record.conversation.0)?
        .map(|v| dec(v.value()))
        .transpose()?;
    if let Some(mut conv) = conv {
        if let ConversationKind::Direct { open, .. } = &mut conv.kind {
            *open = false;
        }
        conv.version += 1;
        convs.insert(conv.id.0, enc(&conv)?.as_slice())?;
    }
    drop(convs);
    append_events(txn, events)
}

pub fn conversation(
    txn: &ReadTransaction,
    id: ConversationId,
) -> Result<Option<ConversationRecord>> {
    let t = txn.open_table(CONVERSATIONS)?;
    t.get(id.0)?.map(|v| dec(v.value())).transpose()
}

pub fn members(txn: &ReadTransaction, id: ConversationId) -> Result<Vec<MemberRecord>> {
    let t = txn.open_table(MEMBERS)?;
    let mut out = Vec::new();
    for item in t.range((id.0, 0)..=(id.0, u64::MAX))? {
        let (_, v) = item?;
        out.push(dec(v.value())?);
    }
    Ok(out)
}

pub fn conversations_of(
    txn: &ReadTransaction,
    user: UserId,
) -> Result<Vec<(ConversationRecord, MemberRecord, u64)>> {
    let index = txn.open_table(USER_CONVERSATIONS)?;
    let convs = txn.open_table(CONVERSATIONS)?;
    let members = txn.open_table(MEMBERS)?;
    let messages = txn.open_table(MESSAGES)?;
    let mut out = Vec::new();
    for item in index.range((user.0, 0)..=(user.0, u64::MAX))? {
        let (k, _) = item?;
        let id = k.value().1;
        let (Some(c), Some(m)) = (convs.get(id)?, members.get((id, user.0))?) else {
            continue;
        };
        let last = super::messages::last_seq(&messages, id)?;
        out.push((dec(c.value())?, dec(m.value())?, last));
    }
    Ok(out)
}

pub fn change_group(txn: &WriteTransaction, change: GroupChange) -> Result<Appends> {
    let id = change.conversation.id;
    let mut convs = txn.open_table(CONVERSATIONS)?;
    let current: Option<ConversationRecord> =
        convs.get(id.0)?.map(|v| dec(v.value())).transpose()?;
    match (&current, change.expected_version) {
        (None, None) => {}
        (Some(cur), Some(v)) if cur.version == v => {}
        (None, Some(_)) => return Err(Error::not_found("no such group")),
        _ => return Err(Error::Conflict),
    }
    let mut members = txn.open_table(MEMBERS)?;
    let mut index = txn.open_table(USER_CONVERSATIONS)?;
    if change.delete {
        convs.remove(id.0)?;
        let all: Vec<u64> = members
            .range((id.0, 0)..=(id.0, u64::MAX))?
            .map(|item| item.map(|(k, _)| k.value().1))
            .collect::<Result<_, _>>()?;
        for user in all {
            members.remove((id.0, user))?;
            index.remove((user, id.0))?;
        }
        txn.open_table(MESSAGES)?
            .retain_in((id.0, 0)..=(id.0, u64::MAX), |_, _| false)?;
        txn.open_table(READS)?
            .retain_in((id.0, 0)..=(id.0, u64::MAX), |_, _| false)?;
        txn.open_table(CLIENT_IDS)?
            .retain_in((id.0, 0, "")..=(id.0, u64::MAX, ""), |_, _| false)?;
    } else {
        convs.insert(id.0, enc(&change.conversation)?.as_slice())?;
        for m in &change.upsert {
            members.insert((id.0, m.user.0), enc(m)?.as_slice())?;
            index.insert((m.user.0, id.0), ())?;
        }
        for user in &change.remove {
            members.remove((id.0, user.0))?;
            index.remove((user.0, id.0))?;
        }
    }
    drop((convs, members, index));
    append_events(txn, change.events)
}
