//! Groups: creating one from picked friends, the groups the reader is in,
//! opening their chat and leaving them.

use std::collections::BTreeSet;

use iced::widget::{button, column, row, scrollable, text, text_input};
use iced::{Center, Element, Fill, Task};
use natter_i18n::{Arg, I18n};
use natter_net::Client;
use natter_proto::model::{ConversationId, Friend, Group, UserId};

use super::panels::{Outcome, PanelEvent, rest};
use crate::style;

/// The groups panel's state: the group being made.
#[derive(Debug, Default)]
pub struct Groups {
    name: String,
    pick: BTreeSet<UserId>,
}

/// Groups messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// The new group's name changed.
    Name(String),
    /// A friend picked or unpicked for the new group.
    Pick(UserId, bool),
    /// Create the group.
    Create,
    /// Leave a group.
    Leave(ConversationId),
    /// Open a group's chat.
    Chat(ConversationId),
    /// A REST call finished.
    Done(Outcome),
}

/// What the main window must do.
#[derive(Debug, Clone)]
pub enum Event {
    /// What every panel may ask.
    Panel(PanelEvent),
    /// The reader is leaving this group.
    Leaving(ConversationId),
}

impl Groups {
    /// Handles a message.
    pub fn update(
        &mut self,
        message: Message,
        client: Option<&Client>,
        i18n: &I18n,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Name(n) => {
                self.name = n;
                (Task::none(), None)
            }
            Message::Pick(user, on) => {
                if on {
                    self.pick.insert(user);
                } else {
                    self.pick.remove(&user);
                }
                (Task::none(), None)
            }
            Message::Create => {
                let name = self.name.trim().to_string();
                if name.is_empty() {
                    return (
                        Task::none(),
                        Some(Event::Panel(PanelEvent::Notice(
                            i18n.tr("groups-name-required"),
                        ))),
                    );
                }
                let members: Vec<_> = self.pick.iter().copied().collect();
                self.name.clear();
                self.pick.clear();
                let done = i18n.tr_args("groups-joined", &[("name", Arg::from(name.as_str()))]);
                let task = rest(client, move |c, t| async move {
                    c.http().create_group(&t, &name, members).await?;
                    Ok(done)
                });
                (task.map(Message::Done), None)
            }
            Message::Leave(id) => {
                let task = rest(client, move |c, t| async move {
                    c.http().leave_group(&t, id).await?;
                    Ok(String::new())
                });
                (task.map(Message::Done), Some(Event::Leaving(id)))
            }
            Message::Chat(id) => (Task::none(), Some(Event::Panel(PanelEvent::Chat(id)))),
            Message::Done(outcome) => (Task::none(), Some(Event::Panel(PanelEvent::done(outcome)))),
        }
    }

    /// Draws the panel.
    pub fn view<'a>(
        &'a self,
        i18n: &I18n,
        friends: &'a [Friend],
        groups: &'a [Group],
    ) -> Element<'a, Message> {
        let mut col = column![
            text_input(&i18n.tr("groups-name"), &self.name)
                .on_input(Message::Name)
                .on_submit(Message::Create)
                .padding(8)
                .id("group-name"),
            text(i18n.tr("groups-pick-members")).size(12),
        ]
        .spacing(6)
        .padding(10);
        for f in friends {
            let id = f.user.id;
            let picked = self.pick.contains(&id);
            col = col.push(
                button(
                    row![
                        text(if picked { "☑" } else { "☐" }),
                        text(f.user.nickname.clone())
                    ]
                    .spacing(6),
                )
                .style(style::list_item(picked))
                .on_press(Message::Pick(id, !picked)),
            );
        }
        col = col.push(button(text(i18n.tr("groups-create"))).on_press(Message::Create));
        col = col.push(text(i18n.tr("groups-title")).size(14));
        for g in groups {
            let count = i18n.tr_args("groups-members", &[("count", Arg::from(g.members.len()))]);
            col = col.push(
                row![
                    column![text(g.name.clone()), text(count).size(11)].width(Fill),
                    button(text(i18n.tr("friends-message")).size(12)).on_press(Message::Chat(g.id)),
                    button(text(i18n.tr("groups-leave")).size(12))
                        .style(button::danger)
                        .on_press(Message::Leave(g.id)),
                ]
                .spacing(4)
                .align_y(Center),
            );
        }
        scrollable(col).height(Fill).into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_group_without_a_name_is_not_created_and_the_person_is_told() {
        let i18n = I18n::new(natter_i18n::Language::EnUs).unwrap();
        let mut g = Groups::default();
        let (_, e) = g.update(Message::Name("   ".into()), None, &i18n);
        assert!(e.is_none());
        let (_, e) = g.update(Message::Create, None, &i18n);
        assert!(matches!(e, Some(Event::Panel(PanelEvent::Notice(n))) if n.contains("name")));
        let _ = g.update(Message::Pick(UserId(3), true), None, &i18n);
        let _ = g.update(Message::Pick(UserId(3), false), None, &i18n);
        assert!(g.pick.is_empty());
    }
}
