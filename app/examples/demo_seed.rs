//! Seeds `make demo`: two accounts on the given relay that are friends, with a
//! little history, each signed in to its own app profile under `NATTER_HOME`,
//! and a group of three (with a third account, carol) with an announcement.
//! Calls in the demo profiles use the test tone and pattern.

use std::path::PathBuf;

use natter_proto::model::{Extras, Forwarded, MessageBody};
use natter_proto::rest::RegisterRequest;
use natter_store::Store;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let last_text = args.first().is_some_and(|a| a == "--last-text");
    if last_text {
        args.remove(0);
    }
    let server = args
        .first()
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:7979".into());
    let home = PathBuf::from(std::env::var_os("NATTER_HOME").ok_or("set NATTER_HOME")?);
    if last_text {
        return print_last_text(&server, &home).await;
    }
    let people = [("alice", "爱丽丝"), ("bob", "Bob"), ("carol", "Carol 陈")];
    let mut clients = Vec::new();
    for (account, nickname) in people {
        let password = format!("{account}-demo-password");
        let req = RegisterRequest {
            account: account.into(),
            password: password.clone(),
            nickname: nickname.into(),
            email: Some(format!("{account}@example.com")),
            phone: None,
            avatar: None,
        };
        natter_net::client::register(&server, &req).await?;
        let store = Store::open(natter_store::profile_dir(&home, account)).await?;
        // Demo machines often have no camera or sound card: calls send the test
        // tone and pattern (switch it off in the settings to use devices).
        // NATTER_DEMO_THEME=dark starts both apps dark (screenshots).
        let theme = match std::env::var("NATTER_DEMO_THEME").as_deref() {
            Ok("dark") => natter::app::ThemeChoice::Dark,
            _ => natter::app::ThemeChoice::Light,
        };
        let settings = natter::app::Settings {
            server: server.clone(),
            theme,
            devices: natter::screen::main::call::Devices {
                synthetic: true,
                ..Default::default()
            },
            ..Default::default()
        };
        store.set_setting("settings", &settings).await?;
        natter_net::client::sign_in(&server, &store, account, &password, Some("demo".into()))
            .await?;
        let (client, events) = natter_net::Client::resume(store).await?;
        clients.push((client, events));
    }
    let (alice, bob, carol) = (&clients[0].0, &clients[1].0, &clients[2].0);
    let ta = alice.token().await?;
    let tb = bob.token().await?;
    let tc = carol.token().await?;
    let req = alice
        .http()
        .send_friend_request(&ta, bob.me(), "你好,我是爱丽丝")
        .await?;
    bob.http().answer_friend_request(&tb, req.id, true).await?;
    let req = alice
        .http()
        .send_friend_request(&ta, carol.me(), "")
        .await?;
    carol
        .http()
        .answer_friend_request(&tc, req.id, true)
        .await?;
    let conv = alice.http().friends(&ta).await?.friends[0].conversation;
    let lines = [
        (alice, "嗨 Bob,周末有空吗?"),
        (bob, "Hi! Saturday works. Hiking?"),
        (alice, "好啊,去爬山吧 ⛰️"),
        (bob, "Great, 8:00 at the station 🚉"),
        (alice, "不见不散!"),
    ];
    for (who, text) in lines {
        who.send_text(conv, text).await?;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    // A picture of the route (a made-up skyline) and the plan as a file.
    let view = image::RgbImage::from_fn(480, 300, |x, y| {
        let ridge = 170.0 + 45.0 * ((x as f32) / 60.0).sin() + 25.0 * ((x as f32) / 23.0).cos();
        if (y as f32) > ridge {
            image::Rgb([60, 110 + (y / 6) as u8, 70])
        } else {
            image::Rgb([120 + (y / 3) as u8, 170 + (y / 5) as u8, 235])
        }
    });
    let mut png = std::io::Cursor::new(Vec::new());
    view.write_to(&mut png, image::ImageFormat::Png)?;
    let file = bob
        .upload("route.png", "image/png", png.into_inner())
        .await?;
    let picture = natter_proto::model::MessageBody::Image {
        file,
        width: 480,
        height: 300,
        preview: None,
    };
    bob.send(conv, picture, None).await?;
    let plan = "Saturday\n08:00 station\n09:30 trailhead\n12:00 summit\n";
    let file = bob
        .upload("plan.txt", "text/plain", plan.as_bytes().to_vec())
        .await?;
    bob.send(conv, natter_proto::model::MessageBody::File { file }, None)
        .await?;
    // Three seconds of test tone as a voice message.
    let mut tone = natter_media::source::tone::ToneSource::unpaced(440.0);
    let note = natter_media::voice::encode((0..150).map(|_| tone.generate()))?;
    let file = bob
        .upload("voice.natvoice", "audio/x-natter-voice", note.bytes)
        .await?;
    let voice = natter_proto::model::MessageBody::Voice {
        file,
        duration_ms: note.duration_ms,
    };
    bob.send(conv, voice, None).await?;
    let group = alice
        .http()
        .create_group(&ta, "周末徒步 Hiking", vec![bob.me(), carol.me()])
        .await?;
    let patch = natter_proto::rest::UpdateGroup {
        name: None,
        announcement: Some("周六 8:00 火车站集合 · Saturday 8:00 at the station".into()),
    };
    alice.http().update_group(&ta, group.id, &patch).await?;
    alice
        .http()
        .set_role(&ta, group.id, bob.me(), natter_proto::model::Role::Admin)
        .await?;
    // Carol has a picture as her avatar (a made-up gradient, 800×500 like a
    // photo, so the crop to a circle shows), the others the initial-letter
    // tile.
    let picture = image::RgbImage::from_fn(800, 500, |x, y| {
        let (x, y) = ((x * 128 / 800) as u8, (y * 128 / 500) as u8);
        image::Rgb([40 + x, 120 + y / 2, 200 - x / 2])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut png, image::ImageFormat::Png)?;
    let file = carol
        .upload("carol.png", "image/png", png.into_inner())
        .await?;
    let patch = natter_proto::rest::UpdateProfile {
        avatar: Some(file.id),
        ..Default::default()
    };
    carol.http().update_profile(&tc, &patch).await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    carol.send_text(group.id, "I'll bring snacks 🍫").await?;
    // Acting on messages: a reply, reactions, an edit, mentions, a forward.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let history = alice.history(conv, None, 50).await?;
    let seq_of = |text: &str| {
        history
            .iter()
            .find(|m| matches!(&m.body, MessageBody::Text { text: t } if t == text))
            .map(|m| m.seq)
    };
    if let (Some(hike), Some(station), Some(see_you)) = (
        seq_of("好啊,去爬山吧 ⛰️"),
        seq_of("Great, 8:00 at the station 🚉"),
        seq_of("不见不散!"),
    ) {
        bob.send(conv, text("Yes! Bring water 💧"), Some(hike))
            .await?;
        alice.send(conv, react(station, "👍"), None).await?;
        bob.send(conv, react(station, "🎉"), None).await?;
        bob.send(conv, react(see_you, "❤️"), None).await?;
        alice
            .send(
                conv,
                MessageBody::Edit {
                    target: see_you,
                    text: "不见不散!🎒".into(),
                },
                None,
            )
            .await?;
        let forwarded = Extras {
            forwarded: Some(Forwarded {
                from: bob.me(),
                name: "Bob".into(),
            }),
            ..Extras::default()
        };
        bob.send_with(
            group.id,
            text("Great, 8:00 at the station 🚉"),
            None,
            forwarded,
        )
        .await?;
    }
    let mention = Extras {
        mentions: vec![alice.me()],
        ..Extras::default()
    };
    carol
        .send_with(group.id, text("@爱丽丝 which trail? 🥾"), None, mention)
        .await?;
    let all = Extras {
        mention_all: true,
        ..Extras::default()
    };
    bob.send_with(group.id, text("@all don't be late ⏰"), None, all)
        .await?;
    // Let both stores catch up before the apps open them.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for (c, _) in &clients {
        c.shutdown();
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    println!("demo accounts ready: alice / alice-demo-password, bob / bob-demo-password");
    Ok(())
}

/// `--last-text`: signs alice in on a fresh device and prints the newest text
/// message of her chat with bob, as the relay delivered it.
fn text(t: &str) -> MessageBody {
    MessageBody::Text { text: t.into() }
}

fn react(target: u64, emoji: &str) -> MessageBody {
    MessageBody::Reaction {
        target,
        emoji: emoji.into(),
        add: true,
    }
}

async fn print_last_text(
    server: &str,
    home: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(natter_store::profile_dir(home, "alice-check")).await?;
    natter_net::client::sign_in(
        server,
        &store,
        "alice",
        "alice-demo-password",
        Some("check".into()),
    )
    .await?;
    let (client, _events) = natter_net::Client::resume(store).await?;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for conv in client.conversations().await? {
        if !matches!(conv.kind, natter_proto::model::ConversationKind::Direct { peer } if peer != client.me())
        {
            continue;
        }
        let messages = client.store().history(conv.id, None, 50).await?;
        if let Some(text) = messages.iter().rev().find_map(|m| match &m.body {
            natter_proto::model::MessageBody::Text { text } => Some(text.clone()),
            _ => None,
        }) {
            println!("{text}");
        }
    }
    client.shutdown();
    Ok(())
}
