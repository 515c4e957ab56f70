//! Message history, unread counts and read cursors.

use natter_proto::model::{ConversationId, ConversationKind, Message, MessageBody, UserId};
use natter_proto::ops;
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::search;
use crate::model::{Conversation, Preview, preview_of};
use crate::tables::*;
use crate::{Error, Result, dec, enc, now_ms};

/// What [`crate::Store::apply_messages`] changed.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Messages stored for the first time, oldest first.
    pub new: Vec<Message>,
    /// Earlier messages changed by operations among them (recall, edit, reaction).
    pub updated: Vec<Message>,
    /// Client ids of own outbox entries now stored on the relay.
    pub settled: Vec<String>,
    /// The conversation afterwards.
    pub conversation: Option<Conversation>,
}

fn is_content(body: &MessageBody) -> bool {
    body.target().is_none()
}

fn preview(m: &Message) -> Option<Preview> {
    preview_of(&m.body).map(|(kind, text)| Preview {
        seq: m.seq,
        sender: m.sender,
        ts: m.ts,
        kind,
        text,
    })
}

pub fn load_conversation(
    txn: &WriteTransaction,
    id: ConversationId,
) -> Result<Option<Conversation>> {
    let t = txn.open_table(CONVERSATIONS)?;
    t.get(id.0)?.map(|v| dec(v.value())).transpose()
}

pub fn save_conversation(txn: &WriteTransaction, c: &Conversation) -> Result<()> {
    txn.open_table(CONVERSATIONS)?
        .insert(c.id.0, enc(c)?.as_slice())?;
    Ok(())
}

pub fn apply(
    txn: &WriteTransaction,
    me: UserId,
    id: ConversationId,
    mut incoming: Vec<Message>,
) -> Result<Applied> {
    incoming.sort_by_key(|m| m.seq);
    incoming.dedup_by_key(|m| m.seq);
    let mut conv = load_conversation(txn, id)?.unwrap_or_else(|| {
        // Messages can arrive before the event that introduces their
        // conversation; the event or the sync state fills in kind and title.
        Conversation::new(
            id,
            ConversationKind::Group {
                name: String::new(),
            },
            String::new(),
            now_ms(),
        )
    });
    let mut out = Applied::default();
    let mut index = Vec::new();
    {
        let mut messages = txn.open_table(MESSAGES)?;
        let mut outbox = txn.open_table(OUTBOX)?;
        for m in incoming {
            if m.conversation != id || m.seq == 0 || messages.get((id.0, m.seq))?.is_some() {
                continue;
            }
            messages.insert((id.0, m.seq), enc(&m)?.as_slice())?;
            if let Some(target_seq) = m.body.target() {
                let target: Option<Message> = messages
                    .get((id.0, target_seq))?
                    .map(|v| dec(v.value()))
                    .transpose()?;
                if let Some(mut target) = target
                    && ops::apply(&mut target, &m.body, m.sender, m.ts)
                {
                    messages.insert((id.0, target_seq), enc(&target)?.as_slice())?;
                    if let MessageBody::Edit { text, .. } = &m.body {
                        index.push((id.0, target_seq, text.to_lowercase()));
                    }
                    if conv
                        .last_message
                        .as_ref()
                        .is_some_and(|p| p.seq == target_seq)
                    {
                        conv.last_message = preview(&target);
                    }
                    out.updated.push(target);
                }
            } else {
                if m.sender != me && m.seq > conv.read_seq {
                    conv.unread += 1;
                }
                if conv.last_message.as_ref().is_none_or(|p| p.seq < m.seq) {
                    conv.last_message = preview(&m);
                }
                if let MessageBody::Text { text } = &m.body {
                    index.push((id.0, m.seq, text.to_lowercase()));
                }
            }
            if m.sender == me && outbox.remove((id.0, m.client_id.as_str()))?.is_some() {
                out.settled.push(m.client_id.clone());
            }
            conv.last_seq = conv.last_seq.max(m.seq);
            conv.updated_ts = conv.updated_ts.max(m.ts);
            out.new.push(m);
        }
        conv.held_seq = conv.held_seq.max(conv.first_seq.saturating_sub(1));
        while messages.get((id.0, conv.held_seq + 1))?.is_some() {
            conv.held_seq += 1;
        }
    }
    search::append(txn, index)?;
    save_conversation(txn, &conv)?;
    out.conversation = Some(conv);
    Ok(out)
}

pub fn range(
    txn: &ReadTransaction,
    id: ConversationId,
    from: u64,
    to: u64,
    limit: usize,
    newest: bool,
) -> Result<Vec<Message>> {
    if from > to || limit == 0 {
        return Ok(Vec::new());
    }
    let t = txn.open_table(MESSAGES)?;
    let r = t.range((id.0, from)..=(id.0, to))?;
    let mut out = Vec::with_capacity(limit.min(512));
    if newest {
        for item in r.rev().take(limit) {
            out.push(dec(item?.1.value())?);
        }
        out.reverse();
    } else {
        for item in r.take(limit) {
            out.push(dec(item?.1.value())?);
        }
    }
    Ok(out)
}

pub fn missing(
    txn: &ReadTransaction,
    id: ConversationId,
    from: u64,
    up_to: u64,
    limit: usize,
) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    if from > up_to {
        return Ok(out);
    }
    let t = txn.open_table(MESSAGES)?;
    let mut expect = from;
    for item in t.range((id.0, from)..=(id.0, up_to))? {
        let seq = item?.0.value().1;
        while expect < seq && out.len() < limit {
            out.push(expect);
            expect += 1;
        }
        expect = seq + 1;
        if out.len() >= limit {
            return Ok(out);
        }
    }
    while expect <= up_to && out.len() < limit {
        out.push(expect);
        expect += 1;
    }
    Ok(out)
}

/// Recounts messages from others above the read cursor.
fn recount_unread(txn: &WriteTransaction, me: UserId, conv: &mut Conversation) -> Result<()> {
    let t = txn.open_table(MESSAGES)?;
    let mut n = 0u32;
    for item in t.range((conv.id.0, conv.read_seq + 1)..=(conv.id.0, u64::MAX))? {
        let m: Message = dec(item?.1.value())?;
        if m.sender != me && is_content(&m.body) {
            n += 1;
        }
    }
    conv.unread = n;
    Ok(())
}

pub fn mark_read(
    txn: &WriteTransaction,
    me: UserId,
    id: ConversationId,
    seq: u64,
    _: Option<()>,
) -> Result<Conversation> {
    let mut conv = load_conversation(txn, id)?.ok_or(Error::NotFound)?;
    let target = seq.min(conv.last_seq.max(conv.held_seq));
    if target > conv.read_seq {
        conv.read_seq = target;
        recount_unread(txn, me, &mut conv)?;
        save_conversation(txn, &conv)?;
    }
    Ok(conv)
}

pub fn apply_receipt(
    txn: &WriteTransaction,
    me: UserId,
    id: ConversationId,
    user: UserId,
    seq: u64,
) -> Result<Option<Conversation>> {
    if user == me {
        return match mark_read(txn, me, id, seq, None) {
            Ok(c) => Ok(Some(c)),
            Err(Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    let Some(mut conv) = load_conversation(txn, id)? else {
        return Ok(None);
    };
    if matches!(conv.kind, ConversationKind::Direct { .. })
        && conv.peer_read_seq.is_none_or(|s| s < seq)
    {
        conv.peer_read_seq = Some(seq);
        save_conversation(txn, &conv)?;
    }
    Ok(Some(conv))
}

pub fn set_read_from_relay(
    txn: &WriteTransaction,
    me: UserId,
    conv: &mut Conversation,
    read_seq: u64,
) -> Result<()> {
    if read_seq > conv.read_seq {
        conv.read_seq = read_seq;
        recount_unread(txn, me, conv)?;
    }
    Ok(())
}
