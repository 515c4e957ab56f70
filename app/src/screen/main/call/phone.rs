//! The phone and the video feeds as subscriptions, and the media set-up from
//! the chosen devices.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::Duration;

use iced::Subscription;
use iced::futures::{Stream, StreamExt, stream};
use iced::widget::image;
use natter_media::phone::{Phone, PhoneEvent};
use natter_media::{AudioSink, AudioSource, FrameSlot, MediaConfig, VideoSource};
use natter_net::Client;
use natter_proto::model::UserId;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Feed, Message, Update};
/// The shortest gap between two video frames handed to the UI (~30 a second).
pub const FRAME_GAP: Duration = Duration::from_millis(33);

/// The devices a call uses, as chosen in the settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Devices {
    /// Microphone by name; `None` is the system default.
    pub microphone: Option<String>,
    /// Speaker by name; `None` is the system default.
    pub speaker: Option<String>,
    /// Camera by name; `None` is the first one.
    pub camera: Option<String>,
    /// Send a test tone and the moving test pattern instead of the microphone
    /// and camera (machines without devices).
    pub synthetic: bool,
}

/// The media set-up for calls with these devices. `NATTER_MEDIA_BIND` (an IP
/// address) keeps media on one interface, e.g. `127.0.0.1` for demos on one
/// machine.
pub fn media_config(devices: &Devices) -> MediaConfig {
    let bind = std::env::var("NATTER_MEDIA_BIND")
        .ok()
        .and_then(|s| s.parse::<IpAddr>().ok());
    if devices.synthetic {
        MediaConfig {
            audio_source: AudioSource::Tone { hz: 440.0 },
            video_source: VideoSource::Pattern {
                width: 640,
                height: 480,
                fps: 15,
            },
            // "Instead of devices" covers the speaker too: a machine without
            // one is not warned about it in every call.
            audio_sink: AudioSink::Discard,
            bind,
            fallback_to_synthetic: true,
            ..MediaConfig::default()
        }
    } else {
        MediaConfig {
            audio_source: AudioSource::Device(devices.microphone.clone()),
            video_source: VideoSource::Camera(devices.camera.clone()),
            audio_sink: AudioSink::Device(devices.speaker.clone()),
            bind,
            fallback_to_synthetic: false,
            ..MediaConfig::default()
        }
    }
}

/// Starts a phone whose requests go out on `client`'s live session. Must run
/// inside the Tokio runtime.
pub fn start(client: &Client, media: MediaConfig) -> (Phone, mpsc::UnboundedReceiver<PhoneEvent>) {
    let signaller = client.clone();
    Phone::start(
        std::sync::Arc::new(move |request| signaller.call(request)),
        media,
    )
}

/// A phone handle that can travel in messages.
#[derive(Clone)]
pub struct Handle(pub Phone);

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Phone(..)")
    }
}

/// The phone subscription's identity: the account and its devices. A change
/// of devices restarts the phone, so the screen only passes new devices
/// between calls.
struct PhoneKey {
    account: UserId,
    devices: Devices,
    client: Client,
}

impl Hash for PhoneKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.account.hash(state);
        self.devices.hash(state);
    }
}

impl PhoneKey {
    fn stream(&self) -> impl Stream<Item = Update> + Send + use<> {
        let client = self.client.clone();
        let media = media_config(&self.devices);
        stream::once(async move { start(&client, media) }).flat_map(|(phone, events)| {
            stream::once(async move { Update::Ready(Handle(phone)) })
                .chain(stream::unfold(events, |mut events| async move {
                    events.recv().await.map(|e| (Update::Event(e), events))
                }))
        })
    }
}

/// The account's phone, started with `client`.
pub fn phone(client: &Client, account: UserId, devices: &Devices) -> Subscription<Update> {
    Subscription::run_with(
        PhoneKey {
            account,
            devices: devices.clone(),
            client: client.clone(),
        },
        PhoneKey::stream,
    )
}

/// One call's video feed.
pub(super) struct VideoKey {
    pub(super) call_id: String,
    pub(super) feed: Feed,
    pub(super) phone: Phone,
}

impl Hash for VideoKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.call_id.hash(state);
        self.feed.hash(state);
    }
}

impl VideoKey {
    pub(super) fn stream(&self) -> impl Stream<Item = Message> + Send + use<> {
        let (phone, feed) = (self.phone.clone(), self.feed);
        stream::once(async move {
            match feed {
                Feed::Remote => phone.remote_video().await,
                Feed::Local => phone.local_video().await,
            }
        })
        .filter_map(|slot| async move { slot })
        .flat_map(move |slot| frames(slot).map(move |h| Message::Frame(feed, h)))
    }
}

/// The frames of `slot` as image handles: at most one per [`FRAME_GAP`], the
/// newest at that moment (frames in between are skipped, never queued).
pub fn frames(slot: FrameSlot) -> impl Stream<Item = image::Handle> + Send {
    let watch = slot.subscribe();
    stream::unfold(
        (watch, None::<tokio::time::Instant>),
        |(mut watch, last)| async move {
            if let Some(last) = last {
                tokio::time::sleep_until(last + FRAME_GAP).await;
            }
            loop {
                let frame = watch.borrow_and_update().clone();
                if let Some(frame) = frame {
                    let handle = image::Handle::from_rgba(
                        frame.width as u32,
                        frame.height as u32,
                        frame.data.clone(),
                    );
                    return Some((handle, (watch, Some(tokio::time::Instant::now()))));
                }
                watch.changed().await.ok()?;
            }
        },
    )
}

/// Fresh STUN/TURN servers from the relay; without them the call still tries
/// direct paths.
pub(crate) async fn ice_servers(client: &Client) -> Vec<natter_media::IceServer> {
    match client.ice_servers().await {
        Ok(servers) => natter_media::phone::ice_servers(&servers.ice_servers),
        Err(e) => {
            tracing::warn!(error = %e, "no ICE servers from the relay");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_devices_send_tone_and_pattern() {
        let config = media_config(&Devices {
            synthetic: true,
            ..Devices::default()
        });
        assert!(matches!(config.audio_source, AudioSource::Tone { .. }));
        assert!(matches!(config.video_source, VideoSource::Pattern { .. }));
        assert!(config.fallback_to_synthetic);
        // Nor is a speaker asked for, so none missing is warned about.
        assert!(matches!(config.audio_sink, AudioSink::Discard));
        let config = media_config(&Devices {
            camera: Some("Cam".into()),
            ..Devices::default()
        });
        assert_eq!(config.video_source, VideoSource::Camera(Some("Cam".into())));
        assert!(!config.fallback_to_synthetic);
    }
}
