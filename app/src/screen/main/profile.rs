//! The own profile (nickname, avatar) and avatar pictures everywhere.
//!
//! A picked picture is decoded, shrunk to at most [`AVATAR_SIDE`] pixels a side
//! and re-encoded as PNG off the UI thread, uploaded through the relay's file
//! endpoint, and its file id set as the profile's avatar. Avatars of everyone
//! shown are downloaded once per id and kept decoded in memory; until one has
//! arrived (or if it cannot be read) the initial-letter tile shows instead.

use std::path::PathBuf;
use std::sync::Arc;

use iced::Task;
use iced::widget::image;
use natter_net::Client;
use natter_proto::model::Profile;
use natter_proto::rest::UpdateProfile;

use super::{Main, Message};
use crate::app::Shared;

/// Largest side of an uploaded avatar, in pixels.
pub const AVATAR_SIDE: u32 = 256;
/// Largest side of a decoded avatar kept for drawing.
const SHOWN_SIDE: u32 = 128;
/// Largest picture file accepted for an avatar.
const MAX_PICK_BYTES: u64 = 20 * 1024 * 1024;

/// Why the profile could not be saved.
#[derive(Debug, Clone)]
pub enum ProfileError {
    /// The relay or the connection said no.
    Net(Shared<natter_net::Error>),
    /// The picked file is not a picture the app can read (or is too large).
    NotAPicture,
}

impl From<natter_net::Error> for ProfileError {
    fn from(e: natter_net::Error) -> Self {
        ProfileError::Net(Shared(Arc::new(e)))
    }
}

/// Whether an avatar reference names a relay file this app can fetch.
fn is_file_id(avatar: &str) -> bool {
    !avatar.is_empty() && !avatar.contains("://")
}

/// Reads the picture at `path` and turns it into a small PNG.
fn avatar_png(path: PathBuf) -> Option<Vec<u8>> {
    let len = std::fs::metadata(&path).ok()?.len();
    if len == 0 || len > MAX_PICK_BYTES {
        return None;
    }
    let bytes = std::fs::read(&path).ok()?;
    let picture = natter_picture::decode(&bytes).ok()?;
    let small = picture.thumbnail(AVATAR_SIDE, AVATAR_SIDE);
    let mut out = std::io::Cursor::new(Vec::new());
    small.write_to(&mut out, ::image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

/// Uploads the picture at `path` as the account's avatar and returns the
/// profile the relay now holds.
pub async fn upload_avatar(client: Client, path: PathBuf) -> Result<Profile, ProfileError> {
    let png = tokio::task::spawn_blocking(move || avatar_png(path))
        .await
        .ok()
        .flatten()
        .ok_or(ProfileError::NotAPicture)?;
    let token = client.token().await?;
    let file = client
        .http()
        .upload(&token, "avatar.png", "image/png", png)
        .await?;
    let patch = UpdateProfile {
        avatar: Some(file.id),
        ..UpdateProfile::default()
    };
    Ok(client.http().update_profile(&token, &patch).await?)
}

/// An avatar as it is drawn: the middle square of `picture` (cropped to fill,
/// never stretched), at most [`SHOWN_SIDE`] a side, and transparent outside
/// the circle it holds, with a one-pixel soft edge. Round in the pixels, so
/// round under any renderer (image corner radii are not drawn by all).
pub fn round(picture: ::image::RgbaImage) -> ::image::RgbaImage {
    use ::image::imageops;
    let (w, h) = picture.dimensions();
    let square = w.min(h);
    if square == 0 {
        return picture;
    }
    let mut picture = picture;
    let cropped = imageops::crop(
        &mut picture,
        (w - square) / 2,
        (h - square) / 2,
        square,
        square,
    )
    .to_image();
    let side = square.min(SHOWN_SIDE);
    let mut out = if side == square {
        cropped
    } else {
        imageops::resize(&cropped, side, side, imageops::FilterType::Triangle)
    };
    let r = side as f32 / 2.0;
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        let (dx, dy) = (x as f32 + 0.5 - r, y as f32 + 0.5 - r);
        let inside = (r - (dx * dx + dy * dy).sqrt() + 0.5).clamp(0.0, 1.0);
        pixel.0[3] = (f32::from(pixel.0[3]) * inside).round() as u8;
    }
    out
}

impl Main {
    /// Starts downloading every avatar shown and not yet fetched.
    pub(super) fn fetch_avatars(&mut self) -> Task<Message> {
        let Some(client) = self.client.clone() else {
            return Task::none();
        };
        // Collected first: the users are borrowed while the set is updated.
        let wanted: Vec<String> = self
            .users
            .values()
            .chain(std::iter::once(&self.account.profile.user))
            .filter_map(|u| u.avatar.clone())
            .filter(|a| is_file_id(a))
            .collect();
        super::attach::fetch_thumbnails(
            &client,
            wanted,
            &mut self.avatar_requested,
            AVATAR_SIDE,
            round,
            Message::AvatarLoaded,
        )
    }

    /// The decoded avatar of `avatar`, if it has arrived.
    pub fn avatar(&self, avatar: Option<&String>) -> Option<&image::Handle> {
        avatar.and_then(|a| self.avatars.get(a))
    }

    /// An avatar picture was fetched and decoded (or could not be).
    pub(super) fn avatar_loaded(&mut self, id: String, handle: Option<image::Handle>) {
        match handle {
            Some(handle) => {
                self.avatars.insert(id, handle);
            }
            None => tracing::debug!(avatar = %id, "avatar could not be fetched"),
        }
    }

    /// The relay saved the own profile.
    pub(super) fn profile_saved(
        &mut self,
        profile: Profile,
        i18n: &natter_i18n::I18n,
    ) -> Task<Message> {
        self.users.insert(profile.user.id, profile.user.clone());
        self.account.profile = profile;
        self.notice.set(Some(i18n.tr("settings-saved")));
        self.fetch_avatars()
    }

    /// Saving the profile failed.
    pub(super) fn profile_failed(&mut self, e: &ProfileError, i18n: &natter_i18n::I18n) {
        self.notice.set(Some(match e {
            ProfileError::NotAPicture => i18n.tr("settings-avatar-unreadable"),
            ProfileError::Net(e) => crate::error_text(i18n, &self.account.server, &e.0),
        }));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_picture_becomes_a_small_png_and_other_files_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.jpg");
        ::image::RgbImage::from_pixel(1200, 800, ::image::Rgb([200, 40, 40]))
            .save(&big)
            .unwrap();
        let png = avatar_png(big).unwrap();
        let small = ::image::load_from_memory(&png).unwrap();
        assert_eq!((small.width(), small.height()), (256, 171));
        let text = dir.path().join("notes.png");
        std::fs::write(&text, "not a picture").unwrap();
        assert!(avatar_png(text).is_none());
        assert!(avatar_png(dir.path().join("missing.png")).is_none());
    }

    #[test]
    fn an_avatar_is_the_middle_square_masked_to_a_circle() {
        // 800×500: a blue band on the left that the middle square leaves
        // out, red elsewhere.
        let picture = ::image::RgbaImage::from_fn(800, 500, |x, _| {
            if x < 140 {
                ::image::Rgba([0, 0, 255, 255])
            } else {
                ::image::Rgba([220, 30, 30, 255])
            }
        });
        let a = round(picture);
        assert_eq!(a.dimensions(), (SHOWN_SIDE, SHOWN_SIDE));
        let side = SHOWN_SIDE - 1;
        let mid = SHOWN_SIDE / 2;
        // Corners transparent, the middle and the circle's edges opaque.
        for (x, y) in [(0, 0), (side, 0), (0, side), (side, side), (8, 8)] {
            assert_eq!(a.get_pixel(x, y).0[3], 0, "corner ({x}, {y})");
        }
        for (x, y) in [
            (mid, mid),
            (1, mid),
            (side - 1, mid),
            (mid, 1),
            (mid, side - 1),
        ] {
            assert!(a.get_pixel(x, y).0[3] > 200, "inside ({x}, {y})");
        }
        // Cropped, not squeezed: no blue anywhere (a stretched picture would
        // show the band along the left edge).
        assert!(a.pixels().all(|p| p.0[3] == 0 || p.0[2] < 100));
        assert_eq!(a.get_pixel(4, mid).0[..3], [220, 30, 30]);
        // Partly covered pixels on the edge: a soft edge, not a jagged one.
        assert!(a.pixels().any(|p| p.0[3] > 20 && p.0[3] < 235));
        // Every pixel's alpha follows its distance from the middle.
        let r = SHOWN_SIDE as f32 / 2.0;
        for (x, y, p) in a.enumerate_pixels() {
            let d = ((x as f32 + 0.5 - r).powi(2) + (y as f32 + 0.5 - r).powi(2)).sqrt();
            if d > r + 0.5 {
                assert_eq!(p.0[3], 0);
            } else if d < r - 0.5 {
                assert_eq!(p.0[3], 255);
            }
        }
        // A small square picture keeps its size.
        let small = round(::image::RgbaImage::from_pixel(
            40,
            40,
            ::image::Rgba([9, 9, 9, 255]),
        ));
        assert_eq!(small.dimensions(), (40, 40));
        assert_eq!(small.get_pixel(0, 0).0[3], 0);
        assert_eq!(small.get_pixel(20, 20).0[3], 255);
    }

    #[test]
    fn only_relay_file_ids_are_fetched() {
        assert!(is_file_id("3f2a9c"));
        assert!(!is_file_id(""));
        assert!(!is_file_id("https://example.invalid/a.png"));
    }
}
