//! `natter-server`: the relay as a program.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use natter_server::config::LogFormat;
use natter_server::{Config, Relay};

/// Natter relay: accounts, friends, groups and messages for Natter clients.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on [default: 127.0.0.1:7878].
    #[arg(long, env = "NATTER_BIND")]
    bind: Option<SocketAddr>,
    /// Directory for the database and keys [default: ./natter-data].
    #[arg(long, env = "NATTER_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// TOML configuration file; flags and environment override it.
    #[arg(long, env = "NATTER_CONFIG", global = true)]
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
    /// PEM certificate chain: serve https:// and wss:// (needs --tls-key).
    #[arg(long, env = "NATTER_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "NATTER_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Serve GET /metrics (Prometheus) on this address, a listener of its own.
    #[arg(long, env = "NATTER_METRICS_BIND")]
    metrics_bind: Option<SocketAddr>,
    /// Require `Authorization: Bearer TOKEN` on /metrics.
    #[arg(long, env = "NATTER_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Log lines as text or JSON.
    #[arg(long, env = "NATTER_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Check the configuration (TOML, environment, flags, TLS files), print
    /// what the relay would do, and exit: 0 if it is usable, 1 if not.
    #[arg(long)]
    check_config: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Keep everything in PostgreSQL (postgres://user:password@host:port/db)
    /// instead of the embedded database, so several relays can share it.
    #[arg(long, env = "NATTER_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Join a cluster: exchange live traffic with the other relays on this
    /// NATS server (nats://host:4222; comma-separated for several). Needs
    /// --database.
    #[arg(long, env = "NATTER_NATS")]
    nats: Option<String>,
    /// Keep uploaded files here [default: <data-dir>/files]; the nodes of a
    /// cluster must share it.
    #[arg(long, env = "NATTER_FILES_DIR")]
    files_dir: Option<PathBuf>,
    /// Web origins whose pages may call the REST API (CORS), comma-separated:
    /// https://chat.example.com,https://web.example.com [default: none].
    #[arg(long, env = "NATTER_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Option<Vec<String>>,
    /// Accounts one address may create per hour; 0 for no limit [default: 20].
    #[arg(long, env = "NATTER_REGISTRATIONS_PER_HOUR")]
    registrations_per_hour: Option<u32>,
    /// Proxies whose X-Forwarded-For names the client, comma-separated
    /// addresses (the sign-in throttles count that client) [default: none].
    #[arg(long, env = "NATTER_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Option<Vec<std::net::IpAddr>>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Operator commands on the relay's accounts. Uses the running relay's admin
    /// socket (run as the relay's user), or the data directory when it is stopped.
    Admin {
        /// Print the reply as JSON.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        command: AdminCmd,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCmd {
    /// List accounts in id order.
    List {
        /// Start after this account id.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Accounts whose name, nickname, e-mail or phone contains TEXT.
    Search {
        /// What to look for (case-insensitive).
        text: String,
    },
    /// Disable an account: it cannot sign in, and its devices are signed out now.
    Disable {
        /// Account name, e-mail or phone.
        account: String,
    },
    /// Let a disabled account sign in again.
    Enable {
        /// Account name, e-mail or phone.
        account: String,
    },
    /// Set a new password (read from standard input, or generated and printed)
    /// and sign out every device of the account.
    ResetPassword {
        /// Account name, e-mail or phone.
        account: String,
        /// Read the new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Members, messages and stored bytes of a conversation.
    ConversationSize {
        /// Conversation id.
        conversation: u64,
    },
}

fn build_config(args: &Args) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(v) = args.bind {
        config.bind = v;
    }
    if let Some(v) = &args.data_dir {
        config.data_dir = v.clone();
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
    if let Some(v) = &args.tls_cert {
        config.tls_cert = Some(v.clone());
    }
    if let Some(v) = &args.tls_key {
        config.tls_key = Some(v.clone());
    }
    if let Some(v) = args.metrics_bind {
        config.metrics_bind = Some(v);
    }
    if let Some(v) = &args.metrics_token {
        config.metrics_token = Some(v.clone());
    }
    if let Some(v) = args.log_format {
        config.log_format = v;
    }
    if let Some(v) = &args.database {
        config.database = Some(v.clone());
    }
    if let Some(v) = &args.nats {
        config.nats = Some(v.clone());
    }
    if let Some(v) = &args.files_dir {
        config.files_dir = Some(v.clone());
    }
    if let Some(v) = &args.cors_origins {
        config.cors_origins = v.iter().map(|o| o.trim().to_string()).collect();
    }
    if let Some(v) = args.registrations_per_hour {
        config.throttle.registrations_per_hour = v;
    }
    if let Some(v) = &args.trusted_proxies {
        config.throttle.trusted_proxies = v.clone();
    }
    Ok(config)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NATTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}

fn admin(config: Config, command: AdminCmd, json: bool) -> anyhow::Result<()> {
    use natter_server::admin::{Command, Reply};
    let mut generated = None;
    let command = match command {
        AdminCmd::List { after, limit } => Command::List { after, limit },
        AdminCmd::Search { text } => Command::Search { query: text },
        AdminCmd::Disable { account } => Command::Disable { account },
        AdminCmd::Enable { account } => Command::Enable { account },
        AdminCmd::ResetPassword {
            account,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("read the new password from standard input")?;
                line.trim_end_matches(['\r', '\n']).to_string()
            } else {
                let p = random_password();
                generated = Some(p.clone());
                p
            };
            Command::ResetPassword { account, password }
        }
        AdminCmd::ConversationSize { conversation } => Command::ConversationSize { conversation },
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start runtime")?;
    let reply = runtime.block_on(natter_server::admin::run(&config, command))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&reply)?);
    } else {
        print_reply(&reply);
    }
    if let Reply::Error { .. } = reply {
        std::process::exit(1);
    }
    if let Some(p) = generated {
        println!("new password: {p}");
    }
    Ok(())
}

fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

fn print_reply(reply: &natter_server::admin::Reply) {
    use natter_server::admin::Reply;
    let line = |a: &natter_server::admin::AccountInfo| {
        format!(
            "{:>20}  {:<24} {:<24} {}{}",
            a.id,
            a.account,
            a.nickname,
            if a.disabled { "disabled" } else { "active" },
            if a.online { ", online" } else { "" }
        )
    };
    match reply {
        Reply::Accounts { accounts } => {
            println!("{:>20}  {:<24} {:<24} state", "id", "account", "nickname");
            for a in accounts {
                println!("{}", line(a));
            }
            println!("{} account(s)", accounts.len());
        }
        Reply::Changed {
            account,
            sessions_closed,
            connections_closed,
        } => {
            println!("{}", line(account));
            println!("sessions ended: {sessions_closed}, connections closed: {connections_closed}");
        }
        Reply::ConversationSize {
            conversation,
            kind,
            members,
            messages,
            last_seq,
            bytes,
        } => {
            println!(
                "conversation {conversation} ({kind}): {members} member(s), {messages} message(s), last seq {last_seq}, {bytes} bytes"
            );
        }
        Reply::Error { message } => eprintln!("error: {message}"),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = match build_config(&args) {
        Ok(c) => c,
        Err(e) if args.check_config => {
            eprintln!("configuration NOT usable: {e:#}");
            std::process::exit(1);
        }
        Err(e) => return Err(e),
    };
    init_logging(config.log_format);
    if args.check_config {
        match config.check() {
            Ok(lines) => {
                for line in lines {
                    println!("{line}");
                }
                println!("configuration OK");
                return Ok(());
            }
            Err(e) => {
                eprintln!("configuration NOT usable: {e}");
                std::process::exit(1);
            }
        }
    }
    if let Some(Cmd::Admin { json, command }) = args.command {
        return admin(config, command, json);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start runtime")?;
    runtime.block_on(async move {
        let relay = Relay::start(config).await?;
        // Tests and scripts read the chosen address from this line.
        println!("natter-server listening on {}", relay.addr);
        if let Some(addr) = relay.metrics_addr {
            println!("natter-server metrics on {addr}");
        }
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
