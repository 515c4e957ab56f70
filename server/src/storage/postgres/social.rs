//! Friend requests, friendships, conversations and group membership.

use natter_proto::ErrorCode;
use natter_proto::event::EventBody;
use natter_proto::model::{ConversationId, RequestStatus, Role, UserId};
use sqlx::PgPool;
use sqlx::types::Json;

use super::{Tx, append_events, db, un};
use crate::error::{Error, Result};
use crate::storage::{
    Appends, ConversationKind, ConversationRecord, EventsFn, FriendshipRecord, GroupChange,
    MemberRecord, RequestRecord, Resolution,
};

/// Serialises friendship changes of one pair (two acceptances, or an
/// acceptance and an unfriending, on two nodes at once) for the rest of `tx`.
async fn lock_pair(tx: &mut Tx, x: UserId, y: UserId) -> Result<()> {
    let (a, b) = if x < y { (x.0, y.0) } else { (y.0, x.0) };
    // Any fixed mix of the two ids will do: a collision only makes two
    // unrelated pairs wait for each other.
    let key = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(key as i64)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn request(pool: &PgPool, id: u64) -> Result<Option<RequestRecord>> {
    let row: Option<Json<RequestRecord>> =
        sqlx::query_scalar("SELECT data FROM friend_requests WHERE id = $1")
            .bind(db(id))
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|j| j.0))
}

pub async fn pending_requests(pool: &PgPool, user: UserId) -> Result<Vec<RequestRecord>> {
    let rows: Vec<Json<RequestRecord>> = sqlx::query_scalar(
        "SELECT data FROM friend_requests
         WHERE pending AND (from_user = $1 OR to_user = $1) ORDER BY id",
    )
    .bind(db(user.0))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}

async fn are_friends(
    tx: &mut Tx,
    user: UserId,
    friend: UserId,
) -> Result<Option<FriendshipRecord>> {
    let row: Option<Json<FriendshipRecord>> =
        sqlx::query_scalar("SELECT data FROM friends WHERE user_id = $1 AND friend_id = $2")
            .bind(db(user.0))
            .bind(db(friend.0))
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|j| j.0))
}

pub async fn create_request(
    mut tx: Tx,
    request: RequestRecord,
    events: Vec<(UserId, EventBody)>,
) -> Result<(RequestRecord, Appends)> {
    if are_friends(&mut tx, request.from, request.to)
        .await?
        .is_some()
    {
        return Err(Error::client(ErrorCode::AlreadyFriends, "already friends"));
    }
    // The partial unique index keeps one pending request per direction, even
    // when the same request reaches two nodes at once.
    let inserted = sqlx::query(
        "INSERT INTO friend_requests (id, from_user, to_user, pending, data)
         VALUES ($1, $2, $3, TRUE, $4)
         ON CONFLICT (from_user, to_user) WHERE pending DO NOTHING",
    )
    .bind(db(request.id))
    .bind(db(request.from.0))
    .bind(db(request.to.0))
    .bind(Json(&request))
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        let existing: Json<RequestRecord> = sqlx::query_scalar(
            "SELECT data FROM friend_requests WHERE from_user = $1 AND to_user = $2 AND pending",
        )
        .bind(db(request.from.0))
        .bind(db(request.to.0))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok((existing.0, Vec::new()));
    }
    let appends = append_events(&mut tx, events).await?;
    tx.commit().await?;
    Ok((request, appends))
}

pub async fn resolve_request(
    mut tx: Tx,
    resolution: Resolution,
    events: EventsFn,
) -> Result<(RequestRecord, Appends)> {
    let row: Option<Json<RequestRecord>> =
        sqlx::query_scalar("SELECT data FROM friend_requests WHERE id = $1 FOR UPDATE")
            .bind(db(resolution.request))
            .fetch_optional(&mut *tx)
            .await?;
    let Some(Json(mut request)) = row else {
        return Err(Error::not_found("no such friend request"));
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
    sqlx::query("UPDATE friend_requests SET pending = FALSE, data = $2 WHERE id = $1")
        .bind(db(request.id))
        .bind(Json(&request))
        .execute(&mut *tx)
        .await?;
    let mut friendship = None;
    if resolution.status == RequestStatus::Accepted {
        let (from, to) = (request.from, request.to);
        lock_pair(&mut tx, from, to).await?;
        let record = match are_friends(&mut tx, from, to).await? {
            Some(f) => f,
            None => {
                let conversation = open_direct(
                    &mut tx,
                    from,
                    to,
                    resolution.new_conversation,
                    resolution.ts,
                )
                .await?;
                let record = FriendshipRecord {
                    friend: to,
                    conversation,
                    since_ts: resolution.ts,
                };
                let back = FriendshipRecord {
                    friend: from,
                    ..record
                };
                for (user, side) in [(from, &record), (to, &back)] {
                    sqlx::query(
                        "INSERT INTO friends (user_id, friend_id, data) VALUES ($1, $2, $3)",
                    )
                    .bind(db(user.0))
                    .bind(db(side.friend.0))
                    .bind(Json(side))
                    .execute(&mut *tx)
                    .await?;
                }
                record
            }
        };
        friendship = Some(record);
    }
    let events = events(&request, friendship);
    let appends = append_events(&mut tx, events).await?;
    tx.commit().await?;
    Ok((request, appends))
}

/// Opens (or reopens) the 1:1 conversation of two users; the pair is locked.
async fn open_direct(
    tx: &mut Tx,
    x: UserId,
    y: UserId,
    new_id: ConversationId,
    ts: i64,
) -> Result<ConversationId> {
    let (a, b) = if x < y { (x, y) } else { (y, x) };
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT conversation_id FROM direct_conversations WHERE user_a = $1 AND user_b = $2",
    )
    .bind(db(a.0))
    .bind(db(b.0))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = existing {
        let row: Option<Json<ConversationRecord>> =
            sqlx::query_scalar("SELECT data FROM conversations WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        let Some(Json(mut conv)) = row else {
            return Err(Error::Internal("direct conversation record missing".into()));
        };
        conv.kind = ConversationKind::Direct { a, b, open: true };
        conv.version += 1;
        put_conversation(tx, &conv).await?;
        return Ok(ConversationId(un(id)));
    }
    let conv = ConversationRecord {
        id: new_id,
        kind: ConversationKind::Direct { a, b, open: true },
        version: 1,
        created_ts: ts,
    };
    sqlx::query("INSERT INTO conversations (id, last_seq, data) VALUES ($1, 0, $2)")
        .bind(db(new_id.0))
        .bind(Json(&conv))
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO direct_conversations (user_a, user_b, conversation_id) VALUES ($1, $2, $3)",
    )
    .bind(db(a.0))
    .bind(db(b.0))
    .bind(db(new_id.0))
    .execute(&mut **tx)
    .await?;
    for user in [a, b] {
        let m = MemberRecord {
            user,
            role: Role::Member,
            joined_ts: ts,
            first_seq: 1,
        };
        put_member(tx, new_id, &m).await?;
    }
    Ok(new_id)
}

/// Rewrites a conversation's record (its seq counter stays).
async fn put_conversation(tx: &mut Tx, conv: &ConversationRecord) -> Result<()> {
    sqlx::query("UPDATE conversations SET data = $2 WHERE id = $1")
        .bind(db(conv.id.0))
        .bind(Json(conv))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn put_member(tx: &mut Tx, conv: ConversationId, m: &MemberRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO members (conversation_id, user_id, data) VALUES ($1, $2, $3)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET data = EXCLUDED.data",
    )
    .bind(db(conv.0))
    .bind(db(m.user.0))
    .bind(Json(m))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn friends(pool: &PgPool, user: UserId) -> Result<Vec<FriendshipRecord>> {
    let rows: Vec<Json<FriendshipRecord>> =
        sqlx::query_scalar("SELECT data FROM friends WHERE user_id = $1 ORDER BY friend_id")
            .bind(db(user.0))
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}

pub async fn friendship(
    pool: &PgPool,
    user: UserId,
    friend: UserId,
) -> Result<Option<FriendshipRecord>> {
    let row: Option<Json<FriendshipRecord>> =
        sqlx::query_scalar("SELECT data FROM friends WHERE user_id = $1 AND friend_id = $2")
            .bind(db(user.0))
            .bind(db(friend.0))
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|j| j.0))
}

pub async fn remove_friend(
    mut tx: Tx,
    user: UserId,
    friend: UserId,
    events: Vec<(UserId, EventBody)>,
) -> Result<Appends> {
    lock_pair(&mut tx, user, friend).await?;
    let Some(record) = are_friends(&mut tx, user, friend).await? else {
        return Err(Error::client(ErrorCode::NotFriends, "not friends"));
    };
    sqlx::query(
        "DELETE FROM friends WHERE (user_id = $1 AND friend_id = $2)
                                OR (user_id = $2 AND friend_id = $1)",
    )
    .bind(db(user.0))
    .bind(db(friend.0))
    .execute(&mut *tx)
    .await?;
    // Locking the row makes an append racing this on another node either
    // commit first or see the conversation closed.
    let row: Option<Json<ConversationRecord>> =
        sqlx::query_scalar("SELECT data FROM conversations WHERE id = $1 FOR UPDATE")
            .bind(db(record.conversation.0))
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(Json(mut conv)) = row {
        if let ConversationKind::Direct { open, .. } = &mut conv.kind {
            *open = false;
        }
        conv.version += 1;
        put_conversation(&mut tx, &conv).await?;
    }
    let appends = append_events(&mut tx, events).await?;
    tx.commit().await?;
    Ok(appends)
}

pub async fn conversation(pool: &PgPool, id: ConversationId) -> Result<Option<ConversationRecord>> {
    let row: Option<Json<ConversationRecord>> =
        sqlx::query_scalar("SELECT data FROM conversations WHERE id = $1")
            .bind(db(id.0))
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|j| j.0))
}

pub async fn members(pool: &PgPool, id: ConversationId) -> Result<Vec<MemberRecord>> {
    let rows: Vec<Json<MemberRecord>> =
        sqlx::query_scalar("SELECT data FROM members WHERE conversation_id = $1 ORDER BY user_id")
            .bind(db(id.0))
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}

pub async fn conversations_of(
    pool: &PgPool,
    user: UserId,
) -> Result<Vec<(ConversationRecord, MemberRecord, u64)>> {
    let rows: Vec<(Json<ConversationRecord>, Json<MemberRecord>, i64)> = sqlx::query_as(
        "SELECT c.data, m.data, c.last_seq FROM members m
         JOIN conversations c ON c.id = m.conversation_id
         WHERE m.user_id = $1 ORDER BY c.id",
    )
    .bind(db(user.0))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(c, m, last)| (c.0, m.0, un(last)))
        .collect())
}

pub async fn change_group(mut tx: Tx, change: GroupChange) -> Result<Appends> {
    let id = change.conversation.id;
    let current: Option<Json<ConversationRecord>> =
        sqlx::query_scalar("SELECT data FROM conversations WHERE id = $1 FOR UPDATE")
            .bind(db(id.0))
            .fetch_optional(&mut *tx)
            .await?;
    match (&current, change.expected_version) {
        (None, None) => {}
        (Some(cur), Some(v)) if cur.0.version == v => {}
        (None, Some(_)) => return Err(Error::not_found("no such group")),
        _ => return Err(Error::Conflict),
    }
    if change.delete {
        for sql in [
            "DELETE FROM members WHERE conversation_id = $1",
            "DELETE FROM messages WHERE conversation_id = $1",
            "DELETE FROM read_cursors WHERE conversation_id = $1",
            "DELETE FROM conversations WHERE id = $1",
        ] {
            sqlx::query(sql).bind(db(id.0)).execute(&mut *tx).await?;
        }
    } else {
        if current.is_none() {
            sqlx::query("INSERT INTO conversations (id, last_seq, data) VALUES ($1, 0, $2)")
                .bind(db(id.0))
                .bind(Json(&change.conversation))
                .execute(&mut *tx)
                .await?;
        } else {
            put_conversation(&mut tx, &change.conversation).await?;
        }
        for m in &change.upsert {
            put_member(&mut tx, id, m).await?;
        }
        for user in &change.remove {
            sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
                .bind(db(id.0))
                .bind(db(user.0))
                .execute(&mut *tx)
                .await?;
        }
    }
    let appends = append_events(&mut tx, change.events).await?;
    tx.commit().await?;
    Ok(appends)
}
