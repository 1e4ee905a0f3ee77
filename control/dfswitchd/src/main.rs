//! `dfswitchd`: the Dragonflow-RS switch daemon. See `dfswitchd --help`.
#![forbid(unsafe_code)]

mod config;
mod daemon;
mod handler;
mod metrics;
mod ports;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// The Dragonflow-RS switch daemon: DPDK poll-mode workers running the
/// datapath graph, the local controller that follows the NB database and
/// publishes the apps' tables, and the management socket `dfctl` talks to.
///
/// Examples:
///   dfswitchd --config /etc/dragonflow-rs/dfswitchd.toml
///   dfswitchd --config etc/dfswitchd.toml --check      validate and print the plan, then exit
///
/// Stop it with SIGINT or SIGTERM: workers stop, ports close, DPDK memory and
/// hugepage files are released, the management socket is removed.
#[derive(Debug, Parser)]
#[command(name = "dfswitchd", version, verbatim_doc_comment)]
struct Cli {
    /// The config file (TOML; see etc/dfswitchd.toml for every field).
    #[arg(long, short, default_value = "/etc/dragonflow-rs/dfswitchd.toml")]
    config: PathBuf,
    /// Check the config and print what would run, then exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match config::Config::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dfswitchd: error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = if cli.check {
        daemon::check(&cfg)
    } else {
        daemon::run(cfg)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dfswitchd: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
