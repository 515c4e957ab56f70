//! Chat over a bad network. Each case runs in a network namespace of its own
//! (`unshare -n`: only `lo`, nothing leaves the machine), where the damage is
//! real: packets dropped and duplicated by nftables on `lo`, a blackout that
//! drops every packet for 20 s, and a TCP proxy of the test's own that delays
//! every chunk by 300 ± 100 ms, stalls a connection, or cuts it mid-frame.
//!
//! This kernel has no `sch_netem` (`tc qdisc add dev lo root netem` answers
//! "Specified qdisc kind is unknown"), so loss and duplication come from
//! nftables and delay from the proxy. The proxy keeps each direction in
//! order, as TCP would deliver it after reordering.
//!
//! Two clients exchange 1,000 messages each way in every case: each message
//! must arrive exactly once, in seq order, in both stores, and both outboxes
//! must drain. Each case prints delivery latency percentiles (a measurement,
//! not asserted: `make bench-network` runs the cases on a release build).

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use natter_net::session::Event;
use natter_proto::model::MessageBody;
use natter_server::{Config, Relay};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

/// Messages each client sends.
const EACH: usize = 1_000;
/// The variable that tells a re-executed test binary it is inside its
/// namespace, and which case to run.
const CASE_VAR: &str = "NATTER_NETWORK_CASE";

/// Runs `case` in a fresh network namespace: this test binary again, under
/// `unshare -n`, running only [`inside`].
fn in_namespace(case: &str) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["-n", "--"])
        .arg(exe)
        .args([
            "--exact",
            "network::inside",
            "--include-ignored",
            "--nocapture",
        ])
        .env(CASE_VAR, case)
        .output()
        .expect("unshare (util-linux) runs; the tests run as root");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stdout.lines().filter(|l| l.starts_with("network ")) {
        println!("{line}");
    }
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "case {case} failed:\n{stdout}\n{stderr}"
    );
}

#[test]
fn ten_percent_loss_and_one_percent_duplication() {
    in_namespace("loss");
}

#[test]
fn three_hundred_ms_delay_with_jitter() {
    in_namespace("delay");
}

#[test]
fn a_twenty_second_blackout() {
    in_namespace("blackout");
}

#[test]
fn a_proxy_that_stalls_and_cuts_connections_mid_frame() {
    in_namespace("cut");
}

/// The body of every case; run only inside its namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs inside a network namespace, started by the cases above"]
async fn inside() {
    let case = std::env::var(CASE_VAR).expect("started by in_namespace");
    sh("ip link set lo up");
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.heartbeat_ms = 1_000;
    // 1,000 messages sent at once: not what the rate limit is for.
    config.limits.frames_per_sec = 100_000;
    config.limits.frames_burst = 100_000;
    let relay = Relay::start(config).await.unwrap();
    let url = match case.as_str() {
        "delay" => proxy(relay.addr, Damage::Delay).await,
        "cut" => proxy(relay.addr, Damage::StallThenCut).await,
        _ => relay.http_url(),
    };
    let mut a = TestClient::new_at(&url, "ada").await;
    let mut b = TestClient::new_at(&url, "bob").await;
    a.synced().await;
    b.synced().await;
    let conv = befriend(&a, &b).await;
    b.wait_event("friend added", |e| matches!(e, Event::Account(_)))
        .await;

    let blackout_over = std::sync::Arc::new(std::sync::OnceLock::<Instant>::new());
    match case.as_str() {
        "loss" => nft(&[
            "add table ip damage",
            "add chain ip damage out { type filter hook output priority 0; }",
            "add rule ip damage out numgen random mod 100 < 10 drop",
            "add rule ip damage out numgen random mod 100 < 1 dup to 127.0.0.1 device lo",
        ]),
        "blackout" => {
            let over = blackout_over.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                nft(&[
                    "add table ip damage",
                    "add chain ip damage out { type filter hook output priority 0; }",
                    "add rule ip damage out drop",
                ]);
                println!("network blackout: every packet on lo dropped for 20 s");
                tokio::time::sleep(Duration::from_secs(20)).await;
                nft(&["delete table ip damage"]);
                let _ = over.set(Instant::now());
                println!("network blackout: over");
            });
        }
        _ => {}
    }

    let started = Instant::now();
    let send = |client: natter_net::Client, who: &'static str| {
        tokio::spawn(async move {
            for i in 0..EACH {
                let at = started.elapsed().as_millis();
                client
                    .send_text(conv, &format!("{who}:{i}:{at}"))
                    .await
                    .unwrap();
                // About 200 messages a second from each side.
                if i % 10 == 9 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        })
    };
    let senders = [send(a.client.clone(), "a"), send(b.client.clone(), "b")];
    let (la, lb) = tokio::join!(
        arrivals(&mut a, "b", started),
        arrivals(&mut b, "a", started)
    );
    for s in senders {
        s.await.unwrap();
    }
    if let Some(over) = blackout_over.get() {
        // Every message through again: how long after the network came back.
        println!(
            "network blackout: all delivered {:.1} s after the network came back",
            over.elapsed().as_secs_f64()
        );
    }

    // Exactly once, in seq order, the same in both stores; outboxes empty.
    let total = 2 * EACH as u64;
    a.wait_held(conv, total).await;
    b.wait_held(conv, total).await;
    let (ma, mb) = (a.all(conv).await, b.all(conv).await);
    assert_eq!(ma, mb, "both stores hold the same history");
    assert_eq!(
        ma.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    for who in ["a", "b"] {
        let mut sent: Vec<usize> = texts(&ma)
            .iter()
            .filter_map(|t| t.strip_prefix(&format!("{who}:")))
            .map(|t| t.split(':').next().unwrap().parse().unwrap())
            .collect();
        // In the order each client sent them, none twice, none missing.
        assert_eq!(sent, (0..EACH).collect::<Vec<_>>(), "{who}'s messages");
        sent.dedup();
        assert_eq!(sent.len(), EACH);
    }
    wait_drained(&a).await;
    wait_drained(&b).await;

    let mut latencies: Vec<u128> = la.into_iter().chain(lb).collect();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "network {case}: {} deliveries, latency p50 {} ms, p99 {} ms, max {} ms, all in {:.1} s",
        latencies.len(),
        pct(0.50),
        pct(0.99),
        latencies.last().unwrap(),
        started.elapsed().as_secs_f64()
    );
    drop((a, b));
    relay.shutdown().await;
}

/// Records when each message from `from` arrives at `client`: the delivery
/// latency of each, in ms, once all [`EACH`] have arrived.
async fn arrivals(client: &mut TestClient, from: &str, started: Instant) -> Vec<u128> {
    let mut seen: HashMap<usize, u128> = HashMap::new();
    let prefix = format!("{from}:");
    let deadline = Instant::now() + Duration::from_secs(240);
    while seen.len() < EACH {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = tokio::time::timeout(left, client.events.recv())
            .await
            .unwrap_or_else(|_| panic!("{} of {EACH} arrived in 240 s", seen.len()))
            .expect("session ended");
        let Event::Messages { new, .. } = event else {
            continue;
        };
        let now = started.elapsed().as_millis();
        for m in new {
            let MessageBody::Text { text } = &m.body else {
                continue;
            };
            let Some(rest) = text.strip_prefix(&prefix) else {
                continue;
            };
            let mut parts = rest.split(':');
            let i: usize = parts.next().unwrap().parse().unwrap();
            let at: u128 = parts.next().unwrap().parse().unwrap();
            seen.entry(i).or_insert(now.saturating_sub(at));
        }
    }
    seen.into_values().collect()
}

async fn wait_drained(client: &TestClient) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = client.client.outbox().await.unwrap();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} left in the outbox",
            left.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sh(cmd: &str) {
    let mut parts = cmd.split_whitespace();
    let status = Command::new(parts.next().unwrap())
        .args(parts)
        .status()
        .unwrap();
    assert!(status.success(), "{cmd}");
}

/// Applies nftables commands in the namespace.
fn nft(commands: &[&str]) {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("nft (nftables) is installed");
    let script = commands.join("\n") + "\n";
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "nft: {script}");
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Every chunk held 300 ± 100 ms, each direction in order.
    Delay,
    /// The first WebSocket stalls (the relay's frames stop reaching the
    /// client, the connection stays open) after 4 KiB; the next five are cut
    /// after 2–32 KB, in the middle of a frame; later ones pass.
    StallThenCut,
}

/// A TCP proxy in front of `relay`; returns its base URL.
async fn proxy(relay: std::net::SocketAddr, damage: Damage) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let websockets = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(relay).await else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            tokio::spawn(pipe(client, server, damage, websockets.clone()));
        }
    });
    url
}

async fn pipe(
    mut client: TcpStream,
    server: TcpStream,
    damage: Damage,
    websockets: std::sync::Arc<std::sync::atomic::AtomicU32>,
) {
    // REST calls pass (delayed, with `Delay`); WebSocket sessions are the
    // ones stalled and cut, told apart by their upgrade request.
    let mut first = vec![0u8; 16 * 1024];
    let n = match client.read(&mut first).await {
        Ok(0) | Err(_) => return,
        Ok(n) => n,
    };
    first.truncate(n);
    let upgrade = String::from_utf8_lossy(&first)
        .to_ascii_lowercase()
        .contains("upgrade: websocket");
    let ws = if upgrade {
        websockets.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
    } else {
        0
    };
    let (cut_after, stall) = match damage {
        Damage::StallThenCut if ws == 1 => (None, true),
        Damage::StallThenCut if (2..=6).contains(&ws) => {
            (Some(2_000 + fastrand(ws) % 30_000), false)
        }
        _ => (None, false),
    };
    if ws > 0 && (stall || cut_after.is_some()) {
        println!("network cut: websocket {ws}: stall {stall}, cut after {cut_after:?} bytes");
    }
    if cut_after.is_some() {
        // Closing then sends a reset, as a dropped connection would. A zero
        // linger never blocks on drop (nothing is waited for).
        #[allow(deprecated)]
        let _ = client.set_linger(Some(Duration::ZERO));
        #[allow(deprecated)]
        let _ = server.set_linger(Some(Duration::ZERO));
    }
    let cut = std::sync::Arc::new(tokio::sync::Notify::new());
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = tokio::spawn(forward(
        cr,
        sw,
        first,
        damage,
        cut_after,
        false,
        ws,
        cut.clone(),
    ));
    let down = tokio::spawn(forward(
        sr,
        cw,
        Vec::new(),
        damage,
        cut_after,
        stall,
        ws + 1000,
        cut,
    ));
    let _ = tokio::join!(up, down);
}

/// A small deterministic spread of numbers from a seed.
fn fastrand(seed: u32) -> u64 {
    let mut x = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 32)
}

#[allow(clippy::too_many_arguments)]
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    first: Vec<u8>,
    damage: Damage,
    cut_after: Option<u64>,
    stall: bool,
    seed: u32,
    cut: std::sync::Arc<tokio::sync::Notify>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    // The writer delivers chunks at their due time, in order.
    let mut writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let reader = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut passed = 0u64;
        let mut k = 0u32;
        let mut pending = (!first.is_empty()).then_some(first);
        loop {
            let mut chunk = match pending.take() {
                Some(first) => first,
                None => match from.read(&mut buf).await {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => buf[..n].to_vec(),
                },
            };
            let n = chunk.len() as u64;
            k += 1;
            if let Some(limit) = cut_after
                && passed + n > limit
            {
                chunk.truncate((limit - passed) as usize);
                let _ = tx.send((tokio::time::Instant::now(), chunk));
                return true;
            }
            passed += n;
            if stall && passed > 4_096 {
                // The connection stays open and forwards nothing more.
                std::future::pending::<()>().await;
            }
            let due = match damage {
                Damage::Delay => {
                    let jitter = fastrand(seed.wrapping_mul(31).wrapping_add(k)) % 200;
                    tokio::time::Instant::now() + Duration::from_millis(200 + jitter)
                }
                Damage::StallThenCut => tokio::time::Instant::now(),
            };
            if tx.send((due, chunk)).is_err() {
                return false;
            }
        }
    };
    tokio::select! {
        cut_here = reader => {
            if cut_here {
                // Give the truncated chunk a moment to go out, then cut both ways.
                tokio::time::sleep(Duration::from_millis(20)).await;
                cut.notify_waiters();
                writer.abort();
            } else {
                drop(tx);
                let _ = (&mut writer).await;
            }
        }
        _ = cut.notified() => writer.abort(),
    }
}
