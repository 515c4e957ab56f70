//! The crate's one error type. Every variant carries a human-readable message so the
//! app can show it as is ("no microphone found"), and the type is `Clone` so it can
//! ride inside UI messages.

/// Everything that can go wrong in a call or with a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No audio device matched, or the system has no audio devices at all.
    #[error("no audio device: {0}")]
    NoAudioDevice(String),
    /// An audio device exists but could not be opened or stopped working.
    #[error("audio device error: {0}")]
    AudioDevice(String),
    /// No camera matched, or the system has no cameras at all.
    #[error("no camera: {0}")]
    NoCamera(String),
    /// A camera exists but could not be opened or stopped working.
    #[error("camera error: {0}")]
    Camera(String),
    /// The screen or window cannot be captured (no display, no permission,
    /// the window closed).
    #[error("screen sharing: {0}")]
    Screen(String),
    /// An encoder or decoder failed.
    #[error("codec error: {0}")]
    Codec(String),
    /// The WebRTC stack refused an operation.
    #[error("WebRTC error: {0}")]
    WebRtc(String),
    /// The configuration cannot work (for example a 0×0 test pattern).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// SDP or ICE from the peer that does not fit the call's state.
    #[error("bad signalling: {0}")]
    Signalling(String),
    /// The operating system refused something (a thread, a socket).
    #[error("system error: {0}")]
    System(String),
    /// The call was closed.
    #[error("the call is closed")]
    Closed,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<webrtc::error::Error> for Error {
    fn from(error: webrtc::error::Error) -> Self {
        Error::WebRtc(error.to_string())
    }
}
