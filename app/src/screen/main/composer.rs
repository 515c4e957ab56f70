//! The composer: the text being written, the emoji picker, attachments and
//! voice, the banner of a reply or an edit in progress, and completing
//! @mentions in groups.
//!
//! It owns no connection: what the person asks for (send this text, save this
//! edit, start recording) goes up to the main window as an [`Event`].

use std::time::{Duration, Instant};

use iced::keyboard::{Key, key::Named};
use iced::widget::text_editor::{self, Binding, KeyPress, Status as EditorStatus};
use iced::widget::{button, column, container, row, space, text};
use iced::{Center, Element, Fill, Shrink, Task};
use natter_i18n::{Arg, I18n};
use natter_proto::model::UserId;

use super::mention::{self, Candidate};
use crate::style;

/// The composer's widget id, for focus and for tests.
pub const ID: &str = "composer";

/// The emoji offered as reactions.
pub const EMOJI: [&str; 32] = [
    "😀", "😂", "🥰", "😎", "🤔", "😭", "👍", "👏", "🙏", "🎉", "❤️", "🔥", "👌", "😅", "🍻", "🌹",
    "😊", "😉", "😮", "😢", "😡", "🤝", "💪", "👀", "✅", "❌", "🙌", "🤣", "😴", "🥳", "💯", "🍉",
];

/// How often the conversation is told that someone is typing, at most.
const TYPING_EVERY: Duration = Duration::from_secs(3);

/// What the composer is doing besides writing a new message.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Replying to message `seq`, quoting its sender and a snippet.
    Reply {
        /// The message replied to.
        seq: u64,
        /// Its sender's name.
        name: String,
        /// A line of it.
        snippet: String,
    },
    /// Editing the own text message `seq`.
    Edit {
        /// The message edited.
        seq: u64,
    },
}

/// The composer's state.
pub struct Composer {
    content: text_editor::Content,
    /// The emoji picker, while open.
    picker: Option<crate::emoji::picker::Picker>,
    mode: Option<Mode>,
    last_typing: Option<Instant>,
    /// Mentions picked from the completion list, by the name inserted.
    mentions: Vec<(UserId, String)>,
    mention_all: bool,
    /// The completion list's current highlight.
    pick: usize,
}

/// Composer messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// The editor changed (typing, cursor, selection).
    Action(text_editor::Action),
    /// Enter or Send.
    Send,
    /// ☺ pressed.
    ToggleEmoji,
    /// In the emoji picker.
    Picker(crate::emoji::picker::Message),
    /// Esc: cancel the reply or edit, or close the picker.
    Cancel,
    /// ↑ in an empty composer.
    Up,
    /// A member picked from the mention list.
    Mention(Candidate),
    /// 📎 pressed.
    Attach,
    /// 🎤 pressed.
    Record,
    /// Recording: throw it away.
    RecordCancel,
    /// Recording: stop and send.
    RecordSend,
}

/// What the main window must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Send a new message.
    Send {
        /// The text, trimmed.
        text: String,
        /// The message replied to.
        reply_to: Option<u64>,
        /// Members mentioned.
        mentions: Vec<UserId>,
        /// `@all` used.
        mention_all: bool,
    },
    /// Save an edit of the own message `target`.
    SaveEdit {
        /// The message edited.
        target: u64,
        /// Its new text.
        text: String,
    },
    /// The person is typing (at most every three seconds).
    Typing,
    /// ↑ in an empty composer: edit the last own message.
    EditLast,
    /// An emoji was picked: it goes first among the recent ones.
    EmojiUsed(&'static str),
    /// Pick a file to send.
    Attach,
    /// Start recording a voice message.
    Record,
    /// Throw the recording away.
    RecordCancel,
    /// Stop recording and send.
    RecordSend,
}

/// What the composer's view needs from the main window.
pub struct View<'a> {
    /// Translations.
    pub i18n: &'a I18n,
    /// Whether the conversation is closed for sending.
    pub closed: bool,
    /// How long the voice message being recorded here runs, if one is.
    pub recording: Option<Duration>,
    /// Whether a recording may start.
    pub can_record: bool,
    /// Members that may be mentioned (groups only; empty elsewhere).
    pub members: Vec<Candidate>,
    /// Whether `@all` may be used.
    pub may_mention_all: bool,
    /// The emoji used last, newest first.
    pub recent_emoji: &'a [String],
}

impl Default for Composer {
    fn default() -> Self {
        Composer::new("")
    }
}

impl Composer {
    /// A composer holding `draft`.
    pub fn new(draft: &str) -> Composer {
        Composer {
            content: text_editor::Content::with_text(draft),
            picker: None,
            mode: None,
            last_typing: None,
            mentions: Vec::new(),
            mention_all: false,
            pick: 0,
        }
    }

    /// The text as written.
    pub fn text(&self) -> String {
        self.content.text()
    }

    /// Whether nothing is written.
    pub fn is_empty(&self) -> bool {
        self.content.text().trim().is_empty()
    }

    /// The reply or edit in progress.
    pub fn mode(&self) -> Option<&Mode> {
        self.mode.as_ref()
    }

    /// Starts replying to a message.
    pub fn reply(&mut self, seq: u64, name: String, snippet: String) -> Task<Message> {
        self.mode = Some(Mode::Reply { seq, name, snippet });
        iced::widget::operation::focus(ID)
    }

    /// Starts editing the own message `seq`, whose text is `text`.
    pub fn edit(&mut self, seq: u64, text: &str) -> Task<Message> {
        self.mode = Some(Mode::Edit { seq });
        self.content = text_editor::Content::with_text(text);
        self.content
            .perform(text_editor::Action::Move(text_editor::Motion::DocumentEnd));
        iced::widget::operation::focus(ID)
    }

    /// Puts `text` into the composer (a recalled message written again).
    pub fn put(&mut self, text: &str) -> Task<Message> {
        self.mode = None;
        self.content = text_editor::Content::with_text(text);
        self.content
            .perform(text_editor::Action::Move(text_editor::Motion::DocumentEnd));
        iced::widget::operation::focus(ID)
    }

    /// Handles a message.
    pub fn update(
        &mut self,
        message: Message,
        members: &[Candidate],
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Action(action) => {
                let typed = action.is_edit();
                self.content.perform(action);
                if typed {
                    self.pick = 0;
                    let due = self.last_typing.is_none_or(|t| t.elapsed() >= TYPING_EVERY);
                    if due
                        && self
                            .mode
                            .as_ref()
                            .is_none_or(|m| !matches!(m, Mode::Edit { .. }))
                    {
                        self.last_typing = Some(Instant::now());
                        return (Task::none(), Some(Event::Typing));
                    }
                }
                (Task::none(), None)
            }
            Message::Send => {
                // Enter while the completion list shows picks the highlighted member.
                let open = mention::query(&self.content.text()).is_some();
                if open
                    && let Some(c) = mention::matches(&self.content.text(), members).get(self.pick)
                {
                    return self.update(Message::Mention(c.clone()), members);
                }
                let text = self.content.text().trim().to_string();
                if text.is_empty() {
                    return (Task::none(), None);
                }
                let event = match self.mode.take() {
                    Some(Mode::Edit { seq }) => Event::SaveEdit { target: seq, text },
                    reply => {
                        let (mentions, mention_all) =
                            mention::kept(&text, &self.mentions, self.mention_all);
                        Event::Send {
                            reply_to: match reply {
                                Some(Mode::Reply { seq, .. }) => Some(seq),
                                _ => None,
                            },
                            text,
                            mentions,
                            mention_all,
                        }
                    }
                };
                self.content = text_editor::Content::new();
                self.picker = None;
                self.mentions.clear();
                self.mention_all = false;
                self.last_typing = None;
                (Task::none(), Some(event))
            }
            Message::ToggleEmoji => {
                self.picker = match self.picker.take() {
                    Some(_) => None,
                    None => Some(Default::default()),
                };
                // Whatever was being typed goes on being typed.
                (iced::widget::operation::focus(ID), None)
            }
            Message::Picker(m) => {
                let Some(e) = self.picker.as_mut().and_then(|p| p.update(m)) else {
                    return (Task::none(), None);
                };
                for ch in e.chars() {
                    self.content
                        .perform(text_editor::Action::Edit(text_editor::Edit::Insert(ch)));
                }
                // Keep typing where the emoji went, even after a search
                // took the focus.
                (
                    iced::widget::operation::focus(ID),
                    Some(Event::EmojiUsed(e)),
                )
            }
            Message::Cancel => {
                if self.picker.is_some() {
                    self.picker = None;
                } else if let Some(Mode::Edit { .. }) = self.mode.take() {
                    self.content = text_editor::Content::new();
                }
                (Task::none(), None)
            }
            Message::Up => {
                if self.is_empty() && self.mode.is_none() {
                    (Task::none(), Some(Event::EditLast))
                } else {
                    (Task::none(), None)
                }
            }
            Message::Mention(candidate) => {
                let text = self.content.text();
                let Some((start, _)) = mention::query(&text) else {
                    return (Task::none(), None);
                };
                let name = candidate.name.clone();
                let mut replaced = text[..start].to_string();
                replaced.push('@');
                replaced.push_str(&name);
                replaced.push(' ');
                match candidate.user {
                    Some(user) => self.mentions.push((user, name)),
                    None => self.mention_all = true,
                }
                self.content = text_editor::Content::with_text(&replaced);
                self.content
                    .perform(text_editor::Action::Move(text_editor::Motion::DocumentEnd));
                self.pick = 0;
                (iced::widget::operation::focus(ID), None)
            }
            Message::Attach => (Task::none(), Some(Event::Attach)),
            Message::Record => (Task::none(), Some(Event::Record)),
            Message::RecordCancel => (Task::none(), Some(Event::RecordCancel)),
            Message::RecordSend => (Task::none(), Some(Event::RecordSend)),
        }
    }

    /// Moves the completion highlight (↓ / ↑ while the list shows).
    fn completing(&self, members: &[Candidate]) -> Vec<Candidate> {
        if mention::query(&self.content.text()).is_none() {
            return Vec::new();
        }
        mention::matches(&self.content.text(), members)
    }

    /// Draws the composer.
    pub fn view<'a>(&'a self, v: View<'a>) -> Element<'a, Message> {
        let i18n = v.i18n;
        if v.closed {
            return container(text(i18n.tr("conversation-closed")).size(13))
                .padding(12)
                .into();
        }
        // What shows above the editor sits in a column of its own, so the
        // editor keeps its place in the widget tree (and with it the focus
        // and cursor) when the picker, a banner or the mention list comes or
        // goes.
        let mut above = column![].spacing(6);
        let mut any_above = false;
        if let Some(banner) = self.banner(i18n) {
            above = above.push(banner);
            any_above = true;
        }
        let mut candidates = self.completing(&v.members);
        if !v.may_mention_all {
            candidates.retain(|c| c.user.is_some());
        }
        if !candidates.is_empty() {
            above = above.push(mention::list(i18n, &candidates, self.pick));
            any_above = true;
        }
        if let Some(picker) = &self.picker {
            above = above.push(picker.view(i18n, v.recent_emoji).map(Message::Picker));
            any_above = true;
        }
        let gap = if any_above { 6.0 } else { 0.0 };
        let above = container(above).padding(iced::Padding::ZERO.bottom(gap));
        let mut col = column![above].padding(10);
        if let Some(elapsed) = v.recording {
            return col.push(recording_bar(i18n, elapsed)).into();
        }
        let empty = self.is_empty();
        let editing = self.mode.is_some();
        let completing = !candidates.is_empty();
        let editor = iced::widget::text_editor(&self.content)
            .id(ID)
            .placeholder(i18n.tr("composer-placeholder"))
            .on_action(Message::Action)
            .height(Shrink)
            .min_height(44)
            .max_height(160)
            .padding(10)
            .key_binding(move |kp: KeyPress| {
                if !matches!(kp.status, EditorStatus::Focused { .. }) {
                    return None;
                }
                match kp.key.as_ref() {
                    Key::Named(Named::Enter) if !kp.modifiers.shift() => {
                        Some(Binding::Custom(Message::Send))
                    }
                    Key::Named(Named::Escape) => Some(Binding::Custom(Message::Cancel)),
                    Key::Named(Named::ArrowUp) if empty && !editing && !completing => {
                        Some(Binding::Custom(Message::Up))
                    }
                    _ => Binding::from_key_press(kp),
                }
            });
        use crate::icon::{self, Icon, Position};
        let tip = Position::Top;
        let (send_icon, send_key) = if matches!(self.mode, Some(Mode::Edit { .. })) {
            (Icon::Check, "composer-save")
        } else {
            (Icon::Send, "composer-send")
        };
        col = col.push(
            row![
                icon::button(
                    Icon::Smile,
                    i18n.tr("composer-emoji"),
                    button::text,
                    Some(Message::ToggleEmoji),
                    tip,
                ),
                icon::button(
                    Icon::Paperclip,
                    i18n.tr("composer-attach"),
                    button::text,
                    Some(Message::Attach),
                    tip,
                ),
                icon::button(
                    Icon::Mic,
                    i18n.tr("composer-voice"),
                    button::text,
                    v.can_record.then_some(Message::Record),
                    tip,
                ),
                editor,
                icon::button(
                    send_icon,
                    i18n.tr(send_key),
                    button::primary,
                    Some(Message::Send),
                    tip,
                ),
            ]
            .spacing(4)
            .align_y(Center),
        );
        col.into()
    }

    /// The banner above the editor while replying or editing.
    fn banner<'a>(&'a self, i18n: &I18n) -> Option<Element<'a, Message>> {
        let words = match self.mode.as_ref()? {
            Mode::Reply { name, snippet, .. } => i18n.tr_args(
                "composer-replying",
                &[
                    ("name", Arg::from(name.as_str())),
                    ("text", Arg::from(snippet.as_str())),
                ],
            ),
            Mode::Edit { .. } => i18n.tr("composer-editing"),
        };
        Some(
            container(
                row![
                    container(crate::emoji::text(words, 12.0)).width(Fill),
                    button(text(i18n.tr("composer-cancel")).size(12))
                        .style(button::text)
                        .padding([2, 8])
                        .on_press(Message::Cancel),
                ]
                .align_y(Center),
            )
            .padding([4, 10])
            .width(Fill)
            .style(style::quote)
            .into(),
        )
    }
}

/// The row shown instead of the editor while a voice message records.
fn recording_bar<'a>(i18n: &I18n, elapsed: Duration) -> Element<'a, Message> {
    let elapsed = elapsed.min(natter_media::voice::MAX_LENGTH);
    row![
        text(format!(
            "● {}  {}",
            i18n.tr("voice-recording"),
            super::call::duration(elapsed.as_millis() as u64)
        ))
        .size(14)
        .style(text::danger),
        space::horizontal(),
        button(text(i18n.tr("voice-cancel")))
            .style(button::secondary)
            .padding([10, 16])
            .on_press(Message::RecordCancel),
        button(text(i18n.tr("composer-send")))
            .padding([10, 16])
            .on_press(Message::RecordSend),
    ]
    .spacing(8)
    .align_y(Center)
    .into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn typed(c: &mut Composer, s: &str, members: &[Candidate]) -> Vec<Event> {
        let mut events = Vec::new();
        for ch in s.chars() {
            let (_, e) = c.update(
                Message::Action(text_editor::Action::Edit(text_editor::Edit::Insert(ch))),
                members,
            );
            events.extend(e);
        }
        events
    }

    #[test]
    fn a_reply_is_sent_with_its_target_and_the_banner_goes() {
        let mut c = Composer::default();
        let _ = c.reply(7, "Alice".into(), "hi".into());
        typed(&mut c, "  yes  ", &[]);
        let (_, e) = c.update(Message::Send, &[]);
        assert_eq!(
            e,
            Some(Event::Send {
                text: "yes".into(),
                reply_to: Some(7),
                mentions: vec![],
                mention_all: false,
            })
        );
        assert!(c.mode().is_none());
        assert!(c.is_empty());
    }

    #[test]
    fn an_edit_saves_and_escape_cancels_it() {
        let mut c = Composer::default();
        let _ = c.edit(3, "old");
        assert_eq!(c.text().trim_end(), "old");
        typed(&mut c, "er", &[]);
        let (_, e) = c.update(Message::Send, &[]);
        assert_eq!(
            e,
            Some(Event::SaveEdit {
                target: 3,
                text: "older".into()
            })
        );
        let _ = c.edit(3, "old");
        let _ = c.update(Message::Cancel, &[]);
        assert!(c.mode().is_none());
        assert!(c.is_empty());
    }

    #[test]
    fn up_in_an_empty_composer_asks_to_edit_the_last_message() {
        let mut c = Composer::default();
        assert_eq!(c.update(Message::Up, &[]).1, Some(Event::EditLast));
        typed(&mut c, "x", &[]);
        assert_eq!(c.update(Message::Up, &[]).1, None);
    }

    #[test]
    fn typing_is_told_once_every_few_seconds_and_empty_text_is_not_sent() {
        let mut c = Composer::default();
        let events = typed(&mut c, "hello", &[]);
        assert_eq!(events, vec![Event::Typing]);
        let mut c = Composer::default();
        typed(&mut c, "   ", &[]);
        assert_eq!(c.update(Message::Send, &[]).1, None);
    }

    #[test]
    fn a_picked_mention_is_sent_as_an_id_and_dropped_when_its_name_is_deleted() {
        let members = vec![
            Candidate {
                user: Some(UserId(5)),
                name: "Bob".into(),
                account: "bob".into(),
            },
            Candidate {
                user: None,
                name: "all".into(),
                account: String::new(),
            },
        ];
        let mut c = Composer::default();
        typed(&mut c, "hi @b", &members);
        // Enter while completing picks Bob instead of sending.
        let (_, e) = c.update(Message::Send, &members);
        assert_eq!(e, None);
        assert_eq!(c.text(), "hi @Bob ");
        typed(&mut c, "come", &members);
        let (_, e) = c.update(Message::Send, &members);
        assert_eq!(
            e,
            Some(Event::Send {
                text: "hi @Bob come".into(),
                reply_to: None,
                mentions: vec![UserId(5)],
                mention_all: false,
            })
        );
        // A mention whose name was edited away is not sent.
        typed(&mut c, "@b", &members);
        let _ = c.update(Message::Send, &members);
        let mut c2 = Composer::default();
        std::mem::swap(&mut c.mentions, &mut c2.mentions);
        typed(&mut c2, "no names here", &members);
        let (_, e) = c2.update(Message::Send, &members);
        assert!(matches!(e, Some(Event::Send { mentions, .. }) if mentions.is_empty()));
    }
}
