//! Group call benchmark (not a test): N headless clients with video in one
//! group call through a relay in this process, all on loopback, synthetic
//! sources. The relay runs on a runtime of its own (threads named
//! `natter-relay`), so its CPU time is counted apart from the clients'.
//!
//! Reports, for each N: the relay's CPU per forwarded stream, every receiver's
//! pictures per second from every sender and the longest gaps between them,
//! each picture's delay from capture to decoding (the capture time is written
//! into the test pattern), mouth to ear (each participant beeps in a slot of
//! its own; every other one's speaker output is timed against it), and how
//! long a device rejoining the running call waits from `accept` to the first
//! decoded sound. Results in `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release -p natter-media --example group_bench -- [--max N] [--seconds S] [--rejoins R]
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use natter_media::group::{GroupCall, GroupEvent};
use natter_media::sink::AudioCollector;
use natter_media::source::pattern::picture_delay;
use natter_media::{AudioSink, AudioSource, MediaConfig, VideoSource};
use natter_net::Client;
use natter_net::session::Event;
use natter_proto::call::CallNotice;
use natter_proto::model::{CallMedia, ConversationId, UserId};
use natter_proto::rest::RegisterRequest;
use natter_server::{Config, Relay};
use natter_store::Store;
use tokio::sync::{broadcast, mpsc};

/// When each picture arrived, per (receiver, sender).
type Arrivals = Arc<Mutex<HashMap<(usize, usize), Vec<Instant>>>>;

/// Each participant beeps in a slot of its own this long, one after
/// another: a sound heard is attributed to the slot it falls in, so mouth to
/// ear reads right while it stays under this.
const BEEP_SLOT_MS: u32 = 500;

const WIDTH: usize = 320;
const HEIGHT: usize = 240;
const FPS: u32 = 15;

struct Person {
    client: Client,
    notices: broadcast::Sender<CallNotice>,
    hz: f32,
    /// This participant's beep slot, of `slots`.
    slot: usize,
    slots: usize,
    /// Its speaker output, in this call.
    heard: AudioCollector,
    call: Option<(GroupCall, mpsc::UnboundedReceiver<GroupEvent>)>,
    /// Senders whose picture arrived in this call.
    seen_video: std::collections::HashSet<UserId>,
    _dir: tempfile::TempDir,
}

fn flag(args: &[String], name: &str, default: u64) -> anyhow::Result<u64> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .context("flag without value")?
            .parse()
            .context("not a number"),
        None => Ok(default),
    }
}

fn main() -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let max = flag(&args, "--max", 8)? as usize;
    let seconds = flag(&args, "--seconds", 10)?;
    let rejoins = flag(&args, "--rejoins", 10)? as usize;
    let dir = tempfile::tempdir()?;
    let relay_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("natter-relay")
        .enable_all()
        .build()?;
    let mut config = Config::for_tests(dir.path());
    config.call_ring_timeout_ms = 600_000;
    config.throttle.registrations_per_hour = 0;
    let relay = relay_rt.block_on(Relay::start(config))?;
    let clients_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("natter-client")
        .enable_all()
        .build()?;
    clients_rt.block_on(run(&relay, max, seconds, rejoins))?;
    drop(relay);
    Ok(())
}

/// CPU time of this process's threads whose name starts with `prefix`.
fn threads_cpu(prefix: &str) -> Duration {
    let mut total = Duration::ZERO;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return total;
    };
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !name.starts_with(prefix) {
            continue;
        }
        if let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat"))
            && let Some(ns) = stat.split_whitespace().next().and_then(|v| v.parse().ok())
        {
            total += Duration::from_nanos(ns);
        }
    }
    total
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

async fn person(
    relay: &Relay,
    account: &str,
    hz: f32,
    slot: usize,
    slots: usize,
) -> anyhow::Result<Person> {
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
    let (client, mut events) = Client::resume(store).await?;
    let (notices, _) = broadcast::channel(4096);
    let tx = notices.clone();
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            if let Event::Call(notice) = event {
                let _ = tx.send(notice);
            }
        }
    });
    Ok(Person {
        client,
        notices,
        hz,
        slot,
        slots,
        heard: AudioCollector::new(1),
        call: None,
        seen_video: Default::default(),
        _dir: dir,
    })
}

impl Person {
    fn media(&mut self) -> MediaConfig {
        self.heard = AudioCollector::new(1);
        MediaConfig {
            audio_source: AudioSource::Beeps {
                hz: self.hz,
                period_ms: BEEP_SLOT_MS * self.slots as u32,
                at_ms: BEEP_SLOT_MS * self.slot as u32,
            },
            audio_sink: AudioSink::Collect(self.heard.clone()),
            video_source: VideoSource::ClockPattern {
                width: WIDTH,
                height: HEIGHT,
                fps: FPS,
            },
            ..MediaConfig::synthetic()
        }
    }

    fn attach(&self, call: &GroupCall) {
        let mut notices = self.notices.subscribe();
        let call = call.clone();
        tokio::spawn(async move {
            while let Ok(notice) = notices.recv().await {
                call.notice(notice);
            }
        });
    }

    async fn join(
        &mut self,
        call_id: Option<&str>,
        group: ConversationId,
    ) -> anyhow::Result<String> {
        let client = self.client.clone();
        let signal: natter_media::phone::Signal = Arc::new(move |req| client.call(req));
        let me = self.client.me();
        let (call, events) = match call_id {
            None => GroupCall::start(signal, self.media(), me, group, CallMedia::Video).await?,
            Some(id) => {
                GroupCall::join(signal, self.media(), me, id.to_owned(), CallMedia::Video).await?
            }
        };
        self.attach(&call);
        let id = call.call_id().to_owned();
        self.call = Some((call, events));
        Ok(id)
    }

    /// Waits for an event; returns when it came.
    async fn wait(&mut self, want: impl Fn(&GroupEvent) -> bool) -> anyhow::Result<Instant> {
        let events = &mut self.call.as_mut().context("not in a call")?.1;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(e)) if want(&e) => {
                    if let GroupEvent::StreamStarted { from, video: true } = e {
                        self.seen_video.insert(from);
                    }
                    return Ok(Instant::now());
                }
                Ok(Some(GroupEvent::StreamStarted { from, video: true })) => {
                    self.seen_video.insert(from);
                }
                Ok(Some(GroupEvent::Ended { reason, .. })) => bail!("call ended: {reason:?}"),
                Ok(Some(_)) => {}
                Ok(None) => bail!("call gone"),
                Err(_) => bail!("timed out"),
            }
        }
    }

    /// Waits for the first picture from `from`, if it has not come yet.
    async fn wait_started(&mut self, from: UserId) -> anyhow::Result<()> {
        if !self.seen_video.contains(&from) {
            self.wait(|e| *e == GroupEvent::StreamStarted { from, video: true })
                .await?;
        }
        Ok(())
    }

    async fn leave(&mut self) -> anyhow::Result<()> {
        if let Some((call, _)) = &self.call {
            call.hang_up();
        }
        self.wait(|e| matches!(e, GroupEvent::Ended { .. })).await?;
        self.call = None;
        self.seen_video.clear();
        Ok(())
    }
}

async fn run(relay: &Relay, max: usize, seconds: u64, rejoins: usize) -> anyhow::Result<()> {
    let mut people = Vec::new();
    for i in 0..max {
        people.push(
            person(
                relay,
                &format!("bench{i}"),
                300.0 + 110.0 * i as f32,
                i,
                max,
            )
            .await?,
        );
    }
    let token = people[0].client.token().await?;
    for other in &people[1..] {
        let other_token = other.client.token().await?;
        let req = people[0]
            .client
            .http()
            .send_friend_request(&token, other.client.me(), "bench")
            .await?;
        other
            .client
            .http()
            .answer_friend_request(&other_token, req.id, true)
            .await?;
    }
    let members: Vec<UserId> = people[1..].iter().map(|p| p.client.me()).collect();
    let group = people[0]
        .client
        .http()
        .create_group(&token, "bench", members)
        .await?
        .id;
    println!(
        "group call, {WIDTH}x{HEIGHT} at {FPS} fps per sender, {seconds} s per size, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "participants | forwarded streams | relay CPU % | relay CPU ms/s per stream | pictures/s per pair (min/median) | gap p95 / max ms | picture delay p50 / p95 / max ms | mouth to ear p50 / p95 / max ms (beeps heard)"
    );
    let call_id = people[0].join(None, group).await?;
    people[0].wait(|e| *e == GroupEvent::Joined).await?;
    for n in 2..=max {
        people[n - 1].join(Some(&call_id), group).await?;
        // Everyone receives everyone before measuring.
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let from = people[j].client.me();
                people[i]
                    .wait_started(from)
                    .await
                    .with_context(|| format!("receiver {i} never saw sender {j}"))?;
            }
        }
        // Picture arrivals per (receiver, sender) and their delays while the
        // relay's CPU is counted.
        let arrivals: Arrivals = Arc::default();
        let delays: Arc<Mutex<Vec<f64>>> = Arc::default();
        let mut watchers = Vec::new();
        for (i, p) in people.iter().enumerate().take(n) {
            let engine = p.call.as_ref().context("in call")?.0.clone();
            for (j, q) in people.iter().enumerate().take(n) {
                if i == j {
                    continue;
                }
                let Some(slot) = engine.engine().participant_video(q.client.me()) else {
                    continue;
                };
                let mut rx = slot.subscribe();
                let arrivals = arrivals.clone();
                let delays = delays.clone();
                watchers.push(tokio::spawn(async move {
                    while rx.changed().await.is_ok() {
                        let frame = rx.borrow_and_update().clone();
                        if let Some(delay) = frame.as_deref().and_then(picture_delay) {
                            delays
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(delay.as_secs_f64() * 1000.0);
                        }
                        arrivals
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .entry((i, j))
                            .or_default()
                            .push(Instant::now());
                    }
                }));
            }
        }
        let cpu0 = threads_cpu("natter-relay");
        let from = SystemTime::now();
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let wall = t0.elapsed();
        let cpu = threads_cpu("natter-relay") - cpu0;
        for w in watchers {
            w.abort();
        }
        let arrivals = arrivals.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut rates: Vec<f64> = Vec::new();
        let mut gaps: Vec<f64> = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let times = arrivals.get(&(i, j)).cloned().unwrap_or_default();
                rates.push(times.len() as f64 / wall.as_secs_f64());
                gaps.extend(
                    times
                        .windows(2)
                        .map(|w| (w[1] - w[0]).as_secs_f64() * 1000.0),
                );
            }
        }
        rates.sort_by(f64::total_cmp);
        gaps.sort_by(f64::total_cmp);
        let mut delays = delays.lock().unwrap_or_else(|e| e.into_inner()).clone();
        delays.sort_by(f64::total_cmp);
        let mut ears = Vec::new();
        for (i, p) in people.iter().enumerate().take(n) {
            for onset in p.heard.onsets() {
                if onset < from || onset > from + wall {
                    continue;
                }
                let ms = onset.duration_since(UNIX_EPOCH)?.as_millis();
                let slot = (ms / u128::from(BEEP_SLOT_MS)) as usize % max;
                if slot < n && slot != i {
                    ears.push((ms % u128::from(BEEP_SLOT_MS)) as f64);
                }
            }
        }
        ears.sort_by(f64::total_cmp);
        let streams = n * (n - 1) * 2;
        let cpu_pct = cpu.as_secs_f64() / wall.as_secs_f64() * 100.0;
        println!(
            "{n:>12} | {streams:>17} | {cpu_pct:>11.1} | {:>25.2} | {:>13.1} / {:>6.1} | {:>7.0} / {:.0} | {:.0} / {:.0} / {:.0} | {:.0} / {:.0} / {:.0} ({})",
            cpu.as_secs_f64() * 1000.0 / wall.as_secs_f64() / streams as f64,
            rates.first().copied().unwrap_or(0.0),
            percentile(&rates, 0.5),
            percentile(&gaps, 0.95),
            gaps.last().copied().unwrap_or(0.0),
            percentile(&delays, 0.5),
            percentile(&delays, 0.95),
            delays.last().copied().unwrap_or(f64::NAN),
            percentile(&ears, 0.5),
            percentile(&ears, 0.95),
            ears.last().copied().unwrap_or(f64::NAN),
            ears.len(),
        );
    }

    // Join → first decoded sound, for a device rejoining the running call.
    let mut waits = Vec::new();
    for r in 0..rejoins {
        let k = 1 + r % (max - 1);
        people[k].leave().await?;
        let start = Instant::now();
        people[k].join(Some(&call_id), group).await?;
        let heard = people[k]
            .wait(|e| matches!(e, GroupEvent::StreamStarted { video: false, .. }))
            .await?;
        waits.push((heard - start).as_secs_f64() * 1000.0);
    }
    waits.sort_by(f64::total_cmp);
    println!(
        "rejoin ({max} in the call) -> first decoded sound: {} runs, median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        waits.len(),
        percentile(&waits, 0.5),
        percentile(&waits, 0.95),
        waits.last().copied().unwrap_or(0.0),
    );
    for p in &mut people {
        if p.call.is_some() {
            p.leave().await?;
        }
    }
    Ok(())
}
