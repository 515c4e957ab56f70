//! Messages: send, history, read cursors, typing, conversation state.

use natter_proto::ErrorCode;
use natter_proto::frame::ServerFrame;
use natter_proto::limits::MAX_ID_LEN;
use natter_proto::limits::MAX_NAME_CHARS;
use natter_proto::model::{
    ConversationId, ConversationKind, ConversationState, Extras, Forwarded, Message, MessageBody,
    Role, UserId,
};

use super::Service;
use crate::error::{Error, Result};
use crate::storage::{self, MemberRecord, NewMessage};
use crate::util::now_ms;

/// A message as a client sent it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The sender's idempotency key.
    pub client_id: String,
    /// Where to.
    pub conversation: ConversationId,
    /// What.
    pub body: MessageBody,
    /// The message replied to.
    pub reply_to: Option<u64>,
    /// Mentions and forwarding.
    pub extras: Extras,
}

/// What a successful send returns to the sender.
#[derive(Debug, Clone)]
pub struct Ack {
    /// The stored message.
    pub message: Message,
    /// Whether it had been stored before (a resend).
    pub duplicate: bool,
}

impl Service {
    fn check_body(&self, body: &MessageBody) -> Result<()> {
        let max = self.config.limits.max_text_chars as usize;
        let too_long = |t: &str| t.chars().count() > max;
        match body {
            MessageBody::Text { text } | MessageBody::Edit { text, .. } => {
                if text.trim().is_empty() {
                    return Err(Error::bad_request("text must not be empty"));
                }
                if too_long(text) {
                    return Err(Error::client(
                        ErrorCode::TooLarge,
                        format!("text longer than {max} characters"),
                    ));
                }
            }
            MessageBody::Image { file, .. }
            | MessageBody::File { file }
            | MessageBody::Voice { file, .. } => {
                if let MessageBody::Image {
                    preview: Some(p), ..
                } = body
                    && p.len() > natter_proto::model::PREVIEW_MAX_CHARS
                {
                    return Err(Error::bad_request("image preview too large"));
                }
                if file.id.is_empty() || file.id.len() > 128 || file.name.chars().count() > 255 {
                    return Err(Error::bad_request("invalid file reference"));
                }
                if file.size > self.config.limits.max_file_bytes {
                    return Err(Error::client(ErrorCode::TooLarge, "file too large"));
                }
            }
            MessageBody::Reaction { emoji, .. } => {
                if emoji.is_empty() || emoji.chars().count() > 8 {
                    return Err(Error::bad_request("a reaction is one emoji"));
                }
            }
            MessageBody::Recall { .. } => {}
            MessageBody::Recalled | MessageBody::Call { .. } => {
                return Err(Error::bad_request("this kind is written by the relay only"));
            }
        }
        Ok(())
    }

    /// Stores a message and delivers it to every device of every member except the
    /// sending connection. A resend of a stored client id returns the stored
    /// message and delivers nothing again.
    pub async fn send_message(
        &self,
        sender: UserId,
        conn: Option<u64>,
        out: Outgoing,
    ) -> Result<Ack> {
        let Outgoing {
            client_id,
            conversation,
            body,
            reply_to,
            extras,
        } = out;
        if client_id.is_empty()
            || client_id.len() > MAX_ID_LEN
            || client_id.chars().any(char::is_control)
        {
            return Err(Error::bad_request(format!(
                "client_id must be 1–{MAX_ID_LEN} bytes"
            )));
        }
        self.check_body(&body)?;
        if let MessageBody::Image { file, .. }
        | MessageBody::File { file }
        | MessageBody::Voice { file, .. } = &body
        {
            // The reference must name a stored file, as it was stored.
            let stored = crate::files::meta(&self.config.files_dir(), &file.id)
                .await?
                .ok_or_else(|| Error::not_found("no such file"))?;
            if stored.size != file.size {
                return Err(Error::bad_request(
                    "file size does not match the stored file",
                ));
            }
        }
        let extras = self
            .check_extras(sender, conversation, &body, extras)
            .await?;
        let started = std::time::Instant::now();
        let appended = self
            .storage
            .append(NewMessage {
                conversation,
                sender,
                client_id,
                body,
                reply_to,
                ts: now_ms(),
                recall_window_ms: i64::from(self.config.limits.recall_window_secs) * 1000,
                edit_window_ms: i64::from(self.config.limits.edit_window_secs) * 1000,
                extras,
            })
            .await?;
        self.metrics.commit(started.elapsed());
        if !appended.duplicate {
            self.metrics.message_sent();
            let frame = ServerFrame::Message {
                message: appended.message.clone(),
            };
            self.push(&appended.members, &frame, conn);
        }
        Ok(Ack {
            message: appended.message,
            duplicate: appended.duplicate,
        })
    }

    /// Checks mentions and forwarding (protocol version 2). Mentions are for
    /// content in groups and must name members; `@all` is for the owner and
    /// admins. A forwarded copy's name is the original sender's as the relay
    /// knows it, whatever the client said.
    async fn check_extras(
        &self,
        sender: UserId,
        conversation: ConversationId,
        body: &MessageBody,
        mut extras: Extras,
    ) -> Result<Extras> {
        if extras == Extras::default() {
            return Ok(extras);
        }
        if body.target().is_some() {
            return Err(Error::bad_request(
                "an operation carries no mentions and is not forwarded",
            ));
        }
        if !extras.mentions.is_empty() || extras.mention_all {
            if !matches!(body, MessageBody::Text { .. }) {
                return Err(Error::bad_request("only text messages mention"));
            }
            let group = self
                .storage
                .conversation(conversation)
                .await?
                .is_some_and(|c| matches!(c.kind, storage::ConversationKind::Group { .. }));
            if !group {
                return Err(Error::client(
                    ErrorCode::BadMention,
                    "mentions are for groups",
                ));
            }
            let (me, members) = self.membership(sender, conversation).await?;
            if extras.mention_all && me.role < Role::Admin {
                return Err(Error::client(
                    ErrorCode::BadMention,
                    "only the owner and admins may mention everyone",
                ));
            }
            extras.mentions.sort_unstable();
            extras.mentions.dedup();
            if let Some(stranger) = extras
                .mentions
                .iter()
                .find(|u| !members.iter().any(|m| m.user == **u))
            {
                return Err(Error::client(
                    ErrorCode::BadMention,
                    format!("{stranger} is not a member of this group"),
                ));
            }
        }
        if let Some(forwarded) = &extras.forwarded {
            let original = self
                .storage
                .user(forwarded.from)
                .await?
                .ok_or_else(|| Error::not_found("forwarded.from names no account"))?;
            extras.forwarded = Some(Forwarded {
                from: original.id,
                name: original.nickname.chars().take(MAX_NAME_CHARS).collect(),
            });
        }
        Ok(extras)
    }

    /// The caller's membership of a conversation, or `not_member`.
    pub async fn membership(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(MemberRecord, Vec<MemberRecord>)> {
        let members = self.storage.members(conversation).await?;
        let me = members
            .iter()
            .find(|m| m.user == user)
            .cloned()
            .ok_or_else(|| Error::client(ErrorCode::NotMember, "not in this conversation"))?;
        Ok((me, members))
    }

    /// A page of history; see `ClientFrame::History`. Returns the page and whether
    /// more messages lie beyond it in the direction read.
    pub async fn history(
        &self,
        user: UserId,
        conversation: ConversationId,
        after: Option<u64>,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> Result<(Vec<Message>, bool)> {
        let (me, _) = self.membership(user, conversation).await?;
        let page = self.config.limits.page_size as usize;
        let limit = limit.map(|l| (l as usize).clamp(1, page)).unwrap_or(page);
        let floor = me.first_seq.saturating_sub(1);
        let lower = after.unwrap_or(0).max(floor);
        let upper = before.unwrap_or(u64::MAX);
        // With only `before` (or nothing) the newest page is wanted; with `after`
        // the page right after it.
        let newest = after.is_none();
        let mut messages = self
            .storage
            .messages(conversation, lower, upper, limit + 1, newest)
            .await?;
        let more = messages.len() > limit;
        if more {
            if newest {
                messages.remove(0);
            } else {
                messages.truncate(limit);
            }
        }
        Ok((messages, more))
    }

    /// Raises the caller's read cursor and tells the conversation.
    pub async fn mark_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        seq: u64,
    ) -> Result<()> {
        let members = self.storage.members(conversation).await?;
        let (now, moved) = self.storage.set_read(user, conversation, seq).await?;
        if !moved {
            return Ok(());
        }
        let ids: Vec<UserId> = members.iter().map(|m| m.user).collect();
        self.push(
            &ids,
            &ServerFrame::ReadReceipt {
                conversation,
                user,
                seq: now,
            },
            None,
        );
        Ok(())
    }

    /// Tells the other members that the caller is typing.
    pub async fn typing(&self, user: UserId, conversation: ConversationId) -> Result<()> {
        let (_, members) = self.membership(user, conversation).await?;
        let others: Vec<UserId> = members
            .iter()
            .map(|m| m.user)
            .filter(|u| *u != user)
            .collect();
        self.push(&others, &ServerFrame::Typing { conversation, user }, None);
        Ok(())
    }

    /// Every member's read cursor, for a member of the conversation.
    pub async fn reads(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Vec<natter_proto::rest::ReadCursor>> {
        let (_, members) = self.membership(user, conversation).await?;
        let reads = self.storage.read_cursors(conversation).await?;
        Ok(members
            .iter()
            .map(|m| natter_proto::rest::ReadCursor {
                user: m.user,
                seq: reads
                    .iter()
                    .find(|(u, _)| *u == m.user)
                    .map_or(0, |(_, s)| *s),
            })
            .collect())
    }

    /// Every conversation the caller is in, with cursors.
    pub async fn conversations(&self, user: UserId) -> Result<Vec<ConversationState>> {
        let mut out = Vec::new();
        for (conv, me, last_seq) in self.storage.conversations_of(user).await? {
            let reads = self.storage.read_cursors(conv.id).await?;
            let read_of = |u: UserId| {
                reads
                    .iter()
                    .find(|(r, _)| *r == u)
                    .map(|(_, s)| *s)
                    .unwrap_or(0)
            };
            let (kind, peer_read_seq) = match &conv.kind {
                storage::ConversationKind::Direct { a, b, .. } => {
                    let peer = if *a == user { *b } else { *a };
                    (ConversationKind::Direct { peer }, Some(read_of(peer)))
                }
                storage::ConversationKind::Group { name, .. } => {
                    (ConversationKind::Group { name: name.clone() }, None)
                }
            };
            out.push(ConversationState {
                id: conv.id,
                kind,
                last_seq,
                read_seq: read_of(user),
                peer_read_seq,
                first_seq: me.first_seq,
            });
        }
        Ok(out)
    }
}
