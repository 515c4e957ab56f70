//! How media reaches the relay's forwarding unit: through its TURN server
//! when nothing else gets through, and within its limit per stream.

use super::*;

/// Ann and Bob, friends in a group of two, in a call Ann starts and Bob
/// joins; returns once each receives the other's sound and picture.
async fn call_of_two(ann: &mut Member, bob: &mut Member) {
    befriend(ann, bob).await;
    let token = ann.client.token().await.unwrap();
    let group = ann
        .client
        .http()
        .create_group(&token, "two", vec![bob.me()])
        .await
        .unwrap()
        .id;
    let call_id = ann.start(group).await;
    ann.wait("joined", |e| *e == GroupEvent::Joined).await;
    bob.join(&call_id).await;
    let two = [ann.me(), bob.me()];
    for m in [&mut *ann, &mut *bob] {
        m.wait_participants(&two).await;
    }
    bob.wait_streams(&[ann]).await;
    ann.wait_streams(&[bob]).await;
}

/// A member whose device may use only relayed candidates takes part through
/// the relay's own TURN server: both hear and see each other, and the media
/// did go through TURN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_behind_a_firewall_takes_part_through_turn() {
    let (relay, _dir) = relay().await;
    let mut ann = Member::new(&relay, "ann", 440.0, 160).await;
    let mut bob = Member::new(&relay, "bob", 660.0, 192).await;
    bob.behind_a_firewall().await;
    call_of_two(&mut ann, &mut bob).await;
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    ann.check_receives(&[&bob]).await;
    bob.check_receives(&[&ann]).await;
    // Everything bob sends and receives went through TURN (a direct 1:1
    // call relays under 5 kB, see `relay.rs`).
    let (allocations, relayed) = relay.service.turn.as_ref().unwrap().usage().await;
    assert!(
        allocations >= 1 && relayed > 30_000,
        "{allocations} allocations, {relayed} bytes relayed"
    );
    let stats = bob.call().engine().stats().await;
    assert!(stats.packets_received > 20, "{stats:?}");
}

/// The relay's limit on a stream reaches the sender: a camera-like picture
/// that would take a megabit is sent within the relay's 200 kbit/s, and the
/// receiver still gets its pictures; with the default limit the same
/// sender takes several times that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_keeps_within_the_relays_limit_per_stream() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut rates = Vec::new();
    for limit_kbps in [
        200,
        natter_server::sfu::SfuConfig::default().max_stream_kbps,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path());
        config.call_ring_timeout_ms = 20_000;
        config.sfu.max_stream_kbps = limit_kbps;
        let relay = Relay::start(config).await.unwrap();
        let mut ann = Member::new(&relay, "ann", 440.0, 320).await;
        let mut bob = Member::new(&relay, "bob", 660.0, 160).await;
        ann.grainy = true;
        call_of_two(&mut ann, &mut bob).await;
        // Past the start (the estimate's first climb), over 4 s.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = ann.call().engine().stats().await;
        let before = bob
            .call()
            .engine()
            .participant_video(ann.me())
            .unwrap()
            .latest()
            .expect("a picture of ann");
        let mut sent = Vec::new();
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            sent.push(ann.call().engine().stats().await.send_bitrate_bps);
        }
        let after = bob
            .call()
            .engine()
            .participant_video(ann.me())
            .unwrap()
            .latest()
            .expect("a picture of ann");
        sent.sort_by(f64::total_cmp);
        let median = (sent[1] + sent[2]) / 2.0;
        eprintln!("limit {limit_kbps} kbit/s: ann sends {sent:?} b/s");
        assert!(
            !Arc::ptr_eq(&before, &after),
            "bob's picture of ann stood still"
        );
        rates.push(median);
        for m in [&mut ann, &mut bob] {
            m.call().hang_up();
        }
    }
    let (limited, free) = (rates[0], rates[1]);
    // Video within 200 kbit/s, audio (32 kbit/s) and headers on top.
    assert!(
        limited < 300_000.0,
        "{limited} b/s sent under a 200 kbit/s limit"
    );
    assert!(
        free > 2.0 * limited,
        "{free} b/s without the limit, {limited} with it"
    );
}
