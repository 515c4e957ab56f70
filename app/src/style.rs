//! Colours and shapes shared by the screens, and the two themes: iced's
//! light and dark palettes with the colours that did not read well on their
//! backgrounds replaced (a test holds every text/background pair to WCAG AA).

use std::sync::LazyLock;

use iced::theme::Palette;
use iced::widget::{button, container, text};
use iced::{Border, Color, Theme, border};

use crate::app::ThemeChoice;

/// Light: iced's light palette; its green and red already read on white.
static LIGHT: LazyLock<Theme> = LazyLock::new(|| {
    Theme::custom(
        "Natter light",
        Palette {
            success: Color::from_rgb8(0x12, 0x66, 0x4f),
            danger: Color::from_rgb8(0xb4, 0x30, 0x2d),
            ..Palette::LIGHT
        },
    )
});

/// Dark: iced's dark palette with a green and a red light enough to read on
/// its grey (iced's own green gives 2.0:1 there).
static DARK: LazyLock<Theme> = LazyLock::new(|| {
    Theme::custom(
        "Natter dark",
        Palette {
            success: Color::from_rgb8(0x4c, 0xd1, 0x8c),
            danger: Color::from_rgb8(0xff, 0x7a, 0x75),
            ..Palette::DARK
        },
    )
});

/// The theme for a choice.
pub fn theme(choice: ThemeChoice) -> Theme {
    match choice {
        ThemeChoice::Light => LIGHT.clone(),
        ThemeChoice::Dark => DARK.clone(),
    }
}

/// A friend's "Online": the theme's green.
pub fn online(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.palette().success),
    }
}

/// A chat bubble: own messages in the primary colour, others' in a soft one.
pub fn bubble(mine: bool) -> impl Fn(&Theme) -> container::Style {
    move |theme| {
        let p = theme.extended_palette();
        let pair = if mine {
            p.primary.weak
        } else {
            p.background.strong
        };
        container::Style::default()
            .background(pair.color)
            .color(pair.text)
            .border(border::rounded(10))
    }
}

/// The panel behind the conversation list.
pub fn sidebar(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style::default().background(p.background.weak.color)
}

/// A row in a list; the selected one is highlighted.
pub fn list_item(selected: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |theme, status| {
        let p = theme.extended_palette();
        let bg = if selected {
            p.primary.weak.color
        } else if matches!(status, button::Status::Hovered) {
            p.background.strong.color
        } else {
            Color::TRANSPARENT
        };
        button::Style {
            background: Some(bg.into()),
            text_color: if selected {
                p.primary.weak.text
            } else {
                p.background.base.text
            },
            border: Border::default(),
            ..button::Style::default()
        }
    }
}

/// The unread badge.
pub fn badge(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style::default()
        .background(p.danger.base.color)
        .color(p.danger.base.text)
        .border(border::rounded(9))
}

/// A card (login form, dialogs).
pub fn card(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style::default()
        .background(p.background.base.color)
        .border(
            border::rounded(12)
                .color(p.background.strong.color)
                .width(1),
        )
}

/// The call strip above the window: dark in either theme, like a video frame.
pub fn call_strip(_theme: &Theme) -> container::Style {
    container::Style::default()
        .background(Color::from_rgb8(0x1d, 0x26, 0x30))
        .color(Color::from_rgb8(0xf2, 0xf4, 0xf6))
}

/// The dark tile behind video that has not arrived yet.
pub fn video_tile(_theme: &Theme) -> container::Style {
    container::Style::default()
        .background(Color::from_rgb8(0x0e, 0x13, 0x18))
        .color(Color::from_rgb8(0xb8, 0xc2, 0xcc))
        .border(border::rounded(6))
}

/// A bubble that was jumped to: own colour, with a strong outline.
pub fn bubble_highlight(mine: bool) -> impl Fn(&Theme) -> container::Style {
    move |theme| {
        let p = theme.extended_palette();
        bubble(mine)(theme).border(border::rounded(10).color(p.primary.strong.color).width(2))
    }
}

/// A quoted message inside a bubble, and the reply/edit banner.
pub fn quote(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style::default()
        .background(p.background.weak.color)
        .color(p.background.weak.text)
        .border(border::rounded(6).color(p.primary.base.color).width(1))
}

/// The message menu and the hover bar: a raised card.
pub fn menu(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style::default()
        .background(p.background.base.color)
        .color(p.background.base.text)
        .border(border::rounded(8).color(p.background.strong.color).width(1))
        .shadow(iced::Shadow {
            color: Color::from_rgba8(0, 0, 0, 0.25),
            offset: iced::Vector::new(0.0, 2.0),
            blur_radius: 6.0,
        })
}

/// A reaction chip; the reader's own reactions highlighted.
pub fn chip(mine: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |theme, status| {
        let p = theme.extended_palette();
        let (bg, fg, edge) = if mine {
            (
                p.primary.weak.color,
                p.primary.weak.text,
                p.primary.strong.color,
            )
        } else {
            (
                p.background.weak.color,
                p.background.weak.text,
                p.background.strong.color,
            )
        };
        let bg = if matches!(status, button::Status::Hovered) {
            p.background.strong.color
        } else {
            bg
        };
        button::Style {
            background: Some(bg.into()),
            text_color: fg,
            border: border::rounded(10).color(edge).width(1),
            ..button::Style::default()
        }
    }
}

/// The "new messages" divider.
pub fn divider(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style::default().color(p.danger.base.color)
}
