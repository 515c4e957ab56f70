//! Encoders and decoders, all synchronous: they run on the pipeline threads of
//! [`crate::call`], never on the async executor.
//!
//! - [`audio`]: Opus, 48 kHz mono, 20 ms packets, in-band FEC and loss concealment.
//! - [`video`]: H.264 Constrained Baseline through OpenH264 (built from source, no
//!   system library), the profile every WebRTC endpoint decodes.

pub mod audio;
pub mod video;
