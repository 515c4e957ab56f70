//! Routing the chat's, the composer's and the forward picker's events: what
//! a person does to a message becomes a message through the outbox (a reply,
//! an edit, a recall, a reaction, a forwarded copy), so it is kept while
//! offline and sent once when the connection returns.

use iced::Task;
use natter_i18n::Arg;
use natter_net::Client;
use natter_proto::ErrorCode;
use natter_proto::model::{ConversationId, Extras, Forwarded, MessageBody, Role};

use super::mention::Candidate;
use super::{Context, Event, Main, Message, chat, composer, forward};

impl Main {
    /// Whether the reader owns or administers the open group.
    pub(super) fn privileged(&self) -> bool {
        let me = self.me();
        self.selected
            .and_then(|id| self.groups.iter().find(|g| g.id == id))
            .and_then(|g| g.members.iter().find(|m| m.user.id == me))
            .is_some_and(|m| m.role >= Role::Admin)
    }

    /// Who may be mentioned in the open conversation: the other members of a
    /// group, then `@all`.
    pub(super) fn mention_candidates(&self) -> Vec<Candidate> {
        let me = self.me();
        let Some(group) = self
            .selected
            .and_then(|id| self.groups.iter().find(|g| g.id == id))
        else {
            return Vec::new();
        };
        let mut out: Vec<Candidate> = group
            .members
            .iter()
            .filter(|m| m.user.id != me)
            .map(|m| Candidate {
                user: Some(m.user.id),
                name: m.user.nickname.clone(),
                account: m.user.account.clone(),
            })
            .collect();
        out.push(Candidate::all());
        out
    }

    /// Queues `body` for the open conversation through the outbox, then shows it.
    fn queue(&mut self, body: MessageBody, reply_to: Option<u64>, extras: Extras) -> Task<Message> {
        let (Some(id), Some(client)) = (self.selected, self.client.clone()) else {
            return Task::none();
        };
        Task::perform(
            async move { client.send_with(id, body, reply_to, extras).await.ok() },
            |_| Message::Nothing,
        )
        .chain(self.load_selected())
    }

    /// Handles what the chat reports.
    pub(super) fn update_chat(
        &mut self,
        message: chat::Message,
        ctx: Context<'_>,
    ) -> (Task<Message>, Option<Event>) {
        let ctx_chat = chat::Ctx {
            store: &self.store,
            client: self.client.as_ref(),
            me: self.account.id(),
        };
        let (task, event) = self.chat.update(message, ctx_chat);
        let task = task.map(Message::Chat);
        let Some(event) = event else {
            return (task, None);
        };
        let more = match event {
            chat::Event::Shown => Task::batch([self.mark_read(), self.fetch_pictures()]),
            chat::Event::Reply(m) => {
                let name = self.name_of(m.sender, ctx);
                let snippet = chat::snippet(ctx.i18n, &m.body);
                self.composer
                    .reply(m.seq, name, snippet)
                    .map(Message::Composer)
            }
            chat::Event::Edit(m) => match &m.body {
                MessageBody::Text { text } => {
                    self.composer.edit(m.seq, text).map(Message::Composer)
                }
                _ => Task::none(),
            },
            chat::Event::Forward(m) => {
                self.forward = Some(forward::Forward::new(m));
                iced::widget::operation::focus(forward::SEARCH)
            }
            chat::Event::Recall(target) => {
                self.queue(MessageBody::Recall { target }, None, Extras::default())
            }
            chat::Event::React { target, emoji, add } => self.queue(
                MessageBody::Reaction { target, emoji, add },
                None,
                Extras::default(),
            ),
            chat::Event::WriteAgain(text) => self.composer.put(&text).map(Message::Composer),
            chat::Event::Resend(conv, client_id) => match self.client.clone() {
                Some(c) => {
                    Task::perform(async move { c.resend(conv, &client_id).await.ok() }, |_| {
                        Message::Nothing
                    })
                    .chain(self.load_selected())
                }
                None => Task::none(),
            },
            chat::Event::Attach(m) => self.update_attach(m, ctx.i18n),
            chat::Event::Voice(m) => self.update_voice(m, ctx.i18n),
        };
        (Task::batch([task, more]), None)
    }

    /// Handles what the composer reports.
    pub(super) fn update_composer(
        &mut self,
        message: composer::Message,
        ctx: Context<'_>,
    ) -> (Task<Message>, Option<Event>) {
        let members = self.mention_candidates();
        let (task, event) = self.composer.update(message, &members);
        let task = task.map(Message::Composer);
        let Some(event) = event else {
            return (task, None);
        };
        let more = match event {
            composer::Event::Send {
                text,
                reply_to,
                mentions,
                mention_all,
            } => {
                let clear = self.clear_draft();
                let extras = Extras {
                    mentions,
                    mention_all,
                    forwarded: None,
                };
                Task::batch([
                    self.queue(MessageBody::Text { text }, reply_to, extras),
                    clear,
                ])
            }
            composer::Event::SaveEdit { target, text } => {
                let unchanged = self
                    .chat
                    .message(target)
                    .is_some_and(|m| m.body == MessageBody::Text { text: text.clone() });
                if unchanged {
                    Task::none()
                } else {
                    self.queue(MessageBody::Edit { target, text }, None, Extras::default())
                }
            }
            composer::Event::Typing => {
                if let (Some(id), Some(c)) = (self.selected, &self.client) {
                    c.typing(id);
                }
                Task::none()
            }
            composer::Event::EditLast => {
                let now = natter_proto::now_ms();
                let (_, window) = chat::windows_ms();
                let last = self
                    .chat
                    .last_own_text(self.me())
                    .filter(|m| now - m.ts <= window)
                    .cloned();
                match last {
                    Some(m) => match &m.body {
                        MessageBody::Text { text } => {
                            self.composer.edit(m.seq, text).map(Message::Composer)
                        }
                        _ => Task::none(),
                    },
                    None => Task::none(),
                }
            }
            composer::Event::EmojiUsed(e) => return (task, Some(Event::EmojiUsed(e))),
            composer::Event::Attach => self.update_attach(super::attach::Message::Pick, ctx.i18n),
            composer::Event::Record => self.update_voice(super::voice::Message::Record, ctx.i18n),
            composer::Event::RecordCancel => {
                self.update_voice(super::voice::Message::Cancel, ctx.i18n)
            }
            composer::Event::RecordSend => self.update_voice(super::voice::Message::Send, ctx.i18n),
        };
        (Task::batch([task, more]), None)
    }

    /// Handles the forward picker.
    pub(super) fn update_forward(
        &mut self,
        message: forward::Message,
        ctx: Context<'_>,
    ) -> Task<Message> {
        let Some(picker) = &mut self.forward else {
            return Task::none();
        };
        match picker.update(message) {
            None => Task::none(),
            Some(forward::Event::Cancel) => {
                self.forward = None;
                Task::none()
            }
            Some(forward::Event::Send(original, to)) => {
                self.forward = None;
                let Some(client) = self.client.clone() else {
                    return Task::none();
                };
                // A copy of a copy still names who first wrote it.
                let forwarded = original.extras.forwarded.clone().unwrap_or(Forwarded {
                    from: original.sender,
                    name: self.name_of(original.sender, ctx),
                });
                self.notice.set(Some(
                    ctx.i18n
                        .tr_args("forward-done", &[("count", Arg::from(to.len()))]),
                ));
                let body = original.body.clone();
                Task::perform(forward_to(client, to, body, forwarded), |_| {
                    Message::Nothing
                })
                .chain(self.reload_conversations())
            }
        }
    }

    /// A person's name as the reader knows it.
    pub(super) fn name_of(&self, user: natter_proto::model::UserId, ctx: Context<'_>) -> String {
        if user == self.me() {
            return ctx.i18n.tr("chat-you");
        }
        self.users
            .get(&user)
            .map(|u| u.nickname.clone())
            .unwrap_or_else(|| user.to_string())
    }

    fn clear_draft(&self) -> Task<Message> {
        let Some(id) = self.selected else {
            return Task::none();
        };
        let store = self.store.clone();
        Task::perform(
            async move { store.set_draft(id, String::new()).await.ok() },
            |_| Message::Nothing,
        )
    }

    /// Operations the relay refused are taken out of the outbox and said in
    /// words: a refused recall or edit cannot succeed by being sent again.
    pub(super) fn refused_ops(&self) -> Task<Message> {
        let store = self.store.clone();
        Task::perform(
            async move {
                let mut codes: Vec<ErrorCode> = Vec::new();
                for e in store.outbox().await.unwrap_or_default() {
                    if let natter_store::OutboxState::Failed { reason } = &e.state
                        && e.body.target().is_some()
                    {
                        codes.push(crate::stored_code(reason).unwrap_or(ErrorCode::Internal));
                        let _ = store
                            .outbox_discard(e.conversation, e.client_id.clone())
                            .await;
                    }
                }
                codes
            },
            |codes| {
                if codes.is_empty() {
                    Message::Nothing
                } else {
                    Message::OpsRefused(codes)
                }
            },
        )
    }
}

/// Sends a copy of `body` to each conversation, marked as forwarded.
async fn forward_to(
    client: Client,
    to: Vec<ConversationId>,
    body: MessageBody,
    forwarded: Forwarded,
) {
    for id in to {
        let extras = Extras {
            forwarded: Some(forwarded.clone()),
            ..Extras::default()
        };
        if let Err(e) = client.send_with(id, body.clone(), None, extras).await {
            tracing::warn!(error = %e, "forwarding failed");
        }
    }
}
