//! Pictures and files in chats: attaching one from disk (uploaded, then sent as
//! an image or file message through the outbox), showing pictures in their
//! bubbles, and saving a received file.

use std::collections::BTreeSet;
use std::path::PathBuf;

use iced::Task;
use iced::widget::image;
use natter_i18n::{Arg, I18n};
use natter_net::Client;
use natter_proto::model::{ConversationId, FileRef, MessageBody};

use super::{Main, Message as MainMessage};
use crate::app::Shared;

/// Pictures are decoded down to this many pixels a side at most.
const DECODED_SIDE: u32 = 640;
/// Extensions sent as pictures (when they decode).
const PICTURES: &[&str] = &["png", "jpg", "jpeg"];

/// Attachment messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// Open the file picker.
    Pick,
    /// A file was picked (or the picker closed).
    Picked(Option<PathBuf>),
    /// The attachment was uploaded and queued, or why not.
    Sent(Result<(), AttachError>),
    /// A picture shown in the chat was fetched and decoded (or could not be).
    Loaded(String, Option<image::Handle>),
    /// Save a received file: ask where.
    Save(FileRef),
    /// Where to save it (or the dialog closed).
    SaveTo(FileRef, Option<PathBuf>),
    /// Saved at this path, or why not.
    Saved(Result<PathBuf, AttachError>),
}

/// Why an attachment could not be sent or saved.
#[derive(Debug, Clone)]
pub enum AttachError {
    /// Larger than the relay accepts.
    TooLarge,
    /// Reading or writing the local file failed.
    Disk(String),
    /// The relay refused or could not be reached.
    Net(Shared<natter_net::Error>),
    /// A voice message could not be recorded.
    Voice(String),
}

impl From<natter_net::Error> for AttachError {
    fn from(e: natter_net::Error) -> Self {
        AttachError::Net(Shared(std::sync::Arc::new(e)))
    }
}

impl Main {
    /// Handles attachment messages.
    pub(super) fn update_attach(&mut self, message: Message, i18n: &I18n) -> Task<MainMessage> {
        match message {
            Message::Pick => {
                let title = i18n.tr("chat-attach-choose");
                Task::perform(
                    async move {
                        rfd::AsyncFileDialog::new()
                            .set_title(title)
                            .pick_file()
                            .await
                            .map(|f| f.path().to_path_buf())
                    },
                    |p| MainMessage::Attach(Message::Picked(p)),
                )
            }
            Message::Picked(None) => Task::none(),
            Message::Picked(Some(path)) => {
                let (Some(id), Some(client)) = (self.selected, self.client.clone()) else {
                    return Task::none();
                };
                self.notice.set(Some(i18n.tr("chat-attach-uploading")));
                Task::perform(send_file(client, id, path), |r| {
                    MainMessage::Attach(Message::Sent(r))
                })
            }
            Message::Sent(Ok(())) => {
                self.notice.set(None);
                self.load_selected()
            }
            Message::Sent(Err(e)) | Message::Saved(Err(e)) => {
                self.notice.set(Some(self.attach_error_text(i18n, &e)));
                Task::none()
            }
            Message::Loaded(id, handle) => {
                if let Some(handle) = handle {
                    self.pictures.insert(id, handle);
                }
                Task::none()
            }
            Message::Save(file) => {
                let title = i18n.tr("chat-save-file");
                Task::perform(
                    async move {
                        let path = rfd::AsyncFileDialog::new()
                            .set_title(title)
                            .set_file_name(&file.name)
                            .save_file()
                            .await
                            .map(|f| f.path().to_path_buf());
                        (file, path)
                    },
                    |(file, path)| MainMessage::Attach(Message::SaveTo(file, path)),
                )
            }
            Message::SaveTo(_, None) => Task::none(),
            Message::SaveTo(file, Some(path)) => {
                let Some(client) = self.client.clone() else {
                    return Task::none();
                };
                Task::perform(save_file(client, file, path), |r| {
                    MainMessage::Attach(Message::Saved(r))
                })
            }
            Message::Saved(Ok(path)) => {
                self.notice.set(Some(i18n.tr_args(
                    "chat-file-saved",
                    &[("path", Arg::from(path.display().to_string()))],
                )));
                Task::none()
            }
        }
    }

    fn attach_error_text(&self, i18n: &I18n, e: &AttachError) -> String {
        match e {
            AttachError::TooLarge => i18n.tr("chat-attach-too-large"),
            AttachError::Disk(why) => {
                i18n.tr_args("chat-attach-disk", &[("reason", Arg::from(why.as_str()))])
            }
            AttachError::Net(e) => crate::error_text(i18n, &self.account.server, &e.0),
            AttachError::Voice(why) => {
                i18n.tr_args("voice-failed", &[("error", Arg::from(why.as_str()))])
            }
        }
    }

    /// The decoded picture of an image message, once fetched.
    pub fn picture(&self, file_id: &str) -> Option<&image::Handle> {
        self.pictures.get(file_id)
    }

    /// Starts fetching the pictures of the messages on screen not fetched yet.
    pub(super) fn fetch_pictures(&mut self) -> Task<MainMessage> {
        let Some(client) = self.client.clone() else {
            return Task::none();
        };
        let wanted = self.chat.messages().iter().filter_map(|m| match &m.body {
            MessageBody::Image { file, .. } => Some(file.id.clone()),
            _ => None,
        });
        fetch_thumbnails(
            &client,
            wanted,
            &mut self.pictures_requested,
            DECODED_SIDE,
            |id, h| MainMessage::Attach(Message::Loaded(id, h)),
        )
    }
}

/// `1.4 MB`, `820 KB`, `12 B`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1_000_000.0),
        b if b >= 1_000 => format!("{} KB", b / 1_000),
        b => format!("{b} B"),
    }
}

/// Reads `path`, uploads it and queues an image (if it is a picture that
/// decodes) or file message for `conversation`.
async fn send_file(
    client: Client,
    conversation: ConversationId,
    path: PathBuf,
) -> Result<(), AttachError> {
    let max = natter_proto::limits::Limits::default().max_file_bytes;
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|e| AttachError::Disk(e.to_string()))?;
    if meta.len() > max {
        return Err(AttachError::TooLarge);
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| AttachError::Disk(e.to_string()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let picture = if PICTURES.contains(&ext.as_str()) {
        let probe = bytes.clone();
        tokio::task::spawn_blocking(move || {
            ::image::ImageReader::new(std::io::Cursor::new(probe))
                .with_guessed_format()
                .ok()
                .and_then(|r| r.into_dimensions().ok())
        })
        .await
        .ok()
        .flatten()
    } else {
        None
    };
    let mime = match (picture, ext.as_str()) {
        (Some(_), "png") => "image/png",
        (Some(_), _) => "image/jpeg",
        (None, _) => "application/octet-stream",
    };
    let file = client.upload(&name, mime, bytes).await?;
    let body = match picture {
        Some((width, height)) => MessageBody::Image {
            file,
            width,
            height,
        },
        None => MessageBody::File { file },
    };
    client.send(conversation, body, None).await?;
    Ok(())
}

/// Starts downloading and decoding each of `ids` not yet in `requested`, which
/// remembers them; `done` says what each finished one becomes.
pub(super) fn fetch_thumbnails(
    client: &Client,
    ids: impl IntoIterator<Item = String>,
    requested: &mut BTreeSet<String>,
    side: u32,
    done: fn(String, Option<image::Handle>) -> MainMessage,
) -> Task<MainMessage> {
    let tasks: Vec<_> = ids
        .into_iter()
        .filter(|id| requested.insert(id.clone()))
        .map(|id| {
            Task::perform(
                fetch_thumbnail(client.clone(), id.clone(), side),
                move |h| done(id.clone(), h),
            )
        })
        .collect();
    Task::batch(tasks)
}

/// Downloads a picture from the relay and decodes it to at most `side`
/// pixels a side, off the UI thread; `None` if it cannot be had.
async fn fetch_thumbnail(client: Client, id: String, side: u32) -> Option<image::Handle> {
    let bytes = client.download(&id).await.ok()?;
    let rgba = tokio::task::spawn_blocking(move || decode_thumbnail(bytes, side))
        .await
        .ok()
        .flatten()?;
    let (w, h) = rgba.dimensions();
    Some(image::Handle::from_rgba(w, h, rgba.into_raw()))
}

/// Decodes a PNG or JPEG from someone else down to at most `side` pixels a
/// side. Bounded: a file that claims more than 16384 pixels a side or needs
/// more than 256 MiB is refused, not allocated.
fn decode_thumbnail(bytes: Vec<u8>, side: u32) -> Option<::image::RgbaImage> {
    let mut limits = ::image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(256 << 20);
    let mut reader = ::image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    reader.limits(limits);
    Some(reader.decode().ok()?.thumbnail(side, side).to_rgba8())
}

async fn save_file(client: Client, file: FileRef, path: PathBuf) -> Result<PathBuf, AttachError> {
    let bytes = client.download(&file.id).await?;
    tokio::fs::write(&path, bytes)
        .await
        .map_err(|e| AttachError::Disk(e.to_string()))?;
    Ok(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{decode_thumbnail, size_text};

    #[test]
    fn pictures_shrink_and_absurd_ones_are_refused() {
        let mut png = std::io::Cursor::new(Vec::new());
        ::image::RgbImage::from_pixel(800, 600, ::image::Rgb([10, 200, 30]))
            .write_to(&mut png, ::image::ImageFormat::Png)
            .unwrap();
        let small = decode_thumbnail(png.into_inner(), 640).unwrap();
        assert_eq!(small.dimensions(), (640, 480));
        // A PNG header claiming 100000 × 100000 pixels: refused, no panic.
        let mut bomb = std::io::Cursor::new(Vec::new());
        ::image::RgbImage::from_pixel(1, 1, ::image::Rgb([0, 0, 0]))
            .write_to(&mut bomb, ::image::ImageFormat::Png)
            .unwrap();
        let mut bomb = bomb.into_inner();
        // IHDR width and height follow the 8-byte signature and 8-byte chunk head.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(decode_thumbnail(bomb, 640).is_none());
        assert!(decode_thumbnail(b"not a picture".to_vec(), 640).is_none());
    }

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(size_text(12), "12 B");
        assert_eq!(size_text(820_400), "820 KB");
        assert_eq!(size_text(1_400_000), "1.4 MB");
    }
}
