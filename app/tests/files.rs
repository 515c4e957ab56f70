//! Files and pictures into a chat without the file dialog, through the app as
//! people do it, on a real relay: dropped onto the window and pasted from the
//! clipboard, waiting in a strip with Send / Cancel, and arriving on the other
//! side.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;

use iced::event::Status;
use iced::futures::StreamExt;
use iced::{Event, window};
use natter::app::{App, Message, runtime_event};
use natter::screen::main::{self, attach};
use natter_proto::model::MessageBody;

mod support;
use support::*;

fn png(path: &Path, width: u32, height: u32) {
    image::RgbImage::from_pixel(width, height, image::Rgb([200, 40, 90]))
        .save(path)
        .unwrap();
}

/// Drops `path` onto the window the way the window reports it.
async fn drop_file(app: &mut App, path: &Path) {
    let event = Event::Window(window::Event::FileDropped(path.to_path_buf()));
    let message = runtime_event(event, Status::Ignored, window::Id::unique())
        .expect("a dropped file is acted on");
    let task = app.update(message);
    drive(app, task).await;
}

/// What arrived in the open chat with a picture or file in it.
fn files_in(app: &App) -> Vec<MessageBody> {
    main_of(app)
        .chat()
        .messages()
        .iter()
        .filter(|m| matches!(m.body, MessageBody::Image { .. } | MessageBody::File { .. }))
        .map(|m| m.body.clone())
        .collect()
}

#[tokio::test]
async fn dropped_files_wait_with_a_preview_until_sent_or_cancelled() {
    let (relay, _rd) = relay().await;
    let (mut a, mut ea, mut b, mut eb, _homes) = two_in_chat(&relay, "ada", "ben").await;
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("sunset.png");
    png(&picture, 40, 30);
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, b"meeting at nine").unwrap();

    // Dropped, the picture waits in the strip with its name; nothing is sent.
    drop_file(&mut a, &picture).await;
    assert!(shows(&a, "sunset.png") && shows(&a, "One file to send"));
    assert!(shows(&a, "Cancel"));
    let strip = main_of(&a).incoming().items();
    assert_eq!(strip.len(), 1);
    assert!(strip[0].preview.is_some(), "a picture gets a preview");
    // Cancel takes it away, unsent.
    click(&mut a, "Cancel").await;
    assert!(!shows(&a, "sunset.png"));
    assert!(main_of(&a).incoming().is_empty());

    // Two dropped, then sent: both arrive, the picture as a picture.
    drop_file(&mut a, &picture).await;
    drop_file(&mut a, &notes).await;
    assert!(shows(&a, "2 files to send"));
    assert!(
        main_of(&a).incoming().items()[1].preview.is_none(),
        "a text file has no picture"
    );
    click(&mut a, "Send").await;
    assert!(main_of(&a).incoming().is_empty());
    pump(&mut b, &mut eb, |b| files_in(b).len() == 2).await;
    let got = files_in(&b);
    assert!(
        matches!(&got[0], MessageBody::Image { width: 40, height: 30, file, .. } if file.name == "sunset.png")
    );
    assert!(
        matches!(&got[1], MessageBody::File { file } if file.name == "notes.txt" && file.size == 15)
    );
    pump(&mut a, &mut ea, |a| files_in(a).len() == 2).await;

    // A folder is refused in words.
    drop_file(&mut a, dir.path()).await;
    assert!(shows_part(&a, "A folder cannot be sent"));
    assert!(main_of(&a).incoming().is_empty());
}

#[tokio::test]
async fn a_pasted_picture_waits_then_arrives_and_ctrl_v_asks_the_clipboard() {
    use iced::keyboard::{self, Key, Modifiers};
    // Ctrl+V is seen even when the composer took it (it pastes only text).
    let ctrl_v = Event::Keyboard(keyboard::Event::KeyPressed {
        key: Key::Character("v".into()),
        modified_key: Key::Character("v".into()),
        physical_key: keyboard::key::Physical::Code(keyboard::key::Code::KeyV),
        location: keyboard::Location::Standard,
        modifiers: Modifiers::CTRL,
        text: None,
        repeat: false,
    });
    assert!(matches!(
        runtime_event(ctrl_v, Status::Captured, window::Id::unique()),
        Some(Message::Main(main::Message::Attach(attach::Message::Paste)))
    ));
    let plain_v = Event::Keyboard(keyboard::Event::KeyPressed {
        key: Key::Character("v".into()),
        modified_key: Key::Character("v".into()),
        physical_key: keyboard::key::Physical::Code(keyboard::key::Code::KeyV),
        location: keyboard::Location::Standard,
        modifiers: Modifiers::empty(),
        text: Some("v".into()),
        repeat: false,
    });
    assert!(runtime_event(plain_v, Status::Captured, window::Id::unique()).is_none());

    let (relay, _rd) = relay().await;
    let (mut a, _ea, mut b, mut eb, _homes) = two_in_chat(&relay, "ada", "ben").await;
    // What the clipboard gave: a 30 × 20 picture, as PNG, and its preview.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pasted-1200.png");
    png(&file, 30, 20);
    let preview = iced::widget::image::Handle::from_rgba(1, 1, vec![0, 0, 0, 255]);
    let pasted = Message::Main(main::Message::Attach(attach::Message::Pasted(Some((
        file, preview,
    )))));
    let task = a.update(pasted);
    drive(&mut a, task).await;
    assert!(shows(&a, "One file to send"));
    assert!(shows_part(&a, "pasted-"));
    click(&mut a, "Send").await;
    pump(&mut b, &mut eb, |b| !files_in(b).is_empty()).await;
    assert!(matches!(
        &files_in(&b)[0],
        MessageBody::Image {
            width: 30,
            height: 20,
            ..
        }
    ));

    // Ben opens it in the viewer: fitted, then zoomed; Save asks to save it;
    // Esc closes.
    pump(&mut b, &mut eb, |b| shows(b, "View picture")).await;
    click(&mut b, "View picture").await;
    assert!(main_of(&b).viewer().is_some());
    assert!(shows(&b, "pasted-1200.png") && shows(&b, "Fitted"));
    assert!(
        !shows(&b, "View picture"),
        "the viewer takes the chat's place"
    );
    click(&mut b, "Zoom in").await;
    assert!(shows(&b, "125%"));
    click(&mut b, "100%").await;
    assert_eq!(main_of(&b).viewer().unwrap().zoom(), Some(1.0));
    let asked: Vec<Message> = {
        let mut ui = iced_test::simulator(b.view());
        ui.click("Save").unwrap();
        ui.into_messages().collect()
    };
    assert!(matches!(
        asked.as_slice(),
        [Message::Main(main::Message::Viewer(
            main::viewer::Message::Save
        ))]
    ));
    let esc = keyboard::Event::KeyPressed {
        key: Key::Named(keyboard::key::Named::Escape),
        modified_key: Key::Named(keyboard::key::Named::Escape),
        physical_key: keyboard::key::Physical::Code(keyboard::key::Code::Escape),
        location: keyboard::Location::Standard,
        modifiers: Modifiers::empty(),
        text: None,
        repeat: false,
    };
    let close = main::viewer::key(esc).unwrap();
    let task = b.update(Message::Main(main::Message::Viewer(close)));
    drive(&mut b, task).await;
    assert!(main_of(&b).viewer().is_none());
    assert!(shows(&b, "View picture"));
}

#[tokio::test]
async fn without_a_file_dialog_the_window_says_so() {
    let (relay, _rd) = relay().await;
    let (mut a, _ea, _b, _eb, _homes) = two_in_chat(&relay, "ada", "ben").await;
    let task = a.update(Message::Main(main::Message::Attach(
        attach::Message::Picked(natter::dialog::Chosen::Unavailable),
    )));
    drive(&mut a, task).await;
    assert!(shows_part(
        &a,
        "No file chooser is available on this system"
    ));
    assert!(shows_part(&a, "Drag a file onto the window"));
    // Without a program to open files with, the window says so and where
    // the file is.
    let task = a.update(Message::Main(main::Message::Attach(
        attach::Message::Opened(
            "/home/ada/Downloads/plan.txt".into(),
            Err(natter::opener::OpenError::NoOpener("xdg-open".into())),
        ),
    )));
    drive(&mut a, task).await;
    assert!(shows_part(
        &a,
        "No program to open files with was found (xdg-open). The file is at /home/ada/Downloads/plan.txt"
    ));
}

#[tokio::test]
async fn a_picture_shows_its_preview_before_it_arrives() {
    use iced::widget::image::Handle;
    let (relay, _rd) = relay().await;
    let (mut a, _ea, mut b, mut eb, _homes) = two_in_chat(&relay, "ada", "ben").await;
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("summit.png");
    png(&picture, 800, 500);
    let conversation = main_of(&a).chat().id().unwrap();
    let task = a.update(Message::Main(main::Message::Attach(
        attach::Message::Upload(conversation, picture, "summit.png".into()),
    )));
    drive(&mut a, task).await;

    // Ben's app takes the message in. Until the picture has come (its
    // `Loaded` message), the bubble shows the preview that came inside the
    // message; then the picture takes its place.
    let shown = |b: &App, id: &str| match main_of(b).picture(id) {
        Some(Handle::Rgba { width, height, .. }) => Some((*width, *height)),
        _ => None,
    };
    let mut before = None;
    let mut after = None;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while after.is_none() {
        let e = tokio::time::timeout_at(deadline, eb.next())
            .await
            .expect("the picture arrives")
            .unwrap();
        let mut queue = vec![b.update(Message::Main(main::Message::Session(
            main::session::Update::Event(e),
        )))];
        while let Some(task) = queue.pop() {
            let Some(mut stream) = iced_runtime::task::into_stream(task) else {
                continue;
            };
            while let Some(action) = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap() {
                let iced_runtime::Action::Output(message) = action else {
                    continue;
                };
                let loaded = match &message {
                    Message::Main(main::Message::Attach(attach::Message::Loaded(id, Some(_)))) => {
                        Some(id.clone())
                    }
                    _ => None,
                };
                if let Some(id) = &loaded {
                    before = Some((shown(&b, id), shows(&b, "View picture")));
                }
                queue.push(b.update(message));
                if let Some(id) = &loaded {
                    after = shown(&b, id);
                }
            }
        }
    }
    let Some(MessageBody::Image { preview, .. }) = files_in(&b).pop() else {
        panic!("not a picture");
    };
    let preview = preview.expect("the sender made a preview");
    assert!(preview.len() <= natter_proto::model::PREVIEW_MAX_CHARS);
    assert_eq!(
        before,
        Some((Some((48, 30)), true)),
        "the preview shows before the picture comes"
    );
    let full = after.unwrap();
    assert!(full.0 > 48 && full.0 * 5 == full.1 * 8, "{full:?}");
}
