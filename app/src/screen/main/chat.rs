//! The chat: the open conversation's history as a window of at most
//! [`WINDOW`] messages, its bubbles, the menu and hover bar of each message,
//! and jumping to a message (a quoted one, a search hit), loading the window
//! around it from the store when it is far back.
//!
//! The chat reads from the store and remembers what is only this device's
//! (messages deleted for me, text of messages recalled here); everything sent
//! goes up to the main window as an [`Event`].

mod bubble;
mod runs;

use std::collections::{BTreeSet, HashMap};

use iced::Task;
use iced::widget::operation::{self, RelativeOffset};
use natter_net::Client;
use natter_proto::model::{ConversationId, Message as ChatMessage, MessageBody, UserId};
use natter_store::{OutboxEntry, Store};

use super::{attach, voice};

pub use bubble::{View, snippet};
pub use runs::{Place, RUN_GAP_MS, places};

/// How many messages the chat holds at most; older ones load on demand.
pub const WINDOW: usize = 300;
/// Messages loaded per page.
pub const PAGE: usize = 50;
/// Messages loaded on each side of one jumped to.
const AROUND: u64 = 25;
/// The history's widget id.
pub const LOG: &str = "log";
/// Emoji offered at once in a message's menu.
pub const QUICK: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/// The open conversation's chat.
#[derive(Debug, Default)]
pub struct Chat {
    id: Option<ConversationId>,
    messages: Vec<ChatMessage>,
    pending: Vec<OutboxEntry>,
    more_above: bool,
    /// The window stops short of the newest message (after a jump far back).
    more_below: bool,
    hovered: Option<u64>,
    menu: Option<u64>,
    picker: Option<u64>,
    highlight: Option<u64>,
    hidden: BTreeSet<u64>,
    /// Messages replied to that lie outside the window.
    quotes: HashMap<u64, ChatMessage>,
    /// Own messages recalled on this device, with their text, to write again.
    recalled: HashMap<u64, String>,
    /// The first message unread when the conversation was opened.
    unread_from: Option<u64>,
    loaded_once: bool,
    /// Whether the reader has scrolled up from the newest message.
    scrolled_up: bool,
    /// Messages that arrived while scrolled up.
    arrived: usize,
    /// The message whose readers are listed.
    readers: Option<u64>,
}

/// How long after sending the relay allows a recall and an edit, in
/// milliseconds (the defaults every Natter relay announces unless configured).
pub fn windows_ms() -> (i64, i64) {
    let limits = natter_proto::limits::Limits::default();
    (
        i64::from(limits.recall_window_secs) * 1000,
        i64::from(limits.edit_window_secs) * 1000,
    )
}

/// A page of the open conversation, read from the store.
#[derive(Debug, Clone)]
pub struct Page {
    id: ConversationId,
    messages: Vec<ChatMessage>,
    pending: Vec<OutboxEntry>,
    more_above: bool,
    more_below: bool,
    hidden: BTreeSet<u64>,
    quotes: HashMap<u64, ChatMessage>,
    read_seq: u64,
    /// A message to show highlighted once the page is in.
    jump: Option<u64>,
}

/// What can be done to a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Reply to it.
    Reply,
    /// Forward it to other conversations.
    Forward,
    /// Copy its text.
    Copy,
    /// Edit it (own text messages).
    Edit,
    /// Recall it.
    Recall,
    /// Hide it on this device only.
    DeleteForMe,
    /// Toggle a reaction.
    React(String),
    /// Open the full emoji picker for reactions.
    MoreReactions,
    /// Put the text of an own recalled message back into the composer.
    WriteAgain,
}

/// Chat messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// A page was read.
    Loaded(Box<Page>),
    /// Load older messages.
    LoadOlder,
    /// Older messages read.
    Older(ConversationId, Vec<ChatMessage>),
    /// The pointer is over a message (or over none).
    Hover(Option<u64>),
    /// Open (or close) a message's menu.
    Menu(Option<u64>),
    /// An action on a message.
    Act(u64, Action),
    /// Show a message, loading the window around it if needed.
    Jump(u64),
    /// Back to the newest messages.
    Latest,
    /// The history scrolled; how far from the bottom, in pixels.
    Scrolled(f32),
    /// Show or hide who read a message.
    Readers(u64),
    /// Messages deleted for me were written to the store.
    HiddenSaved,
    /// Resend a failed message.
    Resend(String),
    /// A picture or file part was used.
    Attach(attach::Message),
    /// A voice part was used.
    Voice(voice::Message),
}

/// What the main window must do.
#[derive(Debug, Clone)]
pub enum Event {
    /// History is on screen: mark it read, fetch its pictures.
    Shown,
    /// Reply to a message.
    Reply(ChatMessage),
    /// Forward a message.
    Forward(ChatMessage),
    /// Edit an own message.
    Edit(ChatMessage),
    /// Recall a message.
    Recall(u64),
    /// Add or remove the reader's reaction.
    React {
        /// The message.
        target: u64,
        /// The emoji.
        emoji: String,
        /// Add or remove.
        add: bool,
    },
    /// Put this text into the composer.
    WriteAgain(String),
    /// Resend a failed message.
    Resend(ConversationId, String),
    /// Pictures and files.
    Attach(attach::Message),
    /// Voice messages.
    Voice(voice::Message),
}

/// What the chat's `update` needs.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The local database.
    pub store: &'a Store,
    /// The live client, once there is one.
    pub client: Option<&'a Client>,
    /// The reader.
    pub me: UserId,
}

fn hidden_key(id: ConversationId) -> String {
    format!("hidden:{}", id.0)
}

impl Chat {
    /// The chat of `id`, loading its newest page.
    pub fn open(id: ConversationId, ctx: Ctx<'_>) -> (Chat, Task<Message>) {
        let chat = Chat {
            id: Some(id),
            ..Chat::default()
        };
        let task = chat.reload(ctx);
        (chat, task)
    }

    /// The conversation shown.
    pub fn id(&self) -> Option<ConversationId> {
        self.id
    }

    /// The messages in the window, oldest first (operations included).
    pub fn messages(&self) -> &[ChatMessage] {
        &self.messages
    }

    /// The message highlighted after a jump.
    pub fn highlighted(&self) -> Option<u64> {
        self.highlight
    }

    /// The message whose menu is open.
    pub fn menu(&self) -> Option<u64> {
        self.menu
    }

    /// A message in the window by seq.
    pub fn message(&self, seq: u64) -> Option<&ChatMessage> {
        self.messages.iter().find(|m| m.seq == seq)
    }

    /// The messages drawn as bubbles: not operations, not deleted here.
    fn shown(&self) -> impl DoubleEndedIterator<Item = &ChatMessage> {
        self.messages
            .iter()
            .filter(|m| m.body.target().is_none() && !self.hidden.contains(&m.seq))
    }

    /// The newest own text message that may still be edited.
    pub fn last_own_text(&self, me: UserId) -> Option<&ChatMessage> {
        self.shown()
            .rev()
            .find(|m| m.sender == me && matches!(m.body, MessageBody::Text { .. }))
    }

    /// Reads the newest page again (after a new message, an ack, a sync),
    /// unless the reader is looking at a window far back.
    pub fn refresh(&mut self, ctx: Ctx<'_>) -> Task<Message> {
        if self.more_below {
            return Task::none();
        }
        self.reload(ctx)
    }

    /// Reads the newest page.
    fn reload(&self, ctx: Ctx<'_>) -> Task<Message> {
        let Some(id) = self.id else {
            return Task::none();
        };
        let store = ctx.store.clone();
        let client = ctx.client.cloned();
        Task::perform(
            async move {
                let messages = match &client {
                    Some(c) => c.history(id, None, PAGE).await.unwrap_or_default(),
                    None => store.history(id, None, PAGE).await.unwrap_or_default(),
                };
                page(&store, id, messages, false, None).await
            },
            |p| Message::Loaded(Box::new(p)),
        )
    }

    /// Reads the window around `seq`.
    fn around(&self, seq: u64, ctx: Ctx<'_>) -> Task<Message> {
        let Some(id) = self.id else {
            return Task::none();
        };
        let store = ctx.store.clone();
        Task::perform(
            async move {
                let from = seq.saturating_sub(AROUND).max(1);
                let messages = store
                    .messages(id, from, seq + AROUND, (2 * AROUND + 1) as usize, false)
                    .await
                    .unwrap_or_default();
                let last = store
                    .conversation(id)
                    .await
                    .ok()
                    .flatten()
                    .map_or(0, |c| c.last_seq);
                let below = messages.last().is_some_and(|m| m.seq < last);
                page(&store, id, messages, below, Some(seq)).await
            },
            |p| Message::Loaded(Box::new(p)),
        )
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message, ctx: Ctx<'_>) -> (Task<Message>, Option<Event>) {
        match message {
            Message::HiddenSaved => (Task::none(), None),
            Message::Readers(seq) => {
                self.readers = if self.readers == Some(seq) {
                    None
                } else {
                    Some(seq)
                };
                (Task::none(), None)
            }
            Message::Loaded(page) => {
                if Some(page.id) != self.id {
                    return (Task::none(), None);
                }
                let page = *page;
                if !self.loaded_once {
                    self.loaded_once = true;
                    self.unread_from = page
                        .messages
                        .iter()
                        .find(|m| m.seq > page.read_seq && m.sender != ctx.me)
                        .filter(|_| page.read_seq > 0 || page.messages.len() > 1)
                        .map(|m| m.seq);
                }
                // While scrolled up, count what came in from others below.
                let newest = self.messages.last().map_or(0, |m| m.seq);
                if self.scrolled_up && newest > 0 {
                    self.arrived += page
                        .messages
                        .iter()
                        .filter(|m| {
                            m.seq > newest && m.sender != ctx.me && m.body.target().is_none()
                        })
                        .count();
                }
                self.messages = page.messages;
                self.pending = page.pending;
                self.more_above = page.more_above;
                self.more_below = page.more_below;
                self.hidden = page.hidden;
                self.quotes = page.quotes;
                let mut task = Task::none();
                if let Some(seq) = page.jump {
                    self.highlight = Some(seq);
                    task = self.scroll_to(seq);
                } else if !self.more_below && !self.scrolled_up {
                    self.arrived = 0;
                }
                (task, Some(Event::Shown))
            }
            Message::LoadOlder => {
                let (Some(id), Some(first)) = (self.id, self.messages.first().map(|m| m.seq))
                else {
                    return (Task::none(), None);
                };
                let client = ctx.client.cloned();
                let store = ctx.store.clone();
                let task = Task::perform(
                    async move {
                        let page = match client {
                            Some(c) => c.history(id, Some(first), PAGE).await.unwrap_or_default(),
                            None => store
                                .history(id, Some(first), PAGE)
                                .await
                                .unwrap_or_default(),
                        };
                        (id, page)
                    },
                    |(id, page)| Message::Older(id, page),
                );
                (task, None)
            }
            Message::Older(id, page) => {
                if Some(id) != self.id {
                    return (Task::none(), None);
                }
                self.more_above = page.len() == PAGE;
                let mut merged = page;
                merged.append(&mut self.messages);
                // Keep a window: while reading back, drop the newest beyond it.
                if merged.len() > WINDOW {
                    merged.truncate(WINDOW);
                    self.more_below = true;
                }
                self.messages = merged;
                (Task::none(), Some(Event::Shown))
            }
            Message::Hover(seq) => {
                self.hovered = seq;
                (Task::none(), None)
            }
            Message::Menu(seq) => {
                self.menu = seq;
                self.picker = None;
                (Task::none(), None)
            }
            Message::Act(seq, action) => self.act(seq, action, ctx),
            Message::Jump(seq) => {
                if self.messages.iter().any(|m| m.seq == seq) {
                    self.highlight = Some(seq);
                    (self.scroll_to(seq), None)
                } else {
                    (self.around(seq, ctx), None)
                }
            }
            Message::Latest => {
                self.more_below = false;
                self.scrolled_up = false;
                self.arrived = 0;
                self.highlight = None;
                (
                    Task::batch([self.reload(ctx), operation::snap_to_end(LOG)]),
                    None,
                )
            }
            Message::Scrolled(from_bottom) => {
                self.scrolled_up = from_bottom > 48.0;
                if !self.scrolled_up && !self.more_below {
                    self.arrived = 0;
                }
                (Task::none(), None)
            }
            Message::Resend(client_id) => match self.id {
                Some(id) => (Task::none(), Some(Event::Resend(id, client_id))),
                None => (Task::none(), None),
            },
            Message::Attach(m) => (Task::none(), Some(Event::Attach(m))),
            Message::Voice(m) => (Task::none(), Some(Event::Voice(m))),
        }
    }

    fn act(&mut self, seq: u64, action: Action, ctx: Ctx<'_>) -> (Task<Message>, Option<Event>) {
        if action != Action::MoreReactions {
            self.menu = None;
            self.picker = None;
        }
        let Some(m) = self.message(seq).cloned() else {
            return (Task::none(), None);
        };
        let event = match action {
            Action::Reply => Event::Reply(m),
            Action::Forward => Event::Forward(m),
            Action::Edit => Event::Edit(m),
            Action::Copy => {
                let text = match &m.body {
                    MessageBody::Text { text } => text.clone(),
                    _ => return (Task::none(), None),
                };
                return (iced::clipboard::write(text), None);
            }
            Action::Recall => {
                if let MessageBody::Text { text } = &m.body
                    && m.sender == ctx.me
                {
                    self.recalled.insert(seq, text.clone());
                }
                Event::Recall(seq)
            }
            Action::DeleteForMe => {
                let Some(id) = self.id else {
                    return (Task::none(), None);
                };
                self.hidden.insert(seq);
                let store = ctx.store.clone();
                let hidden: Vec<u64> = self.hidden.iter().copied().collect();
                let task = Task::perform(
                    async move { store.set_setting(&hidden_key(id), &hidden).await.ok() },
                    |_| Message::HiddenSaved,
                );
                return (task, None);
            }
            Action::React(emoji) => {
                let add = !m.reactions.get(&emoji).is_some_and(|u| u.contains(&ctx.me));
                Event::React {
                    target: seq,
                    emoji,
                    add,
                }
            }
            Action::MoreReactions => {
                self.picker = Some(seq);
                return (Task::none(), None);
            }
            Action::WriteAgain => match self.recalled.remove(&seq) {
                Some(text) => Event::WriteAgain(text),
                None => return (Task::none(), None),
            },
        };
        (Task::none(), Some(event))
    }

    fn scroll_to(&self, seq: u64) -> Task<Message> {
        let shown: Vec<u64> = self.shown().map(|m| m.seq).collect();
        let Some(index) = shown.iter().position(|s| *s == seq) else {
            return Task::none();
        };
        // The history is anchored at the bottom: offsets count from there.
        let from_bottom = 1.0 - (index as f32 + 0.5) / shown.len().max(1) as f32;
        operation::snap_to(
            LOG,
            RelativeOffset {
                x: None,
                y: Some(from_bottom.clamp(0.0, 1.0)),
            },
        )
    }
}

/// Reads what a page needs besides its messages: the outbox, whether more
/// lies above, messages hidden on this device, and the messages replied to
/// that the page does not hold.
async fn page(
    store: &Store,
    id: ConversationId,
    messages: Vec<ChatMessage>,
    more_below: bool,
    jump: Option<u64>,
) -> Page {
    let pending: Vec<OutboxEntry> = store
        .outbox()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.conversation == id && e.body.target().is_none())
        .collect();
    let conv = store.conversation(id).await.ok().flatten();
    let first = messages.first().map(|m| m.seq).unwrap_or(u64::MAX);
    let more_above = conv
        .as_ref()
        .is_some_and(|c| first > c.first_seq && c.last_seq > 0);
    let hidden: BTreeSet<u64> = store
        .setting::<Vec<u64>>(&hidden_key(id))
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let held: BTreeSet<u64> = messages.iter().map(|m| m.seq).collect();
    let wanted: BTreeSet<u64> = messages
        .iter()
        .filter_map(|m| m.reply_to)
        .filter(|s| !held.contains(s))
        .collect();
    let mut quotes = HashMap::new();
    for seq in wanted {
        if let Ok(found) = store.messages(id, seq, seq, 1, false).await
            && let Some(m) = found.into_iter().next()
        {
            quotes.insert(seq, m);
        }
    }
    Page {
        id,
        messages,
        pending,
        more_above,
        more_below,
        hidden,
        quotes,
        read_seq: conv.map_or(0, |c| c.read_seq),
        jump,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use natter_proto::model::MessageBody;

    pub(super) fn msg(seq: u64, sender: u64, text: &str) -> ChatMessage {
        ChatMessage {
            conversation: ConversationId(9),
            seq,
            sender: UserId(sender),
            client_id: format!("c{seq}"),
            ts: 1_000 * seq as i64,
            body: MessageBody::Text { text: text.into() },
            reply_to: None,
            edited_ts: None,
            reactions: Default::default(),
            extras: Default::default(),
        }
    }

    pub(super) fn chat_with(messages: Vec<ChatMessage>) -> Chat {
        Chat {
            id: Some(ConversationId(9)),
            messages,
            loaded_once: true,
            ..Chat::default()
        }
    }

    #[tokio::test]
    async fn actions_become_events_and_a_recall_remembers_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let ctx = Ctx {
            store: &store,
            client: None,
            me: UserId(1),
        };
        let mut chat = chat_with(vec![msg(1, 2, "hi"), msg(2, 1, "yo")]);
        let _ = chat.update(Message::Menu(Some(2)), ctx);
        assert_eq!(chat.menu(), Some(2));
        let (_, e) = chat.update(Message::Act(2, Action::Recall), ctx);
        assert!(matches!(e, Some(Event::Recall(2))));
        assert_eq!(chat.menu(), None, "an action closes the menu");
        let (_, e) = chat.update(Message::Act(2, Action::WriteAgain), ctx);
        assert!(matches!(e, Some(Event::WriteAgain(t)) if t == "yo"));
        // A reaction toggles: added when absent, removed when present.
        let (_, e) = chat.update(Message::Act(1, Action::React("👍".into())), ctx);
        assert!(matches!(e, Some(Event::React { add: true, .. })));
        chat.messages[0]
            .reactions
            .insert("👍".into(), vec![UserId(1)]);
        let (_, e) = chat.update(Message::Act(1, Action::React("👍".into())), ctx);
        assert!(matches!(e, Some(Event::React { add: false, .. })));
        assert_eq!(chat.last_own_text(UserId(1)).map(|m| m.seq), Some(2));
    }

    #[tokio::test]
    async fn deleted_for_me_is_kept_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let ctx = Ctx {
            store: &store,
            client: None,
            me: UserId(1),
        };
        let mut chat = chat_with(vec![msg(1, 2, "hi"), msg(2, 1, "yo")]);
        let (task, _) = chat.update(Message::Act(2, Action::DeleteForMe), ctx);
        drop(task);
        assert!(chat.hidden.contains(&2));
        assert_eq!(chat.last_own_text(UserId(1)), None);
        store
            .set_setting(&hidden_key(ConversationId(9)), &vec![2u64])
            .await
            .unwrap();
        let page = page(
            &store,
            ConversationId(9),
            vec![msg(2, 1, "yo")],
            false,
            None,
        )
        .await;
        assert!(page.hidden.contains(&2));
    }

    #[test]
    fn a_window_far_back_stays_put_until_jump_to_latest() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let store = rt.block_on(Store::open(dir.path())).unwrap();
        let ctx = Ctx {
            store: &store,
            client: None,
            me: UserId(1),
        };
        let mut chat = chat_with(vec![msg(1, 2, "hi")]);
        chat.more_below = true;
        let _ = chat.refresh(ctx);
        assert!(
            chat.more_below,
            "a new message does not move a window far back"
        );
        let _ = chat.update(Message::Latest, ctx);
        assert!(!chat.more_below);
        // Scrolled up at the newest page: what others send is counted.
        chat.scrolled_up = true;
        let page = Page {
            id: ConversationId(9),
            messages: vec![msg(1, 2, "hi"), msg(2, 2, "new"), msg(3, 1, "mine")],
            pending: vec![],
            more_above: false,
            more_below: false,
            hidden: BTreeSet::new(),
            quotes: HashMap::new(),
            read_seq: 1,
            jump: None,
        };
        let _ = chat.update(Message::Loaded(Box::new(page)), ctx);
        assert_eq!(chat.arrived, 1);
        let _ = chat.update(Message::Scrolled(0.0), ctx);
        assert_eq!(chat.arrived, 0);
    }
}
