//! Files and pictures on their way into a chat without the file dialog:
//! dropped onto the window or pasted from the clipboard. They wait in a strip
//! above the composer, with a preview, until the reader sends or cancels them.

use std::path::PathBuf;

use iced::widget::{button, column, container, image, row, scrollable, text};
use iced::{Center, Element, Fill};
use natter_i18n::{Arg, I18n};

use super::attach;
use crate::style;

/// Side of a preview in the strip, in logical pixels.
pub const PREVIEW_SIDE: u32 = 64;

/// One file or picture waiting to be sent.
#[derive(Debug, Clone)]
pub struct Item {
    /// What it is called (a dropped file's name; pasted pictures get one).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The file (a pasted picture is written to one first, so an upload cut
    /// off can go on after a restart).
    pub path: PathBuf,
    /// A small picture of it, for pictures.
    pub preview: Option<image::Handle>,
}

/// The strip of waiting items.
#[derive(Debug, Default)]
pub struct Incoming {
    items: Vec<Item>,
}

impl Incoming {
    /// The items waiting, in the order they came.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds an item.
    pub fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    /// Sets the preview of the dropped file at `path`.
    pub fn set_preview(&mut self, path: &std::path::Path, preview: image::Handle) {
        for item in &mut self.items {
            if item.path == path {
                item.preview = Some(preview.clone());
            }
        }
    }

    /// Takes every item out (to send them), leaving the strip empty.
    pub fn take(&mut self) -> Vec<Item> {
        std::mem::take(&mut self.items)
    }

    /// Removes one item.
    pub fn remove(&mut self, index: usize) {
        if index < self.items.len() {
            self.items.remove(index);
        }
    }

    /// Draws the strip: each item with its preview (or name) and size, and
    /// Send / Cancel.
    pub fn view<'a>(&'a self, i18n: &I18n) -> Element<'a, attach::Message> {
        let side = PREVIEW_SIDE as f32;
        let items = row(self.items.iter().enumerate().map(|(i, item)| {
            let face: Element<'a, attach::Message> = match &item.preview {
                // Cut square when it was made, so it fills its place.
                Some(handle) => image(handle.clone())
                    .width(side)
                    .height(side)
                    .border_radius(6.0)
                    .into(),
                None => container(crate::emoji::text("📄".to_string(), 24.0))
                    .center(side)
                    .style(style::quote)
                    .into(),
            };
            let remove = button(text("×").size(12))
                .padding([0, 5])
                .style(button::text)
                .on_press(attach::Message::Remove(i));
            column![
                row![face, remove].spacing(2),
                text(item.name.clone())
                    .size(11)
                    .width(side + 20.0)
                    .wrapping(text::Wrapping::None),
                text(attach::size_text(item.size)).size(10),
            ]
            .spacing(2)
            .into()
        }))
        .spacing(10);
        let count = i18n.tr_args("incoming-count", &[("count", Arg::from(self.items.len()))]);
        let actions = row![
            text(count).size(12).width(Fill),
            button(text(i18n.tr("incoming-cancel")).size(13))
                .style(button::secondary)
                .padding([4, 12])
                .on_press(attach::Message::CancelIncoming),
            button(text(i18n.tr("incoming-send")).size(13))
                .padding([4, 12])
                .on_press(attach::Message::SendIncoming),
        ]
        .spacing(8)
        .align_y(Center);
        container(
            column![
                scrollable(items).direction(scrollable::Direction::Horizontal(
                    scrollable::Scrollbar::new().width(4).scroller_width(4),
                )),
                actions
            ]
            .spacing(6),
        )
        .padding([8, 12])
        .width(Fill)
        .style(style::sidebar)
        .into()
    }
}

/// A dropped file as a waiting item (its preview comes later), or why not.
pub fn dropped(path: PathBuf) -> Result<Item, attach::AttachError> {
    let meta = std::fs::metadata(&path).map_err(|e| attach::AttachError::Disk(e.to_string()))?;
    if meta.is_dir() {
        return Err(attach::AttachError::Folder);
    }
    if meta.len() > natter_proto::limits::Limits::default().max_file_bytes {
        return Err(attach::AttachError::TooLarge);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    Ok(Item {
        name,
        size: meta.len(),
        path,
        preview: None,
    })
}

/// A picture the clipboard holds, read off the UI thread and written as a
/// PNG called `name` to a folder of its own in the temporary folder: its path
/// and a preview. `None` when the clipboard holds no picture.
pub async fn read_clipboard_picture(name: String) -> Option<(PathBuf, image::Handle)> {
    tokio::task::spawn_blocking(move || {
        let mut clipboard = arboard::Clipboard::new().ok()?;
        let picture = clipboard.get_image().ok()?;
        let width = u32::try_from(picture.width).ok()?;
        let height = u32::try_from(picture.height).ok()?;
        let rgba = ::image::RgbaImage::from_raw(width, height, picture.bytes.into_owned())?;
        let dir = std::env::temp_dir().join(format!("natter-pasted-{}", natter_proto::now_ms()));
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join(name);
        let preview = write_png(rgba, &path).ok()?;
        Some((path, preview))
    })
    .await
    .ok()
    .flatten()
}

/// Writes a picture to `path` as PNG; its preview.
fn write_png(
    rgba: ::image::RgbaImage,
    path: &std::path::Path,
) -> ::image::ImageResult<image::Handle> {
    let small = square(rgba.clone());
    rgba.save_with_format(path, ::image::ImageFormat::Png)?;
    let (w, h) = small.dimensions();
    Ok(image::Handle::from_rgba(w, h, small.into_raw()))
}

/// A picture cut to the middle square and scaled to the preview's side (at
/// twice its pixels, for sharp high-DPI screens), so it fills its place.
pub fn square(rgba: ::image::RgbaImage) -> ::image::RgbaImage {
    let side = PREVIEW_SIDE * 2;
    ::image::DynamicImage::ImageRgba8(rgba)
        .resize_to_fill(side, side, ::image::imageops::FilterType::Triangle)
        .to_rgba8()
}

/// The name a pasted picture is sent under.
pub fn pasted_name(i18n: &I18n) -> String {
    let stamp = crate::clock::clock(natter_proto::now_ms(), crate::clock::local()).replace(':', "");
    format!("{}-{stamp}.png", i18n.tr("incoming-pasted-name"))
}

/// A pasted picture, written to `path`, as a waiting item.
pub fn pasted(path: PathBuf, preview: image::Handle) -> Option<Item> {
    let mut item = dropped(path).ok()?;
    item.preview = Some(preview);
    Some(item)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_file_waits_and_a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, b"hello").unwrap();
        let item = dropped(path.clone()).unwrap();
        assert_eq!((item.name.as_str(), item.size), ("notes.txt", 5));
        assert!(matches!(
            dropped(dir.path().to_path_buf()),
            Err(attach::AttachError::Folder)
        ));
        assert!(matches!(
            dropped(dir.path().join("gone")),
            Err(attach::AttachError::Disk(_))
        ));
        let mut strip = Incoming::default();
        strip.push(item);
        strip.push(dropped(path).unwrap());
        strip.remove(0);
        assert_eq!(strip.items().len(), 1);
        assert_eq!(strip.take().len(), 1);
        assert!(strip.is_empty());
    }

    #[test]
    fn a_pasted_picture_is_kept_as_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pasted.png");
        let rgba = ::image::RgbaImage::from_pixel(300, 100, ::image::Rgba([1, 2, 3, 255]));
        write_png(rgba, &path).unwrap();
        let back = ::image::open(&path).unwrap();
        assert_eq!((back.width(), back.height()), (300, 100));
        let item = pasted(path, image::Handle::from_rgba(1, 1, vec![0; 4])).unwrap();
        assert!(item.preview.is_some() && item.size > 0);
        // A wide picture's preview is its middle, square.
        let wide = ::image::RgbaImage::from_fn(300, 100, |x, _| {
            ::image::Rgba([if x < 100 { 255 } else { 0 }, 0, 0, 255])
        });
        let small = square(wide);
        assert_eq!(small.dimensions(), (2 * PREVIEW_SIDE, 2 * PREVIEW_SIDE));
        // Scaled as a whole, its left edge would be red; cut, it is black
        // but for what the filter blends in from the cut.
        assert!(
            small.get_pixel(0, 64)[0] < 64,
            "the red left third is cut off"
        );
        assert_eq!(small.get_pixel(64, 64)[0], 0);
    }
}
