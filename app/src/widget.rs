//! Small widgets shared by the screens.

mod one_line;

pub use one_line::one_line;

use iced::advanced::layout::{Limits, Node};
use iced::advanced::widget::{Operation, Tree, Widget};
use iced::advanced::{Clipboard, Layout, Shell, overlay, renderer};
use iced::widget::{container, image, text};
use iced::{
    Color, Element, Event, Length, Rectangle, Renderer, Size, Theme, Vector, border, mouse,
};

/// Whose avatar: a person or a group, by id. People are round, groups are
/// rounded squares, so a group never looks like a friend with the same initial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// A person, by user id.
    Person(u64),
    /// A group, by conversation id.
    Group(u64),
}

/// Tile colours for generated avatars. Each carries white text at 4.5:1 or
/// better (checked by a test), so the initial reads in both themes.
const TILES: [Color; 8] = [
    Color::from_rgb8(0xc0, 0x39, 0x2b), // red
    Color::from_rgb8(0xb3, 0x4e, 0x00), // orange
    Color::from_rgb8(0x7a, 0x6a, 0x00), // olive
    Color::from_rgb8(0x1e, 0x7d, 0x32), // green
    Color::from_rgb8(0x00, 0x79, 0x6b), // teal
    Color::from_rgb8(0x15, 0x65, 0xc0), // blue
    Color::from_rgb8(0x5e, 0x35, 0xb1), // violet
    Color::from_rgb8(0xad, 0x14, 0x57), // pink
];

impl Face {
    /// The tile colour, from the id (not the name), spread by a hash so that
    /// neighbouring ids differ; groups and people with one id differ too.
    pub fn colour(self) -> Color {
        let (id, salt) = match self {
            Face::Person(id) => (id, 0x9e37_79b9_7f4a_7c15_u64),
            Face::Group(id) => (id, 0xc2b2_ae3d_27d4_eb4f_u64),
        };
        // splitmix64's finaliser: a cheap, well-spread mix.
        let mut x = id ^ salt;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        // `x % 8` is below 8, so the index is in range.
        TILES[(x % TILES.len() as u64) as usize]
    }

    /// The corner radius at this side length: a circle for people.
    pub fn radius(self, side: f32) -> f32 {
        match self {
            Face::Person(_) => side / 2.0,
            Face::Group(_) => side / 4.0,
        }
    }
}

/// An avatar: the picture cropped to fill the shape when there is one, else
/// the name's first letter on a tile coloured from the id.
pub fn avatar<'a, M: 'a>(
    face: Face,
    name: &str,
    picture: Option<&image::Handle>,
    size: u16,
) -> Element<'a, M> {
    let side = f32::from(size);
    match picture {
        Some(handle) => image(handle.clone())
            .width(side)
            .height(side)
            .content_fit(iced::ContentFit::Cover)
            .border_radius(face.radius(side))
            .into(),
        None => {
            let tile = face.colour();
            let radius = face.radius(side);
            container(text(initial(name)).size(side * 0.45).center())
                .width(side)
                .height(side)
                .center_x(side)
                .center_y(side)
                .style(move |_| {
                    container::Style::default()
                        .background(tile)
                        .color(Color::WHITE)
                        .border(border::rounded(radius))
                })
                .into()
        }
    }
}

/// The first letter of a name, upper-cased; `?` for an empty name.
pub fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_else(|| "?".into())
}

/// WCAG 2 contrast ratio between two colours (1 to 21).
pub fn contrast(a: Color, b: Color) -> f32 {
    fn channel(c: f32) -> f32 {
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    fn luminance(c: Color) -> f32 {
        0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)
    }
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// `content` that reports `label` to widget operations as its text, as a
/// text widget does: rich text (which reports nothing) and icon buttons are
/// then found by what they say or do.
pub fn labelled<'a, Message: 'a>(
    content: impl Into<Element<'a, Message>>,
    label: String,
) -> Element<'a, Message> {
    Element::new(Labelled {
        content: content.into(),
        label,
    })
}

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

    fn overlay<'b>(
        &'b mut self,
        tree: &'b mut Tree,
        layout: Layout<'b>,
        renderer: &Renderer,
        viewport: &Rectangle,
        translation: Vector,
    ) -> Option<overlay::Element<'b, Message, Theme, Renderer>> {
        self.content.as_widget_mut().overlay(
            &mut tree.children[0],
            layout,
            renderer,
            viewport,
            translation,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tile_carries_white_text_at_aa_contrast() {
        for tile in TILES {
            let ratio = contrast(tile, Color::WHITE);
            assert!(ratio >= 4.5, "{tile:?} gives {ratio:.2}:1");
        }
    }

    #[test]
    fn avatar_colours_come_from_the_id_and_groups_look_different() {
        // Many ids use every colour, so two people with one initial rarely match.
        let used: std::collections::BTreeSet<_> = (1..64)
            .map(|id| TILES.iter().position(|t| *t == Face::Person(id).colour()))
            .collect();
        assert_eq!(used.len(), TILES.len());
        // One id is stable.
        assert_eq!(Face::Person(5).colour(), Face::Person(5).colour());
        // A group is a rounded square, a person a circle.
        assert_eq!(Face::Person(1).radius(40.0), 20.0);
        assert!(Face::Group(1).radius(40.0) < 20.0);
        let differ = (1..64)
            .filter(|id| Face::Person(*id).colour() != Face::Group(*id).colour())
            .count();
        assert!(differ > 40, "only {differ} of 63 ids differ");
    }

    #[test]
    fn contrast_matches_the_wcag_examples() {
        assert!((contrast(Color::BLACK, Color::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(Color::WHITE, Color::WHITE) - 1.0).abs() < 0.01);
    }
}
