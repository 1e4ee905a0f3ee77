//! App `output`: the last stage. It maps the destination logical port key to
//! the switch port that carries it and queues the packet for transmission
//! (Dragonflow's table 115, INGRESS_DISPATCH); a destination on another
//! chassis leaves by `out.remote` for the overlay (table 75's tunnel output).
#![forbid(unsafe_code)]

mod config;
mod counters;
mod stage;
mod tables;
mod trace;

use std::sync::Arc;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::DESTINATION_PORT_KEY;
use df_dp::{App, RcuCell, VertexCtx};

pub use config::{OutputConfig, OutputPort};
pub use stage::OutputStage;
pub use tables::OutputTables;

/// The contract of `output`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "output",
    summary: "destination port key to a switch port; transmit",
    entries: &[EntrySpec {
        name: "default",
        reads: &[DESTINATION_PORT_KEY],
        exits: &["remote", "nat"],
        from_ports: false,
        doc: "packets with a destination port",
    }],
    exits: &[
        ExitSpec {
            name: "remote",
            writes: &[],
            progress: false,
            doc: "a destination on another chassis (or a network's remote flood), for the overlay",
        },
        ExitSpec {
            name: "nat",
            writes: &[],
            progress: false,
            doc: "a floating IP's port: the packet is translated to the fixed port it stands for",
        },
    ],
    drops: counters::DROPS,
    tables: &["ports"],
};

/// The `output` app.
#[derive(Debug)]
pub struct OutputApp {
    dst: df_dp::RegSlot,
}

impl App for OutputApp {
    type Config = OutputConfig;
    type Tables = OutputTables;
    type Stage = OutputStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("output takes no params".into());
        }
        Ok(OutputApp {
            dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
        })
    }

    fn empty_tables(&self) -> OutputTables {
        OutputTables::default()
    }

    fn build_tables(&self, config: &OutputConfig) -> Result<OutputTables, String> {
        OutputTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<OutputTables>>) -> OutputStage {
        OutputStage::new(self.dst, tables)
    }

    fn describe(&self, tables: &OutputTables) -> serde_json::Value {
        tables.describe()
    }
}
