//! Screen sharing sources: the whole screen or one window through `xcap`
//! (X11, Wayland, Windows, macOS), and a synthetic "document" for machines
//! without a display.
//!
//! Sizes and rates suit text: pictures larger than 1920×1080 are scaled down
//! (never up), and frames come at [`SCREEN_FPS`] — enough to follow a cursor
//! or a scrolling page at a bitrate the camera would use.

use std::time::Duration;

use crate::frame::{I420Frame, rgb_to_yuv};
use crate::source::{Pacer, VideoCapture};
use crate::{Error, Result};

/// Frames a second of a shared screen.
pub const SCREEN_FPS: u32 = 10;
/// The largest picture a shared screen sends.
pub const MAX_SCREEN: (usize, usize) = (1920, 1080);

/// What to share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScreenTarget {
    /// A monitor by its id, or the primary one.
    Monitor(Option<u32>),
    /// A window by its id.
    Window(u32),
}

/// One screen or window the user may pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenChoice {
    /// What sharing it captures.
    pub target: ScreenTarget,
    /// A name for the picker: the monitor's name, or the window's title and app.
    pub name: String,
    /// Size in pixels.
    pub width: u32,
    /// Size in pixels.
    pub height: u32,
}

fn capture_error(error: impl std::fmt::Display) -> Error {
    Error::Screen(format!("{error}"))
}

/// The monitors, then the visible windows, that can be shared. An error (no
/// display, no permission) says why; it never panics.
pub fn list_screens() -> Result<Vec<ScreenChoice>> {
    let mut choices = Vec::new();
    let monitors = xcap::Monitor::all().map_err(capture_error)?;
    for monitor in monitors {
        let (Ok(id), Ok(width), Ok(height)) = (monitor.id(), monitor.width(), monitor.height())
        else {
            continue;
        };
        let name = monitor.name().unwrap_or_else(|_| format!("{id}"));
        choices.push(ScreenChoice {
            target: ScreenTarget::Monitor(Some(id)),
            name,
            width,
            height,
        });
    }
    if choices.is_empty() {
        return Err(Error::Screen("no screen to share".to_owned()));
    }
    // A desktop without a window manager lists no windows; the screens remain.
    for window in xcap::Window::all().unwrap_or_default() {
        if window.is_minimized().unwrap_or(true) {
            continue;
        }
        let (Ok(id), Ok(width), Ok(height)) = (window.id(), window.width(), window.height()) else {
            continue;
        };
        if width < 16 || height < 16 {
            continue;
        }
        let title = window.title().unwrap_or_default();
        let app = window.app_name().unwrap_or_default();
        let name = match (title.is_empty(), app.is_empty()) {
            (false, false) => format!("{title} — {app}"),
            (false, true) => title,
            (true, _) => app,
        };
        choices.push(ScreenChoice {
            target: ScreenTarget::Window(id),
            name,
            width,
            height,
        });
    }
    Ok(choices)
}

enum Captured {
    Monitor(xcap::Monitor),
    Window(xcap::Window),
}

/// A shared screen or window, captured at [`SCREEN_FPS`].
pub struct ScreenSource {
    captured: Captured,
    pacer: Pacer,
}

impl std::fmt::Debug for ScreenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScreenSource").finish_non_exhaustive()
    }
}

impl ScreenSource {
    /// Opens `target`. Fails with [`Error::Screen`] when there is no display,
    /// or the monitor or window is gone.
    pub fn open(target: &ScreenTarget) -> Result<Self> {
        let captured = match target {
            ScreenTarget::Monitor(id) => {
                let monitors = xcap::Monitor::all().map_err(capture_error)?;
                let found = match id {
                    Some(id) => monitors.into_iter().find(|m| m.id().ok() == Some(*id)),
                    None => {
                        let primary = monitors
                            .iter()
                            .position(|m| m.is_primary().unwrap_or(false))
                            .unwrap_or(0);
                        monitors.into_iter().nth(primary)
                    }
                };
                Captured::Monitor(
                    found.ok_or_else(|| Error::Screen("that screen is gone".to_owned()))?,
                )
            }
            ScreenTarget::Window(id) => {
                let windows = xcap::Window::all().map_err(capture_error)?;
                Captured::Window(
                    windows
                        .into_iter()
                        .find(|w| w.id().ok() == Some(*id))
                        .ok_or_else(|| Error::Screen("that window is gone".to_owned()))?,
                )
            }
        };
        let mut source = Self {
            captured,
            pacer: Pacer::new(Duration::from_secs(1) / SCREEN_FPS),
        };
        // One capture now, so a display that refuses shows at once, not mid-call.
        source.grab()?;
        Ok(source)
    }

    fn grab(&mut self) -> Result<I420Frame> {
        let image = match &self.captured {
            Captured::Monitor(monitor) => monitor.capture_image(),
            Captured::Window(window) => window.capture_image(),
        }
        .map_err(capture_error)?;
        let (width, height) = (image.width() as usize, image.height() as usize);
        Ok(fit_rgba(image.as_raw(), width, height))
    }
}

impl VideoCapture for ScreenSource {
    fn next_frame(&mut self) -> Result<I420Frame> {
        self.pacer.wait();
        self.grab()
    }

    fn fps(&self) -> u32 {
        SCREEN_FPS
    }
}

/// Converts an RGBA picture to I420, scaled down (nearest pixel) to fit
/// [`MAX_SCREEN`], even-sized, at least 16×16.
pub fn fit_rgba(rgba: &[u8], width: usize, height: usize) -> I420Frame {
    if width < 16 || height < 16 || rgba.len() < width * height * 4 {
        return I420Frame::black(16, 16);
    }
    // One scale for both axes keeps the aspect ratio; ×1024 fixed point.
    let scale = (MAX_SCREEN.0 * 1024 / width)
        .min(MAX_SCREEN.1 * 1024 / height)
        .min(1024);
    let out_w = (width * scale / 1024).max(16) & !1;
    let out_h = (height * scale / 1024).max(16) & !1;
    let mut rgb = Vec::with_capacity(out_w * out_h * 3);
    for y in 0..out_h {
        let src_y = (y * height / out_h).min(height - 1);
        let row = &rgba[src_y * width * 4..][..width * 4];
        for x in 0..out_w {
            let src_x = (x * width / out_w).min(width - 1);
            rgb.extend_from_slice(&row[src_x * 4..][..3]);
        }
    }
    I420Frame::from_rgb(&rgb, out_w, out_h)
}

/// The page colour of the synthetic screen.
pub const PAGE: [u8; 3] = [250, 250, 250];
/// The colour of its lines of "text".
pub const INK: [u8; 3] = [20, 20, 20];
/// The colour of its title bar.
pub const TITLE: [u8; 3] = [40, 90, 200];

/// A stand-in for a shared screen: a white page under a blue title bar with
/// dark lines of "text" and a caret that moves down a line a second, so a test
/// can tell a shared screen from the camera pattern and see it change.
#[derive(Debug)]
pub struct SyntheticScreen {
    width: usize,
    height: usize,
    fps: u32,
    frame_no: u64,
    pacer: Pacer,
}

impl SyntheticScreen {
    /// A `width × height` page (rounded down to even, at least 64×64) at `fps`.
    pub fn new(width: usize, height: usize, fps: u32) -> Result<Self> {
        if width < 64 || height < 64 || fps == 0 {
            return Err(Error::Config(
                "a synthetic screen needs at least 64×64 pixels and 1 fps".to_owned(),
            ));
        }
        Ok(Self {
            width: width & !1,
            height: height & !1,
            fps,
            frame_no: 0,
            pacer: Pacer::new(Duration::from_secs(1) / fps),
        })
    }

    /// The colour of pixel (`x`, `y`) in frame `frame_no`.
    pub fn colour(&self, x: usize, y: usize, frame_no: u64) -> [u8; 3] {
        let bar = self.height / 10;
        if y < bar {
            return TITLE;
        }
        let line = self.height / 20;
        let row = (y - bar) / line;
        let in_text = (y - bar) % line < line / 2 && row % 2 == 1;
        let margin = self.width / 16;
        let caret_row = 1 + 2 * ((frame_no / u64::from(self.fps)) as usize % 8);
        if in_text && row == caret_row && x >= margin && x < margin + 8 {
            return TITLE;
        }
        if in_text && x >= margin && x < self.width - margin {
            INK
        } else {
            PAGE
        }
    }
}

impl VideoCapture for SyntheticScreen {
    fn next_frame(&mut self) -> Result<I420Frame> {
        self.pacer.wait();
        let mut frame = I420Frame::black(self.width, self.height);
        let (w, h) = (self.width, self.height);
        let (y_plane, chroma) = frame.data.split_at_mut(w * h);
        let (u_plane, v_plane) = chroma.split_at_mut(w * h / 4);
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = self.colour(x, y, self.frame_no);
                let (luma, u, v) = rgb_to_yuv(r, g, b);
                y_plane[y * w + x] = luma;
                if y % 2 == 0 && x % 2 == 0 {
                    u_plane[(y / 2) * (w / 2) + x / 2] = u;
                    v_plane[(y / 2) * (w / 2) + x / 2] = v;
                }
            }
        }
        self.frame_no += 1;
        Ok(frame)
    }

    fn fps(&self) -> u32 {
        self.fps
    }
}
