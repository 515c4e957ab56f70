//! Colours and shapes shared by the screens, and the two themes: iced's
//! light and dark palettes with the colours that did not read well on their
//! backgrounds replaced (a test holds every text/background pair to WCAG AA).

use std::sync::LazyLock;

use iced::theme::Palette;
use iced::theme::palette::{Extended, Pair};
use iced::widget::{button, container, text};
use iced::{Border, Color, Theme, border};

use crate::app::ThemeChoice;

/// The primary colour, a shade darker than iced's so white reads on it.
const PRIMARY: Color = Color::from_rgb8(0x47, 0x52, 0xc4);

/// Light: iced's light palette with a darker primary and a grey for
/// secondary text that reads on white and on the sidebar.
static LIGHT: LazyLock<Theme> = LazyLock::new(|| {
    Theme::custom_with_fn(
        "Natter light",
        Palette {
            primary: PRIMARY,
            success: Color::from_rgb8(0x12, 0x66, 0x4f),
            danger: Color::from_rgb8(0xb4, 0x30, 0x2d),
            ..Palette::LIGHT
        },
        |p| with_secondary(p, Color::from_rgb8(0x55, 0x58, 0x5e)),
    )
});

/// Dark: iced's dark palette with a green, a red and a secondary grey light
/// enough to read on its greys (iced's own green gives 2.0:1 there).
static DARK: LazyLock<Theme> = LazyLock::new(|| {
    Theme::custom_with_fn(
        "Natter dark",
        Palette {
            primary: PRIMARY,
            success: Color::from_rgb8(0x4c, 0xd1, 0x8c),
            danger: Color::from_rgb8(0xff, 0xa3, 0x9e),
            ..Palette::DARK
        },
        |p| with_secondary(p, Color::from_rgb8(0xb9, 0xbc, 0xc2)),
    )
});

/// iced's extended palette with `grey` as the secondary colour: the colour
/// of secondary text, and of secondary buttons (with text readable on it).
fn with_secondary(palette: Palette, grey: Color) -> Extended {
    let mut extended = Extended::generate(palette);
    extended.secondary.base = Pair::new(grey, palette.text);
    extended
}

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

/// A participant's tile in a group call; the one speaking is outlined.
pub fn call_tile(theme: &Theme, speaking: bool) -> container::Style {
    let p = theme.extended_palette();
    let edge = if speaking {
        border::rounded(8).color(p.success.base.color).width(2)
    } else {
        border::rounded(8).color(p.background.strong.color).width(1)
    };
    container::Style::default()
        .background(p.background.base.color)
        .border(edge)
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

/// A bubble under the pointer: its own colours, raised by an outline and a
/// shadow (the text keeps the contrast of the plain bubble).
pub fn bubble_hovered(mine: bool) -> impl Fn(&Theme) -> container::Style {
    move |theme| {
        let p = theme.extended_palette();
        bubble(mine)(theme)
            .border(
                border::rounded(10)
                    .color(p.background.strongest.color)
                    .width(1),
            )
            .shadow(iced::Shadow {
                color: Color::from_rgba8(0, 0, 0, 0.18),
                offset: iced::Vector::new(0.0, 1.0),
                blur_radius: 4.0,
            })
    }
}

/// The picture viewer's backdrop.
pub fn viewer(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style::default()
        .background(p.background.weak.color)
        .color(p.background.weak.text)
}

/// The day over a run of messages: a quiet pill across the history.
pub fn day_pill(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style::default()
        .background(p.background.weak.color)
        .color(p.background.weak.text)
        .border(border::rounded(10))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::widget::contrast;

    /// Every text colour the screens draw, on every background it is drawn
    /// on, with the ratio WCAG AA asks of it (4.5:1 for normal text, 3:1 for
    /// large).
    fn pairs(theme: &Theme) -> Vec<(&'static str, Color, Color, f32)> {
        let p = theme.extended_palette();
        let base = p.background.base.color;
        let weak = p.background.weak.color;
        let strip = call_strip(theme);
        let tile = video_tile(theme);
        vec![
            ("text", p.background.base.text, base, 4.5),
            ("sidebar text", p.background.base.text, weak, 4.5),
            ("weak text", p.background.weak.text, weak, 4.5),
            (
                "others' bubble",
                p.background.strong.text,
                p.background.strong.color,
                4.5,
            ),
            ("own bubble", p.primary.weak.text, p.primary.weak.color, 4.5),
            (
                "primary button",
                p.primary.base.text,
                p.primary.base.color,
                4.5,
            ),
            (
                "secondary button",
                p.secondary.base.text,
                p.secondary.base.color,
                4.5,
            ),
            ("badge", p.danger.base.text, p.danger.base.color, 4.5),
            ("online in the header", theme.palette().success, base, 4.5),
            ("online in the sidebar", theme.palette().success, weak, 4.5),
            ("error", theme.palette().danger, base, 4.5),
            ("error in the sidebar", theme.palette().danger, weak, 4.5),
            ("secondary text", p.secondary.base.color, base, 4.5),
            (
                "secondary text in the sidebar",
                p.secondary.base.color,
                weak,
                4.5,
            ),
            (
                "call strip",
                strip.text_color.unwrap_or(Color::WHITE),
                bg(&strip),
                4.5,
            ),
            (
                "video tile",
                tile.text_color.unwrap_or(Color::WHITE),
                bg(&tile),
                4.5,
            ),
        ]
    }

    fn bg(style: &container::Style) -> Color {
        match style.background {
            Some(iced::Background::Color(c)) => c,
            _ => Color::BLACK,
        }
    }

    #[test]
    fn every_text_and_background_pair_meets_wcag_aa_in_both_themes() {
        let mut failures = Vec::new();
        for choice in [ThemeChoice::Light, ThemeChoice::Dark] {
            let theme = theme(choice);
            for (what, fg, bg, needed) in pairs(&theme) {
                let ratio = contrast(fg, bg);
                if ratio < needed {
                    failures.push(format!("{choice:?} {what}: {ratio:.2}:1 < {needed}:1"));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
