//! App `provider`: traffic arriving from a physical (provider) network
//! enters the logical pipeline (Dragonflow's provider app, tables 0 and 2
//! for ingress).
//!
//! A switch port that is a physical network's uplink (Dragonflow's patch
//! port to the `bridge_mappings` bridge) is bound by the daemon to this
//! app's `in.default` instead of `input`'s. Each frame is classified by its
//! uplink: an untagged frame belongs to the uplink's flat network; an
//! 802.1Q frame to the VLAN network of its VLAN id, and the tag is popped.
//! It leaves by `out.default` with `source_port_key = 0` (Dragonflow's
//! `reg6 = 0`: not from a logical port) and `network_key` set, towards `l2`.
//!
//! Only the ingress direction lives here. The egress direction (unknown
//! unicast and flooding to the physical network, pushing the VLAN tag,
//! output to the uplink, never reflecting traffic that came from it, and
//! table 80's MAC placeholder fix-up) comes with the overlay work, as a
//! second entry of this app.
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

pub use config::{ProviderConfig, ProviderNetwork, Uplink};
pub use stage::ProviderStage;
pub use tables::ProviderTables;

/// The contract of `provider`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "provider",
    summary: "classify frames from physical-network uplinks: flat or VLAN (tag popped) network",
    entries: &[EntrySpec {
        name: "default",
        reads: &[],
        exits: &["default"],
        from_ports: true,
        doc: "packets received on a switch port that is a physical network's uplink",
    }],
    exits: &[ExitSpec {
        name: "default",
        writes: &[SOURCE_PORT_KEY, NETWORK_KEY],
        progress: false,
        doc: "a frame of a provider network, untagged; source port key 0",
    }],
    drops: counters::DROPS,
    tables: &["uplinks", "vlans"],
};

/// The `provider` app.
#[derive(Debug)]
pub struct ProviderApp {
    regs: stage::Regs,
}

impl App for ProviderApp {
    type Config = ProviderConfig;
    type Tables = ProviderTables;
    type Stage = ProviderStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("provider takes no params".into());
        }
        Ok(ProviderApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                net: ctx.regs.require(NETWORK_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> ProviderTables {
        ProviderTables::default()
    }

    fn build_tables(&self, config: &ProviderConfig) -> Result<ProviderTables, String> {
        ProviderTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<ProviderTables>>) -> ProviderStage {
        ProviderStage::new(self.regs, tables)
    }

    fn describe(&self, tables: &ProviderTables) -> serde_json::Value {
        tables.describe()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn contract_is_consistent() {
        super::CONTRACT.validate().unwrap();
    }
}
