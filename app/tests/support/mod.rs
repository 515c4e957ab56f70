//! What the app's flow tests share: driving an `App` as the iced runtime would,
//! clicking through its view, and looking at what it shows.

#![allow(dead_code, clippy::unwrap_used)]

pub mod people;
pub mod proxy;
pub mod window;

use std::time::Duration;

use iced::Task;
use iced::futures::StreamExt;
use iced_runtime::Action;
use iced_test::simulator;
use natter::app::{App, Message, Screen};
use natter::screen::main;
#[allow(unused_imports)]
pub use people::*;

/// Generous: two whole apps, a relay and possibly two media engines share two
/// cores.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Runs `task` and everything its outputs lead to.
pub async fn drive(app: &mut App, task: Task<Message>) {
    let mut queue = vec![task];
    while let Some(task) = queue.pop() {
        let Some(mut stream) = iced_runtime::task::into_stream(task) else {
            continue;
        };
        while let Some(action) = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap() {
            if let Action::Output(message) = action {
                let next = app.update(message);
                queue.push(next);
            }
        }
    }
}

/// Clicks, types and taps on the current view, then applies the messages.
pub async fn interact(app: &mut App, f: impl FnOnce(&mut iced_test::Simulator<'_, Message>)) {
    let messages: Vec<Message> = {
        let mut ui = simulator(app.view());
        f(&mut ui);
        ui.into_messages().collect()
    };
    for m in messages {
        let task = app.update(m);
        drive(app, task).await;
    }
}

/// Whether the current view shows `text`.
pub fn shows(app: &App, text: &str) -> bool {
    simulator(app.view()).find(text).is_ok()
}

/// Whether the current view shows a text containing `part`.
#[allow(dead_code)]
pub fn shows_part(app: &App, part: &str) -> bool {
    use iced_test::selector::Candidate;
    simulator(app.view())
        .find(|c: Candidate<'_>| match c {
            Candidate::Text { content, .. } if content.contains(part) => Some(()),
            _ => None,
        })
        .is_ok()
}

/// The main window's state.
pub fn main_of(app: &App) -> &main::Main {
    match &app.screen {
        Screen::Main(m) => m,
        _ => panic!("not on the main window"),
    }
}

/// Right-clicks `text` in the chat pane (right of the 300 px sidebar): a
/// message's menu.
pub async fn right_click(app: &mut App, text: &str) {
    use iced::mouse;
    use iced_test::core::Event;
    use iced_test::selector::{Candidate, Target};
    interact(app, |ui| {
        let target = ui
            .find(|c: Candidate<'_>| {
                let t = Target::from(c);
                match &t {
                    Target::Text { content, .. }
                        if content == text && t.visible_bounds().is_some_and(|b| b.x >= 300.0) =>
                    {
                        Some(t)
                    }
                    _ => None,
                }
            })
            .unwrap_or_else(|e| panic!("no {text:?} in the chat: {e:?}"));
        let at = target.visible_bounds().expect("visible").center();
        ui.point_at(at);
        let _ = ui.simulate([
            Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Right)),
            Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Right)),
        ]);
    })
    .await;
}

/// Clicks the text `text` shows.
pub async fn click(app: &mut App, text: &str) {
    interact(app, |ui| {
        ui.click(text)
            .unwrap_or_else(|e| panic!("no {text:?} on screen: {e:?}"));
    })
    .await;
}

/// Types into the composer and presses Enter.
pub async fn say(app: &mut App, words: &str) {
    use iced::keyboard::{Key, key::Named};
    interact(app, |ui| {
        ui.click(iced_test::selector::id(main::composer::ID))
            .unwrap();
        let _ = ui.typewrite(words);
        let _ = ui.tap_key(Key::Named(Named::Enter));
    })
    .await;
}

/// Pictures of `app` as it is now, for looking at (not compared): 1280 px
/// light and 360 px dark, in English and Chinese, into `dir`.
pub fn snapshots(app: &mut App, dir: &std::path::Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let before = app.settings.theme;
    for (language, tag) in [
        (natter_i18n::Language::EnUs, "en-US"),
        (natter_i18n::Language::ZhCn, "zh-CN"),
    ] {
        app.i18n = natter_i18n::I18n::new(language).unwrap();
        for (width, theme, look) in [
            (1280.0, natter::app::ThemeChoice::Light, "light"),
            (360.0, natter::app::ThemeChoice::Dark, "dark"),
        ] {
            app.settings.theme = theme;
            let _ = app.update(Message::Resized(width));
            let mut fonts: Vec<std::borrow::Cow<'static, [u8]>> = vec![natter::icon::BYTES.into()];
            if let Some(cjk) = natter::fonts::cjk_font() {
                fonts.push(cjk.into());
            }
            let settings = iced_test::core::Settings {
                fonts,
                ..Default::default()
            };
            let theme = app.theme();
            let mut ui = iced_test::Simulator::with_size(settings, (width, 800.0), app.view());
            let shot = ui.snapshot(&theme).unwrap();
            let path = dir.join(format!("{name}-{width}-{look}-{tag}.png"));
            // The picture is written only where none is yet (the renderer's
            // name goes into the file's name): the old one goes first.
            for old in [
                path.clone(),
                dir.join(format!("{name}-{width}-{look}-{tag}-tiny-skia.png")),
            ] {
                let _ = std::fs::remove_file(old);
            }
            let _ = shot.matches_image(&path).unwrap();
        }
    }
    app.settings.theme = before;
    app.i18n = natter_i18n::I18n::new(natter_i18n::Language::EnUs).unwrap();
    let _ = app.update(Message::Resized(1000.0));
}
