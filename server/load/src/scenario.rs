//! The measurements.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt, TryStreamExt, stream};
use natter_proto::frame::ClientFrame;
use natter_proto::model::{ConversationId, MessageBody};
use natter_proto::rest::Session;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::client::{Relay, Socket, connect};
use crate::stats::Samples;

static START: OnceLock<Instant> = OnceLock::new();

fn micros_now() -> u64 {
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

fn send_frame(conversation: ConversationId, client_id: String, text: String) -> WsMessage {
    let frame = ClientFrame::Send {
        client_id,
        conversation,
        body: MessageBody::Text { text },
        reply_to: None,
        extras: Default::default(),
    };
    // Plain data: serialising it cannot fail.
    WsMessage::Text(serde_json::to_string(&frame).unwrap_or_default().into())
}

/// Keeps a session alive (answering pings) until it ends.
fn idle_reader(mut ws: Socket) {
    tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
}

/// RSS per idle authenticated connection.
pub async fn idle(relay: &Relay, connections: usize, devices: usize) -> anyhow::Result<()> {
    let devices = devices.max(1);
    let accounts = connections.div_ceil(devices);
    println!("idle: provisioning {accounts} accounts × {devices} devices");
    let sessions: Vec<Vec<Session>> = stream::iter(0..accounts)
        .map(|i| async move { relay.account(&format!("idle{i}"), devices).await })
        .buffer_unordered(32)
        .try_collect()
        .await?;
    let mut sessions: Vec<Session> = sessions.into_iter().flatten().collect();
    sessions.truncate(connections);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = relay.rss_kib()?;
    let started = Instant::now();
    let sockets: Vec<Socket> = stream::iter(sessions.iter())
        .map(|s| relay.connect(&s.access_token))
        .buffer_unordered(128)
        .try_collect()
        .await?;
    let connect_time = started.elapsed();
    let open = sockets.len();
    for ws in sockets {
        idle_reader(ws);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = relay.rss_kib()?;
    let per = (after.saturating_sub(before)) as f64 * 1024.0 / open as f64;
    println!(
        "idle: {open} authenticated connections in {:.1} s; relay RSS {before} KiB → {after} KiB; {:.2} KiB per connection",
        connect_time.as_secs_f64(),
        per / 1024.0
    );
    Ok(())
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow)]
    ty: &'a str,
    #[serde(borrow, default)]
    client_id: Option<&'a str>,
    #[serde(borrow, default)]
    message: Option<PeekMessage<'a>>,
}

#[derive(Deserialize)]
struct PeekMessage<'a> {
    #[serde(borrow)]
    body: PeekBody<'a>,
}

#[derive(Deserialize)]
struct PeekBody<'a> {
    #[serde(borrow, default)]
    text: Option<&'a str>,
}

/// Send → ack latency for one sender sending one message at a time.
pub async fn latency(relay: &Relay, messages: usize) -> anyhow::Result<()> {
    let a = relay.account("lat_a", 1).await?.remove(0);
    let b = relay.account("lat_b", 1).await?.remove(0);
    let conv = relay.befriend(&a, &b).await?;
    idle_reader(relay.connect(&b.access_token).await?);
    let mut ws = relay.connect(&a.access_token).await?;
    let warmup = 500;
    let mut samples = Vec::with_capacity(messages);
    for i in 0..warmup + messages {
        let id = format!("l{i}");
        let t0 = Instant::now();
        ws.send(send_frame(conv, id.clone(), format!("latency probe {i}")))
            .await?;
        loop {
            let Some(msg) = ws.next().await else {
                anyhow::bail!("session ended");
            };
            if let WsMessage::Text(t) = msg? {
                let p: Peek = serde_json::from_str(&t)?;
                if p.ty == "ack" && p.client_id == Some(id.as_str()) {
                    break;
                }
                if p.ty == "error" {
                    anyhow::bail!("error frame: {t}");
                }
            }
        }
        if i >= warmup {
            samples.push(t0.elapsed().as_micros() as u64);
        }
    }
    println!("latency: send→ack {}", Samples::new(samples).summary());
    Ok(())
}

struct Tally {
    deliveries: u64,
    sent: u64,
    acks: u64,
    errors: u64,
    latencies: Vec<u64>,
}

/// Deliveries per second with `users` connections, each in a 1:1 chat and a
/// 10-member group, sending `rate` messages a second in all.
pub async fn throughput(
    relay: &Relay,
    users: usize,
    rate: u32,
    group_share: f64,
    seconds: u64,
) -> anyhow::Result<()> {
    let users = users.div_ceil(10) * 10;
    println!(
        "throughput: provisioning {users} accounts, {} pairs, {} groups of 10",
        users / 2,
        users / 10
    );
    let sessions: Vec<Session> = stream::iter(0..users)
        .map(|i| async move {
            relay
                .account(&format!("tp{i}"), 1)
                .await
                .map(|mut v| v.remove(0))
        })
        .buffered(32)
        .try_collect()
        .await?;
    let directs: Vec<ConversationId> = stream::iter(0..users / 2)
        .map(|p| relay.befriend(&sessions[2 * p], &sessions[2 * p + 1]))
        .buffered(32)
        .try_collect()
        .await?;
    let groups: Vec<ConversationId> = stream::iter(0..users / 10)
        .map(|g| {
            let sessions = &sessions;
            async move {
                let owner = &sessions[10 * g];
                for m in 1..10 {
                    relay.befriend(owner, &sessions[10 * g + m]).await?;
                }
                let members = (1..10)
                    .map(|m| sessions[10 * g + m].profile.user.id)
                    .collect();
                relay.group(owner, members).await
            }
        })
        .buffered(16)
        .try_collect()
        .await?;
    let sockets: Vec<Socket> = stream::iter(sessions.iter())
        .map(|s| relay.connect(&s.access_token))
        .buffered(128)
        .try_collect()
        .await?;
    println!(
        "throughput: {} sessions open; sending {rate} msg/s for {seconds} s after a 2 s warm-up",
        sockets.len()
    );

    let origin = micros_now();
    let window = (origin + 2_000_000, origin + 2_000_000 + seconds * 1_000_000);
    let per_user = Duration::from_secs_f64(users as f64 / f64::from(rate.max(1)));
    let cpu_before = relay.cpu_secs()?;
    let mut tasks = Vec::with_capacity(users);
    for (i, ws) in sockets.into_iter().enumerate() {
        let direct = directs[i / 2];
        let group = groups[i / 10];
        tasks.push(tokio::spawn(user_task(
            ws,
            i as u64,
            direct,
            group,
            group_share,
            per_user,
            window,
        )));
    }
    let mut total = Tally {
        deliveries: 0,
        sent: 0,
        acks: 0,
        errors: 0,
        latencies: Vec::new(),
    };
    for t in tasks {
        let tally = t.await??;
        total.deliveries += tally.deliveries;
        total.sent += tally.sent;
        total.acks += tally.acks;
        total.errors += tally.errors;
        total.latencies.extend(tally.latencies);
    }
    let cpu = relay.cpu_secs()? - cpu_before;
    let secs = seconds as f64;
    println!(
        "throughput: sent {:.0} msg/s, acked {:.0}/s, {:.0} deliveries/s, errors {}; relay CPU {:.2} cores",
        total.sent as f64 / secs,
        total.acks as f64 / secs,
        total.deliveries as f64 / secs,
        total.errors,
        cpu / (secs + 4.0)
    );
    println!(
        "throughput: delivery latency {}",
        Samples::new(total.latencies).summary()
    );
    Ok(())
}

async fn user_task(
    mut ws: Socket,
    seed: u64,
    direct: ConversationId,
    group: ConversationId,
    group_share: f64,
    every: Duration,
    (from, to): (u64, u64),
) -> anyhow::Result<Tally> {
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next_rand = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // Spread the senders' first ticks over one period.
    let offset = Duration::from_micros(next_rand() % every.as_micros().max(1) as u64);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
    let stop_sending = to;
    let finish = to + 2_000_000;
    let mut tally = Tally {
        deliveries: 0,
        sent: 0,
        acks: 0,
        errors: 0,
        latencies: Vec::new(),
    };
    let mut n = 0u64;
    let end = tokio::time::sleep(Duration::from_micros(finish.saturating_sub(micros_now())));
    tokio::pin!(end);
    loop {
        tokio::select! {
            msg = ws.next() => {
                let Some(msg) = msg else { break };
                let WsMessage::Text(t) = msg? else { continue };
                let now = micros_now();
                let p: Peek = serde_json::from_str(&t)?;
                let in_window = now >= from && now < to;
                match p.ty {
                    "message" => {
                        let sent = p
                            .message
                            .and_then(|m| m.body.text)
                            .and_then(|t| t.strip_prefix('t'))
                            .and_then(|t| t.parse::<u64>().ok());
                        if let Some(sent) = sent
                            && in_window
                        {
                            tally.deliveries += 1;
                            tally.latencies.push(now.saturating_sub(sent));
                        }
                    }
                    "ack" if in_window => tally.acks += 1,
                    "error" => tally.errors += 1,
                    _ => {}
                }
            }
            _ = ticker.tick() => {
                let now = micros_now();
                if now < stop_sending {
                    let conv = if (next_rand() % 10_000) as f64 / 10_000.0 < group_share { group } else { direct };
                    n += 1;
                    ws.send(send_frame(conv, format!("{seed}-{n}"), format!("t{now}"))).await?;
                    if now >= from {
                        tally.sent += 1;
                    }
                }
            }
            _ = &mut end => break,
        }
    }
    Ok(tally)
}

/// Delivery latency, sequential sends at `rate`: the sender and one receiver
/// on node `a`, another receiver on node `b`, all in one group.
pub async fn cross(a: &str, b: &str, messages: usize, rate: u32) -> anyhow::Result<()> {
    let relay = Relay::external(a);
    let tag = std::process::id();
    let sender = relay.account(&format!("x{tag}s"), 1).await?.remove(0);
    let near = relay.account(&format!("x{tag}n"), 1).await?.remove(0);
    let far = relay.account(&format!("x{tag}f"), 1).await?.remove(0);
    relay.befriend(&sender, &near).await?;
    relay.befriend(&sender, &far).await?;
    let group = relay
        .group(&sender, vec![near.profile.user.id, far.profile.user.id])
        .await?;
    let (mut ws, acks) = connect(relay.addr.as_str(), &sender.access_token)
        .await?
        .split();
    // The sender's acks are read (and dropped), so its queue never fills.
    tokio::spawn(acks.for_each(|_| async {}));
    let near_ws = connect(relay.addr.as_str(), &near.access_token).await?;
    let b = b.trim_start_matches("http://").trim_end_matches('/');
    let far_ws = connect(b, &far.access_token).await?;
    let warmup = 200;
    let total = warmup + messages;
    let receiver = |mut ws: Socket| {
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while samples.len() < total {
                let Some(msg) = ws.next().await else { break };
                let Ok(WsMessage::Text(t)) = msg else {
                    continue;
                };
                let now = micros_now();
                let Ok(p) = serde_json::from_str::<Peek>(&t) else {
                    continue;
                };
                let sent = p
                    .message
                    .and_then(|m| m.body.text)
                    .and_then(|t| t.strip_prefix('t'))
                    .and_then(|t| t.parse::<u64>().ok());
                if p.ty == "message"
                    && let Some(sent) = sent
                {
                    samples.push(now.saturating_sub(sent));
                }
            }
            samples.split_off(warmup.min(samples.len()))
        })
    };
    let (near_task, far_task) = (receiver(near_ws), receiver(far_ws));
    let every = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let mut ticker = tokio::time::interval(every);
    println!("cross: {messages} messages at {rate}/s; sender and one receiver on {a}, one on {b}");
    for i in 0..total {
        ticker.tick().await;
        let now = micros_now();
        ws.send(send_frame(group, format!("x{i}"), format!("t{now}")))
            .await?;
    }
    let near = Samples::new(near_task.await?);
    let far = Samples::new(far_task.await?);
    println!("cross: same node   {}", near.summary());
    println!("cross: other node  {}", far.summary());
    let diff = |p: f64| (far.pct(p).as_secs_f64() - near.pct(p).as_secs_f64()) * 1000.0;
    println!(
        "cross: added by the other node: p50 {:+.3} ms, p99 {:+.3} ms",
        diff(50.0),
        diff(99.0)
    );
    drop(ws);
    Ok(())
}
