//! The picture viewer: a picture from the chat at full size in the chat's
//! place, fitted to it or zoomed (buttons, or + − 0 on the keyboard), saved,
//! and closed with Esc.

use iced::widget::{button, column, container, image, row, scrollable, text};
use iced::{Center, Element, Fill};
use natter_i18n::I18n;
use natter_proto::model::FileRef;

use crate::style;

/// Pictures are decoded up to this many pixels a side for the viewer.
pub const FULL_SIDE: u32 = 4096;
/// Each zoom step multiplies or divides by this.
const STEP: f32 = 1.25;
/// The zoom stays within these.
const ZOOM: (f32, f32) = (0.1, 8.0);

/// Viewer messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Fit the picture to the pane.
    Fit,
    /// Zoom in one step.
    ZoomIn,
    /// Zoom out one step.
    ZoomOut,
    /// Show the picture at its own size.
    Actual,
    /// Save the picture.
    Save,
    /// Close the viewer.
    Close,
}

/// What the viewer asks of the main window.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Save this file.
    Save(FileRef),
    /// Close.
    Close,
}

/// The open viewer.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The picture's file.
    pub file: FileRef,
    width: u32,
    height: u32,
    /// `None` while fitted to the pane.
    zoom: Option<f32>,
    full: Option<image::Handle>,
}

impl Viewer {
    /// A viewer of `file`, a `width` × `height` picture, fitted.
    pub fn new(file: FileRef, width: u32, height: u32) -> Viewer {
        Viewer {
            file,
            width: width.max(1),
            height: height.max(1),
            zoom: None,
            full: None,
        }
    }

    /// The zoom, `None` while fitted.
    pub fn zoom(&self) -> Option<f32> {
        self.zoom
    }

    /// The full-size picture arrived.
    pub fn loaded(&mut self, handle: image::Handle) {
        self.full = Some(handle);
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) -> Option<Event> {
        let clamp = |z: f32| z.clamp(ZOOM.0, ZOOM.1);
        match message {
            Message::Fit => self.zoom = None,
            Message::Actual => self.zoom = Some(1.0),
            Message::ZoomIn => self.zoom = Some(clamp(self.zoom.unwrap_or(1.0) * STEP)),
            Message::ZoomOut => self.zoom = Some(clamp(self.zoom.unwrap_or(1.0) / STEP)),
            Message::Save => return Some(Event::Save(self.file.clone())),
            Message::Close => return Some(Event::Close),
        }
        None
    }

    /// Draws the viewer: a bar of actions over the picture. `thumbnail` is
    /// shown until the full picture is in.
    pub fn view<'a>(
        &'a self,
        i18n: &I18n,
        thumbnail: Option<&'a image::Handle>,
    ) -> Element<'a, Message> {
        let action = |key: &str, m: Message| {
            button(text(i18n.tr(key)).size(13))
                .style(button::secondary)
                .padding([4, 10])
                .on_press(m)
        };
        let zoom = match self.zoom {
            None => i18n.tr("viewer-fitted"),
            Some(z) => format!("{:.0}%", z * 100.0),
        };
        // The name and zoom on one line, the actions under them, wrapping
        // onto more lines in a narrow window.
        let bar = column![
            row![
                text(self.file.name.clone())
                    .size(14)
                    .width(Fill)
                    .wrapping(text::Wrapping::None),
                text(zoom).size(12),
            ]
            .spacing(6)
            .align_y(Center),
            row![
                action("viewer-fit", Message::Fit),
                action("viewer-zoom-out", Message::ZoomOut),
                action("viewer-zoom-in", Message::ZoomIn),
                action("viewer-actual", Message::Actual),
                action("viewer-save", Message::Save),
                action("viewer-close", Message::Close),
            ]
            .spacing(6)
            .wrap(),
        ]
        .spacing(6)
        .padding([6, 10]);
        let picture: Element<'a, Message> = match self.full.as_ref().or(thumbnail) {
            None => container(text(i18n.tr("viewer-loading")).size(13))
                .center(Fill)
                .into(),
            Some(handle) => match self.zoom {
                None => container(
                    image(handle.clone())
                        .content_fit(iced::ContentFit::Contain)
                        .width(Fill)
                        .height(Fill),
                )
                .padding(12)
                .center(Fill)
                .into(),
                Some(z) => scrollable(
                    container(
                        image(handle.clone())
                            .content_fit(iced::ContentFit::Fill)
                            .width(self.width as f32 * z)
                            .height(self.height as f32 * z),
                    )
                    .padding(12),
                )
                .direction(scrollable::Direction::Both {
                    vertical: scrollable::Scrollbar::default(),
                    horizontal: scrollable::Scrollbar::default(),
                })
                .width(Fill)
                .height(Fill)
                .into(),
            },
        };
        container(column![bar, picture])
            .width(Fill)
            .height(Fill)
            .style(style::viewer)
            .into()
    }
}

/// Keys the open viewer answers: Esc closes, + and − zoom, 0 fits.
pub fn key(event: iced::keyboard::Event) -> Option<Message> {
    use iced::keyboard::{Event, Key, key::Named};
    let Event::KeyPressed { key, .. } = event else {
        return None;
    };
    match key.as_ref() {
        Key::Named(Named::Escape) => Some(Message::Close),
        Key::Character("+" | "=") => Some(Message::ZoomIn),
        Key::Character("-") => Some(Message::ZoomOut),
        Key::Character("0") => Some(Message::Fit),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> FileRef {
        FileRef {
            id: "ab".into(),
            name: "view.png".into(),
            size: 10,
            mime: "image/png".into(),
        }
    }

    #[test]
    fn zoom_steps_stay_in_bounds_and_fit_comes_back() {
        let mut v = Viewer::new(file(), 800, 600);
        assert_eq!(v.zoom(), None);
        v.update(Message::ZoomIn);
        assert_eq!(v.zoom(), Some(1.25));
        for _ in 0..40 {
            v.update(Message::ZoomIn);
        }
        assert_eq!(v.zoom(), Some(8.0));
        for _ in 0..40 {
            v.update(Message::ZoomOut);
        }
        assert_eq!(v.zoom(), Some(0.1));
        v.update(Message::Actual);
        assert_eq!(v.zoom(), Some(1.0));
        v.update(Message::Fit);
        assert_eq!(v.zoom(), None);
        assert_eq!(v.update(Message::Save), Some(Event::Save(file())));
        assert_eq!(v.update(Message::Close), Some(Event::Close));
    }

    #[test]
    fn esc_closes_and_plus_minus_zoom() {
        use iced::keyboard::{self, Key, key::Named};
        let press = |key: Key| keyboard::Event::KeyPressed {
            key: key.clone(),
            modified_key: key,
            physical_key: keyboard::key::Physical::Code(keyboard::key::Code::Escape),
            location: keyboard::Location::Standard,
            modifiers: keyboard::Modifiers::empty(),
            text: None,
            repeat: false,
        };
        assert_eq!(key(press(Key::Named(Named::Escape))), Some(Message::Close));
        assert_eq!(
            key(press(Key::Character("+".into()))),
            Some(Message::ZoomIn)
        );
        assert_eq!(
            key(press(Key::Character("-".into()))),
            Some(Message::ZoomOut)
        );
        assert_eq!(key(press(Key::Character("0".into()))), Some(Message::Fit));
        assert_eq!(key(press(Key::Character("a".into()))), None);
    }
}
