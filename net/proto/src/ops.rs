//! How recall, edit and reaction messages change their target. The relay decides
//! whether an operation is allowed; both the relay and clients apply it with
//! [`apply`], so every copy of a conversation ends up the same.

use crate::Millis;
use crate::model::{Message, MessageBody, UserId};

/// Applies the operation `op` (sent by `actor` at `ts`) to `target`. Returns
/// whether `target` changed. Non-operations and operations on a recalled message
/// change nothing.
pub fn apply(target: &mut Message, op: &MessageBody, actor: UserId, ts: Millis) -> bool {
    if matches!(target.body, MessageBody::Recalled) {
        return false;
    }
    match op {
        MessageBody::Recall { .. } => {
            target.body = MessageBody::Recalled;
            target.reactions.clear();
            target.edited_ts = None;
            true
        }
        MessageBody::Edit { text, .. } => match &mut target.body {
            MessageBody::Text { text: old } => {
                *old = text.clone();
                target.edited_ts = Some(ts);
                true
            }
            _ => false,
        },
        MessageBody::Reaction { emoji, add, .. } => {
            let users = target.reactions.entry(emoji.clone()).or_default();
            let present = users.contains(&actor);
            let changed = if *add && !present {
                users.push(actor);
                true
            } else if !*add && present {
                users.retain(|u| *u != actor);
                true
            } else {
                false
            };
            if users.is_empty() {
                target.reactions.remove(emoji);
            }
            changed
        }
        _ => false,
    }
}
