//! App `xconnect`: patches each logical port to a fixed peer port, with no
//! lookup on packet contents (VPP's l2 xconnect, testpmd's io forwarding).
//! The `io` benchmark uses it to measure the framework's own cost.
#![forbid(unsafe_code)]

mod config;
mod counters;
mod stage;
mod tables;
mod trace;

use std::sync::Arc;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::{DESTINATION_PORT_KEY, SOURCE_PORT_KEY};
use df_dp::{App, RcuCell, VertexCtx};

pub use config::{XconnectConfig, XconnectPair};
pub use stage::XconnectStage;
pub use tables::XconnectTables;

/// The contract of `xconnect`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "xconnect",
    summary: "patch each logical port to a fixed peer port",
    entries: &[EntrySpec {
        name: "default",
        reads: &[SOURCE_PORT_KEY],
        exits: &["default"],
        from_ports: false,
        doc: "classified packets",
    }],
    exits: &[ExitSpec {
        name: "default",
        writes: &[DESTINATION_PORT_KEY],
        progress: false,
        doc: "destination port key set to the source port's peer",
    }],
    drops: counters::DROPS,
    tables: &["peers"],
};

/// The `xconnect` app.
#[derive(Debug)]
pub struct XconnectApp {
    regs: stage::Regs,
}

impl App for XconnectApp {
    type Config = XconnectConfig;
    type Tables = XconnectTables;
    type Stage = XconnectStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("xconnect takes no params".into());
        }
        Ok(XconnectApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> XconnectTables {
        XconnectTables::default()
    }

    fn build_tables(&self, config: &XconnectConfig) -> Result<XconnectTables, String> {
        XconnectTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<XconnectTables>>) -> XconnectStage {
        XconnectStage::new(self.regs, tables)
    }

    fn describe(&self, tables: &XconnectTables) -> serde_json::Value {
        tables.describe()
    }
}
