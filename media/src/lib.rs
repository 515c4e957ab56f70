#![cfg_attr(test, allow(clippy::unwrap_used))]
//! Natter's calls: a WebRTC peer (webrtc-rs) carrying Opus audio and H.264 video,
//! with capture, codecs and playback, independent of any UI and of the signalling
//! transport. The caller moves SDP and ICE strings between the two peers.
//!
//! How the modules fit:
//!
//! - [`config`]: [`MediaConfig`] — which sources and sinks, ICE servers, bind address.
//! - [`source`]: the [`AudioCapture`](source::AudioCapture) /
//!   [`VideoCapture`](source::VideoCapture) traits and the synthetic
//!   [tone](source::tone) and [test pattern](source::pattern), and
//!   [screen sharing](source::screen) (a screen or window through `xcap`, or a
//!   synthetic page).
//! - [`sink`]: the [`AudioPlayback`](sink::AudioPlayback) trait, a discard and a collector.
//! - [`device`]: real microphones, speakers (cpal) and cameras (nokhwa) behind the same
//!   traits, [`list_devices`](device::list_devices) and
//!   [`watch_devices`](device::watch_devices) for hot-plug. A missing device is an
//!   [`Error`], never a panic.
//! - [`codec`]: Opus and H.264 (OpenH264) encoders and decoders.
//! - [`frame`]: audio/video frame types and the latest-frame-wins [`FrameSlot`].
//! - [`call`]: the [`CallEngine`] — one peer connection, its threads and its events;
//!   mute, camera on/off, starting and stopping video or a screen share mid-call
//!   (renegotiated), switching devices, stats, remote video and self-view.
//! - [`sound`]: short sounds outside calls (chime, ringtone) played on the speaker.
//! - [`voice`]: voice messages — recording, the container, decoding to play.
//! - [`phone`]: the [`Phone`](phone::Phone) — one account's calls: the relay's call
//!   signalling driving a `CallEngine`, for the app and headless clients.
//!
//! A call, from the caller's side:
//!
//! ```no_run
//! # async fn demo() -> natter_media::Result<()> {
//! use natter_media::{CallEngine, CallEvent, MediaConfig, Role};
//! let (engine, mut events) = CallEngine::new(MediaConfig::synthetic(), Role::Offerer).await?;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         CallEvent::LocalSdp { sdp_type, sdp } => { /* send to the peer */ }
//!         CallEvent::LocalCandidate(candidate) => { /* send to the peer */ }
//!         CallEvent::Connected => break,
//!         _ => {}
//!     }
//! }
//! // From the peer: engine.set_remote_sdp(SdpType::Answer, sdp).await?;
//! //                engine.add_remote_candidate(candidate).await?;
//! engine.set_muted(true);
//! let stats = engine.stats().await;
//! engine.close().await?;
//! # Ok(()) }
//! ```
//!
//! Threading: capture and encoding run on one dedicated thread per outgoing kind,
//! depacketising, decoding and playback on one dedicated thread per incoming track;
//! the Tokio executor only moves packets. The network side binds where
//! [`MediaConfig::bind`] says, with mDNS off and only the configured STUN/TURN servers.

pub mod call;
pub mod codec;
pub mod config;
pub mod device;
mod error;
pub mod frame;
pub mod group;
pub mod phone;
pub mod sink;
pub mod sound;
pub mod source;
pub mod voice;

pub use call::{CallEngine, CallEvent, CallStats, ParticipantStats, Role, VideoStats};
pub use config::{AudioSink, AudioSource, IceServer, MediaConfig, VideoSource};
pub use error::{Error, Result};
pub use frame::{AudioFrame, FrameSlot, I420Frame, RgbaFrame};
pub use natter_proto::call::{IceCandidate, SdpType};
