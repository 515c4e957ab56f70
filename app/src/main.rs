//! `natter`, the desktop app.
//!
//! ```text
//! natter [--profile NAME] [--server URL] [--lang zh-CN|en-US] [--version]
//! ```
//! Data lives where [`natter::about::data_home`] says (a `portable` marker
//! next to the executable keeps it beside it).
//! Each profile keeps its own local database, so two instances with different
//! profiles can chat with each other on one machine.

// A release build started from the Windows menu opens no console window.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use natter::app::Flags;
use natter_i18n::Language;

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
        data_home: natter::about::data_home(
            natter::about::exe_dir().as_deref(),
            std::env::var_os("NATTER_HOME").map(Into::into),
        ),
        server: None,
        language: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--profile" => flags.profile = args.next().unwrap_or_else(|| "default".into()),
            "--server" => flags.server = args.next(),
            "--lang" => flags.language = args.next().map(|l| Language::from_tag(&l)),
            "--version" | "-V" => {
                println!("natter {}", natter::about::VERSION);
                return Ok(());
            }
            "--help" | "-h" => {
                println!("natter [--profile NAME] [--server URL] [--lang zh-CN|en-US] [--version]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other}; see --help"),
        }
    }
    natter::app::run(flags)?;
    Ok(())
}
