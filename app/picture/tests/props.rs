//! Any bytes given as a received picture: refused or decoded within bounds,
//! never a panic. The same guarantee the `picture` fuzz target checks.

use proptest::prelude::*;

fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([seed, (x % 256) as u8, (y % 256) as u8, 255])
    })
    .write_to(&mut out, image::ImageFormat::Png)
    .unwrap_or_default();
    out.into_inner()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
    })
    .write_to(&mut out, image::ImageFormat::Jpeg)
    .unwrap_or_default();
    out.into_inner()
}

proptest! {
    #[test]
    fn any_bytes_are_refused_or_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        if let Ok(p) = natter_picture::thumbnail(&bytes, 64) {
            prop_assert!(p.width() <= 64 && p.height() <= 64);
        }
        let _ = natter_picture::dimensions(&bytes);
    }

    #[test]
    fn damaged_pictures_are_refused_or_bounded(
        w in 1u32..200, h in 1u32..200, seed in any::<u8>(), is_png in any::<bool>(),
        at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = if is_png { png(w, h, seed) } else { jpeg(w, h) };
        prop_assert_eq!(natter_picture::dimensions(&bytes), Some((w, h)));
        let whole = natter_picture::thumbnail(&bytes, 64);
        prop_assert!(whole.is_ok());
        let i = at.index(bytes.len());
        bytes[i] = byte;
        bytes.truncate(cut.index(bytes.len()) + 1);
        if let Ok(p) = natter_picture::thumbnail(&bytes, 64) {
            prop_assert!(p.width() <= 64 && p.height() <= 64);
        }
    }
}
