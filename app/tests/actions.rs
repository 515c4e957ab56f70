//! Acting on messages, through the app as people do it, on a real relay:
//! reply, react, edit, recall and write again, forward, delete for me and
//! @mentions, seen from both sides and from a second device that was offline
//! and catches up.

#![allow(clippy::unwrap_used, missing_docs)]

use natter::app::{App, Message};
use natter::screen::main;
use natter_i18n::Language;
use natter_proto::model::MessageBody;

mod support;
use support::*;

/// The open chat's message whose text is `text`, as this app holds it.
fn message_with<'a>(app: &'a App, text: &str) -> Option<&'a natter_proto::model::Message> {
    main_of(app)
        .chat()
        .messages()
        .iter()
        .find(|m| matches!(&m.body, MessageBody::Text { text: t } if t == text))
}

#[tokio::test]
async fn reply_react_edit_recall_forward_and_delete_reach_both_sides_and_a_device_that_was_away() {
    let (relay, _rd) = relay().await;
    let (mut a, mut ea, mut b, mut eb, _homes) = two_in_chat(&relay, "ada", "ben").await;
    // Ada's second device, signed in now and then left offline.
    let away_home = tempfile::tempdir().unwrap();
    let mut away = boot(&relay.http_url(), away_home.path(), Language::EnUs).await;
    sign_in(&mut away, "ada").await;

    say(&mut a, "hello ben").await;
    pump(&mut b, &mut eb, |b| shows(b, "hello ben")).await;

    // Ben replies from the message's menu: a banner while writing, a quote after.
    right_click(&mut b, "hello ben").await;
    click(&mut b, "Reply").await;
    assert!(shows_part(&b, "Replying to ada"));
    say(&mut b, "hi ada").await;
    assert!(!shows_part(&b, "Replying to"), "the banner goes once sent");
    // Ada sees Ben typing, and the indicator ends as his message arrives.
    pump(&mut a, &mut ea, |a| shows_part(a, "ben is typing")).await;
    pump(&mut a, &mut ea, |a| shows(a, "hi ada")).await;
    assert!(!shows_part(&a, "is typing"));
    assert!(
        shows_part(&a, "You: hello ben"),
        "the reply quotes its original"
    );
    let reply = message_with(&a, "hi ada").unwrap();
    let original = message_with(&a, "hello ben").unwrap().seq;
    assert_eq!(reply.reply_to, Some(original));
    // Pressing the quote jumps to the original and highlights it.
    click(&mut a, "You: hello ben").await;
    assert_eq!(main_of(&a).chat().highlighted(), Some(original));

    // Ada reacts with 👍 from the menu's quick row; Ben sees the chip.
    right_click(&mut a, "hi ada").await;
    click(&mut a, "👍").await;
    pump(&mut b, &mut eb, |b| {
        message_with(b, "hi ada").is_some_and(|m| m.reactions.contains_key("👍"))
    })
    .await;

    // Ada edits her message: ↑ in the empty composer picks it up.
    interact(&mut a, |ui| {
        use iced::keyboard::{Key, key::Named};
        ui.click(iced_test::selector::id(main::composer::ID))
            .unwrap();
        let _ = ui.tap_key(Key::Named(Named::ArrowUp));
    })
    .await;
    assert!(shows_part(&a, "Editing your message"));
    say(&mut a, "!").await;
    pump(&mut b, &mut eb, |b| shows(b, "hello ben!")).await;
    assert!(shows_part(&b, "edited"));
    pump(&mut a, &mut ea, |a| shows(a, "hello ben!")).await;

    // Ada recalls it; both see it withdrawn, and she can write it again.
    right_click(&mut a, "hello ben!").await;
    click(&mut a, "Recall").await;
    pump(&mut b, &mut eb, |b| shows(b, "ada recalled a message.")).await;
    pump(&mut a, &mut ea, |a| shows(a, "You recalled a message.")).await;
    click(&mut a, "Re-edit").await;
    assert_eq!(main_of(&a).composer_text().trim_end(), "hello ben!");

    // Ben forwards Ada's reply-target... his own "hi ada" to their chat again.
    right_click(&mut b, "hi ada").await;
    click(&mut b, "Forward").await;
    assert!(shows(&b, "Forward to…"));
    click(&mut b, "ada").await;
    click(&mut b, "Send (1)").await;
    pump(&mut a, &mut ea, |a| shows(a, "Forwarded from ben")).await;

    // Delete for me hides it here only, and stays hidden after reopening.
    let forwarded = main_of(&a)
        .chat()
        .messages()
        .iter()
        .rev()
        .find(|m| m.extras.forwarded.is_some())
        .unwrap()
        .seq;
    let _ = a.update(Message::Main(main::Message::Chat(
        main::chat::Message::Menu(Some(forwarded)),
    )));
    click(&mut a, "Delete for me").await;
    assert!(!shows(&a, "Forwarded from ben"));
    assert!(shows(&b, "hi ada"), "the other side keeps it");

    // The device that was away catches up with all of it.
    let mut e_away = attach(&mut away).await;
    pump(&mut away, &mut e_away, |app| shows(app, "ben")).await;
    click(&mut away, "ben").await;
    pump(&mut away, &mut e_away, |app| {
        shows(app, "You recalled a message.")
    })
    .await;
    assert!(shows(&away, "hi ada"));
    assert!(
        message_with(&away, "hi ada").is_some_and(|m| m.reactions.contains_key("👍")),
        "the reaction reached the device that was away"
    );
    assert!(
        shows(&away, "Forwarded from ben"),
        "deleting is for one device only"
    );
}

#[tokio::test]
async fn a_mention_completes_from_members_and_gets_through_a_muted_group() {
    let (relay, _rd) = relay().await;
    let (mut apps, mut events, saved, _homes) = people(&relay, &["owen", "bea", "cal"]).await;
    let http = natter_net::http::Http::new(&relay.http_url()).unwrap();
    let group = http
        .create_group(
            &saved[0].access_token,
            "crag",
            vec![saved[1].profile.user.id, saved[2].profile.user.id],
        )
        .await
        .unwrap();
    let (owen, bea) = apps.split_at_mut(1);
    let (owen, bea) = (&mut owen[0], &mut bea[0]);
    let (eo, eb) = events.split_at_mut(1);
    let (eo, eb) = (&mut eo[0], &mut eb[0]);
    pump(bea, eb, |app| shows(app, "crag")).await;
    pump(owen, eo, |app| shows(app, "crag")).await;
    // Owen mutes the group and looks elsewhere.
    let task = owen.update(Message::Main(main::Message::Mute(group.id, true)));
    drive(owen, task).await;
    let _ = owen.update(Message::Focus(false));
    let chimes = main_of(owen).chimes();

    click(bea, "crag").await;
    interact(bea, |ui| {
        ui.click(iced_test::selector::id(main::composer::ID))
            .unwrap();
        let _ = ui.typewrite("see you @ow");
    })
    .await;
    // The completion list offers Owen; @all is for the owner and admins only.
    assert!(shows_part(bea, "@owen"));
    assert!(!shows_part(bea, "everyone in this group"));
    interact(bea, |ui| {
        use iced_test::selector::{Candidate, Target};
        ui.click(|c: Candidate<'_>| match c {
            Candidate::Text { content, .. } if content.starts_with("@owen") => {
                Some(Target::from(c))
            }
            _ => None,
        })
        .unwrap();
    })
    .await;
    say(bea, "at nine").await;
    let owen_id = saved[0].profile.user.id;
    pump(owen, eo, |app| {
        main_of(app)
            .conversations()
            .iter()
            .any(|c| c.id == group.id && c.unread > 0)
    })
    .await;
    // Delivered with the mention as an id; the muted group still chimes and
    // the list says "[@you]".
    assert!(shows(owen, "[@you]"));
    assert!(
        main_of(owen).chimes() > chimes,
        "a mention gets through a mute"
    );
    click(owen, "crag").await;
    let m = main_of(owen)
        .chat()
        .messages()
        .iter()
        .find(|m| matches!(&m.body, MessageBody::Text { text } if text == "see you @owen at nine"))
        .unwrap();
    assert_eq!(m.extras.mentions, vec![owen_id]);
    // Owen has read it now: Bea sees "read by", and who.
    pump(bea, eb, |app| shows(app, "Read by 1")).await;
    click(bea, "Read by 1").await;
    assert!(shows(bea, "Read by: owen"));
}

#[tokio::test]
async fn a_refused_edit_is_explained_and_leaves_the_message_as_it_was() {
    // The relay allows edits for one second only; the app does not know.
    let dir = tempfile::tempdir().unwrap();
    let mut config = natter_server::Config::for_tests(dir.path());
    config.limits.edit_window_secs = 1;
    let relay = natter_server::Relay::start(config).await.unwrap();
    let (mut a, mut ea, mut b, mut eb, _homes) = two_in_chat(&relay, "eve", "fay").await;
    say(&mut a, "first words").await;
    pump(&mut a, &mut ea, |a| {
        message_with(a, "first words").is_some()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    right_click(&mut a, "first words").await;
    click(&mut a, "Edit").await;
    say(&mut a, " again").await;
    pump(&mut a, &mut ea, |a| {
        shows(a, "The time for editing that message has passed.")
    })
    .await;
    assert!(shows(&a, "first words"));
    assert!(!shows(&a, "first words again"));
    // Nothing of it is left to send again.
    assert!(a.store().unwrap().outbox().await.unwrap().is_empty());
    pump(&mut b, &mut eb, |b| shows(b, "first words")).await;
    assert!(!shows_part(&b, "edited"));
}
