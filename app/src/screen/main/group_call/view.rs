//! The group call's strip: a ringing call's banner, and while in one the
//! tiles (picture or initial, name, mute, the one speaking outlined) with
//! mute, camera, screen and leave.

use iced::widget::{button, column, container, image, row, text};
use iced::{Element, Length};
use natter_i18n::{Arg, I18n};
use natter_proto::model::{CallMedia, UserId};

use super::super::Main;
use super::super::call::share::{self, Share};
use super::{Message, TILE_H, TILE_W};
use crate::style;

impl Main {
    /// The strip shown above everything while in a group call.
    pub(in crate::screen::main) fn group_call_strip<'a>(
        &'a self,
        i18n: &'a I18n,
    ) -> Option<Element<'a, Message>> {
        let Some(in_call) = self.group_call.as_ref() else {
            return self.group_ring_banner(i18n);
        };
        let me = self.me();
        let name = |u: &UserId| {
            if *u == me {
                i18n.tr("group-call-you")
            } else {
                self.users
                    .get(u)
                    .map(|s| s.nickname.clone())
                    .unwrap_or_else(|| u.to_string())
            }
        };
        let initial = |u: &UserId| {
            let nickname = if *u == me {
                self.me_name().to_owned()
            } else {
                self.users
                    .get(u)
                    .map(|s| s.nickname.clone())
                    .unwrap_or_default()
            };
            nickname
                .chars()
                .next()
                .unwrap_or('?')
                .to_uppercase()
                .to_string()
        };
        let tiles = in_call.participants.iter().map(|u| {
            let picture: Element<'a, Message> = match in_call.pictures.get(u) {
                Some(handle) => image(handle.clone())
                    .width(TILE_W)
                    .height(TILE_H)
                    .content_fit(iced::ContentFit::Cover)
                    .into(),
                None => container(text(initial(u)).size(32))
                    .center_x(TILE_W)
                    .center_y(TILE_H)
                    .into(),
            };
            let muted = in_call.is_muted(*u, me);
            // Whoever muted is not outlined, whatever their last sound was.
            let speaking = in_call.speaking == Some(*u) && !muted;
            let label = if muted {
                format!("{} · {}", name(u), i18n.tr("group-call-muted"))
            } else {
                name(u)
            };
            let label = row![]
                .push(muted.then(|| {
                    crate::icon::icon(crate::icon::Icon::MicOff, 12.0).style(text::danger)
                }))
                .push(
                    text(label)
                        .size(12)
                        .wrapping(iced::widget::text::Wrapping::None),
                )
                .spacing(4)
                .align_y(iced::Alignment::Center);
            let numbers = in_call
                .stats
                .as_ref()
                .and_then(|s| s.participants.iter().find(|p| p.user == *u))
                .map(|p| {
                    text(super::super::call::participant_line(i18n, p))
                        .size(10)
                        .style(text::secondary)
                        .width(TILE_W)
                });
            container(column![picture, label].push(numbers))
                .padding(4)
                .style(move |theme| style::call_tile(theme, speaking))
                .into()
        });
        let status = if in_call.connected {
            i18n.tr_args(
                "group-call-in-call",
                &[("count", Arg::from(in_call.participants.len()))],
            )
        } else {
            i18n.tr("call-connecting")
        };
        let mute = if in_call.muted {
            "call-unmute"
        } else {
            "call-mute"
        };
        let camera = if in_call.camera {
            "call-camera-off"
        } else {
            "call-camera-on"
        };
        let controls = row![
            text(status).size(13).width(Length::Fill),
            button(text(i18n.tr(mute)).size(13))
                .style(button::secondary)
                .on_press(Message::ToggleMute),
            button(text(i18n.tr(camera)).size(13))
                .style(button::secondary)
                .on_press(Message::ToggleCamera),
            share::control(
                i18n,
                &in_call.share,
                Message::ShareScreen,
                Message::StopSharing
            ),
            button(text(i18n.tr("group-call-leave")).size(13))
                .style(button::danger)
                .on_press(Message::Leave),
        ]
        .spacing(8)
        .align_y(iced::Alignment::Center);
        let mut numbers = super::super::call::stats_line(i18n, in_call.stats.as_ref());
        if let Some(media) = super::super::call::media_line(i18n, in_call.stats.as_ref(), true) {
            numbers = format!("{numbers}\n{media}");
        }
        let numbers = text(numbers).size(11).style(text::secondary);
        let mut strip = column![controls].spacing(8);
        if let Share::Picking(choices) = &in_call.share {
            strip = strip.push(share::picker(
                i18n,
                choices,
                Message::ShareChosen,
                Message::ShareCancelled,
            ));
        }
        let mut strip = strip.push(row(tiles).spacing(8).wrap()).push(numbers);
        if let Some(problem) = &in_call.problem {
            strip = strip.push(
                text(i18n.tr_args(
                    "call-problem",
                    &[("detail", Arg::from(crate::device_text(i18n, problem)))],
                ))
                .size(12),
            );
        }
        Some(
            container(strip)
                .padding([8, 12])
                .width(Length::Fill)
                .style(style::sidebar)
                .into(),
        )
    }

    /// A group call ringing here: who calls, in which group, Decline / Join.
    pub(in crate::screen::main) fn group_ring_banner<'a>(
        &'a self,
        i18n: &'a I18n,
    ) -> Option<Element<'a, Message>> {
        let (conversation, running) = self.ringing_group_call()?;
        let group = super::super::panels::group_name(self, conversation);
        let from = running.from.map(|u| self.user_name(u)).unwrap_or_default();
        let line = i18n.tr_args(
            "group-call-incoming",
            &[("name", Arg::from(from)), ("group", Arg::from(group))],
        );
        let media = match running.media {
            CallMedia::Audio => crate::icon::Icon::Phone,
            CallMedia::Video => crate::icon::Icon::Video,
        };
        let banner = row![
            crate::icon::icon(media, 18.0),
            crate::widget::one_line(line, 14.0, None),
            button(text(i18n.tr("call-decline")).size(13))
                .style(button::danger)
                .padding([6, 14])
                .on_press(Message::Decline(conversation)),
            button(text(i18n.tr("group-call-join-now")).size(13))
                .style(button::success)
                .padding([6, 14])
                .on_press(Message::Join(conversation)),
        ]
        .spacing(10)
        .align_y(iced::Alignment::Center);
        Some(
            container(banner)
                .padding([8, 12])
                .width(Length::Fill)
                .style(style::sidebar)
                .into(),
        )
    }
}
