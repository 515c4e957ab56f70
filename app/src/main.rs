//! `natter`, the desktop app.
//!
//! ```text
//! natter [--profile NAME] [--server URL] [--lang zh-CN|en-US]
//! ```
//! Each profile keeps its own local database, so two instances with different
//! profiles can chat with each other on one machine.

use std::path::PathBuf;

use natter::app::Flags;
use natter_i18n::Language;

fn data_home() -> PathBuf {
    if let Some(p) = std::env::var_os("NATTER_HOME") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(p).join("natter");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local").join("share").join("natter")
}

fn main() -> anyhow::Result<()> {
    natter::STARTED.get_or_init(std::time::Instant::now);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NATTER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,natter=info")),
        )
        .init();
    let mut args = std::env::args().skip(1);
    let mut flags = Flags {
        profile: "default".into(),
        data_home: data_home(),
        server: None,
        language: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--profile" => flags.profile = args.next().unwrap_or_else(|| "default".into()),
            "--server" => flags.server = args.next(),
            "--lang" => flags.language = args.next().map(|l| Language::from_tag(&l)),
            "--help" | "-h" => {
                println!("natter [--profile NAME] [--server URL] [--lang zh-CN|en-US]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other}; see --help"),
        }
    }
    natter::app::run(flags)?;
    Ok(())
}
