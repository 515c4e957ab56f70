//! Call flows through the app's screens with `iced_test`: two signed-in apps
//! against a real relay on 127.0.0.1:0 with real local databases, each with a
//! real phone whose media is bound to 127.0.0.1 and sends the test tone and
//! pattern. The harness does what the iced runtime would: it runs the tasks
//! `update` returns and feeds the session's and the phone's events in.

#![allow(clippy::unwrap_used, missing_docs)]

mod group;
mod one_to_one;

use std::time::Duration;

use iced::futures::StreamExt;
use natter::app::{App, Flags, Message, Screen};
use natter::screen::main::{self, call};
use natter_i18n::Language;
use natter_media::phone::PhoneEvent;
use natter_media::{AudioSink, AudioSource, MediaConfig, VideoSource};
use natter_proto::model::{ConversationId, MessageBody};
use natter_server::{Config, Relay};

#[path = "../support/mod.rs"]
mod support;
use support::*;
use tokio::sync::mpsc;

/// The window's height in the layout checks.
const WINDOW_HEIGHT: f32 = 680.0;

/// Where the first text starting with `part` is drawn, in a window `width`
/// wide and [`WINDOW_HEIGHT`] high (the app is told the window's width).
fn text_bounds(app: &mut App, width: f32, part: &str) -> Option<iced::Rectangle> {
    use iced_test::selector::Candidate;
    let _ = app.update(Message::Resized(width));
    let mut ui = iced_test::Simulator::with_size(
        iced_test::core::Settings::default(),
        (width, WINDOW_HEIGHT),
        app.view(),
    );
    // A button's tooltip holds its words too, drawn nowhere (zero size):
    // the text drawn wins.
    let mut find = |drawn: bool| {
        ui.find(|c: Candidate<'_>| match c {
            Candidate::Text {
                content, bounds, ..
            } if content.starts_with(part) && (!drawn || bounds.width > 0.0) => Some(bounds),
            _ => None,
        })
        .ok()
    };
    find(true).or_else(|| find(false))
}

/// Where the call strip is, in a window `width` wide.
fn strip_bounds(app: &mut App, width: f32) -> Option<iced::Rectangle> {
    let _ = app.update(Message::Resized(width));
    let mut ui = iced_test::Simulator::with_size(
        iced_test::core::Settings::default(),
        (width, WINDOW_HEIGHT),
        app.view(),
    );
    ui.find(iced_test::selector::id(call::view::STRIP_ID))
        .ok()
        .map(|t| t.bounds())
}

fn the_call(app: &App) -> Option<&call::Call> {
    main_of(app).call()
}

/// One signed-in app with its session and phone events.
struct Side {
    app: App,
    session: natter_net::Events,
    phone: mpsc::UnboundedReceiver<PhoneEvent>,
    handle: natter_media::phone::Phone,
    client: natter_net::Client,
    _home: tempfile::TempDir,
}

impl Side {
    async fn new(relay: &Relay, account: &str) -> Side {
        let home = tempfile::tempdir().unwrap();
        let (mut app, task) = App::new(Flags {
            profile: "p".into(),
            data_home: home.path().to_path_buf(),
            server: Some(relay.http_url()),
            language: Some(Language::EnUs),
        });
        drive(&mut app, task).await;
        let password = format!("{account}-long-password");
        natter_net::client::register(
            &relay.http_url(),
            &natter_proto::rest::RegisterRequest {
                account: account.into(),
                password: password.clone(),
                nickname: account.into(),
                email: None,
                phone: None,
                avatar: None,
            },
        )
        .await
        .unwrap();
        // Sign in through the form, as a person would.
        interact(&mut app, |ui| {
            ui.click("Account name, e-mail or phone").unwrap();
            let _ = ui.typewrite(account);
            ui.click("Password").unwrap();
            let _ = ui.typewrite(&password);
            ui.click("Sign in").unwrap();
        })
        .await;
        assert!(matches!(app.screen, Screen::Main(_)), "signed in");
        let store = app.store().unwrap().clone();
        let (client, session) = natter_net::Client::resume(store).await.unwrap();
        let task = app.update(Message::Main(main::Message::Session(
            main::session::Update::Ready(client.clone()),
        )));
        drive(&mut app, task).await;
        // The phone the subscription would start, on loopback with the tone and
        // the test pattern.
        let media = MediaConfig {
            audio_source: AudioSource::Tone { hz: 440.0 },
            video_source: VideoSource::Pattern {
                width: 320,
                height: 240,
                fps: 15,
            },
            audio_sink: AudioSink::Discard,
            ..MediaConfig::synthetic()
        };
        let (handle, phone) = call::start(&client, media);
        let task = app.update(Message::Main(main::Message::Call(call::Message::Phone(
            call::Update::Ready(call::Handle(handle.clone())),
        ))));
        drive(&mut app, task).await;
        Side {
            app,
            session,
            phone,
            handle,
            client,
            _home: home,
        }
    }

    /// Applies one pending session or phone event, waiting at most `wait`.
    async fn step(&mut self, wait: Duration) {
        let message = tokio::select! {
            e = self.session.next() => {
                let Some(e) = e else { return };
                main::Message::Session(main::session::Update::Event(e))
            }
            e = self.phone.recv() => {
                let Some(e) = e else { return };
                main::Message::Call(call::Message::Phone(call::Update::Event(e)))
            }
            _ = tokio::time::sleep(wait) => return,
        };
        let task = self.app.update(Message::Main(message));
        drive(&mut self.app, task).await;
    }

    async fn send(&mut self, message: call::Message) {
        let task = self.app.update(Message::Main(main::Message::Call(message)));
        drive(&mut self.app, task).await;
    }
}

/// Feeds both sides' events until `until` holds for both.
async fn pump(a: &mut Side, b: &mut Side, what: &str, until: impl Fn(&App, &App) -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !until(&a.app, &b.app) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}; a: {:?}, b: {:?}",
            the_call(&a.app).map(|c| &c.stage),
            the_call(&b.app).map(|c| &c.stage),
        );
        a.step(Duration::from_millis(10)).await;
        b.step(Duration::from_millis(10)).await;
    }
}

async fn relay() -> (Relay, tempfile::TempDir) {
    relay_ringing_for(60_000).await
}

async fn relay_ringing_for(ms: u64) -> (Relay, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.call_ring_timeout_ms = ms;
    let relay = Relay::start(config).await.unwrap();
    (relay, dir)
}

/// `from` asks `to` to be friends over REST and `to` accepts; returns their
/// conversation.
async fn befriend(from: &Side, to: &Side) -> ConversationId {
    let (tf, tt) = (
        from.client.token().await.unwrap(),
        to.client.token().await.unwrap(),
    );
    let req = from
        .client
        .http()
        .send_friend_request(&tf, to.client.me(), "")
        .await
        .unwrap();
    to.client
        .http()
        .answer_friend_request(&tt, req.id, true)
        .await
        .unwrap();
    let friends = from.client.http().friends(&tf).await.unwrap().friends;
    friends
        .iter()
        .find(|f| f.user.id == to.client.me())
        .unwrap()
        .conversation
}

/// Amy and Bob, friends, with Amy's chat with Bob open.
async fn friends(relay: &Relay) -> (Side, Side, ConversationId) {
    let mut a = Side::new(relay, "amy").await;
    let mut b = Side::new(relay, "bob").await;
    let conv = befriend(&a, &b).await;
    pump(&mut a, &mut b, "the new conversation", |a, b| {
        shows(a, "bob") && shows(b, "amy")
    })
    .await;
    interact(&mut a.app, |ui| {
        ui.click("bob").unwrap();
    })
    .await;
    (a, b, conv)
}

/// The call record's words, from the store, as `record` puts them.
async fn record_text(side: &Side, conv: ConversationId) -> Option<String> {
    let messages = side.client.store().history(conv, None, 20).await.unwrap();
    let me = side.client.me();
    let i18n = natter_i18n::I18n::new(Language::EnUs).unwrap();
    messages.iter().rev().find_map(|m| match m.body {
        MessageBody::Call { .. } => call::record(&i18n, &m.body, m.sender == me).map(|r| r.0),
        _ => None,
    })
}

/// Waits until the call record reached both sides and both chats show it.
async fn records_shown(a: &mut Side, b: &mut Side, conv: ConversationId) -> (String, String) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let (Some(ra), Some(rb)) = (record_text(a, conv).await, record_text(b, conv).await)
            && shows(&a.app, &ra)
            && shows(&b.app, &rb)
        {
            return (ra, rb);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "call records not shown"
        );
        a.step(Duration::from_millis(20)).await;
        b.step(Duration::from_millis(20)).await;
    }
}
