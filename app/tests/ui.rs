//! Whole flows through the app's screens with `iced_test`, against a real relay
//! on 127.0.0.1:0 and real local databases in temp dirs. The harness runs the
//! tasks `update` returns, as the iced runtime would.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use natter::app::{App, Message, Screen};
use natter::screen::{login, main};
use natter_i18n::Language;

mod support;
use support::*;

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
    // The group's preview in the list says who wrote it.
    assert!(shows(&b, "cora:"));
    pump(&mut a, &mut ea, |app| shows(app, "You:")).await;
}

#[tokio::test]
async fn group_info_invite_rename_remove_and_disband() {
    let (relay, _rd) = relay().await;
    let (mut apps, mut events, saved, _homes) = people(&relay, &["owen", "bea", "cal"]).await;
    let http = natter_net::http::Http::new(&relay.http_url()).unwrap();
    http.create_group(
        &saved[0].access_token,
        "Hike",
        vec![saved[1].profile.user.id],
    )
    .await
    .unwrap();
    let [a, b, c] = &mut apps[..] else {
        unreachable!()
    };
    let [ea, eb, ec] = &mut events[..] else {
        unreachable!()
    };

    // The owner opens the group from the list and its info from the header.
    pump(a, ea, |app| shows(app, "Hike") && shows(app, "cal")).await;
    interact(a, |ui| {
        ui.click("Hike").unwrap();
    })
    .await;
    interact(a, |ui| {
        ui.click("Group info").unwrap();
    })
    .await;
    assert!(shows(a, "owen (you)") && shows(a, "Owner"));
    assert!(shows(a, "Member") && shows(a, "2 members"));
    assert!(shows(a, "Disband group"));

    // Invite the friend who is not in yet.
    interact(a, |ui| {
        ui.click("☐ cal").unwrap();
    })
    .await;
    interact(a, |ui| {
        ui.click("Invite").unwrap();
    })
    .await;
    assert!(shows(a, "Invitation sent."));
    pump(a, ea, |app| shows(app, "3 members")).await;
    pump(c, ec, |app| shows(app, "Hike")).await;
    assert!(shows(a, "All your friends are already in this group."));
    // The newcomer opens the panel too: an ordinary member may not rename,
    // remove or disband.
    pump(c, ec, |app| {
        main_of(app).group_info_open().is_none() && shows(app, "Hike")
    })
    .await;
    interact(c, |ui| {
        ui.click("Hike").unwrap();
    })
    .await;
    pump(c, ec, |app| shows(app, "Group info")).await;
    interact(c, |ui| {
        ui.click("Group info").unwrap();
    })
    .await;
    assert!(shows(c, "cal (you)") && shows(c, "3 members"));
    assert!(shows(c, "No announcement yet."));
    assert!(!shows(c, "Rename") && !shows(c, "Remove") && !shows(c, "Disband group"));
    assert!(shows(c, "Leave group"));

    // Rename: every member's list follows.
    interact(a, |ui| {
        ui.click(iced_test::selector::id("group-info-name"))
            .unwrap();
        let _ = ui.tap_key(iced::keyboard::key::Named::End);
        let _ = ui.typewrite(" club");
        ui.click("Rename").unwrap();
    })
    .await;
    assert!(shows(a, "Group renamed."));
    pump(a, ea, |app| {
        main_of(app).group_info_open().is_some() && shows(app, "Hike club")
    })
    .await;
    pump(b, eb, |app| shows(app, "Hike club")).await;
    pump(c, ec, |app| shows(app, "Hike club")).await;

    // An announcement shows in the panel and under every member's chat header.
    interact(a, |ui| {
        ui.click("Something every member should see").unwrap();
        let _ = ui.typewrite("Saturday 8:00");
        ui.click("Save").unwrap();
    })
    .await;
    assert!(shows(a, "Announcement saved."));
    pump(c, ec, |app| {
        shows(app, "Saturday 8:00") && shows(app, "Announcement: Saturday 8:00")
    })
    .await;

    // Remove bea (the first member the owner may remove); she is told.
    interact(a, |ui| {
        ui.click("Remove").unwrap();
    })
    .await;
    assert!(shows(a, "bea was removed from the group."));
    pump(a, ea, |app| shows(app, "2 members")).await;
    pump(b, eb, |app| shows(app, "You were removed from Hike club.")).await;
    // The member's open panel follows.
    pump(c, ec, |app| shows(app, "2 members")).await;
    interact(b, |ui| {
        ui.click("Groups").unwrap();
    })
    .await;
    assert!(!shows(b, "Hike club"), "the group is gone from her groups");

    // Disband, through the confirm step; cal is told.
    interact(a, |ui| {
        ui.click("Disband group").unwrap();
    })
    .await;
    assert!(shows(
        a,
        "Disband Hike club for everyone? This cannot be undone."
    ));
    interact(a, |ui| {
        ui.click("Disband").unwrap();
    })
    .await;
    assert!(main_of(a).group_info_open().is_none());
    assert!(shows(a, "Hike club was disbanded."));
    pump(c, ec, |app| shows(app, "Hike club was disbanded.")).await;
    assert!(main_of(c).group_info_open().is_none(), "the panel closed");
    assert!(shows(c, "This conversation is closed."));
    assert!(c.store().unwrap().groups().await.unwrap().is_empty());
    let conv = c.store().unwrap().conversations().await.unwrap();
    assert!(conv.iter().any(|x| x.title == "Hike club" && x.closed));
}

#[tokio::test]
async fn nickname_change_is_saved_and_friends_see_it() {
    let (relay, _rd) = relay().await;
    let (mut apps, mut events, saved, _homes) = people(&relay, &["amy", "ben"]).await;
    let [a, b] = &mut apps[..] else {
        unreachable!()
    };
    let [_, eb] = &mut events[..] else {
        unreachable!()
    };
    interact(a, |ui| {
        ui.click("Settings").unwrap();
    })
    .await;
    interact(a, |ui| {
        ui.click(iced_test::selector::id("nickname")).unwrap();
        let _ = ui.tap_key(iced::keyboard::key::Named::End);
        let _ = ui.typewrite(" 李");
        ui.click("Save").unwrap();
    })
    .await;
    assert!(shows(a, "Saved."));
    assert!(shows(a, "amy 李 (@amy)"));
    assert!(a.title().contains("amy 李"));
    let http = natter_net::http::Http::new(&relay.http_url()).unwrap();
    let me = http.me(&saved[0].access_token).await.unwrap();
    assert_eq!(me.user.nickname, "amy 李");
    // The friend's conversation list follows through the live session.
    pump(b, eb, |app| shows(app, "amy 李")).await;
}

#[tokio::test]
async fn avatar_upload_from_a_picked_file() {
    let (relay, _rd) = relay().await;
    let (mut apps, _events, saved, _homes) = people(&relay, &["ava"]).await;
    let a = &mut apps[0];
    let dir = tempfile::tempdir().unwrap();
    // Not a picture: explained, nothing uploaded.
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not a picture").unwrap();
    let task = a.update(Message::Main(main::Message::Settings(
        main::settings::Message::AvatarPicked(Some(junk)),
    )));
    drive(a, task).await;
    assert!(shows(
        a,
        "That file is not a picture Natter can read (PNG or JPEG, up to 20 MB)."
    ));
    assert!(main_of(a).profile().user.avatar.is_none());
    interact(a, |ui| {
        ui.click("Settings").unwrap();
    })
    .await;
    // A real picture, as the file dialog would hand it over.
    let path = dir.path().join("me.png");
    image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .save(&path)
    .unwrap();
    let task = a.update(Message::Main(main::Message::Settings(
        main::settings::Message::AvatarPicked(Some(path)),
    )));
    drive(a, task).await;
    assert!(shows(a, "Saved."));
    let main = main_of(a);
    let id = main.profile().user.avatar.clone().expect("avatar set");
    assert!(
        main.avatar(Some(&id)).is_some(),
        "the new avatar is fetched and shown"
    );
    let http = natter_net::http::Http::new(&relay.http_url()).unwrap();
    let me = http.me(&saved[0].access_token).await.unwrap();
    assert_eq!(me.user.avatar.as_deref(), Some(id.as_str()));
    let (bytes, mime) = http.download(&saved[0].access_token, &id).await.unwrap();
    assert_eq!(mime, "image/png");
    let stored = image::load_from_memory(&bytes).unwrap();
    assert_eq!((stored.width(), stored.height()), (256, 192));
}

#[tokio::test]
async fn a_message_while_unfocused_chimes_unless_muted() {
    let (relay, _rd) = relay().await;
    let (mut apps, mut events, _saved, _homes) = people(&relay, &["uma", "vic"]).await;
    let [a, b] = &mut apps[..] else {
        unreachable!()
    };
    let [ea, eb] = &mut events[..] else {
        unreachable!()
    };
    pump(b, eb, |app| shows(app, "uma")).await;
    interact(b, |ui| {
        ui.click("uma").unwrap();
    })
    .await;
    let _ = a.update(Message::Focus(false));
    let before = a.chimes();
    interact(b, |ui| {
        ui.click(iced_test::selector::id("composer")).unwrap();
        let _ = ui.typewrite("ding");
        let _ = ui.tap_key(iced::keyboard::key::Named::Enter);
    })
    .await;
    pump(a, ea, |app| shows(app, "ding")).await;
    assert!(a.chimes() > before, "chimed while unfocused");

    // Muted: the message arrives without a sound.
    let conv = a.store().unwrap().conversations().await.unwrap()[0].id;
    let task = a.update(Message::Main(main::Message::Mute(conv, true)));
    drive(a, task).await;
    let before = a.chimes();
    interact(b, |ui| {
        ui.click(iced_test::selector::id("composer")).unwrap();
        let _ = ui.typewrite("quiet");
        let _ = ui.tap_key(iced::keyboard::key::Named::Enter);
    })
    .await;
    pump(a, ea, |app| shows(app, "quiet")).await;
    assert_eq!(a.chimes(), before, "no chime when muted");
}

#[tokio::test]
async fn a_picture_and_a_file_from_disk_arrive_and_the_file_saves() {
    let (relay, _rd) = relay().await;
    let (mut a, _ea, mut b, mut eb, _homes) = two_in_chat(&relay, "pia", "quin").await;

    // A picture and a document, as the file dialog would hand them over.
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("hike.png");
    image::RgbImage::from_fn(800, 600, |x, y| {
        image::Rgb([(x % 256) as u8, 120, (y % 256) as u8])
    })
    .save(&picture)
    .unwrap();
    let document = dir.path().join("route.txt");
    std::fs::write(&document, "8:00 station → 9:30 summit").unwrap();
    for path in [picture, document.clone()] {
        let picked = main::attach::Message::Picked(natter::dialog::Chosen::Path(path));
        let task = a.update(Message::Main(main::Message::Attach(picked)));
        drive(&mut a, task).await;
    }

    // Quin gets both: the picture fetched and decoded for its bubble, the file
    // by name with a Save button.
    let store = b.store().unwrap().clone();
    let conv = store.conversations().await.unwrap()[0].id;
    let (image_id, file) = loop {
        let history = store.history(conv, None, 10).await.unwrap();
        let image_id = history.iter().find_map(|m| match &m.body {
            natter_proto::model::MessageBody::Image {
                file,
                width,
                height,
                ..
            } => {
                assert_eq!((*width, *height), (800, 600));
                Some(file.id.clone())
            }
            _ => None,
        });
        let file = history.iter().find_map(|m| match &m.body {
            natter_proto::model::MessageBody::File { file } => Some(file.clone()),
            _ => None,
        });
        if let (Some(i), Some(f)) = (image_id, file) {
            break (i, f);
        }
        let e = tokio::time::timeout(Duration::from_secs(20), eb.next())
            .await
            .expect("attachments not received")
            .unwrap();
        let task = b.update(Message::Main(main::Message::Session(
            main::session::Update::Event(e),
        )));
        drive(&mut b, task).await;
    };
    pump(&mut b, &mut eb, |app| {
        shows(app, "📄 route.txt") && main_of(app).picture(&image_id).is_some()
    })
    .await;
    assert_eq!(file.name, "route.txt");

    // Saved where the save dialog would say: the same bytes.
    let out = dir.path().join("saved-route.txt");
    let save = main::attach::Message::SaveTo(file, natter::dialog::Chosen::Path(out.clone()));
    let task = b.update(Message::Main(main::Message::Attach(save)));
    drive(&mut b, task).await;
    assert!(shows(&b, &format!("Saved to {}", out.display())));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&document).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_message_is_recorded_sent_and_opened() {
    let (relay, _rd) = relay().await;
    let (mut a, _ea, mut b, mut eb, _homes) = two_in_chat(&relay, "ria", "sol").await;
    let devices = |synthetic, microphone: Option<&str>| {
        Message::Main(main::Message::Devices(main::call::Devices {
            synthetic,
            microphone: microphone.map(str::to_string),
            ..Default::default()
        }))
    };

    // No such microphone: said in words, nothing recorded.
    let task = a.update(devices(false, Some("no such microphone")));
    drive(&mut a, task).await;
    interact(&mut a, |ui| {
        ui.click("Record a voice message").unwrap();
    })
    .await;
    assert!(shows_part(&a, "No microphone to record with"));
    assert!(!shows_part(&a, "Recording"));

    // With the test tone standing in: a recording that is thrown away…
    let task = a.update(devices(true, None));
    drive(&mut a, task).await;
    interact(&mut a, |ui| {
        ui.click("Record a voice message").unwrap();
    })
    .await;
    assert!(shows(&a, "● Recording  0:00"));
    interact(&mut a, |ui| {
        ui.click("Cancel").unwrap();
    })
    .await;
    assert!(!shows_part(&a, "Recording"));

    // …and one that is sent after about a second and a half.
    interact(&mut a, |ui| {
        ui.click("Record a voice message").unwrap();
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    interact(&mut a, |ui| {
        ui.click("Send").unwrap();
    })
    .await;
    assert!(!shows_part(&a, "Recording"));

    // Sol gets exactly one voice message, shown with its length; its clip
    // decodes to that much sound.
    pump(&mut b, &mut eb, |app| shows(app, "▶  0:01")).await;
    let store = b.store().unwrap().clone();
    let conv = store.conversations().await.unwrap()[0].id;
    let voices: Vec<_> = store
        .history(conv, None, 10)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m.body {
            natter_proto::model::MessageBody::Voice { file, duration_ms } => {
                Some((file, duration_ms))
            }
            _ => None,
        })
        .collect();
    assert_eq!(voices.len(), 1, "the cancelled recording was not sent");
    let (file, duration_ms) = voices[0].clone();
    assert!((1_300..=2_500).contains(&duration_ms), "{duration_ms}");
    let client = main_of(&b).client().unwrap().clone();
    let token = client.token().await.unwrap();
    let (bytes, _) = client.http().download(&token, &file.id).await.unwrap();
    let clip = natter_media::voice::decode(&bytes).unwrap();
    assert_eq!(clip.samples().len() as u32, duration_ms * 48);

    // Opening it plays it on the speaker, or — with none, as on a test
    // machine — says why; either way the bubble is ready again afterwards.
    interact(&mut b, |ui| {
        ui.click("▶  0:01").unwrap();
    })
    .await;
    assert!(shows(&b, "▶  0:01"));
    assert!(!shows(&b, "■  Stop"));
    let speakers = natter_media::device::list_devices().speakers;
    if speakers.is_empty() {
        assert!(shows_part(&b, "Cannot play the voice message"));
    }
}

/// The bounds of the text (or named button) `label` in a view `width` wide.
fn bounds_of(app: &App, width: f32, label: &str) -> Option<iced::Rectangle> {
    let mut ui = iced_test::Simulator::with_size(
        iced_test::core::Settings::default(),
        (width, 700.0),
        app.view(),
    );
    ui.find(label).ok().map(|t| t.bounds())
}

#[tokio::test]
async fn the_chat_header_holds_at_360_px_in_both_languages() {
    let (relay, _rd) = relay().await;
    let (mut a, _ea, _b, _eb, _homes) = two_in_chat(&relay, "nadia", "olaf").await;
    let _ = a.update(Message::Resized(360.0));
    for (language, names) in [
        (
            Language::EnUs,
            ["Back", "Voice call", "Video call", "Pin", "Mute"],
        ),
        (
            Language::ZhCn,
            ["返回", "语音通话", "视频通话", "置顶", "免打扰"],
        ),
    ] {
        let _ = a.update(Message::Main(main::Message::Settings(
            main::settings::Message::Language(language),
        )));
        // Every button of the header is on screen, whole, in one row with the
        // title, which keeps one line.
        let title = bounds_of(&a, 360.0, "olaf").expect("the title shows");
        assert!(title.height < 30.0, "{language:?}: title {title:?}");
        for name in names {
            let b = bounds_of(&a, 360.0, name).unwrap_or_else(|| panic!("no {name}"));
            assert!(
                b.x >= 0.0 && b.x + b.width <= 360.0,
                "{language:?}: {name} at {b:?} is cut off"
            );
            assert!(
                b.height <= 40.0 && b.y < 60.0,
                "{language:?}: {name} at {b:?}"
            );
        }
        // The composer's buttons too.
        for name in if language == Language::EnUs {
            ["Emoji", "Attach a file", "Record a voice message", "Send"]
        } else {
            ["表情", "发送文件", "录制语音消息", "发送"]
        } {
            let b = bounds_of(&a, 360.0, name).unwrap_or_else(|| panic!("no {name}"));
            assert!(b.x + b.width <= 360.0, "{language:?}: {name} at {b:?}");
        }
    }
}

#[tokio::test]
async fn group_info_takes_the_chats_place_when_the_window_is_too_narrow_for_both() {
    let (relay, _rd) = relay().await;
    let (mut apps, mut events, saved, _homes) = people(&relay, &["pia", "quin"]).await;
    let http = natter_net::http::Http::new(&relay.http_url()).unwrap();
    http.create_group(
        &saved[0].access_token,
        "Kayak",
        vec![saved[1].profile.user.id],
    )
    .await
    .unwrap();
    let (a, ea) = (&mut apps[0], &mut events[0]);
    pump(a, ea, |app| shows(app, "Kayak")).await;
    click(a, "Kayak").await;
    pump(a, ea, |app| shows(app, "Group info")).await;

    // At 795 px the panel replaces the chat and its composer…
    let _ = a.update(Message::Resized(795.0));
    click(a, "Group info").await;
    assert!(shows(a, "2 members"));
    assert!(!shows(a, "Send"), "the composer is not crushed beside it");
    let close = bounds_of(a, 795.0, "2 members").unwrap();
    assert!(close.x + close.width <= 795.0);
    // …until it is closed.
    click(a, "Group info").await;
    assert!(main_of(a).group_info_open().is_none());
    assert!(shows(a, "Send"));

    // With room for both, it stands beside the chat.
    let _ = a.update(Message::Resized(1280.0));
    click(a, "Group info").await;
    assert!(shows(a, "2 members") && shows(a, "Send"));
}

#[tokio::test]
async fn retry_now_dials_the_relay_again_at_once() {
    use natter_net::session::Event;
    let (relay, _rd) = relay().await;
    let home = tempfile::tempdir().unwrap();
    let mut app = boot(&relay.http_url(), home.path(), Language::EnUs).await;
    register(&mut app, "ruth").await;
    let mut events = attach(&mut app).await;
    pump(&mut app, &mut events, |app| shows(app, "Online")).await;
    assert!(!shows(&app, "Retry now"));

    // The connection is lost with seconds to wait: the banner offers to retry.
    let lost = Event::Disconnected {
        reason: "the relay closed the connection".into(),
        retry_in: Duration::from_secs(5),
    };
    let task = app.update(Message::Main(main::Message::Session(
        main::session::Update::Event(lost),
    )));
    drive(&mut app, task).await;
    assert!(shows_part(&app, "retrying in"));
    click(&mut app, "Retry now").await;
    assert!(shows(&app, "Connecting…"));

    // The session drops its connection and is current again well within the
    // wait it was told.
    let started = std::time::Instant::now();
    let mut asked = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    loop {
        let e = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("not back within 4 s")
            .unwrap();
        let done = asked && matches!(e, Event::Synced);
        if let Event::Disconnected { reason, .. } = &e {
            asked |= reason == "reconnect requested";
        }
        let task = app.update(Message::Main(main::Message::Session(
            main::session::Update::Event(e),
        )));
        drive(&mut app, task).await;
        if done {
            break;
        }
    }
    assert!(asked, "the button asked the session to reconnect");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(shows(&app, "Online") && !shows(&app, "Retry now"));
}
