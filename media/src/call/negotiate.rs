//! Offer/answer, the first exchange and the ones after it.
//!
//! In a 1:1 call either side may offer again once the call is up, when it
//! starts or stops sending video (camera or screen); the other side answers.
//! Glare — both sides offering at once — is settled by the call's roles: the
//! caller's offer wins. The caller ignores the callee's crossing offer; the
//! callee rolls its own offer back, answers the caller's, then offers again
//! with its change. In a group call the relay's forwarding unit is always the
//! offerer and this side only answers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use natter_proto::call::SdpType;
use rtc::rtp_transceiver::RTCRtpTransceiverDirection;
use webrtc::peer_connection::RTCSessionDescription;

use super::{CallEngine, Negotiation, Role};
use crate::config::VideoSource;
use crate::{Error, Result};

impl CallEngine {
    /// Applies the peer's offer or answer. An offer is answered with a
    /// [`CallEvent::LocalSdp`](super::CallEvent::LocalSdp). Candidates that
    /// arrived early are applied now. After the first exchange of a 1:1 call
    /// either side may offer again (see the module docs for glare).
    pub async fn set_remote_sdp(&self, sdp_type: SdpType, sdp: String) -> Result<()> {
        if self.shared.is_closed() {
            return Err(Error::Closed);
        }
        let mut negotiation = self.negotiation.lock().await;
        let group = self.shared.group.is_some();
        let first = !negotiation.remote_set;
        let unexpected = || {
            Err(Error::Signalling(format!(
                "unexpected {sdp_type:?} for the {:?} side",
                self.role
            )))
        };
        match sdp_type {
            SdpType::Answer if !negotiation.offer_pending => return unexpected(),
            SdpType::Offer if first && self.role == Role::Offerer => return unexpected(),
            SdpType::Offer if group && self.role == Role::Offerer => return unexpected(),
            SdpType::Offer if negotiation.offer_pending => {
                if self.role == Role::Offerer {
                    // Glare: the caller's own offer wins; the callee answers it
                    // and offers again afterwards.
                    tracing::debug!("crossing offer from the callee ignored");
                    return Ok(());
                }
                self.pc
                    .set_local_description(
                        RTCSessionDescription::rollback(None)
                            .map_err(|e| Error::Signalling(format!("rollback refused: {e}")))?,
                    )
                    .await
                    .map_err(|e| Error::Signalling(format!("rollback refused: {e}")))?;
                negotiation.offer_pending = false;
                negotiation.offer_again = true;
            }
            _ => {}
        }
        let offer_has_video = sdp.lines().any(|line| line.starts_with("m=video"));
        let video_limit = video_limit(&sdp);
        let description = match sdp_type {
            SdpType::Offer => RTCSessionDescription::offer(sdp),
            SdpType::Answer => RTCSessionDescription::answer(sdp),
        }
        .map_err(|e| Error::Signalling(format!("unusable SDP: {e}")))?;
        self.pc
            .set_remote_description(description)
            .await
            .map_err(|e| Error::Signalling(format!("SDP rejected: {e}")))?;
        negotiation.remote_set = true;
        self.shared
            .video_limit_bps
            .store(video_limit.unwrap_or(0), Ordering::Release);

        if sdp_type == SdpType::Offer {
            // Tracks go in after the first offer so they take over the offered
            // transceivers; video only if the offer has room for it. Later
            // offers only change what this side receives.
            if first {
                self.add_local_tracks(&mut negotiation, offer_has_video)
                    .await?;
            }
            let answer = self.pc.create_answer(None).await?;
            let sdp = answer.sdp.clone();
            self.pc.set_local_description(answer).await?;
            self.shared.emit_local_sdp(SdpType::Answer, sdp);
        } else {
            negotiation.offer_pending = false;
        }
        for candidate in std::mem::take(&mut negotiation.pending_candidates) {
            if let Err(error) = self.pc.add_ice_candidate(candidate).await {
                tracing::debug!(%error, "an early remote candidate was refused");
            }
        }
        if std::mem::take(&mut negotiation.offer_again) {
            self.offer(&mut negotiation).await?;
        }
        Ok(())
    }

    /// Starts sending video from `source` (a camera, the screen, a pattern) in
    /// the middle of a call. A 1:1 call without a video track gets one and
    /// renegotiates; one whose video was stopped offers to send again; one
    /// already sending switches source. In a group call the video track is
    /// always there, so this only switches source.
    pub async fn start_video(&self, source: VideoSource) -> Result<()> {
        if self.shared.is_closed() {
            return Err(Error::Closed);
        }
        if !source.is_some() {
            return self.stop_video().await;
        }
        let mut negotiation = self.negotiation.lock().await;
        if self.shared.group.is_some() && negotiation.video_sender.is_none() {
            return Err(Error::Config("this group call carries no video".to_owned()));
        }
        if !negotiation.remote_set && self.role == Role::Answerer {
            return Err(Error::Signalling(
                "video can start once the call is answered".to_owned(),
            ));
        }
        self.shared.keyframe_wanted.store(true, Ordering::Release);
        self.shared.video_source.set(source);
        self.shared.camera_on.store(true, Ordering::Release);
        if self.shared.group.is_some() {
            return Ok(());
        }
        if negotiation.video_sender.is_none() {
            self.add_video_track(&mut negotiation).await?;
        } else if !negotiation.video_sending {
            self.set_video_direction(&negotiation, RTCRtpTransceiverDirection::Sendrecv)
                .await?;
            negotiation.video_sending = true;
        } else {
            return Ok(());
        }
        self.offer(&mut negotiation).await
    }

    /// Stops sending video. A 1:1 call renegotiates so the peer knows no
    /// picture comes (its picture, if any, still flows to us); a group call
    /// just stops sending.
    pub async fn stop_video(&self) -> Result<()> {
        if self.shared.is_closed() {
            return Err(Error::Closed);
        }
        let mut negotiation = self.negotiation.lock().await;
        self.shared.camera_on.store(false, Ordering::Release);
        if self.shared.group.is_some() || !negotiation.video_sending {
            return Ok(());
        }
        self.set_video_direction(&negotiation, RTCRtpTransceiverDirection::Recvonly)
            .await?;
        negotiation.video_sending = false;
        self.offer(&mut negotiation).await
    }

    /// Whether this side sends video now (1:1: negotiated to send and on).
    pub fn is_sending_video(&self) -> bool {
        self.is_camera_on()
    }

    /// Whether the call has a video track of this side's (from the start, or
    /// added by [`CallEngine::start_video`]).
    pub fn has_video_track(&self) -> bool {
        self.shared.has_video_track.load(Ordering::Acquire)
    }

    async fn set_video_direction(
        &self,
        negotiation: &Negotiation,
        direction: RTCRtpTransceiverDirection,
    ) -> Result<()> {
        let Some(ours) = &negotiation.video_sender else {
            return Ok(());
        };
        for transceiver in self.pc.get_transceivers().await {
            if let Ok(Some(sender)) = transceiver.sender().await
                && Arc::ptr_eq(&sender, ours)
            {
                transceiver.set_direction(direction).await?;
            }
        }
        Ok(())
    }

    /// Sends a new offer, or remembers to once the pending one is answered.
    async fn offer(&self, negotiation: &mut Negotiation) -> Result<()> {
        if negotiation.offer_pending {
            negotiation.offer_again = true;
            return Ok(());
        }
        let offer = self.pc.create_offer(None).await?;
        let sdp = offer.sdp.clone();
        self.pc.set_local_description(offer).await?;
        negotiation.offer_pending = true;
        self.shared.emit_local_sdp(SdpType::Offer, sdp);
        Ok(())
    }
}

/// The most the side that wrote `sdp` takes on the first video section, in
/// bits a second: its `b=TIAS` (bits) or `b=AS` (kilobits), if any.
fn video_limit(sdp: &str) -> Option<u64> {
    let mut in_video = false;
    let mut limit = None;
    for line in sdp.lines() {
        if let Some(media) = line.strip_prefix("m=") {
            if limit.is_some() {
                break;
            }
            in_video = media.starts_with("video");
        } else if in_video {
            if let Some(kbps) = line.strip_prefix("b=AS:") {
                limit = limit.or(kbps.trim().parse::<u64>().ok().map(|k| k * 1_000));
            } else if let Some(bps) = line.strip_prefix("b=TIAS:") {
                limit = bps.trim().parse::<u64>().ok().or(limit);
            }
        }
    }
    limit.filter(|l| *l > 0)
}

#[cfg(test)]
mod limit_tests {
    use super::video_limit;

    #[test]
    fn the_video_sections_bandwidth_line_is_the_limit() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\nb=AS:64\r\n\
                   m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\nb=AS:300\r\na=mid:1\r\n";
        assert_eq!(video_limit(sdp), Some(300_000));
        let tias = sdp.replace("b=AS:300", "b=TIAS:250000");
        assert_eq!(video_limit(&tias), Some(250_000));
        assert_eq!(video_limit(&sdp.replace("b=AS:300\r\n", "")), None);
        assert_eq!(
            video_limit("v=0\r\nm=video 9 RTP/AVP 102\r\nb=AS:nonsense\r\n"),
            None
        );
    }
}
