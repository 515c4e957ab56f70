//! WebRTC callbacks turned into [`CallEvent`]s and receive pipelines.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use natter_proto::call::IceCandidate;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCPeerConnectionIceEvent, RTCPeerConnectionState,
};

use super::{CallEvent, Shared, receive};

pub(super) struct Handler {
    shared: Arc<Shared>,
}

impl Handler {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => self.shared.emit_candidate(IceCandidate {
                candidate: init.candidate,
                // webrtc-rs reports an empty mid; on the wire "no mid" is the honest
                // value (the m-line index still says where it belongs, and with
                // BUNDLE every section shares the transport anyway).
                sdp_mid: init.sdp_mid.filter(|mid| !mid.is_empty()),
                sdp_mline_index: init.sdp_mline_index,
            }),
            Err(error) => tracing::debug!(%error, "a local candidate could not be encoded"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(%state, "call connection state");
        let shared = &self.shared;
        match state {
            RTCPeerConnectionState::Connected => {
                // The first picture the peer sees must be decodable on its own.
                shared.keyframe_wanted.store(true, Ordering::Release);
                shared.connected.store(true, Ordering::Release);
                shared.emit(CallEvent::Connected);
            }
            RTCPeerConnectionState::Disconnected => {
                shared.connected.store(false, Ordering::Release);
                shared.emit(CallEvent::Disconnected);
            }
            RTCPeerConnectionState::Failed => {
                shared.connected.store(false, Ordering::Release);
                shared.emit(CallEvent::Failed(
                    "the media connection to the peer failed".to_owned(),
                ));
            }
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        receive::start(self.shared.clone(), track);
    }
}
