//! Contacts: finding an account and asking to be friends, answering friend
//! requests, and the friend list with who is online.

use std::collections::BTreeSet;

use iced::widget::{button, column, row, scrollable, text, text_input};
use iced::{Center, Element, Fill, Task};
use natter_i18n::I18n;
use natter_net::Client;
use natter_proto::model::{
    ConversationId, Friend, FriendRequest, RequestStatus, UserId, UserSummary,
};

use super::panels::{Outcome, PanelEvent, rest};
use crate::app::Shared;

/// The contacts panel's state.
#[derive(Debug, Default)]
pub struct Contacts {
    query: String,
    found: Vec<UserSummary>,
    note: String,
}

/// Contacts messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// The search field changed.
    Query(String),
    /// Find accounts.
    Find,
    /// Accounts found.
    Found(Result<Vec<UserSummary>, Shared<natter_net::Error>>),
    /// The request note changed.
    Note(String),
    /// Ask someone to be friends.
    Request(UserId),
    /// Answer a request.
    Answer(u64, bool),
    /// Open the chat with a friend.
    Chat(ConversationId),
    /// A REST call finished.
    Done(Outcome),
}

/// What the main window must do.
pub type Event = PanelEvent;

/// What the view needs.
pub struct View<'a> {
    /// Translations.
    pub i18n: &'a I18n,
    /// The reader.
    pub me: UserId,
    /// Friends.
    pub friends: &'a [Friend],
    /// Friend requests.
    pub requests: &'a [FriendRequest],
    /// Who is online.
    pub online: &'a BTreeSet<UserId>,
}

impl Contacts {
    /// Handles a message.
    pub fn update(
        &mut self,
        message: Message,
        client: Option<&Client>,
        i18n: &I18n,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Query(q) => {
                self.query = q;
                (Task::none(), None)
            }
            Message::Find => {
                let q = self.query.trim().to_string();
                let Some(client) = client.cloned() else {
                    return (Task::none(), None);
                };
                if q.is_empty() {
                    return (Task::none(), None);
                }
                let task = Task::perform(
                    async move {
                        let token = client.token().await?;
                        client.http().search_users(&token, &q).await
                    },
                    |r| Message::Found(r.map_err(|e| Shared(std::sync::Arc::new(e)))),
                );
                (task, None)
            }
            Message::Found(Ok(users)) => {
                let none = users.is_empty();
                self.found = users;
                let event = none.then(|| Event::Notice(i18n.tr("friends-search-none")));
                (Task::none(), event)
            }
            Message::Found(Err(e)) => (Task::none(), Some(Event::Failed(e))),
            Message::Note(n) => {
                self.note = n;
                (Task::none(), None)
            }
            Message::Request(user) => {
                let note = self.note.trim().to_string();
                let sent = i18n.tr("friends-request-sent");
                self.found.clear();
                self.query.clear();
                self.note.clear();
                let task = rest(client, move |c, t| async move {
                    c.http().send_friend_request(&t, user, &note).await?;
                    Ok(sent)
                });
                (task.map(Message::Done), None)
            }
            Message::Answer(id, accept) => {
                let done = i18n.tr(if accept {
                    "friends-accepted"
                } else {
                    "friends-rejected"
                });
                let task = rest(client, move |c, t| async move {
                    c.http().answer_friend_request(&t, id, accept).await?;
                    Ok(done)
                });
                (task.map(Message::Done), None)
            }
            Message::Chat(id) => (Task::none(), Some(Event::Chat(id))),
            Message::Done(outcome) => (Task::none(), Some(Event::done(outcome))),
        }
    }

    /// Draws the panel.
    pub fn view<'a>(&'a self, v: View<'a>) -> Element<'a, Message> {
        let i18n = v.i18n;
        let mut col = column![
            text(i18n.tr("friends-add")).size(14),
            row![
                text_input(&i18n.tr("friends-search-placeholder"), &self.query)
                    .on_input(Message::Query)
                    .on_submit(Message::Find)
                    .padding(8)
                    .id("friend-query"),
                button(text(i18n.tr("friends-search"))).on_press(Message::Find),
            ]
            .spacing(6),
        ]
        .spacing(8)
        .padding(10);
        for u in &self.found {
            let mut card = column![text(format!("{} (@{})", u.nickname, u.account))].spacing(4);
            if u.id == v.me {
                card = card.push(text(i18n.tr("friends-is-you")).size(12));
            } else if let Some(f) = v.friends.iter().find(|f| f.user.id == u.id) {
                card = card.push(
                    row![
                        text(i18n.tr("friends-already")).size(12).width(Fill),
                        button(text(i18n.tr("friends-message")).size(12))
                            .on_press(Message::Chat(f.conversation)),
                    ]
                    .align_y(Center),
                );
            } else {
                card = card
                    .push(
                        text_input(&i18n.tr("friends-request-note"), &self.note)
                            .on_input(Message::Note)
                            .padding(6),
                    )
                    .push(
                        button(text(i18n.tr("friends-send-request")))
                            .on_press(Message::Request(u.id)),
                    );
            }
            col = col.push(card);
        }
        col = col.push(text(i18n.tr("friends-requests")).size(14));
        let pending: Vec<_> = v
            .requests
            .iter()
            .filter(|r| r.status == RequestStatus::Pending)
            .collect();
        if pending.is_empty() {
            col = col.push(text(i18n.tr("friends-requests-empty")).size(12));
        }
        for r in pending {
            if r.to.id == v.me {
                col = col.push(
                    column![
                        text(format!("{}: {}", r.from.nickname, r.message)).size(13),
                        row![
                            button(text(i18n.tr("friends-accept")))
                                .on_press(Message::Answer(r.id, true)),
                            button(text(i18n.tr("friends-reject")))
                                .style(button::secondary)
                                .on_press(Message::Answer(r.id, false)),
                        ]
                        .spacing(6),
                    ]
                    .spacing(4),
                );
            } else {
                col = col.push(
                    text(format!(
                        "{} — {}",
                        r.to.nickname,
                        i18n.tr("friends-pending")
                    ))
                    .size(12),
                );
            }
        }
        col = col.push(text(i18n.tr("friends-title")).size(14));
        for f in v.friends {
            let presence = if v.online.contains(&f.user.id) {
                i18n.tr("friends-online")
            } else {
                i18n.tr("friends-offline")
            };
            col = col.push(
                row![
                    text(format!("{} · {presence}", f.user.nickname)).width(Fill),
                    button(text(i18n.tr("friends-message")).size(12))
                        .on_press(Message::Chat(f.conversation)),
                ]
                .align_y(Center),
            );
        }
        scrollable(col).height(Fill).into()
    }
}
