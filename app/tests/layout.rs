//! Where things go at the widths people use: the settings in the main pane
//! (the whole window when narrow), and list previews that keep one line.
//! Set `NATTER_SNAPSHOTS=DIR` to also write pictures of these screens.

#![allow(clippy::unwrap_used, missing_docs)]

use iced::Rectangle;
use iced_test::selector::{Bounded, Selector, id};
use natter::app::{App, Message};
use natter::screen::main;
use natter_i18n::Language;

mod support;
use support::*;

/// The bounds of what `selector` finds in a view `width` wide.
fn bounds<S>(app: &App, width: f32, selector: S) -> Option<Rectangle>
where
    S: Selector + Send,
    S::Output: Bounded + Clone + Send,
{
    let mut ui = iced_test::Simulator::with_size(
        iced_test::core::Settings::default(),
        (width, 800.0),
        app.view(),
    );
    ui.find(selector).ok().map(|t| t.bounds())
}

/// The bounds of the text holding `part`, in a view `width` wide.
fn preview_bounds(app: &App, width: f32, part: &str) -> Option<Rectangle> {
    use iced_test::selector::Candidate;
    let mut ui = iced_test::Simulator::with_size(
        iced_test::core::Settings::default(),
        (width, 800.0),
        app.view(),
    );
    ui.find(|c: Candidate<'_>| match c {
        Candidate::Text {
            content, bounds, ..
        } if content.contains(part) => Some(bounds),
        _ => None,
    })
    .ok()
}

fn snapshot(app: &mut App, name: &str) {
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        snapshots(app, std::path::Path::new(&dir), name);
    }
}

#[tokio::test]
async fn settings_open_in_the_main_pane_and_take_the_window_when_narrow() {
    let (relay, _rd) = relay().await;
    let (mut a, _ea, _b, _eb, _homes) = two_in_chat(&relay, "rita", "sven").await;
    let _ = a.update(Message::Resized(1280.0));
    click(&mut a, "Settings").await;
    // Beside the 300 px sidebar, with room: not squeezed into it.
    let nickname = bounds(&a, 1280.0, id("nickname")).expect("the nickname field");
    assert!(nickname.x >= 300.0, "in the main pane: {nickname:?}");
    assert!(nickname.width >= 400.0, "with room: {nickname:?}");
    let sign_out = bounds(&a, 1280.0, "Sign out").expect("sign out");
    assert!(sign_out.x >= 300.0);
    // The chats stay in the sidebar; picking one shows it again.
    assert!(shows(&a, "sven") && shows(&a, "Chats"));
    assert!(!shows(&a, "Send"), "the chat gave the pane to the settings");
    snapshot(&mut a, "settings");

    // Narrow: the whole window, with a way back and no tabs.
    let _ = a.update(Message::Resized(360.0));
    let nickname = bounds(&a, 360.0, id("nickname")).expect("the nickname field");
    assert!(nickname.x < 60.0 && nickname.width >= 200.0, "{nickname:?}");
    assert!(!shows(&a, "Chats"), "the tabs make way");
    click(&mut a, "Back").await;
    assert!(shows(&a, "Chats"));
    assert!(bounds(&a, 360.0, id("nickname")).is_none());

    // Wide again: a chat picked from the list beside the settings opens.
    let _ = a.update(Message::Resized(1280.0));
    click(&mut a, "Settings").await;
    click(&mut a, "sven").await;
    assert!(bounds(&a, 1280.0, id("nickname")).is_none());
    assert!(shows(&a, "Send"));
}

#[tokio::test]
async fn list_previews_keep_one_line_at_every_width() {
    let (relay, _rd) = relay().await;
    let (mut apps, mut events, saved, _homes) = people(&relay, &["tess", "uri"]).await;
    let http = natter_net::http::Http::new(&relay.http_url()).unwrap();
    http.create_group(
        &saved[0].access_token,
        "Weekend hike",
        vec![saved[1].profile.user.id],
    )
    .await
    .unwrap();
    let (mut b, mut eb) = (apps.pop().unwrap(), events.pop().unwrap());
    let (mut a, mut ea) = (apps.pop().unwrap(), events.pop().unwrap());
    pump(&mut a, &mut ea, |app| shows(app, "Weekend hike")).await;
    pump(&mut b, &mut eb, |app| shows(app, "Weekend hike")).await;
    // Uri mentions Tess (picked from the completion list) in a long
    // message; Tess, elsewhere, sees the marker, the writer and the preview.
    click(&mut b, "Weekend hike").await;
    let rest = "明天早上七点在山脚下的停车场集合, 记得带上水、午饭、雨衣和登山杖, 天气预报说下午可能有雷阵雨";
    interact(&mut b, |ui| {
        use iced::keyboard::key::Named;
        ui.click(id(main::composer::ID)).unwrap();
        let _ = ui.typewrite("@te");
        let _ = ui.tap_key(Named::Enter);
        let _ = ui.typewrite(rest);
        let _ = ui.tap_key(Named::Enter);
    })
    .await;
    pump(&mut a, &mut ea, |app| shows_part(app, "停车场集合")).await;

    for language in [Language::ZhCn, Language::EnUs] {
        let _ = a.update(Message::Main(main::Message::Settings(
            main::settings::Message::Language(language),
        )));
        for width in [1280.0, 795.0, 360.0] {
            let _ = a.update(Message::Resized(width));
            let preview = preview_bounds(&a, width, "停车场集合")
                .unwrap_or_else(|| panic!("{language:?} {width}: no preview"));
            assert!(
                preview.height < 22.0,
                "{language:?} at {width} px: the preview takes {preview:?}"
            );
            let list = if width < 700.0 { width } else { 300.0 };
            assert!(preview.x + preview.width <= list + 1.0, "{preview:?}");
            if language == Language::ZhCn {
                assert!(shows(&a, "[有人@我]"), "the mention marker");
            }
            let title = bounds(&a, width, "Weekend hike").unwrap();
            assert!(title.height < 26.0, "{language:?} {width}: title {title:?}");
        }
    }
    let _ = a.update(Message::Main(main::Message::Settings(
        main::settings::Message::Language(Language::EnUs),
    )));
    snapshot(&mut a, "list-preview");
}
