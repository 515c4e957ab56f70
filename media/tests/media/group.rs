//! Group calls through the relay's forwarding unit: headless clients in one
//! group, each sending its own tone and pattern size, signalling over their
//! live WebSocket sessions, media over loopback to the relay in this process.

use std::sync::Arc;
use std::time::Duration;

use natter_media::group::{GroupCall, GroupEvent};
use natter_media::sink::AudioCollector;
use natter_media::source::pattern;
use natter_media::{AudioSink, AudioSource, MediaConfig, VideoSource};
use natter_net::Client;
use natter_net::session::Event;
use natter_proto::ErrorCode;
use natter_proto::call::{CallNotice, CallRequest, EndReason, SdpType};
use natter_proto::model::{CallMedia, CallOutcome, ConversationId, MessageBody, UserId};
use natter_proto::rest::RegisterRequest;
use natter_server::{Config, Relay};
use natter_store::Store;
use tempfile::TempDir;
use tokio::sync::{broadcast, mpsc};

use crate::common::{PATIENCE, assert_dominant, close, goertzel};

mod membership;
mod paths;

struct Member {
    name: &'static str,
    hz: f32,
    width: usize,
    client: Client,
    notices: broadcast::Sender<CallNotice>,
    errors: broadcast::Sender<ErrorCode>,
    heard: AudioCollector,
    call: Option<(GroupCall, mpsc::UnboundedReceiver<GroupEvent>)>,
    seen: Vec<GroupEvent>,
    /// The relay's STUN/TURN servers, when this member may reach others
    /// only through TURN.
    turn: Option<Vec<natter_media::IceServer>>,
    /// Sends a picture as hungry for bits as a camera's.
    grainy: bool,
    _dir: TempDir,
}

impl Member {
    async fn new(relay: &Relay, name: &'static str, hz: f32, width: usize) -> Member {
        let url = relay.http_url();
        let password = format!("{name}-password");
        natter_net::client::register(
            &url,
            &RegisterRequest {
                account: name.into(),
                password: password.clone(),
                nickname: name.into(),
                email: None,
                phone: None,
                avatar: None,
            },
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        natter_net::client::sign_in(&url, &store, name, &password, None)
            .await
            .unwrap();
        let (client, mut events) = Client::resume(store).await.unwrap();
        let (notices, _) = broadcast::channel(1024);
        let (errors, _) = broadcast::channel(64);
        let (n, e) = (notices.clone(), errors.clone());
        tokio::spawn(async move {
            while let Some(event) = events.next().await {
                match event {
                    Event::Call(notice) => {
                        let _ = n.send(notice);
                    }
                    Event::Problem(natter_net::Error::Api { code, .. }) => {
                        let _ = e.send(code);
                    }
                    _ => {}
                }
            }
        });
        Member {
            name,
            hz,
            width,
            client,
            notices,
            errors,
            heard: AudioCollector::new(3),
            call: None,
            seen: Vec::new(),
            turn: None,
            grainy: false,
            _dir: dir,
        }
    }

    fn me(&self) -> UserId {
        self.client.me()
    }

    fn media(&self) -> MediaConfig {
        MediaConfig {
            audio_source: AudioSource::Tone { hz: self.hz },
            audio_sink: AudioSink::Collect(self.heard.clone()),
            video_source: if self.grainy {
                VideoSource::GrainyPattern {
                    width: self.width,
                    height: self.width * 3 / 4,
                    fps: 15,
                }
            } else {
                VideoSource::Pattern {
                    width: self.width,
                    height: self.width * 3 / 4,
                    fps: 10,
                }
            },
            ice_servers: self.turn.clone().unwrap_or_default(),
            relay_only: self.turn.is_some(),
            ..MediaConfig::synthetic()
        }
    }

    /// From now on this member's calls may use only relayed candidates,
    /// through the relay's own TURN server, as a device behind a firewall
    /// that lets nothing else through.
    async fn behind_a_firewall(&mut self) {
        let servers = self.client.ice_servers().await.unwrap();
        assert!(
            servers
                .ice_servers
                .iter()
                .any(|s| s.urls.iter().any(|u| u.starts_with("turn:"))),
            "the relay runs TURN: {servers:?}"
        );
        self.turn = Some(natter_media::phone::ice_servers(&servers.ice_servers));
    }

    fn signal(&self) -> natter_media::phone::Signal {
        let client = self.client.clone();
        Arc::new(move |req| client.call(req))
    }

    /// Feeds this member's call notices to its group call, from `notices`,
    /// which was subscribed before the call was asked for so that nothing the
    /// relay answers right away is missed.
    fn attach(&self, call: &GroupCall, mut notices: broadcast::Receiver<CallNotice>) {
        let call = call.clone();
        tokio::spawn(async move {
            while let Ok(notice) = notices.recv().await {
                call.notice(notice);
            }
        });
    }

    async fn start(&mut self, group: ConversationId) -> String {
        let notices = self.notices.subscribe();
        let (call, events) = GroupCall::start(
            self.signal(),
            self.media(),
            self.me(),
            group,
            CallMedia::Video,
        )
        .await
        .unwrap();
        self.attach(&call, notices);
        let id = call.call_id().to_owned();
        self.call = Some((call, events));
        id
    }

    async fn join(&mut self, call_id: &str) {
        let notices = self.notices.subscribe();
        let (call, events) = GroupCall::join(
            self.signal(),
            self.media(),
            self.me(),
            call_id.to_owned(),
            CallMedia::Video,
        )
        .await
        .unwrap();
        self.attach(&call, notices);
        self.call = Some((call, events));
    }

    fn call(&self) -> &GroupCall {
        &self.call.as_ref().expect("in a call").0
    }

    async fn wait(&mut self, what: &str, want: impl Fn(&GroupEvent) -> bool) -> GroupEvent {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i);
        }
        let name = self.name;
        let events = &mut self.call.as_mut().expect("in a call").1;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(e)) if want(&e) => return e,
                Ok(Some(e)) => self.seen.push(e),
                Ok(None) => panic!("{name}: call gone while waiting for {what}"),
                Err(_) => panic!("{name}: timed out waiting for {what}; saw {:?}", self.seen),
            }
        }
    }

    /// Waits until the call shows exactly `who` taking part.
    async fn wait_participants(&mut self, who: &[UserId]) {
        let mut sorted = who.to_vec();
        sorted.sort();
        let what = format!("participants {sorted:?}");
        self.wait(&what, |e| match e {
            GroupEvent::Participants(p) => {
                let mut p = p.clone();
                p.sort();
                p == sorted
            }
            _ => false,
        })
        .await;
        // Older lists are history now.
        self.seen
            .retain(|e| !matches!(e, GroupEvent::Participants(_)));
    }

    /// Waits for the first picture and sound from each of `from`.
    async fn wait_streams(&mut self, from: &[&Member]) {
        for other in from {
            for video in [false, true] {
                let id = other.me();
                self.wait(&format!("{} from {}", kind(video), other.name), |e| {
                    *e == GroupEvent::StreamStarted { from: id, video }
                })
                .await;
            }
        }
    }

    /// Checks that this member hears and sees each of `others` now: their
    /// tone dominates their stream, their picture has their size and bars,
    /// and all their tones are in the mix played to the sink.
    async fn check_receives(&self, others: &[&Member]) {
        let engine = self.call().engine();
        for other in others {
            let audio = engine.participant_audio(other.me());
            assert!(
                audio.len() >= 48_000,
                "{} has {} samples from {}",
                self.name,
                audio.len(),
                other.name
            );
            assert_dominant(&audio[audio.len() - 48_000..], f64::from(other.hz));
            assert!(engine.participant_level(other.me()) > 0.01);
            let frame = engine
                .participant_video(other.me())
                .unwrap()
                .latest()
                .unwrap_or_else(|| panic!("{} has no picture from {}", self.name, other.name));
            let height = other.width * 3 / 4;
            assert_eq!((frame.width, frame.height), (other.width, height));
            let y = pattern::band_top(height) / 2;
            for (i, want) in pattern::BARS.iter().enumerate() {
                let x = other.width * i / 8 + other.width / 16;
                let [r, g, b, _] = frame.pixel(x, y).unwrap();
                assert!(
                    close([r, g, b], *want, 48),
                    "{} sees bar {i} of {} as {:?}",
                    self.name,
                    other.name,
                    [r, g, b]
                );
            }
        }
        let mix = self.heard.samples();
        assert!(
            mix.len() >= 48_000,
            "{} played {} samples",
            self.name,
            mix.len()
        );
        let mix = &mix[mix.len() - 48_000..];
        let floor = goertzel(mix, 300.0).max(goertzel(mix, 1_300.0));
        for other in others {
            let power = goertzel(mix, f64::from(other.hz));
            assert!(
                power > 20.0 * floor,
                "{} does not hear {} in the mix: {power:.3e} vs {floor:.3e}",
                self.name,
                other.name
            );
        }
    }

    async fn next_error(&self, errors: &mut broadcast::Receiver<ErrorCode>) -> ErrorCode {
        tokio::time::timeout(PATIENCE, errors.recv())
            .await
            .unwrap_or_else(|_| panic!("{}: no error came", self.name))
            .unwrap()
    }
}

fn kind(video: bool) -> &'static str {
    if video { "picture" } else { "sound" }
}

async fn befriend(a: &Member, b: &Member) {
    let (ta, tb) = (
        a.client.token().await.unwrap(),
        b.client.token().await.unwrap(),
    );
    let req = a
        .client
        .http()
        .send_friend_request(&ta, b.me(), "group call")
        .await
        .unwrap();
    b.client
        .http()
        .answer_friend_request(&tb, req.id, true)
        .await
        .unwrap();
}

async fn relay() -> (Relay, TempDir) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.call_ring_timeout_ms = 20_000;
    config.call_grace_ms = 2_000;
    (Relay::start(config).await.unwrap(), dir)
}

/// Four in one call, each hearing and seeing the other three; one leaves and
/// another joins while it runs; the last one out ends it with one record.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_in_a_group_call_then_one_leaves_and_one_joins() {
    let (relay, _dir) = relay().await;
    let mut ann = Member::new(&relay, "ann", 400.0, 160).await;
    let mut bob = Member::new(&relay, "bob", 520.0, 192).await;
    let mut cat = Member::new(&relay, "cat", 700.0, 224).await;
    let mut dan = Member::new(&relay, "dan", 880.0, 256).await;
    let mut eve = Member::new(&relay, "eve", 1_000.0, 160).await;
    for other in [&bob, &cat, &dan, &eve] {
        befriend(&ann, other).await;
    }
    let token = ann.client.token().await.unwrap();
    let group = ann
        .client
        .http()
        .create_group(
            &token,
            "standup",
            vec![bob.me(), cat.me(), dan.me(), eve.me()],
        )
        .await
        .unwrap()
        .id;

    let mut rings: Vec<_> = [&bob, &cat, &dan, &eve]
        .iter()
        .map(|m| m.notices.subscribe())
        .collect();
    let call_id = ann.start(group).await;
    ann.wait("joined", |e| *e == GroupEvent::Joined).await;
    // Every other member rings, with the group and who started it.
    for ring in &mut rings {
        loop {
            let notice = tokio::time::timeout(PATIENCE, ring.recv())
                .await
                .expect("no ring")
                .unwrap();
            if let CallNotice::Incoming {
                call_id: id,
                conversation,
                from,
                media,
            } = notice
            {
                assert_eq!(
                    (id.as_str(), conversation, from, media),
                    (call_id.as_str(), group, ann.me(), CallMedia::Video)
                );
                break;
            }
        }
    }

    bob.join(&call_id).await;
    cat.join(&call_id).await;
    dan.join(&call_id).await;
    let four = [ann.me(), bob.me(), cat.me(), dan.me()];
    for m in [&mut ann, &mut bob, &mut cat, &mut dan] {
        m.wait_participants(&four).await;
        m.wait("connected", |e| *e == GroupEvent::Connected).await;
    }
    ann.wait_streams(&[&bob, &cat, &dan]).await;
    bob.wait_streams(&[&ann, &cat, &dan]).await;
    cat.wait_streams(&[&ann, &bob, &dan]).await;
    dan.wait_streams(&[&ann, &bob, &cat]).await;
    // Over a second of media from everyone, then judge what arrived.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    ann.check_receives(&[&bob, &cat, &dan]).await;
    bob.check_receives(&[&ann, &cat, &dan]).await;
    cat.check_receives(&[&ann, &bob, &dan]).await;
    dan.check_receives(&[&ann, &bob, &cat]).await;

    // Dan leaves; Eve, who let it ring, joins from the chat header.
    dan.call().hang_up();
    dan.wait("ended", |e| matches!(e, GroupEvent::Ended { .. }))
        .await;
    eve.join(&call_id).await;
    let now = [ann.me(), bob.me(), cat.me(), eve.me()];
    for m in [&mut ann, &mut bob, &mut cat, &mut eve] {
        m.wait_participants(&now).await;
    }
    eve.wait("connected", |e| *e == GroupEvent::Connected).await;
    eve.wait_streams(&[&ann, &bob, &cat]).await;
    for m in [&mut ann, &mut bob, &mut cat] {
        let id = eve.me();
        for video in [false, true] {
            m.wait("eve's stream", |e| {
                *e == GroupEvent::StreamStarted { from: id, video }
            })
            .await;
        }
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    ann.check_receives(&[&bob, &cat, &eve]).await;
    bob.check_receives(&[&ann, &cat, &eve]).await;
    cat.check_receives(&[&ann, &bob, &eve]).await;
    eve.check_receives(&[&ann, &bob, &cat]).await;
    // Dan's stream is gone from everyone.
    for m in [&ann, &bob, &cat, &eve] {
        assert!(m.call().engine().participant_audio(dan.me()).is_empty());
    }

    for m in [&mut bob, &mut cat, &mut eve, &mut ann] {
        m.call().hang_up();
        m.wait("ended", |e| matches!(e, GroupEvent::Ended { .. }))
            .await;
    }
    // One record, naming everyone who took part.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let messages = ann
            .client
            .store()
            .messages(group, 0, u64::MAX, 100, true)
            .await
            .unwrap();
        let records: Vec<_> = messages
            .iter()
            .filter_map(|m| match &m.body {
                MessageBody::Call {
                    outcome,
                    duration_ms,
                    participants,
                    ..
                } => Some((*outcome, *duration_ms, participants.clone())),
                _ => None,
            })
            .collect();
        if let Some((outcome, duration_ms, mut participants)) = records.first().cloned() {
            assert_eq!(records.len(), 1, "{records:?}");
            assert_eq!(outcome, CallOutcome::Completed);
            assert!(duration_ms >= 3_000, "{duration_ms}");
            participants.sort();
            let mut everyone = vec![ann.me(), bob.me(), cat.me(), dan.me(), eve.me()];
            everyone.sort();
            assert_eq!(participants, everyone);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no call record");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(relay.service.group_calls.is_empty());
}

/// Someone outside the group cannot start, join or answer for its call, and
/// a device not taking part cannot send SDP for it; none of it changes the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_and_bystanders_are_refused() {
    let (relay, _dir) = relay().await;
    let mut ann = Member::new(&relay, "ann", 400.0, 160).await;
    let bob = Member::new(&relay, "bob", 520.0, 160).await;
    let zed = Member::new(&relay, "zed", 700.0, 160).await;
    befriend(&ann, &bob).await;
    befriend(&ann, &zed).await;
    let token = ann.client.token().await.unwrap();
    let group = ann
        .client
        .http()
        .create_group(&token, "pair", vec![bob.me()])
        .await
        .unwrap()
        .id;
    let call_id = ann.start(group).await;
    ann.wait("joined", |e| *e == GroupEvent::Joined).await;

    let mut zed_errors = zed.errors.subscribe();
    zed.client.call(CallRequest::Invite {
        call_id: "zed-own-call".into(),
        conversation: group,
        media: CallMedia::Audio,
    });
    assert_eq!(zed.next_error(&mut zed_errors).await, ErrorCode::NotMember);
    zed.client.call(CallRequest::Accept {
        call_id: call_id.clone(),
    });
    assert_eq!(zed.next_error(&mut zed_errors).await, ErrorCode::NotFound);

    // Bob is in the group but not in the call: no SDP from him.
    let mut bob_errors = bob.errors.subscribe();
    bob.client.call(CallRequest::Sdp {
        call_id: call_id.clone(),
        sdp_type: SdpType::Answer,
        sdp: "v=0\r\n".into(),
    });
    assert_eq!(bob.next_error(&mut bob_errors).await, ErrorCode::Forbidden);
    // A second call in the same group is refused while this one runs.
    bob.client.call(CallRequest::Invite {
        call_id: "second".into(),
        conversation: group,
        media: CallMedia::Audio,
    });
    assert_eq!(
        bob.next_error(&mut bob_errors).await,
        ErrorCode::InvalidState
    );
    // Ann's own device may only answer offers, not make them.
    let mut ann_errors = ann.errors.subscribe();
    ann.client.call(CallRequest::Sdp {
        call_id: call_id.clone(),
        sdp_type: SdpType::Offer,
        sdp: "v=0\r\n".into(),
    });
    assert_eq!(
        ann.next_error(&mut ann_errors).await,
        ErrorCode::InvalidState
    );

    // Nothing changed: Ann is still alone in the call, Bob still rings.
    assert_eq!(relay.service.group_calls.len(), 1);
    // Bob declines; with nobody else to ring, the call ends unanswered.
    bob.client.call(CallRequest::Reject {
        call_id: call_id.clone(),
    });
    let ended = ann
        .wait("ended", |e| matches!(e, GroupEvent::Ended { .. }))
        .await;
    assert_eq!(
        ended,
        GroupEvent::Ended {
            reason: EndReason::Rejected,
            duration_ms: 0
        }
    );
    assert!(relay.service.group_calls.is_empty());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let messages = ann
            .client
            .store()
            .messages(group, 0, u64::MAX, 100, true)
            .await
            .unwrap();
        if let Some(outcome) = messages.iter().find_map(|m| match &m.body {
            MessageBody::Call { outcome, .. } => Some(*outcome),
            _ => None,
        }) {
            assert_eq!(outcome, CallOutcome::Rejected);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no call record");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
