//! Messages (appended in batches), history, read cursors and events.

use std::collections::HashMap;

use natter_proto::ErrorCode;
use natter_proto::event::Event;
use natter_proto::model::{ConversationId, Message, UserId};
use sqlx::PgPool;
use sqlx::types::Json;
use tokio::sync::{mpsc, oneshot};

use super::{Tx, db, un};
use crate::error::{Error, Result};
use crate::storage::{
    Appended, ConversationKind, ConversationRecord, MemberRecord, NewMessage, apply_to_target,
    check_append,
};

/// Most appends committed together.
const MAX_BATCH: usize = 256;

/// An append waiting for the batcher.
pub struct AppendJob {
    /// The message.
    pub new: NewMessage,
    /// Where its outcome goes, after the commit.
    pub reply: oneshot::Sender<Result<Appended>>,
}

/// Takes the appends that are waiting, commits them in one transaction and
/// answers each once it is durable. Ends when the storage is dropped.
pub async fn batcher(pool: PgPool, mut rx: mpsc::UnboundedReceiver<AppendJob>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        run(&pool, jobs).await;
    }
}

async fn run(pool: &PgPool, mut jobs: Vec<AppendJob>) {
    // One lock order for every node: conversations by id (a stable sort keeps
    // each conversation's messages in arrival order).
    jobs.sort_by_key(|j| j.new.conversation.0);
    let news: Vec<NewMessage> = jobs.iter().map(|j| j.new.clone()).collect();
    match commit(pool, news).await {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }
        // A failed statement aborts the whole transaction; unless the
        // database is gone, try each on its own so one bad append does not
        // fail the others.
        Err(e) if jobs.len() > 1 && !matches!(e, Error::Unavailable(_)) => {
            tracing::warn!(error = %e, n = jobs.len(), "append batch failed; retrying one by one");
            for job in jobs {
                let outcome = match commit(pool, vec![job.new.clone()]).await {
                    Ok(mut o) => o
                        .pop()
                        .unwrap_or_else(|| Err(Error::Internal("no outcome".into()))),
                    Err(e) => Err(e),
                };
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Err(e.duplicate()));
            }
        }
    }
}

/// A conversation as a batch holds it: its row locked until the commit.
struct Locked {
    /// `None` for a group; for a 1:1 chat whether the two are still friends.
    direct_open: Option<bool>,
    members: Vec<MemberRecord>,
    /// Seq when locked, and the last one given out since.
    first: u64,
    last: u64,
}

/// Appends `news` in one transaction. The outer error aborts all of them;
/// the inner results are each append's own outcome (a refusal changes
/// nothing).
async fn commit(pool: &PgPool, news: Vec<NewMessage>) -> Result<Vec<Result<Appended>>> {
    let mut tx = pool.begin().await?;
    let mut locked: HashMap<u64, Locked> = HashMap::new();
    let mut out = Vec::with_capacity(news.len());
    for new in news {
        match append(&mut tx, &mut locked, new).await {
            Err(e @ (Error::Internal(_) | Error::Unavailable(_))) => return Err(e),
            outcome => out.push(outcome),
        }
    }
    for (conv, l) in &locked {
        if l.last != l.first {
            sqlx::query("UPDATE conversations SET last_seq = $2 WHERE id = $1")
                .bind(db(*conv))
                .bind(db(l.last))
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(out)
}

// The entry API does not fit: the row is read (awaited) between the look-up
// and the insert.
#[allow(clippy::map_entry)]
async fn lock<'l>(
    tx: &mut Tx,
    locked: &'l mut HashMap<u64, Locked>,
    conv: u64,
) -> Result<&'l mut Locked> {
    if !locked.contains_key(&conv) {
        // The row lock is held to the commit: appends to this conversation
        // from other nodes, and member changes, wait for it.
        let row: Option<(Json<ConversationRecord>, i64)> =
            sqlx::query_as("SELECT data, last_seq FROM conversations WHERE id = $1 FOR UPDATE")
                .bind(db(conv))
                .fetch_optional(&mut **tx)
                .await?;
        let Some((Json(record), last)) = row else {
            return Err(Error::not_found("no such conversation"));
        };
        let members: Vec<Json<MemberRecord>> = sqlx::query_scalar(
            "SELECT data FROM members WHERE conversation_id = $1 ORDER BY user_id",
        )
        .bind(db(conv))
        .fetch_all(&mut **tx)
        .await?;
        locked.insert(
            conv,
            Locked {
                direct_open: match record.kind {
                    ConversationKind::Direct { open, .. } => Some(open),
                    ConversationKind::Group { .. } => None,
                },
                members: members.into_iter().map(|j| j.0).collect(),
                first: un(last),
                last: un(last),
            },
        );
    }
    locked
        .get_mut(&conv)
        .ok_or_else(|| Error::Internal("locked conversation missing".into()))
}

async fn message_at(tx: &mut Tx, conv: u64, seq: u64) -> Result<Option<Message>> {
    let row: Option<Json<Message>> =
        sqlx::query_scalar("SELECT data FROM messages WHERE conversation_id = $1 AND seq = $2")
            .bind(db(conv))
            .bind(db(seq))
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|j| j.0))
}

/// The rules of the embedded backend's append, on the locked conversation.
async fn append(
    tx: &mut Tx,
    locked: &mut HashMap<u64, Locked>,
    new: NewMessage,
) -> Result<Appended> {
    let conv_id = new.conversation.0;
    let conv = lock(tx, locked, conv_id).await?;
    // Under the lock, a copy committed by any node (or earlier in this batch)
    // is visible.
    let first: Option<Json<Message>> = sqlx::query_scalar(
        "SELECT data FROM messages WHERE conversation_id = $1 AND sender = $2 AND client_id = $3",
    )
    .bind(db(conv_id))
    .bind(db(new.sender.0))
    .bind(&new.client_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(Json(message)) = first {
        return Ok(Appended {
            message,
            duplicate: true,
            members: Vec::new(),
        });
    }
    let sender = check_append(&new, &conv.members, conv.direct_open, conv.last)?;
    let members: Vec<UserId> = conv.members.iter().map(|m| m.user).collect();
    let last = conv.last;
    let seq = last + 1;
    if let Some(target_seq) = new.body.target() {
        let Some(mut target) = message_at(tx, conv_id, target_seq).await? else {
            return Err(Error::not_found("target message not found"));
        };
        apply_to_target(&mut target, &new, sender, conv.direct_open.is_none())?;
        sqlx::query("UPDATE messages SET data = $3 WHERE conversation_id = $1 AND seq = $2")
            .bind(db(conv_id))
            .bind(db(target_seq))
            .bind(Json(&target))
            .execute(&mut **tx)
            .await?;
    }
    let message = Message {
        conversation: new.conversation,
        seq,
        sender: new.sender,
        client_id: new.client_id,
        ts: new.ts,
        body: new.body,
        reply_to: new.reply_to,
        edited_ts: None,
        reactions: Default::default(),
        extras: new.extras,
    };
    sqlx::query(
        "INSERT INTO messages (conversation_id, seq, sender, client_id, data)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(db(conv_id))
    .bind(db(seq))
    .bind(db(message.sender.0))
    .bind(&message.client_id)
    .bind(Json(&message))
    .execute(&mut **tx)
    .await?;
    if let Some(conv) = locked.get_mut(&conv_id) {
        conv.last = seq;
    }
    Ok(Appended {
        message,
        duplicate: false,
        members,
    })
}

pub async fn range(
    pool: &PgPool,
    conversation: ConversationId,
    after: u64,
    before: u64,
    limit: usize,
    newest: bool,
) -> Result<Vec<Message>> {
    if after.saturating_add(1) >= before {
        return Ok(Vec::new());
    }
    let sql = if newest {
        "SELECT data FROM messages WHERE conversation_id = $1 AND seq > $2 AND seq < $3
         ORDER BY seq DESC LIMIT $4"
    } else {
        "SELECT data FROM messages WHERE conversation_id = $1 AND seq > $2 AND seq < $3
         ORDER BY seq LIMIT $4"
    };
    let rows: Vec<Json<Message>> = sqlx::query_scalar(sql)
        .bind(db(conversation.0))
        .bind(db(after))
        .bind(db(before))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    let mut out: Vec<Message> = rows.into_iter().map(|j| j.0).collect();
    if newest {
        out.reverse();
    }
    Ok(out)
}

pub async fn set_read(
    pool: &PgPool,
    user: UserId,
    conversation: ConversationId,
    seq: u64,
) -> Result<(u64, bool)> {
    let (c, u) = (db(conversation.0), db(user.0));
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT c.last_seq FROM members m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.conversation_id = $1 AND m.user_id = $2",
    )
    .bind(c)
    .bind(u)
    .fetch_optional(pool)
    .await?;
    let Some(last) = last else {
        return Err(Error::client(
            ErrorCode::NotMember,
            "not in this conversation",
        ));
    };
    let target = db(seq).min(last);
    // Each statement commits on its own; the cursor only ever rises, whichever
    // node raises it.
    if target > 0 {
        let raised: Option<i64> = sqlx::query_scalar(
            "INSERT INTO read_cursors (conversation_id, user_id, seq) VALUES ($1, $2, $3)
             ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = EXCLUDED.seq
             WHERE read_cursors.seq < EXCLUDED.seq
             RETURNING seq",
        )
        .bind(c)
        .bind(u)
        .bind(target)
        .fetch_optional(pool)
        .await?;
        if let Some(now) = raised {
            return Ok((un(now), true));
        }
    }
    let current: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM read_cursors WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(c)
    .bind(u)
    .fetch_optional(pool)
    .await?;
    Ok((current.map(un).unwrap_or(0), false))
}

pub async fn read_cursors(
    pool: &PgPool,
    conversation: ConversationId,
) -> Result<Vec<(UserId, u64)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT user_id, seq FROM read_cursors WHERE conversation_id = $1 ORDER BY user_id",
    )
    .bind(db(conversation.0))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(u, s)| (UserId(un(u)), un(s)))
        .collect())
}

pub async fn events(pool: &PgPool, user: UserId, after: u64, limit: usize) -> Result<Vec<Event>> {
    let rows: Vec<Json<Event>> = sqlx::query_scalar(
        "SELECT data FROM events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(db(user.0))
    .bind(db(after))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}
