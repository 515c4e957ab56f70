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
            SHOWN_SIDE,
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
    fn only_relay_file_ids_are_fetched() {
        assert!(is_file_id("3f2a9c"));
        assert!(!is_file_id(""));
        assert!(!is_file_id("https://example.invalid/a.png"));
    }
}
