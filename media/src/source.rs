//! Where outgoing media comes from. A source is pulled from its own thread: each
//! `next_frame` call blocks until the next frame is due (synthetic sources pace
//! themselves in real time) or until the device delivers one.
//!
//! - [`tone`]: a sine wave, for calls without a microphone.
//! - [`pattern`]: colour bars with a moving block, for calls without a camera.
//! - [`screen`]: a shared screen or window, and a synthetic page standing in
//!   for one on machines without a display.
//! - Real devices live in [`crate::device`] and implement the same traits.

pub mod pattern;
pub mod screen;
pub mod tone;

use std::time::{Duration, Instant};

use crate::Result;
use crate::frame::{AudioFrame, I420Frame};

/// A started audio capture. Dropping it stops capture and releases the device.
pub trait AudioCapture {
    /// Blocks until the next 20 ms frame is available. Returns an error when the
    /// device goes away or stops delivering for a second or more.
    fn next_frame(&mut self) -> Result<AudioFrame>;
}

/// A started video capture. Dropping it stops capture and releases the device.
pub trait VideoCapture {
    /// Blocks until the next picture is available.
    fn next_frame(&mut self) -> Result<I420Frame>;

    /// Nominal frame rate, used for RTP timing and the encoder's rate control.
    fn fps(&self) -> u32;
}

/// Real-time pacing for synthetic sources: the n-th frame is released at
/// `start + n × period`, so sleep jitter never accumulates into drift. If the thread
/// falls far behind (a stalled machine), it restarts the clock instead of bursting.
#[derive(Debug)]
pub(crate) struct Pacer {
    period: Duration,
    start: Option<Instant>,
    ticks: u32,
}

impl Pacer {
    /// Frames come `period` apart.
    pub(crate) fn new(period: Duration) -> Self {
        Self {
            period,
            start: None,
            ticks: 0,
        }
    }

    /// Sleeps until the next frame is due.
    pub(crate) fn wait(&mut self) {
        let now = Instant::now();
        let start = *self.start.get_or_insert(now);
        let due = start + self.period * self.ticks;
        if due > now {
            std::thread::sleep(due - now);
        } else if now - due > self.period * 5 || self.ticks == u32::MAX {
            self.start = Some(now);
            self.ticks = 0;
        }
        self.ticks += 1;
    }
}
