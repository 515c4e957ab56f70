//! Small widgets shared by the screens.

use iced::Element;
use iced::widget::{container, image, text};

use crate::style;

/// A square avatar: the picture when there is one, else the name's first
/// letter on a coloured tile.
pub fn avatar<'a, M: 'a>(name: &str, picture: Option<&image::Handle>, size: u16) -> Element<'a, M> {
    let side = f32::from(size);
    match picture {
        Some(handle) => image(handle.clone())
            .width(side)
            .height(side)
            .content_fit(iced::ContentFit::Cover)
            .border_radius(side / 4.0)
            .into(),
        None => container(text(initial(name)).size(side * 0.45).center())
            .width(side)
            .height(side)
            .center_x(side)
            .center_y(side)
            .style(style::badge)
            .into(),
    }
}

/// The first letter of a name, upper-cased; `?` for an empty name.
pub fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_else(|| "?".into())
}
