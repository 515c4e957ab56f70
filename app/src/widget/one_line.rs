//! Text kept on one line: where it is wider than the room it gets, it is cut
//! at a character and ends in "…" (iced's text wraps or clips, and has no
//! ellipsis of its own). Emoji keep their colour font, as in
//! [`crate::emoji::text`].
//!
//! The cut is found while laying out, when the room is known, by measuring
//! the text with the renderer's own paragraphs; widget operations still see
//! the whole text.

use iced::advanced::layout::{Limits, Node};
use iced::advanced::text::{self as core_text, Paragraph as _};
use iced::advanced::widget::{Operation, Tree, Widget};
use iced::advanced::{Layout, renderer};
use iced::widget::text::{Span, Style};
use iced::widget::{rich_text, span};
use iced::{Element, Font, Length, Pixels, Rectangle, Renderer, Size, Theme, mouse};

/// What ends a cut text.
const ELLIPSIS: &str = "…";

/// `words` at `size` on one line, ending in "…" where cut; `style` colours it.
pub fn one_line<'a, M: 'a>(
    words: String,
    size: f32,
    style: Option<fn(&Theme) -> Style>,
) -> Element<'a, M> {
    Element::new(OneLine {
        child: build(&words, size, style),
        shown: words.clone(),
        full: words,
        size,
        style,
    })
}

struct OneLine<'a, M> {
    full: String,
    shown: String,
    size: f32,
    style: Option<fn(&Theme) -> Style>,
    child: Element<'a, M>,
}

/// The spans of `words`, emoji in the colour font.
fn spans(words: &str) -> Vec<Span<'static, (), Font>> {
    crate::emoji::runs(words)
        .into_iter()
        .map(|(run, emoji)| {
            let s = span(run.to_string());
            if emoji { s.font(crate::emoji::FONT) } else { s }
        })
        .collect()
}

fn build<'a, M: 'a>(words: &str, size: f32, style: Option<fn(&Theme) -> Style>) -> Element<'a, M> {
    let mut t = rich_text(spans(words))
        .size(size)
        .wrapping(core_text::Wrapping::None)
        .width(Length::Fill);
    if let Some(style) = style {
        t = t.style(style);
    }
    t.into()
}

/// How wide `words` is at `size` in `font`, on one line.
pub fn width_of(words: &str, size: f32, font: Font) -> f32 {
    let spans = spans(words);
    let p = <Renderer as core_text::Renderer>::Paragraph::with_spans(core_text::Text {
        content: spans.as_slice(),
        bounds: Size::INFINITE,
        size: Pixels(size),
        line_height: core_text::LineHeight::default(),
        font,
        align_x: core_text::Alignment::Default,
        align_y: iced::alignment::Vertical::Top,
        shaping: core_text::Shaping::Advanced,
        wrapping: core_text::Wrapping::None,
    });
    p.min_width()
}

/// The longest start of `words` that fits `room` pixels with "…" after it,
/// or `words` itself where it fits whole.
pub fn fit(words: &str, size: f32, font: Font, room: f32) -> String {
    // A little slack for rounding between measuring and drawing.
    let room = room - 0.5;
    if width_of(words, size, font) <= room {
        return words.to_string();
    }
    let cuts: Vec<usize> = words.char_indices().map(|(i, _)| i).collect();
    // The most characters that fit, found by halving: fits(0) always holds.
    let fits = |n: usize| {
        let mut s = words[..cuts.get(n).copied().unwrap_or(words.len())]
            .trim_end()
            .to_string();
        s.push_str(ELLIPSIS);
        (width_of(&s, size, font) <= room).then_some(s)
    };
    let (mut lo, mut hi) = (0, cuts.len());
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if fits(mid).is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    fits(lo).unwrap_or_else(|| ELLIPSIS.to_string())
}

impl<'a, M: 'a> Widget<M, Theme, Renderer> for OneLine<'a, M> {
    fn size(&self) -> Size<Length> {
        Size::new(Length::Fill, Length::Shrink)
    }

    fn layout(&mut self, tree: &mut Tree, renderer: &Renderer, limits: &Limits) -> Node {
        use iced::advanced::text::Renderer as _;
        let room = limits.max().width;
        let shown = if room.is_finite() {
            fit(&self.full, self.size, renderer.default_font(), room)
        } else {
            self.full.clone()
        };
        if shown != self.shown {
            self.child = build(&shown, self.size, self.style);
            self.shown = shown;
            tree.diff_children(std::slice::from_ref(&self.child));
        }
        self.child
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
        self.child.as_widget().draw(
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
        vec![Tree::new(&self.child)]
    }

    fn diff(&self, tree: &mut Tree) {
        tree.diff_children(std::slice::from_ref(&self.child));
    }

    fn operate(
        &mut self,
        _tree: &mut Tree,
        layout: Layout<'_>,
        _renderer: &Renderer,
        operation: &mut dyn Operation,
    ) {
        // The whole text, as a text widget reports it.
        operation.text(None, layout.bounds(), &self.full);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_fits_stays_whole_and_what_does_not_is_cut_with_an_ellipsis() {
        let font = Font::DEFAULT;
        let words = "[有人@我] Alice: 明天下午三点在会议室开会, 记得带上电脑和上周的报告 👍";
        let whole = width_of(words, 12.0, font);
        assert!(whole > 100.0);
        assert_eq!(fit(words, 12.0, font, whole + 2.0), words);
        for room in [60.0, 120.0, whole / 2.0, whole - 4.0] {
            let cut = fit(words, 12.0, font, room);
            assert!(cut.ends_with('…'), "{cut:?}");
            assert!(
                width_of(&cut, 12.0, font) <= room,
                "{cut:?} is wider than {room}"
            );
            let kept = cut.trim_end_matches('…');
            assert!(
                words.starts_with(kept.trim_end()),
                "{cut:?} is a start of the words"
            );
        }
        assert_eq!(fit(words, 12.0, font, 1.0), "…");
        assert_eq!(fit("", 12.0, font, 10.0), "");
    }
}
