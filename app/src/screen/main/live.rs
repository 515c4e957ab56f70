//! Applying what the live session reports: new messages (with the OS
//! notification and chime), outbox changes, account events, receipts, typing,
//! presence and call notices.

use std::collections::HashMap;

use iced::Task;
use natter_net::session::Event as NetEvent;
use natter_proto::model::{Message as ChatMessage, UserId, UserSummary};
use natter_store::Conversation;

use super::*;

impl Main {
    pub(super) fn on_session(
        &mut self,
        update: session::Update,
        ctx: Context<'_>,
    ) -> (Task<Message>, Option<Event>) {
        let event = match update {
            session::Update::Ready(client) => {
                self.client = Some(client);
                return (self.fetch_avatars(), None);
            }
            session::Update::Failed(e) => {
                self.notice.set(Some(e));
                return (Task::none(), None);
            }
            session::Update::Event(e) => e,
        };
        let task = match event {
            NetEvent::Connecting { .. } => {
                if !matches!(self.status, Status::Offline(_)) {
                    self.status = Status::Connecting;
                }
                Task::none()
            }
            NetEvent::Connected { .. } => {
                self.status = Status::Syncing;
                // What was known of group calls may be over: the relay says
                // again what runs and what rings, right after this.
                self.forget_group_calls();
                Task::none()
            }
            NetEvent::Synced => {
                self.status = Status::Online;
                Task::batch([
                    self.reload_conversations(),
                    self.reload_social(),
                    self.load_selected(),
                ])
            }
            NetEvent::Disconnected { retry_in, .. } => {
                self.status = Status::Offline(retry_in.as_secs().max(1));
                Task::none()
            }
            NetEvent::Messages {
                conversation, new, ..
            } => {
                let incoming = new
                    .iter()
                    .any(|m| m.sender != self.me() && m.body.target().is_none());
                // A mention gets through a muted conversation.
                let me = self.me();
                let mentioned = new.iter().any(|m| m.sender != me && m.extras.mentions(me));
                let muted = conversation.muted && !mentioned;
                if incoming && (!ctx.focused || self.selected != Some(conversation.id)) && !muted {
                    notify(ctx, &conversation, &new, &self.users);
                }
                if crate::sound::should_chime(
                    incoming,
                    ctx.focused,
                    muted,
                    ctx.settings.notifications,
                ) {
                    self.chimes += 1;
                    crate::sound::play_notification_sound();
                }
                // A message from someone ends their typing indicator.
                if let Some((typist, _)) = self.typing.get(&conversation.id)
                    && new.iter().any(|m| m.sender == *typist)
                {
                    self.typing.remove(&conversation.id);
                }
                let mut tasks = vec![self.reload_conversations()];
                if self.selected == Some(conversation.id) {
                    tasks.push(self.load_selected());
                }
                Task::batch(tasks)
            }
            NetEvent::Outbox => Task::batch([self.load_selected(), self.refused_ops()]),
            NetEvent::Account(e) => {
                panels::on_account_event(self, &e.body, ctx.i18n);
                Task::batch([self.reload_social(), self.reload_conversations()])
            }
            NetEvent::ReadReceipt {
                conversation,
                user,
                seq,
            } => {
                if self.selected == Some(conversation) {
                    let cursor = self.reads.entry(user).or_default();
                    *cursor = (*cursor).max(seq);
                }
                self.reload_conversations()
            }
            NetEvent::Typing { conversation, user } => {
                self.typing
                    .insert(conversation, (user, std::time::Instant::now()));
                Task::none()
            }
            NetEvent::Presence { user, online } => {
                if online {
                    self.online.insert(user);
                } else {
                    self.online.remove(&user);
                }
                Task::none()
            }
            NetEvent::Problem(e) => {
                tracing::debug!(error = %e, "session problem");
                Task::none()
            }
            NetEvent::SignedOut => return (Task::none(), Some(Event::SignedOut)),
            NetEvent::Call(notice) => {
                let rung = match &notice {
                    natter_proto::call::CallNotice::Incoming { conversation, .. } => {
                        Some(*conversation)
                    }
                    _ => None,
                };
                self.on_call_notice(notice);
                match rung {
                    Some(conversation) if !ctx.focused => self.notify_group_ring(ctx, conversation),
                    _ => Task::none(),
                }
            }
            // Session events added later have no screen yet.
            #[allow(unreachable_patterns)]
            _ => Task::none(),
        };
        (task, None)
    }
}

/// An OS notification for new messages (best effort: no notification daemon is
/// not an error).
fn notify(
    ctx: Context<'_>,
    conversation: &Conversation,
    new: &[ChatMessage],
    users: &HashMap<UserId, UserSummary>,
) {
    if !ctx.settings.notifications {
        return;
    }
    let Some(m) = new.iter().rev().find(|m| m.body.target().is_none()) else {
        return;
    };
    let name = users
        .get(&m.sender)
        .map(|u| u.nickname.clone())
        .unwrap_or_else(|| conversation.title.clone());
    let title = ctx
        .i18n
        .tr_args("notify-new-message", &[("name", name.into())]);
    let body = super::view::body_preview(ctx.i18n, &m.body);
    os_notification(title, body);
}

/// Shows a desktop notification; on its own thread, as the notification
/// service may be slow or absent.
pub(super) fn os_notification(title: String, body: String) {
    std::thread::spawn(move || {
        let _ = notify_rust::Notification::new()
            .appname("Natter")
            .summary(&title)
            .body(&body)
            .show();
    });
}
