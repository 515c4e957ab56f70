//! Icons from the bundled Lucide font (`assets/fonts/lucide.ttf`, ISC
//! licence), and icon buttons that carry their name: shown as a tooltip on
//! hover, and reported to widget operations as the button's text, so a
//! search over the widget tree (accessibility, the UI tests) finds "Pin" on
//! a button that draws a pin.

use iced::widget::{Tooltip, container, text, tooltip};

pub use iced::widget::tooltip::Position;
use iced::{Element, Font, Theme};

/// The icon font, by family name.
pub const FONT: Font = Font::with_name("lucide");

/// The font file, loaded at start-up.
pub const BYTES: &[u8] = include_bytes!("../../assets/fonts/lucide.ttf");

/// An icon, by its code point in the Lucide font.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    /// A voice call.
    Phone,
    /// A video call.
    Video,
    /// Pin a conversation.
    Pin,
    /// Unpin it.
    PinOff,
    /// Unmute.
    Bell,
    /// Mute.
    BellOff,
    /// Group info.
    Info,
    /// The emoji picker.
    Smile,
    /// Attach a file.
    Paperclip,
    /// Record a voice message.
    Mic,
    /// A participant's muted microphone.
    MicOff,
    /// Send.
    Send,
    /// Back to the list.
    Back,
    /// Close.
    Close,
    /// Try again.
    Retry,
    /// Save an edit.
    Check,
    /// Share the screen.
    ScreenShare,
    /// Stop sharing the screen.
    ScreenShareOff,
    /// A whole screen, in the share picker.
    Monitor,
    /// One window, in the share picker.
    AppWindow,
}

impl Icon {
    /// The glyph.
    pub fn char(self) -> char {
        match self {
            Icon::Phone => '\u{e133}',
            Icon::Video => '\u{e1a5}',
            Icon::Pin => '\u{e259}',
            Icon::PinOff => '\u{e2b6}',
            Icon::Bell => '\u{e059}',
            Icon::BellOff => '\u{e05a}',
            Icon::Info => '\u{e0f9}',
            Icon::Smile => '\u{e164}',
            Icon::Paperclip => '\u{e12d}',
            Icon::Mic => '\u{e118}',
            Icon::MicOff => '\u{e119}',
            Icon::Send => '\u{e4f2}',
            Icon::Back => '\u{e06e}',
            Icon::Close => '\u{e1b2}',
            Icon::Retry => '\u{e145}',
            Icon::Check => '\u{e06c}',
            Icon::ScreenShare => '\u{e14f}',
            Icon::ScreenShareOff => '\u{e150}',
            Icon::Monitor => '\u{e11d}',
            Icon::AppWindow => '\u{e426}',
        }
    }
}

/// The icon as text of `size`.
pub fn icon<'a>(icon: Icon, size: f32) -> iced::widget::Text<'a> {
    text(icon.char().to_string())
        .font(FONT)
        .size(size)
        .line_height(1.0)
        .center()
}

/// A button showing `icon`, named `label` (the tooltip, and the text widget
/// operations see); it does nothing without `on_press`.
pub fn button<'a, M: Clone + 'a>(
    icon: Icon,
    label: String,
    style: fn(&Theme, iced::widget::button::Status) -> iced::widget::button::Style,
    on_press: Option<M>,
    tip: Position,
) -> Element<'a, M> {
    let b = iced::widget::button(self::icon(icon, 18.0))
        .padding(8)
        .style(style)
        .on_press_maybe(on_press);
    named(b, label, tip)
}

/// `content` with a tooltip saying `label`, found by `label` in searches.
pub fn named<'a, M: 'a>(
    content: impl Into<Element<'a, M>>,
    label: String,
    tip: Position,
) -> Element<'a, M> {
    let tip: Tooltip<'a, M> = tooltip(
        content,
        container(text(label.clone()).size(12))
            .padding([4, 8])
            .style(container::rounded_box),
        tip,
    )
    .gap(4)
    .snap_within_viewport(true);
    crate::widget::labelled(tip, label)
}
