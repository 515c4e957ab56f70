//! Emoji in colour. The default sans-serif font (DejaVu Sans on most Linux
//! machines) has black-and-white outlines of the common smileys, so left to
//! itself the text engine mixes monochrome and colour emoji. Text with emoji is
//! therefore split into runs and the emoji runs name the colour emoji font
//! (Noto Color Emoji, which the set-up installs); where it is missing the text
//! engine falls back as usual.

use iced::advanced::layout::{Limits, Node};
use iced::advanced::widget::{Operation, Tree, Widget};
use iced::advanced::{Clipboard, Layout, Shell, renderer};
use iced::widget::text::Span;
use iced::widget::{rich_text, span};
use iced::{Element, Event, Font, Length, Rectangle, Renderer, Size, Theme, mouse};

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
    if !has_emoji(&text) {
        return iced::widget::text(text).size(size).into();
    }
    let spans: Vec<Span<'a, (), Font>> = runs(&text)
        .into_iter()
        .map(|(run, emoji)| {
            let s = span(run.to_string());
            if emoji { s.font(FONT) } else { s }
        })
        .collect();
    Labelled {
        content: rich_text(spans).size(size).into(),
        label: text,
    }
    .into()
}

/// Rich text that also reports its whole text to widget operations, as a plain
/// text widget does (iced's rich text reports nothing), so searches over the
/// widget tree — the UI tests' selectors among them — still find the message.
struct Labelled<'a, Message> {
    content: Element<'a, Message>,
    label: String,
}

impl<Message> Widget<Message, Theme, Renderer> for Labelled<'_, Message> {
    fn size(&self) -> Size<Length> {
        self.content.as_widget().size()
    }

    fn size_hint(&self) -> Size<Length> {
        self.content.as_widget().size_hint()
    }

    fn layout(&mut self, tree: &mut Tree, renderer: &Renderer, limits: &Limits) -> Node {
        self.content
            .as_widget_mut()
            .layout(&mut tree.children[0], renderer, limits)
    }

    fn draw(
        &self,
        tree: &Tree,
        renderer: &mut Renderer,
        theme: &Theme,
        style: &renderer::Style,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
    ) {
        self.content.as_widget().draw(
            &tree.children[0],
            renderer,
            theme,
            style,
            layout,
            cursor,
            viewport,
        );
    }

    fn children(&self) -> Vec<Tree> {
        vec![Tree::new(&self.content)]
    }

    fn diff(&self, tree: &mut Tree) {
        tree.diff_children(std::slice::from_ref(&self.content));
    }

    fn operate(
        &mut self,
        _tree: &mut Tree,
        layout: Layout<'_>,
        _renderer: &Renderer,
        operation: &mut dyn Operation,
    ) {
        operation.text(None, layout.bounds(), &self.label);
    }

    fn update(
        &mut self,
        tree: &mut Tree,
        event: &Event,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        renderer: &Renderer,
        clipboard: &mut dyn Clipboard,
        shell: &mut Shell<'_, Message>,
        viewport: &Rectangle,
    ) {
        self.content.as_widget_mut().update(
            &mut tree.children[0],
            event,
            layout,
            cursor,
            renderer,
            clipboard,
            shell,
            viewport,
        );
    }

    fn mouse_interaction(
        &self,
        tree: &Tree,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
        renderer: &Renderer,
    ) -> mouse::Interaction {
        self.content.as_widget().mouse_interaction(
            &tree.children[0],
            layout,
            cursor,
            viewport,
            renderer,
        )
    }
}

impl<'a, Message: 'a> From<Labelled<'a, Message>> for Element<'a, Message> {
    fn from(widget: Labelled<'a, Message>) -> Self {
        Element::new(widget)
    }
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
