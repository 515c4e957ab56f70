//! Percentiles of latency samples.

use std::time::Duration;

/// Sorted samples in microseconds.
pub struct Samples(Vec<u64>);

impl Samples {
    /// Takes samples (µs) in any order.
    pub fn new(mut v: Vec<u64>) -> Samples {
        v.sort_unstable();
        Samples(v)
    }

    /// The `p`-th percentile (0–100), nearest rank.
    pub fn pct(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        Duration::from_micros(self.0[rank.clamp(1, self.0.len()) - 1])
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// One line: n, p50, p90, p99, p99.9, max.
    pub fn summary(&self) -> String {
        let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
        format!(
            "n={} p50={} p90={} p99={} p99.9={} max={}",
            self.len(),
            ms(self.pct(50.0)),
            ms(self.pct(90.0)),
            ms(self.pct(99.0)),
            ms(self.pct(99.9)),
            ms(self.pct(100.0)),
        )
    }
}
