//! Forwarding a message: a picker of conversations with a search box; the
//! copy goes to each one picked, marked with who wrote the original. Pictures,
//! files and voice clips are forwarded by reference, without uploading again.

use std::collections::BTreeSet;

use iced::widget::{button, column, container, row, scrollable, text, text_input};
use iced::{Center, Element, Fill};
use natter_i18n::{Arg, I18n};
use natter_proto::model::{ConversationId, Message as ChatMessage};
use natter_store::Conversation;

use crate::style;

/// The search box's widget id.
pub const SEARCH: &str = "forward-search";

/// The picker's state: the message and the conversations picked.
#[derive(Debug, Clone)]
pub struct Forward {
    message: ChatMessage,
    query: String,
    picked: BTreeSet<ConversationId>,
}

/// Picker messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// The search box changed.
    Query(String),
    /// A conversation was ticked or unticked.
    Toggle(ConversationId),
    /// Send the copies.
    Send,
    /// Close without sending.
    Cancel,
}

/// What the main window must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Send a copy of the message to each of these.
    Send(Box<ChatMessage>, Vec<ConversationId>),
    /// Closed.
    Cancel,
}

impl Forward {
    /// A picker for `message`.
    pub fn new(message: ChatMessage) -> Forward {
        Forward {
            message,
            query: String::new(),
            picked: BTreeSet::new(),
        }
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Query(q) => {
                self.query = q;
                None
            }
            Message::Toggle(id) => {
                if !self.picked.remove(&id) {
                    self.picked.insert(id);
                }
                None
            }
            Message::Send => {
                if self.picked.is_empty() {
                    return None;
                }
                let to = self.picked.iter().copied().collect();
                Some(Event::Send(Box::new(self.message.clone()), to))
            }
            Message::Cancel => Some(Event::Cancel),
        }
    }

    /// Draws the picker over the conversations open for sending.
    pub fn view<'a>(
        &'a self,
        i18n: &I18n,
        conversations: &'a [Conversation],
    ) -> Element<'a, Message> {
        let q = self.query.trim().to_lowercase();
        let rows = conversations
            .iter()
            .filter(|c| !c.closed && (q.is_empty() || c.title.to_lowercase().contains(&q)))
            .map(|c| {
                let on = self.picked.contains(&c.id);
                button(
                    row![text(if on { "☑" } else { "☐" }), text(c.title.clone())]
                        .spacing(8)
                        .align_y(Center),
                )
                .width(Fill)
                .style(style::list_item(on))
                .on_press(Message::Toggle(c.id))
                .into()
            });
        let send = button(text(
            i18n.tr_args("forward-send", &[("count", Arg::from(self.picked.len()))]),
        ))
        .on_press_maybe((!self.picked.is_empty()).then_some(Message::Send));
        let card = column![
            text(i18n.tr("forward-title")).size(16),
            text(super::chat::snippet(i18n, &self.message.body)).size(12),
            text_input(&i18n.tr("forward-search"), &self.query)
                .on_input(Message::Query)
                .padding(8)
                .id(SEARCH),
            scrollable(column(rows).spacing(2)).height(260),
            row![
                button(text(i18n.tr("forward-cancel")))
                    .style(button::secondary)
                    .on_press(Message::Cancel),
                send,
            ]
            .spacing(8),
        ]
        .spacing(8)
        .padding(16)
        .max_width(420);
        container(container(card).style(style::card))
            .center(Fill)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_proto::model::{MessageBody, UserId};

    #[test]
    fn nothing_is_sent_until_something_is_picked() {
        let m = ChatMessage {
            conversation: ConversationId(1),
            seq: 3,
            sender: UserId(2),
            client_id: "c".into(),
            ts: 0,
            body: MessageBody::Text { text: "hi".into() },
            reply_to: None,
            edited_ts: None,
            reactions: Default::default(),
            extras: Default::default(),
        };
        let mut f = Forward::new(m.clone());
        assert_eq!(f.update(Message::Send), None);
        f.update(Message::Toggle(ConversationId(5)));
        f.update(Message::Toggle(ConversationId(6)));
        f.update(Message::Toggle(ConversationId(5)));
        assert_eq!(
            f.update(Message::Send),
            Some(Event::Send(Box::new(m), vec![ConversationId(6)]))
        );
        assert_eq!(f.update(Message::Cancel), Some(Event::Cancel));
    }
}
