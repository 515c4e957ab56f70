//! Call setup as a user feels it (not a test): two headless clients on one
//! relay in this process, all on loopback, synthetic sources; from the moment the
//! callee presses "accept" (`Phone::answer`) to the first decoded audio at the
//! callee, with the relay carrying accept, SDP and ICE and handing out its
//! STUN/TURN servers. Results in `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release -p natter-media --example relay_setup -- [calls]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use natter_media::phone::{self, Phone, PhoneEvent};
use natter_media::{MediaConfig, sink::AudioCollector};
use natter_net::Client;
use natter_net::session::Event;
use natter_proto::model::CallMedia;
use natter_proto::rest::RegisterRequest;
use natter_server::{Config, Relay};
use natter_store::Store;
use tokio::sync::mpsc;

struct Person {
    client: Client,
    phone: Phone,
    events: mpsc::UnboundedReceiver<PhoneEvent>,
    _dir: tempfile::TempDir,
}

async fn person(relay: &Relay, account: &str) -> anyhow::Result<Person> {
    let url = relay.http_url();
    let password = format!("{account}-password");
    natter_net::client::register(
        &url,
        &RegisterRequest {
            account: account.into(),
            password: password.clone(),
            nickname: account.into(),
            email: None,
            phone: None,
            avatar: None,
        },
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path()).await?;
    natter_net::client::sign_in(&url, &store, account, &password, None).await?;
    let (client, mut session) = Client::resume(store).await?;
    let media = MediaConfig {
        audio_sink: natter_media::AudioSink::Collect(AudioCollector::new(1)),
        ..MediaConfig::synthetic()
    };
    let signaller = client.clone();
    let (phone, events) = Phone::start(Arc::new(move |r| signaller.call(r)), media);
    let notices = phone.clone();
    tokio::spawn(async move {
        while let Some(e) = session.next().await {
            if let Event::Call(n) = e {
                notices.notice(n);
            }
        }
    });
    Ok(Person {
        client,
        phone,
        events,
        _dir: dir,
    })
}

async fn until(p: &mut Person, want: impl Fn(&PhoneEvent) -> bool) -> anyhow::Result<()> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), p.events.recv()).await {
            Ok(Some(e)) if want(&e) => return Ok(()),
            Ok(Some(PhoneEvent::Problem { message, .. })) => bail!("call problem: {message}"),
            Ok(Some(_)) => {}
            Ok(None) => bail!("phone gone"),
            Err(_) => bail!("timed out"),
        }
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()
        .context("calls: a number")?
        .unwrap_or(20);
    let dir = tempfile::tempdir()?;
    let relay = Relay::start(Config::for_tests(dir.path())).await?;
    let mut ann = person(&relay, "ann").await?;
    let mut bob = person(&relay, "bob").await?;
    let (ta, tb) = (ann.client.token().await?, bob.client.token().await?);
    let req = ann
        .client
        .http()
        .send_friend_request(&ta, bob.client.me(), "")
        .await?;
    bob.client
        .http()
        .answer_friend_request(&tb, req.id, true)
        .await?;
    let conv = ann.client.http().friends(&ta).await?.friends[0].conversation;

    let mut setup = Vec::new();
    for _ in 0..calls {
        let ice = phone::ice_servers(&ann.client.ice_servers().await?.ice_servers);
        ann.phone
            .dial(conv, CallMedia::Audio, ice)
            .await
            .context("phone busy")?;
        until(&mut bob, |e| matches!(e, PhoneEvent::Incoming { .. })).await?;
        let ice = phone::ice_servers(&bob.client.ice_servers().await?.ice_servers);
        let pressed = Instant::now();
        bob.phone.answer(ice);
        until(&mut bob, |e| matches!(e, PhoneEvent::FirstAudio { .. })).await?;
        setup.push(pressed.elapsed());
        ann.phone.hang_up();
        for p in [&mut ann, &mut bob] {
            until(p, |e| matches!(e, PhoneEvent::Ended { .. })).await?;
        }
    }
    setup.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "accept pressed -> first audio at the callee, through the relay: n={} p50 {:.0} ms  p95 {:.0} ms  max {:.0} ms",
        setup.len(),
        ms(pct(&setup, 50.0)),
        ms(pct(&setup, 95.0)),
        ms(*setup.last().context("no calls")?)
    );
    relay.shutdown().await;
    Ok(())
}
