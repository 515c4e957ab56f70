//! Messages, read cursors.

use natter_proto::ErrorCode;
use natter_proto::model::{ConversationId, Message, Role, UserId};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::tables::*;
use super::wal::Op;
use super::{dec, enc};
use crate::error::{Error, Result};
use crate::storage::{
    Appended, ConversationKind, ConversationRecord, MemberRecord, NewMessage, apply_op,
};

/// Checks membership, deduplicates, assigns the next seq and stores the message,
/// all inside the caller's transaction; every write is also pushed to `ops` for
/// the message log.
pub fn append(txn: &WriteTransaction, new: NewMessage, ops: &mut Vec<Op>) -> Result<Appended> {
    let conv_id = new.conversation.0;
    let conv: ConversationRecord = match txn.open_table(CONVERSATIONS)?.get(conv_id)? {
        Some(v) => dec(v.value())?,
        None => return Err(Error::not_found("no such conversation")),
    };
    let mut ids = txn.open_table(CLIENT_IDS)?;
    let mut messages = txn.open_table(MESSAGES)?;
    let id_key = (conv_id, new.sender.0, new.client_id.as_str());
    if let Some(seq) = ids.get(id_key)?.map(|v| v.value()) {
        let message: Message = match messages.get((conv_id, seq))? {
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
    let members_table = txn.open_table(MEMBERS)?;
    let sender: Option<MemberRecord> = members_table
        .get((conv_id, new.sender.0))?
        .map(|v| dec(v.value()))
        .transpose()?;
    let Some(sender) = sender else {
        return Err(match conv.kind {
            ConversationKind::Direct { .. } => Error::client(ErrorCode::NotFriends, "not friends"),
            ConversationKind::Group { .. } => {
                Error::client(ErrorCode::NotMember, "not a member of this group")
            }
        });
    };
    if let ConversationKind::Direct { open: false, .. } = conv.kind {
        return Err(Error::client(ErrorCode::NotFriends, "not friends"));
    }
    let members: Vec<UserId> = members_table
        .range((conv_id, 0)..=(conv_id, u64::MAX))?
        .map(|item| item.map(|(k, _)| UserId(k.value().1)))
        .collect::<Result<_, _>>()?;
    drop(members_table);

    let last = last_seq(&messages, conv_id)?;
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
        let mut target: Message = match messages.get((conv_id, target_seq))? {
            Some(v) => dec(v.value())?,
            None => return Err(Error::not_found("target message not found")),
        };
        let privileged =
            matches!(conv.kind, ConversationKind::Group { .. }) && sender.role >= Role::Admin;
        apply_op(
            &mut target,
            &new.body,
            new.sender,
            privileged,
            new.ts,
            new.recall_window_ms,
        )?;
        let value = enc(&target)?;
        messages.insert((conv_id, target_seq), value.as_slice())?;
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
    messages.insert((conv_id, seq), value.as_slice())?;
    ids.insert(id_key, seq)?;
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
