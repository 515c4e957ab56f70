//! App benchmarks on a seeded profile with 100 conversations, one of them
//! 100,000 messages long (see `support/seed.rs`): the real app state, real
//! store and the real CPU renderer, driven the way the iced runtime would.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo bench -p natter --bench app`
//!
//! - boot: `App::new` until the conversation list is loaded, plus its first
//!   rendered frame;
//! - open: a click on the 100k-message conversation until its first screen
//!   (newest page loaded and the whole window rendered), after a click on
//!   another conversation so every open loads from the store again.
//!
//! Start-up of the real process and its resident memory are measured with
//! `app/bench/startup.sh` on the same seeded profile.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/seed.rs"]
mod seed;

use std::time::{Duration, Instant};

use iced::Task;
use iced::futures::StreamExt;
use iced_runtime::Action;
use iced_test::simulator;
use natter::app::{App, Flags, Message};
use natter_i18n::Language;
use natter_server::Relay;

const RUNS: usize = 30;

async fn drive(app: &mut App, task: Task<Message>) {
    let mut queue = vec![task];
    while let Some(task) = queue.pop() {
        let Some(mut stream) = iced_runtime::task::into_stream(task) else {
            continue;
        };
        while let Some(action) = stream.next().await {
            if let Action::Output(message) = action {
                let next = app.update(message);
                queue.push(next);
            }
        }
    }
}

async fn click(app: &mut App, text: &str) {
    let messages: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.click(text)
            .unwrap_or_else(|e| panic!("no {text:?} on screen: {e:?}"));
        ui.into_messages().collect()
    };
    for m in messages {
        let task = app.update(m);
        drive(app, task).await;
    }
}

/// Lays out and renders the whole window once.
fn render(app: &App) {
    let mut ui = simulator(app.view());
    ui.snapshot(&app.theme()).unwrap();
}

fn shows(app: &App, text: &str) -> bool {
    simulator(app.view()).find(text).is_ok()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{what:<44} n={:<3} p50 {:>7.1} ms   p95 {:>7.1} ms   max {:>7.1} ms",
        v.len(),
        ms(pct(&v, 50.0)),
        ms(pct(&v, 95.0)),
        ms(*v.last().unwrap())
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let home = tempfile::tempdir().unwrap();
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let seeded = seed::seed(home.path(), loopback, 100, 100_000)
        .await
        .unwrap();
    let relay = Relay::start(seed::relay_config(&seeded.relay_dir, seeded.addr))
        .await
        .unwrap();
    let flags = || Flags {
        profile: seed::PROFILE.into(),
        data_home: home.path().to_path_buf(),
        server: Some(relay.http_url()),
        language: Some(Language::EnUs),
    };

    let mut boots = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let (mut app, task) = App::new(flags());
        drive(&mut app, task).await;
        render(&app);
        boots.push(t.elapsed());
        assert!(shows(&app, "Friend 000"), "the conversation list is shown");
    }
    report("boot to rendered conversation list", boots);

    let (mut app, task) = App::new(flags());
    drive(&mut app, task).await;
    let big = app.store().unwrap().conversation(seeded.big).await.unwrap();
    assert_eq!(big.map(|c| c.held_seq), Some(100_000), "all of it is local");
    // Texts only the chat pane shows (the list previews the last message).
    let big_second_newest = "random chatter 99999 lorem ipsum dolor sit amet";
    let small_first = "Meeting notes #1: ship the relay before Friday";
    let mut opens = Vec::new();
    for _ in 0..RUNS {
        click(&mut app, "朋友 001").await;
        assert!(shows(&app, small_first) && !shows(&app, big_second_newest));
        let t = Instant::now();
        click(&mut app, "Friend 000").await;
        render(&app);
        opens.push(t.elapsed());
        assert!(
            shows(&app, big_second_newest),
            "the newest messages are on the first screen"
        );
    }
    report("open the 100k-message conversation", opens);
    relay.shutdown().await;
}
