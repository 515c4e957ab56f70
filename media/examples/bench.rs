//! Media benchmarks (not tests): encoder CPU at 720p30 and call setup time on
//! loopback. Figures and the commands that produced them are in `BENCHMARKS.md`.
//!
//! ```text
//! cargo run -p natter-media --example bench [--release] -- [encoder|setup|all] [--seconds N] [--runs N]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use natter_media::codec::video::{H264Encoder, VideoEncoderSettings};
use natter_media::source::VideoCapture;
use natter_media::source::pattern::PatternSource;
use natter_media::{CallEngine, CallEvent, I420Frame, MediaConfig, Role, SdpType};
use tokio::sync::mpsc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("all", String::as_str).to_owned();
    let flag = |name: &str, default: u64| -> anyhow::Result<u64> {
        match args.iter().position(|a| a == name) {
            Some(i) => args
                .get(i + 1)
                .context("flag without value")?
                .parse()
                .context("not a number"),
            None => Ok(default),
        }
    };
    let seconds = flag("--seconds", 10)?;
    let runs = flag("--runs", 20)?;
    if what == "encoder" || what == "all" {
        encoder(seconds)?;
    }
    if what == "setup" || what == "all" {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        runtime.block_on(setup(runs))?;
    }
    Ok(())
}

/// CPU time this thread has used, from the scheduler's own accounting (ns precision).
fn thread_cpu() -> anyhow::Result<Duration> {
    schedstat("/proc/thread-self/schedstat")
}

/// CPU time all live threads of this process have used.
fn process_cpu() -> anyhow::Result<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task")? {
        let path = task?.path().join("schedstat");
        // A thread may exit between listing and reading.
        if let Ok(cpu) = schedstat(&path.to_string_lossy()) {
            total += cpu;
        }
    }
    Ok(total)
}

fn schedstat(path: &str) -> anyhow::Result<Duration> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {path} (Linux only)"))?;
    let ns: u64 = text
        .split_whitespace()
        .next()
        .context("empty schedstat")?
        .parse()?;
    Ok(Duration::from_nanos(ns))
}

/// Adds camera-like sensor noise (±12 on luma) so the encoder has real work: the
/// bare pattern is nearly static and compresses to almost nothing.
fn add_noise(frame: &mut I420Frame, seed: &mut u32) {
    let luma = frame.width * frame.height;
    for px in &mut frame.data[..luma] {
        // xorshift32
        *seed ^= *seed << 13;
        *seed ^= *seed >> 17;
        *seed ^= *seed << 5;
        let delta = (*seed % 25) as i16 - 12;
        *px = (i16::from(*px) + delta).clamp(16, 235) as u8;
    }
}

/// Captures the test pattern at 1280×720, 30 fps in real time and encodes every frame
/// on this thread, as the call's video thread does; `noisy` adds sensor noise first.
fn encoder_run(seconds: u64, noisy: bool) -> anyhow::Result<()> {
    let settings = VideoEncoderSettings::default();
    let mut source = PatternSource::new(1280, 720, 30)?;
    let mut encoder = H264Encoder::new(settings)?;
    let mut seed = 0x9e37_79b9u32;
    // Warm-up: the first frames include encoder start-up.
    for _ in 0..5 {
        encoder.encode(&source.next_frame()?)?;
    }
    let frames = seconds * 30;
    let (cpu0, process0, wall0) = (thread_cpu()?, process_cpu()?, Instant::now());
    let mut encode_cpu = Duration::ZERO;
    let mut bytes = 0usize;
    for _ in 0..frames {
        let mut frame = source.next_frame()?;
        if noisy {
            add_noise(&mut frame, &mut seed);
        }
        let before = thread_cpu()?;
        bytes += encoder.encode(&frame)?.len();
        encode_cpu += thread_cpu()? - before;
    }
    let (cpu, process, wall) = (
        thread_cpu()? - cpu0,
        process_cpu()? - process0,
        wall0.elapsed(),
    );
    let content = if noisy { "pattern + noise" } else { "pattern" };
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / wall.as_secs_f64();
    println!(
        "encoder ({content}): 1280x720 @ 30 fps, {frames} frames over {:.1} s wall",
        wall.as_secs_f64()
    );
    println!(
        "  encoder CPU: {:.1} % of one core ({:.2} ms a frame); whole capture thread {:.1} %; whole process {:.1} %",
        pct(encode_cpu),
        encode_cpu.as_secs_f64() * 1000.0 / frames as f64,
        pct(cpu),
        pct(process)
    );
    println!(
        "  output {:.0} kbit/s (target {} kbit/s)",
        bytes as f64 * 8.0 / wall.as_secs_f64() / 1000.0,
        settings.bitrate / 1000
    );
    Ok(())
}

fn encoder(seconds: u64) -> anyhow::Result<()> {
    encoder_run(seconds, false)?;
    encoder_run(seconds, true)?;
    // A camera delivers RGB, converted to I420 before the encoder.
    let rgb: Vec<u8> = (0..1280 * 720 * 3).map(|i| (i % 251) as u8).collect();
    let before = thread_cpu()?;
    for _ in 0..30 {
        std::hint::black_box(I420Frame::from_rgb(std::hint::black_box(&rgb), 1280, 720));
    }
    let per_frame = (thread_cpu()? - before) / 30;
    println!(
        "camera RGB -> I420 at 1280x720: {:.2} ms a frame = {:.1} % of one core at 30 fps",
        per_frame.as_secs_f64() * 1000.0,
        per_frame.as_secs_f64() * 30.0 * 100.0
    );
    Ok(())
}

/// Time marks of one call set-up.
struct Marks {
    started: Instant,
    answer_applied: Instant,
    connected: Instant,
    callee_audio: Instant,
    caller_audio: Instant,
}

/// Forwards SDP and candidates from one engine to the other; reports when the
/// answer has been applied and passes other events on.
fn pump(
    mut from: mpsc::UnboundedReceiver<CallEvent>,
    to: Arc<CallEngine>,
    applied: mpsc::UnboundedSender<Instant>,
) -> mpsc::UnboundedReceiver<CallEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = from.recv().await {
            match event {
                CallEvent::LocalSdp { sdp_type, sdp } => {
                    if to.set_remote_sdp(sdp_type, sdp).await.is_ok() && sdp_type == SdpType::Answer
                    {
                        let _ = applied.send(Instant::now());
                    }
                }
                CallEvent::LocalCandidate(candidate) => {
                    let _ = to.add_remote_candidate(candidate).await;
                }
                other => {
                    let _ = tx.send(other);
                }
            }
        }
    });
    rx
}

async fn wait_event(
    events: &mut mpsc::UnboundedReceiver<CallEvent>,
    want: CallEvent,
) -> anyhow::Result<Instant> {
    let wait = async {
        while let Some(event) = events.recv().await {
            match event {
                event if event == want => return Ok(Instant::now()),
                CallEvent::Failed(reason) => bail!("call failed: {reason}"),
                _ => {}
            }
        }
        bail!("events ended")
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .context("nothing within 20 s")?
}

async fn one_call() -> anyhow::Result<Marks> {
    let started = Instant::now();
    let (answerer, answerer_events) =
        CallEngine::new(MediaConfig::synthetic(), Role::Answerer).await?;
    let answerer = Arc::new(answerer);
    let (offerer, offerer_events) =
        CallEngine::new(MediaConfig::synthetic(), Role::Offerer).await?;
    let offerer = Arc::new(offerer);
    let (applied_tx, mut applied_rx) = mpsc::unbounded_channel();
    let mut caller = pump(offerer_events, answerer.clone(), applied_tx.clone());
    let mut callee = pump(answerer_events, offerer.clone(), applied_tx);
    let connected = wait_event(&mut callee, CallEvent::Connected).await?;
    let callee_audio = wait_event(&mut callee, CallEvent::FirstAudio).await?;
    let caller_audio = wait_event(&mut caller, CallEvent::FirstAudio).await?;
    let answer_applied = applied_rx.recv().await.context("answer never applied")?;
    offerer.close().await?;
    answerer.close().await?;
    Ok(Marks {
        started,
        answer_applied,
        connected,
        callee_audio,
        caller_audio,
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sets up `runs` audio calls on loopback, one after another, and reports the time
/// from the answer being applied to the first decoded audio frame.
async fn setup(runs: u64) -> anyhow::Result<()> {
    let mut callee_ms = Vec::new();
    let mut caller_ms = Vec::new();
    let mut connected_ms = Vec::new();
    let mut whole_ms = Vec::new();
    for _ in 0..runs {
        let marks = one_call().await?;
        let since = |t: Instant| {
            t.saturating_duration_since(marks.answer_applied)
                .as_secs_f64()
                * 1000.0
        };
        callee_ms.push(since(marks.callee_audio));
        caller_ms.push(since(marks.caller_audio));
        connected_ms.push(since(marks.connected));
        whole_ms.push(
            marks
                .callee_audio
                .saturating_duration_since(marks.started)
                .as_secs_f64()
                * 1000.0,
        );
    }
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        println!("connected ms: {connected_ms:.0?}");
        println!("callee audio ms: {callee_ms:.0?}");
    }
    for (what, ms) in [
        (
            "answer applied -> first decoded audio at the callee",
            &mut callee_ms,
        ),
        (
            "answer applied -> first decoded audio at the caller",
            &mut caller_ms,
        ),
        ("answer applied -> connected (callee)", &mut connected_ms),
        (
            "engines created -> first decoded audio at the callee",
            &mut whole_ms,
        ),
    ] {
        ms.sort_by(f64::total_cmp);
        println!(
            "setup: {what}, {runs} calls: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            percentile(ms, 50.0),
            percentile(ms, 95.0),
            ms.last().copied().unwrap_or(0.0)
        );
    }
    Ok(())
}
