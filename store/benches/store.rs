//! Store benchmarks: catch-up writes, history pages and search, on a real redb
//! file. `cargo bench -p natter-store --bench store` (add `-- quick` for fewer
//! repetitions). Prints medians and percentiles.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use natter_proto::model::{ConversationId, Message, MessageBody, UserId};
use natter_store::Store;

const ME: UserId = UserId(1);

fn message(conv: u64, seq: u64) -> Message {
    let text = match seq % 4 {
        0 => format!("第{seq}条:周末我们一起去爬山吧,记得带水"),
        1 => format!("Meeting notes #{seq}: ship the relay before Friday"),
        2 => format!("好的👌 see you at {seq}"),
        _ => format!("random chatter {seq} lorem ipsum dolor"),
    };
    Message {
        conversation: ConversationId(conv),
        seq,
        sender: UserId(2 + seq % 2),
        client_id: format!("c{conv}-{seq}"),
        ts: 1_760_000_000_000 + seq as i64,
        body: MessageBody::Text { text },
        reply_to: None,
        edited_ts: None,
        reactions: Default::default(),
        extras: Default::default(),
    }
}

async fn fill(store: &Store, conv: u64, n: u64, batch: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut seq = 1;
    while seq <= n {
        let end = (seq + batch - 1).min(n);
        let msgs: Vec<Message> = (seq..=end).map(|s| message(conv, s)).collect();
        let t = Instant::now();
        store
            .apply_messages(ME, ConversationId(conv), msgs)
            .await
            .unwrap();
        total += t.elapsed();
        seq = end + 1;
    }
    total
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

async fn timed<F, Fut>(runs: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        out.push(t.elapsed());
    }
    out
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let runs = if quick { 2 } else { 5 };

    // Catch-up: 100k messages written as the session writes them (2,000 a batch).
    let mut catch_up = Vec::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        catch_up.push(fill(&store, 7, 100_000, 2_000).await);
    }
    println!(
        "catch-up 100k messages into redb: median {} (runs: {})",
        ms(pct(&mut catch_up.clone(), 50.0)),
        catch_up
            .iter()
            .map(|d| ms(*d))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // History pages of a 100k-message conversation.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    fill(&store, 7, 100_000, 2_000).await;
    let conv = ConversationId(7);
    let mut newest = timed(200, || async {
        assert_eq!(store.history(conv, None, 50).await.unwrap().len(), 50);
    })
    .await;
    let mut oldest = timed(200, || async {
        assert_eq!(
            store
                .messages(conv, 1, u64::MAX, 50, false)
                .await
                .unwrap()
                .len(),
            50
        );
    })
    .await;
    println!(
        "newest 50 of 100k: p50 {} p99 {}",
        ms(pct(&mut newest, 50.0)),
        ms(pct(&mut newest, 99.0))
    );
    println!(
        "oldest 50 of 100k: p50 {} p99 {}",
        ms(pct(&mut oldest, 50.0)),
        ms(pct(&mut oldest, 99.0))
    );

    // Search over 1M messages (ten conversations of 100k).
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let t = Instant::now();
    for conv in 0..10 {
        fill(&store, 100 + conv, 100_000, 5_000).await;
    }
    println!(
        "(built 1M-message store in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    for (label, q, expect_some) in [
        ("common Chinese, first 50 hits", "爬山", true),
        ("rare English (one hit)", "notes #99997:", true),
        ("no hit (full scan)", "滑雪", false),
    ] {
        let mut d = timed(if quick { 10 } else { 30 }, || async {
            let hits = store.search(q, None, 50).await.unwrap();
            assert_eq!(!hits.is_empty(), expect_some);
        })
        .await;
        println!(
            "search 1M, {label}: p50 {} p99 {}",
            ms(pct(&mut d, 50.0)),
            ms(pct(&mut d, 99.0))
        );
    }
}
