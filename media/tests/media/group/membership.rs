//! Who rings and who may take part: busy both ways with 1:1 calls, ringing
//! that runs out, a member added mid-call and one who left the group; who
//! is muted, as every member is told.

use super::*;

async fn relay_with(ring_ms: u64) -> (Relay, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.call_ring_timeout_ms = ring_ms;
    (Relay::start(config).await.unwrap(), dir)
}

/// Waits for a call notice matching `want` on `notices`.
async fn notice(
    notices: &mut broadcast::Receiver<CallNotice>,
    what: &str,
    want: impl Fn(&CallNotice) -> bool,
) -> CallNotice {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, notices.recv()).await {
            Ok(Ok(n)) if want(&n) => return n,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("notices lost while waiting for {what}: {e}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// Someone in a group call is busy for a 1:1 call and the other way round; a
/// member who lets it ring past the timeout stops ringing while the call goes
/// on; a call nobody joins ends as missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_both_ways_and_ringing_runs_out() {
    let (relay, _dir) = relay_with(2_000).await;
    let mut ann = Member::new(&relay, "ann", 400.0, 160).await;
    let mut bob = Member::new(&relay, "bob", 520.0, 160).await;
    let cat = Member::new(&relay, "cat", 700.0, 160).await;
    befriend(&ann, &bob).await;
    befriend(&ann, &cat).await;
    befriend(&cat, &bob).await;
    let token = ann.client.token().await.unwrap();
    let trio = ann
        .client
        .http()
        .create_group(&token, "trio", vec![bob.me(), cat.me()])
        .await
        .unwrap()
        .id;
    let cat_token = cat.client.token().await.unwrap();
    let friends = cat.client.http().friends(&cat_token).await.unwrap().friends;
    let cat_bob = friends
        .iter()
        .find(|f| f.user.id == bob.me())
        .unwrap()
        .conversation;

    let mut cat_notices = cat.notices.subscribe();
    let call_id = ann.start(trio).await;
    ann.wait("joined", |e| *e == GroupEvent::Joined).await;
    bob.join(&call_id).await;
    ann.wait_participants(&[ann.me(), bob.me()]).await;

    // Cat calls Bob 1:1 while Bob is in the group call: busy, without ringing.
    cat.client.call(CallRequest::Invite {
        call_id: "cat-to-bob".into(),
        conversation: cat_bob,
        media: CallMedia::Audio,
    });
    let busy = notice(
        &mut cat_notices,
        "busy",
        |n| matches!(n, CallNotice::Ended { call_id, .. } if call_id == "cat-to-bob"),
    )
    .await;
    assert!(
        matches!(
            busy,
            CallNotice::Ended {
                reason: EndReason::Busy,
                ..
            }
        ),
        "{busy:?}"
    );
    // Bob may not start a 1:1 call while in the group call.
    let mut bob_errors = bob.errors.subscribe();
    bob.client.call(CallRequest::Invite {
        call_id: "bob-to-cat".into(),
        conversation: cat_bob,
        media: CallMedia::Audio,
    });
    assert_eq!(
        bob.next_error(&mut bob_errors).await,
        ErrorCode::InvalidState
    );

    // Cat let it ring: after the timeout Cat stops ringing, the call goes on.
    let missed = notice(
        &mut cat_notices,
        "ring timeout",
        |n| matches!(n, CallNotice::Ended { call_id: id, .. } if *id == call_id),
    )
    .await;
    assert!(
        matches!(
            missed,
            CallNotice::Ended {
                reason: EndReason::Missed,
                ..
            }
        ),
        "{missed:?}"
    );
    assert_eq!(relay.service.group_calls.len(), 1);
    // Cat can still join from the header: the call is announced to them.
    let mut cat = cat;
    cat.join(&call_id).await;
    let three = [ann.me(), bob.me(), cat.me()];
    for m in [&mut ann, &mut bob, &mut cat] {
        m.wait_participants(&three).await;
    }
    for m in [&mut ann, &mut bob, &mut cat] {
        m.call().hang_up();
        m.wait("ended", |e| matches!(e, GroupEvent::Ended { .. }))
            .await;
    }
    assert!(relay.service.group_calls.is_empty());

    // A call nobody joins ends as missed when the ring timeout runs out.
    let lonely = ann.start(trio).await;
    ann.wait("joined", |e| *e == GroupEvent::Joined).await;
    let ended = ann
        .wait("ended", |e| matches!(e, GroupEvent::Ended { .. }))
        .await;
    assert_eq!(
        ended,
        GroupEvent::Ended {
            reason: EndReason::Missed,
            duration_ms: 0
        }
    );
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let messages = ann
            .client
            .store()
            .messages(trio, 0, u64::MAX, 100, true)
            .await
            .unwrap();
        let outcomes: Vec<(String, CallOutcome, Vec<UserId>)> = messages
            .iter()
            .filter_map(|m| match &m.body {
                MessageBody::Call {
                    call_id,
                    outcome,
                    participants,
                    ..
                } => Some((call_id.clone(), *outcome, participants.clone())),
                _ => None,
            })
            .collect();
        if outcomes.len() == 2 {
            assert_eq!(outcomes[0].0, call_id);
            assert_eq!(outcomes[0].1, CallOutcome::Completed);
            assert_eq!(outcomes[0].2, three.to_vec());
            assert_eq!(
                outcomes[1],
                (lonely.clone(), CallOutcome::Missed, vec![ann.me()])
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "records: {outcomes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Someone added to the group while its call runs hears who is in it and
/// joins; someone who left the group may not join.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_added_mid_call_joins_and_one_who_left_may_not() {
    let (relay, _dir) = relay().await;
    let mut ann = Member::new(&relay, "ann", 400.0, 160).await;
    let bob = Member::new(&relay, "bob", 520.0, 160).await;
    let mut cat = Member::new(&relay, "cat", 700.0, 160).await;
    befriend(&ann, &bob).await;
    befriend(&ann, &cat).await;
    let token = ann.client.token().await.unwrap();
    let group = ann
        .client
        .http()
        .create_group(&token, "growing", vec![bob.me()])
        .await
        .unwrap()
        .id;
    let call_id = ann.start(group).await;
    ann.wait("joined", |e| *e == GroupEvent::Joined).await;

    // Bob leaves the group before joining: the call is closed to him.
    let bob_token = bob.client.token().await.unwrap();
    bob.client
        .http()
        .leave_group(&bob_token, group)
        .await
        .unwrap();
    let mut bob_errors = bob.errors.subscribe();
    bob.client.call(CallRequest::Accept {
        call_id: call_id.clone(),
    });
    assert_eq!(bob.next_error(&mut bob_errors).await, ErrorCode::NotMember);

    // Cat is added mid-call: told who is in it, and joins.
    let mut cat_notices = cat.notices.subscribe();
    ann.client
        .http()
        .invite(&token, group, vec![cat.me()])
        .await
        .unwrap();
    let told = notice(
        &mut cat_notices,
        "participants",
        |n| matches!(n, CallNotice::Participants { call_id: id, .. } if *id == call_id),
    )
    .await;
    let CallNotice::Participants { participants, .. } = told else {
        unreachable!()
    };
    assert_eq!(participants, vec![ann.me()]);
    cat.join(&call_id).await;
    let two = [ann.me(), cat.me()];
    for m in [&mut ann, &mut cat] {
        m.wait_participants(&two).await;
    }
    cat.wait_streams(&[&ann]).await;
    ann.wait_streams(&[&cat]).await;
}

/// Waits until `listener` hears `speaker` (`loud`) or no longer does.
async fn wait_level(listener: &Member, speaker: &Member, loud: bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let level = listener.call().engine().participant_level(speaker.me());
        if (loud && level > 0.01) || (!loud && level < 0.002) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} hears {} at level {level} (want loud: {loud})",
            listener.name,
            speaker.name
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A participant who mutes goes silent and every member is told, those not
/// in the call too; unmuting and leaving clear it. Someone not taking part
/// cannot say they are muted, and a 1:1 call has no such state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_is_muted_is_told_to_every_member() {
    let (relay, _dir) = relay().await;
    let mut ann = Member::new(&relay, "ann", 400.0, 160).await;
    let mut bob = Member::new(&relay, "bob", 520.0, 160).await;
    let cat = Member::new(&relay, "cat", 700.0, 160).await;
    befriend(&ann, &bob).await;
    befriend(&ann, &cat).await;
    let token = ann.client.token().await.unwrap();
    let group = ann
        .client
        .http()
        .create_group(&token, "quiet", vec![bob.me(), cat.me()])
        .await
        .unwrap()
        .id;
    let mut cat_notices = cat.notices.subscribe();
    let call_id = ann.start(group).await;
    ann.wait("joined", |e| *e == GroupEvent::Joined).await;
    bob.join(&call_id).await;
    let two = [ann.me(), bob.me()];
    for m in [&mut ann, &mut bob] {
        m.wait_participants(&two).await;
    }
    bob.wait_streams(&[&ann]).await;
    wait_level(&bob, &ann, true).await;

    // Ann mutes: Bob stops hearing her and is told; so is Cat, who rings.
    ann.call().set_muted(true);
    let muted = vec![ann.me()];
    bob.wait("ann muted", |e| *e == GroupEvent::Muted(muted.clone()))
        .await;
    wait_level(&bob, &ann, false).await;
    let id = call_id.clone();
    notice(&mut cat_notices, "ann muted", |n| {
        matches!(n, CallNotice::Participants { call_id, muted: Some(m), .. }
            if *call_id == id && *m == [ann.me()])
    })
    .await;
    // Cat, not taking part, cannot say she is muted.
    let mut cat_errors = cat.errors.subscribe();
    cat.client.call(CallRequest::MediaState {
        call_id: call_id.clone(),
        muted: true,
    });
    assert_eq!(cat.next_error(&mut cat_errors).await, ErrorCode::Forbidden);

    // Ann unmutes: heard again, and nobody is muted.
    ann.call().set_muted(false);
    bob.wait("ann unmuted", |e| *e == GroupEvent::Muted(Vec::new()))
        .await;
    wait_level(&bob, &ann, true).await;

    // A mute while the connections are down reaches the others once they
    // are back (the call goes on over its own media meanwhile).
    relay.service.hub.drop_all();
    ann.call().set_muted(true);
    let muted = vec![ann.me()];
    bob.wait("ann muted across a reconnect", |e| {
        *e == GroupEvent::Muted(muted.clone())
    })
    .await;
    ann.call().set_muted(false);
    bob.wait("ann unmuted again", |e| *e == GroupEvent::Muted(Vec::new()))
        .await;

    // Bob mutes, then leaves: the list no longer names him.
    bob.call().set_muted(true);
    let muted = vec![bob.me()];
    ann.wait("bob muted", |e| *e == GroupEvent::Muted(muted.clone()))
        .await;
    bob.call().hang_up();
    ann.wait_participants(&[ann.me()]).await;
    ann.wait("bob gone", |e| *e == GroupEvent::Muted(Vec::new()))
        .await;
    let id = call_id.clone();
    notice(&mut cat_notices, "bob gone", |n| {
        matches!(n, CallNotice::Participants { call_id, participants, muted: Some(m), .. }
            if *call_id == id && *participants == [ann.me()] && m.is_empty())
    })
    .await;
    ann.call().hang_up();

    // In a 1:1 call the relay keeps no such state.
    let friends = ann.client.http().friends(&token).await.unwrap().friends;
    let direct = friends
        .iter()
        .find(|f| f.user.id == cat.me())
        .unwrap()
        .conversation;
    let mut ann_errors = ann.errors.subscribe();
    ann.client.call(CallRequest::Invite {
        call_id: "ann-cat".into(),
        conversation: direct,
        media: CallMedia::Audio,
    });
    notice(
        &mut cat_notices,
        "ann's 1:1 call",
        |n| matches!(n, CallNotice::Incoming { call_id, .. } if call_id == "ann-cat"),
    )
    .await;
    ann.client.call(CallRequest::MediaState {
        call_id: "ann-cat".into(),
        muted: true,
    });
    assert_eq!(
        ann.next_error(&mut ann_errors).await,
        ErrorCode::Unsupported
    );
}
