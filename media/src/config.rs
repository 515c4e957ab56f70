//! What a call uses: sources, sinks, ICE servers and the address to bind.

use std::net::IpAddr;

use crate::Result;
use crate::codec::video::VideoEncoderSettings;
use crate::device::audio::{open_microphone, open_speaker};
use crate::device::camera::open_camera;
use crate::sink::{AudioCollector, AudioPlayback, Discard};
use crate::source::pattern::PatternSource;
use crate::source::screen::{ScreenSource, ScreenTarget, SyntheticScreen};
use crate::source::tone::ToneSource;
use crate::source::{AudioCapture, VideoCapture};

/// Where outgoing audio comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioSource {
    /// A sine tone at this frequency (no microphone needed).
    Tone {
        /// Frequency in hertz.
        hz: f32,
    },
    /// A microphone by name ([`DeviceInfo::name`](crate::device::DeviceInfo)), or the
    /// default one.
    Device(Option<String>),
    /// Silence, and a 100 ms beep at `hz` whenever the wall clock's
    /// milliseconds modulo `period_ms` pass `at_ms`: a receiver on the same
    /// clock times the sound from mouth to ear (benchmarks).
    Beeps {
        /// Frequency in hertz.
        hz: f32,
        /// One beep every this many milliseconds of wall time.
        period_ms: u32,
        /// Where in the period it starts.
        at_ms: u32,
    },
}

/// The noise of [`VideoSource::GrainyPattern`]: about a cheap webcam's in
/// dim light.
const GRAIN: u8 = 10;

/// Where outgoing video comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoSource {
    /// Audio-only call.
    None,
    /// The moving test pattern.
    Pattern {
        /// Width in pixels (even).
        width: usize,
        /// Height in pixels (even).
        height: usize,
        /// Frames a second.
        fps: u32,
    },
    /// The moving test pattern with a camera's sensor noise: as hungry for
    /// bits as a real camera (benchmarks, and tests of a narrow path).
    GrainyPattern {
        /// Width in pixels (even).
        width: usize,
        /// Height in pixels (even).
        height: usize,
        /// Frames a second.
        fps: u32,
    },
    /// The moving test pattern with the time each picture is made written
    /// into it: a receiver on the same clock tells each picture's delay
    /// ([`pattern::picture_delay`](crate::source::pattern::picture_delay);
    /// benchmarks).
    ClockPattern {
        /// Width in pixels (even).
        width: usize,
        /// Height in pixels (even).
        height: usize,
        /// Frames a second.
        fps: u32,
    },
    /// A camera by name, or the first one.
    Camera(Option<String>),
    /// A shared screen or window, sent instead of the camera while shared.
    Screen(ScreenTarget),
    /// A synthetic page standing in for a shared screen.
    SyntheticScreen {
        /// Width in pixels (even).
        width: usize,
        /// Height in pixels (even).
        height: usize,
        /// Frames a second.
        fps: u32,
    },
}

/// Where received audio goes.
#[derive(Debug, Clone)]
pub enum AudioSink {
    /// Nowhere.
    Discard,
    /// Into a shared buffer the caller reads.
    Collect(AudioCollector),
    /// A speaker by name, or the default one.
    Device(Option<String>),
}

/// One STUN or TURN server, as the relay hands them out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IceServer {
    /// `stun:host:port`, `turn:host:port?transport=udp`, …
    pub urls: Vec<String>,
    /// TURN user name (empty for STUN).
    pub username: String,
    /// TURN password (empty for STUN).
    pub credential: String,
}

/// Everything a [`CallEngine`](crate::CallEngine) needs besides signalling.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Outgoing audio.
    pub audio_source: AudioSource,
    /// Outgoing video.
    pub video_source: VideoSource,
    /// Incoming audio.
    pub audio_sink: AudioSink,
    /// STUN/TURN servers; empty means host candidates only.
    pub ice_servers: Vec<IceServer>,
    /// Address to bind media sockets to. `None` binds every interface (one socket
    /// per interface address); tests pass `127.0.0.1`.
    pub bind: Option<IpAddr>,
    /// When a microphone or camera cannot be opened (or dies), send the 440 Hz tone /
    /// the test pattern instead (demo and CI machines). Otherwise a missing microphone
    /// sends silence and a missing camera sends no video. A missing speaker always
    /// falls back to discarding. Every such case is reported with
    /// [`CallEvent::DeviceFailed`](crate::CallEvent::DeviceFailed); none ends the call.
    pub fallback_to_synthetic: bool,
    /// Use only relayed (TURN) paths: hides this machine's addresses from the peer,
    /// and lets tests prove the relay path works.
    pub relay_only: bool,
    /// Video encoder bitrate and key-frame spacing.
    pub video: VideoEncoderSettings,
    /// Opus bitrate in bits a second.
    pub audio_bitrate: i32,
}

impl Default for MediaConfig {
    /// Default devices, no video, host candidates on every interface, no synthetic
    /// stand-ins for missing devices.
    fn default() -> Self {
        Self {
            audio_source: AudioSource::Device(None),
            video_source: VideoSource::None,
            audio_sink: AudioSink::Device(None),
            ice_servers: Vec::new(),
            bind: None,
            fallback_to_synthetic: false,
            relay_only: false,
            video: VideoEncoderSettings::default(),
            audio_bitrate: 32_000,
        }
    }
}

impl MediaConfig {
    /// A device-free configuration for tests and CI: a 440 Hz tone, no video, audio
    /// collected, bound to loopback.
    pub fn synthetic() -> Self {
        Self {
            audio_source: AudioSource::Tone { hz: 440.0 },
            audio_sink: AudioSink::Collect(AudioCollector::default()),
            bind: Some(IpAddr::from([127, 0, 0, 1])),
            fallback_to_synthetic: false,
            ..Self::default()
        }
    }
}

impl AudioSource {
    /// Starts capture. Blocking (device start-up): call it on the capture thread.
    pub fn open(&self) -> Result<Box<dyn AudioCapture>> {
        Ok(match self {
            AudioSource::Tone { hz } => Box::new(ToneSource::new(*hz)),
            AudioSource::Beeps {
                hz,
                period_ms,
                at_ms,
            } => Box::new(ToneSource::new(*hz).beeping(*period_ms, *at_ms)?),
            AudioSource::Device(name) => Box::new(open_microphone(name.as_deref())?),
        })
    }
}

impl VideoSource {
    /// Starts capture, or `Ok(None)` for an audio-only call. Blocking: call it on the
    /// capture thread (cameras may not move between threads).
    pub fn open(&self) -> Result<Option<Box<dyn VideoCapture>>> {
        Ok(match self {
            VideoSource::None => None,
            VideoSource::Pattern { width, height, fps } => {
                Some(Box::new(PatternSource::new(*width, *height, *fps)?))
            }
            VideoSource::GrainyPattern { width, height, fps } => Some(Box::new(
                PatternSource::new(*width, *height, *fps)?.with_grain(GRAIN),
            )),
            VideoSource::ClockPattern { width, height, fps } => Some(Box::new(
                PatternSource::new(*width, *height, *fps)?.with_clock(),
            )),
            VideoSource::Camera(name) => Some(Box::new(open_camera(name.as_deref())?)),
            VideoSource::Screen(target) => Some(Box::new(ScreenSource::open(target)?)),
            VideoSource::SyntheticScreen { width, height, fps } => {
                Some(Box::new(SyntheticScreen::new(*width, *height, *fps)?))
            }
        })
    }

    /// Whether this shares a screen (real or synthetic) rather than a camera.
    pub fn is_screen(&self) -> bool {
        matches!(
            self,
            VideoSource::Screen(_) | VideoSource::SyntheticScreen { .. }
        )
    }

    /// Whether this sends video at all.
    pub fn is_some(&self) -> bool {
        !matches!(self, VideoSource::None)
    }
}

impl AudioSink {
    /// Starts output. Blocking: call it on the playback thread.
    pub fn open(&self) -> Result<Box<dyn AudioPlayback>> {
        Ok(match self {
            AudioSink::Discard => Box::new(Discard),
            AudioSink::Collect(collector) => Box::new(collector.clone()),
            AudioSink::Device(name) => Box::new(open_speaker(name.as_deref())?),
        })
    }
}
