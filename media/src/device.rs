//! Real devices: microphones and speakers through cpal, cameras through nokhwa, behind
//! the same [`AudioCapture`](crate::source::AudioCapture) /
//! [`VideoCapture`](crate::source::VideoCapture) / [`AudioPlayback`](crate::sink::AudioPlayback)
//! traits as the synthetic sources.
//!
//! A missing or broken device is an [`Error`](crate::Error), never a panic. Device
//! lists are snapshots: [`watch_devices`] re-lists in the background and publishes
//! changes, so a settings screen notices plugged and unplugged devices.

pub mod audio;
pub mod camera;

use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait};
use tokio::sync::watch;

use crate::{Error, Result};

/// What kind of device an entry or an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// Audio input.
    Microphone,
    /// Audio output.
    Speaker,
    /// Video input.
    Camera,
    /// A shared screen or window.
    Screen,
}

/// One device as the user picks it: `name` is what goes into
/// [`AudioSource::Device`](crate::AudioSource::Device) and friends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Human-readable and also the key to open it by.
    pub name: String,
    /// Whether the system calls it the default.
    pub is_default: bool,
}

/// A snapshot of the devices present now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceList {
    /// Audio inputs.
    pub microphones: Vec<DeviceInfo>,
    /// Audio outputs.
    pub speakers: Vec<DeviceInfo>,
    /// Cameras.
    pub cameras: Vec<DeviceInfo>,
}

/// Enumerates microphones, speakers and cameras. Enumeration problems (no sound
/// system, no camera backend) give empty lists, logged at debug level; opening a
/// device is where a precise error is reported. Blocking: call it off the UI thread.
pub fn list_devices() -> DeviceList {
    let host = cpal::default_host();
    let default_in = host
        .default_input_device()
        .and_then(|d| d.description().ok())
        .map(|d| d.name().to_owned());
    let default_out = host
        .default_output_device()
        .and_then(|d| d.description().ok())
        .map(|d| d.name().to_owned());
    let named =
        |devices: Result<Vec<cpal::Device>, cpal::Error>, default: &Option<String>| match devices {
            Ok(devices) => devices
                .into_iter()
                .filter_map(|d| d.description().ok())
                .map(|d| DeviceInfo {
                    name: d.name().to_owned(),
                    is_default: default.as_deref() == Some(d.name()),
                })
                .collect(),
            Err(error) => {
                tracing::debug!(%error, "listing audio devices failed");
                Vec::new()
            }
        };
    let microphones = named(
        host.input_devices().map(|it| it.collect::<Vec<_>>()),
        &default_in,
    );
    let speakers = named(
        host.output_devices().map(|it| it.collect::<Vec<_>>()),
        &default_out,
    );
    DeviceList {
        microphones,
        speakers,
        cameras: camera::list_cameras(),
    }
}

/// Lists devices now and then every `interval` on a background thread, publishing
/// the list whenever it changes (hot-plug). The thread ends after the last receiver
/// is dropped. Enumeration can be slow and, on ALSA, noisy on stderr, so keep the
/// interval at a second or more outside tests.
pub fn watch_devices(interval: Duration) -> Result<watch::Receiver<DeviceList>> {
    let (tx, rx) = watch::channel(list_devices());
    std::thread::Builder::new()
        .name("natter-device-watch".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(interval);
                if tx.is_closed() {
                    break;
                }
                let list = list_devices();
                tx.send_if_modified(|current| {
                    let changed = *current != list;
                    if changed {
                        *current = list;
                    }
                    changed
                });
            }
        })
        .map_err(|e| Error::System(format!("cannot start the device watcher: {e}")))?;
    Ok(rx)
}
