//! What only the embedded backend has: its message log.

use natter_proto::model::MessageBody;

use crate::support::*;

/// The generation of the first record in a message log file, if any.
fn first_generation(path: &std::path::Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let header = bytes.get(..16)?;
    (header[..4] != [0; 4]).then(|| u64::from_le_bytes(header[8..16].try_into().unwrap()))
}

#[tokio::test]
async fn acked_messages_survive_kill_9_after_the_log_moved_to_its_other_file() {
    let dir = tempfile::tempdir().unwrap();
    let fast: Vec<String> = ["--frames-per-sec", "100000", "--frames-burst", "100000"]
        .map(String::from)
        .to_vec();
    let mut p = Proc::start(dir.path(), &fast);
    let t = Api::new(&format!("http://{}", p.addr));
    let (a, b) = (t.user("wes").await, t.user("xia").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = Ws::connect(&t.ws_url(), &a.token).await;
    // Large messages fill the first log file quickly; the log moves on to the
    // other file once it is full enough and a checkpoint has covered it.
    let filler = "消息".repeat(3000);
    let other_file = dir.path().join("natter-1.wal");
    let mut sent = 0u64;
    let mut after_move = None;
    while after_move.is_none_or(|n| sent < n + 20) {
        assert!(sent < 5000, "the message log never moved to its other file");
        let text = format!("{sent} {filler}");
        let seq = wa
            .send_body(conv, MessageBody::Text { text }, &format!("big{sent}"))
            .await
            .unwrap();
        sent += 1;
        assert_eq!(seq, sent);
        if after_move.is_none() && first_generation(&other_file).is_some() {
            after_move = Some(sent);
        }
    }
    p.child.kill().unwrap();
    p.child.wait().unwrap();
    drop(wa);

    let p2 = Proc::start(dir.path(), &fast);
    let t2 = Api::new(&format!("http://{}", p2.addr));
    let mut wb = Ws::connect(&t2.ws_url(), &b.token).await;
    let s = wb.sync(0, vec![]).await;
    let got = &s.messages[&conv];
    assert_eq!(got.len() as u64, sent);
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.seq, i as u64 + 1);
        assert!(text(m).starts_with(&format!("{i} 消息")));
    }
    // New messages continue the sequence.
    let mut wa = Ws::connect(&t2.ws_url(), &a.token).await;
    let next = wa
        .send_body(
            conv,
            MessageBody::Text {
                text: "next".into(),
            },
            "next",
        )
        .await
        .unwrap();
    assert_eq!(next, sent + 1);
}

#[tokio::test]
async fn a_new_data_directory_and_its_database_are_private_to_the_relays_user() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("natter-data");
    let relay = natter_server::Relay::start(natter_server::Config::for_tests(&dir))
        .await
        .unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "data directory");
    assert_eq!(mode(&dir.join("natter.redb")), 0o600, "database file");
    assert_eq!(mode(&dir.join("files")), 0o700, "files directory");
    relay.shutdown().await;
}
