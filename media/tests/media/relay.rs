//! Whole calls between two headless clients through a real relay in this process:
//! signalling over their live WebSocket sessions, ICE servers and TURN credentials
//! from the relay, media over loopback with synthetic sources.

use std::sync::Arc;
use std::time::Duration;

use natter_media::phone::{self, Phone, PhoneEvent};
use natter_media::sink::AudioCollector;
use natter_media::source::pattern;
use natter_media::{AudioSink, AudioSource, MediaConfig, VideoSource};
use natter_net::Client;
use natter_net::session::Event;
use natter_proto::call::EndReason;
use natter_proto::model::{CallMedia, CallOutcome, ConversationId, MessageBody};
use natter_proto::rest::RegisterRequest;
use natter_server::{Config, Relay};
use natter_store::Store;
use tempfile::TempDir;
use tokio::sync::mpsc;

use crate::common::{PATIENCE, assert_dominant, close};

pub(crate) struct Person {
    pub(crate) client: Client,
    pub(crate) phone: Phone,
    events: mpsc::UnboundedReceiver<PhoneEvent>,
    seen: Vec<PhoneEvent>,
    pub(crate) heard: AudioCollector,
    _dir: TempDir,
}

impl Person {
    pub(crate) async fn new(relay: &Relay, account: &str, hz: f32, relay_only: bool) -> Person {
        let url = relay.http_url();
        let password = format!("{account}-password");
        natter_net::client::register(
            &url,
            &RegisterRequest {
                account: account.into(),
                password: password.clone(),
                nickname: account.into(),
                email: None,
                phone: None,
                avatar: None,
            },
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        natter_net::client::sign_in(&url, &store, account, &password, None)
            .await
            .unwrap();
        let (client, mut session_events) = Client::resume(store).await.unwrap();
        let heard = AudioCollector::new(5);
        let media = MediaConfig {
            audio_source: AudioSource::Tone { hz },
            audio_sink: AudioSink::Collect(heard.clone()),
            video_source: VideoSource::Pattern {
                width: 320,
                height: 240,
                fps: 15,
            },
            relay_only,
            ..MediaConfig::synthetic()
        };
        let signaller = client.clone();
        let (phone, events) = Phone::start(Arc::new(move |req| signaller.call(req)), media);
        let notices = phone.clone();
        tokio::spawn(async move {
            while let Some(event) = session_events.next().await {
                if let Event::Call(notice) = event {
                    notices.notice(notice);
                }
            }
        });
        Person {
            client,
            phone,
            events,
            seen: Vec::new(),
            heard,
            _dir: dir,
        }
    }

    pub(crate) async fn ice(&self) -> Vec<natter_media::IceServer> {
        let servers = self.client.ice_servers().await.unwrap();
        assert_eq!(servers.ice_servers.len(), 2, "the relay runs STUN/TURN");
        phone::ice_servers(&servers.ice_servers)
    }

    pub(crate) async fn wait(
        &mut self,
        what: &str,
        want: impl Fn(&PhoneEvent) -> bool,
    ) -> PhoneEvent {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i);
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) if want(&e) => return e,
                Ok(Some(PhoneEvent::Problem { message, .. })) => {
                    panic!("call problem while waiting for {what}: {message}")
                }
                Ok(Some(e)) => self.seen.push(e),
                Ok(None) => panic!("phone gone while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; saw {:?}", self.seen),
            }
        }
    }

    async fn record(&self, conversation: ConversationId) -> (CallOutcome, u64) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let messages = self
                .client
                .store()
                .messages(conversation, 0, u64::MAX, 100, true)
                .await
                .unwrap();
            if let Some((outcome, duration)) = messages.iter().rev().find_map(|m| match m.body {
                MessageBody::Call {
                    outcome,
                    duration_ms,
                    ..
                } => Some((outcome, duration_ms)),
                _ => None,
            }) {
                return (outcome, duration);
            }
            assert!(tokio::time::Instant::now() < deadline, "no call record");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub(crate) async fn befriend(a: &Person, b: &Person) -> ConversationId {
    let (ta, tb) = (
        a.client.token().await.unwrap(),
        b.client.token().await.unwrap(),
    );
    let req = a
        .client
        .http()
        .send_friend_request(&ta, b.client.me(), "call me")
        .await
        .unwrap();
    b.client
        .http()
        .answer_friend_request(&tb, req.id, true)
        .await
        .unwrap();
    a.client.http().friends(&ta).await.unwrap().friends[0].conversation
}

pub(crate) async fn relay() -> (Relay, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.call_ring_timeout_ms = 2_000;
    (Relay::start(config).await.unwrap(), dir)
}

/// Caller dials, callee answers, both hear and see each other, caller hangs up.
async fn full_call(relay_only: bool) {
    let (relay, _dir) = relay().await;
    let mut ann = Person::new(&relay, "ann", 440.0, relay_only).await;
    let mut bob = Person::new(&relay, "bob", 660.0, relay_only).await;
    let conv = befriend(&ann, &bob).await;

    let call_id = ann
        .phone
        .dial(conv, CallMedia::Video, ann.ice().await)
        .await
        .unwrap();
    let incoming = bob
        .wait("incoming", |e| matches!(e, PhoneEvent::Incoming { .. }))
        .await;
    assert_eq!(
        incoming,
        PhoneEvent::Incoming {
            call_id: call_id.clone(),
            conversation: conv,
            from: ann.client.me(),
            media: CallMedia::Video
        }
    );
    ann.wait("ringing", |e| matches!(e, PhoneEvent::Ringing { .. }))
        .await;
    bob.phone.answer(bob.ice().await);
    for p in [&mut ann, &mut bob] {
        p.wait("connected", |e| matches!(e, PhoneEvent::Connected { .. }))
            .await;
        p.wait("first audio", |e| {
            matches!(e, PhoneEvent::FirstAudio { .. })
        })
        .await;
        p.wait("first video", |e| {
            matches!(e, PhoneEvent::FirstVideo { .. })
        })
        .await;
    }
    // A second of media each way, then judge what arrived.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_dominant(&bob.heard.samples(), 440.0);
    assert_dominant(&ann.heard.samples(), 660.0);
    let frame = bob.phone.remote_video().await.unwrap().latest().unwrap();
    assert_eq!((frame.width, frame.height), (320, 240));
    let y = pattern::band_top(240) / 2;
    for (i, want) in pattern::BARS.iter().enumerate() {
        let x = 320 * i / 8 + 320 / 16;
        let [r, g, b, _] = frame.pixel(x, y).unwrap();
        assert!(close([r, g, b], *want, 48), "bar {i}: {:?}", [r, g, b]);
    }
    let stats = ann.phone.stats().await.unwrap();
    assert!(stats.packets_received > 20, "{stats:?}");
    // Media went through the relay's TURN server exactly when direct paths
    // were forbidden.
    let (allocations, relayed) = relay.service.turn.as_ref().unwrap().usage().await;
    if relay_only {
        assert!(
            allocations >= 2 && relayed > 50_000,
            "{allocations} allocations, {relayed} bytes relayed"
        );
    } else {
        assert!(relayed < 5_000, "{relayed} bytes relayed on a direct call");
    }

    ann.phone.hang_up();
    for p in [&mut ann, &mut bob] {
        let ended = p
            .wait("ended", |e| matches!(e, PhoneEvent::Ended { .. }))
            .await;
        assert!(matches!(
            ended,
            PhoneEvent::Ended {
                reason: EndReason::Completed,
                duration_ms,
                ..
            } if duration_ms >= 1_000
        ));
        let (outcome, duration) = p.record(conv).await;
        assert_eq!(outcome, CallOutcome::Completed);
        assert!(duration >= 1_000);
    }
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_call_through_the_relay_carries_tone_and_pattern() {
    full_call(false).await;
}

/// With direct paths forbidden, media flows through the relay's TURN server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_falls_back_to_the_relays_turn_server() {
    full_call(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_and_unanswered_calls_end_on_both_phones() {
    let (relay, _dir) = relay().await;
    let mut ann = Person::new(&relay, "cat", 440.0, false).await;
    let mut bob = Person::new(&relay, "dan", 660.0, false).await;
    let conv = befriend(&ann, &bob).await;

    ann.phone
        .dial(conv, CallMedia::Audio, ann.ice().await)
        .await
        .unwrap();
    bob.wait("incoming", |e| matches!(e, PhoneEvent::Incoming { .. }))
        .await;
    bob.phone.decline();
    for p in [&mut ann, &mut bob] {
        p.wait("rejected", |e| {
            matches!(
                e,
                PhoneEvent::Ended {
                    reason: EndReason::Rejected,
                    ..
                }
            )
        })
        .await;
        assert_eq!(p.record(conv).await.0, CallOutcome::Rejected);
    }

    // Nobody answers: the relay's ring timeout ends it on both phones.
    ann.phone
        .dial(conv, CallMedia::Audio, ann.ice().await)
        .await
        .unwrap();
    bob.wait("incoming", |e| matches!(e, PhoneEvent::Incoming { .. }))
        .await;
    for p in [&mut ann, &mut bob] {
        p.wait("missed", |e| {
            matches!(
                e,
                PhoneEvent::Ended {
                    reason: EndReason::Missed,
                    ..
                }
            )
        })
        .await;
    }
    // The phone is free for the next call.
    assert!(
        ann.phone
            .dial(conv, CallMedia::Audio, ann.ice().await)
            .await
            .is_some()
    );
    relay.shutdown().await;
}
