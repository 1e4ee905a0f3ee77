//! App `input`: the first stage of the graph. It classifies each received
//! packet by the switch port it arrived on, writing the logical source port
//! key and network key (Dragonflow's classifier, table 0), and hands VM
//! traffic on by `out.vm-egress` and traffic from uplinks to physical
//! networks by `out.provider`.
#![forbid(unsafe_code)]

mod config;
mod counters;
mod stage;
mod tables;
mod trace;

use std::sync::Arc;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::{NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::{App, RcuCell, VertexCtx};

pub use config::{InputConfig, InputPort, InputVlan};
pub use stage::InputStage;
pub use tables::InputTables;

/// The contract of `input`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "input",
    summary: "classify packets by switch port: source port key and network key",
    entries: &[EntrySpec {
        name: "default",
        reads: &[],
        exits: &["vm-egress", "provider"],
        from_ports: true,
        doc: "packets received on switch ports",
    }],
    exits: &[
        ExitSpec {
            name: "vm-egress",
            writes: &[SOURCE_PORT_KEY, NETWORK_KEY],
            progress: false,
            doc: "traffic from a VM port, classified",
        },
        ExitSpec {
            name: "provider",
            writes: &[],
            progress: false,
            doc: "traffic from an uplink to a physical network, for `provider` to classify by VLAN",
        },
    ],
    drops: counters::DROPS,
    tables: &["ports"],
};

/// The `input` app.
#[derive(Debug)]
pub struct InputApp {
    regs: stage::Regs,
}

impl App for InputApp {
    type Config = InputConfig;
    type Tables = InputTables;
    type Stage = InputStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("input takes no params".into());
        }
        Ok(InputApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                net: ctx.regs.require(NETWORK_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> InputTables {
        InputTables::default()
    }

    fn build_tables(&self, config: &InputConfig) -> Result<InputTables, String> {
        InputTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<InputTables>>) -> InputStage {
        InputStage::new(self.regs, tables)
    }

    fn describe(&self, tables: &InputTables) -> serde_json::Value {
        tables.describe()
    }
}
