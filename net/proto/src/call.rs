//! Call signalling. A 1:1 call is set up between two accounts of a 1:1
//! conversation; the relay keeps its state and forwards SDP and ICE only between
//! the two devices taking part. A group call (version 4) runs through the relay's
//! forwarding unit: each device taking part exchanges SDP and ICE with the relay
//! itself, which offers and re-offers as people join and leave.
//!
//! Flow: caller sends [`CallRequest::Invite`]; every device of the callee gets
//! [`CallNotice::Incoming`] and answers `Ringing`; one device sends `Accept` (the
//! others get `Ended { reason: answered_elsewhere }`), then offer/answer/ICE flow
//! between the caller's device and the accepting device until either hangs up.

use serde::{Deserialize, Serialize};

use crate::model::{CallMedia, ConversationId, UserId};

/// One ICE candidate: the fields of the browser's `RTCIceCandidateInit`
/// (`candidate`, `sdpMid`, `sdpMLineIndex`), named in snake_case on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    /// The `candidate:` line.
    pub candidate: String,
    /// Media section id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// Media section index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mline_index: Option<u16>,
}

/// Client → relay call actions. Every variant names the call by the id the caller
/// chose in `Invite`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CallRequest {
    /// Start a call in a 1:1 conversation.
    Invite {
        /// Caller-chosen unique id (a UUID).
        call_id: String,
        /// The 1:1 conversation.
        conversation: ConversationId,
        /// Audio or video.
        media: CallMedia,
    },
    /// The callee's device is ringing.
    Ringing {
        /// The call.
        call_id: String,
    },
    /// The callee answers on this device.
    Accept {
        /// The call.
        call_id: String,
    },
    /// The callee declines.
    Reject {
        /// The call.
        call_id: String,
    },
    /// The caller gives up before an answer.
    Cancel {
        /// The call.
        call_id: String,
    },
    /// Either side ends an answered call.
    Hangup {
        /// The call.
        call_id: String,
    },
    /// SDP offer or answer for the peer.
    Sdp {
        /// The call.
        call_id: String,
        /// `offer` or `answer`.
        sdp_type: SdpType,
        /// The session description.
        sdp: String,
    },
    /// An ICE candidate for the peer.
    Ice {
        /// The call.
        call_id: String,
        /// The candidate.
        candidate: IceCandidate,
    },
    /// Whether this device's microphone is muted (version 7, group calls):
    /// the relay tells every member in the next `participants`.
    MediaState {
        /// The call.
        call_id: String,
        /// The microphone is muted.
        muted: bool,
    },
}

impl CallRequest {
    /// The call this request is about.
    pub fn call_id(&self) -> &str {
        match self {
            CallRequest::Invite { call_id, .. }
            | CallRequest::Ringing { call_id }
            | CallRequest::Accept { call_id }
            | CallRequest::Reject { call_id }
            | CallRequest::Cancel { call_id }
            | CallRequest::Hangup { call_id }
            | CallRequest::Sdp { call_id, .. }
            | CallRequest::Ice { call_id, .. }
            | CallRequest::MediaState { call_id, .. } => call_id,
        }
    }
}

/// Offer or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpType {
    /// The caller's offer.
    Offer,
    /// The callee's answer.
    Answer,
}

/// Why a call ended, as told to the devices taking part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Nobody answered within the ring timeout.
    Missed,
    /// The callee declined.
    Rejected,
    /// The caller gave up before an answer.
    Cancelled,
    /// The callee was already in a call.
    Busy,
    /// Answered, then hung up by either side.
    Completed,
    /// Another device of this account answered.
    AnsweredElsewhere,
    /// The other party's connection was lost beyond the grace period.
    ConnectionLost,
}

/// Relay → client call notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum CallNotice {
    /// Someone is calling this account.
    Incoming {
        /// The call.
        call_id: String,
        /// The 1:1 conversation.
        conversation: ConversationId,
        /// The caller.
        from: UserId,
        /// Audio or video.
        media: CallMedia,
    },
    /// A callee device is ringing (to the caller).
    Ringing {
        /// The call.
        call_id: String,
    },
    /// The callee answered (to the caller and the answering device).
    Accepted {
        /// The call.
        call_id: String,
    },
    /// The call is over.
    Ended {
        /// The call.
        call_id: String,
        /// Why.
        reason: EndReason,
        /// Talk time, when it was answered.
        #[serde(default)]
        duration_ms: u64,
    },
    /// The peer's SDP.
    Sdp {
        /// The call.
        call_id: String,
        /// `offer` or `answer`.
        sdp_type: SdpType,
        /// The session description.
        sdp: String,
    },
    /// The peer's ICE candidate.
    Ice {
        /// The call.
        call_id: String,
        /// The candidate.
        candidate: IceCandidate,
    },
    /// Who is in a group call now (version 4): to every device of every member
    /// whenever someone joins or leaves, and to a device that connects while the
    /// call runs. `participants` empty means the call is over.
    Participants {
        /// The call.
        call_id: String,
        /// The group conversation.
        conversation: ConversationId,
        /// Audio or video.
        media: CallMedia,
        /// The accounts taking part, in the order they joined.
        participants: Vec<UserId>,
        /// Those of `participants` whose microphone is muted, in the same
        /// order (version 7). A relay of version 7 or later always sends it,
        /// empty when nobody is muted; `None` from an older relay, which
        /// does not take `media_state`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        muted: Option<Vec<UserId>>,
    },
}
