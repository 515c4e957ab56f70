//! `natter-load`: measures the relay with the real protocol on loopback.
//!
//! It starts `natter-server` as a child process (so its memory can be read from
//! `/proc` apart from the load generator's own), provisions accounts over REST,
//! opens WebSocket sessions and reports:
//!
//! - `idle`: resident memory per idle authenticated connection;
//! - `latency`: send → ack latency of one sender, sequential;
//! - `throughput`: deliveries per second and delivery latency with many
//!   connections, each in a 1:1 chat and a 10-member group, sending at a set rate.
//!
//! `all` runs the three with the defaults used in the benchmarks document.

mod client;
mod scenario;
mod stats;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Load generator for the Natter relay.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    /// The relay binary to start [default: natter-server next to this binary].
    #[arg(long, global = true)]
    server: Option<PathBuf>,
    /// What to measure.
    #[command(subcommand)]
    scenario: Scenario,
}

/// The measurements.
#[derive(Subcommand, Debug, Clone)]
pub enum Scenario {
    /// Memory per idle authenticated connection.
    Idle {
        /// Connections to open.
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Devices per account (each device is one connection).
        #[arg(long, default_value_t = 4)]
        devices: usize,
    },
    /// Send → ack latency, one sender.
    Latency {
        /// Messages to time.
        #[arg(long, default_value_t = 5_000)]
        messages: usize,
    },
    /// Deliveries per second and delivery latency.
    Throughput {
        /// Accounts, one connection each (a multiple of 10).
        #[arg(long, default_value_t = 2_000)]
        users: usize,
        /// Messages per second sent, all senders together.
        #[arg(long, default_value_t = 6_000)]
        rate: u32,
        /// Share of messages sent to the group rather than the 1:1 chat.
        #[arg(long, default_value_t = 0.5)]
        group_share: f64,
        /// Measured seconds (after a 2-second warm-up).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// All three with their defaults.
    All,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = match &args.server {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("natter-server"),
    };
    let runs = match args.scenario {
        Scenario::All => vec![
            Scenario::Idle {
                connections: 10_000,
                devices: 4,
            },
            Scenario::Latency { messages: 5_000 },
            Scenario::Throughput {
                users: 2_000,
                rate: 6_000,
                group_share: 0.5,
                seconds: 10,
            },
        ],
        one => vec![one],
    };
    for run in runs {
        let relay = client::Relay::spawn(&server).await?;
        let result = match run {
            Scenario::Idle {
                connections,
                devices,
            } => scenario::idle(&relay, connections, devices).await,
            Scenario::Latency { messages } => scenario::latency(&relay, messages).await,
            Scenario::Throughput {
                users,
                rate,
                group_share,
                seconds,
            } => scenario::throughput(&relay, users, rate, group_share, seconds).await,
            Scenario::All => unreachable!("expanded above"),
        };
        relay.stop();
        result?;
    }
    Ok(())
}
