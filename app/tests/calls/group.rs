//! A group call started from the group's header, through the relay's
//! forwarding unit.

use super::*;

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

/// A group call from the group's header: Amy starts it, Bob and Cat ring with
/// a banner, Cat declines and still may join from the header, Bob joins from
/// his header while it rings, both see each other's picture in the strip, a
/// mute shows on the muted one's tile, Cat sees who is in it; the last one to
/// leave ends it with one record.
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
    // Cat's window is in the background: the call asks for her attention.
    let _ = cat.app.update(Message::Focus(false));
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
    // Bob and Cat ring, with a banner naming who calls in which group.
    for side in [&bob, &cat] {
        assert!(shows(&side.app, "amy is calling in team…"));
        assert!(main_of(&side.app).group_call_rang());
    }
    assert!(!main_of(&amy.app).group_call_rang());
    assert_eq!(main_of(&cat.app).group_call_alerts(), 1);
    assert_eq!(
        main_of(&bob.app).group_call_alerts(),
        0,
        "bob's window has the focus"
    );
    let _ = cat.app.update(Message::Focus(true));
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        snapshots(
            &mut cat.app,
            std::path::Path::new(&dir),
            "group-call-ringing",
        );
    }
    // Cat declines: her banner goes, the header still offers to join.
    interact(&mut cat.app, |ui| {
        ui.click("Decline").unwrap();
    })
    .await;
    pump_all(&mut [&mut amy, &mut bob, &mut cat], "cat declined", |s| {
        !shows(&s[2].app, "amy is calling in team…") && shows(&s[2].app, "Join call (1)")
    })
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
            }) && shows(&s[2].app, "Join call (2)")
        },
    )
    .await;
    assert!(!shows(&bob.app, "amy is calling in team…"));
    // Bob mutes: Amy's tile of him says so, and unmuting clears it.
    interact(&mut bob.app, |ui| {
        ui.click("Mute").unwrap();
    })
    .await;
    pump_all(&mut [&mut amy, &mut bob, &mut cat], "bob muted", |s| {
        shows(&s[0].app, "bob · muted") && shows(&s[1].app, "You · muted")
    })
    .await;
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        snapshots(&mut amy.app, std::path::Path::new(&dir), "group-call-muted");
    }
    interact(&mut bob.app, |ui| {
        ui.click("Unmute").unwrap();
    })
    .await;
    pump_all(&mut [&mut amy, &mut bob, &mut cat], "bob unmuted", |s| {
        shows(&s[0].app, "bob") && !shows(&s[0].app, "bob · muted")
    })
    .await;
    assert!(shows(&amy.app, "In the group call · 2 taking part"));
    // The numbers: under the strip what Amy sends, on Bob's tile what
    // arrives from him; nothing claims a single received picture.
    pump_all(
        &mut [&mut amy, &mut bob, &mut cat],
        "the call's numbers",
        |s| {
            shows_part(&s[0].app, "Opus · H.264 · sending 240×180 · ")
                && shows_part(&s[0].app, " kbps · 320×240 · ")
        },
    )
    .await;
    assert!(!shows_part(&amy.app, "receiving"));
    if let Some(dir) = std::env::var_os("NATTER_SNAPSHOTS") {
        let dir = std::path::Path::new(&dir);
        snapshots(&mut amy.app, dir, "group-call");
        snapshots(&mut cat.app, dir, "group-call-join");
    }
    assert!(shows(&bob.app, "amy"));
    assert!(main_of(&cat.app).group_calls().contains_key(&team));
    // Cat, not in it, can see who is.
    assert!(shows(&cat.app, "In the call: amy, bob"));

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
