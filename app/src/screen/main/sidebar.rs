//! The sidebar: the account's name and connection, the tabs with their
//! badges, the conversation list and the search over the local history.

use std::collections::{BTreeSet, HashMap};

use iced::widget::{button, column, container, image, row, scrollable, space, text, text_input};
use iced::{Center, Element, Fill, Task};
use natter_i18n::{Arg, I18n};
use natter_proto::model::{
    ConversationId, ConversationKind, Message as ChatMessage, UserId, UserSummary,
};
use natter_store::model::Preview;
use natter_store::{Conversation, Store};

use super::view::{body_preview, localized_preview};
use super::{Panel, Status};
use crate::widget::{Face, avatar};
use crate::{clock, style};

/// The search box's widget id.
pub const SEARCH: &str = "search";

/// The sidebar's state.
#[derive(Debug)]
pub struct Sidebar {
    panel: Panel,
    search: String,
    results: Vec<ChatMessage>,
}

impl Default for Sidebar {
    fn default() -> Self {
        Sidebar {
            panel: Panel::Chats,
            search: String::new(),
            results: Vec::new(),
        }
    }
}

/// Sidebar messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// A tab was picked.
    Panel(Panel),
    /// The search box changed.
    Search(String),
    /// Search hits, for the query they answer.
    Results(String, Vec<ChatMessage>),
    /// A conversation was picked.
    Select(ConversationId),
    /// A search hit was picked.
    OpenAt(ConversationId, u64),
    /// "Retry now" while the connection is down.
    RetryNow,
}

/// What the main window must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The tab changed.
    Panel(Panel),
    /// Open a conversation.
    Select(ConversationId),
    /// Open a conversation at a message.
    OpenAt(ConversationId, u64),
    /// Dial the relay again now instead of waiting out the backoff.
    RetryNow,
}

/// What the view needs.
pub struct View<'a> {
    /// Translations.
    pub i18n: &'a I18n,
    /// The reader.
    pub me: UserId,
    /// The reader's name.
    pub me_name: &'a str,
    /// The connection.
    pub status: &'a Status,
    /// Conversations, in list order.
    pub conversations: &'a [Conversation],
    /// The open one.
    pub selected: Option<ConversationId>,
    /// Everyone known.
    pub users: &'a HashMap<UserId, UserSummary>,
    /// Decoded avatars by reference.
    pub avatars: &'a HashMap<String, image::Handle>,
    /// Call records that are the last message of their conversation.
    pub call_records: &'a HashMap<ConversationId, ChatMessage>,
    /// Conversations with an unread mention of the reader.
    pub mentioned: &'a BTreeSet<ConversationId>,
    /// Friend requests waiting for the reader's answer.
    pub requests: usize,
}

/// The connection status, in words and colour.
pub fn status_line<'a, M: 'a>(i18n: &I18n, status: &Status) -> Element<'a, M> {
    let (label, style): (String, fn(&iced::Theme) -> text::Style) = match status {
        Status::Connecting => (i18n.tr("status-connecting"), text::secondary),
        Status::Syncing => (i18n.tr("status-syncing"), text::secondary),
        Status::Online => (i18n.tr("status-online"), text::success),
        Status::Offline(s) => (
            i18n.tr_args("status-offline", &[("seconds", Arg::from(*s))]),
            text::danger,
        ),
    };
    text(label).size(12).style(style).into()
}

/// Unread messages for the Chats tab: not muted, or mentioning the reader.
pub fn unread_total(conversations: &[Conversation], mentioned: &BTreeSet<ConversationId>) -> usize {
    conversations
        .iter()
        .filter(|c| !c.muted || mentioned.contains(&c.id))
        .map(|c| c.unread as usize)
        .sum()
}

impl Sidebar {
    /// The tab showing.
    pub fn panel(&self) -> Panel {
        self.panel
    }

    /// Shows a tab (opening a chat from elsewhere shows the chats).
    pub fn show(&mut self, panel: Panel) {
        self.panel = panel;
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message, store: &Store) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Panel(p) => {
                self.panel = p;
                (Task::none(), Some(Event::Panel(p)))
            }
            Message::Search(q) => {
                self.search = q.clone();
                if q.trim().is_empty() {
                    self.results.clear();
                    return (Task::none(), None);
                }
                let store = store.clone();
                let task = Task::perform(
                    async move {
                        let hits = store.search(&q, None, 50).await.unwrap_or_default();
                        (q, hits)
                    },
                    |(q, hits)| Message::Results(q, hits),
                );
                (task, None)
            }
            Message::Results(q, hits) => {
                // Answers to an older query arrive late: keep the newest.
                if q == self.search {
                    self.results = hits;
                }
                (Task::none(), None)
            }
            Message::Select(id) => (Task::none(), Some(Event::Select(id))),
            Message::RetryNow => (Task::none(), Some(Event::RetryNow)),
            Message::OpenAt(id, seq) => {
                self.panel = Panel::Chats;
                (Task::none(), Some(Event::OpenAt(id, seq)))
            }
        }
    }

    /// The top of the sidebar: name, connection and tabs.
    pub fn header<'a>(&'a self, v: &View<'a>) -> Element<'a, Message> {
        let i18n = v.i18n;
        let nav = |p: Panel, key: &str, badge: usize| {
            let label = if badge > 0 {
                format!("{} ({badge})", i18n.tr(key))
            } else {
                i18n.tr(key)
            };
            button(text(label).size(13).center())
                .style(style::list_item(self.panel == p))
                .padding([6, 8])
                .on_press(Message::Panel(p))
        };
        let mut top = row![
            text(v.me_name.to_string())
                .size(18)
                .wrapping(text::Wrapping::None),
            space::horizontal(),
            status_line(i18n, v.status)
        ]
        .spacing(6)
        .align_y(Center);
        if matches!(v.status, Status::Offline(_)) {
            top = top.push(
                button(text(i18n.tr("status-retry-now")).size(12))
                    .style(button::secondary)
                    .padding([3, 8])
                    .on_press(Message::RetryNow),
            );
        }
        column![
            top,
            row![
                nav(
                    Panel::Chats,
                    "nav-chats",
                    unread_total(v.conversations, v.mentioned)
                ),
                nav(Panel::Contacts, "nav-contacts", v.requests),
                nav(Panel::Groups, "nav-groups", 0),
                nav(Panel::Settings, "nav-settings", 0),
            ]
            .spacing(2),
        ]
        .spacing(8)
        .padding(10)
        .into()
    }

    /// The conversation list, or the search hits while searching.
    pub fn list<'a>(&'a self, v: &View<'a>) -> Element<'a, Message> {
        let i18n = v.i18n;
        let search = text_input(&i18n.tr("search-placeholder"), &self.search)
            .on_input(Message::Search)
            .padding(8)
            .id(SEARCH);
        if !self.search.trim().is_empty() {
            let (now, tz) = (natter_proto::now_ms(), clock::local());
            let hits = self.results.iter().map(|m| {
                let title = v
                    .conversations
                    .iter()
                    .find(|c| c.id == m.conversation)
                    .map(|c| c.title.clone())
                    .unwrap_or_default();
                let name = if m.sender == v.me {
                    i18n.tr("chat-you")
                } else {
                    v.users
                        .get(&m.sender)
                        .map(|u| u.nickname.clone())
                        .unwrap_or_default()
                };
                let from = i18n.tr_args(
                    "search-from",
                    &[
                        ("conversation", Arg::from(title)),
                        ("name", Arg::from(name)),
                        ("time", Arg::from(clock::list_time(i18n, m.ts, now, tz))),
                    ],
                );
                let body = body_preview(i18n, &m.body);
                button(column![text(from).size(11), crate::emoji::text(body, 14.0)].spacing(2))
                    .width(Fill)
                    .style(style::list_item(false))
                    .on_press(Message::OpenAt(m.conversation, m.seq))
                    .into()
            });
            let mut list = column(hits).spacing(2).padding(6);
            if self.results.is_empty() {
                list = list.push(text(i18n.tr("search-none")).size(13));
            }
            return column![
                container(search).padding([0, 10]),
                scrollable(list).height(Fill)
            ]
            .into();
        }
        if v.conversations.is_empty() {
            return column![
                container(search).padding([0, 10]),
                container(text(i18n.tr("conversations-empty")).size(13)).padding(16)
            ]
            .into();
        }
        let items = v.conversations.iter().map(|c| row_of(v, c));
        column![
            container(search).padding([0, 10]),
            scrollable(column(items).spacing(2).padding(6)).height(Fill)
        ]
        .spacing(6)
        .into()
    }
}

/// Who wrote a group's last message, to go before its preview ("Alice:",
/// "You:"); a 1:1 chat's needs no name, nor does a recalled message or a
/// call.
fn by_whom(v: &View<'_>, c: &Conversation, p: &Preview) -> Option<String> {
    use natter_store::model::PreviewKind;
    if !matches!(c.kind, ConversationKind::Group { .. })
        || matches!(p.kind, PreviewKind::Recalled | PreviewKind::Call)
    {
        return None;
    }
    let name = if p.sender == v.me {
        v.i18n.tr("chat-you")
    } else {
        v.users.get(&p.sender)?.nickname.clone()
    };
    Some(v.i18n.tr_args("preview-by", &[("name", Arg::from(name))]))
}

/// One conversation in the list: avatar, title, marks, time, preview, badge.
fn row_of<'a>(v: &View<'a>, c: &'a Conversation) -> Element<'a, Message> {
    let i18n = v.i18n;
    let record = c.last_message.as_ref().and_then(|p| {
        let m = v.call_records.get(&c.id).filter(|m| m.seq == p.seq)?;
        super::call::record(i18n, &m.body, m.sender == v.me)
    });
    let missed = record.as_ref().is_some_and(|(_, missed)| *missed);
    let mentioned = v.mentioned.contains(&c.id);
    let preview = if !c.draft.is_empty() && v.selected != Some(c.id) {
        format!("✎ {}", c.draft)
    } else if let Some((words, _)) = record {
        words
    } else {
        c.last_message
            .as_ref()
            .map(|p| localized_preview(i18n, p.kind, &p.text))
            .unwrap_or_default()
    };
    let time = c
        .last_message
        .as_ref()
        .map(|p| clock::list_time(i18n, p.ts, natter_proto::now_ms(), clock::local()))
        .unwrap_or_default();
    let mut title = row![crate::widget::one_line(c.title.clone(), 15.0, None)]
        .spacing(4)
        .align_y(Center);
    if c.pinned {
        title = title.push(text("📌").size(12).font(crate::emoji::FONT));
    }
    if c.muted {
        title = title.push(text("🔕").size(12).font(crate::emoji::FONT));
    }
    title = title.push(text(time).size(11));
    // One line at every width, cut with "…" (a wrapped preview makes the
    // row taller than its neighbours).
    let preview: Element<'a, Message> =
        crate::widget::one_line(preview, 12.0, missed.then_some(text::danger as fn(&_) -> _));
    let mut bottom = row![].spacing(4).align_y(Center);
    if mentioned && c.unread > 0 {
        bottom = bottom.push(
            text(i18n.tr("mention-you"))
                .size(12)
                .style(text::danger)
                .wrapping(text::Wrapping::None),
        );
    }
    // The writer's name is its own text, before the preview.
    let writer = c
        .last_message
        .as_ref()
        .filter(|_| c.draft.is_empty() || v.selected == Some(c.id))
        .filter(|_| !missed)
        .and_then(|p| by_whom(v, c, p));
    if let Some(name) = writer {
        bottom = bottom.push(text(name).size(12).wrapping(text::Wrapping::None));
    }
    bottom = bottom.push(preview);
    if c.unread > 0 && (!c.muted || mentioned) {
        bottom = bottom.push(
            container(text(c.unread.to_string()).size(11))
                .padding([1, 6])
                .style(style::badge),
        );
    }
    let picture = match &c.kind {
        ConversationKind::Direct { peer } => v
            .users
            .get(peer)
            .and_then(|u| u.avatar.as_ref())
            .and_then(|a| v.avatars.get(a)),
        ConversationKind::Group { .. } => None,
    };
    let face = match &c.kind {
        ConversationKind::Direct { peer } => Face::Person(peer.0),
        ConversationKind::Group { .. } => Face::Group(c.id.0),
    };
    let avatar = avatar(face, &c.title, picture, 36);
    button(
        row![avatar, column![title, bottom].spacing(2)]
            .spacing(8)
            .align_y(Center),
    )
    .width(Fill)
    .padding(8)
    .style(style::list_item(v.selected == Some(c.id)))
    .on_press(Message::Select(c.id))
    .into()
}
