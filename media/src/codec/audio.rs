//! Opus for calls.

use crate::frame::{AudioFrame, FRAME_SAMPLES, SAMPLE_RATE};
use crate::{Error, Result};

/// Upper bound of one encoded 20 ms packet; Opus's own recommendation for a buffer.
const MAX_PACKET: usize = 1_500;

fn codec_error(error: opus::Error) -> Error {
    Error::Codec(format!("opus: {error}"))
}

/// Opus encoder for 48 kHz mono speech.
pub struct OpusEncoder {
    inner: opus::Encoder,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder").finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// An encoder tuned for voice at `bitrate` bits a second, with in-band FEC so the
    /// receiver can rebuild a single lost packet from the next one.
    pub fn new(bitrate: i32) -> Result<Self> {
        let mut inner =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
                .map_err(codec_error)?;
        inner
            .set_bitrate(opus::Bitrate::Bits(bitrate))
            .map_err(codec_error)?;
        inner.set_inband_fec(true).map_err(codec_error)?;
        inner.set_packet_loss_perc(5).map_err(codec_error)?;
        Ok(Self { inner })
    }

    /// Encodes one 20 ms frame into one packet.
    pub fn encode(&mut self, frame: &AudioFrame) -> Result<Vec<u8>> {
        if frame.samples.len() != FRAME_SAMPLES {
            return Err(Error::Codec(format!(
                "opus: a frame must hold {FRAME_SAMPLES} samples, got {}",
                frame.samples.len()
            )));
        }
        self.inner
            .encode_vec(&frame.samples, MAX_PACKET)
            .map_err(codec_error)
    }
}

/// Opus decoder producing 48 kHz mono, whatever the sender's channel count.
pub struct OpusDecoder {
    inner: opus::Decoder,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder").finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// A decoder.
    pub fn new() -> Result<Self> {
        let inner = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono).map_err(codec_error)?;
        Ok(Self { inner })
    }

    /// Decodes one packet. A packet may hold more than 20 ms (other senders), so the
    /// result can be longer than one frame.
    pub fn decode(&mut self, packet: &[u8]) -> Result<Vec<i16>> {
        // 120 ms is the longest an Opus packet can be.
        let mut out = vec![0i16; FRAME_SAMPLES * 6];
        let n = self
            .inner
            .decode(packet, &mut out, false)
            .map_err(codec_error)?;
        out.truncate(n);
        Ok(out)
    }

    /// Stands in for one lost 20 ms packet: FEC from `next` when it is at hand,
    /// otherwise Opus's concealment.
    pub fn conceal(&mut self, next: Option<&[u8]>) -> Result<Vec<i16>> {
        let mut out = vec![0i16; FRAME_SAMPLES];
        let n = match next {
            Some(packet) => self.inner.decode(packet, &mut out, true),
            None => self.inner.decode(&[], &mut out, false),
        }
        .map_err(codec_error)?;
        out.truncate(n);
        Ok(out)
    }
}
