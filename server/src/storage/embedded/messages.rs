//! Messages, read cursors.

use natter_proto::ErrorCode;
use natter_proto::model::{ConversationId, Message, UserId};
use std::collections::{HashMap, VecDeque};

use redb::{ReadOnlyTable, ReadTransaction, ReadableTable, WriteTransaction};

use super::tables::*;
use super::wal::Op;
use super::{dec, enc};
use crate::error::{Error, Result};
use crate::storage::{
    Appended, ConversationKind, ConversationRecord, MemberRecord, NewMessage, apply_to_target,
    check_append,
};

/// The tables a message append reads, from a snapshot taken after the writer
/// last forgot what the applier has written (see [`Pending`]).
pub struct ReadTables {
    conversations: ReadOnlyTable<u64, &'static [u8]>,
    members: ReadOnlyTable<(u64, u64), &'static [u8]>,
    messages: ReadOnlyTable<(u64, u64), &'static [u8]>,
    ids: ReadOnlyTable<(u64, u64, &'static str), u64>,
}

impl ReadTables {
    pub fn open(txn: &ReadTransaction) -> Result<ReadTables> {
        Ok(ReadTables {
            conversations: txn.open_table(CONVERSATIONS)?,
            members: txn.open_table(MEMBERS)?,
            messages: txn.open_table(MESSAGES)?,
            ids: txn.open_table(CLIENT_IDS)?,
        })
    }
}

/// Writes the writer has logged (or is about to log) that the applier may not
/// have written to redb yet, each with the ticket of its log record. The writer
/// reads these before the database; it forgets a write once the applier
/// reports its ticket applied, and only before taking a new snapshot, so every
/// write is always in one of the two.
#[derive(Default)]
pub struct Pending {
    /// The ticket the writes being gathered now will be logged under.
    pub ticket: u64,
    messages: HashMap<(u64, u64), (u64, Vec<u8>)>,
    ids: HashMap<(u64, u64, String), (u64, u64)>,
    order: VecDeque<(u64, Vec<Key>)>,
}

/// What a pending write wrote to.
enum Key {
    Message(u64, u64),
    ClientId(u64, u64, String),
}

impl Pending {
    /// Takes note of a logged or about-to-be-logged write.
    pub fn note(&mut self, ops: &[Op]) {
        let ticket = self.ticket;
        let mut keys = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                Op::Message {
                    conversation,
                    seq,
                    value,
                } => {
                    self.messages
                        .insert((*conversation, *seq), (ticket, value.clone()));
                    keys.push(Key::Message(*conversation, *seq));
                }
                Op::ClientId {
                    conversation,
                    sender,
                    client_id,
                    seq,
                } => {
                    let key = (*conversation, *sender, client_id.clone());
                    self.ids.insert(key.clone(), (ticket, *seq));
                    keys.push(Key::ClientId(key.0, key.1, key.2));
                }
            }
        }
        match self.order.back_mut() {
            Some((t, pending)) if *t == ticket => pending.append(&mut keys),
            _ => self.order.push_back((ticket, keys)),
        }
    }

    /// Forgets the writes of tickets up to `applied`, now in the database
    /// (a key written again since keeps its newer value).
    pub fn forget(&mut self, applied: u64) {
        while self.order.front().is_some_and(|(t, _)| *t <= applied) {
            let Some((_, keys)) = self.order.pop_front() else {
                break;
            };
            for key in keys {
                match key {
                    Key::Message(conversation, seq) => {
                        let key = (conversation, seq);
                        if self.messages.get(&key).is_some_and(|(t, _)| *t <= applied) {
                            self.messages.remove(&key);
                        }
                    }
                    Key::ClientId(conversation, sender, client_id) => {
                        let key = (conversation, sender, client_id);
                        if self.ids.get(&key).is_some_and(|(t, _)| *t <= applied) {
                            self.ids.remove(&key);
                        }
                    }
                }
            }
        }
    }

    /// Forgets everything (the applier has written all of it, or it was never
    /// logged).
    pub fn clear(&mut self) {
        self.messages.clear();
        self.ids.clear();
        self.order.clear();
    }

    fn message(&self, t: &ReadTables, conversation: u64, seq: u64) -> Result<Option<Message>> {
        if let Some((_, value)) = self.messages.get(&(conversation, seq)) {
            return dec(value).map(Some);
        }
        t.messages
            .get((conversation, seq))?
            .map(|v| dec(v.value()))
            .transpose()
    }

    fn client_id(&self, t: &ReadTables, key: (u64, u64, &str)) -> Result<Option<u64>> {
        if let Some((_, seq)) = self.ids.get(&(key.0, key.1, key.2.to_string())) {
            return Ok(Some(*seq));
        }
        Ok(t.ids.get(key)?.map(|v| v.value()))
    }
}

/// What the writer remembers of a conversation between appends: who may send
/// and the last seq. The writer forgets everything after any other write that
/// may change conversations or members, and after a batch that was not logged.
struct Conv {
    /// `None` for a group; for a 1:1 chat whether the two are still friends.
    direct_open: Option<bool>,
    members: Vec<MemberRecord>,
    last_seq: u64,
}

/// The writer's conversation cache. A conversation is read from the database
/// only when it is not cached, and the writer clears the cache only when no
/// write is pending: a conversation's pending writes always went through its
/// cached entry, so the database's last seq is current when it is read.
#[derive(Default)]
pub struct ConvCache(HashMap<u64, Conv>);

/// Entries kept at most; past it the writer starts over.
pub const CACHE_MAX: usize = 100_000;

impl ConvCache {
    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn get<'c>(&'c mut self, t: &ReadTables, conv_id: u64) -> Result<&'c mut Conv> {
        if self.0.contains_key(&conv_id) {
            return self
                .0
                .get_mut(&conv_id)
                .ok_or_else(|| Error::Internal("conversation cache".into()));
        }
        let record: ConversationRecord = match t.conversations.get(conv_id)? {
            Some(v) => dec(v.value())?,
            None => return Err(Error::not_found("no such conversation")),
        };
        let members = t
            .members
            .range((conv_id, 0)..=(conv_id, u64::MAX))?
            .map(|item| item.map_err(Error::from).and_then(|(_, v)| dec(v.value())))
            .collect::<Result<Vec<MemberRecord>>>()?;
        let conv = Conv {
            direct_open: match record.kind {
                ConversationKind::Direct { open, .. } => Some(open),
                ConversationKind::Group { .. } => None,
            },
            members,
            last_seq: last_seq(&t.messages, conv_id)?,
        };
        Ok(self.0.entry(conv_id).or_insert(conv))
    }
}

/// Checks membership, deduplicates, assigns the next seq and builds the
/// message; the writes are returned in `ops` (for the log, then the applier)
/// and noted in `pending` by the writer. Nothing is changed unless it succeeds.
pub fn append(
    t: &ReadTables,
    cache: &mut ConvCache,
    pending: &Pending,
    new: NewMessage,
    ops: &mut Vec<Op>,
) -> Result<Appended> {
    let conv_id = new.conversation.0;
    let conv = cache.get(t, conv_id)?;
    if let Some(seq) = pending.client_id(t, (conv_id, new.sender.0, new.client_id.as_str()))? {
        let Some(message) = pending.message(t, conv_id, seq)? else {
            return Err(Error::Internal("idempotency index points nowhere".into()));
        };
        // A resend of a stored message gets its original ack, even if the sender
        // has since lost the right to send here; nobody is told twice.
        return Ok(Appended {
            message,
            duplicate: true,
            members: Vec::new(),
        });
    }
    let sender = check_append(&new, &conv.members, conv.direct_open, conv.last_seq)?;
    let members: Vec<UserId> = conv.members.iter().map(|m| m.user).collect();
    let last = conv.last_seq;
    let seq = last + 1;
    let mut writes = Vec::with_capacity(3);
    if let Some(target_seq) = new.body.target() {
        let Some(mut target) = pending.message(t, conv_id, target_seq)? else {
            return Err(Error::not_found("target message not found"));
        };
        let value = apply_to_target(&mut target, &new, sender, conv.direct_open.is_none())?;
        writes.push(Op::Message {
            conversation: conv_id,
            seq: target_seq,
            value,
        });
    }
    let message = Message {
        conversation: new.conversation,
        seq,
        sender: new.sender,
        client_id: new.client_id.clone(),
        ts: new.ts,
        body: new.body,
        reply_to: new.reply_to,
        edited_ts: None,
        reactions: Default::default(),
        extras: new.extras,
    };
    writes.push(Op::Message {
        conversation: conv_id,
        seq,
        value: enc(&message)?,
    });
    writes.push(Op::ClientId {
        conversation: conv_id,
        sender: new.sender.0,
        client_id: new.client_id,
        seq,
    });
    conv.last_seq = seq;
    ops.append(&mut writes);
    Ok(Appended {
        message,
        duplicate: false,
        members,
    })
}

/// The highest seq stored in a conversation: its last message's key. Seqs are
/// gapless and messages are only deleted with their group, so this is the
/// conversation's counter without a table of its own (one tree fewer to write
/// per message, which is what a commit's fsync pays for).
pub fn last_seq(
    messages: &impl ReadableTable<(u64, u64), &'static [u8]>,
    conv: u64,
) -> Result<u64> {
    Ok(messages
        .range((conv, 0)..=(conv, u64::MAX))?
        .next_back()
        .transpose()?
        .map(|(k, _)| k.value().1)
        .unwrap_or(0))
}

pub fn range(
    txn: &ReadTransaction,
    conversation: ConversationId,
    after: u64,
    before: u64,
    limit: usize,
    newest: bool,
) -> Result<Vec<Message>> {
    let t = txn.open_table(MESSAGES)?;
    let c = conversation.0;
    if after.saturating_add(1) >= before {
        return Ok(Vec::new());
    }
    let range = t.range((c, after + 1)..(c, before))?;
    let mut out: Vec<Message> = Vec::with_capacity(limit.min(256));
    if newest {
        for item in range.rev().take(limit) {
            let (_, v) = item?;
            out.push(dec(v.value())?);
        }
        out.reverse();
    } else {
        for item in range.take(limit) {
            let (_, v) = item?;
            out.push(dec(v.value())?);
        }
    }
    Ok(out)
}

pub fn set_read(
    txn: &WriteTransaction,
    user: UserId,
    conversation: ConversationId,
    seq: u64,
) -> Result<(u64, bool)> {
    let c = conversation.0;
    if txn.open_table(MEMBERS)?.get((c, user.0))?.is_none() {
        return Err(Error::client(
            ErrorCode::NotMember,
            "not in this conversation",
        ));
    }
    let last = last_seq(&txn.open_table(MESSAGES)?, c)?;
    let mut reads = txn.open_table(READS)?;
    let current = reads.get((c, user.0))?.map(|v| v.value()).unwrap_or(0);
    let next = current.max(seq.min(last));
    if next != current {
        reads.insert((c, user.0), next)?;
    }
    Ok((next, next != current))
}

pub fn read_cursors(
    txn: &ReadTransaction,
    conversation: ConversationId,
) -> Result<Vec<(UserId, u64)>> {
    let t = txn.open_table(READS)?;
    let c = conversation.0;
    let mut out = Vec::new();
    for item in t.range((c, 0)..=(c, u64::MAX))? {
        let (k, v) = item?;
        out.push((UserId(k.value().1), v.value()));
    }
    Ok(out)
}
