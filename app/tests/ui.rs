//! Whole flows through the app's screens with `iced_test`, against a real relay
//! on 127.0.0.1:0 and real local databases in temp dirs. The harness runs the
//! tasks `update` returns, as the iced runtime would.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use iced::Task;
use iced::futures::StreamExt;
use iced_runtime::Action;
use iced_test::simulator;
use natter::app::{App, Flags, Message, Screen};
use natter::screen::{login, main};
use natter_i18n::Language;
use natter_server::{Config, Relay};

/// Runs `task` and everything its outputs lead to.
async fn drive(app: &mut App, task: Task<Message>) {
    let mut queue = vec![task];
    while let Some(task) = queue.pop() {
        let Some(mut stream) = iced_runtime::task::into_stream(task) else {
            continue;
        };
        while let Some(action) = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .unwrap()
        {
            if let Action::Output(message) = action {
                let next = app.update(message);
                queue.push(next);
            }
        }
    }
}

/// Clicks, types and taps on the current view, then applies the messages.
async fn interact(app: &mut App, f: impl FnOnce(&mut iced_test::Simulator<'_, Message>)) {
    let messages: Vec<Message> = {
        let view = app.view();
        let mut ui = simulator(view);
        f(&mut ui);
        ui.into_messages().collect()
    };
    for m in messages {
        let task = app.update(m);
        drive(app, task).await;
    }
}

fn shows(app: &App, text: &str) -> bool {
    simulator(app.view()).find(text).is_ok()
}

async fn relay() -> (Relay, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(Config::for_tests(dir.path())).await.unwrap();
    (relay, dir)
}

async fn boot(server: &str, home: &std::path::Path, language: Language) -> App {
    let (mut app, task) = App::new(Flags {
        profile: "p".into(),
        data_home: home.to_path_buf(),
        server: Some(server.into()),
        language: Some(language),
    });
    drive(&mut app, task).await;
    app
}

/// Registers through the form and signs in.
async fn register(app: &mut App, account: &str) {
    interact(app, |ui| {
        ui.click("New here? Create an account").unwrap();
    })
    .await;
    let password = format!("{account}-long-password");
    interact(app, |ui| {
        ui.click("Account name").unwrap();
        let _ = ui.typewrite(account);
        ui.click("Password").unwrap();
        let _ = ui.typewrite(&password);
        ui.click("Repeat password").unwrap();
        let _ = ui.typewrite(&password);
        ui.click("Create account").unwrap();
    })
    .await;
}

/// Starts the live session the subscription would start, and pumps its events
/// into the app until `until` holds.
async fn pump(app: &mut App, events: &mut natter_net::Events, until: impl Fn(&App) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !until(app) {
        let e = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("condition not reached")
            .unwrap();
        let task = app.update(Message::Main(main::Message::Session(
            main::session::Update::Event(e),
        )));
        drive(app, task).await;
    }
}

async fn attach(app: &mut App) -> natter_net::Events {
    let store = app.store().unwrap().clone();
    let (client, events) = natter_net::Client::resume(store).await.unwrap();
    let task = app.update(Message::Main(main::Message::Session(
        main::session::Update::Ready(client),
    )));
    drive(app, task).await;
    events
}

#[test]
fn login_screen_in_both_languages() {
    let mut app = App::for_login(Language::EnUs);
    assert!(shows(&app, "Sign in"));
    assert!(shows(&app, "Relay address"));
    let _ = app.update(Message::Login(login::Message::Language(Language::ZhCn)));
    assert!(shows(&app, "登录"));
    assert!(shows(&app, "服务器地址"));
    assert!(!shows(&app, "Sign in"));
    let _ = app.update(Message::Login(login::Message::Language(Language::EnUs)));
    assert!(shows(&app, "Sign in"));
}

#[tokio::test]
async fn register_sign_in_and_wrong_password_in_words() {
    let (relay, _rd) = relay().await;
    let home = tempfile::tempdir().unwrap();
    let mut app = boot(&relay.http_url(), home.path(), Language::EnUs).await;
    assert!(matches!(app.screen, Screen::Login(_)));
    // A wrong password is explained, not crashed on.
    interact(&mut app, |ui| {
        ui.click("Account name, e-mail or phone").unwrap();
        let _ = ui.typewrite("nobody");
        ui.click("Password").unwrap();
        let _ = ui.typewrite("not the password");
        ui.click("Sign in").unwrap();
    })
    .await;
    assert!(shows(&app, "Wrong account name or password."));
    drop(app);
    // Register, which signs in straight away.
    let mut app = boot(&relay.http_url(), home.path(), Language::EnUs).await;
    register(&mut app, "alice").await;
    assert!(
        matches!(app.screen, Screen::Main(_)),
        "signed in after registering"
    );
    assert!(app.title().contains("alice"));
    // The next start goes straight to the main window.
    drop(app);
    let app = boot(&relay.http_url(), home.path(), Language::ZhCn).await;
    assert!(matches!(app.screen, Screen::Main(_)));
    assert!(shows(&app, "消息"), "navigation in Chinese");
}

#[tokio::test]
async fn friend_request_accept_then_chat_both_ways() {
    let (relay, _rd) = relay().await;
    let (ha, hb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = boot(&relay.http_url(), ha.path(), Language::EnUs).await;
    let mut b = boot(&relay.http_url(), hb.path(), Language::ZhCn).await;
    register(&mut a, "amy").await;
    let _ = b.update(Message::Login(login::Message::Language(Language::EnUs)));
    register(&mut b, "bob").await;
    let mut ea = attach(&mut a).await;
    let mut eb = attach(&mut b).await;
    pump(&mut a, &mut ea, |_| true).await;

    // Amy finds Bob and sends a request.
    interact(&mut a, |ui| {
        ui.click("Contacts").unwrap();
    })
    .await;
    interact(&mut a, |ui| {
        ui.click("Account name, e-mail or phone").unwrap();
        let _ = ui.typewrite("bob");
        ui.click("Find").unwrap();
    })
    .await;
    assert!(shows(&a, "bob (@bob)"));
    interact(&mut a, |ui| {
        ui.click("Send request").unwrap();
    })
    .await;
    assert!(shows(&a, "Request sent."));

    // Bob sees it with a badge and accepts.
    pump(&mut b, &mut eb, |app| shows(app, "Contacts (1)")).await;
    interact(&mut b, |ui| {
        ui.click("Contacts (1)").unwrap();
    })
    .await;
    interact(&mut b, |ui| {
        ui.click("Accept").unwrap();
    })
    .await;
    pump(&mut a, &mut ea, |app| shows(app, "Message")).await;

    // Amy opens the chat and sends with Enter.
    interact(&mut a, |ui| {
        ui.click("Message").unwrap();
    })
    .await;
    interact(&mut a, |ui| {
        ui.click(iced_test::selector::id("composer")).unwrap();
        let _ = ui.typewrite("你好, Bob!");
        let _ = ui.tap_key(iced::keyboard::key::Named::Enter);
    })
    .await;
    pump(&mut a, &mut ea, |app| shows(app, "你好, Bob!")).await;
    // Bob gets it, with an unread badge in his list.
    interact(&mut b, |ui| {
        ui.click("Chats").unwrap();
    })
    .await;
    pump(&mut b, &mut eb, |app| {
        shows(app, "1") && shows(app, "你好, Bob!")
    })
    .await;
    interact(&mut b, |ui| {
        ui.click("amy").unwrap();
    })
    .await;
    assert!(shows(&b, "你好, Bob!"));
    // Pin and mute from the chat header; the list marks both.
    interact(&mut b, |ui| {
        ui.click("Pin").unwrap();
    })
    .await;
    interact(&mut b, |ui| {
        ui.click("Mute").unwrap();
    })
    .await;
    assert!(shows(&b, "Unpin") && shows(&b, "Unmute"));
    assert!(shows(&b, "📌") && shows(&b, "🔕"));
    let conv = b.store().unwrap().conversations().await.unwrap().remove(0);
    assert!(conv.pinned && conv.muted);
}

#[tokio::test]
async fn create_a_group_by_picking_friends_and_chat_in_it() {
    let (relay, _rd) = relay().await;
    let (ha, hb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = boot(&relay.http_url(), ha.path(), Language::EnUs).await;
    let mut b = boot(&relay.http_url(), hb.path(), Language::EnUs).await;
    register(&mut a, "cora").await;
    register(&mut b, "dan").await;
    let mut ea = attach(&mut a).await;
    let mut eb = attach(&mut b).await;
    // Make them friends over the REST API (the UI flow has its own test).
    let sa = a.store().unwrap().account().await.unwrap().unwrap();
    let sb = b.store().unwrap().account().await.unwrap().unwrap();
    let http = natter_net::http::Http::new(&relay.http_url()).unwrap();
    let req = http
        .send_friend_request(&sa.access_token, sb.profile.user.id, "")
        .await
        .unwrap();
    http.answer_friend_request(&sb.access_token, req.id, true)
        .await
        .unwrap();
    interact(&mut a, |ui| {
        ui.click("Groups").unwrap();
    })
    .await;
    pump(&mut a, &mut ea, |app| shows(app, "dan")).await;
    interact(&mut a, |ui| {
        ui.click("Group name").unwrap();
        let _ = ui.typewrite("周末徒步");
        ui.click("dan").unwrap();
        ui.click("New group").unwrap();
    })
    .await;
    pump(&mut a, &mut ea, |app| shows(app, "2 members")).await;
    // Dan is told and finds the group in his list.
    pump(&mut b, &mut eb, |app| shows(app, "周末徒步")).await;
    interact(&mut a, |ui| {
        ui.click("Message").unwrap();
    })
    .await;
    interact(&mut a, |ui| {
        ui.click(iced_test::selector::id("composer")).unwrap();
        let _ = ui.typewrite("8点集合");
        let _ = ui.tap_key(iced::keyboard::key::Named::Enter);
    })
    .await;
    pump(&mut b, &mut eb, |app| shows(app, "8点集合")).await;
}
