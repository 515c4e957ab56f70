//! Raw media as it moves between sources, codecs and sinks: 20 ms blocks of 48 kHz mono
//! audio, I420 video for the encoder, RGBA video for the screen, and the
//! latest-frame-wins slot the UI reads decoded video from.

use std::sync::Arc;

use tokio::sync::watch;

/// Audio sample rate used everywhere inside the crate (Opus's native rate).
pub const SAMPLE_RATE: u32 = 48_000;
/// Audio frame length: 20 ms, the usual Opus packet duration for calls.
pub const FRAME_MS: u32 = 20;
/// Samples in one mono audio frame (960 at 48 kHz).
pub const FRAME_SAMPLES: usize = (SAMPLE_RATE / 1000 * FRAME_MS) as usize;

/// One 20 ms block of 48 kHz mono signed 16-bit audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    /// Exactly [`FRAME_SAMPLES`] samples.
    pub samples: Vec<i16>,
}

impl AudioFrame {
    /// A frame of silence.
    pub fn silence() -> Self {
        Self {
            samples: vec![0; FRAME_SAMPLES],
        }
    }
}

/// A planar YUV 4:2:0 picture (BT.601, limited range), the encoder's input format.
/// Width and height are even.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I420Frame {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// The Y plane (`width × height`), then U and V (`width/2 × height/2` each).
    pub data: Vec<u8>,
}

impl I420Frame {
    /// A black picture; `width` and `height` are rounded down to even numbers.
    pub fn black(width: usize, height: usize) -> Self {
        let (width, height) = (width & !1, height & !1);
        let luma = width * height;
        let mut data = vec![16u8; luma + luma / 2];
        data[luma..].fill(128);
        Self {
            width,
            height,
            data,
        }
    }

    /// The Y plane.
    pub fn y(&self) -> &[u8] {
        &self.data[..self.width * self.height]
    }

    /// The U plane.
    pub fn u(&self) -> &[u8] {
        let luma = self.width * self.height;
        &self.data[luma..luma + luma / 4]
    }

    /// The V plane.
    pub fn v(&self) -> &[u8] {
        let luma = self.width * self.height;
        &self.data[luma + luma / 4..]
    }

    /// Converts packed RGB (3 bytes a pixel) to I420, dropping a trailing odd row or
    /// column. Used for camera frames; a buffer shorter than `width × height × 3`
    /// gives a black picture.
    pub fn from_rgb(rgb: &[u8], width: usize, height: usize) -> Self {
        let mut frame = Self::black(width, height);
        if rgb.len() < width * height * 3 {
            // A short buffer is a driver bug; a black picture beats a panic.
            return frame;
        }
        let (w, h) = (frame.width, frame.height);
        let luma = w * h;
        let (y_plane, chroma) = frame.data.split_at_mut(luma);
        let (u_plane, v_plane) = chroma.split_at_mut(luma / 4);
        for row in 0..h {
            let src = &rgb[row * width * 3..][..w * 3];
            let dst = &mut y_plane[row * w..][..w];
            for (px, y) in src.chunks_exact(3).zip(dst.iter_mut()) {
                *y = rgb_to_y(px[0], px[1], px[2]);
            }
            if row % 2 == 0 {
                // Chroma from the top-left pixel of each 2×2 block: cheap, and the
                // encoder's own subsampling loses more than this does.
                let c = (row / 2) * (w / 2);
                for (col, px) in src.chunks_exact(6).enumerate() {
                    let (u, v) = rgb_to_uv(px[0], px[1], px[2]);
                    u_plane[c + col] = u;
                    v_plane[c + col] = v;
                }
            }
        }
        frame
    }
}

impl I420Frame {
    /// The picture at half its width and height (each rounded down to even),
    /// every output pixel the mean of a 2×2 block: what a call sends when the
    /// path has too little room for the full size.
    pub fn half(&self) -> I420Frame {
        let mut out = I420Frame::black(self.width / 2, self.height / 2);
        let (w, h) = (out.width, out.height);
        if w == 0 || h == 0 {
            return out;
        }
        let luma = w * h;
        let (y_out, chroma_out) = out.data.split_at_mut(luma);
        let (u_out, v_out) = chroma_out.split_at_mut(luma / 4);
        shrink(self.y(), self.width, y_out, w, h);
        shrink(self.u(), self.width / 2, u_out, w / 2, h / 2);
        shrink(self.v(), self.width / 2, v_out, w / 2, h / 2);
        out
    }
}

/// Averages 2×2 blocks of the plane `src` (rows `stride` wide) into `dst`
/// (`w × h`).
fn shrink(src: &[u8], stride: usize, dst: &mut [u8], w: usize, h: usize) {
    for row in 0..h {
        let top = &src[2 * row * stride..][..2 * w];
        let bottom = &src[(2 * row + 1) * stride..][..2 * w];
        for (col, out) in dst[row * w..][..w].iter_mut().enumerate() {
            let sum = u16::from(top[2 * col])
                + u16::from(top[2 * col + 1])
                + u16::from(bottom[2 * col])
                + u16::from(bottom[2 * col + 1]);
            *out = ((sum + 2) / 4) as u8;
        }
    }
}

impl I420Frame {
    /// Converts to RGBA, keeping every `step`-th pixel in each direction (1 = full
    /// size, 2 = half): cheap enough for a local preview.
    pub fn to_rgba(&self, step: usize) -> RgbaFrame {
        let step = step.max(1);
        let (width, height) = (self.width / step, self.height / step);
        let mut data = Vec::with_capacity(width * height * 4);
        let (y_plane, u_plane, v_plane) = (self.y(), self.u(), self.v());
        let cw = self.width / 2;
        for row in 0..height {
            let sy = row * step;
            for col in 0..width {
                let sx = col * step;
                let c = (sy / 2) * cw + sx / 2;
                let [r, g, b] = yuv_to_rgb(y_plane[sy * self.width + sx], u_plane[c], v_plane[c]);
                data.extend_from_slice(&[r, g, b, 255]);
            }
        }
        RgbaFrame {
            width,
            height,
            data,
        }
    }
}

/// BT.601 limited-range YUV → RGB, integer arithmetic.
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = 298 * (i32::from(y) - 16);
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    // Clamped to 0..=255 first, so the casts are exact.
    let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    [
        clamp(c + 409 * e),
        clamp(c - 100 * d - 208 * e),
        clamp(c + 516 * d),
    ]
}

/// BT.601 limited-range RGB → YUV (integer arithmetic), the inverse of what the
/// H.264 decoder side uses.
pub fn rgb_to_yuv(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (u, v) = rgb_to_uv(r, g, b);
    (rgb_to_y(r, g, b), u, v)
}

fn rgb_to_y(r: u8, g: u8, b: u8) -> u8 {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    // 16..=235 by construction, so the cast is exact.
    (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8
}

fn rgb_to_uv(r: u8, g: u8, b: u8) -> (u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    // 16..=240 by construction, so the casts are exact.
    let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    (u as u8, v as u8)
}

impl openh264::formats::YUVSource for I420Frame {
    fn dimensions(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    fn strides(&self) -> (usize, usize, usize) {
        (self.width, self.width / 2, self.width / 2)
    }

    fn y(&self) -> &[u8] {
        I420Frame::y(self)
    }

    fn u(&self) -> &[u8] {
        I420Frame::u(self)
    }

    fn v(&self) -> &[u8] {
        I420Frame::v(self)
    }
}

/// A decoded picture ready for the screen: 8-bit RGBA, row-major, no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbaFrame {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width × height × 4` bytes.
    pub data: Vec<u8>,
}

impl RgbaFrame {
    /// The `[r, g, b, a]` of one pixel, or `None` outside the picture.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y * self.width + x) * 4;
        self.data.get(i..i + 4)?.try_into().ok()
    }
}

/// Where decoded video goes: a watch channel holding only the newest frame, so a slow
/// reader (the UI) never makes the decoder queue up pictures. Readers clone the receiver
/// from [`FrameSlot::subscribe`] or take a snapshot with [`FrameSlot::latest`].
#[derive(Debug, Clone)]
pub struct FrameSlot {
    tx: Arc<watch::Sender<Option<Arc<RgbaFrame>>>>,
}

impl Default for FrameSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameSlot {
    /// An empty slot.
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(None);
        Self { tx: Arc::new(tx) }
    }

    /// Replaces the frame; readers see only the newest one.
    pub fn publish(&self, frame: RgbaFrame) {
        self.tx.send_replace(Some(Arc::new(frame)));
    }

    /// The newest frame, if any arrived yet.
    pub fn latest(&self) -> Option<Arc<RgbaFrame>> {
        self.tx.borrow().clone()
    }

    /// Empties the slot (for example when the camera is switched off).
    pub fn clear(&self) {
        self.tx.send_replace(None);
    }

    /// A receiver that wakes on every new frame (and skips ones it was too slow for).
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<RgbaFrame>>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_size_keeps_the_colours_where_they_were() {
        // Left half red, right half blue, 64×36 (odd halves: 32×18, chroma 16×9).
        let (w, h) = (64, 36);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for _ in 0..h {
            for x in 0..w {
                rgb.extend_from_slice(if x < w / 2 {
                    &[255, 0, 0]
                } else {
                    &[0, 0, 255]
                });
            }
        }
        let half = I420Frame::from_rgb(&rgb, w, h).half();
        assert_eq!((half.width, half.height), (32, 18));
        assert_eq!(half.data.len(), 32 * 18 * 3 / 2);
        let rgba = half.to_rgba(1);
        let at = |x, y| {
            let p = rgba.pixel(x, y).unwrap();
            [p[0], p[1], p[2]]
        };
        assert!(at(4, 9)[0] > 200 && at(4, 9)[2] < 60, "{:?}", at(4, 9));
        assert!(at(28, 9)[2] > 200 && at(28, 9)[0] < 60, "{:?}", at(28, 9));
        // A picture too small to halve is an empty one, not a panic.
        assert_eq!(I420Frame::black(2, 2).half().data.len(), 0);
    }

    #[test]
    fn colours_survive_a_yuv_round_trip() {
        for rgb in [
            [255, 255, 0],
            [0, 255, 255],
            [255, 0, 255],
            [32, 32, 32],
            [0, 0, 0],
        ] {
            let (y, u, v) = rgb_to_yuv(rgb[0], rgb[1], rgb[2]);
            let back = yuv_to_rgb(y, u, v);
            for (a, b) in rgb.iter().zip(back) {
                assert!(
                    (i32::from(*a) - i32::from(b)).abs() <= 3,
                    "{rgb:?} → {back:?}"
                );
            }
        }
    }

    #[test]
    fn half_size_preview_keeps_the_picture() {
        let frame = I420Frame::from_rgb(&[255, 0, 0].repeat(64 * 32), 64, 32);
        let preview = frame.to_rgba(2);
        assert_eq!((preview.width, preview.height), (32, 16));
        let [r, g, b, a] = preview.pixel(10, 10).unwrap();
        assert!(r > 250 && g < 5 && b < 5 && a == 255, "{:?}", [r, g, b]);
    }
}
