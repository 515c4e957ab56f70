//! The small copy of a picture that travels in its message
//! (`MessageBody::Image::preview`): made by the sender before uploading, shown
//! by the receiver, scaled up, until the picture itself has arrived.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iced::widget::image;
use natter_proto::model::{PREVIEW_MAX_CHARS, PREVIEW_SIDE};

/// A JPEG of `bytes` (a picture) at most [`PREVIEW_SIDE`] pixels a side, as
/// base64; `None` if it is not a picture or the copy comes out too large.
/// Blocking: decodes the whole picture.
pub fn make(bytes: &[u8]) -> Option<String> {
    let small = natter_picture::thumbnail(bytes, PREVIEW_SIDE).ok()?;
    let rgb = ::image::DynamicImage::ImageRgba8(small).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    ::image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(&rgb)
        .ok()?;
    let text = STANDARD.encode(out.into_inner());
    (text.len() <= PREVIEW_MAX_CHARS).then_some(text)
}

/// Decodes a preview from someone else, within `natter_picture`'s bounds and
/// never larger than [`PREVIEW_SIDE`]; `None` if it does not decode.
pub fn decode(preview: &str) -> Option<image::Handle> {
    if preview.len() > PREVIEW_MAX_CHARS {
        return None;
    }
    let bytes = STANDARD.decode(preview).ok()?;
    let rgba = natter_picture::thumbnail(&bytes, PREVIEW_SIDE).ok()?;
    let (w, h) = rgba.dimensions();
    Some(image::Handle::from_rgba(w, h, rgba.into_raw()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = ::image::RgbImage::from_fn(width, height, |x, y| {
            ::image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        picture
            .write_to(&mut out, ::image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn a_preview_is_small_keeps_the_shape_and_decodes() {
        let preview = make(&png(800, 500)).unwrap();
        assert!(preview.len() <= PREVIEW_MAX_CHARS, "{}", preview.len());
        let handle = decode(&preview).unwrap();
        let image::Handle::Rgba { width, height, .. } = handle else {
            panic!("not pixels");
        };
        assert_eq!((width, height), (48, 30));
        // A small picture stays its size.
        let image::Handle::Rgba { width, height, .. } =
            decode(&make(&png(20, 10)).unwrap()).unwrap()
        else {
            panic!("not pixels");
        };
        assert_eq!((width, height), (20, 10));
    }

    #[test]
    fn what_is_not_a_picture_gives_no_preview() {
        assert!(make(b"not a picture").is_none());
        assert!(decode("%%% not base64").is_none());
        assert!(decode(&STANDARD.encode(b"not a picture")).is_none());
        assert!(decode(&"A".repeat(PREVIEW_MAX_CHARS + 4)).is_none());
    }
}
