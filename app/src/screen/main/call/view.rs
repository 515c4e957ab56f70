//! Drawing calls: the strip above the window (incoming dialog, outgoing call,
//! in-call view, the short "ended" state) and the call buttons.

use iced::widget::{button, column, container, image, row, space, text};

use iced::{Center, ContentFit, Element, Fill};
use natter_i18n::{Arg, I18n};
use natter_media::CallStats;

use super::{Call, Message, Stage, duration, media_key};
use crate::screen::main::Main;
use crate::style;
use crate::widget::{Face, avatar};

/// Height of the peer's video in the strip.
const VIDEO_HEIGHT: f32 = 240.0;
/// Height of the peer's video when the window is narrow.
const NARROW_VIDEO_HEIGHT: f32 = 180.0;
/// The call strip's widget id.
pub const STRIP_ID: &str = "call-strip";
/// Height of the self-view.
const PREVIEW_HEIGHT: f32 = 90.0;

impl Main {
    /// The call strip, while there is a call. It sits above the whole window,
    /// so it shows whichever panel is open and leaves the chat usable.
    pub fn call_strip<'a>(&'a self, i18n: &I18n, narrow: bool) -> Option<Element<'a, Message>> {
        let call = self.call.as_ref()?;
        let name = self.user_name(call.peer);
        let picture = self
            .users
            .get(&call.peer)
            .and_then(|u| self.avatar(u.avatar.as_ref()));
        let who = |line: String| {
            row![
                avatar(Face::Person(call.peer.0), &name, picture, 44),
                column![text(name.clone()).size(17), text(line).size(13),].spacing(2),
            ]
            .spacing(10)
            .align_y(Center)
        };
        let icon = match call.media {
            natter_proto::model::CallMedia::Video => "📹",
            natter_proto::model::CallMedia::Audio => "☎",
        };
        let media = format!("{icon} {}", i18n.tr(media_key(call.media)));
        // Caller or callee, what kind of call, and the buttons: one line, or
        // two when the window is narrow.
        let ringing = |line: String, buttons: Vec<Element<'a, Message>>| -> Element<'a, Message> {
            let buttons = row(buttons).spacing(12).align_y(Center);
            if narrow {
                column![
                    who(line),
                    row![text(media.clone()).size(13), space::horizontal(), buttons]
                        .align_y(Center),
                ]
                .spacing(10)
                .into()
            } else {
                row![
                    who(line),
                    text(media.clone()).size(13),
                    space::horizontal(),
                    buttons
                ]
                .spacing(12)
                .align_y(Center)
                .into()
            }
        };
        let hang_up = |key: &str| -> Element<'a, Message> {
            button(text(i18n.tr(key)))
                .style(button::danger)
                .padding([8, 16])
                .on_press(Message::HangUp)
                .into()
        };
        let body: Element<'a, Message> = match &call.stage {
            Stage::Incoming => ringing(
                i18n.tr_args("call-incoming", &[("name", Arg::from(name.clone()))]),
                vec![
                    button(text(i18n.tr("call-decline")))
                        .style(button::danger)
                        .padding([8, 16])
                        .on_press(Message::Decline)
                        .into(),
                    button(text(i18n.tr("call-accept")))
                        .style(button::success)
                        .padding([8, 16])
                        .on_press(Message::Accept)
                        .into(),
                ],
            ),
            Stage::Dialing | Stage::Ringing => {
                let line = if call.stage == Stage::Ringing {
                    i18n.tr("call-ringing")
                } else {
                    i18n.tr_args("call-outgoing", &[("name", Arg::from(name.clone()))])
                };
                ringing(line, vec![hang_up("call-cancel")])
            }
            Stage::Connecting => ringing(i18n.tr("call-connecting"), vec![hang_up("call-hang-up")]),
            Stage::Connected(since) => {
                let elapsed = duration(since.elapsed().as_millis() as u64);
                let mut info = column![
                    who(elapsed),
                    text(stats_line(i18n, call.stats.as_ref())).size(11),
                ]
                .spacing(8);
                if let Some(media) = media_line(i18n, call.stats.as_ref(), false) {
                    info = info.push(text(media).size(11));
                }
                for problem in &call.problems {
                    let words = i18n.tr_args(
                        "call-problem",
                        &[("detail", Arg::from(crate::device_text(i18n, problem)))],
                    );
                    // Narrow, each warning keeps to one line (cut with "…"),
                    // so the controls below stay in the window.
                    info = info.push(if narrow {
                        crate::widget::one_line(words, 12.0, Some(text::warning))
                    } else {
                        text(words).size(12).style(text::warning).into()
                    });
                }
                // A voice call shows pictures once either side starts sending.
                let video = call.media == natter_proto::model::CallMedia::Video
                    || call.share.is_on()
                    || call.remote.is_some();
                if video && !narrow && call.problems.is_empty() {
                    // Controls at the bottom, level with the video's foot.
                    info = info
                        .push(space::vertical())
                        .push(controls(i18n, call))
                        .height(VIDEO_HEIGHT);
                    row![videos(i18n, call, false), info].spacing(16).into()
                } else if video && !narrow {
                    // Warnings take room: the controls follow them and the
                    // strip grows, so no button is pushed out of it.
                    info = info.push(controls(i18n, call));
                    row![videos(i18n, call, false), info].spacing(16).into()
                } else if video {
                    column![videos(i18n, call, true), info.push(controls(i18n, call))]
                        .spacing(10)
                        .into()
                } else {
                    info.push(controls(i18n, call)).into()
                }
            }
            Stage::Ended(ending) => row![
                who(ending.text(i18n)),
                space::horizontal(),
                button(text("×").size(16))
                    .style(button::text)
                    .on_press(Message::Dismiss),
            ]
            .spacing(12)
            .align_y(Center)
            .into(),
        };
        Some(
            container(body)
                .id(STRIP_ID)
                .padding([10, 16])
                .width(Fill)
                .style(style::call_strip)
                .into(),
        )
    }
}

/// The peer's video with the self-view beside it.
fn videos<'a>(i18n: &I18n, call: &'a Call, narrow: bool) -> Element<'a, Message> {
    if narrow {
        // One column: the peer only, smaller.
        return match (&call.remote, call.remote_paused()) {
            (Some(frame), false) => image(frame.clone())
                .height(NARROW_VIDEO_HEIGHT)
                .content_fit(ContentFit::Contain)
                .into(),
            _ => container(
                text(i18n.tr(if call.remote.is_some() {
                    "call-video-paused"
                } else {
                    "call-waiting-video"
                }))
                .size(13),
            )
            .width(Fill)
            .height(NARROW_VIDEO_HEIGHT)
            .center_x(Fill)
            .center_y(NARROW_VIDEO_HEIGHT)
            .style(style::video_tile)
            .into(),
        };
    }
    let remote: Element<'a, Message> = match &call.remote {
        Some(_) if call.remote_paused() => {
            placeholder_tile(i18n.tr("call-video-paused"), 13.0, VIDEO_HEIGHT)
        }
        Some(frame) => image(frame.clone())
            .height(VIDEO_HEIGHT)
            .content_fit(ContentFit::Contain)
            .into(),
        None => placeholder_tile(i18n.tr("call-waiting-video"), 13.0, VIDEO_HEIGHT),
    };
    let local: Element<'a, Message> = match (&call.local, call.camera) {
        (Some(frame), true) => image(frame.clone())
            .height(PREVIEW_HEIGHT)
            .content_fit(ContentFit::Contain)
            .into(),
        _ => placeholder_tile(i18n.tr("call-self-view-off"), 11.0, PREVIEW_HEIGHT),
    };
    row![
        remote,
        column![space::vertical(), local].height(VIDEO_HEIGHT)
    ]
    .spacing(8)
    .into()
}

/// Mute, camera, screen sharing (and its picker) and hang-up.
fn controls<'a>(i18n: &I18n, call: &'a Call) -> Element<'a, Message> {
    let mut buttons = row![
        button(text(i18n.tr(if call.muted {
            "call-unmute"
        } else {
            "call-mute"
        })))
        .style(button::secondary)
        .padding([8, 14])
        .on_press(Message::ToggleMute)
    ]
    .spacing(8)
    .align_y(Center);
    if call.media == natter_proto::model::CallMedia::Video {
        buttons = buttons.push(
            button(text(i18n.tr(if call.camera {
                "call-camera-off"
            } else {
                "call-camera-on"
            })))
            .style(button::secondary)
            .padding([8, 14])
            .on_press(Message::ToggleCamera),
        );
    }
    let buttons = buttons
        .push(super::share::control(
            i18n,
            &call.share,
            Message::ShareScreen,
            Message::StopSharing,
        ))
        .push(
            button(text(i18n.tr("call-hang-up")))
                .style(button::danger)
                .padding([8, 14])
                .on_press(Message::HangUp),
        )
        .wrap();
    match &call.share {
        super::share::Share::Picking(choices) => column![
            buttons,
            super::share::picker(i18n, choices, Message::ShareChosen, Message::ShareCancelled)
        ]
        .spacing(8)
        .into(),
        _ => buttons.into(),
    }
}

/// "RTT 12 ms · loss 0.0% · ↓ 850 kbps · ↑ 900 kbps"; dashes until measured.
pub fn stats_line(i18n: &I18n, stats: Option<&CallStats>) -> String {
    let dash = || "—".to_string();
    let ms = |d: Option<std::time::Duration>| d.map(|d| d.as_millis().to_string());
    let kbps = |bps: f64| format!("{:.0}", bps / 1000.0);
    let (rtt, jitter, loss, down, up, path) = match stats {
        Some(s) => (
            ms(s.rtt).unwrap_or_else(dash),
            ms(s.jitter).unwrap_or_else(dash),
            format!("{:.1}", s.loss_fraction * 100.0),
            kbps(s.recv_bitrate_bps),
            kbps(s.send_bitrate_bps),
            s.target_bitrate_bps.map(kbps).unwrap_or_else(dash),
        ),
        None => (dash(), dash(), dash(), dash(), dash(), dash()),
    };
    i18n.tr_args(
        "call-stats",
        &[
            ("rtt", Arg::from(rtt)),
            ("jitter", Arg::from(jitter)),
            ("loss", Arg::from(loss)),
            ("down", Arg::from(down)),
            ("up", Arg::from(up)),
            ("path", Arg::from(path)),
        ],
    )
}

/// "640×360 · 15 fps", or a dash while no picture passes.
fn picture(video: Option<&natter_media::VideoStats>) -> String {
    match video {
        Some(v) => format!("{}×{} · {:.0} fps", v.width, v.height, v.fps),
        None => "—".to_string(),
    }
}

/// The second HUD line: codecs, and the pictures sent and received. In a
/// group call (`group`) what arrives is on each participant's tile, so the
/// line names only what this device sends.
pub fn media_line(i18n: &I18n, stats: Option<&CallStats>, group: bool) -> Option<String> {
    let stats = stats?;
    let codecs = match stats.video_codec {
        Some(video) => format!("{} · {video}", stats.audio_codec),
        None => stats.audio_codec.to_string(),
    };
    let codecs = Arg::from(codecs);
    let sent = Arg::from(picture(stats.sent_video.as_ref()));
    Some(if group {
        i18n.tr_args(
            "call-stats-media-group",
            &[("codecs", codecs), ("sent", sent)],
        )
    } else {
        i18n.tr_args(
            "call-stats-media",
            &[
                ("codecs", codecs),
                ("sent", sent),
                (
                    "received",
                    Arg::from(picture(stats.received_video.as_ref())),
                ),
            ],
        )
    })
}

/// One group call participant's numbers, for their tile.
pub fn participant_line(i18n: &I18n, stats: &natter_media::ParticipantStats) -> String {
    i18n.tr_args(
        "call-stats-participant",
        &[
            (
                "loss",
                Arg::from(format!("{:.1}", stats.loss_fraction * 100.0)),
            ),
            (
                "jitter",
                Arg::from(
                    stats
                        .jitter
                        .map_or("—".to_string(), |j| j.as_millis().to_string()),
                ),
            ),
            (
                "down",
                Arg::from(format!("{:.0}", stats.recv_bitrate_bps / 1000.0)),
            ),
            ("picture", Arg::from(picture(stats.video.as_ref()))),
        ],
    )
}

/// Which device a settings row picks.
#[derive(Clone, Copy)]
enum Slot {
    Microphone,
    Speaker,
    Camera,
}

impl Main {
    /// The call devices in the settings panel.
    pub(in crate::screen::main) fn devices_panel<'a, M: Clone + 'a>(
        &'a self,
        ctx: crate::screen::main::Context<'a>,
        chosen_devices: fn(super::Devices) -> M,
    ) -> Element<'a, M> {
        use iced::widget::{pick_list, toggler};
        let i18n = ctx.i18n;
        let chosen = &ctx.settings.devices;
        let list = self.device_list.clone().unwrap_or_default();
        let default = i18n.tr("settings-device-default");
        let mut col = column![
            text(i18n.tr("settings-calls")).size(14),
            toggler(chosen.synthetic)
                .label(i18n.tr("settings-synthetic-media"))
                .on_toggle({
                    let chosen = chosen.clone();
                    move |on| {
                        chosen_devices(super::Devices {
                            synthetic: on,
                            ..chosen.clone()
                        })
                    }
                }),
        ]
        .spacing(8);
        for (slot, key, names, current) in [
            (
                Slot::Microphone,
                "settings-microphone",
                &list.microphones,
                &chosen.microphone,
            ),
            (
                Slot::Speaker,
                "settings-speaker",
                &list.speakers,
                &chosen.speaker,
            ),
            (
                Slot::Camera,
                "settings-camera",
                &list.cameras,
                &chosen.camera,
            ),
        ] {
            let mut options = vec![default.clone()];
            options.extend(names.iter().map(|d| d.name.clone()));
            let selected = current.clone().unwrap_or_else(|| default.clone());
            let picker = pick_list(options, Some(selected), {
                let (chosen, default) = (chosen.clone(), default.clone());
                move |name: String| {
                    let pick = (name != default).then_some(name);
                    let mut devices = chosen.clone();
                    match slot {
                        Slot::Microphone => devices.microphone = pick,
                        Slot::Speaker => devices.speaker = pick,
                        Slot::Camera => devices.camera = pick,
                    }
                    chosen_devices(devices)
                }
            })
            .text_size(13);
            let mut line = column![text(i18n.tr(key)).size(12), picker].spacing(4);
            if names.is_empty() && self.device_list.is_some() {
                line = line.push(
                    text(i18n.tr("settings-devices-none"))
                        .size(11)
                        .style(text::secondary),
                );
            }
            col = col.push(line);
        }
        col.into()
    }
}

/// A 4:3 video tile `height` tall with `words` in place of the picture.
fn placeholder_tile<'a>(words: String, size: f32, height: f32) -> Element<'a, Message> {
    let width = height * 4.0 / 3.0;
    container(text(words).size(size))
        .width(width)
        .height(height)
        .center_x(width)
        .center_y(height)
        .style(style::video_tile)
        .into()
}
