//! Uploads and downloads the reader watches in the chat: bytes, speed, a
//! progress bar and Cancel while they run, Retry when they fail.
//!
//! Both go through the relay's resumable transfers: an upload is opened once
//! (`Http::start_upload`) and sent in chunks from wherever the relay says it
//! stopped (`Http::continue_upload_with_progress`); a download is written to
//! a `.part` file next to where it goes and asks only for the rest
//! (`Http::download_to`). A transfer cut by a dropped connection goes on by
//! itself from where it stopped once the relay answers again; what is under
//! way is kept in the store, so after a restart Retry goes on from there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use iced::futures::{SinkExt, Stream};
use iced::widget::{button, column, container, progress_bar, row, text};
use iced::{Center, Element, Fill};
use natter_i18n::{Arg, I18n};
use natter_net::Client;
use natter_proto::model::{ConversationId, FileRef, MessageBody};
use serde::{Deserialize, Serialize};

use super::attach::{self, AttachError};
use crate::style;

/// Bytes sent per upload request: how often progress moves, and the most an
/// interruption can lose.
pub const CHUNK: usize = 256 * 1024;
/// The store setting that keeps unfinished transfers.
const SAVED: &str = "transfers";

/// Which transfer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Key {
    /// An upload, by its number on this device.
    Upload(u64),
    /// A download, by the relay's file id.
    Download(String),
    /// A picture of the chat on its way into the picture cache, by the
    /// relay's file id (not kept over a restart: the chat fetches it again,
    /// going on from what arrived).
    Picture(String),
}

/// What a transfer moves, as kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Plan {
    /// A file on disk on its way into a conversation.
    Upload {
        /// Where it goes.
        conversation: ConversationId,
        /// The file.
        path: PathBuf,
        /// Its name in the chat.
        name: String,
        /// The relay's upload, once opened.
        upload: Option<String>,
    },
    /// A received file on its way to disk.
    Download {
        /// The file.
        file: FileRef,
        /// Where it goes.
        dest: PathBuf,
    },
}

/// How a transfer stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Moving.
    Running,
    /// The connection dropped; it goes on by itself when it is back.
    Waiting,
    /// Stopped by an error, or by the app quitting; the words say why.
    Failed(String),
    /// A download that finished, at this path.
    Saved(PathBuf),
}

/// One transfer.
#[derive(Debug)]
pub struct Transfer {
    /// What it moves.
    pub plan: Plan,
    /// How it stands.
    pub state: State,
    /// Bytes moved.
    pub done: u64,
    /// Bytes in all (0 until known).
    pub total: u64,
    /// Bytes a second, smoothed.
    pub speed: f64,
    last: Option<(Instant, u64)>,
    /// Dropping the handle stops the transfer.
    job: Option<iced::task::Handle>,
}

impl Transfer {
    fn new(plan: Plan, state: State) -> Transfer {
        Transfer {
            plan,
            state,
            done: 0,
            total: 0,
            speed: 0.0,
            last: None,
            job: None,
        }
    }

    /// Takes a progress report in, updating the speed at most four times a
    /// second so it reads steadily.
    fn progress(&mut self, done: u64, total: u64, now: Instant) {
        match self.last {
            Some((at, before)) => {
                let dt = now.duration_since(at).as_secs_f64();
                if dt >= 0.25 {
                    let rate = done.saturating_sub(before) as f64 / dt;
                    self.speed = if self.speed == 0.0 {
                        rate
                    } else {
                        0.6 * self.speed + 0.4 * rate
                    };
                    self.last = Some((now, done));
                }
            }
            None => self.last = Some((now, done)),
        }
        self.done = done;
        self.total = total;
    }
}

/// What a transfer's job reports.
#[derive(Debug, Clone)]
pub enum Report {
    /// The relay opened the upload under this id.
    Opened(String),
    /// Bytes moved of the total.
    Progress(u64, u64),
    /// The connection dropped; the job tries again by itself.
    Waiting,
    /// Finished: a download's path, or an upload sent; or why not.
    Finished(Result<Option<PathBuf>, AttachError>),
}

/// Every transfer of this window.
#[derive(Debug, Default)]
pub struct Transfers {
    all: BTreeMap<Key, Transfer>,
    next: u64,
    /// Chat pictures whose fetch the reader cancelled: not fetched again
    /// until asked.
    declined: std::collections::BTreeSet<String>,
}

impl Transfers {
    /// A transfer by key.
    pub fn get(&self, key: &Key) -> Option<&Transfer> {
        self.all.get(key)
    }

    /// The download of a file, if one was started.
    pub fn download(&self, file_id: &str) -> Option<&Transfer> {
        self.all.get(&Key::Download(file_id.to_string()))
    }

    /// Uploads into `conversation`, oldest first.
    pub fn uploads_in(
        &self,
        conversation: ConversationId,
    ) -> impl Iterator<Item = (&Key, &Transfer)> {
        self.all.iter().filter(move |(_, t)| {
            matches!(&t.plan, Plan::Upload { conversation: c, .. } if *c == conversation)
        })
    }

    /// Takes in transfers kept from before a restart: stopped, to retry.
    pub fn restore(&mut self, saved: Vec<(Key, Plan, u64, u64)>, i18n: &I18n) {
        for (key, plan, done, total) in saved {
            if let Key::Upload(n) = key {
                self.next = self.next.max(n + 1);
            }
            let mut t = Transfer::new(plan, State::Failed(i18n.tr("transfer-interrupted")));
            t.done = done;
            t.total = total;
            self.all.entry(key).or_insert(t);
        }
    }

    /// A new upload of `path` into `conversation`; its key.
    pub fn add_upload(&mut self, conversation: ConversationId, path: PathBuf, name: String) -> Key {
        let key = Key::Upload(self.next);
        self.next += 1;
        let plan = Plan::Upload {
            conversation,
            path,
            name,
            upload: None,
        };
        self.all
            .insert(key.clone(), Transfer::new(plan, State::Running));
        key
    }

    /// A new download of `file` to `dest` (replacing a finished or failed
    /// one of the same file); its key.
    pub fn add_download(&mut self, file: FileRef, dest: PathBuf) -> Key {
        let key = Key::Download(file.id.clone());
        let plan = Plan::Download { file, dest };
        self.all
            .insert(key.clone(), Transfer::new(plan, State::Running));
        key
    }

    /// A new fetch of the picture `file` into the cache file `dest`; its key.
    pub fn add_picture(&mut self, file: FileRef, dest: PathBuf) -> Key {
        let key = Key::Picture(file.id.clone());
        self.declined.remove(&file.id);
        let plan = Plan::Download { file, dest };
        self.all
            .insert(key.clone(), Transfer::new(plan, State::Running));
        key
    }

    /// Whether the reader cancelled the fetch of this chat picture.
    pub fn declined(&self, file_id: &str) -> bool {
        self.declined.contains(file_id)
    }

    /// The fetch of a chat picture, while it runs or after it stopped.
    pub fn picture(&self, file_id: &str) -> Option<&Transfer> {
        self.all.get(&Key::Picture(file_id.to_string()))
    }

    /// Starts (or starts again) the job of `key`.
    pub fn run(&mut self, key: &Key, client: Client) -> iced::Task<(Key, Report)> {
        let Some(t) = self.all.get_mut(key) else {
            return iced::Task::none();
        };
        t.state = State::Running;
        t.last = None;
        t.speed = 0.0;
        let (task, handle) = iced::Task::run(job(client, t.plan.clone()), {
            let key = key.clone();
            move |r| (key.clone(), r)
        })
        .abortable();
        t.job = Some(handle.abort_on_drop());
        task
    }

    /// Takes a job's report in.
    pub fn report(&mut self, key: &Key, report: Report, i18n: &I18n, server: &str) {
        let Some(t) = self.all.get_mut(key) else {
            return;
        };
        match report {
            Report::Opened(id) => {
                if let Plan::Upload { upload, .. } = &mut t.plan {
                    *upload = Some(id);
                }
            }
            Report::Progress(done, total) => {
                t.state = State::Running;
                t.progress(done, total, Instant::now());
            }
            Report::Waiting => {
                t.state = State::Waiting;
                t.last = None;
                t.speed = 0.0;
            }
            Report::Finished(Ok(Some(path))) => {
                t.job = None;
                t.state = State::Saved(path);
                t.done = t.total.max(t.done);
            }
            Report::Finished(Ok(None)) => {
                // A sent upload is a message now; its bubble takes over.
                self.all.remove(key);
            }
            Report::Finished(Err(e)) => {
                t.job = None;
                t.state = State::Failed(attach::error_text(i18n, server, &e));
            }
        }
    }

    /// Stops a transfer and forgets it; a download's partial file goes too.
    pub fn cancel(&mut self, key: &Key) {
        if let Key::Picture(id) = key {
            self.declined.insert(id.clone());
        }
        if let Some(t) = self.all.remove(key)
            && let Plan::Download { file, dest } = &t.plan
            && !matches!(t.state, State::Saved(_))
        {
            drop(t.job);
            let _ = std::fs::remove_file(part_of(dest, &file.id));
        }
    }

    /// What to keep in the store: every transfer not finished.
    fn unfinished(&self) -> Vec<(Key, Plan, u64, u64)> {
        self.all
            .iter()
            .filter(|(k, t)| !matches!(t.state, State::Saved(_)) && !matches!(k, Key::Picture(_)))
            .map(|(k, t)| (k.clone(), t.plan.clone(), t.done, t.total))
            .collect()
    }

    /// Writes the unfinished transfers to the store.
    pub fn save(&self, store: &natter_store::Store) -> iced::Task<()> {
        let store = store.clone();
        let list = self.unfinished();
        iced::Task::future(async move {
            if let Err(e) = store.set_setting(SAVED, &list).await {
                tracing::warn!(error = %e, "could not keep the transfers");
            }
        })
    }
}

/// Reads the transfers kept in the store, with what a download's part file
/// holds and how large an upload's file is, so their bubbles say how far
/// they got.
pub async fn load(store: natter_store::Store) -> Vec<(Key, Plan, u64, u64)> {
    let saved: Vec<(Key, Plan, u64, u64)> = store
        .setting(SAVED)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut out = Vec::with_capacity(saved.len());
    for (key, plan, done, total) in saved {
        let size = |p: PathBuf| async move { tokio::fs::metadata(p).await.map(|m| m.len()).ok() };
        let (done, total) = match &plan {
            Plan::Download { file, dest } => {
                (size(part_of(dest, &file.id)).await.unwrap_or(0), file.size)
            }
            Plan::Upload { path, .. } => (done, size(path.clone()).await.unwrap_or(total)),
        };
        out.push((key, plan, done, total));
    }
    out
}

/// Where `Http::download_to` keeps what arrived of `id` going to `dest`.
fn part_of(dest: &Path, id: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    dest.with_file_name(format!("{name}.{id}.part"))
}

/// The job of a transfer, as a stream of reports ending with `Finished`.
fn job(client: Client, plan: Plan) -> impl Stream<Item = Report> {
    iced::stream::channel(16, async move |mut out| {
        // Uploads report once a chunk (coarse already); downloads once a
        // read, so they are thinned out to what a person can see move.
        let every = match plan {
            Plan::Upload { .. } => Duration::ZERO,
            Plan::Download { .. } => Duration::from_millis(50),
        };
        let progress = {
            let mut tx = out.clone();
            let mut sent: Option<Instant> = None;
            let mut calls = 0u32;
            move |done: u64, total: u64| {
                calls += 1;
                let due = sent.is_none_or(|at| at.elapsed() >= every);
                if calls <= 2 || due || done == total {
                    sent = Some(Instant::now());
                    // A full channel drops a report; the next one says more.
                    let _ = tx.try_send(Report::Progress(done, total));
                }
            }
        };
        let mut progress = progress;
        let mut plan = plan;
        let mut tries = 0;
        let result = loop {
            let attempt = match &mut plan {
                Plan::Upload {
                    conversation,
                    path,
                    name,
                    upload,
                } => upload_job(
                    &client,
                    *conversation,
                    path,
                    name.clone(),
                    upload,
                    &mut out,
                    &mut progress,
                )
                .await
                .map(|()| None),
                Plan::Download { file, dest } => client
                    .download_to(&file.id, dest, &mut progress)
                    .await
                    .map(|_| Some(dest.clone()))
                    .map_err(AttachError::from),
            };
            // A dropped connection: wait a little and go on from where the
            // relay (uploads) or the part file (downloads) says it stopped.
            match attempt {
                Err(AttachError::Net(e))
                    if matches!(*e.0, natter_net::Error::Unreachable(_)) && tries < RETRIES =>
                {
                    tracing::debug!(tries, "transfer interrupted; trying again");
                    let _ = out.send(Report::Waiting).await;
                    tokio::time::sleep(retry_after(tries)).await;
                    tries += 1;
                }
                done => break done,
            }
        };
        let _ = out.send(Report::Finished(result)).await;
    })
}

/// How many times in a row a transfer cut by a dropped connection is tried
/// again by itself before it waits for Retry: with [`retry_after`], about
/// five minutes.
const RETRIES: u32 = 64;

/// How long to wait before try `n` again: a quarter second, doubling, at
/// most five seconds.
fn retry_after(n: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << n.min(5))).min(Duration::from_secs(5))
}

async fn upload_job(
    client: &Client,
    conversation: ConversationId,
    path: &Path,
    name: String,
    upload: &mut Option<String>,
    out: &mut iced::futures::channel::mpsc::Sender<Report>,
    progress: impl FnMut(u64, u64) + Send,
) -> Result<(), AttachError> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| AttachError::Disk(e.to_string()))?;
    if bytes.len() as u64 > natter_proto::limits::Limits::default().max_file_bytes {
        return Err(AttachError::TooLarge);
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let (picture, mime) = attach::kind_of(&bytes, &ext).await;
    let token = client.token().await?;
    let upload = match upload {
        Some(id) => id.clone(),
        None => {
            let opened = client
                .http()
                .start_upload(&token, &name, mime, bytes.len() as u64)
                .await?;
            let _ = out.send(Report::Opened(opened.upload.clone())).await;
            // A later try goes on with this upload, not a new one.
            *upload = Some(opened.upload.clone());
            opened.upload
        }
    };
    // The small copy that shows at the receiver before the picture has
    // arrived, made before the upload.
    let preview = match picture {
        Some(_) => {
            let copy = bytes.clone();
            tokio::task::spawn_blocking(move || super::preview::make(&copy))
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    let file = client
        .http()
        .continue_upload_with_progress(&token, &upload, &bytes, CHUNK, progress)
        .await?;
    let body = match picture {
        Some((width, height)) => MessageBody::Image {
            file,
            width,
            height,
            preview,
        },
        None => MessageBody::File { file },
    };
    client.send(conversation, body, None).await?;
    Ok(())
}

/// `1.2 MB of 5.0 MB · 830 KB/s`.
pub fn amount_text(i18n: &I18n, t: &Transfer) -> String {
    let done = attach::size_text(t.done);
    let total = attach::size_text(t.total);
    if t.speed > 0.0 && t.state == State::Running {
        i18n.tr_args(
            "transfer-progress-speed",
            &[
                ("done", Arg::from(done)),
                ("total", Arg::from(total)),
                ("speed", Arg::from(attach::size_text(t.speed as u64))),
            ],
        )
    } else {
        i18n.tr_args(
            "transfer-progress",
            &[("done", Arg::from(done)), ("total", Arg::from(total))],
        )
    }
}

/// A transfer in a bubble: the bar, the amounts and speed, Cancel; or why
/// it stopped, with Retry.
pub fn view<'a>(i18n: &I18n, key: &Key, t: &Transfer) -> Element<'a, attach::Message> {
    let fraction = if t.total > 0 {
        t.done as f32 / t.total as f32
    } else {
        0.0
    };
    let bar = progress_bar(0.0..=1.0, fraction).girth(6).length(220);
    let cancel = button(text(i18n.tr("transfer-cancel")).size(12))
        .style(button::secondary)
        .padding([2, 8])
        .on_press(attach::Message::Cancel(key.clone()));
    match &t.state {
        State::Running => column![
            bar,
            row![text(amount_text(i18n, t)).size(11).width(Fill), cancel]
                .spacing(8)
                .align_y(Center),
        ]
        .spacing(4)
        .width(240)
        .into(),
        State::Waiting => column![
            bar,
            text(i18n.tr("transfer-waiting")).size(11),
            row![text(amount_text(i18n, t)).size(11).width(Fill), cancel]
                .spacing(8)
                .align_y(Center),
        ]
        .spacing(4)
        .width(240)
        .into(),
        State::Failed(why) => column![
            bar,
            text(why.clone()).size(11).style(text::danger),
            row![
                text(amount_text(i18n, t)).size(11).width(Fill),
                cancel,
                button(text(i18n.tr("transfer-retry")).size(12))
                    .padding([2, 8])
                    .on_press(attach::Message::Retry(key.clone())),
            ]
            .spacing(8)
            .align_y(Center),
        ]
        .spacing(4)
        .width(240)
        .into(),
        State::Saved(_) => container(text(i18n.tr("transfer-saved")).size(11)).into(),
    }
}

/// An upload's own bubble, until its message takes over.
pub fn upload_bubble<'a>(i18n: &I18n, key: &Key, t: &'a Transfer) -> Element<'a, attach::Message> {
    let name = match &t.plan {
        Plan::Upload { name, .. } => name.clone(),
        Plan::Download { file, .. } => file.name.clone(),
    };
    let bubble = container(
        column![
            crate::emoji::text(format!("📄 {name}"), 14.0),
            view(i18n, key, t)
        ]
        .spacing(4),
    )
    .padding([6, 10])
    .style(style::bubble(true));
    row![iced::widget::space::horizontal(), bubble].into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_is_measured_over_quarter_seconds_and_smoothed() {
        let file = FileRef {
            id: "ab".into(),
            name: "a".into(),
            size: 1,
            mime: String::new(),
        };
        let mut t = Transfer::new(
            Plan::Download {
                file,
                dest: PathBuf::from("/tmp/a"),
            },
            State::Running,
        );
        let start = Instant::now();
        t.progress(0, 4_000_000, start);
        t.progress(100_000, 4_000_000, start + Duration::from_millis(100));
        assert_eq!(t.speed, 0.0, "too soon to say");
        t.progress(1_000_000, 4_000_000, start + Duration::from_millis(500));
        assert!((t.speed - 2_000_000.0).abs() < 1.0, "{}", t.speed);
        t.progress(1_500_000, 4_000_000, start + Duration::from_millis(1000));
        // 0.6 × 2 MB/s + 0.4 × 1 MB/s.
        assert!((t.speed - 1_600_000.0).abs() < 1.0, "{}", t.speed);
        assert_eq!((t.done, t.total), (1_500_000, 4_000_000));
    }

    #[test]
    fn the_part_file_sits_next_to_the_destination() {
        assert_eq!(
            part_of(Path::new("/d/report.pdf"), "abc"),
            PathBuf::from("/d/report.pdf.abc.part")
        );
    }
}
