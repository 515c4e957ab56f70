//! Cameras through nokhwa (V4L2 on Linux, AVFoundation on macOS, Media Foundation on
//! Windows), delivered as I420.

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{ApiBackend, RequestedFormat, RequestedFormatType};

use crate::device::DeviceInfo;
use crate::frame::I420Frame;
use crate::source::VideoCapture;
use crate::{Error, Result};

/// The cameras present now; empty when there are none or the backend is unavailable.
pub fn list_cameras() -> Vec<DeviceInfo> {
    match nokhwa::query(ApiBackend::Auto) {
        Ok(cameras) => cameras
            .iter()
            .enumerate()
            .map(|(i, info)| DeviceInfo {
                name: info.human_name(),
                is_default: i == 0,
            })
            .collect(),
        Err(error) => {
            tracing::debug!(%error, "listing cameras failed");
            Vec::new()
        }
    }
}

/// A running camera. Not `Send` on every platform: open it on the thread that reads it.
pub struct CameraCapture {
    camera: nokhwa::Camera,
    rgb: Vec<u8>,
}

impl std::fmt::Debug for CameraCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraCapture").finish_non_exhaustive()
    }
}

/// Opens the named camera, or the first one, at its highest frame rate.
pub fn open_camera(name: Option<&str>) -> Result<CameraCapture> {
    let cameras = nokhwa::query(ApiBackend::Auto)
        .map_err(|e| Error::NoCamera(format!("cannot list cameras: {e}")))?;
    let info = match name {
        None => cameras.first(),
        Some(wanted) => cameras.iter().find(|c| c.human_name() == wanted),
    }
    .ok_or_else(|| {
        Error::NoCamera(match name {
            None => "no camera found".to_owned(),
            Some(wanted) => format!("no camera named {wanted:?}"),
        })
    })?;
    let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
    let mut camera = nokhwa::Camera::new(info.index().clone(), format)
        .map_err(|e| Error::Camera(format!("camera would not open: {e}")))?;
    camera
        .open_stream()
        .map_err(|e| Error::Camera(format!("camera would not start: {e}")))?;
    Ok(CameraCapture {
        camera,
        rgb: Vec::new(),
    })
}

impl VideoCapture for CameraCapture {
    fn next_frame(&mut self) -> Result<I420Frame> {
        let buffer = self
            .camera
            .frame()
            .map_err(|e| Error::Camera(format!("camera stopped: {e}")))?;
        let resolution = buffer.resolution();
        let (width, height) = (resolution.width() as usize, resolution.height() as usize);
        self.rgb.resize(width * height * 3, 0);
        buffer
            .decode_image_to_buffer::<RgbFormat>(&mut self.rgb)
            .map_err(|e| Error::Camera(format!("camera frame unreadable: {e}")))?;
        Ok(I420Frame::from_rgb(&self.rgb, width, height))
    }

    fn fps(&self) -> u32 {
        self.camera.frame_rate().clamp(1, 60)
    }
}

impl Drop for CameraCapture {
    fn drop(&mut self) {
        if let Err(error) = self.camera.stop_stream() {
            tracing::debug!(%error, "stopping the camera failed");
        }
    }
}
