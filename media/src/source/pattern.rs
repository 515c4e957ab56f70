//! A camera stand-in: eight colour bars over the top two thirds, a dark band below
//! with a white block sliding across it, so a viewer (or a test) can tell both that
//! the colours survive the codec and that the picture moves. Optionally the
//! capture time is written into the band, above the block, as a row of black
//! and white cells, so a receiver on the same clock tells each picture's delay
//! ([`PatternSource::with_clock`], [`picture_delay`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::frame::{I420Frame, RgbaFrame, rgb_to_yuv};
use crate::source::{Pacer, VideoCapture};
use crate::{Error, Result};

/// The bar colours, left to right, as RGB.
pub const BARS: [[u8; 3]; 8] = [
    [255, 255, 255], // white
    [255, 255, 0],   // yellow
    [0, 255, 255],   // cyan
    [0, 255, 0],     // green
    [255, 0, 255],   // magenta
    [255, 0, 0],     // red
    [0, 0, 255],     // blue
    [0, 0, 0],       // black
];

/// RGB of the band under the bars.
pub const BAND: [u8; 3] = [32, 32, 32];
/// RGB of the moving block.
pub const BLOCK: [u8; 3] = [255, 255, 255];

/// The moving test pattern. Generates I420 directly, so no colour conversion runs
/// before the encoder.
#[derive(Debug)]
pub struct PatternSource {
    background: I420Frame,
    fps: u32,
    frame_no: u64,
    pacer: Option<Pacer>,
    /// Sensor-like noise on the brightness, ± this much; 0 for none.
    grain: u8,
    noise: u64,
    /// Whether the capture time is written into each picture.
    clock: bool,
}

/// Cells of the capture-time stamp after its always-white first cell: the
/// wall clock's milliseconds modulo 2²⁴ (about 4.7 hours), most significant
/// bit first.
const CLOCK_BITS: u32 = 24;

impl PatternSource {
    /// A `width × height` pattern released at `fps` frames a second of wall time.
    /// Width and height are rounded down to even numbers and must be at least 16.
    pub fn new(width: usize, height: usize, fps: u32) -> Result<Self> {
        let mut source = Self::unpaced(width, height, fps)?;
        source.pacer = Some(Pacer::new(Duration::from_secs(1) / fps));
        Ok(source)
    }

    /// The same pattern without pacing (codec tests and benchmarks).
    pub fn unpaced(width: usize, height: usize, fps: u32) -> Result<Self> {
        if width < 16 || height < 16 || fps == 0 || fps > 120 {
            return Err(Error::Config(format!(
                "test pattern {width}×{height} at {fps} fps: needs at least 16×16 and 1..=120 fps"
            )));
        }
        Ok(Self {
            background: background(width & !1, height & !1),
            fps,
            frame_no: 0,
            pacer: None,
            grain: 0,
            noise: 0x9e37_79b9_7f4a_7c15,
            clock: false,
        })
    }

    /// Adds fresh noise of ± `grain` to every pixel's brightness in every
    /// picture, as a camera's sensor does: the encoder then needs every bit
    /// it is given (a clean pattern needs a few kb/s), which is what shows
    /// a call following a narrow path.
    pub fn with_grain(mut self, grain: u8) -> Self {
        self.grain = grain;
        self
    }

    /// Writes the time each picture is made into it (see [`picture_delay`]).
    pub fn with_clock(mut self) -> Self {
        self.clock = true;
        self
    }

    /// The next picture, without waiting.
    pub fn generate(&mut self) -> I420Frame {
        let mut frame = self.background.clone();
        let (w, h) = (frame.width, frame.height);
        let (x0, y0, size) = block_rect(w, h, self.frame_no);
        fill_rect(&mut frame, x0, y0, size, size, BLOCK);
        if self.clock
            && let Some((top, rows, cell)) = clock_rect(w, h)
        {
            let now = clock_now();
            fill_rect(&mut frame, 0, top, cell, rows, [255, 255, 255]);
            for bit in 0..CLOCK_BITS {
                let on = (now >> (CLOCK_BITS - 1 - bit)) & 1 == 1;
                let colour = if on { [255, 255, 255] } else { [0, 0, 0] };
                let x = (bit as usize + 1) * cell;
                fill_rect(&mut frame, x, top, cell, rows, colour);
            }
        }
        if self.grain > 0 {
            let span = u64::from(self.grain) * 2 + 1;
            let luma = w * h;
            for pixel in &mut frame.data[..luma] {
                // xorshift64: cheap, and plenty random for a picture.
                self.noise ^= self.noise << 13;
                self.noise ^= self.noise >> 7;
                self.noise ^= self.noise << 17;
                let offset = (self.noise % span) as i16 - i16::from(self.grain);
                *pixel = (i16::from(*pixel) + offset).clamp(16, 235) as u8;
            }
        }
        self.frame_no += 1;
        frame
    }
}

impl VideoCapture for PatternSource {
    fn next_frame(&mut self) -> Result<I420Frame> {
        if let Some(pacer) = &mut self.pacer {
            pacer.wait();
        }
        Ok(self.generate())
    }

    fn fps(&self) -> u32 {
        self.fps
    }
}

/// The bar colour at column `x` of a `width`-wide pattern (rows above
/// [`band_top`]).
pub fn bar_at(x: usize, width: usize) -> [u8; 3] {
    BARS[(x * BARS.len() / width.max(1)).min(BARS.len() - 1)]
}

/// First row of the dark band under the bars.
pub fn band_top(height: usize) -> usize {
    (height * 2 / 3) & !1
}

/// The moving block's left, top and side in frame `frame_no`: it slides left to right
/// across the band once every ~4 s at 30 fps, then starts over.
pub fn block_rect(width: usize, height: usize, frame_no: u64) -> (usize, usize, usize) {
    let top = band_top(height);
    let size = ((height - top) / 2).max(2) & !1;
    let y0 = (top + (height - top - size) / 2) & !1;
    let travel = (width - size).max(1) as u64;
    let step = (width as u64 / 120).max(2);
    let x0 = ((frame_no * step) % travel) as usize & !1;
    (x0, y0, size)
}

/// Where the capture-time cells go in a `width × height` pattern: their top
/// row, height and width, between the band's top and the block; `None` when
/// the picture is too small for them.
fn clock_rect(width: usize, height: usize) -> Option<(usize, usize, usize)> {
    let top = band_top(height);
    let (_, block_top, _) = block_rect(width, height, 0);
    let rows = block_top.saturating_sub(top + 4) & !1;
    let cell = (width / (CLOCK_BITS as usize + 1)) & !1;
    (rows >= 2 && cell >= 4).then_some((top + 2, rows, cell))
}

/// The wall clock as written into a picture: milliseconds since the epoch,
/// modulo 2²⁴.
fn clock_now() -> u32 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    (ms % (1 << CLOCK_BITS)) as u32
}

/// How long ago a received picture of a [`PatternSource::with_clock`]
/// pattern was made, by this machine's clock (so: sender and receiver on one
/// machine, or clocks in step); `None` when it carries no readable time. The
/// cells are read at their centres, so a picture scaled on the way still
/// reads.
pub fn picture_delay(frame: &RgbaFrame) -> Option<Duration> {
    let (top, rows, cell) = clock_rect(frame.width, frame.height)?;
    let y = top + rows / 2;
    let bright = |cell_no: usize| {
        let [r, g, b, _] = frame.pixel(cell_no * cell + cell / 2, y)?;
        Some((u16::from(r) + u16::from(g) + u16::from(b)) / 3 > 128)
    };
    if !bright(0)? {
        return None;
    }
    let mut stamp = 0u32;
    for bit in 0..CLOCK_BITS as usize {
        stamp = (stamp << 1) | u32::from(bright(bit + 1)?);
    }
    let ago = clock_now().wrapping_sub(stamp) & ((1 << CLOCK_BITS) - 1);
    // A stamp from the future, or hours old, is no stamp: misread cells.
    (ago < 60_000).then(|| Duration::from_millis(u64::from(ago)))
}

fn background(width: usize, height: usize) -> I420Frame {
    let mut frame = I420Frame::black(width, height);
    let top = band_top(height);
    let bar_width = width / BARS.len();
    for (i, colour) in BARS.iter().enumerate() {
        let x0 = (i * bar_width) & !1;
        let x1 = if i + 1 == BARS.len() {
            width
        } else {
            ((i + 1) * bar_width) & !1
        };
        fill_rect(&mut frame, x0, 0, x1 - x0, top, *colour);
    }
    fill_rect(&mut frame, 0, top, width, height - top, BAND);
    frame
}

/// Paints an axis-aligned rectangle; `x`, `y`, `w`, `h` are even.
fn fill_rect(frame: &mut I420Frame, x: usize, y: usize, w: usize, h: usize, rgb: [u8; 3]) {
    let (yv, uv, vv) = rgb_to_yuv(rgb[0], rgb[1], rgb[2]);
    let width = frame.width;
    let luma = width * frame.height;
    let (y_plane, chroma) = frame.data.split_at_mut(luma);
    let (u_plane, v_plane) = chroma.split_at_mut(luma / 4);
    for row in y..(y + h).min(frame.height) {
        let start = row * width + x;
        let end = row * width + (x + w).min(width);
        y_plane[start..end].fill(yv);
    }
    let cw = width / 2;
    for row in y / 2..((y + h) / 2).min(frame.height / 2) {
        let start = row * cw + x / 2;
        let end = row * cw + ((x + w) / 2).min(cw);
        u_plane[start..end].fill(uv);
        v_plane[start..end].fill(vv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_block_land_where_documented() {
        let mut pattern = PatternSource::unpaced(320, 240, 30).unwrap();
        let frame = pattern.generate();
        // Yellow bar (second of eight), middle of the bar area.
        let x = 320 / 8 + 20;
        let y = 80;
        let (yy, uu, vv) = rgb_to_yuv(255, 255, 0);
        assert_eq!(frame.y()[y * 320 + x], yy);
        assert_eq!(frame.u()[(y / 2) * 160 + x / 2], uu);
        assert_eq!(frame.v()[(y / 2) * 160 + x / 2], vv);
        // The block moves between frames.
        let a = block_rect(320, 240, 0);
        let b = block_rect(320, 240, 10);
        assert_ne!(a.0, b.0);
        assert_eq!(bar_at(x, 320), [255, 255, 0]);
    }

    #[test]
    fn a_clocked_picture_tells_its_age() {
        let mut pattern = PatternSource::unpaced(320, 240, 30).unwrap().with_clock();
        let frame = pattern.generate().to_rgba(1);
        std::thread::sleep(Duration::from_millis(30));
        let delay = picture_delay(&frame).expect("a stamp");
        assert!(
            delay >= Duration::from_millis(30) && delay < Duration::from_millis(500),
            "{delay:?}"
        );
        // The cells stay clear of the bars and the block.
        assert_eq!(
            frame.pixel(20, 80).map(|p| p[..3].to_vec()),
            Some(vec![255; 3])
        );
        let plain = PatternSource::unpaced(320, 240, 30).unwrap().generate();
        assert_eq!(picture_delay(&plain.to_rgba(1)), None);
    }

    #[test]
    fn grain_changes_every_picture_but_not_the_colours() {
        let mut pattern = PatternSource::unpaced(320, 240, 30).unwrap().with_grain(12);
        let (a, b) = (pattern.generate(), pattern.generate());
        let differ = a.y().iter().zip(b.y()).filter(|(x, y)| x != y).count();
        assert!(differ > a.y().len() / 2, "only {differ} pixels changed");
        let (yy, _, _) = rgb_to_yuv(255, 255, 0);
        let mean = (0..20)
            .map(|i| u32::from(a.y()[80 * 320 + 50 + i]))
            .sum::<u32>()
            / 20;
        assert!(mean.abs_diff(u32::from(yy)) < 8, "{mean} against {yy}");
    }

    #[test]
    fn tiny_patterns_are_refused() {
        assert!(matches!(
            PatternSource::new(8, 8, 30),
            Err(Error::Config(_))
        ));
    }
}
