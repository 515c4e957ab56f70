//! Helpers shared by the media integration tests: tone detection, colour checks and
//! a two-peer loopback harness whose "signalling" is a pair of in-process tasks.

use std::sync::Arc;
use std::time::Duration;

use natter_media::{CallEngine, CallEvent, MediaConfig, Role};
use tokio::sync::mpsc;

/// Power of `hz` in `samples` (48 kHz), by the Goertzel algorithm.
pub fn goertzel(samples: &[i16], hz: f64) -> f64 {
    let n = samples.len() as f64;
    let k = (n * hz / 48_000.0).round();
    let w = 2.0 * std::f64::consts::PI * k / n;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Asserts `hz` clearly dominates its neighbours in `samples`.
pub fn assert_dominant(samples: &[i16], hz: f64) {
    let target = goertzel(samples, hz);
    for other in [hz * 0.5, hz * 0.75, hz * 1.25, hz * 1.5, hz * 2.0] {
        let p = goertzel(samples, other);
        assert!(
            target > 20.0 * p,
            "{hz} Hz should dominate: power {target:.3e} vs {p:.3e} at {other} Hz"
        );
    }
}

pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|s| f64::from(*s).powi(2)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// Whether two RGB colours are within `tolerance` on every channel.
pub fn close(a: [u8; 3], b: [u8; 3], tolerance: i32) -> bool {
    a.iter()
        .zip(b.iter())
        .all(|(x, y)| (i32::from(*x) - i32::from(*y)).abs() <= tolerance)
}

/// Generous bound for anything that should take well under a second.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One side of a connected test call.
pub struct Side {
    pub engine: Arc<CallEngine>,
    /// Events the harness did not consume (everything but SDP and candidates).
    pub events: mpsc::UnboundedReceiver<CallEvent>,
    /// Events read while waiting for something else, oldest first.
    pub seen: Vec<CallEvent>,
}

impl Side {
    /// Waits for an event matching `want`, failing the test after [`PATIENCE`].
    pub async fn wait_for(&mut self, what: &str, want: impl Fn(&CallEvent) -> bool) -> CallEvent {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i);
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if want(&event) => return event,
                Ok(Some(CallEvent::Failed(reason))) => {
                    panic!("call failed waiting for {what}: {reason}")
                }
                Ok(Some(other)) => self.seen.push(other),
                Ok(None) => panic!("event channel closed waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }
}

/// What signalling does to an address on its way (a test's proxy puts
/// itself in the path by rewriting candidates and SDP).
pub type Rewrite = Arc<dyn Fn(String) -> String + Send + Sync>;

/// Forwards `from`'s SDP and candidates to `to`, passes everything else on.
fn pump(
    mut from: mpsc::UnboundedReceiver<CallEvent>,
    to: Arc<CallEngine>,
    rewrite: Option<Rewrite>,
) -> mpsc::UnboundedReceiver<CallEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = from.recv().await {
            match event {
                CallEvent::LocalSdp { sdp_type, sdp } => {
                    let sdp = match &rewrite {
                        Some(rewrite) => rewrite(sdp),
                        None => sdp,
                    };
                    to.set_remote_sdp(sdp_type, sdp)
                        .await
                        .expect("the peer accepts our SDP");
                }
                CallEvent::LocalCandidate(mut candidate) => {
                    if let Some(rewrite) = &rewrite {
                        candidate.candidate = rewrite(candidate.candidate);
                    }
                    // A candidate may race the close at the end of a test.
                    let _ = to.add_remote_candidate(candidate).await;
                }
                other => {
                    if tx.send(other).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Starts a call between two engines on loopback and returns once both report
/// `Connected`.
pub async fn connect(caller: MediaConfig, callee: MediaConfig) -> (Side, Side) {
    connect_with(caller, callee, None).await
}

/// [`connect`], with every candidate and SDP passed through `rewrite` on
/// its way to the other side.
pub async fn connect_with(
    caller: MediaConfig,
    callee: MediaConfig,
    rewrite: Option<Rewrite>,
) -> (Side, Side) {
    let (answerer, answerer_events) = CallEngine::new(callee, Role::Answerer)
        .await
        .expect("answerer builds");
    let answerer = Arc::new(answerer);
    let (offerer, offerer_events) = CallEngine::new(caller, Role::Offerer)
        .await
        .expect("offerer builds");
    let offerer = Arc::new(offerer);
    let mut a = Side {
        events: pump(offerer_events, answerer.clone(), rewrite.clone()),
        engine: offerer,
        seen: Vec::new(),
    };
    let mut b = Side {
        events: pump(answerer_events, a.engine.clone(), rewrite),
        engine: answerer,
        seen: Vec::new(),
    };
    a.wait_for("caller connected", |e| *e == CallEvent::Connected)
        .await;
    b.wait_for("callee connected", |e| *e == CallEvent::Connected)
        .await;
    (a, b)
}
