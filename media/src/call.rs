//! The call engine: one WebRTC peer connection carrying Opus audio and optionally
//! H.264 video, signalling-agnostic. The caller moves SDP and ICE between the peers
//! (through the relay, or a channel in tests).
//!
//! Flow: the offerer's [`CallEngine::new`] emits [`CallEvent::LocalSdp`] with the
//! offer; the answerer feeds it to [`CallEngine::set_remote_sdp`] and emits its answer
//! the same way; both trickle [`CallEvent::LocalCandidate`]s to each other's
//! [`CallEngine::add_remote_candidate`]. Media flows once [`CallEvent::Connected`].
//!
//! Threads: capture + encode run on one dedicated thread per kind ([`send`]); RTP
//! is reassembled, decoded and played on one dedicated thread per received track
//! ([`receive`]); the async side only moves packets.

mod adapt;
mod assemble;
mod handler;
pub(crate) mod mix;
mod negotiate;
mod receive;
mod reorder;
mod send;
mod stats;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use natter_proto::call::{IceCandidate, SdpType};
use rtc::interceptor::{
    CongestionControlBuilder, Gcc, NackGeneratorBuilder, NackResponderBuilder, Registry, Slot,
};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::RTCIceTransportPolicy;
use rtc::peer_connection::configuration::interceptor_registry::{
    configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc,
};
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_H264, MIME_TYPE_OPUS, MediaEngine,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, RTCConfigurationBuilder, RTCIceCandidateInit,
    RTCIceServer, SettingEngineBuilder,
};

use crate::config::{AudioSink, AudioSource, MediaConfig, VideoSource};
use crate::device::DeviceKind;
use crate::frame::FrameSlot;
use crate::{Error, Result};

pub use stats::{CallStats, ParticipantStats, VideoStats};

/// Which side of the offer/answer exchange this engine plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Creates the offer (the caller).
    Offerer,
    /// Answers an offer (the callee).
    Answerer,
}

/// What the engine tells its owner, in order, on the channel [`CallEngine::new`]
/// returns.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// A local description to send to the peer.
    LocalSdp {
        /// Offer or answer.
        sdp_type: SdpType,
        /// The SDP text.
        sdp: String,
    },
    /// A local ICE candidate to send to the peer. Never before this side's
    /// `LocalSdp`: candidates gathered earlier are held back until it has gone out.
    LocalCandidate(IceCandidate),
    /// ICE and DTLS are up; media flows.
    Connected,
    /// Connectivity was lost; it may come back (then `Connected` follows again).
    Disconnected,
    /// The connection failed for good; the call should end.
    Failed(String),
    /// The first decoded audio from the peer was handed to the sink.
    FirstAudio,
    /// The first decoded picture from the peer is in [`CallEngine::remote_video`].
    FirstVideo,
    /// A device could not be opened or stopped working. `fell_back` says whether
    /// synthetic media replaced it.
    DeviceFailed {
        /// Which device.
        kind: DeviceKind,
        /// What went wrong, for the user.
        reason: String,
        /// Whether the tone / pattern / discard took over.
        fell_back: bool,
    },
    /// In a group call: the first decoded audio or picture from one
    /// participant (each participant's once per kind).
    StreamStarted {
        /// Whose stream.
        from: natter_proto::model::UserId,
        /// A picture (else sound).
        video: bool,
    },
    /// The engine was closed.
    Closed,
}

/// What a group call engine keeps per participant.
#[derive(Default)]
pub(crate) struct Group {
    pub(crate) mixer: mix::Mixer,
    pub(crate) videos: Mutex<std::collections::HashMap<natter_proto::model::UserId, FrameSlot>>,
    pub(crate) started: Mutex<std::collections::HashSet<(natter_proto::model::UserId, bool)>>,
    /// Who sends each incoming stream (by SSRC), for per-participant stats.
    pub(crate) senders: Mutex<std::collections::HashMap<u32, natter_proto::model::UserId>>,
}

impl Group {
    /// The picture slot of `from`, made on first use.
    pub(crate) fn video(&self, from: natter_proto::model::UserId) -> FrameSlot {
        let mut videos = self.videos.lock().unwrap_or_else(|e| e.into_inner());
        videos.entry(from).or_default().clone()
    }

    /// Whether this is the first stream of this kind from `from`.
    pub(crate) fn first(&self, from: natter_proto::model::UserId, video: bool) -> bool {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        started.insert((from, video))
    }
}

/// A setting the user can change mid-call (which microphone, camera or speaker). The
/// thread using it compares generations each frame and reopens on a change.
pub(crate) struct Switch<T> {
    value: Mutex<T>,
    generation: AtomicU64,
}

impl<T: Clone> Switch<T> {
    fn new(value: T) -> Self {
        Self {
            value: Mutex::new(value),
            generation: AtomicU64::new(0),
        }
    }

    fn set(&self, value: T) {
        match self.value.lock() {
            Ok(mut guard) => *guard = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The current value and its generation.
    pub(crate) fn get(&self) -> (T, u64) {
        let generation = self.generation.load(Ordering::Acquire);
        let value = match self.value.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        (value, generation)
    }

    /// Whether the value changed since generation `seen`.
    pub(crate) fn changed_since(&self, seen: u64) -> bool {
        self.generation.load(Ordering::Acquire) != seen
    }
}

/// State the engine shares with its handler, tasks and threads.
pub(crate) struct Shared {
    pub(crate) config: MediaConfig,
    events: mpsc::UnboundedSender<CallEvent>,
    pub(crate) muted: AtomicBool,
    pub(crate) camera_on: AtomicBool,
    /// Whether a video track was added (at the start or by renegotiation).
    pub(crate) has_video_track: AtomicBool,
    pub(crate) connected: AtomicBool,
    pub(crate) closed: AtomicBool,
    pub(crate) first_audio: AtomicBool,
    pub(crate) first_video: AtomicBool,
    /// Set by the receiver of a PLI (or a new connection): the next encoded picture
    /// must be a key frame.
    pub(crate) keyframe_wanted: AtomicBool,
    pub(crate) remote_video: FrameSlot,
    pub(crate) local_video: FrameSlot,
    pub(crate) audio_source: Switch<AudioSource>,
    pub(crate) video_source: Switch<VideoSource>,
    pub(crate) audio_sink: Switch<AudioSink>,
    /// Local candidates gathered before the local SDP went out wait here, so the
    /// peer always gets the description first. `None` once it went out.
    held_candidates: Mutex<Option<Vec<IceCandidate>>>,
    /// Set for a group call through the relay's forwarding unit.
    pub(crate) group: Option<Group>,
    /// The congestion controller's latest estimate in bits a second (as
    /// `f64` bits; 0: none yet), which the video encoder follows.
    pub(crate) target_bps: AtomicU64,
    /// The most the other side takes on this device's video stream, in bits
    /// a second (its description's `b=AS` / `b=TIAS`; 0: no limit).
    pub(crate) video_limit_bps: AtomicU64,
    /// Pictures sent, for the stats.
    pub(crate) sent_pictures: stats::Pictures,
    /// Pictures decoded, per sender, for the stats.
    pub(crate) received_pictures: stats::Pictures,
}

impl Shared {
    pub(crate) fn emit(&self, event: CallEvent) {
        // The owner dropping the receiver means nobody listens any more; that is fine.
        let _ = self.events.send(event);
    }

    /// Emits a local candidate, or holds it until the local SDP has gone out.
    pub(crate) fn emit_candidate(&self, candidate: IceCandidate) {
        let mut held = match self.held_candidates.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match held.as_mut() {
            Some(queue) => queue.push(candidate),
            None => self.emit(CallEvent::LocalCandidate(candidate)),
        }
    }

    /// Emits the local SDP, then any candidates that were held back for it.
    fn emit_local_sdp(&self, sdp_type: SdpType, sdp: String) {
        let mut held = match self.held_candidates.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.emit(CallEvent::LocalSdp { sdp_type, sdp });
        for candidate in held.take().unwrap_or_default() {
            self.emit(CallEvent::LocalCandidate(candidate));
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// What the video may use: the path's estimated capacity, once the
    /// receiver's feedback gave one, within the limit the other side set.
    pub(crate) fn target(&self) -> Option<f64> {
        let bits = self.target_bps.load(Ordering::Acquire);
        let estimate = (bits != 0).then(|| f64::from_bits(bits));
        match self.video_limit_bps.load(Ordering::Acquire) {
            0 => estimate,
            limit => Some(estimate.map_or(limit as f64, |e| e.min(limit as f64))),
        }
    }
}

/// How often the congestion controller's estimate is read for the encoder.
const ESTIMATE_EVERY: Duration = Duration::from_millis(250);

/// Reads the congestion controller's estimate into [`Shared::target_bps`]
/// until the call closes.
async fn follow_estimate(pc: Arc<dyn PeerConnection>, shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(ESTIMATE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !shared.is_closed() {
        tick.tick().await;
        let report = pc
            .get_stats(Instant::now(), webrtc::peer_connection::StatsSelector::None)
            .await;
        let target = report.iter().find_map(|entry| match entry {
            webrtc::peer_connection::RTCStatsReportEntry::OutboundRtp(outbound)
                if outbound.target_bitrate > 0.0 =>
            {
                Some(outbound.target_bitrate)
            }
            _ => None,
        });
        if let Some(target) = target {
            shared.target_bps.store(target.to_bits(), Ordering::Release);
        }
    }
}

/// Signalling progress, guarded by one lock so SDP and candidates apply in order.
#[derive(Default)]
struct Negotiation {
    remote_set: bool,
    pending_candidates: Vec<RTCIceCandidateInit>,
    /// This side's offer went out and its answer has not come back.
    offer_pending: bool,
    /// Streams changed while an offer was pending: offer again once it settles.
    offer_again: bool,
    /// The sender of this side's video track, once one was added.
    video_sender: Option<Arc<dyn webrtc::rtp_transceiver::RtpSender>>,
    /// Whether this side's video transceiver currently offers to send.
    video_sending: bool,
}

/// One call's media: a WebRTC peer connection plus its capture, codec and playback
/// threads. Dropping it without [`close`](Self::close) stops the threads but leaves
/// the connection to time out; call `close` to end cleanly.
pub struct CallEngine {
    pc: Arc<dyn PeerConnection>,
    role: Role,
    shared: Arc<Shared>,
    negotiation: tokio::sync::Mutex<Negotiation>,
    stats: Mutex<stats::Previous>,
}

impl std::fmt::Debug for CallEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallEngine")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn h264_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        // Constrained Baseline level 3.1, non-interleaved: what every endpoint takes.
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
            .to_owned(),
        // Retransmission requests for lost packets, and key-frame requests (the
        // receive side sends PLI after loss; FIR is what some peers send instead).
        rtcp_feedback: [("nack", ""), ("nack", "pli"), ("ccm", "fir")]
            .into_iter()
            .map(|(typ, parameter)| RTCPFeedback {
                typ: typ.to_owned(),
                parameter: parameter.to_owned(),
            })
            .collect(),
    }
}

fn media_engine() -> Result<MediaEngine> {
    let mut engine = MediaEngine::default();
    engine.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: opus_codec(),
            payload_type: 111,
        },
        RtpCodecKind::Audio,
    )?;
    engine.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: h264_codec(),
            payload_type: 102,
        },
        RtpCodecKind::Video,
    )?;
    Ok(engine)
}

fn local_track(kind: RtpCodecKind, codec: RTCRtpCodec) -> Result<Arc<TrackLocalStaticSample>> {
    let name = match kind {
        RtpCodecKind::Video => "video",
        _ => "audio",
    };
    let track = MediaStreamTrack::new(
        "natter".to_owned(),
        format!("natter-{name}"),
        format!("natter-{name}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(rand::random::<u32>()),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    );
    Ok(Arc::new(TrackLocalStaticSample::new(
        Instant::now(),
        track,
    )?))
}

impl CallEngine {
    /// Builds the peer connection and starts capture. As [`Role::Offerer`] it also
    /// creates the offer, which arrives as the first [`CallEvent::LocalSdp`]. Must be
    /// called inside a Tokio runtime.
    pub async fn new(
        config: MediaConfig,
        role: Role,
    ) -> Result<(Self, mpsc::UnboundedReceiver<CallEvent>)> {
        Self::build(config, role, None).await
    }

    /// Builds the engine of a group call: the relay's forwarding unit offers
    /// (and offers again whenever the streams this device receives change),
    /// this side answers each offer. Every other participant's stream arrives
    /// as its own track; their audio is mixed into the sink, their pictures
    /// are in [`CallEngine::participant_video`].
    pub async fn new_group(
        config: MediaConfig,
    ) -> Result<(Self, mpsc::UnboundedReceiver<CallEvent>)> {
        let (engine, events) = Self::build(config, Role::Answerer, Some(Group::default())).await?;
        if let Some(group) = &engine.shared.group {
            mix::start(engine.shared.clone(), group.mixer.clone());
        }
        Ok((engine, events))
    }

    async fn build(
        config: MediaConfig,
        role: Role,
        group: Option<Group>,
    ) -> Result<(Self, mpsc::UnboundedReceiver<CallEvent>)> {
        let (events, events_rx) = mpsc::unbounded_channel();
        let camera_on = config.video_source.is_some();
        let shared = Arc::new(Shared {
            audio_source: Switch::new(config.audio_source.clone()),
            video_source: Switch::new(config.video_source.clone()),
            audio_sink: Switch::new(config.audio_sink.clone()),
            held_candidates: Mutex::new(Some(Vec::new())),
            config,
            events,
            muted: AtomicBool::new(false),
            camera_on: AtomicBool::new(camera_on),
            has_video_track: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            first_audio: AtomicBool::new(false),
            first_video: AtomicBool::new(false),
            keyframe_wanted: AtomicBool::new(true),
            remote_video: FrameSlot::new(),
            local_video: FrameSlot::new(),
            group,
            target_bps: AtomicU64::new(0),
            video_limit_bps: AtomicU64::new(0),
            sent_pictures: stats::Pictures::default(),
            received_pictures: stats::Pictures::default(),
        });

        let mut media_engine = media_engine()?;
        // Retransmissions and key-frame requests, sender and receiver reports,
        // and send-side congestion control: transport-wide sequence numbers on
        // what leaves, feedback on what arrives (for the peer's, or the relay's,
        // estimate), and Google congestion control over the peer's feedback,
        // whose estimate the video encoder follows (`adapt`). No pacer: it
        // would queue behind the estimate, and after a blackout (the estimate
        // at its floor, the encoder not yet down) audio would wait seconds
        // behind stale video. The encoder following the estimate is the
        // pacing; GCC's arrival groups absorb a frame's burst.
        // Retransmission requests go for the last 128 packets only (under a
        // second of video), three times at most each: after a blackout, or on
        // a path that drops what exceeds its rate, asking for everything again
        // and again was a storm of megabits (the H.264 codec above declares
        // the feedback).
        let registry = Registry::new()
            .with(Slot::NackResponder, NackResponderBuilder::new().build())
            .with(
                Slot::NackGenerator,
                NackGeneratorBuilder::new()
                    .with_size(128)
                    .with_max_nacks_per_packet(3)
                    .build(),
            );
        configure_simulcast_extension_headers(&mut media_engine)?;
        let registry = configure_rtcp_reports(registry);
        let registry = configure_twcc(registry, &mut media_engine)?;
        let most = (f64::from(shared.config.video.bitrate)
            + f64::from(shared.config.audio_bitrate.max(0) as u32)
            + 16_000.0)
            / 0.85;
        let registry = registry.with(
            Slot::CongestionControl,
            CongestionControlBuilder::new(Gcc::new(
                adapt::INITIAL_BPS,
                adapt::MIN_BPS,
                most.max(adapt::MIN_BPS),
            ))
            .build(),
        );
        let ice_servers = shared
            .config
            .ice_servers
            .iter()
            .map(|s| RTCIceServer {
                urls: s.urls.clone(),
                username: s.username.clone(),
                credential: s.credential.clone(),
            })
            .collect();
        let bind_ip = shared.config.bind.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        // mDNS stays off: it would open UDP 5353 and send multicast beyond this host,
        // and Natter's peers exchange plain IP candidates.
        // ICE pacing: checks every 50 ms rather than 200 ms, and a peer-reflexive pair
        // (the peer's check arrived before its trickled candidate, the usual order with
        // signalling through a relay) is usable after 100 ms instead of a full second.
        // Server-reflexive and relay pairs keep their longer waits so direct paths win.
        let settings = SettingEngineBuilder::new()
            .with_ice_connection_attempts(Some(Duration::from_millis(50)), None)
            .with_prflx_acceptance_min_wait(Some(Duration::from_millis(100)))
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_include_loopback_candidate(bind_ip.is_loopback())
            .build();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(
                RTCConfigurationBuilder::new()
                    .with_ice_servers(ice_servers)
                    .with_ice_transport_policy(if shared.config.relay_only {
                        RTCIceTransportPolicy::Relay
                    } else {
                        RTCIceTransportPolicy::All
                    })
                    .build(),
            )
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .with_handler(Arc::new(handler::Handler::new(shared.clone())))
            .with_udp_addrs(vec![SocketAddr::new(bind_ip, 0)])
            .build()
            .await?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        tokio::spawn(follow_estimate(pc.clone(), shared.clone()));

        let engine = Self {
            pc,
            role,
            shared,
            negotiation: tokio::sync::Mutex::new(Negotiation::default()),
            stats: Mutex::new(stats::Previous::default()),
        };
        if role == Role::Offerer {
            let mut negotiation = engine.negotiation.lock().await;
            engine.add_local_tracks(&mut negotiation, true).await?;
            let offer = engine.pc.create_offer(None).await?;
            let sdp = offer.sdp.clone();
            engine.pc.set_local_description(offer).await?;
            negotiation.offer_pending = true;
            engine.shared.emit_local_sdp(SdpType::Offer, sdp);
            drop(negotiation);
        }
        Ok((engine, events_rx))
    }

    /// Adds the audio track (and the video track, if configured, or always in a
    /// group call offering video, so a participant who joined without a picture
    /// can start one without a new offer) and starts their capture threads.
    async fn add_local_tracks(
        &self,
        negotiation: &mut Negotiation,
        with_video: bool,
    ) -> Result<()> {
        let audio = local_track(RtpCodecKind::Audio, opus_codec())?;
        let sender = self
            .pc
            .add_track(Arc::clone(&audio) as Arc<dyn TrackLocal>)
            .await?;
        send::start_audio(self.shared.clone(), audio, sender)?;
        let video_wanted = self.shared.config.video_source.is_some() || self.shared.group.is_some();
        if with_video && video_wanted {
            self.add_video_track(negotiation).await?;
        }
        Ok(())
    }

    /// Adds the video track and starts its capture thread (which sends only
    /// while the camera or screen is on).
    async fn add_video_track(&self, negotiation: &mut Negotiation) -> Result<()> {
        let video = local_track(RtpCodecKind::Video, h264_codec())?;
        let sender = self
            .pc
            .add_track(Arc::clone(&video) as Arc<dyn TrackLocal>)
            .await?;
        send::start_video(self.shared.clone(), video, sender.clone())?;
        negotiation.video_sender = Some(sender);
        negotiation.video_sending = true;
        self.shared.has_video_track.store(true, Ordering::Release);
        Ok(())
    }

    /// Applies one of the peer's ICE candidates; before the remote SDP it is kept
    /// until then. An empty candidate (end of candidates) is ignored.
    pub async fn add_remote_candidate(&self, candidate: IceCandidate) -> Result<()> {
        if self.shared.is_closed() {
            return Err(Error::Closed);
        }
        if candidate.candidate.trim().is_empty() {
            return Ok(());
        }
        let init = RTCIceCandidateInit {
            candidate: candidate.candidate,
            sdp_mid: candidate.sdp_mid,
            sdp_mline_index: candidate.sdp_mline_index,
            ..Default::default()
        };
        let mut negotiation = self.negotiation.lock().await;
        if !negotiation.remote_set {
            negotiation.pending_candidates.push(init);
            return Ok(());
        }
        self.pc
            .add_ice_candidate(init)
            .await
            .map_err(|e| Error::Signalling(format!("candidate rejected: {e}")))
    }

    /// Sends silence instead of the microphone while `muted`.
    pub fn set_muted(&self, muted: bool) {
        self.shared.muted.store(muted, Ordering::Release);
    }

    /// Whether the microphone is muted.
    pub fn is_muted(&self) -> bool {
        self.shared.muted.load(Ordering::Acquire)
    }

    /// Pauses the camera (or test pattern, or screen) — the device is released and no
    /// video is sent — or resumes it, without renegotiating. No effect on a call
    /// that has no video track yet: [`CallEngine::start_video`] adds one.
    pub fn set_camera(&self, on: bool) {
        self.shared.camera_on.store(on, Ordering::Release);
        if on {
            self.shared.keyframe_wanted.store(true, Ordering::Release);
        }
    }

    /// Whether the camera is on. A group call's video track goes in with its
    /// first answer, so a group call with a camera counts it on from the start.
    pub fn is_camera_on(&self) -> bool {
        self.shared.camera_on.load(Ordering::Acquire)
            && (self.shared.has_video_track.load(Ordering::Acquire) || self.shared.group.is_some())
            && self.shared.video_source.get().0.is_some()
    }

    /// Switches the microphone (or tone) mid-call; the old one is released.
    pub fn set_audio_source(&self, source: AudioSource) {
        self.shared.audio_source.set(source);
    }

    /// Switches the camera (or pattern, or screen) of a call that sends video,
    /// without renegotiating. A call without a video track yet refuses:
    /// [`CallEngine::start_video`] adds one. `VideoSource::None` acts like camera
    /// off.
    pub fn set_video_source(&self, source: VideoSource) -> Result<()> {
        if !self.shared.has_video_track.load(Ordering::Acquire) {
            return Err(Error::Config(
                "this call sends no video yet: start video first".to_owned(),
            ));
        }
        self.shared.keyframe_wanted.store(true, Ordering::Release);
        self.shared.video_source.set(source);
        Ok(())
    }

    /// Switches the speaker (or collector) mid-call.
    pub fn set_audio_sink(&self, sink: AudioSink) {
        self.shared.audio_sink.set(sink);
    }

    /// The peer's video, latest frame wins.
    pub fn remote_video(&self) -> FrameSlot {
        self.shared.remote_video.clone()
    }

    /// The local camera or pattern at half size and half rate, for a self-view;
    /// empty while the camera is off.
    pub fn local_video(&self) -> FrameSlot {
        self.shared.local_video.clone()
    }

    /// In a group call: the pictures of participant `from`, latest frame wins
    /// (empty until their video arrives). In a 1:1 call: `None`.
    pub fn participant_video(&self, from: natter_proto::model::UserId) -> Option<FrameSlot> {
        self.shared.group.as_ref().map(|g| g.video(from))
    }

    /// In a group call: the last two seconds of participant `from`'s audio as
    /// decoded, before mixing (empty if none arrived).
    pub fn participant_audio(&self, from: natter_proto::model::UserId) -> Vec<i16> {
        self.shared
            .group
            .as_ref()
            .map(|g| g.mixer.heard(from))
            .unwrap_or_default()
    }

    /// In a group call: how loud participant `from` is now, 0.0–1.0 (RMS of the
    /// last 200 ms); the loudest is the active speaker.
    pub fn participant_level(&self, from: natter_proto::model::UserId) -> f32 {
        self.shared
            .group
            .as_ref()
            .map(|g| g.mixer.level(from))
            .unwrap_or(0.0)
    }

    /// In a group call: a participant is (again) in the call; their audio is
    /// taken after [`CallEngine::forget_participant`].
    pub fn admit_participant(&self, from: natter_proto::model::UserId) {
        if let Some(group) = &self.shared.group {
            group.mixer.admit(from);
        }
    }

    /// In a group call: forgets a participant who left (their picture, level
    /// and any audio of theirs still on its way).
    pub fn forget_participant(&self, from: natter_proto::model::UserId) {
        if let Some(group) = &self.shared.group {
            group.mixer.remove(from);
            let mut videos = group.videos.lock().unwrap_or_else(|e| e.into_inner());
            videos.remove(&from);
            let mut senders = group.senders.lock().unwrap_or_else(|e| e.into_inner());
            senders.retain(|_, user| *user != from);
            self.shared.received_pictures.forget(Some(from));
        }
    }

    /// The newest decoded picture from the peer, if any.
    pub fn latest_frame(&self) -> Option<Arc<crate::frame::RgbaFrame>> {
        self.shared.remote_video.latest()
    }

    /// Round-trip time, loss, jitter, bitrates (and the path's estimate),
    /// codecs, picture sizes and rates; in a group call, the same per other
    /// participant. Bitrates are averaged since the previous call (or since
    /// the start).
    pub async fn stats(&self) -> CallStats {
        let report = self
            .pc
            .get_stats(Instant::now(), webrtc::peer_connection::StatsSelector::None)
            .await;
        let senders = self
            .shared
            .group
            .as_ref()
            .map(|g| g.senders.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_default();
        let video = self.shared.has_video_track.load(Ordering::Acquire)
            || self.shared.group.is_some()
            || self.shared.received_pictures.read(None).is_some();
        let context = stats::Context {
            senders: &senders,
            sent: &self.shared.sent_pictures,
            received: &self.shared.received_pictures,
            group: self.shared.group.is_some(),
            video,
        };
        let mut previous = match self.stats.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        stats::summarise(&report, &mut previous, Instant::now(), &context)
    }

    /// Ends the call: stops capture and playback threads and closes the connection.
    /// Idempotent.
    pub async fn close(&self) -> Result<()> {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.shared.connected.store(false, Ordering::Release);
        let result = self.pc.close().await;
        self.shared.emit(CallEvent::Closed);
        result.map_err(Error::from)
    }
}

impl Drop for CallEngine {
    fn drop(&mut self) {
        // Threads poll this flag; the connection itself is torn down by its own drop.
        self.shared.closed.store(true, Ordering::Release);
    }
}
