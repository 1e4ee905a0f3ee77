//! `dfctl`: the operator CLI of Dragonflow-RS.
//!
//! Why one binary for the database and the daemon: an operator manages the
//! virtual network (networks, subnets, ports, routers, security groups,
//! floating IPs; Dragonflow's df-db verbs for the raw tables) and looks at
//! the switch that runs it (`show`, `trace`) with the same tool. Database
//! commands reach the NB store directly with `--db`, or through the local
//! dfswitchd's socket (the embedded store's file is the daemon's); `show`
//! and `trace` always go to the daemon.
//!
//! Exit codes: 0 ok; 1 the operation failed; 2 usage error; 3 the store or
//! the daemon is unreachable ([`error::CliError`]).
#![forbid(unsafe_code)]

mod cli;
mod cmd_db;
mod cmd_fip;
mod cmd_network;
mod cmd_port;
mod cmd_router;
mod cmd_secgroup;
mod cmd_show;
mod db;
mod error;
mod frame;
mod objects;
mod out;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dfctl: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli));
    // Store clients may leave background tasks (etcd keep-alives); do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dfctl: {e:#}");
            ExitCode::from(error::exit_code(&e))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::Db(c) => cmd_db::run(g, c).await,
        Command::Network(c) => cmd_network::network(g, c).await,
        Command::Subnet(c) => cmd_network::subnet(g, c).await,
        Command::Port(c) => cmd_port::run(g, c).await,
        Command::Router(c) => cmd_router::run(g, c).await,
        Command::SecurityGroup(c) => cmd_secgroup::run(g, c).await,
        Command::FloatingIp(c) => cmd_fip::floating_ip(g, c).await,
        Command::Chassis(c) => cmd_fip::chassis(g, c).await,
        Command::Show(c) => cmd_show::show(g, c).await,
        Command::Trace(a) => cmd_show::trace(g, a).await,
    }
}
