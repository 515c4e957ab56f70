//! Messages, read cursors.

use natter_proto::ErrorCode;
use natter_proto::model::{ConversationId, Message, Role, UserId};
use std::collections::HashMap;

use redb::{ReadTransaction, ReadableTable, Table, WriteTransaction};

use super::tables::*;
use super::wal::Op;
use super::{dec, enc};
use crate::error::{Error, Result};
use crate::storage::{
    Appended, ConversationKind, ConversationRecord, MemberRecord, NewMessage, apply_op,
};

/// The tables a message append touches, opened once per batch of appends.
pub struct AppendTables<'t> {
    conversations: Table<'t, u64, &'static [u8]>,
    members: Table<'t, (u64, u64), &'static [u8]>,
    messages: Table<'t, (u64, u64), &'static [u8]>,
    ids: Table<'t, (u64, u64, &'static str), u64>,
}

impl<'t> AppendTables<'t> {
    pub fn open(txn: &'t WriteTransaction) -> Result<AppendTables<'t>> {
        Ok(AppendTables {
            conversations: txn.open_table(CONVERSATIONS)?,
            members: txn.open_table(MEMBERS)?,
            messages: txn.open_table(MESSAGES)?,
            ids: txn.open_table(CLIENT_IDS)?,
        })
    }
}

/// What the writer remembers of a conversation between appends: who may send
/// and the last seq. Only message appends may run while entries are kept; the
/// writer forgets everything before any other write and after a batch that did
/// not commit.
struct Conv {
    /// `None` for a group; for a 1:1 chat whether the two are still friends.
    direct_open: Option<bool>,
    members: Vec<MemberRecord>,
    last_seq: u64,
}

/// The writer's conversation cache.
#[derive(Default)]
pub struct ConvCache(HashMap<u64, Conv>);

/// Entries kept at most; past it the cache starts over.
const CACHE_MAX: usize = 100_000;

impl ConvCache {
    pub fn clear(&mut self) {
        self.0.clear();
    }

    fn get<'c>(&'c mut self, t: &AppendTables<'_>, conv_id: u64) -> Result<&'c mut Conv> {
        if self.0.len() >= CACHE_MAX && !self.0.contains_key(&conv_id) {
            self.0.clear();
        }
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

/// Checks membership, deduplicates, assigns the next seq and stores the message,
/// all inside the batch's transaction; every write is also pushed to `ops` for
/// the message log.
pub fn append(
    t: &mut AppendTables<'_>,
    cache: &mut ConvCache,
    new: NewMessage,
    ops: &mut Vec<Op>,
) -> Result<Appended> {
    let conv_id = new.conversation.0;
    let conv = cache.get(t, conv_id)?;
    let id_key = (conv_id, new.sender.0, new.client_id.as_str());
    if let Some(seq) = t.ids.get(id_key)?.map(|v| v.value()) {
        let message: Message = match t.messages.get((conv_id, seq))? {
            Some(v) => dec(v.value())?,
            None => return Err(Error::Internal("idempotency index points nowhere".into())),
        };
        // A resend of a stored message gets its original ack, even if the sender
        // has since lost the right to send here; nobody is told twice.
        return Ok(Appended {
            message,
            duplicate: true,
            members: Vec::new(),
        });
    }
    let Some(sender) = conv.members.iter().find(|m| m.user == new.sender) else {
        return Err(match conv.direct_open {
            Some(_) => Error::client(ErrorCode::NotFriends, "not friends"),
            None => Error::client(ErrorCode::NotMember, "not a member of this group"),
        });
    };
    if conv.direct_open == Some(false) {
        return Err(Error::client(ErrorCode::NotFriends, "not friends"));
    }
    let members: Vec<UserId> = conv.members.iter().map(|m| m.user).collect();
    let last = conv.last_seq;
    let seq = last + 1;
    if let Some(reply) = new.reply_to
        && (reply == 0 || reply > last || reply < sender.first_seq)
    {
        return Err(Error::bad_request("reply_to names no message"));
    }
    if let Some(target_seq) = new.body.target() {
        if target_seq == 0 || target_seq > last || target_seq < sender.first_seq {
            return Err(Error::not_found("target message not found"));
        }
        let mut target: Message = match t.messages.get((conv_id, target_seq))? {
            Some(v) => dec(v.value())?,
            None => return Err(Error::not_found("target message not found")),
        };
        let privileged = conv.direct_open.is_none() && sender.role >= Role::Admin;
        apply_op(
            &mut target,
            &new.body,
            new.sender,
            privileged,
            new.ts,
            new.recall_window_ms,
        )?;
        let value = enc(&target)?;
        t.messages.insert((conv_id, target_seq), value.as_slice())?;
        ops.push(Op::Message {
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
    };
    let value = enc(&message)?;
    t.messages.insert((conv_id, seq), value.as_slice())?;
    t.ids.insert(id_key, seq)?;
    conv.last_seq = seq;
    ops.push(Op::Message {
        conversation: conv_id,
        seq,
        value,
    });
    ops.push(Op::ClientId {
        conversation: conv_id,
        sender: new.sender.0,
        client_id: new.client_id,
        seq,
    });
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
