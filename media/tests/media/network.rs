//! Calls on a bad network. Each case runs in a network namespace of its own
//! (`unshare -n`: only `lo`, nothing leaves the machine), where the damage is
//! real: packets dropped by nftables on `lo` (5 % and 15 % at random, every
//! packet for a 3 s blackout, everything over a rate for a bandwidth cap),
//! and a UDP proxy of the test's own that holds every datagram 150 ± 30 ms,
//! reordering them as netem would.
//!
//! This kernel has no `sch_netem` (`tc qdisc add dev lo root netem` answers
//! "Specified qdisc kind is unknown"), hence nftables and the proxy. The proxy
//! puts itself in the path the way a NAT would: signalling carries its
//! address instead of each engine's own.
//!
//! In every case the caller sends a 440 Hz tone and the moving pattern, the
//! callee a 660 Hz tone: each side must still hear the other's tone as the
//! dominant frequency, pictures must keep coming (or come back by themselves
//! after the blackout), the call must not fail, and the stats (the HUD's
//! numbers) must show the damage. The bandwidth cap shows the encoder
//! following the path down (bitrate, then half the picture size) and back
//! up. Figures are printed, not asserted beyond sanity.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use natter_media::sink::AudioCollector;
use natter_media::{AudioSink, AudioSource, CallEvent, MediaConfig, VideoSource};
use tokio::net::UdpSocket;

use crate::common::{Rewrite, Side, assert_dominant, connect_with, rms};

/// The variable that tells a re-executed test binary it is inside its
/// namespace, and which case to run.
const CASE_VAR: &str = "NATTER_CALL_NETWORK_CASE";
/// One case at a time: each is a call with video on two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `case` in a fresh network namespace: this test binary again, under
/// `unshare -n`, running only [`inside`].
fn in_namespace(case: &str) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
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
    for line in stdout.lines().filter(|l| l.starts_with("call-network ")) {
        println!("{line}");
    }
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "case {case} failed:\n{stdout}\n{stderr}"
    );
}

#[test]
fn a_call_with_five_percent_loss() {
    in_namespace("loss5");
}

#[test]
fn a_call_with_fifteen_percent_loss() {
    in_namespace("loss15");
}

#[test]
fn a_call_with_150_ms_delay_and_30_ms_jitter() {
    in_namespace("delay");
}

#[test]
fn a_call_through_a_three_second_blackout() {
    in_namespace("blackout");
}

#[test]
fn a_call_follows_a_bandwidth_cap_down_and_back_up() {
    in_namespace("cap");
}

/// Picture size the caller sends.
const WIDTH: usize = 640;
const HEIGHT: usize = 360;

/// One case, inside its namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs only inside a network namespace, started by the cases above"]
async fn inside() {
    let case = std::env::var(CASE_VAR).expect("started by in_namespace");
    sh("ip link set lo up");
    let heard_by_callee = AudioCollector::new(2);
    let heard_by_caller = AudioCollector::new(2);
    let caller_config = MediaConfig {
        audio_source: AudioSource::Tone { hz: 440.0 },
        audio_sink: AudioSink::Collect(heard_by_caller.clone()),
        video_source: VideoSource::GrainyPattern {
            width: WIDTH,
            height: HEIGHT,
            fps: 15,
        },
        ..MediaConfig::synthetic()
    };
    let callee_config = MediaConfig {
        audio_source: AudioSource::Tone { hz: 660.0 },
        audio_sink: AudioSink::Collect(heard_by_callee.clone()),
        ..MediaConfig::synthetic()
    };
    let rewrite = (case == "delay").then(delaying_proxies);
    let (mut caller, mut callee) = connect_with(caller_config, callee_config, rewrite).await;
    callee
        .wait_for("the first picture", |e| *e == CallEvent::FirstVideo)
        .await;
    let pictures = count_pictures(&callee);
    // A clean start, so the estimate has settled before the damage.
    tokio::time::sleep(Duration::from_secs(3)).await;
    caller.engine.stats().await;
    callee.engine.stats().await;

    match case.as_str() {
        "loss5" | "loss15" => {
            let percent: u32 = case.trim_start_matches("loss").parse().unwrap();
            damage(&[&format!("numgen random mod 100 < {percent} drop")]);
            let window = observe(&caller, &callee, &pictures, Duration::from_secs(12)).await;
            undamage();
            window.print(&case);
            window.assert_media_flowed(&heard_by_callee, &heard_by_caller, 3.0);
            // The HUD shows the loss. Lost video is mostly repaired by
            // retransmission, audio's is not: the count stays above zero.
            let floor = f64::from(percent) / 100.0 / 5.0;
            assert!(
                window.callee_loss > floor,
                "loss {:.3} shown at {percent} %",
                window.callee_loss
            );
            if percent >= 15 {
                // Past 10 % loss the controller lowers the rate, and the
                // encoder with it.
                assert!(
                    window.lowest_target < 600_000.0,
                    "the estimate held at {:.0} under {percent} % loss",
                    window.lowest_target
                );
            }
        }
        "delay" => {
            let window = observe(&caller, &callee, &pictures, Duration::from_secs(10)).await;
            window.print(&case);
            window.assert_media_flowed(&heard_by_callee, &heard_by_caller, 5.0);
            let rtt = window.caller_rtt.expect("an RTT is shown");
            assert!(
                (Duration::from_millis(220)..Duration::from_millis(800)).contains(&rtt),
                "RTT {rtt:?} through 2 × 150 ms"
            );
        }
        "blackout" => {
            damage(&["drop"]);
            let dark = Instant::now();
            tokio::time::sleep(Duration::from_secs(3)).await;
            undamage();
            let light = Instant::now();
            let before = pictures.load(Ordering::Acquire);
            let before_audio = heard_by_callee.total_samples();
            let recovered = loop {
                if pictures.load(Ordering::Acquire) > before + 2
                    && heard_by_callee.total_samples() > before_audio + 48_000 / 2
                {
                    break light.elapsed();
                }
                assert!(
                    light.elapsed() < Duration::from_secs(15),
                    "no pictures or sound 15 s after a 3 s blackout"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            println!(
                "call-network blackout: {:.1} s dark; pictures and sound back {} ms after",
                (light - dark).as_secs_f64(),
                recovered.as_millis()
            );
            let window = observe(&caller, &callee, &pictures, Duration::from_secs(5)).await;
            window.print(&case);
            window.assert_media_flowed(&heard_by_callee, &heard_by_caller, 5.0);
        }
        "cap" => {
            // 400 kb/s over both directions: under what the encoder starts at.
            damage(&["limit rate over 50 kbytes/second burst 50 kbytes drop"]);
            let capped = Instant::now();
            let (target, width) = wait_for_send(&caller, Duration::from_secs(30), |t, w| {
                t < 450_000.0 && w == WIDTH as u32 / 2
            })
            .await;
            println!(
                "call-network cap: under 400 kb/s the estimate fell to {:.0} kb/s and the \
                 picture to {width} px wide in {:.1} s",
                target / 1000.0,
                capped.elapsed().as_secs_f64()
            );
            let window = observe(&caller, &callee, &pictures, Duration::from_secs(6)).await;
            window.print("cap (capped)");
            assert!(
                window.send_kbps < 400.0,
                "the caller sent {:.0} kb/s into a 400 kb/s path",
                window.send_kbps
            );
            window.assert_media_flowed(&heard_by_callee, &heard_by_caller, 3.0);
            undamage();
            let lifted = Instant::now();
            let (target, width) = wait_for_send(&caller, Duration::from_secs(60), |t, w| {
                t > 700_000.0 && w == WIDTH as u32
            })
            .await;
            println!(
                "call-network cap: lifted, the estimate rose to {:.0} kb/s and the picture to \
                 {width} px wide in {:.1} s",
                target / 1000.0,
                lifted.elapsed().as_secs_f64()
            );
        }
        other => panic!("no case {other}"),
    }
    for side in [&mut caller, &mut callee] {
        assert_not_failed(side);
    }
    caller.engine.close().await.unwrap();
    callee.engine.close().await.unwrap();
}

/// Counts the pictures the callee decodes.
fn count_pictures(callee: &Side) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let mut frames = callee.engine.remote_video().subscribe();
    let counter = count.clone();
    tokio::spawn(async move {
        while frames.changed().await.is_ok() {
            counter.fetch_add(1, Ordering::AcqRel);
        }
    });
    count
}

/// What a stretch of the call looked like.
struct Window {
    seconds: f64,
    pictures: u64,
    callee_loss: f64,
    callee_jitter: Option<Duration>,
    caller_rtt: Option<Duration>,
    lowest_target: f64,
    send_kbps: f64,
    receive_kbps: f64,
    sent_width: Option<u32>,
}

/// Watches the call for `length`, sampling the stats every second.
async fn observe(caller: &Side, callee: &Side, pictures: &AtomicU64, length: Duration) -> Window {
    let start = Instant::now();
    let first_pictures = pictures.load(Ordering::Acquire);
    let mut lowest_target = f64::INFINITY;
    let mut sent = Vec::new();
    let mut received = Vec::new();
    let (mut caller_stats, mut callee_stats) = (None, None);
    while start.elapsed() < length {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let c = caller.engine.stats().await;
        if let Some(t) = c.target_bitrate_bps {
            lowest_target = lowest_target.min(t);
        }
        sent.push(c.send_bitrate_bps);
        let r = callee.engine.stats().await;
        received.push(r.recv_bitrate_bps);
        if std::env::var_os("NATTER_DEBUG_STATS").is_some() {
            eprintln!("caller {c:?}\ncallee {r:?}");
        }
        caller_stats = Some(c);
        callee_stats = Some(r);
    }
    let caller_stats = caller_stats.expect("at least one sample");
    let callee_stats = callee_stats.expect("at least one sample");
    Window {
        seconds: start.elapsed().as_secs_f64(),
        pictures: pictures.load(Ordering::Acquire) - first_pictures,
        callee_loss: callee_stats.loss_fraction,
        callee_jitter: callee_stats.jitter,
        caller_rtt: caller_stats.rtt,
        lowest_target,
        send_kbps: mean(&sent) / 1000.0,
        receive_kbps: mean(&received) / 1000.0,
        sent_width: caller_stats.sent_video.map(|v| v.width),
    }
}

impl Window {
    fn print(&self, case: &str) {
        println!(
            "call-network {case}: {:.1} pictures/s received, loss shown {:.1} %, jitter {} ms, \
             RTT {} ms, caller sending {:.0} kb/s, callee receiving {:.0} kb/s, lowest estimate \
             {:.0} kb/s, picture {} px wide",
            self.pictures as f64 / self.seconds,
            self.callee_loss * 100.0,
            self.callee_jitter
                .map_or("-".into(), |j| j.as_millis().to_string()),
            self.caller_rtt
                .map_or("-".into(), |r| r.as_millis().to_string()),
            self.send_kbps,
            self.receive_kbps,
            self.lowest_target / 1000.0,
            self.sent_width.map_or("-".into(), |w| w.to_string()),
        );
    }

    /// Each side hears the other's tone, the callee sees at least
    /// `min_fps` pictures a second.
    fn assert_media_flowed(
        &self,
        at_callee: &AudioCollector,
        at_caller: &AudioCollector,
        min_fps: f64,
    ) {
        for (collector, hz, who) in [(at_callee, 440.0, "callee"), (at_caller, 660.0, "caller")] {
            let samples = collector.samples();
            assert!(
                samples.len() >= 48_000,
                "the {who} kept only {} samples of the last 2 s",
                samples.len()
            );
            assert!(rms(&samples) > 500.0, "the {who} hears near silence");
            assert_dominant(&samples, hz);
        }
        let fps = self.pictures as f64 / self.seconds;
        assert!(fps >= min_fps, "{fps:.1} pictures a second at the callee");
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Waits until the caller's estimate and picture width satisfy `done`;
/// returns them.
async fn wait_for_send(
    caller: &Side,
    patience: Duration,
    done: impl Fn(f64, u32) -> bool,
) -> (f64, u32) {
    let start = Instant::now();
    loop {
        let stats = caller.engine.stats().await;
        let target = stats.target_bitrate_bps.unwrap_or(f64::NAN);
        let width = stats.sent_video.map_or(0, |v| v.width);
        if done(target, width) {
            return (target, width);
        }
        assert!(
            start.elapsed() < patience,
            "after {patience:?}: estimate {target:.0} b/s, picture {width} px wide"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn assert_not_failed(side: &mut Side) {
    while let Ok(event) = side.events.try_recv() {
        side.seen.push(event);
    }
    assert!(
        !side
            .seen
            .iter()
            .any(|e| matches!(e, CallEvent::Failed(_) | CallEvent::Closed)),
        "the call did not hold: {:?}",
        side.seen
    );
}

/// Adds nftables rules to everything leaving on `lo` (in this namespace).
fn damage(rules: &[&str]) {
    let mut script = vec![
        "add table ip damage".to_owned(),
        "add chain ip damage out { type filter hook output priority 0; }".to_owned(),
    ];
    script.extend(
        rules
            .iter()
            .map(|rule| format!("add rule ip damage out meta l4proto udp {rule}")),
    );
    nft(&script.join("\n"));
}

/// Removes the damage.
fn undamage() {
    nft("delete table ip damage");
}

fn nft(script: &str) {
    use std::io::Write;
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("nft (nftables) is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{script}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "nft: {script}");
}

fn sh(command: &str) {
    let status = Command::new("sh").args(["-c", command]).status().unwrap();
    assert!(status.success(), "{command}");
}

/// Rewrites every candidate (in SDP or trickled) so that it names a proxy
/// in front of the engine instead of the engine itself. Each proxy holds
/// each datagram 150 ± 30 ms, both ways.
fn delaying_proxies() -> Rewrite {
    let proxies: Arc<Mutex<HashMap<u16, u16>>> = Arc::default();
    Arc::new(move |text: String| {
        let rewrite_line = |line: &str| -> String {
            let Some(at) = line.find("candidate:") else {
                return line.to_owned();
            };
            let mut fields: Vec<String> = line[at..].split(' ').map(str::to_owned).collect();
            if fields.len() < 6 || !fields[2].eq_ignore_ascii_case("udp") {
                return line.to_owned();
            }
            let Ok(port) = fields[5].parse::<u16>() else {
                return line.to_owned();
            };
            let engine: SocketAddr = format!("{}:{port}", fields[4])
                .parse()
                .expect("a numeric candidate address");
            let mut map = proxies.lock().unwrap();
            let front = *map.entry(port).or_insert_with(|| start_proxy(engine));
            fields[5] = front.to_string();
            format!("{}{}", &line[..at], fields.join(" "))
        };
        text.split("\r\n")
            .map(rewrite_line)
            .collect::<Vec<_>>()
            .join("\r\n")
    })
}

/// A UDP proxy in front of `engine`: what arrives from anyone else goes to
/// the engine, what the engine sends goes to whoever spoke last, each
/// datagram 150 ± 30 ms later. Returns its port.
fn start_proxy(engine: SocketAddr) -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let port = socket.local_addr().unwrap().port();
    let socket = Arc::new(UdpSocket::from_std(socket).unwrap());
    tokio::spawn(async move {
        let mut peer: Option<SocketAddr> = None;
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let to = if from == engine {
                match peer {
                    Some(peer) => peer,
                    None => continue,
                }
            } else {
                peer = Some(from);
                engine
            };
            let datagram = buf[..n].to_vec();
            let delay = Duration::from_millis(120 + rand::random::<u64>() % 61);
            let socket = socket.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = socket.send_to(&datagram, to).await;
            });
        }
    });
    port
}
