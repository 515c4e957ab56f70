//! Set-ups the flow tests share: a relay, apps booted on their own homes,
//! registering through the form, the live session attached and pumped, and
//! people who are already friends with their chat open.

use std::time::Duration;

use natter::app::{App, Flags, Message};
use natter::screen::main;
use natter_i18n::Language;
use natter_server::{Config, Relay};

use super::{drive, interact, shows};

pub async fn relay() -> (Relay, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(Config::for_tests(dir.path())).await.unwrap();
    (relay, dir)
}

pub async fn boot(server: &str, home: &std::path::Path, language: Language) -> App {
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
pub async fn register(app: &mut App, account: &str) {
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
pub async fn pump(app: &mut App, events: &mut natter_net::Events, until: impl Fn(&App) -> bool) {
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

pub async fn attach(app: &mut App) -> natter_net::Events {
    let store = app.store().unwrap().clone();
    let (client, events) = natter_net::Client::resume(store).await.unwrap();
    let task = app.update(Message::Main(main::Message::Session(
        main::session::Update::Ready(client),
    )));
    drive(app, task).await;
    events
}

/// Registers `accounts` on one relay, each in its own app with its live
/// session attached, and makes the first one friends with all the others.
pub async fn people(
    relay: &Relay,
    accounts: &[&str],
) -> (
    Vec<App>,
    Vec<natter_net::Events>,
    Vec<natter_store::Account>,
    Vec<tempfile::TempDir>,
) {
    people_at(relay, &relay.http_url(), accounts).await
}

/// [`people`] whose apps reach the relay at `server` (a proxy to it).
pub async fn people_at(
    relay: &Relay,
    server: &str,
    accounts: &[&str],
) -> (
    Vec<App>,
    Vec<natter_net::Events>,
    Vec<natter_store::Account>,
    Vec<tempfile::TempDir>,
) {
    let (mut apps, mut events, mut saved, mut homes) = (vec![], vec![], vec![], vec![]);
    for account in accounts {
        let home = tempfile::tempdir().unwrap();
        let mut app = boot(server, home.path(), Language::EnUs).await;
        register(&mut app, account).await;
        events.push(attach(&mut app).await);
        saved.push(app.store().unwrap().account().await.unwrap().unwrap());
        apps.push(app);
        homes.push(home);
    }
    let http = natter_net::http::Http::new(&relay.http_url()).unwrap();
    for other in &saved[1..] {
        let req = http
            .send_friend_request(&saved[0].access_token, other.profile.user.id, "")
            .await
            .unwrap();
        http.answer_friend_request(&other.access_token, req.id, true)
            .await
            .unwrap();
    }
    (apps, events, saved, homes)
}

/// Two friends, `x` and `y`, each in an app with their 1:1 chat open.
pub async fn two_in_chat(
    relay: &Relay,
    x: &str,
    y: &str,
) -> (
    App,
    natter_net::Events,
    App,
    natter_net::Events,
    Vec<tempfile::TempDir>,
) {
    two_in_chat_at(relay, &relay.http_url(), x, y).await
}

/// [`two_in_chat`] with apps that reach the relay at `server`.
pub async fn two_in_chat_at(
    relay: &Relay,
    server: &str,
    x: &str,
    y: &str,
) -> (
    App,
    natter_net::Events,
    App,
    natter_net::Events,
    Vec<tempfile::TempDir>,
) {
    let (mut apps, mut events, _saved, homes) = people_at(relay, server, &[x, y]).await;
    let (mut eb, mut ea) = (events.pop().unwrap(), events.pop().unwrap());
    let (mut b, mut a) = (apps.pop().unwrap(), apps.pop().unwrap());
    for (app, events, other) in [(&mut a, &mut ea, y), (&mut b, &mut eb, x)] {
        pump(app, events, |app| shows(app, other)).await;
        interact(app, |ui| {
            ui.click(other).unwrap();
        })
        .await;
    }
    (a, ea, b, eb, homes)
}

/// Signs in through the form with the password `register` gave `account`.
pub async fn sign_in(app: &mut App, account: &str) {
    let password = format!("{account}-long-password");
    interact(app, |ui| {
        ui.click("Account name, e-mail or phone").unwrap();
        let _ = ui.typewrite(account);
        ui.click("Password").unwrap();
        let _ = ui.typewrite(&password);
        ui.click("Sign in").unwrap();
    })
    .await;
    assert!(
        matches!(app.screen, natter::app::Screen::Main(_)),
        "{account} could not sign in"
    );
}
