//! Pictures and files in chats: attaching one from disk (uploaded, then sent as
//! an image or file message through the outbox) through the file dialog or
//! by dropping or pasting it (see [`super::incoming`]), showing pictures in
//! their bubbles, and saving a received file. Without a file dialog the
//! window says so, and a received file is saved to the downloads folder.

use std::collections::BTreeSet;
use std::path::PathBuf;

use iced::Task;
use iced::widget::image;
use natter_i18n::{Arg, I18n};
use natter_net::Client;
use natter_proto::model::{ConversationId, FileRef, MessageBody};

use super::incoming;
use super::transfer;
use super::{Main, Message as MainMessage, Panel};
use crate::app::Shared;
use crate::dialog::{self, Chosen};

/// Pictures are decoded down to this many pixels a side at most.
const DECODED_SIDE: u32 = 640;
/// Extensions sent as pictures (when they decode).
const PICTURES: &[&str] = &["png", "jpg", "jpeg"];

/// Attachment messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// Open the file picker.
    Pick,
    /// What the file picker gave.
    Picked(Chosen),
    /// A file was dropped onto the window.
    Dropped(PathBuf),
    /// Ctrl+V: paste a picture the clipboard holds.
    Paste,
    /// The clipboard's picture, written to a PNG file, and its preview, if
    /// it held one.
    Pasted(Option<(PathBuf, image::Handle)>),
    /// The preview of a dropped picture was made (or it is no picture).
    Previewed(PathBuf, Option<image::Handle>),
    /// Take one waiting item out of the strip.
    Remove(usize),
    /// Send everything waiting in the strip.
    SendIncoming,
    /// Drop everything waiting in the strip.
    CancelIncoming,
    /// The attachment was uploaded and queued, or why not.
    Sent(Result<(), AttachError>),
    /// A picture shown in the chat was fetched and decoded (or could not be).
    Loaded(String, Option<image::Handle>),
    /// Fetch a chat picture whose fetch was cancelled.
    FetchPicture(FileRef),
    /// Save a received file: ask where.
    Save(FileRef),
    /// Where to save it, as the save dialog gave it.
    SaveTo(FileRef, Chosen),
    /// Upload this file into a conversation, under this name.
    Upload(ConversationId, PathBuf, String),
    /// A transfer's job reported.
    Transfer(transfer::Key, transfer::Report),
    /// Stop a transfer and forget it.
    Cancel(transfer::Key),
    /// Start a stopped transfer again, from where it stopped.
    Retry(transfer::Key),
    /// Open a downloaded file with its default application.
    Open(PathBuf),
    /// Show a downloaded file in its folder.
    ShowInFolder(PathBuf),
    /// The opener answered for this file.
    Opened(PathBuf, Result<(), crate::opener::OpenError>),
    /// Open a picture in the viewer: its file and size.
    View(FileRef, u32, u32),
    /// The viewer's full-size picture was fetched (or could not be).
    ViewerLoaded(String, Option<image::Handle>),
    /// The transfers kept from before a restart were read.
    TransfersLoaded(Vec<(transfer::Key, transfer::Plan, u64, u64)>),
}

/// Why an attachment could not be sent or saved.
#[derive(Debug, Clone)]
pub enum AttachError {
    /// Larger than the relay accepts.
    TooLarge,
    /// A folder, not a file.
    Folder,
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
                Task::perform(dialog::pick_file(title, None), |c| {
                    MainMessage::Attach(Message::Picked(c))
                })
            }
            Message::Picked(Chosen::Closed) => Task::none(),
            Message::Picked(Chosen::Unavailable) => {
                self.notice.set(Some(i18n.tr("dialog-missing-attach")));
                Task::none()
            }
            Message::Picked(Chosen::Path(path)) => {
                let Some(id) = self.selected else {
                    return Task::none();
                };
                let name = file_name(&path);
                self.update_attach(Message::Upload(id, path, name), i18n)
            }
            Message::Dropped(path) => self.dropped(path, i18n),
            Message::Paste => {
                if self.selected.is_none() {
                    return Task::none();
                }
                let name = incoming::pasted_name(i18n);
                Task::perform(incoming::read_clipboard_picture(name), |p| {
                    MainMessage::Attach(Message::Pasted(p))
                })
            }
            Message::Pasted(None) => Task::none(),
            Message::Pasted(Some((path, preview))) => {
                if self.selected.is_some()
                    && let Some(item) = incoming::pasted(path, preview)
                {
                    self.incoming.push(item);
                }
                Task::none()
            }
            Message::Previewed(path, preview) => {
                if let Some(preview) = preview {
                    self.incoming.set_preview(&path, preview);
                }
                Task::none()
            }
            Message::Remove(index) => {
                self.incoming.remove(index);
                Task::none()
            }
            Message::CancelIncoming => {
                let _ = self.incoming.take();
                Task::none()
            }
            Message::SendIncoming => {
                let Some(id) = self.selected else {
                    return Task::none();
                };
                // Each item its own transfer, one after another so they
                // arrive in the order they came.
                let items = self.incoming.take();
                items
                    .into_iter()
                    .map(|item| self.update_attach(Message::Upload(id, item.path, item.name), i18n))
                    .reduce(Task::chain)
                    .unwrap_or_else(Task::none)
            }
            Message::Upload(id, path, name) => {
                let key = self.transfers.add_upload(id, path, name);
                self.start_transfer(&key)
            }
            Message::Transfer(key @ transfer::Key::Picture(_), report) => {
                // A chat picture in the cache: shown once decoded.
                let arrived = match &report {
                    transfer::Report::Finished(Ok(Some(path))) => Some(path.clone()),
                    _ => None,
                };
                self.transfers
                    .report(&key, report, i18n, &self.account.server);
                match (arrived, key) {
                    (Some(path), transfer::Key::Picture(id)) => decode_cached(path, id),
                    _ => Task::none(),
                }
            }
            Message::FetchPicture(file) => self.fetch_picture(file),
            Message::Transfer(key, report) => {
                let done = matches!(report, transfer::Report::Finished(_));
                let opened = matches!(report, transfer::Report::Opened(_));
                let sent = matches!(report, transfer::Report::Finished(Ok(None)));
                if let transfer::Report::Finished(Ok(Some(path))) = &report {
                    self.notice.set(Some(i18n.tr_args(
                        "chat-file-saved",
                        &[("path", Arg::from(path.display().to_string()))],
                    )));
                }
                self.transfers
                    .report(&key, report, i18n, &self.account.server);
                let mut tasks = Vec::new();
                if done || opened {
                    tasks.push(self.transfers.save(&self.store).discard());
                }
                if sent {
                    tasks.push(self.load_selected());
                }
                Task::batch(tasks)
            }
            Message::Cancel(key) => {
                self.transfers.cancel(&key);
                self.transfers.save(&self.store).discard()
            }
            Message::Retry(key) => self.start_transfer(&key),
            Message::View(file, width, height) => {
                let id = file.id.clone();
                let file_id = file.id.clone();
                let cached = cache_path(&self.store, &file).filter(|p| kept_whole(p, &file));
                self.viewer = Some(super::viewer::Viewer::new(file, width, height));
                let done = move |h| MainMessage::Attach(Message::ViewerLoaded(id.clone(), h));
                if let Some(cached) = cached {
                    return Task::perform(decode_file(cached, super::viewer::FULL_SIDE), done);
                }
                let Some(client) = self.client.clone() else {
                    return Task::none();
                };
                Task::perform(
                    fetch_thumbnail(
                        client,
                        file_id,
                        super::viewer::FULL_SIDE,
                        std::convert::identity,
                    ),
                    done,
                )
            }
            Message::ViewerLoaded(id, handle) => {
                if let (Some(v), Some(handle)) = (self.viewer.as_mut(), handle)
                    && v.file.id == id
                {
                    v.loaded(handle);
                }
                Task::none()
            }
            Message::Open(path) => Task::perform(crate::opener::open(path.clone()), move |r| {
                MainMessage::Attach(Message::Opened(path.clone(), r))
            }),
            Message::ShowInFolder(path) => {
                Task::perform(crate::opener::show_in_folder(path.clone()), move |r| {
                    MainMessage::Attach(Message::Opened(path.clone(), r))
                })
            }
            Message::Opened(_, Ok(())) => Task::none(),
            Message::Opened(path, Err(e)) => {
                let path = Arg::from(path.display().to_string());
                self.notice.set(Some(match e {
                    crate::opener::OpenError::NoOpener(program) => i18n.tr_args(
                        "open-no-opener",
                        &[("program", Arg::from(program)), ("path", path)],
                    ),
                    crate::opener::OpenError::Failed(why) => {
                        i18n.tr_args("open-failed", &[("reason", Arg::from(why)), ("path", path)])
                    }
                }));
                Task::none()
            }
            Message::TransfersLoaded(saved) => {
                self.transfers.restore(saved, i18n);
                Task::none()
            }
            Message::Sent(Ok(())) => {
                self.notice.set(None);
                self.load_selected()
            }
            Message::Sent(Err(e)) => {
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
                let name = file.name.clone();
                Task::perform(dialog::save_file(title, name), move |c| {
                    MainMessage::Attach(Message::SaveTo(file.clone(), c))
                })
            }
            Message::SaveTo(_, Chosen::Closed) => Task::none(),
            Message::SaveTo(file, chosen) => {
                let dest = match chosen {
                    Chosen::Path(path) => path,
                    // No dialog to ask with: the downloads folder, under a
                    // name not taken yet.
                    _ => free_name(&downloads_dir(), &file.name),
                };
                let key = self.transfers.add_download(file, dest);
                self.start_transfer(&key)
            }
        }
    }

    fn attach_error_text(&self, i18n: &I18n, e: &AttachError) -> String {
        error_text(i18n, &self.account.server, e)
    }

    /// Starts the job of a transfer and keeps the list in the store.
    fn start_transfer(&mut self, key: &transfer::Key) -> Task<MainMessage> {
        let Some(client) = self.client.clone() else {
            return Task::none();
        };
        let run = self
            .transfers
            .run(key, client)
            .map(|(k, r)| MainMessage::Attach(Message::Transfer(k, r)));
        Task::batch([run, self.transfers.save(&self.store).discard()])
    }

    /// The transfers of this window.
    pub fn transfers(&self) -> &transfer::Transfers {
        &self.transfers
    }
}

/// Why an attachment failed, in the reader's language.
pub fn error_text(i18n: &I18n, server: &str, e: &AttachError) -> String {
    match e {
        AttachError::TooLarge => i18n.tr("chat-attach-too-large"),
        AttachError::Folder => i18n.tr("chat-attach-folder"),
        AttachError::Disk(why) => {
            i18n.tr_args("chat-attach-disk", &[("reason", Arg::from(why.as_str()))])
        }
        AttachError::Net(e) => crate::error_text(i18n, server, &e.0),
        AttachError::Voice(why) => {
            i18n.tr_args("voice-failed", &[("error", Arg::from(why.as_str()))])
        }
    }
}

impl Main {
    /// A file dropped onto the window: a picture for the profile while
    /// Settings is open, else waiting in the open chat's strip.
    fn dropped(&mut self, path: PathBuf, i18n: &I18n) -> Task<MainMessage> {
        let picture = path
            .extension()
            .is_some_and(|e| PICTURES.contains(&e.to_string_lossy().to_lowercase().as_str()));
        if self.sidebar.panel() == Panel::Settings && picture {
            return Task::done(MainMessage::Settings(
                super::settings::Message::AvatarPicked(Some(path)),
            ));
        }
        if self.selected.is_none() {
            self.notice.set(Some(i18n.tr("incoming-no-chat")));
            return Task::none();
        }
        match incoming::dropped(path.clone()) {
            Ok(item) => {
                self.incoming.push(item);
                if !picture {
                    return Task::none();
                }
                Task::perform(
                    async move {
                        let bytes = tokio::fs::read(&path).await.ok()?;
                        let rgba = tokio::task::spawn_blocking(move || {
                            decode_thumbnail(bytes, 4 * incoming::PREVIEW_SIDE)
                                .map(incoming::square)
                        })
                        .await
                        .ok()
                        .flatten()?;
                        let (w, h) = rgba.dimensions();
                        Some((path, image::Handle::from_rgba(w, h, rgba.into_raw())))
                    },
                    |r| match r {
                        Some((path, handle)) => {
                            MainMessage::Attach(Message::Previewed(path, Some(handle)))
                        }
                        None => MainMessage::Nothing,
                    },
                )
            }
            Err(e) => {
                self.notice.set(Some(self.attach_error_text(i18n, &e)));
                Task::none()
            }
        }
    }

    /// What waits in the strip above the composer.
    pub fn incoming(&self) -> &incoming::Incoming {
        &self.incoming
    }

    /// The decoded picture of an image message, once fetched.
    pub fn picture(&self, file_id: &str) -> Option<&image::Handle> {
        self.pictures.get(file_id)
    }

    /// Starts fetching the pictures of the messages on screen not fetched yet.
    pub(super) fn fetch_pictures(&mut self) -> Task<MainMessage> {
        if self.client.is_none() {
            return Task::none();
        }
        // Until a picture arrives its preview from the message shows (tiny:
        // decoded here); the picture replaces it when it comes.
        for m in self.chat.messages() {
            if let MessageBody::Image {
                file,
                preview: Some(p),
                ..
            } = &m.body
                && !self.pictures.contains_key(&file.id)
                && let Some(handle) = super::preview::decode(p)
            {
                self.pictures.insert(file.id.clone(), handle);
            }
        }
        let wanted: Vec<FileRef> = self
            .chat
            .messages()
            .iter()
            .filter_map(|m| match &m.body {
                MessageBody::Image { file, .. } => Some(file.clone()),
                _ => None,
            })
            .filter(|f| !self.transfers.declined(&f.id))
            .filter(|f| self.pictures_requested.insert(f.id.clone()))
            .collect();
        Task::batch(wanted.into_iter().map(|file| self.fetch_picture(file)))
    }

    /// Shows a chat picture: from the picture cache when it is there, else
    /// fetched into it as a transfer (progress in its bubble, Cancel, going
    /// on by itself after a dropped connection, and from what arrived after
    /// a restart).
    fn fetch_picture(&mut self, file: FileRef) -> Task<MainMessage> {
        self.pictures_requested.insert(file.id.clone());
        let Some(cached) = cache_path(&self.store, &file) else {
            return Task::none();
        };
        if kept_whole(&cached, &file) {
            return decode_cached(cached, file.id);
        }
        let dir = picture_cache(&self.store);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(error = %e, "no picture cache");
        }
        let key = self.transfers.add_picture(file, cached);
        let Some(client) = self.client.clone() else {
            return Task::none();
        };
        self.transfers
            .run(&key, client)
            .map(|(k, r)| MainMessage::Attach(Message::Transfer(k, r)))
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

/// The last part of a path, as a file's name in the chat.
fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into())
}

/// Whether `bytes` (a file ending in `ext`) are a picture that decodes, with
/// its size, and the MIME type to upload it with.
pub(super) async fn kind_of(bytes: &[u8], ext: &str) -> (Option<(u32, u32)>, &'static str) {
    let picture = if PICTURES.contains(&ext) {
        let probe = bytes.to_vec();
        tokio::task::spawn_blocking(move || natter_picture::dimensions(&probe))
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let mime = match (picture, ext) {
        (Some(_), "png") => "image/png",
        (Some(_), _) => "image/jpeg",
        (None, _) => "application/octet-stream",
    };
    (picture, mime)
}

/// Starts downloading and decoding each of `ids` not yet in `requested`, which
/// remembers them; `done` says what each finished one becomes.
pub(super) fn fetch_thumbnails(
    client: &Client,
    ids: impl IntoIterator<Item = String>,
    requested: &mut BTreeSet<String>,
    side: u32,
    shape: fn(::image::RgbaImage) -> ::image::RgbaImage,
    done: fn(String, Option<image::Handle>) -> MainMessage,
) -> Task<MainMessage> {
    let tasks: Vec<_> = ids
        .into_iter()
        .filter(|id| requested.insert(id.clone()))
        .map(|id| {
            Task::perform(
                fetch_thumbnail(client.clone(), id.clone(), side, shape),
                move |h| done(id.clone(), h),
            )
        })
        .collect();
    Task::batch(tasks)
}

/// Where received chat pictures are kept, by file id: beside the store, so
/// they are fetched once.
fn picture_cache(store: &natter_store::Store) -> PathBuf {
    store
        .path()
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("pictures")
}

/// Where the picture `file` is kept in the cache; `None` for an id that is
/// no plain name (the relay's ids are hexadecimal).
fn cache_path(store: &natter_store::Store, file: &FileRef) -> Option<PathBuf> {
    let plain = !file.id.is_empty()
        && file.id.len() <= 64
        && file.id.bytes().all(|b| b.is_ascii_alphanumeric());
    plain.then(|| picture_cache(store).join(&file.id))
}

/// Whether the cache holds all of `file` at `path` (a file of another size
/// is no copy of it: it goes, to be fetched again).
fn kept_whole(path: &std::path::Path, file: &FileRef) -> bool {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() == file.size => true,
        Ok(_) => {
            let _ = std::fs::remove_file(path);
            false
        }
        Err(_) => false,
    }
}

/// Decodes a chat picture from the cache, off the UI thread.
fn decode_cached(path: PathBuf, id: String) -> Task<MainMessage> {
    Task::perform(decode_file(path, DECODED_SIDE), move |h| {
        MainMessage::Attach(Message::Loaded(id.clone(), h))
    })
}

/// Decodes the picture in `path` to at most `side` pixels a side. One that
/// does not decode leaves the cache, so it is fetched again next time.
async fn decode_file(path: PathBuf, side: u32) -> Option<image::Handle> {
    let bytes = tokio::fs::read(&path).await.ok()?;
    let decoded = tokio::task::spawn_blocking(move || decode_thumbnail(bytes, side))
        .await
        .ok()
        .flatten();
    let Some(rgba) = decoded else {
        let _ = tokio::fs::remove_file(&path).await;
        return None;
    };
    let (w, h) = rgba.dimensions();
    Some(image::Handle::from_rgba(w, h, rgba.into_raw()))
}

/// Downloads a picture from the relay, decodes it to at most `side` pixels a
/// side and gives it its `shape`, off the UI thread; `None` if it cannot be
/// had.
async fn fetch_thumbnail(
    client: Client,
    id: String,
    side: u32,
    shape: fn(::image::RgbaImage) -> ::image::RgbaImage,
) -> Option<image::Handle> {
    let bytes = client.download(&id).await.ok()?;
    let rgba = tokio::task::spawn_blocking(move || decode_thumbnail(bytes, side).map(shape))
        .await
        .ok()
        .flatten()?;
    let (w, h) = rgba.dimensions();
    Some(image::Handle::from_rgba(w, h, rgba.into_raw()))
}

/// Decodes a PNG or JPEG from someone else down to at most `side` pixels a
/// side, within `natter_picture`'s bounds (16384 pixels a side, 256 MiB).
fn decode_thumbnail(bytes: Vec<u8>, side: u32) -> Option<::image::RgbaImage> {
    natter_picture::thumbnail(&bytes, side).ok()
}

/// Where files are saved when there is no dialog to ask: the downloads
/// folder, else the home folder, else the working directory.
fn downloads_dir() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|u| {
            u.download_dir()
                .map(PathBuf::from)
                .or_else(|| Some(u.home_dir().to_path_buf()))
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `name` in `dir`, or `stem (2).ext`, `stem (3).ext`… if taken. Only the
/// last part of `name` is used, so a sender cannot pick another folder.
fn free_name(dir: &std::path::Path, name: &str) -> PathBuf {
    let name = std::path::Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".into());
    let first = dir.join(&name);
    if !first.exists() {
        return first;
    }
    let base = std::path::Path::new(&name);
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = base
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (2..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{decode_thumbnail, free_name, size_text};

    #[test]
    fn a_file_saved_without_a_dialog_takes_a_free_name_in_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(free_name(dir.path(), "a.txt"), dir.path().join("a.txt"));
        std::fs::write(dir.path().join("a.txt"), b"").unwrap();
        std::fs::write(dir.path().join("a (2).txt"), b"").unwrap();
        assert_eq!(free_name(dir.path(), "a.txt"), dir.path().join("a (3).txt"));
        // A name with folders in it stays in the downloads folder.
        assert_eq!(
            free_name(dir.path(), "../../etc/passwd"),
            dir.path().join("passwd")
        );
        assert_eq!(free_name(dir.path(), ".."), dir.path().join("file"));
    }

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
