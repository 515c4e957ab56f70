//! Messages composed here and not yet acknowledged by the relay.

use natter_proto::model::ConversationId;
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use crate::model::OutboxEntry;
use crate::tables::{META, OUTBOX};
use crate::{Result, dec, enc};

/// Stores a new entry, giving it the next position.
pub fn put(txn: &WriteTransaction, mut e: OutboxEntry) -> Result<OutboxEntry> {
    let mut meta = txn.open_table(META)?;
    let order = meta.get("outbox_order")?.map(|v| v.value()).unwrap_or(0) + 1;
    meta.insert("outbox_order", order)?;
    e.order = order;
    txn.open_table(OUTBOX)?.insert(
        (e.conversation.0, e.client_id.as_str()),
        enc(&e)?.as_slice(),
    )?;
    Ok(e)
}

pub fn all(txn: &ReadTransaction) -> Result<Vec<OutboxEntry>> {
    let t = txn.open_table(OUTBOX)?;
    let mut out: Vec<OutboxEntry> = Vec::new();
    for item in t.iter()? {
        out.push(dec(item?.1.value())?);
    }
    out.sort_by_key(|e| e.order);
    Ok(out)
}

pub fn update(
    txn: &WriteTransaction,
    conversation: ConversationId,
    client_id: &str,
    f: impl FnOnce(&mut OutboxEntry),
) -> Result<()> {
    let mut t = txn.open_table(OUTBOX)?;
    let entry: Option<OutboxEntry> = t
        .get((conversation.0, client_id))?
        .map(|v| dec(v.value()))
        .transpose()?;
    // An entry may already be settled by its message arriving; nothing to do then.
    if let Some(mut e) = entry {
        f(&mut e);
        t.insert((conversation.0, client_id), enc(&e)?.as_slice())?;
    }
    Ok(())
}

pub fn remove(txn: &WriteTransaction, conversation: ConversationId, client_id: &str) -> Result<()> {
    txn.open_table(OUTBOX)?
        .remove((conversation.0, client_id))?;
    Ok(())
}
