//! Decoding pictures that come from someone else: pictures in chats and
//! avatars, downloaded from the relay. Such bytes may be anything, so decoding
//! is bounded: a file that claims more than [`MAX_SIDE`] pixels a side, or
//! whose decoding needs more than [`MAX_ALLOC`] bytes, is refused before
//! anything that large is allocated. PNG and JPEG are read; anything else is
//! refused.

use image::{DynamicImage, ImageReader, Limits, RgbaImage};

/// The widest and tallest picture decoded, in pixels.
pub const MAX_SIDE: u32 = 16_384;

/// The most memory one decoding may allocate, in bytes.
pub const MAX_ALLOC: u64 = 256 << 20;

/// Why a picture was not decoded.
pub type Error = image::ImageError;

fn reader(bytes: &[u8]) -> Result<ImageReader<std::io::Cursor<&[u8]>>, Error> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
    reader.limits(limits);
    Ok(reader)
}

/// Decodes the whole picture, within the bounds.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, Error> {
    reader(bytes)?.decode()
}

/// Decodes the picture and scales it down (keeping its shape) to at most
/// `side` pixels a side; a smaller picture keeps its size.
pub fn thumbnail(bytes: &[u8], side: u32) -> Result<RgbaImage, Error> {
    let picture = decode(bytes)?;
    if picture.width() <= side && picture.height() <= side {
        return Ok(picture.to_rgba8());
    }
    Ok(picture.thumbnail(side, side).to_rgba8())
}

/// The picture's width and height read from its header, without decoding
/// it; `None` if it is not a picture this crate reads or exceeds the bounds.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let (w, h) = reader(bytes).ok()?.into_dimensions().ok()?;
    (w <= MAX_SIDE && h <= MAX_SIDE).then_some((w, h))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(w, h, image::Rgb([10, 200, 30]))
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn a_picture_is_scaled_down_keeping_its_shape() {
        let small = thumbnail(&png(800, 600), 640).unwrap();
        assert_eq!((small.width(), small.height()), (640, 480));
        assert_eq!(small.get_pixel(10, 10).0, [10, 200, 30, 255]);
        assert_eq!(dimensions(&png(800, 600)), Some((800, 600)));
        // A small one keeps its size.
        let same = thumbnail(&png(30, 20), 640).unwrap();
        assert_eq!((same.width(), same.height()), (30, 20));
    }

    #[test]
    fn a_header_claiming_a_huge_picture_is_refused_without_allocating_it() {
        // A valid PNG header claiming 100,000 × 100,000 pixels (40 GB as RGBA).
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(decode(&bomb).is_err());
        assert_eq!(dimensions(&bomb), None);
        assert!(thumbnail(b"not a picture", 640).is_err());
        assert!(thumbnail(&[], 640).is_err());
    }
}
