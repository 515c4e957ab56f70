//! H.264 via OpenH264.

use openh264::OpenH264API;
use openh264::decoder::{Decoder, DecoderConfig};
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, Profile,
    RateControlMode, UsageType,
};
use openh264::formats::YUVSource;

use crate::frame::{I420Frame, RgbaFrame};
use crate::{Error, Result};

fn codec_error(error: openh264::Error) -> Error {
    Error::Codec(format!("h264: {error}"))
}

/// What the encoder is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoEncoderSettings {
    /// Target bits a second.
    pub bitrate: u32,
    /// Frames a second the source delivers.
    pub fps: u32,
    /// A key frame at least this often, so a receiver that lost packets recovers
    /// without asking.
    pub keyframe_interval_s: u32,
}

impl Default for VideoEncoderSettings {
    fn default() -> Self {
        Self {
            bitrate: 1_500_000,
            fps: 30,
            keyframe_interval_s: 2,
        }
    }
}

/// H.264 Constrained Baseline encoder. Output is Annex B (start codes), SPS/PPS
/// repeated with every key frame.
pub struct H264Encoder {
    inner: Encoder,
    settings: VideoEncoderSettings,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl H264Encoder {
    /// An encoder for pictures of any size: it sets itself up on the first frame and
    /// again whenever the size changes (another camera), starting with a key frame.
    pub fn new(settings: VideoEncoderSettings) -> Result<Self> {
        Ok(Self {
            inner: build_encoder(settings)?,
            settings,
        })
    }

    /// Encodes one picture. The result is empty when rate control skipped the frame.
    pub fn encode(&mut self, frame: &I420Frame) -> Result<Vec<u8>> {
        let bitstream = self.inner.encode(frame).map_err(codec_error)?;
        Ok(bitstream.to_vec())
    }

    /// Changes the target bitrate (the path got narrower or wider). The
    /// encoder starts over, so the next picture is a key frame; callers change
    /// it seldom. The same bitrate again changes nothing.
    pub fn set_bitrate(&mut self, bitrate: u32) -> Result<()> {
        if bitrate == self.settings.bitrate {
            return Ok(());
        }
        let settings = VideoEncoderSettings {
            bitrate,
            ..self.settings
        };
        self.inner = build_encoder(settings)?;
        self.settings = settings;
        Ok(())
    }

    /// The target bitrate now.
    pub fn bitrate(&self) -> u32 {
        self.settings.bitrate
    }

    /// Makes the next frame a key frame (after loss, or for a new receiver).
    pub fn force_keyframe(&mut self) {
        self.inner.force_intra_frame();
    }
}

fn build_encoder(settings: VideoEncoderSettings) -> Result<Encoder> {
    let config = EncoderConfig::new()
        .bitrate(BitRate::from_bps(settings.bitrate))
        .max_frame_rate(FrameRate::from_hz(settings.fps as f32))
        .usage_type(UsageType::CameraVideoRealTime)
        .rate_control_mode(RateControlMode::Bitrate)
        .profile(Profile::Baseline)
        .complexity(Complexity::Low)
        // One thread: the call already runs capture, decode and the network on a
        // small machine, and OpenH264's default would claim every core.
        .num_threads(1)
        .skip_frames(true)
        .intra_frame_period(IntraFramePeriod::from_num_frames(
            settings.fps * settings.keyframe_interval_s,
        ));
    Encoder::with_api_config(OpenH264API::from_source(), config).map_err(codec_error)
}

/// H.264 decoder producing RGBA.
pub struct H264Decoder {
    inner: Decoder,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder").finish_non_exhaustive()
    }
}

impl H264Decoder {
    /// A decoder.
    pub fn new() -> Result<Self> {
        let inner = Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())
            .map_err(codec_error)?;
        Ok(Self { inner })
    }

    /// Decodes one access unit (Annex B). `Ok(None)` while the decoder still waits for
    /// a key frame or buffers.
    pub fn decode(&mut self, access_unit: &[u8]) -> Result<Option<RgbaFrame>> {
        let Some(yuv) = self.inner.decode(access_unit).map_err(codec_error)? else {
            return Ok(None);
        };
        let (width, height) = yuv.dimensions();
        let mut data = vec![0u8; width * height * 4];
        yuv.write_rgba8(&mut data);
        Ok(Some(RgbaFrame {
            width,
            height,
            data,
        }))
    }
}
