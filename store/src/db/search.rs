//! Substring search over message text, in any script.
//!
//! Lower-cased texts are appended to blocks of about 32 KiB: one value holds the
//! texts separated by NUL, a second the (conversation, seq, end offset) of each.
//! A search runs one SIMD substring finder over each block's text, newest block
//! first, maps hits back to messages, and re-checks each candidate against the
//! stored message (an edit adds the new text; a recall makes the old one stale).

use memchr::memmem::Finder;
use natter_proto::model::{ConversationId, Message, MessageBody};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use crate::tables::{MESSAGES, META, SEARCH_META, SEARCH_TEXT};
use crate::{Result, dec};

/// Target size of a block's text.
const BLOCK_BYTES: usize = 32 * 1024;
/// Bytes per entry in a block's meta value.
const ENTRY: usize = 20;

/// Appends (conversation, seq, lower-cased text) entries.
pub fn append(txn: &WriteTransaction, entries: Vec<(u64, u64, String)>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut meta_t = txn.open_table(META)?;
    let mut block = meta_t.get("search_block")?.map(|v| v.value()).unwrap_or(0);
    let mut texts = txn.open_table(SEARCH_TEXT)?;
    let mut metas = txn.open_table(SEARCH_META)?;
    let mut text: Vec<u8> = texts
        .get(block)?
        .map(|v| v.value().to_vec())
        .unwrap_or_default();
    let mut meta: Vec<u8> = metas
        .get(block)?
        .map(|v| v.value().to_vec())
        .unwrap_or_default();
    for (conv, seq, t) in entries {
        if text.len() >= BLOCK_BYTES {
            texts.insert(block, text.as_slice())?;
            metas.insert(block, meta.as_slice())?;
            block += 1;
            text.clear();
            meta.clear();
        }
        text.extend(t.bytes().filter(|b| *b != 0));
        text.push(0);
        meta.extend_from_slice(&conv.to_le_bytes());
        meta.extend_from_slice(&seq.to_le_bytes());
        meta.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    texts.insert(block, text.as_slice())?;
    metas.insert(block, meta.as_slice())?;
    meta_t.insert("search_block", block)?;
    Ok(())
}

fn entry(meta: &[u8], i: usize) -> (u64, u64, usize) {
    let e = &meta[i * ENTRY..(i + 1) * ENTRY];
    let num = |r: std::ops::Range<usize>| {
        let mut b = [0u8; 8];
        b[..r.len()].copy_from_slice(&e[r]);
        u64::from_le_bytes(b)
    };
    (num(0..8), num(8..16), num(16..20) as usize)
}

/// Newest-first matches.
pub fn search(
    txn: &ReadTransaction,
    query: &str,
    only: Option<ConversationId>,
    limit: usize,
) -> Result<Vec<Message>> {
    let query = query.trim();
    if query.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let finder = Finder::new(query.as_bytes());
    let texts = txn.open_table(SEARCH_TEXT)?;
    let metas = txn.open_table(SEARCH_META)?;
    let messages = txn.open_table(MESSAGES)?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for item in texts.iter()?.rev() {
        let (block, text) = item?;
        let Some(meta) = metas.get(block.value())? else {
            continue;
        };
        let meta = meta.value();
        let text = text.value();
        let n = meta.len() / ENTRY;
        // Hits in this block, newest entry first.
        let mut hits: Vec<(u64, u64)> = Vec::new();
        for pos in finder.find_iter(text) {
            // The entry containing `pos`: the first whose end offset is beyond it.
            let i = partition(n, |i| entry(meta, i).2 <= pos);
            if i < n {
                let (conv, seq, _) = entry(meta, i);
                if only.is_none_or(|c| c.0 == conv) {
                    hits.push((conv, seq));
                }
            }
        }
        for (conv, seq) in hits.into_iter().rev() {
            if !seen.insert((conv, seq)) {
                continue;
            }
            let Some(v) = messages.get((conv, seq))? else {
                continue;
            };
            let m: Message = dec(v.value())?;
            let still = matches!(&m.body, MessageBody::Text { text } if text.to_lowercase().contains(query));
            if still {
                out.push(m);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// The first index in `0..n` for which `pred` is false (pred is monotone).
fn partition(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
