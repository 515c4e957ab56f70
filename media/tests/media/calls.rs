//! Two engines in one process calling each other over 127.0.0.1, SDP and ICE moved
//! by in-process tasks, synthetic sources on both ends.

use std::time::Duration;

use natter_media::sink::AudioCollector;
use natter_media::source::pattern;
use natter_media::{
    AudioSink, AudioSource, CallEngine, CallEvent, Error, MediaConfig, RgbaFrame, Role, SdpType,
    VideoSource,
};

use crate::common::{self, PATIENCE, close, connect};

fn tone(hz: f32, collector: &AudioCollector) -> MediaConfig {
    MediaConfig {
        audio_source: AudioSource::Tone { hz },
        audio_sink: AudioSink::Collect(collector.clone()),
        ..MediaConfig::synthetic()
    }
}

/// Waits until `collector` has received `samples` more samples than now.
async fn collect_more(collector: &AudioCollector, samples: u64) {
    let target = collector.total_samples() + samples;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while collector.total_samples() < target {
        assert!(
            tokio::time::Instant::now() < deadline,
            "audio stopped: {} of {target} samples",
            collector.total_samples()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_side_hears_the_others_tone() {
    let heard_by_caller = AudioCollector::new(5);
    let heard_by_callee = AudioCollector::new(5);
    let (mut caller, mut callee) =
        connect(tone(440.0, &heard_by_caller), tone(660.0, &heard_by_callee)).await;
    callee
        .wait_for("audio at the callee", |e| *e == CallEvent::FirstAudio)
        .await;
    caller
        .wait_for("audio at the caller", |e| *e == CallEvent::FirstAudio)
        .await;

    // Let the decoders settle, then judge a fresh half second on each side.
    collect_more(&heard_by_callee, 24_000).await;
    heard_by_callee.clear();
    heard_by_caller.clear();
    collect_more(&heard_by_callee, 24_000).await;
    collect_more(&heard_by_caller, 24_000).await;
    let at_callee = heard_by_callee.samples();
    let at_caller = heard_by_caller.samples();
    common::assert_dominant(&at_callee[at_callee.len() - 24_000..], 440.0);
    common::assert_dominant(&at_caller[at_caller.len() - 24_000..], 660.0);

    // Muting the caller: the callee hears silence, then the tone again.
    caller.engine.set_muted(true);
    assert!(caller.engine.is_muted());
    collect_more(&heard_by_callee, 24_000).await; // what was in flight
    heard_by_callee.clear();
    collect_more(&heard_by_callee, 24_000).await;
    let muted = heard_by_callee.samples();
    assert!(
        common::rms(&muted) < 200.0,
        "muted rms {}",
        common::rms(&muted)
    );
    caller.engine.set_muted(false);
    collect_more(&heard_by_callee, 24_000).await;
    heard_by_callee.clear();
    collect_more(&heard_by_callee, 24_000).await;
    let back = heard_by_callee.samples();
    assert!(
        common::rms(&back) > 3_000.0,
        "unmuted rms {}",
        common::rms(&back)
    );

    // Choosing another microphone mid-call: the callee hears the new one.
    caller
        .engine
        .set_audio_source(AudioSource::Tone { hz: 880.0 });
    collect_more(&heard_by_callee, 24_000).await;
    heard_by_callee.clear();
    collect_more(&heard_by_callee, 24_000).await;
    let switched = heard_by_callee.samples();
    common::assert_dominant(&switched[switched.len() - 24_000..], 880.0);

    // Choosing another speaker mid-call: audio goes there instead.
    let new_speaker = AudioCollector::new(5);
    callee
        .engine
        .set_audio_sink(AudioSink::Collect(new_speaker.clone()));
    collect_more(&new_speaker, 24_000).await;
    let before = heard_by_callee.total_samples();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        heard_by_callee.total_samples(),
        before,
        "old speaker still playing"
    );

    // An audio-only call cannot switch to a camera.
    assert!(matches!(
        caller.engine.set_video_source(VideoSource::Pattern {
            width: 64,
            height: 64,
            fps: 5
        }),
        Err(Error::Config(_))
    ));

    caller.engine.close().await.unwrap();
    callee.engine.close().await.unwrap();
}

/// Column of the moving block's centre in a decoded picture's band, if visible.
fn block_centre(frame: &RgbaFrame) -> Option<usize> {
    let (_, y0, size) = pattern::block_rect(frame.width, frame.height, 0);
    let y = y0 + size / 2;
    let bright: Vec<usize> = (0..frame.width)
        .filter(|&x| {
            frame
                .pixel(x, y)
                .is_some_and(|[r, g, b, _]| r > 180 && g > 180 && b > 180)
        })
        .collect();
    Some((bright.first()? + bright.last()?) / 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callee_sees_the_moving_pattern() {
    let (w, h) = (320, 240);
    let caller_config = MediaConfig {
        video_source: VideoSource::Pattern {
            width: w,
            height: h,
            fps: 15,
        },
        ..MediaConfig::synthetic()
    };
    let (caller, mut callee) = connect(caller_config, MediaConfig::synthetic()).await;
    callee
        .wait_for("video at the callee", |e| *e == CallEvent::FirstVideo)
        .await;
    let mut frames = callee.engine.remote_video().subscribe();

    // Judge a picture a little later than the first, once the encoder has ramped up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let first = callee.engine.latest_frame().unwrap();
    assert_eq!((first.width, first.height), (w, h));
    let y = pattern::band_top(h) / 2;
    for (i, want) in pattern::BARS.iter().enumerate() {
        let x = w * i / 8 + w / 16;
        let [r, g, b, _] = first.pixel(x, y).unwrap();
        assert!(
            close([r, g, b], *want, 48),
            "bar {i} at ({x},{y}): got {:?}, want {want:?}",
            [r, g, b]
        );
    }
    // The band is dark apart from the block, and the block moves.
    let [r, g, b, _] = first.pixel(w - 2, h - 4).unwrap();
    assert!(close([r, g, b], pattern::BAND, 40), "band {:?}", [r, g, b]);
    let start = block_centre(&first).expect("the block is visible");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        tokio::time::timeout_at(deadline, frames.changed())
            .await
            .expect("pictures keep coming")
            .unwrap();
        let latest = frames.borrow_and_update().clone().unwrap();
        if block_centre(&latest).is_some_and(|x| x.abs_diff(start) > 8) {
            break;
        }
    }

    // The caller's self-view shows the same pattern at half size.
    let preview = caller.engine.local_video().latest().expect("a self-view");
    assert_eq!((preview.width, preview.height), (w / 2, h / 2));
    let [r, g, b, _] = preview.pixel(w / 2 / 8 + w / 2 / 16, 20).unwrap();
    assert!(close([r, g, b], pattern::BARS[1], 8), "{:?}", [r, g, b]);

    // Camera off: pictures stop arriving and the self-view empties.
    caller.engine.set_camera(false);
    assert!(!caller.engine.is_camera_on());
    tokio::time::sleep(Duration::from_millis(1500)).await; // in flight, generously
    frames.borrow_and_update();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        !frames.has_changed().unwrap(),
        "video kept coming with the camera off"
    );
    caller.engine.set_camera(true);
    tokio::time::timeout(PATIENCE, frames.changed())
        .await
        .expect("video resumes with the camera on")
        .unwrap();

    // Choosing another camera mid-call: the callee gets its pictures.
    caller
        .engine
        .set_video_source(VideoSource::Pattern {
            width: 160,
            height: 120,
            fps: 15,
        })
        .unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        tokio::time::timeout_at(deadline, frames.changed())
            .await
            .expect("pictures from the new camera")
            .unwrap();
        let latest = frames.borrow_and_update().clone().unwrap();
        if (latest.width, latest.height) == (160, 120) {
            break;
        }
    }

    let stats = callee.engine.stats().await;
    // Content was checked above; this only shows the counters move.
    assert!(stats.packets_received > 30, "{stats:?}");
    assert!(stats.bytes_received > 2_000, "{stats:?}");
    // The HUD's picture numbers on both ends, and the path's estimate from
    // the callee's transport-wide feedback.
    // (The second camera's size.)
    let received = stats.received_video.expect("the callee counts pictures");
    assert_eq!((received.width, received.height), (160, 120));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let fps = callee
            .engine
            .stats()
            .await
            .received_video
            .map_or(0.0, |v| v.fps);
        if fps > 5.0 {
            assert!(fps < 30.0, "{fps} pictures a second from a 15 fps camera");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the picture rate stays at {fps}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(stats.video_codec, Some("H.264"));
    assert_eq!(stats.audio_codec, "Opus");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let sent = loop {
        let sent = caller.engine.stats().await;
        if sent.target_bitrate_bps.is_some() {
            break sent;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no estimate: {sent:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let picture = sent.sent_video.expect("the caller counts pictures");
    assert_eq!((picture.width, picture.height), (160, 120));
    let target = sent.target_bitrate_bps.unwrap();
    assert!((100_000.0..3_000_000.0).contains(&target), "{sent:?}");
    caller.engine.close().await.unwrap();
    callee.engine.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_show_rtt_and_bitrate() {
    let (caller, callee) = connect(MediaConfig::synthetic(), MediaConfig::synthetic()).await;
    caller.engine.stats().await; // starts the bitrate window
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let stats = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stats = caller.engine.stats().await;
        if stats.rtt.is_some() && stats.send_bitrate_bps > 0.0 {
            break stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no RTT or bitrate: {stats:?}"
        );
    };
    // Loopback: RTT is tiny; Opus at 32 kb/s plus headers is well under 200 kb/s.
    assert!(stats.rtt.unwrap() < Duration::from_secs(1), "{stats:?}");
    assert!(stats.send_bitrate_bps < 200_000.0, "{stats:?}");
    let received = callee.engine.stats().await;
    assert!(received.packets_received > 0, "{received:?}");
    assert!(received.loss_fraction < 0.5, "{received:?}");
    caller.engine.close().await.unwrap();
    callee.engine.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_place_signalling_is_refused() {
    let (offerer, _offerer_events) = CallEngine::new(MediaConfig::synthetic(), Role::Offerer)
        .await
        .unwrap();
    // An offerer never takes an offer.
    let refused = offerer
        .set_remote_sdp(SdpType::Offer, "v=0\r\n".into())
        .await;
    assert!(matches!(refused, Err(Error::Signalling(_))), "{refused:?}");
    // Garbage SDP is an error, not a panic.
    let garbage = offerer
        .set_remote_sdp(SdpType::Answer, "not sdp".into())
        .await;
    assert!(matches!(garbage, Err(Error::Signalling(_))), "{garbage:?}");

    let (answerer, _answerer_events) = CallEngine::new(MediaConfig::synthetic(), Role::Answerer)
        .await
        .unwrap();
    let refused = answerer
        .set_remote_sdp(SdpType::Answer, "v=0\r\n".into())
        .await;
    assert!(matches!(refused, Err(Error::Signalling(_))), "{refused:?}");

    offerer.close().await.unwrap();
    let after = offerer
        .add_remote_candidate(natter_media::IceCandidate {
            candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
            sdp_mid: None,
            sdp_mline_index: Some(0),
        })
        .await;
    assert_eq!(after, Err(Error::Closed));
    answerer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_microphone_falls_back_to_the_tone() {
    let heard = AudioCollector::new(5);
    let caller_config = MediaConfig {
        audio_source: AudioSource::Device(Some("no such microphone, surely".into())),
        fallback_to_synthetic: true,
        ..MediaConfig::synthetic()
    };
    let (mut caller, mut callee) = connect(caller_config, tone(660.0, &heard)).await;
    let failed = caller
        .wait_for("device failure", |e| {
            matches!(e, CallEvent::DeviceFailed { .. })
        })
        .await;
    assert!(
        matches!(
            failed,
            CallEvent::DeviceFailed {
                kind: natter_media::device::DeviceKind::Microphone,
                fell_back: true,
                ..
            }
        ),
        "{failed:?}"
    );
    callee
        .wait_for("audio at the callee", |e| *e == CallEvent::FirstAudio)
        .await;
    collect_more(&heard, 24_000).await;
    heard.clear();
    collect_more(&heard, 24_000).await;
    let samples = heard.samples();
    common::assert_dominant(&samples[samples.len() - 24_000..], 440.0);
    caller.engine.close().await.unwrap();
    callee.engine.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offer_carries_opus_h264_and_loopback_candidates_only() {
    let config = MediaConfig {
        video_source: VideoSource::Pattern {
            width: 64,
            height: 64,
            fps: 5,
        },
        ..MediaConfig::synthetic()
    };
    let (offerer, mut events) = CallEngine::new(config, Role::Offerer).await.unwrap();
    let Some(CallEvent::LocalSdp { sdp_type, sdp }) = events.recv().await else {
        panic!("the offer comes first");
    };
    assert_eq!(sdp_type, SdpType::Offer);
    for line in [
        "opus/48000/2",
        "H264/90000",
        "profile-level-id=42e01f",
        "nack pli",
        "ccm fir",
    ] {
        assert!(sdp.contains(line), "offer lacks {line:?}");
    }
    // Host candidates on loopback only: no other interface, no mDNS names.
    let mut candidates = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(500), events.recv()).await
    {
        if let CallEvent::LocalCandidate(candidate) = event {
            assert_ne!(candidate.sdp_mid.as_deref(), Some(""), "{candidate:?}");
            candidates.push(candidate.candidate);
        }
    }
    assert!(!candidates.is_empty());
    for candidate in &candidates {
        assert!(
            candidate.contains(" 127.0.0.1 ") && !candidate.contains(".local"),
            "{candidate}"
        );
    }
    offerer.close().await.unwrap();
}
