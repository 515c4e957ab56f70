//! Call flows through the app's screens with `iced_test`: two signed-in apps
//! against a real relay on 127.0.0.1:0 with real local databases, each with a
//! real phone whose media is bound to 127.0.0.1 and sends the test tone and
//! pattern. The harness does what the iced runtime would: it runs the tasks
//! `update` returns and feeds the session's and the phone's events in.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use iced::futures::StreamExt;
use natter::app::{App, Flags, Message, Screen};
use natter::screen::main::{self, call};
use natter_i18n::Language;
use natter_media::phone::PhoneEvent;
use natter_media::{AudioSink, AudioSource, MediaConfig, VideoSource};
use natter_proto::model::{ConversationId, MessageBody};
use natter_server::{Config, Relay};

mod support;
use support::*;
use tokio::sync::mpsc;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_call_accepted_shows_video_then_both_chats_record_it() {
    let (relay, _rd) = relay().await;
    let (mut a, mut b, conv) = friends(&relay).await;

    // Amy video-calls Bob from the chat header.
    interact(&mut a.app, |ui| {
        ui.click("Video call").unwrap();
    })
    .await;
    assert!(
        shows(&a.app, "Calling bob…"),
        "the outgoing call view: {:?}",
        the_call(&a.app).map(|c| &c.stage)
    );
    assert!(shows(&a.app, "Cancel"));

    // Bob sees the incoming dialog wherever he is, and a ring was asked for.
    let rings = natter::sound::rings();
    pump(&mut a, &mut b, "the incoming dialog", |_, b| {
        shows(b, "amy is calling…")
    })
    .await;
    assert!(natter::sound::rings() > rings, "the ringtone");
    assert!(shows(&b.app, "▶ Video call"));
    pump(&mut a, &mut b, "ringing", |a, _| shows(a, "Ringing…")).await;
    interact(&mut b.app, |ui| {
        ui.click("Accept").unwrap();
    })
    .await;

    // Both reach the in-call view.
    pump(&mut a, &mut b, "connected", |a, b| {
        the_call(a).is_some_and(|c| c.is_connected())
            && the_call(b).is_some_and(|c| c.is_connected())
    })
    .await;
    for side in [&a, &b] {
        assert!(shows(&side.app, "Hang up"));
        assert!(shows(&side.app, "Mute"));
        assert!(shows(&side.app, "Camera off"));
        assert!(shows(&side.app, "Share screen"));
    }
    // Bob's chat with Amy opened beside the call and is usable.
    assert!(shows(&b.app, "Send"), "the chat beside the call");

    // The chat stays usable during the call: a message goes both ways.
    interact(&mut a.app, |ui| {
        ui.click(iced_test::selector::id("composer")).unwrap();
        let _ = ui.typewrite("still there?");
        let _ = ui.tap_key(iced::keyboard::key::Named::Enter);
    })
    .await;
    pump(&mut a, &mut b, "a message during the call", |_, b| {
        shows(b, "still there?")
    })
    .await;
    assert!(the_call(&b.app).unwrap().is_connected());

    // Amy's picture reaches Bob's view, paced, latest frame winning.
    let slot = b.handle.remote_video().await.expect("a video slot");
    let mut frames = Box::pin(call::frames(slot));
    for _ in 0..3 {
        let frame = tokio::time::timeout(PATIENCE, frames.next())
            .await
            .expect("a remote frame")
            .unwrap();
        b.send(call::Message::Frame(call::Feed::Remote, frame))
            .await;
    }
    let seen = the_call(&b.app).unwrap();
    assert_eq!(seen.frames, 3);
    assert!(seen.remote.is_some());
    assert!(!shows(&b.app, "Waiting for video…"));

    // Bob's own camera (the pattern here) in the self-view.
    let own = b.handle.local_video().await.expect("a self-view slot");
    let frame = tokio::time::timeout(PATIENCE, Box::pin(call::frames(own)).next())
        .await
        .expect("a self-view frame")
        .unwrap();
    b.send(call::Message::Frame(call::Feed::Local, frame)).await;
    assert!(the_call(&b.app).unwrap().local.is_some());
    assert!(
        !shows(&b.app, "Your camera is off"),
        "the self-view tile is a picture"
    );
    // With more than one screen or window, Amy picks which to share.
    let choice = |target, name: &str| natter_media::source::screen::ScreenChoice {
        target,
        name: name.into(),
        width: 1920,
        height: 1080,
    };
    use natter_media::source::screen::ScreenTarget;
    a.send(call::Message::ScreensListed(Ok(vec![
        choice(ScreenTarget::Monitor(Some(1)), "HDMI-1"),
        choice(ScreenTarget::Window(7), "Quarterly report — Writer"),
    ])))
    .await;
    assert!(shows(&a.app, "Share which screen or window?"));
    assert!(shows(&a.app, "Quarterly report — Writer"));
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        snapshots(&mut a.app, std::path::Path::new(&dir), "call-share-picker");
    }
    a.send(call::Message::ShareCancelled).await;
    assert!(!shows(&a.app, "Share which screen or window?"));
    // Sharing replaces the camera; stopping brings the camera back.
    a.send(call::Message::ShareChosen(ScreenTarget::Monitor(None)))
        .await;
    assert!(shows(&a.app, "Stop sharing"));
    a.send(call::Message::StopSharing).await;
    assert!(shows(&a.app, "Share screen"));

    // The stats line fills in on the next tick.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    b.send(call::Message::Tick).await;
    assert!(
        the_call(&b.app).unwrap().stats.is_some(),
        "stats after a tick"
    );

    // Amy hangs up; both see the call end and the record in the chat.
    interact(&mut a.app, |ui| {
        ui.click("Hang up").unwrap();
    })
    .await;
    pump(&mut a, &mut b, "the end", |a, b| {
        [a, b].iter().all(|app| {
            the_call(app)
                .is_some_and(|c| matches!(c.stage, call::Stage::Ended(call::Ending::Completed(_))))
        })
    })
    .await;
    let (ra, rb) = records_shown(&mut a, &mut b, conv).await;
    assert!(ra.starts_with("▶ Video call · "), "{ra}");
    assert_eq!(ra, rb);
    // "Call ended · 0:01" with the record's duration.
    let ended = ra.replace("▶ Video call", "Call ended");
    assert!(
        shows(&a.app, &ended) || the_call(&a.app).is_none(),
        "{ended}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_voice_call_is_recorded_on_both_sides() {
    let (relay, _rd) = relay().await;
    let (mut a, mut b, conv) = friends(&relay).await;
    interact(&mut a.app, |ui| {
        ui.click("Voice call").unwrap();
    })
    .await;
    pump(&mut a, &mut b, "the incoming dialog", |_, b| {
        shows(b, "amy is calling…")
    })
    .await;
    interact(&mut b.app, |ui| {
        ui.click("Decline").unwrap();
    })
    .await;
    assert!(shows(&b.app, "Declined"));
    pump(&mut a, &mut b, "declined", |a, _| shows(a, "Declined")).await;
    // Bob closes the short "ended" state and opens the chat to see the record
    // there too.
    b.send(call::Message::Dismiss).await;
    interact(&mut b.app, |ui| {
        ui.click("amy").unwrap();
    })
    .await;
    let (ra, rb) = records_shown(&mut a, &mut b, conv).await;
    assert_eq!(ra, "☎ Declined");
    assert_eq!(rb, "☎ Declined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_call_cancelled_while_ringing_is_a_missed_call_for_the_callee() {
    let (relay, _rd) = relay().await;
    let (mut a, mut b, conv) = friends(&relay).await;
    interact(&mut a.app, |ui| {
        ui.click("Voice call").unwrap();
    })
    .await;
    pump(&mut a, &mut b, "the incoming dialog", |_, b| {
        shows(b, "amy is calling…") && shows(b, "☎ Voice call")
    })
    .await;
    interact(&mut a.app, |ui| {
        ui.click("Cancel").unwrap();
    })
    .await;
    pump(&mut a, &mut b, "cancelled on both sides", |a, b| {
        shows(a, "Cancelled") && shows(b, "Cancelled")
    })
    .await;
    b.send(call::Message::Dismiss).await;
    assert!(the_call(&b.app).is_none(), "the strip is gone");
    interact(&mut b.app, |ui| {
        ui.click("amy").unwrap();
    })
    .await;
    let (ra, rb) = records_shown(&mut a, &mut b, conv).await;
    assert_eq!(ra, "☎ Cancelled");
    assert_eq!(rb, "☎ Cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_choose_test_sources_for_calls() {
    let (relay, _rd) = relay().await;
    let mut a = Side::new(&relay, "amy").await;
    interact(&mut a.app, |ui| {
        ui.click("Settings").unwrap();
    })
    .await;
    assert!(shows(&a.app, "Calls"));
    assert!(shows(&a.app, "Microphone"));
    assert!(shows(&a.app, "Camera"));
    assert!(!a.app.settings.devices.synthetic);
    interact(&mut a.app, |ui| {
        // The switch sits just under the "Calls" heading (a toggler's label is
        // not a text widget the selectors can find).
        let heading = ui.find("Calls").unwrap();
        let b = heading.visible_bounds().unwrap_or(heading.bounds());
        ui.point_at(iced::Point::new(b.x + 12.0, b.y + b.height + 8.0 + 10.0));
        let _ = ui.simulate(iced_test::simulator::click());
    })
    .await;
    assert!(a.app.settings.devices.synthetic, "saved in the settings");
    let saved: natter::app::Settings = a
        .app
        .store()
        .unwrap()
        .setting("settings")
        .await
        .unwrap()
        .unwrap();
    assert!(saved.devices.synthetic, "written to the profile's store");
    let config = call::media_config(&saved.devices);
    assert!(matches!(config.video_source, VideoSource::Pattern { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_call_is_no_answer_for_the_caller_and_missed_for_the_callee() {
    let (relay, _rd) = relay_ringing_for(2_000).await;
    let (mut a, mut b, conv) = friends(&relay).await;
    interact(&mut a.app, |ui| {
        ui.click("Video call").unwrap();
    })
    .await;
    pump(&mut a, &mut b, "the incoming dialog", |_, b| {
        shows(b, "amy is calling…")
    })
    .await;
    // Nobody answers; the relay gives up after its ring timeout.
    pump(&mut a, &mut b, "the ring timeout", |a, b| {
        shows(a, "No answer") && shows(b, "Missed call")
    })
    .await;
    b.send(call::Message::Dismiss).await;
    // Bob's conversation list says so before he opens the chat.
    pump(&mut a, &mut b, "the missed call in Bob's list", |_, b| {
        shows(b, "▶ Missed video call")
    })
    .await;
    interact(&mut b.app, |ui| {
        ui.click("amy").unwrap();
    })
    .await;
    let (ra, rb) = records_shown(&mut a, &mut b, conv).await;
    assert_eq!(ra, "▶ No answer");
    assert_eq!(rb, "▶ Missed video call");
}

/// The call strip's states in words, driven by the phone's events alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_states_in_words_from_phone_events() {
    use natter_proto::call::EndReason;
    use natter_proto::model::CallMedia;
    let (relay, _rd) = relay().await;
    let (mut a, b, conv) = friends(&relay).await;
    let bob = b.client.me();
    let event = |e: PhoneEvent| call::Message::Phone(call::Update::Event(e));
    let incoming = |id: &str, media| {
        event(PhoneEvent::Incoming {
            call_id: id.into(),
            conversation: conv,
            from: bob,
            media,
        })
    };
    let ended = |id: &str, reason, duration_ms| {
        event(PhoneEvent::Ended {
            call_id: id.into(),
            reason,
            duration_ms,
        })
    };

    a.send(incoming("x", CallMedia::Audio)).await;
    assert!(shows(&a.app, "bob is calling…"));
    assert!(shows(&a.app, "☎ Voice call"));
    a.send(ended("x", EndReason::AnsweredElsewhere, 0)).await;
    assert!(shows(&a.app, "Answered on another device"));
    a.send(call::Message::Dismiss).await;
    assert!(the_call(&a.app).is_none());

    a.send(incoming("y", CallMedia::Audio)).await;
    a.send(ended("y", EndReason::ConnectionLost, 0)).await;
    assert!(shows(&a.app, "Connection lost"));
    a.send(call::Message::Dismiss).await;

    a.send(incoming("z", CallMedia::Video)).await;
    a.send(event(PhoneEvent::Connecting {
        call_id: "z".into(),
    }))
    .await;
    assert!(shows(&a.app, "Connecting…"));
    a.send(event(PhoneEvent::Connected {
        call_id: "z".into(),
    }))
    .await;
    assert!(shows(&a.app, "0:00"), "the duration starts");
    assert!(shows(&a.app, "Waiting for video…"));
    assert!(shows(&a.app, "RTT — ms · loss —% · ↓ — kbps · ↑ — kbps"));
    a.send(event(PhoneEvent::Problem {
        call_id: "z".into(),
        message: "camera: no camera found".into(),
    }))
    .await;
    assert!(shows(
        &a.app,
        "⚠ A device could not be used: camera: no camera found"
    ));
    // Another call's end changes nothing.
    a.send(ended("other", EndReason::Completed, 5_000)).await;
    assert!(the_call(&a.app).unwrap().is_connected());
    a.send(call::Message::ToggleMute).await;
    assert!(shows(&a.app, "Unmute"));
    a.send(call::Message::ToggleCamera).await;
    assert!(shows(&a.app, "Camera on"));
    assert!(shows(&a.app, "Your camera is off"));
    a.send(ended("z", EndReason::Completed, 151_000)).await;
    assert!(shows(&a.app, "Call ended · 2:31"));
    // The ended state goes by itself after a few seconds.
    a.send(call::Message::Tick).await;
    assert!(the_call(&a.app).is_some());
    tokio::time::sleep(call::ENDED_FOR + Duration::from_millis(100)).await;
    a.send(call::Message::Tick).await;
    assert!(the_call(&a.app).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_someone_already_in_a_call_is_busy() {
    let (relay, _rd) = relay().await;
    let (mut a, mut b, _) = friends(&relay).await;
    let mut c = Side::new(&relay, "cat").await;
    let conv_bc = befriend(&c, &b).await;

    // Amy and Bob are talking.
    interact(&mut a.app, |ui| {
        ui.click("Voice call").unwrap();
    })
    .await;
    pump(&mut a, &mut b, "the incoming dialog", |_, b| {
        shows(b, "Accept")
    })
    .await;
    interact(&mut b.app, |ui| {
        ui.click("Accept").unwrap();
    })
    .await;
    pump(&mut a, &mut b, "connected", |a, b| {
        the_call(a).is_some_and(|c| c.is_connected())
            && the_call(b).is_some_and(|c| c.is_connected())
    })
    .await;

    // Cat calls Bob and hears he is busy; Amy and Bob talk on.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !shows(&c.app, "bob") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Cat's chat with Bob"
        );
        c.step(Duration::from_millis(20)).await;
    }
    interact(&mut c.app, |ui| {
        ui.click("bob").unwrap();
    })
    .await;
    interact(&mut c.app, |ui| {
        ui.click("Voice call").unwrap();
    })
    .await;
    while !shows(&c.app, "Busy") {
        assert!(tokio::time::Instant::now() < deadline, "busy");
        c.step(Duration::from_millis(10)).await;
        a.step(Duration::from_millis(1)).await;
        b.step(Duration::from_millis(1)).await;
    }
    while record_text(&c, conv_bc).await.as_deref() != Some("☎ Busy") || !shows(&c.app, "☎ Busy")
    {
        assert!(tokio::time::Instant::now() < deadline, "the busy record");
        c.step(Duration::from_millis(20)).await;
    }
    assert!(the_call(&a.app).unwrap().is_connected());
    assert!(the_call(&b.app).unwrap().is_connected());
}

impl Side {
    async fn group(&mut self, message: main::group_call::Message) {
        let task = self
            .app
            .update(Message::Main(main::Message::GroupCall(message)));
        drive(&mut self.app, task).await;
    }
}

/// Feeds every side's events (and the group call's ticks) until `until` holds.
async fn pump_all(sides: &mut [&mut Side], what: &str, until: impl Fn(&[&mut Side]) -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !until(sides) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            sides
                .iter()
                .map(|s| {
                    let m = main_of(&s.app);
                    (
                        m.group_call()
                            .map(|c| (c.participants().len(), c.pictured(), c.is_connected())),
                        m.group_calls().values().cloned().collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        );
        for side in sides.iter_mut() {
            side.step(Duration::from_millis(10)).await;
            side.group(main::group_call::Message::Tick).await;
        }
    }
}

/// A group call from the group's header: Amy starts it, Bob's header offers to
/// join while it rings, both see each other's picture in the strip, Cat sees
/// who is in it; the last one to leave ends it with one record.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_call_from_the_header() {
    let (relay, _dir) = relay().await;
    let mut amy = Side::new(&relay, "amy").await;
    let mut bob = Side::new(&relay, "bob").await;
    let mut cat = Side::new(&relay, "cat").await;
    befriend(&amy, &bob).await;
    befriend(&amy, &cat).await;
    let token = amy.client.token().await.unwrap();
    let team = amy
        .client
        .http()
        .create_group(&token, "team", vec![bob.client.me(), cat.client.me()])
        .await
        .unwrap()
        .id;
    for (side, width) in [(&mut amy, 240), (&mut bob, 320)] {
        let Screen::Main(main) = &mut side.app.screen else {
            panic!("signed in")
        };
        main.use_media_for_group_calls(MediaConfig {
            audio_source: AudioSource::Tone { hz: 440.0 },
            video_source: VideoSource::Pattern {
                width,
                height: width * 3 / 4,
                fps: 15,
            },
            audio_sink: AudioSink::Discard,
            ..MediaConfig::synthetic()
        });
    }
    pump_all(&mut [&mut amy, &mut bob, &mut cat], "the group", |s| {
        s.iter().all(|s| shows(&s.app, "team"))
    })
    .await;
    for side in [&mut amy, &mut bob, &mut cat] {
        interact(&mut side.app, |ui| {
            ui.click("team").unwrap();
        })
        .await;
    }
    interact(&mut amy.app, |ui| {
        ui.click("Start a group video call").unwrap();
    })
    .await;
    pump_all(
        &mut [&mut amy, &mut bob, &mut cat],
        "the call ringing",
        |s| shows(&s[0].app, "Leave") && shows(&s[1].app, "Incoming group call · Join (1)"),
    )
    .await;
    interact(&mut bob.app, |ui| {
        ui.click("Incoming group call · Join (1)").unwrap();
    })
    .await;
    pump_all(
        &mut [&mut amy, &mut bob, &mut cat],
        "pictures both ways",
        |s| {
            [&s[0], &s[1]].iter().all(|side| {
                main_of(&side.app).group_call().is_some_and(|c| {
                    c.participants().len() == 2 && c.pictured() == 2 && c.is_connected()
                })
            }) && shows(&s[2].app, "Incoming group call · Join (2)")
        },
    )
    .await;
    assert!(shows(&amy.app, "In the group call · 2 taking part"));
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        let dir = std::path::Path::new(&dir);
        snapshots(&mut amy.app, dir, "group-call");
        snapshots(&mut cat.app, dir, "group-call-join");
    }
    assert!(shows(&bob.app, "amy"));
    assert!(main_of(&cat.app).group_calls().contains_key(&team));

    for side in [&mut bob, &mut amy] {
        interact(&mut side.app, |ui| {
            ui.click("Leave").unwrap();
        })
        .await;
    }
    pump_all(&mut [&mut amy, &mut bob, &mut cat], "the call over", |s| {
        s.iter().all(|side| {
            let m = main_of(&side.app);
            m.group_call().is_none() && m.group_calls().is_empty()
        })
    })
    .await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let messages = cat.client.store().history(team, None, 20).await.unwrap();
        if let Some(participants) = messages.iter().find_map(|m| match &m.body {
            MessageBody::Call { participants, .. } => Some(participants.clone()),
            _ => None,
        }) {
            assert_eq!(participants, vec![amy.client.me(), bob.client.me()]);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no call record");
        cat.step(Duration::from_millis(20)).await;
    }
}
