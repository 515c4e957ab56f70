//! Drawing the chat: bubbles with their quote, reactions and marks, the hover
//! bar and the menu of a message, dividers, and the jump-to-latest button.

use std::collections::HashMap;

use iced::widget::{
    button, column, container, image, mouse_area, rich_text, row, scrollable, space, span, stack,
    text, tooltip,
};
use iced::{Bottom, Center, Element, Fill, Font};
use natter_i18n::{Arg, I18n};
use natter_proto::model::{FileRef, Message as ChatMessage, MessageBody, UserId, UserSummary};
use natter_store::{Conversation, OutboxEntry, OutboxState};

use super::{Action, Chat, LOG, Message, Place, QUICK};
use crate::screen::main::{attach, call, composer, transfer, voice};
use crate::widget::{Face, avatar};
use crate::{clock, style};

/// Widest a picture is shown in a bubble, in logical pixels.
const SHOWN_WIDTH: u32 = 320;
/// Characters of a quoted message shown.
const SNIPPET_CHARS: usize = 60;
/// Side of the sender's avatar beside a run of group messages.
const AVATAR: u16 = 28;
/// Extra space between runs of messages, in logical pixels.
const RUN_GAP: f32 = 8.0;

/// What the chat's view needs from the main window.
pub struct View<'a> {
    /// Translations.
    pub i18n: &'a I18n,
    /// The reader.
    pub me: UserId,
    /// The conversation.
    pub conversation: &'a Conversation,
    /// Whether it is a group.
    pub group: bool,
    /// Whether the reader owns or administers the group.
    pub privileged: bool,
    /// Names of everyone known.
    pub users: &'a HashMap<UserId, UserSummary>,
    /// Decoded pictures by file id.
    pub pictures: &'a HashMap<String, image::Handle>,
    /// Decoded avatars by reference.
    pub avatars: &'a HashMap<String, image::Handle>,
    /// Uploads and downloads.
    pub transfers: &'a transfer::Transfers,
    /// The voice clip playing, by file id.
    pub playing: Option<&'a str>,
    /// Text size.
    pub font_size: f32,
    /// Read cursors of the group's members.
    pub reads: &'a HashMap<UserId, u64>,
}

impl View<'_> {
    fn name(&self, user: UserId) -> String {
        if user == self.me {
            return self.i18n.tr("chat-you");
        }
        self.users
            .get(&user)
            .map(|u| u.nickname.clone())
            .unwrap_or_else(|| user.to_string())
    }
}

/// One line of a message, in the reader's language.
pub fn snippet(i18n: &I18n, body: &MessageBody) -> String {
    let line = crate::screen::main::view::body_preview(i18n, body);
    let mut short: String = line.chars().take(SNIPPET_CHARS).collect();
    if line.chars().count() > SNIPPET_CHARS {
        short.push('…');
    }
    short
}

impl Chat {
    /// Draws the history.
    pub fn view<'a>(&'a self, v: View<'a>) -> Element<'a, Message> {
        let i18n = v.i18n;
        let mut log = column![].spacing(2).padding(12);
        if self.more_above {
            log = log.push(
                container(
                    button(text(i18n.tr("chat-load-older")).size(12))
                        .style(button::text)
                        .on_press(Message::LoadOlder),
                )
                .center_x(Fill),
            );
        }
        let mut last_day = None;
        let (now, tz) = (natter_proto::now_ms(), clock::local());
        // "Read by" goes under the newest own message only.
        let last_own = self.shown().rev().find(|m| m.sender == v.me).map(|m| m.seq);
        let shown: Vec<&ChatMessage> = self.shown().collect();
        let places = super::places(&shown, self.unread_from, tz);
        for (m, place) in shown.into_iter().zip(places) {
            let d = clock::day(m.ts, tz);
            if last_day != Some(d) {
                last_day = Some(d);
                log = log.push(day_divider(clock::date_label(i18n, m.ts, now, tz)));
            } else if place.first {
                // Runs stand apart; messages inside one sit close.
                log = log.push(space().height(RUN_GAP));
            }
            if self.unread_from == Some(m.seq) {
                log = log.push(
                    container(text(format!("—— {} ——", i18n.tr("chat-new-messages"))).size(11))
                        .center_x(Fill)
                        .style(style::divider),
                );
            }
            log = log.push(self.line(&v, m, last_own == Some(m.seq), place));
        }
        if !self.more_below {
            for e in &self.pending {
                log = log.push(pending_bubble(i18n, e, v.font_size));
            }
            for (key, t) in v.transfers.uploads_in(v.conversation.id) {
                log = log.push(transfer::upload_bubble(i18n, key, t).map(Message::Attach));
            }
        }
        let log = scrollable(log)
            .anchor_bottom()
            .height(Fill)
            .id(LOG)
            // Anchored at the bottom, the offset counts from there.
            .on_scroll(|viewport| Message::Scrolled(viewport.absolute_offset().y));
        if !(self.scrolled_up || self.more_below) {
            return log.into();
        }
        let label = if self.arrived > 0 {
            i18n.tr_args(
                "chat-jump-latest-count",
                &[("count", Arg::from(self.arrived))],
            )
        } else {
            i18n.tr("chat-jump-latest")
        };
        let jump = container(
            button(text(format!("↓ {label}")).size(12))
                .padding([6, 12])
                .on_press(Message::Latest),
        )
        .align_right(Fill)
        .align_bottom(Fill)
        .padding(16);
        stack![log, jump].into()
    }

    /// A message's line: its bubble, the hover bar while the pointer is over
    /// it, and its menu while open.
    fn line<'a>(
        &'a self,
        v: &View<'a>,
        m: &'a ChatMessage,
        last_own: bool,
        place: Place,
    ) -> Element<'a, Message> {
        let mine = m.sender == v.me;
        let bubble = self.bubble(v, m, last_own, place);
        let mut line = row![].spacing(6).align_y(Center);
        let bar = (self.hovered == Some(m.seq) && self.menu != Some(m.seq))
            .then(|| hover_bar(v.i18n, m.seq));
        if mine {
            line = line.push(space::horizontal());
            line = line.extend(bar);
            line = line.push(bubble);
        } else {
            line = line.push(bubble);
            line = line.extend(bar);
            line = line.push(space::horizontal());
        }
        // In a group, others' runs carry the sender's avatar beside their
        // last message; the others keep its place so the bubbles line up.
        let line: Element<'a, Message> = if v.group && !mine {
            let face: Element<'a, Message> = if place.last {
                let picture = v
                    .users
                    .get(&m.sender)
                    .and_then(|u| u.avatar.as_ref())
                    .and_then(|a| v.avatars.get(a));
                avatar(Face::Person(m.sender.0), &v.name(m.sender), picture, AVATAR)
            } else {
                space().width(f32::from(AVATAR)).into()
            };
            row![face, line].spacing(6).align_y(Bottom).into()
        } else {
            line.into()
        };
        let line = mouse_area(line)
            .on_enter(Message::Hover(Some(m.seq)))
            .on_exit(Message::Hover(None))
            .on_right_press(Message::Menu(Some(m.seq)));
        if self.menu != Some(m.seq) {
            return line.into();
        }
        let menu = self.menu_card(v, m);
        let menu = if mine {
            row![space::horizontal(), menu]
        } else {
            row![menu, space::horizontal()]
        };
        column![line, menu].spacing(4).into()
    }

    fn bubble<'a>(
        &'a self,
        v: &View<'a>,
        m: &'a ChatMessage,
        last_own: bool,
        place: Place,
    ) -> Element<'a, Message> {
        let i18n = v.i18n;
        let mine = m.sender == v.me;
        let mut content = column![].spacing(2);
        if v.group && !mine && place.first {
            content = content.push(text(v.name(m.sender)).size(11));
        }
        if let Some(f) = &m.extras.forwarded {
            content = content.push(
                text(i18n.tr_args(
                    "chat-forwarded-from",
                    &[("name", Arg::from(f.name.as_str()))],
                ))
                .size(11)
                .style(text::secondary),
            );
        }
        if let Some(reply) = m.reply_to {
            content = content.push(self.quote(v, reply));
        }
        let recalled = matches!(m.body, MessageBody::Recalled);
        if recalled {
            let words = if mine {
                i18n.tr("chat-recalled-by-you")
            } else {
                i18n.tr_args("chat-recalled-by", &[("name", Arg::from(v.name(m.sender)))])
            };
            let mut part = row![text(words).size(v.font_size).style(text::secondary)]
                .spacing(8)
                .align_y(Center);
            if mine && self.recalled.contains_key(&m.seq) {
                part = part.push(
                    button(text(i18n.tr("chat-write-again")).size(12))
                        .style(button::text)
                        .padding([0, 4])
                        .on_press(Message::Act(m.seq, Action::WriteAgain)),
                );
            }
            content = content.push(part);
        } else if let Some(part) = attachment(v, &m.body) {
            content = content.push(part);
        } else {
            content = content.push(body_text(v, m));
        }
        if !m.reactions.is_empty() {
            content = content.push(reactions(v, m));
        }
        let mut meta = clock::clock(m.ts, clock::local());
        if m.edited_ts.is_some() {
            meta = format!("{meta} · {}", i18n.tr("chat-edited"));
        }
        if mine && !v.group && !recalled {
            let read = v.conversation.peer_read_seq.is_some_and(|r| r >= m.seq);
            meta = format!(
                "{meta} · {}",
                i18n.tr(if read { "state-read" } else { "state-sent" })
            );
        }
        content = content.push(text(meta).size(10));
        if mine && v.group && !recalled && last_own {
            content = content.push(self.read_by(v, m.seq));
        }
        let highlighted = self.highlight == Some(m.seq);
        let hovered = self.hovered == Some(m.seq);
        container(content)
            .padding([6, 10])
            .max_width(520)
            .style(move |t| {
                if highlighted {
                    style::bubble_highlight(mine)(t)
                } else if hovered {
                    style::bubble_hovered(mine)(t)
                } else {
                    style::bubble(mine)(t)
                }
            })
            .into()
    }

    /// "Read by N" under the newest own message in a group; pressed, the names.
    fn read_by<'a>(&'a self, v: &View<'a>, seq: u64) -> Element<'a, Message> {
        let readers: Vec<UserId> = v
            .reads
            .iter()
            .filter(|(u, s)| **u != v.me && **s >= seq)
            .map(|(u, _)| *u)
            .collect();
        let label = v
            .i18n
            .tr_args("chat-read-by", &[("count", Arg::from(readers.len()))]);
        let mut col = column![
            button(text(label).size(10))
                .style(button::text)
                .padding(0)
                .on_press(Message::Readers(seq))
        ];
        if self.readers == Some(seq) {
            let mut names: Vec<String> = readers.iter().map(|u| v.name(*u)).collect();
            names.sort();
            let list = if names.is_empty() {
                v.i18n.tr("chat-read-by-nobody")
            } else {
                v.i18n
                    .tr_args("chat-readers", &[("names", Arg::from(names.join(", ")))])
            };
            col = col.push(text(list).size(10));
        }
        col.into()
    }

    /// The quoted message at the top of a reply; pressing it jumps there.
    fn quote<'a>(&'a self, v: &View<'a>, seq: u64) -> Element<'a, Message> {
        let quoted = self
            .messages
            .iter()
            .find(|m| m.seq == seq)
            .or_else(|| self.quotes.get(&seq));
        let words = match quoted {
            Some(q) => format!("{}: {}", v.name(q.sender), snippet(v.i18n, &q.body)),
            None => v.i18n.tr("chat-quote-unavailable"),
        };
        button(
            container(crate::emoji::text(words, 12.0))
                .padding([3, 8])
                .style(style::quote),
        )
        .style(button::text)
        .padding(0)
        .on_press(Message::Jump(seq))
        .into()
    }

    fn menu_card<'a>(&'a self, v: &View<'a>, m: &'a ChatMessage) -> Element<'a, Message> {
        let i18n = v.i18n;
        let seq = m.seq;
        let mine = m.sender == v.me;
        let now = natter_proto::now_ms();
        let (recall_window_ms, edit_window_ms) = super::windows_ms();
        let recalled = matches!(m.body, MessageBody::Recalled);
        let content = !recalled && !matches!(m.body, MessageBody::Call { .. });
        let text_body = matches!(m.body, MessageBody::Text { .. });
        let item = |key: &str, action: Action| {
            button(text(i18n.tr(key)).size(13))
                .width(Fill)
                .padding([4, 12])
                .style(style::list_item(false))
                .on_press(Message::Act(seq, action))
        };
        let mut col = column![].spacing(1).width(180);
        if content {
            let mut quick = row(QUICK.iter().map(|e| {
                button(text(*e).size(16).font(crate::emoji::FONT))
                    .style(button::text)
                    .padding(2)
                    .on_press(Message::Act(seq, Action::React((*e).to_string())))
                    .into()
            }))
            .spacing(1);
            quick = quick.push(
                button(text("＋").size(14))
                    .style(button::text)
                    .padding(2)
                    .on_press(Message::Act(seq, Action::MoreReactions)),
            );
            col = col.push(quick);
            if self.picker == Some(seq) {
                col = col.push(
                    row(composer::EMOJI.iter().map(|e| {
                        button(text(*e).size(16).font(crate::emoji::FONT))
                            .style(button::text)
                            .padding(2)
                            .on_press(Message::Act(seq, Action::React((*e).to_string())))
                            .into()
                    }))
                    .spacing(1)
                    .wrap(),
                );
            }
            col = col.push(item("chat-reply", Action::Reply));
            col = col.push(item("chat-forward", Action::Forward));
        }
        if text_body {
            col = col.push(item("chat-copy", Action::Copy));
        }
        if mine && text_body && now - m.ts <= edit_window_ms {
            col = col.push(item("chat-edit", Action::Edit));
        }
        let may_recall = content && ((mine && now - m.ts <= recall_window_ms) || v.privileged);
        if may_recall {
            col = col.push(item("chat-recall", Action::Recall));
        }
        col = col.push(item("chat-delete-for-me", Action::DeleteForMe));
        col = col.push(
            button(text(i18n.tr("chat-menu-close")).size(12))
                .width(Fill)
                .padding([4, 12])
                .style(button::text)
                .on_press(Message::Menu(None)),
        );
        container(col).padding(4).style(style::menu).into()
    }
}

/// The day a run of messages was written, as a pill across the history.
fn day_divider<'a>(label: String) -> Element<'a, Message> {
    container(
        container(text(label).size(11))
            .padding([2, 10])
            .style(style::day_pill),
    )
    .center_x(Fill)
    .padding([6, 0])
    .into()
}

/// The small bar beside a message under the pointer: reply, react, more.
fn hover_bar<'a>(i18n: &I18n, seq: u64) -> Element<'a, Message> {
    let tip = |label: String, content: Element<'a, Message>| {
        tooltip(
            content,
            container(text(label).size(11))
                .padding([2, 6])
                .style(style::menu),
            tooltip::Position::Top,
        )
    };
    container(
        row![
            tip(
                i18n.tr("chat-reply"),
                button(text("↩").size(13))
                    .style(button::text)
                    .padding([0, 4])
                    .on_press(Message::Act(seq, Action::Reply))
                    .into()
            ),
            tip(
                i18n.tr("chat-react"),
                button(text("👍").size(13).font(crate::emoji::FONT))
                    .style(button::text)
                    .padding([0, 4])
                    .on_press(Message::Act(seq, Action::React("👍".into())))
                    .into()
            ),
            tip(
                i18n.tr("chat-more"),
                button(text("⋯").size(13))
                    .style(button::text)
                    .padding([0, 4])
                    .on_press(Message::Menu(Some(seq)))
                    .into()
            ),
        ]
        .spacing(2),
    )
    .padding(2)
    .style(style::menu)
    .into()
}

/// The text of a message, with mentions in the accent colour.
fn body_text<'a>(v: &View<'a>, m: &'a ChatMessage) -> Element<'a, Message> {
    let i18n = v.i18n;
    let mine = m.sender == v.me;
    let words: String = match &m.body {
        MessageBody::Text { text } => text.clone(),
        MessageBody::Call { .. } => {
            call::record(i18n, &m.body, mine).map_or_else(String::new, |(w, _)| w)
        }
        other => crate::screen::main::view::body_preview(i18n, other),
    };
    if call::record(i18n, &m.body, mine).is_some_and(|(_, missed)| missed) {
        return crate::emoji::styled(words, v.font_size, text::danger);
    }
    let mut names: Vec<String> = m
        .extras
        .mentions
        .iter()
        .filter_map(|u| v.users.get(u).map(|s| format!("@{}", s.nickname)))
        .collect();
    if m.extras.mention_all {
        names.push(format!("@{}", crate::screen::main::mention::ALL));
    }
    if names.is_empty() {
        return crate::emoji::text(words, v.font_size);
    }
    let bold = Font {
        weight: iced::font::Weight::Bold,
        ..Font::DEFAULT
    };
    let spans: Vec<iced::widget::text::Span<'a, ()>> = split_mentions(&words, &names)
        .into_iter()
        .map(|(piece, mention)| {
            let s = span(piece).size(v.font_size);
            if mention {
                s.font(bold).underline(true)
            } else {
                s
            }
        })
        .collect();
    rich_text(spans).into()
}

/// Splits `text` into pieces, marking those that are one of `names`.
pub fn split_mentions(text: &str, names: &[String]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next = names
            .iter()
            .filter_map(|n| rest.find(n.as_str()).map(|i| (i, n)))
            .min_by_key(|(i, n)| (*i, usize::MAX - n.len()));
        match next {
            Some((i, n)) => {
                if i > 0 {
                    out.push((rest[..i].to_string(), false));
                }
                out.push((n.clone(), true));
                rest = &rest[i + n.len()..];
            }
            None => {
                out.push((rest.to_string(), false));
                break;
            }
        }
    }
    out
}

/// Reaction chips: count, the reader's own highlighted, pressing toggles;
/// hovering names who reacted.
fn reactions<'a>(v: &View<'a>, m: &'a ChatMessage) -> Element<'a, Message> {
    row(m.reactions.iter().map(|(emoji, users)| {
        let mine = users.contains(&v.me);
        let who = users
            .iter()
            .map(|u| v.name(*u))
            .collect::<Vec<_>>()
            .join(", ");
        let chip = button(
            row![
                text(emoji.clone()).size(13).font(crate::emoji::FONT),
                text(users.len().to_string()).size(12)
            ]
            .spacing(3)
            .align_y(Center),
        )
        .padding([1, 6])
        .style(style::chip(mine))
        .on_press(Message::Act(m.seq, Action::React(emoji.clone())));
        tooltip(
            chip,
            container(text(who).size(11))
                .padding([2, 6])
                .style(style::menu),
            tooltip::Position::Bottom,
        )
        .into()
    }))
    .spacing(4)
    .wrap()
    .into()
}

/// The picture, file or voice part of a bubble, if it has one.
fn attachment<'a>(v: &View<'a>, body: &'a MessageBody) -> Option<Element<'a, Message>> {
    let i18n = v.i18n;
    match body {
        MessageBody::Image {
            file,
            width,
            height,
            ..
        } => {
            // The picture, or its preview from the message until it
            // arrives, or a box of its size.
            let shown = (*width).clamp(1, SHOWN_WIDTH);
            let tall = (u64::from(*height) * u64::from(shown) / u64::from((*width).max(1)))
                .clamp(1, u64::from(SHOWN_WIDTH) * 2);
            let face: Element<'a, Message> = match v.pictures.get(&file.id) {
                Some(handle) => image(handle.clone())
                    .width(shown as f32)
                    .height(tall as f32)
                    .into(),
                None => container(text(attach::size_text(file.size)).size(11))
                    .center_x(shown as f32)
                    .center_y(tall as f32)
                    .style(container::bordered_box)
                    .into(),
            };
            // Pressed, the picture opens in the viewer.
            let picture = button(face)
                .style(button::text)
                .padding(0)
                .on_press(Message::Attach(attach::Message::View(
                    file.clone(),
                    *width,
                    *height,
                )));
            let picture = crate::widget::labelled(picture, i18n.tr("chat-view-picture"));
            // On its way: bytes, speed and Cancel (Retry once it failed).
            let below: Option<Element<'a, Message>> = match v.transfers.picture(&file.id) {
                Some(t) if !matches!(t.state, transfer::State::Saved(_)) => {
                    let key = transfer::Key::Picture(file.id.clone());
                    Some(transfer::view(i18n, &key, t).map(Message::Attach))
                }
                _ if v.transfers.declined(&file.id) => Some(
                    button(text(i18n.tr("chat-fetch-picture")).size(12))
                        .style(button::secondary)
                        .padding([2, 8])
                        .on_press(Message::Attach(attach::Message::FetchPicture(file.clone())))
                        .into(),
                ),
                _ => None,
            };
            Some(column![picture].push(below).spacing(4).into())
        }
        MessageBody::File { file } => {
            let below: Element<'a, Message> = match v.transfers.download(&file.id) {
                Some(t) if !matches!(t.state, transfer::State::Saved(_)) => {
                    let key = transfer::Key::Download(file.id.clone());
                    transfer::view(i18n, &key, t).map(Message::Attach)
                }
                saved => {
                    let mut line = row![text(attach::size_text(file.size)).size(11)]
                        .spacing(8)
                        .align_y(Center);
                    if let Some(transfer::State::Saved(path)) = saved.map(|t| &t.state) {
                        let open = |key: &str, m: attach::Message| {
                            button(text(i18n.tr(key)).size(12))
                                .style(button::secondary)
                                .padding([2, 8])
                                .on_press(Message::Attach(m))
                        };
                        line = line
                            .push(text(i18n.tr("transfer-saved")).size(11))
                            .push(open("open-file", attach::Message::Open(path.clone())))
                            .push(open(
                                "open-folder",
                                attach::Message::ShowInFolder(path.clone()),
                            ));
                    }
                    line.push(
                        button(text(i18n.tr("chat-save-file")).size(12))
                            .padding([2, 8])
                            .on_press(Message::Attach(attach::Message::Save(file.clone()))),
                    )
                    .into()
                }
            };
            Some(
                column![crate::emoji::text(format!("📄 {}", file.name), 14.0), below]
                    .spacing(4)
                    .into(),
            )
        }
        MessageBody::Voice { file, duration_ms } => Some(voice_part(v, file, *duration_ms)),
        _ => None,
    }
}

/// A voice message's part of its bubble: ▶ and its length.
fn voice_part<'a>(v: &View<'a>, file: &'a FileRef, duration_ms: u32) -> Element<'a, Message> {
    let playing = v.playing == Some(file.id.as_str());
    let label = if playing {
        format!("■  {}", v.i18n.tr("voice-stop"))
    } else {
        format!("▶  {}", call::duration(u64::from(duration_ms)))
    };
    let mut play = button(text(label).size(14)).padding([4, 12]);
    if playing {
        play = play.on_press(Message::Voice(voice::Message::Stop));
    } else if v.playing.is_none() {
        play = play.on_press(Message::Voice(voice::Message::Play(file.clone())));
    }
    row![crate::emoji::text("🎤".to_string(), 14.0), play]
        .spacing(6)
        .align_y(Center)
        .into()
}

fn pending_bubble<'a>(i18n: &I18n, e: &'a OutboxEntry, size: f32) -> Element<'a, Message> {
    let body = crate::screen::main::view::body_preview(i18n, &e.body);
    let state: Element<'a, Message> = match &e.state {
        OutboxState::Sending => text(i18n.tr("state-sending")).size(10).into(),
        OutboxState::Failed { .. } => row![
            text(i18n.tr("state-failed")).size(10).style(text::danger),
            button(text(i18n.tr("state-resend")).size(10))
                .padding([1, 6])
                .on_press(Message::Resend(e.client_id.clone())),
        ]
        .spacing(6)
        .align_y(Center)
        .into(),
    };
    let bubble = container(column![crate::emoji::text(body, size), state].spacing(2))
        .padding([6, 10])
        .max_width(520)
        .style(style::bubble(true));
    row![space::horizontal(), bubble].into()
}

#[cfg(test)]
mod tests {
    use super::split_mentions;

    #[test]
    fn mentions_are_cut_out_of_the_text() {
        let names = vec!["@Bob".to_string(), "@Bobby".to_string()];
        assert_eq!(
            split_mentions("hi @Bobby and @Bob!", &names),
            vec![
                ("hi ".to_string(), false),
                ("@Bobby".to_string(), true),
                (" and ".to_string(), false),
                ("@Bob".to_string(), true),
                ("!".to_string(), false),
            ]
        );
        assert_eq!(
            split_mentions("plain", &names),
            vec![("plain".to_string(), false)]
        );
    }
}
