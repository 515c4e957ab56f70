//! Emoji in colour. The default sans-serif font (DejaVu Sans on most Linux
//! machines) has black-and-white outlines of the common smileys, so left to
//! itself the text engine mixes monochrome and colour emoji. Text with emoji is
//! therefore split into runs and the emoji runs name the colour emoji font
//! (Noto Color Emoji, which the set-up installs); where it is missing the text
//! engine falls back as usual.

pub mod picker;

use iced::widget::text::Span;
use iced::widget::{rich_text, span};
use iced::{Element, Font};

/// The colour emoji font, by family name.
pub const FONT: Font = Font::with_name("Noto Color Emoji");

/// Whether `c` is drawn from the emoji font.
fn is_emoji(c: char) -> bool {
    matches!(
        c as u32,
        0x1F000..=0x1FAFF // pictographs, emoticons, transport, flags, symbols
            | 0x2600..=0x27BF // miscellaneous symbols, dingbats
            | 0x2B00..=0x2BFF // stars, arrows
            | 0x231A..=0x231B
            | 0x23E9..=0x23FA
    )
}

/// Whether `c` belongs to whatever run it follows (joiners, variation
/// selectors, tag characters).
fn is_neutral(c: char) -> bool {
    matches!(
        c as u32,
        0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F
    )
}

/// Splits `text` into runs of emoji and of everything else, in order.
pub fn runs(text: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (i, c) in text.char_indices() {
        if is_neutral(c) {
            continue;
        }
        let emoji = is_emoji(c);
        match current {
            Some(kind) if kind != emoji => {
                out.push((&text[start..i], kind));
                start = i;
                current = Some(emoji);
            }
            Some(_) => {}
            None => current = Some(emoji),
        }
    }
    if start < text.len() {
        out.push((&text[start..], current.unwrap_or(false)));
    }
    out
}

/// Whether `text` holds any emoji.
pub fn has_emoji(text: &str) -> bool {
    text.chars().any(is_emoji)
}

/// `text` at `size`, its emoji in colour.
pub fn text<'a, Message: 'a>(text: String, size: f32) -> Element<'a, Message> {
    styled(text, size, iced::widget::text::base)
}

/// [`text`] in the colours of `style` (its emoji in their own).
pub fn styled<'a, Message: 'a>(
    text: String,
    size: f32,
    style: fn(&iced::Theme) -> iced::widget::text::Style,
) -> Element<'a, Message> {
    if !has_emoji(&text) {
        return iced::widget::text(text).size(size).style(style).into();
    }
    let spans: Vec<Span<'a, (), Font>> = runs(&text)
        .into_iter()
        .map(|(run, emoji)| {
            let s = span(run.to_string());
            if emoji { s.font(FONT) } else { s }
        })
        .collect();
    // iced's rich text reports nothing to widget operations; the label makes
    // searches over the widget tree (the UI tests' selectors among them) find
    // the message as they find plain text.
    crate::widget::labelled(rich_text(spans).size(size).style(style), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_emoji_come_apart_in_order() {
        assert_eq!(
            runs("好啊,去爬山吧 ⛰️ ok 👍🏽!"),
            vec![
                ("好啊,去爬山吧 ", false),
                ("⛰️", true),
                (" ok ", false),
                ("👍🏽", true),
                ("!", false)
            ]
        );
        assert_eq!(runs("plain"), vec![("plain", false)]);
        assert_eq!(runs(""), Vec::<(&str, bool)>::new());
    }

    #[test]
    fn text_with_emoji_is_found_whole_like_plain_text() {
        let view = iced::widget::column![
            text::<()>("周末去爬山 ⛰️ 👍".to_string(), 14.0),
            text::<()>("plain words".to_string(), 14.0),
        ];
        let mut ui = iced_test::simulator(view);
        assert!(ui.find("周末去爬山 ⛰️ 👍").is_ok());
        assert!(ui.find("plain words").is_ok());
        assert!(ui.find("周末去爬山").is_err());
    }

    #[test]
    fn joined_sequences_stay_one_run() {
        // Family (ZWJ sequence) and a flag (regional indicators).
        assert_eq!(runs("👨‍👩‍👧🇨🇳"), vec![("👨‍👩‍👧🇨🇳", true)]);
        assert!(has_emoji("a 😀"));
        assert!(!has_emoji("中文 text, 1+1=2"));
    }
}
