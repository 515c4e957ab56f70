//! Seeds the benchmark profile under `NATTER_HOME` (100 conversations, one of
//! them 100,000 messages long; see `app/benches/support/seed.rs`), for
//! `app/bench/startup.sh`. Arguments: `[conversations] [messages in the big one]`.

#[path = "../benches/support/seed.rs"]
mod seed;

use std::path::PathBuf;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let home = PathBuf::from(std::env::var_os("NATTER_HOME").ok_or("set NATTER_HOME")?);
    let mut args = std::env::args().skip(1);
    let conversations = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    let big = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let seeded = seed::seed(&home, conversations, big).await?;
    println!("relay data: {}", seeded.relay_dir.display());
    Ok(())
}
