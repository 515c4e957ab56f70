//! Seeds the benchmark profile under `NATTER_HOME` (100 conversations, one of
//! them 100,000 messages long; see `app/benches/support/seed.rs`), for
//! `app/bench/startup.sh`. Arguments: `[relay address] [conversations] [messages
//! in the big one]`; the account stays signed in to that address.

#[path = "../benches/support/seed.rs"]
mod seed;

use std::path::PathBuf;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let home = PathBuf::from(std::env::var_os("NATTER_HOME").ok_or("set NATTER_HOME")?);
    let mut args = std::env::args().skip(1);
    let bind = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 7981)));
    let conversations = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    let big = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let seeded = seed::seed(&home, bind, conversations, big).await?;
    println!(
        "relay {} with data in {}; the big conversation is {}",
        seeded.addr,
        seeded.relay_dir.display(),
        seeded.big.0
    );
    Ok(())
}
