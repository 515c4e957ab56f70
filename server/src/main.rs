//! `natter-server`: the relay as a program.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use natter_server::{Config, Relay};

/// Natter relay: accounts, friends, groups and messages for Natter clients.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on [default: 127.0.0.1:7878].
    #[arg(long, env = "NATTER_BIND")]
    bind: Option<SocketAddr>,
    /// Directory for the database and keys [default: ./natter-data].
    #[arg(long, env = "NATTER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file; flags and environment override it.
    #[arg(long, env = "NATTER_CONFIG")]
    config: Option<PathBuf>,
    /// Heartbeat interval in milliseconds.
    #[arg(long, env = "NATTER_HEARTBEAT_MS")]
    heartbeat_ms: Option<u64>,
    /// Sustained frames per second per connection.
    #[arg(long, env = "NATTER_FRAMES_PER_SEC")]
    frames_per_sec: Option<u32>,
    /// Frame burst per connection.
    #[arg(long, env = "NATTER_FRAMES_BURST")]
    frames_burst: Option<u32>,
    /// Argon2id memory in KiB (lower only for tests and benchmarks).
    #[arg(long, env = "NATTER_ARGON2_MEMORY_KIB")]
    argon2_memory_kib: Option<u32>,
    /// Argon2id iterations.
    #[arg(long, env = "NATTER_ARGON2_ITERATIONS")]
    argon2_iterations: Option<u32>,
    /// UDP address of the STUN/TURN server [default: the bind IP, port 3478].
    #[arg(long, env = "NATTER_TURN_BIND")]
    turn_bind: Option<SocketAddr>,
    /// Address TURN clients are given and relayed traffic comes from; set it to
    /// this machine's public address when serving other machines.
    #[arg(long, env = "NATTER_TURN_PUBLIC_IP")]
    turn_public_ip: Option<std::net::IpAddr>,
    /// Run without the STUN/TURN server.
    #[arg(long, env = "NATTER_NO_TURN")]
    no_turn: bool,
    /// Keep everything in PostgreSQL (postgres://user:password@host:port/db)
    /// instead of the embedded database, so several relays can share it.
    #[arg(long, env = "NATTER_DATABASE", hide_env_values = true)]
    database: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NATTER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(v) = args.bind {
        config.bind = v;
    }
    if let Some(v) = args.data_dir {
        config.data_dir = v;
    }
    if let Some(v) = args.heartbeat_ms {
        config.heartbeat_ms = v;
    }
    if let Some(v) = args.frames_per_sec {
        config.limits.frames_per_sec = v;
    }
    if let Some(v) = args.frames_burst {
        config.limits.frames_burst = v;
    }
    if let Some(v) = args.argon2_memory_kib {
        config.argon2_memory_kib = v;
    }
    if let Some(v) = args.argon2_iterations {
        config.argon2_iterations = v;
    }
    if let Some(v) = args.turn_bind {
        config.turn.bind = v;
    }
    if let Some(v) = args.turn_public_ip {
        config.turn.public_ip = Some(v);
    }
    if args.no_turn {
        config.turn.enabled = false;
    }
    if let Some(v) = args.database {
        config.database = Some(v);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start runtime")?;
    runtime.block_on(async move {
        let relay = Relay::start(config).await?;
        // Tests and scripts read the chosen address from this line.
        println!("natter-server listening on {}", relay.addr);
        shutdown_signal().await;
        tracing::info!("shutting down");
        relay.shutdown().await;
        anyhow::Ok(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
