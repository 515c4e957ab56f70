//! Uploads and downloads watched in the chat, on a real relay: progress in
//! the bubble, Cancel, and Retry after the app stopped mid-file, going on
//! from what the relay holds (uploads) or what arrived (downloads).

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::time::Duration;

use iced::Task;
use iced::futures::StreamExt;
use iced_runtime::Action;
use natter::app::{App, Message, Screen};
use natter::dialog::Chosen;
use natter::screen::main::{self, attach, transfer};
use natter_i18n::Language;
use natter_proto::model::{FileRef, MessageBody};

mod support;
use support::*;

/// Runs `task`, applying its messages (and running what they lead to), until
/// `stop` holds after a message; the rest of it is dropped, as when the app
/// quits mid-transfer. Returns the transfer reports seen.
async fn run_until(
    app: &mut App,
    task: Task<Message>,
    stop: impl Fn(&App) -> bool,
) -> Vec<transfer::Report> {
    let mut seen = Vec::new();
    run_boxed(app, task, &stop, &mut seen).await;
    seen
}

/// Runs `task` and, depth first, what each of its messages leads to, so
/// `stop` is checked after every message; whether it came to hold.
fn run_boxed<'a>(
    app: &'a mut App,
    task: Task<Message>,
    stop: &'a dyn Fn(&App) -> bool,
    seen: &'a mut Vec<transfer::Report>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + 'a>> {
    Box::pin(async move {
        let Some(mut stream) = iced_runtime::task::into_stream(task) else {
            return false;
        };
        while let Some(action) = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap() {
            if let Action::Output(message) = action {
                if let Message::Main(main::Message::Attach(attach::Message::Transfer(_, r))) =
                    &message
                {
                    seen.push(r.clone());
                }
                let next = app.update(message);
                if stop(app) || run_boxed(app, next, stop, seen).await || stop(app) {
                    return true;
                }
            }
        }
        false
    })
}

fn send(app: &mut App, m: attach::Message) -> Task<Message> {
    app.update(Message::Main(main::Message::Attach(m)))
}

/// Bytes that are no picture and do not repeat in any short stretch.
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn file_in(app: &App, name: &str) -> Option<FileRef> {
    main_of(app)
        .chat()
        .messages()
        .iter()
        .find_map(|m| match &m.body {
            MessageBody::File { file } if file.name == name => Some(file.clone()),
            _ => None,
        })
}

/// Quits the app (its live session too) and starts it again on `home`, with
/// its session attached and the chat with `peer` open.
async fn restart(
    app: App,
    events: natter_net::Events,
    server: &str,
    home: &Path,
    peer: &str,
) -> (App, natter_net::Events) {
    if let Some(c) = main_of(&app).client() {
        c.shutdown();
    }
    drop(events);
    drop(app);
    // The database is free once the old session has wound down.
    let mut app = None;
    for _ in 0..100 {
        let booted = boot(server, home, Language::EnUs).await;
        if matches!(booted.screen, Screen::Main(_)) {
            app = Some(booted);
            break;
        }
        drop(booted);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut app = app.expect("the app starts again");
    let mut events = attach(&mut app).await;
    pump(&mut app, &mut events, |a| shows(a, peer)).await;
    click(&mut app, peer).await;
    (app, events)
}

#[tokio::test]
async fn an_upload_and_a_download_cut_by_a_restart_go_on_where_they_stopped() {
    let (relay, _rd) = relay().await;
    let server = relay.http_url();
    let (mut a, ea, mut b, mut eb, homes) = two_in_chat(&relay, "ada", "ben").await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("archive.bin");
    let bytes = noise(6 * transfer::CHUNK + 1234);
    std::fs::write(&source, &bytes).unwrap();
    let total = bytes.len() as u64;

    // Ada sends it; the bubble shows the bar's words and Cancel while it goes.
    let conversation = main_of(&a).chat().id().unwrap();
    let key = transfer::Key::Upload(0);
    let task = send(
        &mut a,
        attach::Message::Upload(conversation, source.clone(), "archive.bin".into()),
    );
    let upload_key = key.clone();
    run_until(&mut a, task, move |a| {
        main_of(a)
            .transfers()
            .get(&upload_key)
            .is_some_and(|t| t.done >= 2 * transfer::CHUNK as u64)
    })
    .await;
    assert!(shows_part(&a, &format!("of {}", attach::size_text(total))));
    assert!(shows(&a, "Cancel"));
    // The app quits mid-file.
    let (mut a, _ea) = restart(a, ea, &server, homes[0].path(), "ben").await;
    assert!(shows_part(&a, "Stopped before the end"));
    assert!(shows(&a, "archive.bin") || shows_part(&a, "archive.bin"));
    // Retry goes on from what the relay holds, not from the start.
    let task = send(&mut a, attach::Message::Retry(key.clone()));
    let reports = run_until(&mut a, task, |a| main_of(a).transfers().get(&key).is_none()).await;
    let first = reports.iter().find_map(|r| match r {
        transfer::Report::Progress(done, _) => Some(*done),
        _ => None,
    });
    assert!(
        first.is_some_and(|d| d >= 2 * transfer::CHUNK as u64 && d < total),
        "resumed at {first:?} of {total}"
    );
    assert!(
        !reports
            .iter()
            .any(|r| matches!(r, transfer::Report::Opened(_))),
        "the same upload goes on"
    );

    // Ben gets the whole file and saves it; his app quits part way.
    pump(&mut b, &mut eb, |b| file_in(b, "archive.bin").is_some()).await;
    let file = file_in(&b, "archive.bin").unwrap();
    assert_eq!(file.size, total);
    let dest = dir.path().join("saved.bin");
    let task = send(
        &mut b,
        attach::Message::SaveTo(file.clone(), Chosen::Path(dest.clone())),
    );
    let download_key = transfer::Key::Download(file.id.clone());
    let watching = download_key.clone();
    run_until(&mut b, task, move |b| {
        main_of(b)
            .transfers()
            .get(&watching)
            .is_some_and(|t| t.done > 0)
    })
    .await;
    assert!(!dest.exists(), "not there until all of it is");
    let (mut b, _eb) = restart(b, eb, &server, homes[1].path(), "ada").await;
    assert!(shows_part(&b, "Stopped before the end") && shows(&b, "Retry"));
    // The bubble says how far it got: what the part file holds.
    let kept = main_of(&b).transfers().get(&download_key).unwrap();
    assert!(kept.done > 0 && kept.done < total && kept.total == total);
    assert!(shows_part(&b, &format!("of {}", attach::size_text(total))));
    let task = send(&mut b, attach::Message::Retry(download_key.clone()));
    let reports = run_until(&mut b, task, |b| {
        main_of(b)
            .transfers()
            .get(&download_key)
            .is_some_and(|t| matches!(t.state, transfer::State::Saved(_)))
    })
    .await;
    let first = reports.iter().find_map(|r| match r {
        transfer::Report::Progress(done, _) => Some(*done),
        _ => None,
    });
    assert!(
        first.is_some_and(|d| d > 0 && d < total),
        "resumed at {first:?} of {total}"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), bytes, "the same bytes");
    assert!(shows(&b, "Saved"));
}

#[tokio::test]
async fn a_cancelled_download_leaves_nothing_and_can_be_saved_again() {
    let (relay, _rd) = relay().await;
    let (mut a, _ea, mut b, mut eb, _homes) = two_in_chat(&relay, "ada", "ben").await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("notes.bin");
    let bytes = noise(3 * transfer::CHUNK);
    std::fs::write(&source, &bytes).unwrap();
    let conversation = main_of(&a).chat().id().unwrap();
    let task = send(
        &mut a,
        attach::Message::Upload(conversation, source, "notes.bin".into()),
    );
    drive(&mut a, task).await;
    pump(&mut b, &mut eb, |b| file_in(b, "notes.bin").is_some()).await;
    let file = file_in(&b, "notes.bin").unwrap();

    let dest = dir.path().join("out.bin");
    let task = send(
        &mut b,
        attach::Message::SaveTo(file.clone(), Chosen::Path(dest.clone())),
    );
    let key = transfer::Key::Download(file.id.clone());
    let watching = key.clone();
    run_until(&mut b, task, move |b| {
        main_of(b)
            .transfers()
            .get(&watching)
            .is_some_and(|t| t.done > 0)
    })
    .await;
    assert!(shows(&b, "Cancel"));
    click(&mut b, "Cancel").await;
    assert!(main_of(&b).transfers().get(&key).is_none());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part") || n == "out.bin")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Save again: it downloads whole.
    let task = send(
        &mut b,
        attach::Message::SaveTo(file, Chosen::Path(dest.clone())),
    );
    drive(&mut b, task).await;
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    assert!(shows(&b, "Saved"));
    // Saved, it can be opened or shown in its folder.
    assert!(shows(&b, "Open") && shows(&b, "Show in folder"));
}

/// The first progress report after the connection dropped: where the
/// transfer went on from.
fn went_on_from(reports: &[transfer::Report]) -> Option<u64> {
    let cut = reports
        .iter()
        .position(|r| matches!(r, transfer::Report::Waiting))?;
    reports[cut..].iter().find_map(|r| match r {
        transfer::Report::Progress(done, _) => Some(*done),
        _ => None,
    })
}

#[tokio::test]
async fn an_upload_and_a_download_cut_by_a_dropped_connection_go_on_by_themselves() {
    use support::proxy::{Proxy, Way};
    let (relay, _rd) = relay().await;
    // Both apps reach the relay through a proxy that can cut the line.
    let proxy = Proxy::start(&relay.http_url()).await;
    let (mut a, _ea, mut b, mut eb, _homes) =
        two_in_chat_at(&relay, &proxy.url(), "ada", "ben").await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("film.bin");
    let bytes = noise(16 * transfer::CHUNK + 4321);
    std::fs::write(&source, &bytes).unwrap();
    let total = bytes.len() as u64;

    // Ada's upload: the line drops at 60 % and nobody presses Retry.
    let conversation = main_of(&a).chat().id().unwrap();
    let key = transfer::Key::Upload(0);
    let up_before = proxy.bytes(Way::Up);
    proxy.cut_after(Way::Up, total * 6 / 10);
    let task = send(
        &mut a,
        attach::Message::Upload(conversation, source.clone(), "film.bin".into()),
    );
    let watching = key.clone();
    let reports = run_until(&mut a, task, move |a| {
        main_of(a).transfers().get(&watching).is_none()
    })
    .await;
    assert_eq!(proxy.cuts(), 1, "the line was cut once");
    let from = went_on_from(&reports).expect("it waited for the line and went on");
    assert!(
        from >= total / 2 && from < total,
        "went on from {from} of {total}, not from the start"
    );
    let opened = reports
        .iter()
        .filter(|r| matches!(r, transfer::Report::Opened(_)))
        .count();
    assert_eq!(opened, 1, "the same upload went on");
    let sent = proxy.bytes(Way::Up) - up_before;
    eprintln!("upload: cut, went on from {from} of {total}; {sent} bytes went up");
    assert!(
        sent < total + total / 4,
        "{sent} bytes went up for {total}: sent again from the start?"
    );

    // Ben's download: the line drops at half way; it finishes by itself.
    pump(&mut b, &mut eb, |b| file_in(b, "film.bin").is_some()).await;
    let file = file_in(&b, "film.bin").unwrap();
    assert_eq!(file.size, total);
    let dest = dir.path().join("film-saved.bin");
    let down_before = proxy.bytes(Way::Down);
    proxy.cut_after(Way::Down, total / 2);
    let task = send(
        &mut b,
        attach::Message::SaveTo(file.clone(), Chosen::Path(dest.clone())),
    );
    let download_key = transfer::Key::Download(file.id.clone());
    let watching = download_key.clone();
    let reports = run_until(&mut b, task, move |b| {
        main_of(b)
            .transfers()
            .get(&watching)
            .is_some_and(|t| matches!(t.state, transfer::State::Saved(_)))
    })
    .await;
    assert_eq!(proxy.cuts(), 2, "the line was cut again");
    let from = went_on_from(&reports).expect("it waited for the line and went on");
    assert!(
        from >= total / 4 && from < total,
        "went on from {from} of {total}, not from the start"
    );
    let received = proxy.bytes(Way::Down) - down_before;
    eprintln!("download: cut, went on from {from} of {total}; {received} bytes came down");
    assert!(
        received < total + total / 4,
        "{received} bytes came down for {total}: fetched again from the start?"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), bytes, "the same bytes");
    assert!(shows(&b, "Saved"));
}

/// A chat picture and its file.
fn picture_in(app: &App, name: &str) -> Option<FileRef> {
    main_of(app)
        .chat()
        .messages()
        .iter()
        .find_map(|m| match &m.body {
            MessageBody::Image { file, .. } if file.name == name => Some(file.clone()),
            _ => None,
        })
}

/// Whether the picture `id` shows whole (not its 48 px preview).
fn shown_whole(app: &App, id: &str) -> bool {
    matches!(
        main_of(app).picture(id),
        Some(iced::widget::image::Handle::Rgba { width, .. }) if *width > 48
    )
}

/// A picture in the chat comes as a transfer: its box says how much of it
/// came and offers Cancel; cancelled, it waits for "Download picture"; a
/// dropped connection does not start it over; once in, it is kept, and after
/// a restart it shows without being fetched again.
#[tokio::test]
async fn a_picture_comes_with_its_progress_and_is_fetched_once() {
    use support::proxy::{Proxy, Way};
    let (relay, _rd) = relay().await;
    let proxy = Proxy::start(&relay.http_url()).await;
    let (mut a, _ea, mut b, mut eb, homes) =
        two_in_chat_at(&relay, &proxy.url(), "ada", "ben").await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("ridge.png");
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    image::RgbImage::from_fn(640, 480, |_, _| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    })
    .save(&source)
    .unwrap();
    let total = std::fs::metadata(&source).unwrap().len();
    let conversation = main_of(&a).chat().id().unwrap();
    let task = send(
        &mut a,
        attach::Message::Upload(conversation, source, "ridge.png".into()),
    );
    drive(&mut a, task).await;

    // Ben's app takes the message in and fetches the picture; it is stopped
    // once bytes came, to look at the bubble.
    let coming = |b: &App| {
        picture_in(b, "ridge.png").is_some_and(|f| {
            main_of(b)
                .transfers()
                .picture(&f.id)
                .is_some_and(|t| t.done > 0)
        })
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !coming(&b) {
        let e = tokio::time::timeout_at(deadline, eb.next())
            .await
            .expect("the picture is fetched")
            .unwrap();
        let task = b.update(Message::Main(main::Message::Session(
            main::session::Update::Event(e),
        )));
        run_until(&mut b, task, coming).await;
    }
    let file = picture_in(&b, "ridge.png").unwrap();
    assert_eq!(file.size, total);
    assert!(shows_part(&b, &format!("of {}", attach::size_text(total))));
    assert!(!shown_whole(&b, &file.id));
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        snapshots(&mut b, std::path::Path::new(&dir), "picture-coming");
    }
    // Cancelled: nothing of it is left, and it waits to be asked for.
    click(&mut b, "Cancel").await;
    assert!(main_of(&b).transfers().picture(&file.id).is_none());
    assert!(shows(&b, "Download picture"));
    let cache = b.store().unwrap().path().parent().unwrap().join("pictures");
    let left: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // Asked for, it comes whole, through a line cut half way.
    let down_before = proxy.bytes(Way::Down);
    proxy.cut_after(Way::Down, total / 2);
    let task = send(&mut b, attach::Message::FetchPicture(file.clone()));
    let id = file.id.clone();
    let reports = run_until(&mut b, task, move |b| shown_whole(b, &id)).await;
    assert!(shown_whole(&b, &file.id), "the picture shows");
    assert_eq!(proxy.cuts(), 1, "the line was cut");
    let from = went_on_from(&reports).expect("it waited for the line and went on");
    assert!(
        from >= total / 4 && from < total,
        "went on from {from} of {total}, not from the start"
    );
    let received = proxy.bytes(Way::Down) - down_before;
    assert!(
        received < total + total / 4,
        "{received} bytes came down for {total}: fetched again from the start?"
    );
    assert_eq!(
        std::fs::metadata(cache.join(&file.id)).unwrap().len(),
        total,
        "kept whole"
    );
    assert!(!shows(&b, "Download picture") && !shows(&b, "Cancel"));

    // After a restart it shows from what was kept, fetched no more.
    let before = proxy.bytes(Way::Down);
    let (b, eb) = restart(b, eb, &proxy.url(), homes[1].path(), "ada").await;
    assert!(shown_whole(&b, &file.id), "shown after the restart");
    assert!(main_of(&b).transfers().picture(&file.id).is_none());
    let after = proxy.bytes(Way::Down) - before;
    assert!(
        after < total / 4,
        "{after} bytes came down after the restart for a picture of {total}"
    );

    // A kept copy cut short is no copy: after the next restart the picture
    // is fetched again, whole.
    let kept = cache.join(&file.id);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&kept)
        .unwrap()
        .set_len(total / 3)
        .unwrap();
    let before = proxy.bytes(Way::Down);
    let (b, _eb) = restart(b, eb, &proxy.url(), homes[1].path(), "ada").await;
    assert!(shown_whole(&b, &file.id), "shown after fetching it again");
    assert_eq!(
        std::fs::metadata(&kept).unwrap().len(),
        total,
        "kept whole again"
    );
    assert!(proxy.bytes(Way::Down) - before >= total, "fetched again");
}
