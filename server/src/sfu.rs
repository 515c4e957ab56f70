//! The selective forwarding unit: the media side of group calls.
//!
//! Each device taking part has one WebRTC peer connection with the relay. It
//! sends one audio stream (and one video stream in a video call) up; the relay
//! forwards every packet, unchanged but for its SSRC, to every other device
//! taking part. Nothing is decoded or re-encoded.
//!
//! The relay is always the offerer: it offers when a device joins and offers
//! again whenever the set of streams that device receives changes (someone
//! joined, someone left). One offer is outstanding per device at a time;
//! changes that arrive meanwhile are folded into the next offer. A device
//! learns whose a stream is from its media stream id (`a=msid`), the sender's
//! account id in decimal.
//!
//! Key frames: the relay asks a sender for one (PLI) whenever a device starts
//! receiving its video and every [`KEYFRAME_INTERVAL`] after, so a receiver
//! that lost a picture recovers without a path for its own requests.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use natter_proto::call::{CallNotice, IceCandidate, SdpType};
use natter_proto::model::UserId;
use rtc::interceptor::{NackGeneratorBuilder, NackResponderBuilder, Registry, Slot};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::{
    configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc_receiver_only,
};
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_H264, MIME_TYPE_OPUS, MediaEngine,
};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use serde::{Deserialize, Serialize};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription,
    SettingEngineBuilder,
};
use webrtc::rtp_transceiver::RtpSender;

use crate::error::{Error, Result};

mod limit;

use limit::{Allowance, RTP_HEADER_BYTES, with_stream_limit};

/// How often the relay asks each video sender for a key frame.
pub const KEYFRAME_INTERVAL: Duration = Duration::from_secs(3);

/// Group call limits and where their media is received.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SfuConfig {
    /// Whether group calls are offered.
    pub enabled: bool,
    /// The address media is received on (UDP, a port chosen per device).
    /// Default: the relay's own listening address; `0.0.0.0` for every interface.
    pub bind: Option<IpAddr>,
    /// Most devices in one group call.
    pub max_participants: usize,
    /// Most group calls running on this relay at once.
    pub max_calls: usize,
    /// Most kilobits a second one stream (a device's audio, or its video)
    /// may carry up to the relay. The relay's offer says so (`b=AS` on the
    /// sections the device sends on) and the relay drops what a stream
    /// sends beyond it, after a second's worth of burst.
    pub max_stream_kbps: u32,
}

impl Default for SfuConfig {
    fn default() -> Self {
        SfuConfig {
            enabled: true,
            bind: None,
            max_participants: 16,
            max_calls: 64,
            max_stream_kbps: 2_500,
        }
    }
}

/// Sends a call notice to one device.
pub type Signal = Arc<dyn Fn(UserId, &str, CallNotice) + Send + Sync>;

/// A device taking part: account and device id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The account.
    pub user: UserId,
    /// Its device.
    pub device: String,
}

/// One group call's media.
pub struct Room {
    call_id: String,
    bind: IpAddr,
    signal: Signal,
    /// Most bits a second one stream may carry up to the relay.
    max_stream_bps: u64,
    members: RwLock<HashMap<Key, Arc<Member>>>,
}

/// A stream the relay receives from one device and forwards.
struct Inbound {
    kind: RtpCodecKind,
    codec: RTCRtpCodec,
    remote: Arc<dyn TrackRemote>,
    /// What it may send.
    allowance: Mutex<Allowance>,
    /// Where it goes: the receiving device, its local track and that track's SSRC.
    subscribers: RwLock<Vec<(Key, Arc<TrackLocalStaticRTP>, u32)>>,
}

#[derive(Default)]
struct Negotiation {
    /// An offer went out and its answer has not come back.
    waiting: bool,
    /// Something changed while waiting: offer again after the answer.
    again: bool,
    /// The first answer arrived (candidates can be applied).
    answered: bool,
    early_candidates: Vec<RTCIceCandidateInit>,
}

struct Member {
    key: Key,
    pc: Arc<dyn PeerConnection>,
    inbound: Mutex<Vec<Arc<Inbound>>>,
    /// What this device receives: (sender, kind) → the RTP sender on this connection.
    outbound: Mutex<HashMap<(Key, u8), Arc<dyn RtpSender>>>,
    negotiation: tokio::sync::Mutex<Negotiation>,
}

fn kind_code(kind: RtpCodecKind) -> u8 {
    match kind {
        RtpCodecKind::Video => 1,
        _ => 0,
    }
}

fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn h264() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
            .to_owned(),
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
    engine
        .register_codec(
            RTCRtpCodecParameters {
                rtp_codec: opus(),
                payload_type: 111,
            },
            RtpCodecKind::Audio,
        )
        .map_err(internal)?;
    engine
        .register_codec(
            RTCRtpCodecParameters {
                rtp_codec: h264(),
                payload_type: 102,
            },
            RtpCodecKind::Video,
        )
        .map_err(internal)?;
    Ok(engine)
}

/// What runs on every packet in and out of a device's connection with the
/// relay: retransmissions both ways, sender and receiver reports, and
/// transport-wide feedback on what arrives, which the sender's congestion
/// control follows. The relay asks again only for the last 128 packets of a
/// stream (under a second of video), three times at most each: after a
/// sender's blackout, asking for everything again and again would be a storm
/// on the very path that just failed.
fn interceptors(engine: &mut MediaEngine) -> Result<Registry> {
    let registry = Registry::new()
        .with(Slot::NackResponder, NackResponderBuilder::new().build())
        .with(
            Slot::NackGenerator,
            NackGeneratorBuilder::new()
                .with_size(NACK_WINDOW)
                .with_max_nacks_per_packet(NACKS_PER_PACKET)
                .build(),
        );
    configure_simulcast_extension_headers(engine).map_err(internal)?;
    let registry = configure_twcc_receiver_only(registry, engine).map_err(internal)?;
    Ok(configure_rtcp_reports(registry))
}

/// Packets of a stream the relay may ask to have sent again.
const NACK_WINDOW: u16 = 128;
/// Times the relay asks for one lost packet.
const NACKS_PER_PACKET: u16 = 3;

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("media: {e}"))
}

impl Room {
    /// An empty room for call `call_id`, receiving media on `bind`, each
    /// stream up to `max_stream_kbps`.
    pub fn new(call_id: &str, bind: IpAddr, max_stream_kbps: u32, signal: Signal) -> Arc<Room> {
        Arc::new(Room {
            call_id: call_id.to_owned(),
            bind,
            signal,
            max_stream_bps: u64::from(max_stream_kbps.max(1)) * 1_000,
            members: RwLock::default(),
        })
    }

    fn members(&self) -> Vec<Arc<Member>> {
        let map = self.members.read().unwrap_or_else(|e| e.into_inner());
        map.values().cloned().collect()
    }

    fn member(&self, key: &Key) -> Option<Arc<Member>> {
        let map = self.members.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned()
    }

    /// Devices taking part.
    pub fn len(&self) -> usize {
        self.members.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nobody takes part.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a device: builds its connection, subscribes it to every stream
    /// already forwarded and sends it the relay's offer.
    pub async fn join(self: &Arc<Self>, key: Key) -> Result<()> {
        let mut engine = media_engine()?;
        let registry = interceptors(&mut engine)?;
        let settings = SettingEngineBuilder::new()
            .with_ice_connection_attempts(Some(Duration::from_millis(50)), None)
            .with_prflx_acceptance_min_wait(Some(Duration::from_millis(100)))
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_include_loopback_candidate(self.bind.is_loopback())
            .build();
        let handler = Arc::new(Handler {
            room: Arc::downgrade(self),
            key: key.clone(),
        });
        let pc = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .with_handler(handler)
            .with_udp_addrs(vec![SocketAddr::new(self.bind, 0)])
            .build()
            .await
            .map_err(internal)?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let receive = |kind| {
            let pc = pc.clone();
            async move {
                pc.add_transceiver_from_kind(
                    kind,
                    Some(RTCRtpTransceiverInit {
                        direction: RTCRtpTransceiverDirection::Recvonly,
                        ..Default::default()
                    }),
                )
                .await
                .map_err(internal)
            }
        };
        // Video is always offered, even in a voice call: a participant who
        // joined without a picture can start their camera or share their
        // screen later without a new offer; until they do, nothing flows.
        receive(RtpCodecKind::Audio).await?;
        receive(RtpCodecKind::Video).await?;
        let member = Arc::new(Member {
            key: key.clone(),
            pc,
            inbound: Mutex::default(),
            outbound: Mutex::default(),
            negotiation: tokio::sync::Mutex::default(),
        });
        let others = self.members();
        self.members
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, member.clone());
        for other in others {
            let streams = other
                .inbound
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for inbound in streams {
                subscribe(&member, &other.key, &inbound).await;
            }
        }
        self.offer(&member).await;
        Ok(())
    }

    /// Removes a device: closes its connection and stops forwarding to and from
    /// it; the others get a new offer without its streams.
    pub async fn leave(&self, key: &Key) {
        let Some(member) = self
            .members
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
        else {
            return;
        };
        if let Err(e) = member.pc.close().await {
            tracing::debug!(error = %e, "a group call connection did not close cleanly");
        }
        for other in self.members() {
            // Streams it received from the one leaving.
            let senders: Vec<Arc<dyn RtpSender>> = {
                let mut outbound = other.outbound.lock().unwrap_or_else(|e| e.into_inner());
                let gone: Vec<(Key, u8)> = outbound
                    .keys()
                    .filter(|(from, _)| from == key)
                    .cloned()
                    .collect();
                gone.into_iter()
                    .filter_map(|k| outbound.remove(&k))
                    .collect()
            };
            let changed = !senders.is_empty();
            for sender in senders {
                if let Err(e) = other.pc.remove_track(&sender).await {
                    tracing::debug!(error = %e, "a forwarded stream was not removed");
                }
            }
            // Streams the one leaving received from it.
            let streams = other
                .inbound
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for inbound in streams {
                inbound
                    .subscribers
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|(k, _, _)| k != key);
            }
            if changed {
                self.offer(&other).await;
            }
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        let members: Vec<Arc<Member>> = self
            .members
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, m)| m)
            .collect();
        for member in members {
            let _ = member.pc.close().await;
        }
    }

    /// The device's answer to the relay's latest offer.
    pub async fn answer(&self, key: &Key, sdp_type: SdpType, sdp: String) -> Result<()> {
        let member = self.member(key).ok_or_else(not_taking_part)?;
        if sdp_type != SdpType::Answer {
            return Err(Error::client(
                natter_proto::ErrorCode::InvalidState,
                "in a group call the relay offers; send an answer",
            ));
        }
        let again = {
            let mut negotiation = member.negotiation.lock().await;
            if !negotiation.waiting {
                return Err(Error::client(
                    natter_proto::ErrorCode::InvalidState,
                    "no offer is waiting for an answer",
                ));
            }
            tracing::trace!(user = key.user.0, %sdp, "answer text");
            let description = RTCSessionDescription::answer(sdp)
                .map_err(|e| Error::bad_request(format!("unusable SDP: {e}")))?;
            member
                .pc
                .set_remote_description(description)
                .await
                .map_err(|e| Error::bad_request(format!("SDP rejected: {e}")))?;
            negotiation.waiting = false;
            negotiation.answered = true;
            for candidate in std::mem::take(&mut negotiation.early_candidates) {
                if let Err(e) = member.pc.add_ice_candidate(candidate).await {
                    tracing::debug!(error = %e, "an early candidate was refused");
                }
            }
            std::mem::take(&mut negotiation.again)
        };
        if again {
            self.offer(&member).await;
        }
        // Whatever this device receives starts with a picture it can decode.
        self.request_keyframes_for(key).await;
        Ok(())
    }

    /// One of the device's ICE candidates.
    pub async fn candidate(&self, key: &Key, candidate: IceCandidate) -> Result<()> {
        let member = self.member(key).ok_or_else(not_taking_part)?;
        if candidate.candidate.trim().is_empty() {
            return Ok(());
        }
        let init = RTCIceCandidateInit {
            candidate: candidate.candidate,
            sdp_mid: candidate.sdp_mid,
            sdp_mline_index: candidate.sdp_mline_index,
            ..Default::default()
        };
        let mut negotiation = member.negotiation.lock().await;
        if !negotiation.answered {
            negotiation.early_candidates.push(init);
            return Ok(());
        }
        member
            .pc
            .add_ice_candidate(init)
            .await
            .map_err(|e| Error::bad_request(format!("candidate rejected: {e}")))
    }

    /// Sends `member` a fresh offer, or marks one as due after the pending answer.
    async fn offer(&self, member: &Arc<Member>) {
        let mut negotiation = member.negotiation.lock().await;
        if negotiation.waiting {
            negotiation.again = true;
            return;
        }
        let offer = match member.pc.create_offer(None).await {
            Ok(offer) => offer,
            Err(e) => {
                tracing::warn!(error = %e, "no offer for a group call device");
                return;
            }
        };
        let sdp = with_stream_limit(&offer.sdp, self.max_stream_bps / 1_000);
        if let Err(e) = member.pc.set_local_description(offer).await {
            tracing::warn!(error = %e, "group call offer not applied");
            return;
        }
        negotiation.waiting = true;
        tracing::debug!(
            user = member.key.user.0,
            sections = sdp.matches("\r\nm=").count(),
            "group call offer"
        );
        tracing::trace!(user = member.key.user.0, %sdp, "offer text");
        (self.signal)(
            member.key.user,
            &member.key.device,
            CallNotice::Sdp {
                call_id: self.call_id.clone(),
                sdp_type: SdpType::Offer,
                sdp,
            },
        );
    }

    /// Asks every video sender `key` receives for a key frame.
    async fn request_keyframes_for(&self, key: &Key) {
        for other in self.members() {
            if other.key == *key {
                continue;
            }
            let streams = other
                .inbound
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for inbound in streams {
                if inbound.kind == RtpCodecKind::Video {
                    request_keyframe(&inbound.remote).await;
                }
            }
        }
    }

    /// A device's stream arrived: forward it to everyone else.
    async fn add_inbound(self: &Arc<Self>, from: &Key, remote: Arc<dyn TrackRemote>) {
        let Some(member) = self.member(from) else {
            return;
        };
        let kind = remote.kind().await;
        let Some(ssrc) = remote.ssrcs().await.first().copied() else {
            return;
        };
        let codec = match remote.codec(ssrc).await {
            Some(codec) => codec,
            None if kind == RtpCodecKind::Video => h264(),
            None => opus(),
        };
        tracing::debug!(user = from.user.0, ?kind, "group call stream received");
        let inbound = Arc::new(Inbound {
            kind,
            codec,
            remote: remote.clone(),
            allowance: Mutex::new(Allowance::new(self.max_stream_bps)),
            subscribers: RwLock::default(),
        });
        member
            .inbound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(inbound.clone());
        for other in self.members() {
            if other.key == *from {
                continue;
            }
            subscribe(&other, from, &inbound).await;
            self.offer(&other).await;
        }
        tokio::spawn(forward(inbound.clone()));
        if kind == RtpCodecKind::Video {
            let weak = Arc::downgrade(self);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(KEYFRAME_INTERVAL).await;
                    let Some(room) = weak.upgrade() else { return };
                    if room.member(&member.key).is_none() {
                        return;
                    }
                    if !inbound
                        .subscribers
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .is_empty()
                    {
                        request_keyframe(&inbound.remote).await;
                    }
                }
            });
        }
    }
}

/// Gives `member` a local track carrying `inbound` (sent by `from`).
async fn subscribe(member: &Arc<Member>, from: &Key, inbound: &Arc<Inbound>) {
    let kind = inbound.kind;
    let ssrc = rand::random::<u32>();
    let name = match kind {
        RtpCodecKind::Video => "video",
        _ => "audio",
    };
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        from.user.0.to_string(),
        format!("{}-{name}", from.user.0),
        format!("{}-{name}", from.user.0),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: inbound.codec.clone(),
            ..Default::default()
        }],
    )));
    // A transceiver of its own (never one of the device's upstream sections,
    // which `add_track` would reuse), sending only.
    let added = member
        .pc
        .add_transceiver_from_track(
            Arc::clone(&track) as Arc<dyn TrackLocal>,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                ..Default::default()
            }),
        )
        .await;
    let sender = match added {
        Ok(transceiver) => transceiver.sender().await.ok().flatten().ok_or_else(|| {
            webrtc::error::Error::Other("a send transceiver without a sender".into())
        }),
        Err(e) => Err(e),
    };
    match sender {
        Ok(sender) => {
            tracing::debug!(
                to = member.key.user.0,
                from = from.user.0,
                ?kind,
                "forwarding"
            );
            member
                .outbound
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((from.clone(), kind_code(kind)), sender);
            inbound
                .subscribers
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .push((member.key.clone(), track, ssrc));
        }
        Err(e) => tracing::warn!(error = %e, "a stream could not be forwarded"),
    }
}

/// Copies every packet of `inbound` to its subscribers until the stream ends.
async fn forward(inbound: Arc<Inbound>) {
    while let Some(event) = inbound.remote.poll().await {
        match event {
            TrackRemoteEvent::OnRtpPacket(packet) => {
                let size = packet.payload.len() + RTP_HEADER_BYTES;
                let allowed = inbound
                    .allowance
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take(size, std::time::Instant::now());
                if !allowed {
                    continue;
                }
                let targets: Vec<(Arc<TrackLocalStaticRTP>, u32)> = inbound
                    .subscribers
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .map(|(_, track, ssrc)| (track.clone(), *ssrc))
                    .collect();
                for (track, ssrc) in targets {
                    let mut copy = packet.clone();
                    copy.header.ssrc = ssrc;
                    // Extensions were numbered for the sender's connection.
                    copy.header.extension = false;
                    copy.header.extensions.clear();
                    copy.header.extensions_padding = 0;
                    if let Err(e) = track.write_rtp(copy).await {
                        // Not bound yet (its answer is on the way) or gone.
                        tracing::trace!(error = %e, "packet not forwarded");
                    }
                }
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
}

async fn request_keyframe(remote: &Arc<dyn TrackRemote>) {
    let Some(media_ssrc) = remote.ssrcs().await.first().copied() else {
        return;
    };
    let pli = PictureLossIndication {
        sender_ssrc: 0,
        media_ssrc,
    };
    if let Err(e) = remote.write_rtcp(vec![Box::new(pli)]).await {
        tracing::debug!(error = %e, "key frame request not sent");
    }
}

fn not_taking_part() -> Error {
    Error::client(
        natter_proto::ErrorCode::Forbidden,
        "this device is not taking part in the call",
    )
}

struct Handler {
    room: Weak<Room>,
    key: Key,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let Some(room) = self.room.upgrade() else {
            return;
        };
        match event.candidate.to_json() {
            Ok(init) => (room.signal)(
                self.key.user,
                &self.key.device,
                CallNotice::Ice {
                    call_id: room.call_id.clone(),
                    candidate: IceCandidate {
                        candidate: init.candidate,
                        sdp_mid: init.sdp_mid.filter(|mid| !mid.is_empty()),
                        sdp_mline_index: init.sdp_mline_index,
                    },
                },
            ),
            Err(e) => tracing::debug!(error = %e, "a relay candidate could not be encoded"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(%state, user = self.key.user.0, "group call connection");
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        if let Some(room) = self.room.upgrade() {
            let key = self.key.clone();
            tokio::spawn(async move { room.add_inbound(&key, track).await });
        }
    }
}
