//! Drawing the main window.

use iced::widget::{button, column, container, row, text};
use iced::{Center, Element, Fill};
use natter_i18n::{Arg, I18n};
use natter_proto::model::{CallMedia, ConversationKind, MessageBody};
use natter_store::model::PreviewKind;

use super::{Context, Main, Message, Panel};
use crate::style;

/// Below this window width one pane shows at a time.
pub const NARROW: f32 = 700.0;
/// The sidebar's width in the wide layout.
const SIDEBAR: f32 = 300.0;
/// The group info panel's width beside the chat.
const INFO: f32 = 320.0;
/// The narrowest chat the group info may stand beside; with less room it
/// takes the chat's place until it is closed.
const MIN_CHAT: f32 = 480.0;

/// What the chat header says beside the title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStatus {
    /// The friend's presence in a direct chat, while the reader is connected
    /// and so knows it.
    Peer(bool),
    /// The reader's own connection, while it is not up.
    Connection,
    /// Nothing: a group while connected.
    Nothing,
}

/// Picks what the chat header shows: the friend's presence, not the reader's
/// own connection, which the sidebar already shows.
pub fn header_status(
    kind: &ConversationKind,
    status: &super::Status,
    online: &std::collections::BTreeSet<natter_proto::UserId>,
) -> HeaderStatus {
    match (kind, status) {
        (_, super::Status::Connecting | super::Status::Offline(_)) => HeaderStatus::Connection,
        (ConversationKind::Direct { peer }, _) => HeaderStatus::Peer(online.contains(peer)),
        (ConversationKind::Group { .. }, _) => HeaderStatus::Nothing,
    }
}

impl Main {
    /// Draws the window, `width` pixels wide; below [`NARROW`] one pane shows
    /// at a time.
    pub fn view<'a>(&'a self, ctx: Context<'a>, width: f32) -> Element<'a, Message> {
        let narrow = width < NARROW;
        if let Some(picker) = &self.forward {
            return picker
                .view(ctx.i18n, &self.conversations)
                .map(Message::Forward);
        }
        // The group info goes beside the chat only where the chat keeps room
        // to read and write; elsewhere it takes the chat's place.
        let beside = !narrow && width - SIDEBAR - INFO >= MIN_CHAT;
        let body = self.panes(ctx, narrow, beside);
        let body = match self.group_call_strip(ctx.i18n) {
            Some(strip) => column![strip.map(Message::GroupCall), body].into(),
            None => body,
        };
        match self.call_strip(ctx.i18n, narrow) {
            Some(strip) => column![strip.map(Message::Call), body].into(),
            None => body,
        }
    }

    fn panes<'a>(&'a self, ctx: Context<'a>, narrow: bool, beside: bool) -> Element<'a, Message> {
        let settings = self.sidebar.panel() == Panel::Settings;
        if settings && narrow {
            // The whole window, with a way back to the chats.
            return self.settings_pane(ctx, true);
        }
        let side = self.sidebar(ctx);
        let chat = if settings {
            self.settings_pane(ctx, false)
        } else {
            self.chat_pane(ctx, narrow, beside)
        };
        if narrow {
            if self.show_chat_narrow
                && self.selected.is_some()
                && self.sidebar.panel() == Panel::Chats
            {
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
                    .width(SIDEBAR)
                    .height(Fill)
                    .style(style::sidebar),
                chat
            ]
            .into()
        }
    }

    fn status_line(&self, i18n: &I18n) -> Element<'_, Message> {
        super::sidebar::status_line(i18n, &self.status)
    }

    fn sidebar<'a>(&'a self, ctx: Context<'a>) -> Element<'a, Message> {
        let i18n = ctx.i18n;
        let me = self.me();
        let requests = self
            .requests
            .iter()
            .filter(|r| r.to.id == me && r.status == natter_proto::model::RequestStatus::Pending)
            .count();
        let v = super::sidebar::View {
            i18n,
            me,
            me_name: self.me_name(),
            status: &self.status,
            conversations: &self.conversations,
            selected: self.selected,
            users: &self.users,
            avatars: &self.avatars,
            call_records: &self.call_records,
            mentioned: &self.mentioned,
            requests,
        };
        let header = self.sidebar.header(&v).map(Message::Sidebar);
        let body: Element<'a, Message> = match self.sidebar.panel() {
            Panel::Chats => self.sidebar.list(&v).map(Message::Sidebar),
            Panel::Contacts => self
                .contacts
                .view(super::contacts::View {
                    i18n,
                    me,
                    friends: &self.friends,
                    requests: &self.requests,
                    online: &self.online,
                })
                .map(Message::Contacts),
            Panel::Groups => self
                .groups_panel
                .view(i18n, &self.friends, &self.groups)
                .map(Message::Groups),
            // The settings take the main pane; the chats stay at hand.
            Panel::Settings => self.sidebar.list(&v).map(Message::Sidebar),
        };
        let mut col = column![header, body].spacing(4);
        if let Some(n) = self.notice.text()
            && self.sidebar.panel() != Panel::Settings
        {
            col = col.push(container(text(n.to_owned()).size(12)).padding(10));
        }
        col.into()
    }

    fn chat_pane<'a>(
        &'a self,
        ctx: Context<'a>,
        narrow: bool,
        beside: bool,
    ) -> Element<'a, Message> {
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
        let header = self.chat_header(i18n, conv, narrow);
        if let Some(viewer) = &self.viewer {
            let thumbnail = self.pictures.get(&viewer.file.id);
            return column![header, viewer.view(i18n, thumbnail).map(Message::Viewer)].into();
        }
        let log = self
            .chat
            .view(super::chat::View {
                i18n,
                me: self.me(),
                conversation: conv,
                group,
                privileged: self.privileged(),
                users: &self.users,
                pictures: &self.pictures,
                avatars: &self.avatars,
                transfers: &self.transfers,
                playing: self.playing_id(),
                font_size: ctx.settings.font_size,
                reads: &self.reads,
            })
            .map(Message::Chat);
        let members = self.mention_candidates();
        let composer = self
            .composer
            .view(super::composer::View {
                i18n,
                closed: conv.closed,
                recording: self.recording_in(conv.id),
                can_record: self.recording.is_none(),
                members,
                may_mention_all: self.privileged(),
                recent_emoji: &ctx.settings.recent_emoji,
            })
            .map(Message::Composer);
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
        let composer: Element<'a, Message> = if self.incoming.is_empty() || conv.closed {
            composer
        } else {
            column![self.incoming.view(i18n).map(Message::Attach), composer].into()
        };
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
        if !beside {
            column![header, panel].into()
        } else {
            row![
                column![header, log, composer].width(Fill),
                container(panel)
                    .width(INFO)
                    .height(Fill)
                    .style(style::sidebar),
            ]
            .into()
        }
    }

    /// The chat's header: back (narrow), the title with the friend's presence
    /// or who is typing under it, and icon buttons named in the reader's
    /// language. The title is clipped to one line, never wrapped, so the
    /// header holds at 360 px.
    fn chat_header<'a>(
        &'a self,
        i18n: &I18n,
        conv: &'a natter_store::Conversation,
        narrow: bool,
    ) -> Element<'a, Message> {
        use crate::icon::{self, Icon, Position};
        let tip = Position::Bottom;
        let group = matches!(conv.kind, ConversationKind::Group { .. });
        let mut header = row![].spacing(2).align_y(Center).padding([6, 8]);
        if narrow {
            header = header.push(icon::button(
                Icon::Back,
                i18n.tr("chat-back"),
                button::text,
                Some(Message::Back),
                tip,
            ));
        }
        let mut under: Option<Element<'a, Message>> = None;
        // With the group info beside it the header is narrow; the sidebar shows
        // the connection status too.
        if self.group_info.is_none() {
            match header_status(&conv.kind, &self.status, &self.online) {
                HeaderStatus::Peer(online) => {
                    let (key, style): (_, fn(&iced::Theme) -> text::Style) = if online {
                        ("status-online", style::online)
                    } else {
                        ("status-peer-offline", text::secondary)
                    };
                    under = Some(one_line(i18n.tr(key), 12.0).style(style).into());
                }
                HeaderStatus::Connection => under = Some(self.status_line(i18n)),
                HeaderStatus::Nothing => {}
            }
        }
        // A call runs in the group: who is in it, under its name.
        if let Some(running) = self.group_call_in(conv.id)
            && !self.in_group_call()
        {
            let names: Vec<String> = running
                .participants
                .iter()
                .map(|u| self.user_name(*u))
                .collect();
            let who = i18n.tr_args("group-call-who", &[("names", Arg::from(names.join(", ")))]);
            under = Some(one_line(who, 12.0).style(style::online).into());
        }
        if let Some((user, at)) = self.typing.get(&conv.id)
            && *user != self.me()
            && at.elapsed() < super::TYPING_SHOWN
        {
            let name = self
                .users
                .get(user)
                .map(|u| u.nickname.clone())
                .unwrap_or_default();
            under = Some(
                one_line(
                    i18n.tr_args("chat-typing", &[("name", Arg::from(name))]),
                    12.0,
                )
                .style(text::secondary)
                .into(),
            );
        }
        let title = column![one_line(conv.title.clone(), 17.0)].extend(under);
        header = header.push(container(title).width(Fill).clip(true).padding([0, 4]));
        if let ConversationKind::Direct { peer } = conv.kind
            && !conv.closed
        {
            let idle = self.phone.is_some() && self.call.as_ref().is_none_or(|c| !c.is_live());
            for (media, glyph) in [
                (CallMedia::Audio, Icon::Phone),
                (CallMedia::Video, Icon::Video),
            ] {
                header = header.push(icon::button(
                    glyph,
                    i18n.tr(super::call::media_key(media)),
                    button::text,
                    idle.then_some(Message::Call(super::call::Message::Dial(
                        conv.id, peer, media,
                    ))),
                    tip,
                ));
            }
        }
        if group && !conv.closed && self.client.is_some() {
            let busy = self.in_group_call() || self.call.as_ref().is_some_and(|c| c.is_live());
            match self.group_call_in(conv.id) {
                Some(running) if !self.in_group_call() => {
                    // Narrow, the short words leave the group's name room.
                    let key = match (narrow, running.ringing) {
                        (true, _) => "group-call-join-short",
                        (false, true) => "group-call-join-ringing",
                        (false, false) => "group-call-join",
                    };
                    let label =
                        i18n.tr_args(key, &[("count", Arg::from(running.participants.len()))]);
                    header = header.push(
                        button(one_line(label, 13.0))
                            .style(button::success)
                            .on_press_maybe((!busy).then_some(Message::GroupCall(
                                super::group_call::Message::Join(conv.id),
                            ))),
                    );
                }
                Some(_) => {}
                None => {
                    for (media, glyph, key) in [
                        (CallMedia::Audio, Icon::Phone, "group-call-start-audio"),
                        (CallMedia::Video, Icon::Video, "group-call-start-video"),
                    ] {
                        header = header.push(icon::button(
                            glyph,
                            i18n.tr(key),
                            button::text,
                            (!busy).then_some(Message::GroupCall(
                                super::group_call::Message::Start(conv.id, media),
                            )),
                            tip,
                        ));
                    }
                }
            }
        }
        if group && self.groups.iter().any(|g| g.id == conv.id) {
            header = header.push(icon::button(
                Icon::Info,
                i18n.tr("groups-info"),
                button::text,
                Some(Message::OpenGroupInfo(conv.id)),
                tip,
            ));
        }
        let (pin_icon, pin) = if conv.pinned {
            (Icon::PinOff, "conversation-unpin")
        } else {
            (Icon::Pin, "conversation-pin")
        };
        let (mute_icon, mute) = if conv.muted {
            (Icon::Bell, "conversation-unmute")
        } else {
            (Icon::BellOff, "conversation-mute")
        };
        header
            .push(icon::button(
                pin_icon,
                i18n.tr(pin),
                button::text,
                Some(Message::Pin(conv.id, !conv.pinned)),
                tip,
            ))
            .push(icon::button(
                mute_icon,
                i18n.tr(mute),
                button::text,
                Some(Message::Mute(conv.id, !conv.muted)),
                tip,
            ))
            .into()
    }

    /// Settings and profile in the main pane, under a title; `back` adds a
    /// way back to the chats (the narrow layout, where they take the window).
    fn settings_pane<'a>(&'a self, ctx: Context<'a>, back: bool) -> Element<'a, Message> {
        use crate::icon::{self, Icon, Position};
        let i18n = ctx.i18n;
        let mut title = row![].spacing(4).align_y(Center).padding([6, 8]);
        if back {
            title = title.push(icon::button(
                Icon::Back,
                i18n.tr("chat-back"),
                button::text,
                Some(Message::Sidebar(super::sidebar::Message::Panel(
                    Panel::Chats,
                ))),
                Position::Bottom,
            ));
        }
        title = title.push(
            container(one_line(i18n.tr("settings-title"), 18.0))
                .padding([4, if back { 0 } else { 12 }]),
        );
        let mut col = column![
            title,
            container(
                container(self.settings_panel(ctx))
                    .max_width(640)
                    .padding([0, 12])
            )
            .center_x(Fill)
            .height(Fill),
        ]
        .spacing(4);
        if let Some(n) = self.notice.text() {
            col = col.push(container(text(n.to_owned()).size(12)).padding(10));
        }
        container(col).width(Fill).height(Fill).into()
    }

    fn settings_panel<'a>(&'a self, ctx: Context<'a>) -> Element<'a, Message> {
        let me = &self.account.profile.user;
        self.settings
            .view(super::settings::View {
                i18n: ctx.i18n,
                preferences: ctx.settings,
                me,
                avatar: self.avatar(me.avatar.as_ref()),
                server: &self.account.server,
                devices: self.devices_panel(ctx, super::settings::Message::Devices),
            })
            .map(Message::Settings)
    }
}

/// `words` on one line: never wrapped, cut at the edge of what holds it.
fn one_line<'a>(words: String, size: f32) -> text::Text<'a> {
    text(words)
        .size(size)
        .wrapping(iced::widget::text::Wrapping::None)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use natter_proto::UserId;

    use super::*;
    use crate::screen::main::Status;

    #[test]
    fn the_header_shows_the_friends_presence_not_the_readers_connection() {
        let direct = ConversationKind::Direct { peer: UserId(7) };
        let mut online = BTreeSet::new();
        assert_eq!(
            header_status(&direct, &Status::Online, &online),
            HeaderStatus::Peer(false)
        );
        online.insert(UserId(7));
        assert_eq!(
            header_status(&direct, &Status::Online, &online),
            HeaderStatus::Peer(true)
        );
        assert_eq!(
            header_status(&direct, &Status::Syncing, &online),
            HeaderStatus::Peer(true)
        );
        // Without a connection the friend's presence is not known.
        assert_eq!(
            header_status(&direct, &Status::Offline(3), &online),
            HeaderStatus::Connection
        );
        assert_eq!(
            header_status(&direct, &Status::Connecting, &online),
            HeaderStatus::Connection
        );
    }
}
