//! 1:1 calls: accepted, declined, cancelled, unanswered, busy, the test
//! sources in settings, and every state the phone reports in words.

use super::*;

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
    assert!(shows(&b.app, "📹 Video call"));
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
    assert!(ra.starts_with("📹 Video call · "), "{ra}");
    assert_eq!(ra, rb);
    // "Call ended · 0:01" with the record's duration.
    let ended = ra.replace("📹 Video call", "Call ended");
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
        shows(b, "📹 Missed video call")
    })
    .await;
    interact(&mut b.app, |ui| {
        ui.click("amy").unwrap();
    })
    .await;
    let (ra, rb) = records_shown(&mut a, &mut b, conv).await;
    assert_eq!(ra, "📹 No answer");
    assert_eq!(rb, "📹 Missed video call");
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
    assert!(shows(
        &a.app,
        "RTT — ms · jitter — ms · loss —% · ↓ — kbps · ↑ — kbps (path — kbps)"
    ));
    // The HUD's numbers once the call reports them.
    a.send(call::Message::Stats(Some(natter_media::CallStats {
        rtt: Some(Duration::from_millis(120)),
        jitter: Some(Duration::from_millis(8)),
        loss_fraction: 0.05,
        recv_bitrate_bps: 600_000.0,
        send_bitrate_bps: 700_000.0,
        target_bitrate_bps: Some(900_000.0),
        audio_codec: "Opus",
        video_codec: Some("H.264"),
        sent_video: Some(natter_media::VideoStats {
            width: 640,
            height: 360,
            fps: 15.0,
        }),
        received_video: Some(natter_media::VideoStats {
            width: 320,
            height: 180,
            fps: 12.2,
        }),
        ..Default::default()
    })))
    .await;
    assert!(shows(
        &a.app,
        "RTT 120 ms · jitter 8 ms · loss 5.0% · ↓ 600 kbps · ↑ 700 kbps (path 900 kbps)"
    ));
    assert!(shows(
        &a.app,
        "Opus · H.264 · sending 640×360 · 15 fps · receiving 320×180 · 12 fps"
    ));
    a.send(event(PhoneEvent::Problem {
        call_id: "z".into(),
        message: "camera: no camera found".into(),
    }))
    .await;
    assert!(shows(
        &a.app,
        "⚠ A device could not be used: camera: no camera found"
    ));
    // Three warnings, as on a machine without devices: every control stays
    // whole in the window, below the warnings, at every width.
    for message in [
        "microphone: no microphone found",
        "speaker: no usable format",
    ] {
        a.send(event(PhoneEvent::Problem {
            call_id: "z".into(),
            message: message.into(),
        }))
        .await;
    }
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        snapshots(&mut a.app, std::path::Path::new(&dir), "call-warnings");
    }
    for width in [1280.0, 795.0, 360.0] {
        let strip = strip_bounds(&mut a.app, width).expect("the call strip");
        let last_warning = text_bounds(&mut a.app, width, "⚠ A device could not be used: speaker")
            .unwrap_or_else(|| panic!("the third warning at {width} px"));
        for control in ["Mute", "Camera off", "Hang up"] {
            let b = text_bounds(&mut a.app, width, control)
                .unwrap_or_else(|| panic!("{control} at {width} px"));
            assert!(
                b.x >= 0.0 && b.x + b.width <= width && b.y + b.height <= WINDOW_HEIGHT,
                "{control} out of the window at {width} px: {b:?}"
            );
            assert!(
                b.y + b.height <= strip.y + strip.height,
                "{control} out of the call strip at {width} px: {b:?} / {strip:?}"
            );
            assert!(
                b.y >= last_warning.y + last_warning.height,
                "{control} over the warnings at {width} px: {b:?} / {last_warning:?}"
            );
        }
    }
    let _ = a.app.update(Message::Resized(1000.0));
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
