//! Drawing the main window.

use iced::widget::{
    button, column, container, pick_list, row, scrollable, slider, space, text, text_editor,
    text_input, toggler,
};
use iced::{Center, Element, Fill, Length, Shrink};
use natter_i18n::{Arg, I18n, Language};
use natter_proto::model::{CallMedia, ConversationKind, Message as ChatMessage, MessageBody};
use natter_store::model::PreviewKind;
use natter_store::{Conversation, OutboxEntry, OutboxState};

use super::{Context, Main, Message, Panel, Status};
use crate::app::ThemeChoice;
use crate::widget::avatar;
use crate::{clock, style};

const EMOJI: [&str; 16] = [
    "😀", "😂", "🥰", "😎", "🤔", "😭", "👍", "👏", "🙏", "🎉", "❤️", "🔥", "👌", "😅", "🍻", "🌹",
];

impl Main {
    /// Draws the window; `narrow` shows one pane at a time.
    pub fn view<'a>(&'a self, ctx: Context<'a>, narrow: bool) -> Element<'a, Message> {
        let body = self.panes(ctx, narrow);
        match self.call_strip(ctx.i18n, narrow) {
            Some(strip) => column![strip.map(Message::Call), body].into(),
            None => body,
        }
    }

    fn panes<'a>(&'a self, ctx: Context<'a>, narrow: bool) -> Element<'a, Message> {
        let side = self.sidebar(ctx);
        let chat = self.chat(ctx, narrow);
        if narrow {
            if self.show_chat_narrow && self.selected.is_some() && self.panel == Panel::Chats {
                chat
            } else {
                container(side)
                    .width(Fill)
                    .height(Fill)
                    .style(style::sidebar)
                    .into()
            }
        } else {
            row![
                container(side)
                    .width(300)
                    .height(Fill)
                    .style(style::sidebar),
                chat
            ]
            .into()
        }
    }

    fn status_line(&self, i18n: &I18n) -> Element<'_, Message> {
        let (label, style): (String, fn(&iced::Theme) -> text::Style) = match &self.status {
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

    fn sidebar<'a>(&'a self, ctx: Context<'a>) -> Element<'a, Message> {
        let i18n = ctx.i18n;
        let pending_requests = self
            .requests
            .iter()
            .filter(|r| {
                r.to.id == self.me() && r.status == natter_proto::model::RequestStatus::Pending
            })
            .count();
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
        let header = column![
            row![
                text(self.me_name()).size(18),
                space::horizontal(),
                self.status_line(i18n)
            ]
            .align_y(Center),
            row![
                nav(Panel::Chats, "nav-chats", 0),
                nav(Panel::Contacts, "nav-contacts", pending_requests),
                nav(Panel::Groups, "nav-groups", 0),
                nav(Panel::Settings, "nav-settings", 0),
            ]
            .spacing(2),
        ]
        .spacing(8)
        .padding(10);
        let body: Element<'a, Message> = match self.panel {
            Panel::Chats => self.chat_list(i18n),
            Panel::Contacts => self.contacts(i18n),
            Panel::Groups => self.groups_panel(i18n),
            Panel::Settings => self.settings_panel(ctx),
        };
        let mut col = column![header, body].spacing(4);
        if let Some(n) = &self.notice {
            col = col.push(container(text(n.clone()).size(12)).padding(10));
        }
        col.into()
    }

    fn chat_list<'a>(&'a self, i18n: &I18n) -> Element<'a, Message> {
        let search = text_input(&i18n.tr("search-placeholder"), &self.search)
            .on_input(Message::Search)
            .padding(8)
            .id("search");
        if !self.search.trim().is_empty() {
            let hits = self.results.iter().map(|m| {
                let title = self
                    .conversations
                    .iter()
                    .find(|c| c.id == m.conversation)
                    .map(|c| c.title.clone())
                    .unwrap_or_default();
                let body = body_preview(i18n, &m.body);
                button(column![text(title).size(12), text(body).size(14)])
                    .width(Fill)
                    .style(style::list_item(false))
                    .on_press(Message::Select(m.conversation))
                    .into()
            });
            return column![
                container(search).padding([0, 10]),
                scrollable(column(hits).spacing(2).padding(6)).height(Fill)
            ]
            .into();
        }
        if self.conversations.is_empty() {
            return column![
                container(search).padding([0, 10]),
                container(text(i18n.tr("conversations-empty")).size(13)).padding(16)
            ]
            .into();
        }
        let items = self
            .conversations
            .iter()
            .map(|c| self.conversation_row(i18n, c));
        column![
            container(search).padding([0, 10]),
            scrollable(column(items).spacing(2).padding(6)).height(Fill)
        ]
        .spacing(6)
        .into()
    }

    fn conversation_row<'a>(&'a self, i18n: &I18n, c: &'a Conversation) -> Element<'a, Message> {
        let record = c.last_message.as_ref().and_then(|p| {
            let m = self.call_records.get(&c.id).filter(|m| m.seq == p.seq)?;
            super::call::record(i18n, &m.body, m.sender == self.me())
        });
        let missed = record.as_ref().is_some_and(|(_, missed)| *missed);
        let preview = if !c.draft.is_empty() && self.selected != Some(c.id) {
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
        let mut title = row![text(c.title.clone()).size(15).width(Fill)]
            .spacing(4)
            .align_y(Center);
        if c.pinned {
            title = title.push(text("📌").size(12).font(crate::emoji::FONT));
        }
        if c.muted {
            title = title.push(text("🔕").size(12).font(crate::emoji::FONT));
        }
        title = title.push(text(time).size(11));
        let preview: Element<'a, Message> = if missed {
            text(preview)
                .size(12)
                .width(Fill)
                .style(text::danger)
                .into()
        } else {
            container(crate::emoji::text(preview, 12.0))
                .width(Fill)
                .into()
        };
        let mut bottom = row![preview].align_y(Center);
        if c.unread > 0 && !c.muted {
            bottom = bottom.push(
                container(text(c.unread.to_string()).size(11))
                    .padding([1, 6])
                    .style(style::badge),
            );
        }
        let picture = match &c.kind {
            ConversationKind::Direct { peer } => {
                self.avatar(self.users.get(peer).and_then(|u| u.avatar.as_ref()))
            }
            ConversationKind::Group { .. } => None,
        };
        let avatar = avatar(&c.title, picture, 36);
        button(
            row![avatar, column![title, bottom].spacing(2)]
                .spacing(8)
                .align_y(Center),
        )
        .width(Fill)
        .padding(8)
        .style(style::list_item(self.selected == Some(c.id)))
        .on_press(Message::Select(c.id))
        .into()
    }

    fn chat<'a>(&'a self, ctx: Context<'a>, narrow: bool) -> Element<'a, Message> {
        let i18n = ctx.i18n;
        let Some(conv) = self
            .selected
            .and_then(|id| self.conversations.iter().find(|c| c.id == id))
        else {
            return container(text(i18n.tr("chat-select")).size(15))
                .center(Fill)
                .into();
        };
        let group = matches!(conv.kind, ConversationKind::Group { .. });
        let mut header = row![].spacing(8).align_y(Center).padding(10);
        if narrow {
            header = header.push(
                button(text(format!("‹ {}", i18n.tr("chat-back"))))
                    .style(button::text)
                    .on_press(Message::Back),
            );
        }
        let pin = i18n.tr(if conv.pinned {
            "conversation-unpin"
        } else {
            "conversation-pin"
        });
        let mute = i18n.tr(if conv.muted {
            "conversation-unmute"
        } else {
            "conversation-mute"
        });
        header = header
            .push(text(conv.title.clone()).size(18))
            .push(space::horizontal());
        if let ConversationKind::Direct { peer } = conv.kind
            && !conv.closed
        {
            let idle = self.phone.is_some() && self.call.as_ref().is_none_or(|c| !c.is_live());
            for media in [CallMedia::Audio, CallMedia::Video] {
                header = header.push(
                    button(text(i18n.tr(super::call::media_key(media))).size(12))
                        .style(button::secondary)
                        .on_press_maybe(idle.then_some(Message::Call(super::call::Message::Dial(
                            conv.id, peer, media,
                        )))),
                );
            }
        }
        if group && self.groups.iter().any(|g| g.id == conv.id) {
            header = header.push(
                button(text(i18n.tr("groups-info")).size(12))
                    .style(button::text)
                    .on_press(Message::OpenGroupInfo(conv.id)),
            );
        }
        header = header
            .push(
                button(text(pin).size(12))
                    .style(button::text)
                    .on_press(Message::Pin(conv.id, !conv.pinned)),
            )
            .push(
                button(text(mute).size(12))
                    .style(button::text)
                    .on_press(Message::Mute(conv.id, !conv.muted)),
            );
        // With the group info beside it the header is narrow; the sidebar shows
        // the connection status too.
        if self.group_info.is_none() {
            header = header.push(self.status_line(i18n));
        }
        if let Some(user) = self.typing.get(&conv.id)
            && *user != self.me()
        {
            let name = self
                .users
                .get(user)
                .map(|u| u.nickname.clone())
                .unwrap_or_default();
            header = header
                .push(text(i18n.tr_args("chat-typing", &[("name", Arg::from(name))])).size(12));
        }
        let mut log = column![].spacing(6).padding(12);
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
        for m in &self.messages {
            if m.body.target().is_some() {
                continue;
            }
            let d = clock::day(m.ts, tz);
            if last_day != Some(d) {
                last_day = Some(d);
                let label = clock::date_label(i18n, m.ts, now, tz);
                log = log.push(container(text(label).size(11)).center_x(Fill));
            }
            log = log.push(self.bubble(ctx, conv, m, group));
        }
        for e in &self.pending {
            log = log.push(self.pending_bubble(i18n, e, ctx.settings.font_size));
        }
        let log = scrollable(log).anchor_bottom().height(Fill).id("log");
        let composer = self.composer(i18n, conv);
        let announcement = self
            .groups
            .iter()
            .find(|g| g.id == conv.id && !g.announcement.is_empty())
            .map(|g| {
                container(
                    text(i18n.tr_args(
                        "groups-announcement-banner",
                        &[("text", Arg::from(g.announcement.as_str()))],
                    ))
                    .size(12),
                )
                .padding([6, 12])
                .width(Fill)
                .style(style::sidebar)
            });
        let header = column![header].extend(announcement.map(Element::from));
        let Some(info) = &self.group_info else {
            return column![header, log, composer].into();
        };
        let panel = info
            .view(super::group_info::View {
                i18n,
                group: self.groups.iter().find(|g| g.id == info.id),
                friends: &self.friends,
                me: self.me(),
                users: &self.users,
                avatars: &self.avatars,
            })
            .map(Message::GroupInfo);
        if narrow {
            column![header, panel].into()
        } else {
            row![
                column![header, log, composer].width(Fill),
                container(panel)
                    .width(320)
                    .height(Fill)
                    .style(style::sidebar),
            ]
            .into()
        }
    }

    fn bubble<'a>(
        &'a self,
        ctx: Context<'a>,
        conv: &Conversation,
        m: &'a ChatMessage,
        group: bool,
    ) -> Element<'a, Message> {
        let i18n = ctx.i18n;
        let mine = m.sender == self.me();
        let body: String = match &m.body {
            MessageBody::Text { text } => text.clone(),
            MessageBody::Recalled => i18n.tr(if mine {
                "chat-recalled-by-you"
            } else {
                "chat-recalled"
            }),
            MessageBody::Image { .. } => i18n.tr("chat-image"),
            MessageBody::File { file } => {
                i18n.tr_args("chat-file", &[("name", Arg::from(file.name.as_str()))])
            }
            MessageBody::Voice { duration_ms, .. } => {
                i18n.tr_args("chat-voice", &[("seconds", Arg::from(duration_ms / 1000))])
            }
            MessageBody::Call { .. } => {
                super::call::record(i18n, &m.body, mine).map_or_else(String::new, |(w, _)| w)
            }
            _ => String::new(),
        };
        let missed = super::call::record(i18n, &m.body, mine).is_some_and(|(_, missed)| missed);
        let mut content = column![].spacing(2);
        if group && !mine {
            let name = self
                .users
                .get(&m.sender)
                .map(|u| u.nickname.clone())
                .unwrap_or_else(|| m.sender.to_string());
            content = content.push(text(name).size(11));
        }
        if let Some(part) = self.attachment(i18n, &m.body) {
            content = content.push(part);
        } else {
            content = content.push(if missed {
                text(body)
                    .size(ctx.settings.font_size)
                    .style(text::danger)
                    .into()
            } else {
                crate::emoji::text(body, ctx.settings.font_size)
            });
        }
        let mut meta = clock::clock(m.ts, clock::local());
        if m.edited_ts.is_some() {
            meta = format!("{meta} · {}", i18n.tr("chat-edited"));
        }
        if mine && !group && conv.peer_read_seq.is_some_and(|r| r >= m.seq) {
            meta = format!("{meta} · {}", i18n.tr("state-read"));
        }
        content = content.push(text(meta).size(10));
        let bubble = container(content)
            .padding([6, 10])
            .max_width(520)
            .style(style::bubble(mine));
        if mine {
            row![space::horizontal(), bubble].into()
        } else {
            row![bubble, space::horizontal()].into()
        }
    }

    fn pending_bubble<'a>(
        &'a self,
        i18n: &I18n,
        e: &'a OutboxEntry,
        size: f32,
    ) -> Element<'a, Message> {
        let body = body_preview(i18n, &e.body);
        let state: Element<'a, Message> = match &e.state {
            OutboxState::Sending => text(i18n.tr("state-sending")).size(10).into(),
            OutboxState::Failed { .. } => row![
                text(i18n.tr("state-failed")).size(10).style(text::danger),
                button(text(i18n.tr("state-resend")).size(10))
                    .padding([1, 6])
                    .on_press(Message::Resend(e.conversation, e.client_id.clone())),
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

    fn composer<'a>(&'a self, i18n: &I18n, conv: &Conversation) -> Element<'a, Message> {
        use iced::keyboard::{Key, key::Named};
        use text_editor::{Binding, KeyPress, Status as EditorStatus};
        if conv.closed {
            return container(text(i18n.tr("conversation-closed")).size(13))
                .padding(12)
                .into();
        }
        let editor = text_editor(&self.composer)
            .id("composer")
            .placeholder(i18n.tr("composer-placeholder"))
            .on_action(Message::Edit)
            .height(Shrink)
            .min_height(44)
            .max_height(160)
            .padding(10)
            .key_binding(|kp: KeyPress| {
                if !matches!(kp.status, EditorStatus::Focused { .. }) {
                    return None;
                }
                match kp.key.as_ref() {
                    Key::Named(Named::Enter) if !kp.modifiers.shift() => {
                        Some(Binding::Custom(Message::Send))
                    }
                    _ => Binding::from_key_press(kp),
                }
            });
        let mut col = column![].spacing(6).padding(10);
        if self.emoji_open {
            let grid = row(EMOJI.iter().map(|e| {
                button(text(*e).size(18).font(crate::emoji::FONT))
                    .style(button::text)
                    .padding(2)
                    .on_press(Message::Emoji(e))
                    .into()
            }))
            .spacing(2)
            .wrap();
            col = col.push(grid);
        }
        if let Some(bar) = self.recording_bar(i18n, conv.id) {
            return col.push(bar).into();
        }
        let mut voice = button(text("🎤").size(16).font(crate::emoji::FONT)).style(button::text);
        if self.recording.is_none() {
            voice = voice.on_press(Message::Voice(super::voice::Message::Record));
        }
        col = col.push(
            row![
                button(text("☺").size(18))
                    .style(button::text)
                    .on_press(Message::ToggleEmoji),
                button(text("📎").size(16).font(crate::emoji::FONT))
                    .style(button::text)
                    .on_press(Message::Attach(super::attach::Message::Pick)),
                voice,
                editor,
                button(text(i18n.tr("composer-send")))
                    .padding([10, 16])
                    .on_press(Message::Send),
            ]
            .spacing(6)
            .align_y(Center),
        );
        col.into()
    }

    fn contacts<'a>(&'a self, i18n: &I18n) -> Element<'a, Message> {
        let mut col = column![
            text(i18n.tr("friends-add")).size(14),
            row![
                text_input(&i18n.tr("friends-search-placeholder"), &self.friend_query)
                    .on_input(Message::FriendQuery)
                    .on_submit(Message::FindFriend)
                    .padding(8)
                    .id("friend-query"),
                button(text(i18n.tr("friends-search"))).on_press(Message::FindFriend),
            ]
            .spacing(6),
        ]
        .spacing(8)
        .padding(10);
        for u in &self.found {
            col = col.push(
                column![
                    text(format!("{} (@{})", u.nickname, u.account)),
                    text_input(&i18n.tr("friends-request-note"), &self.request_note)
                        .on_input(Message::RequestNote)
                        .padding(6),
                    button(text(i18n.tr("friends-send-request"))).on_press(Message::Request(u.id)),
                ]
                .spacing(4),
            );
        }
        col = col.push(text(i18n.tr("friends-requests")).size(14));
        let pending: Vec<_> = self
            .requests
            .iter()
            .filter(|r| r.status == natter_proto::model::RequestStatus::Pending)
            .collect();
        if pending.is_empty() {
            col = col.push(text(i18n.tr("friends-requests-empty")).size(12));
        }
        for r in pending {
            if r.to.id == self.me() {
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
        for f in &self.friends {
            let presence = if self.online.contains(&f.user.id) {
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

    fn groups_panel<'a>(&'a self, i18n: &I18n) -> Element<'a, Message> {
        let mut col = column![
            text_input(&i18n.tr("groups-name"), &self.group_name)
                .on_input(Message::GroupName)
                .padding(8)
                .id("group-name"),
            text(i18n.tr("groups-pick-members")).size(12),
        ]
        .spacing(6)
        .padding(10);
        for f in &self.friends {
            let id = f.user.id;
            let picked = self.group_pick.contains(&id);
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
        col = col.push(button(text(i18n.tr("groups-create"))).on_press(Message::CreateGroup));
        col = col.push(text(i18n.tr("groups-title")).size(14));
        for g in &self.groups {
            let count = i18n.tr_args("groups-members", &[("count", Arg::from(g.members.len()))]);
            col = col.push(
                row![
                    column![text(g.name.clone()), text(count).size(11)].width(Fill),
                    button(text(i18n.tr("friends-message")).size(12)).on_press(Message::Chat(g.id)),
                    button(text(i18n.tr("groups-leave")).size(12))
                        .style(button::danger)
                        .on_press(Message::LeaveGroup(g.id)),
                ]
                .spacing(4)
                .align_y(Center),
            );
        }
        scrollable(col).height(Fill).into()
    }

    fn settings_panel<'a>(&'a self, ctx: Context<'a>) -> Element<'a, Message> {
        let i18n = ctx.i18n;
        let s = ctx.settings;
        let themes = [ThemeChoice::Light, ThemeChoice::Dark];
        let theme_names: Vec<String> = themes
            .iter()
            .map(|t| {
                i18n.tr(if *t == ThemeChoice::Light {
                    "settings-theme-light"
                } else {
                    "settings-theme-dark"
                })
            })
            .collect();
        let current_theme = theme_names[if s.theme == ThemeChoice::Light { 0 } else { 1 }].clone();
        let light = theme_names[0].clone();
        let me = &self.account.profile.user;
        let nickname = self.nickname.as_deref().unwrap_or(&me.nickname);
        let mut choose =
            button(text(i18n.tr("settings-avatar-choose")).size(12)).style(button::secondary);
        if !self.avatar_busy {
            choose = choose.on_press(Message::ChooseAvatar);
        }
        let col = column![
            text(i18n.tr("settings-profile")).size(14),
            row![
                avatar(&me.nickname, self.avatar(me.avatar.as_ref()), 56),
                column![text(format!("{} (@{})", me.nickname, me.account)), choose].spacing(6),
            ]
            .spacing(10)
            .align_y(Center),
            text(i18n.tr("settings-nickname")).size(12),
            row![
                text_input(&i18n.tr("settings-nickname"), nickname)
                    .on_input(Message::NicknameEdit)
                    .on_submit(Message::SaveNickname)
                    .padding(6)
                    .id("nickname"),
                button(text(i18n.tr("settings-save")).size(13)).on_press(Message::SaveNickname),
            ]
            .spacing(6)
            .align_y(Center),
            text(i18n.tr("settings-language")).size(14),
            pick_list(Language::ALL, Some(i18n.language()), Message::Language),
            text(i18n.tr("settings-theme")).size(14),
            pick_list(theme_names, Some(current_theme), move |t: String| {
                Message::Theme(if t == light {
                    ThemeChoice::Light
                } else {
                    ThemeChoice::Dark
                })
            }),
            text(format!(
                "{} {}",
                i18n.tr("settings-font-size"),
                s.font_size as u32
            ))
            .size(14),
            slider(12.0..=22.0, s.font_size, Message::FontSize).step(1.0),
            toggler(s.notifications)
                .label(i18n.tr("settings-notifications-on"))
                .on_toggle(Message::Notifications),
            self.devices_panel(ctx),
            text(format!(
                "{}: {}",
                i18n.tr("settings-server"),
                self.account.server
            ))
            .size(12),
            text(crate::about::line(i18n, &self.account.server)).size(12),
            button(text(i18n.tr("settings-sign-out")))
                .style(button::danger)
                .on_press(Message::SignOut),
        ]
        .spacing(8)
        .padding(10)
        .width(Length::Fill);
        scrollable(col).height(Fill).into()
    }
}

/// A message body in one line, in the reader's language.
pub(super) fn body_preview(i18n: &I18n, body: &MessageBody) -> String {
    natter_store::model::preview_of(body)
        .map(|(kind, text)| localized_preview(i18n, kind, &text))
        .unwrap_or_default()
}

/// A preview in the reader's language: text as it is, other kinds in words.
pub(super) fn localized_preview(i18n: &I18n, kind: PreviewKind, text: &str) -> String {
    match kind {
        PreviewKind::Text | PreviewKind::Call => text.to_string(),
        PreviewKind::Image => i18n.tr("chat-image"),
        PreviewKind::File => i18n.tr_args("chat-file", &[("name", Arg::from(text))]),
        PreviewKind::Voice => i18n.tr("chat-voice-short"),
        PreviewKind::Recalled => i18n.tr("chat-recalled"),
    }
}
