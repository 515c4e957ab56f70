//! Real devices on a machine without any: clear errors, never panics. On a machine
//! that does have the device the open may succeed; the tests then only check that
//! nothing panicked.

use natter_media::Error;
use natter_media::device::audio::{open_microphone, open_speaker};
use natter_media::device::camera::open_camera;
use natter_media::device::{list_devices, watch_devices};
use natter_media::source::VideoCapture;

#[test]
fn listing_devices_never_panics() {
    let list = list_devices();
    for device in list
        .microphones
        .iter()
        .chain(&list.speakers)
        .chain(&list.cameras)
    {
        assert!(!device.name.is_empty());
    }
}

#[test]
fn a_missing_camera_is_a_clear_error() {
    let cameras = list_devices().cameras;
    match open_camera(None) {
        Err(Error::NoCamera(msg) | Error::Camera(msg)) => assert!(!msg.is_empty()),
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(mut camera) => {
            assert!(!cameras.is_empty(), "opened a camera the list did not show");
            camera.next_frame().unwrap();
        }
    }
    if cameras.is_empty() {
        assert!(matches!(open_camera(None), Err(Error::NoCamera(_))));
    }
    assert!(matches!(
        open_camera(Some("no such camera, surely")),
        Err(Error::NoCamera(_))
    ));
}

#[test]
fn a_missing_microphone_or_speaker_is_a_clear_error() {
    // Here (no sound card) the default devices cannot be opened; elsewhere they may.
    for result in [
        open_microphone(None).map(|_| ()),
        open_speaker(None).map(|_| ()),
    ] {
        if let Err(error) = result {
            assert!(
                matches!(error, Error::NoAudioDevice(_) | Error::AudioDevice(_)),
                "{error}"
            );
            assert!(!error.to_string().is_empty());
        }
    }
    assert!(matches!(
        open_microphone(Some("no such microphone, surely")),
        Err(Error::NoAudioDevice(_))
    ));
    assert!(matches!(
        open_speaker(Some("no such speaker, surely")),
        Err(Error::NoAudioDevice(_))
    ));
}

#[test]
fn the_device_watcher_starts_with_the_current_list() {
    let watcher = watch_devices(std::time::Duration::from_millis(50)).unwrap();
    assert_eq!(*watcher.borrow(), list_devices());
    // Nothing plugged in or out here: no change within a few polls.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!watcher.has_changed().unwrap());
}
