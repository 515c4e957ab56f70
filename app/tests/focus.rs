//! Flows where the focus matters, in a window that keeps its widgets' state
//! between keystrokes as the real one does (`support::window`): the emoji
//! picker hands the focus back to the composer, and Tab / Shift+Tab walk the
//! register form.

#![allow(clippy::unwrap_used, missing_docs)]

use iced::keyboard::{Key, Modifiers, key::Named};
use iced_test::selector::id;
use natter::app::Screen;
use natter::emoji::picker;
use natter::screen::main::composer;
use natter_i18n::Language;

mod support;
use support::window::Window;
use support::*;

fn focused_is(w: &mut Window, app: &natter::app::App, want: &str) -> bool {
    w.focused(app) == Some(iced::widget::Id::from(want.to_string()))
}

#[tokio::test]
async fn an_emoji_found_by_search_goes_into_the_composer_which_keeps_the_focus() {
    let (relay, _rd) = relay().await;
    let (mut a, mut ea, mut b, mut eb, homes) = two_in_chat(&relay, "ann", "ben").await;
    let mut w = Window::new(&mut a, 1280.0, 800.0);

    w.click(&mut a, id(composer::ID)).await;
    w.type_text(&mut a, "launch ").await;
    w.click(&mut a, "Emoji").await;
    // The categories are there, the smileys first while nothing was used.
    assert!(w.find(&a, "Smileys & emotion").is_some());
    assert!(w.find(&a, "Flags").is_some());
    assert!(w.find(&a, "😀").is_some());
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        snapshots(&mut a, std::path::Path::new(&dir), "emoji-picker");
        let _ = a.update(natter::app::Message::Resized(1280.0));
    }
    // A search takes the focus; the pick gives it back to the composer.
    w.click(&mut a, id(picker::SEARCH_ID)).await;
    assert!(focused_is(&mut w, &a, picker::SEARCH_ID));
    w.type_text(&mut a, "rocket").await;
    assert!(w.find(&a, "😀").is_none(), "the search narrows the grid");
    w.click(&mut a, "🚀").await;
    assert!(
        focused_is(&mut w, &a, composer::ID),
        "the composer has the focus after a pick, not {:?}",
        w.focused(&a)
    );
    assert_eq!(main_of(&a).composer_text(), "launch 🚀");
    // Keystrokes and Enter go into the composer.
    w.type_text(&mut a, " now").await;
    assert_eq!(main_of(&a).composer_text(), "launch 🚀 now");
    w.tap(&mut a, Key::Named(Named::Enter), Modifiers::default())
        .await;
    assert_eq!(main_of(&a).composer_text(), "");
    pump(&mut a, &mut ea, |app| shows(app, "launch 🚀 now")).await;
    pump(&mut b, &mut eb, |app| shows(app, "launch 🚀 now")).await;

    // Sending closed the picker; another pick, with Enter in the search.
    assert!(w.find(&a, id(picker::SEARCH_ID)).is_none());
    w.click(&mut a, "Emoji").await;
    w.click(&mut a, id(picker::SEARCH_ID)).await;
    w.type_text(&mut a, "party popper").await;
    w.tap(&mut a, Key::Named(Named::Enter), Modifiers::default())
        .await;
    assert!(focused_is(&mut w, &a, composer::ID));
    assert_eq!(main_of(&a).composer_text(), "🎉");
    assert_eq!(a.settings.recent_emoji, vec!["🎉", "🚀"]);

    // Next time the picker opens on the recent ones, the last one first.
    w.click(&mut a, "Emoji").await;
    assert!(w.find(&a, "🚀").is_none(), "the picker closed");
    w.click(&mut a, "Emoji").await;
    let party = w
        .find(&a, "🎉")
        .expect("recent 🎉")
        .visible_bounds()
        .unwrap();
    let rocket = w
        .find(&a, "🚀")
        .expect("recent 🚀")
        .visible_bounds()
        .unwrap();
    assert!(party.x < rocket.x && (party.y - rocket.y).abs() < 1.0);
    assert!(w.find(&a, "😀").is_none(), "recent ones, not the smileys");

    // And after a restart.
    drop(w);
    drop(a);
    let mut a = boot(&relay.http_url(), homes[0].path(), Language::EnUs).await;
    assert_eq!(a.settings.recent_emoji, vec!["🎉", "🚀"]);
    let _ea = attach(&mut a).await;
    let mut w = Window::new(&mut a, 1280.0, 800.0);
    w.click(&mut a, "ben").await;
    w.click(&mut a, "Emoji").await;
    let party = w
        .find(&a, "🎉")
        .expect("recent 🎉")
        .visible_bounds()
        .unwrap();
    let rocket = w
        .find(&a, "🚀")
        .expect("recent 🚀")
        .visible_bounds()
        .unwrap();
    assert!(party.x < rocket.x);
}

#[tokio::test]
async fn tab_and_shift_tab_walk_the_register_form() {
    let (relay, _rd) = relay().await;
    let home = tempfile::tempdir().unwrap();
    let mut app = boot(&relay.http_url(), home.path(), Language::EnUs).await;
    assert!(matches!(app.screen, Screen::Login(_)));
    let mut w = Window::new(&mut app, 1000.0, 680.0);
    w.click(&mut app, "New here? Create an account").await;
    w.click(&mut app, "Account name").await;
    assert!(focused_is(&mut w, &app, "account"));
    let order = [
        "account",
        "password",
        "password2",
        "nickname",
        "email",
        "phone",
        "server",
    ];
    let tab = Key::Named(Named::Tab);
    for next in &order[1..] {
        w.tap(&mut app, tab.clone(), Modifiers::default()).await;
        assert!(
            focused_is(&mut w, &app, next),
            "Tab should reach {next}, focus is on {:?}",
            w.focused(&app)
        );
    }
    for previous in order[..order.len() - 1].iter().rev() {
        w.tap(&mut app, tab.clone(), Modifiers::SHIFT).await;
        assert!(
            focused_is(&mut w, &app, previous),
            "Shift+Tab should reach {previous}, focus is on {:?}",
            w.focused(&app)
        );
    }
    // Typing after Tab goes into the next field: the whole form by keyboard.
    let password = "carol-long-password";
    w.type_text(&mut app, "carol").await;
    for words in [password, password, "Carol"] {
        w.tap(&mut app, tab.clone(), Modifiers::default()).await;
        w.type_text(&mut app, words).await;
    }
    w.tap(&mut app, Key::Named(Named::Enter), Modifiers::default())
        .await;
    assert!(
        matches!(app.screen, Screen::Main(_)),
        "registered and signed in by keyboard alone"
    );
    let me = app.store().unwrap().account().await.unwrap().unwrap();
    assert_eq!(me.profile.user.account, "carol");
    assert_eq!(me.profile.user.nickname, "Carol", "typed after three Tabs");
    assert!(app.title().contains("Carol"));
}

#[tokio::test]
async fn tab_walks_the_sign_in_form_and_enter_signs_in() {
    let (relay, _rd) = relay().await;
    natter_net::client::register(
        &relay.http_url(),
        &natter_proto::rest::RegisterRequest {
            account: "dana".into(),
            password: "dana-long-password".into(),
            nickname: "Dana".into(),
            email: None,
            phone: None,
            avatar: None,
        },
    )
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut app = boot(&relay.http_url(), home.path(), Language::EnUs).await;
    let mut w = Window::new(&mut app, 1000.0, 680.0);
    w.click(&mut app, "Account name, e-mail or phone").await;
    let tab = Key::Named(Named::Tab);
    for (next, shift) in [
        ("password", false),
        ("server", false),
        ("password", true),
        ("account", true),
    ] {
        let modifiers = if shift {
            Modifiers::SHIFT
        } else {
            Modifiers::default()
        };
        w.tap(&mut app, tab.clone(), modifiers).await;
        assert!(
            focused_is(&mut w, &app, next),
            "Tab (shift: {shift}) should reach {next}, focus is on {:?}",
            w.focused(&app)
        );
    }
    w.type_text(&mut app, "dana").await;
    w.tap(&mut app, tab, Modifiers::default()).await;
    w.type_text(&mut app, "dana-long-password").await;
    w.tap(&mut app, Key::Named(Named::Enter), Modifiers::default())
        .await;
    assert!(
        matches!(app.screen, Screen::Main(_)),
        "signed in by keyboard alone"
    );
    assert!(app.title().contains("Dana"));
}
