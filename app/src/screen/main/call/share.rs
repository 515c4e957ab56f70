//! Screen sharing, for 1:1 and group calls alike: the "Share screen" / "Stop
//! sharing" button, listing what can be shared off the UI thread, and the
//! picker shown when there is more than one screen or window.
//!
//! A shared screen replaces the camera while it is shared (one video stream
//! per participant); stopping goes back to the camera if it was on.

use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Element, Length, Task};
use natter_i18n::I18n;
use natter_media::source::screen::{ScreenChoice, ScreenTarget};

use crate::icon::{self, Icon};

/// Where sharing stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Share {
    /// Not sharing.
    #[default]
    Off,
    /// Finding out what can be shared.
    Listing,
    /// The user picks one of these.
    Picking(Vec<ScreenChoice>),
    /// Sharing.
    On,
}

impl Share {
    /// Whether a screen is being shared.
    pub fn is_on(&self) -> bool {
        *self == Share::On
    }
}

/// What can be shared, listed on a blocking thread (it talks to the display
/// server). No display is an error in words, never a panic.
pub fn list() -> Task<Result<Vec<ScreenChoice>, natter_media::Error>> {
    Task::perform(
        async {
            tokio::task::spawn_blocking(natter_media::source::screen::list_screens)
                .await
                .unwrap_or_else(|e| Err(natter_media::Error::Screen(e.to_string())))
        },
        std::convert::identity,
    )
}

/// What to do with a listing: share the only choice at once, or let the user
/// pick. `Err` is what to tell the user.
pub fn listed(
    listing: Result<Vec<ScreenChoice>, natter_media::Error>,
) -> Result<Result<ScreenTarget, Vec<ScreenChoice>>, String> {
    let mut choices = listing.map_err(|e| e.to_string())?;
    match choices.len() {
        0 => Err(natter_media::Error::Screen("no screen to share".to_owned()).to_string()),
        1 => Ok(Ok(choices.remove(0).target)),
        _ => Ok(Err(choices)),
    }
}

/// The share / stop-sharing icon button, with its name as tooltip.
pub fn control<'a, M: Clone + 'a>(i18n: &I18n, share: &Share, start: M, stop: M) -> Element<'a, M> {
    let (glyph, label, press) = match share {
        Share::On => (Icon::ScreenShareOff, "call-stop-sharing", Some(stop)),
        Share::Listing => (Icon::ScreenShare, "call-share-screen", None),
        Share::Off | Share::Picking(_) => (Icon::ScreenShare, "call-share-screen", Some(start)),
    };
    icon::button(
        glyph,
        i18n.tr(label),
        if share.is_on() {
            button::primary
        } else {
            button::secondary
        },
        press,
        icon::Position::Top,
    )
}

/// The picker: one row per screen or window, and cancel.
pub fn picker<'a, M: Clone + 'a>(
    i18n: &I18n,
    choices: &'a [ScreenChoice],
    pick: impl Fn(ScreenTarget) -> M,
    cancel: M,
) -> Element<'a, M> {
    let mut list = column![].spacing(4);
    for choice in choices {
        let glyph = match choice.target {
            ScreenTarget::Monitor(_) => Icon::Monitor,
            ScreenTarget::Window(_) => Icon::AppWindow,
        };
        list = list.push(
            button(
                row![
                    icon::icon(glyph, 16.0),
                    text(&choice.name).size(13).width(Length::Fill),
                    text(format!("{}×{}", choice.width, choice.height))
                        .size(11)
                        .style(text::secondary),
                ]
                .spacing(8)
                .align_y(iced::Alignment::Center),
            )
            .style(button::secondary)
            .width(Length::Fill)
            .padding([6, 10])
            .on_press(pick(choice.target.clone())),
        );
    }
    container(
        column![
            text(i18n.tr("call-share-pick")).size(13),
            scrollable(list).height(Length::Shrink),
            button(text(i18n.tr("call-share-cancel")).size(13))
                .style(button::text)
                .on_press(cancel),
        ]
        .spacing(8),
    )
    .padding(8)
    .max_width(420)
    .style(container::rounded_box)
    .into()
}
