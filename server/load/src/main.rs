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
//! - `cross`: delivery latency to a device on the sender's node and to one on
//!   another node of a cluster (`--relay A,B`).
//!
//! `all` runs the first three with the defaults used in the benchmarks document.
//! With `--relay host:port` the measurements go to a relay (or a load balancer
//! in front of a cluster) that is already running, instead of a child.

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
    /// Measure a relay already running at host:port (for `cross`, two nodes
    /// of one cluster, comma-separated) instead of starting one.
    #[arg(long, global = true)]
    relay: Option<String>,
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
    /// Delivery latency to the sender's node and to another node
    /// (`--relay A,B`: sender and one receiver on A, one receiver on B).
    Cross {
        /// Messages to time.
        #[arg(long, default_value_t = 3_000)]
        messages: usize,
        /// Messages per second.
        #[arg(long, default_value_t = 200)]
        rate: u32,
    },
    /// The first three with their defaults.
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
        if let Scenario::Cross { messages, rate } = run {
            let nodes: Vec<&str> = args.relay.as_deref().unwrap_or("").split(',').collect();
            let [a, b] = nodes[..] else {
                anyhow::bail!("cross needs --relay A,B: two nodes of one cluster");
            };
            scenario::cross(a, b, messages, rate).await?;
            continue;
        }
        let relay = match &args.relay {
            Some(addr) => client::Relay::external(addr),
            None => client::Relay::spawn(&server).await?,
        };
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
            Scenario::All | Scenario::Cross { .. } => unreachable!("handled above"),
        };
        relay.stop();
        result?;
    }
    Ok(())
}
