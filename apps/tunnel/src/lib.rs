//! App `tunnel`: Geneve and VXLAN encapsulation and decapsulation between
//! chassis (Dragonflow's tunneling app: table 75's remote-port and BUM
//! flows, table 0's tunnel ingress towards table 100).
//!
//! Chassis reach each other's VMs over an IPv4 underlay: each has one
//! underlay switch port with a local tunnel IP and MAC, and each tenant
//! network a VNI (segmentation id) and an encapsulation (Geneve by default,
//! or VXLAN).
//!
//! * `in.encap` gets frames whose `destination_port_key` is a port bound on
//!   another chassis, or a network's *flood key* (broadcast, multicast and
//!   unknown unicast for every other chassis with ports in the network:
//!   head-end replication, one copy per chassis). It prepends the 50 bytes
//!   of outer headers and transmits on the underlay port itself.
//! * `in.decap` is the underlay port's entry: tunnelled frames for the local
//!   IP lose their outer headers and leave by `out.decap` into their network
//!   with `source_port_key` = the network's flood key (l2 floods every port
//!   but the source, so a flood from the overlay never goes back to it, and
//!   no broadcast loops between chassis); ARP requests for the
//!   local tunnel IP are answered on the port they came from.
//!
//! As in Dragonflow, the tunnel carries only the network (the VNI): the
//! receiving chassis redoes the destination lookup by MAC (l2), and routed
//! packets were routed at the sending chassis.
#![forbid(unsafe_code)]

mod config;
mod counters;
mod stage;
mod tables;
mod trace;

use std::sync::Arc;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::{App, RcuCell, VertexCtx};

pub use config::{
    LocalEndpoint, RemoteChassis, RemotePort, TunnelConfig, TunnelKind, TunnelNetwork,
};
pub use stage::TunnelStage;
pub use tables::{TunnelTables, ENCAP_LEN};

/// The contract of `tunnel`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "tunnel",
    summary: "Geneve/VXLAN overlay: encapsulate to remote chassis (unicast and head-end flood), decapsulate from the underlay port",
    entries: &[
        EntrySpec {
            name: "encap",
            reads: &[DESTINATION_PORT_KEY, NETWORK_KEY],
            exits: &[],
            from_ports: false,
            doc: "frames for a remote port or a network's flood key: encapsulated and transmitted on the underlay port",
        },
        EntrySpec {
            name: "decap",
            reads: &[],
            exits: &["decap"],
            from_ports: true,
            doc: "frames received on the underlay port: tunnelled frames for the local IP, ARP for it",
        },
    ],
    exits: &[ExitSpec {
        name: "decap",
        writes: &[SOURCE_PORT_KEY, NETWORK_KEY],
        progress: false,
        doc: "the inner frame of a tunnelled packet, in its VNI's network; source port key: the network's flood key",
    }],
    drops: counters::DROPS,
    tables: &["destinations", "vnis", "chassis"],
};

/// The `tunnel` app.
#[derive(Debug)]
pub struct TunnelApp {
    regs: stage::Regs,
}

impl App for TunnelApp {
    type Config = TunnelConfig;
    type Tables = TunnelTables;
    type Stage = TunnelStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("tunnel takes no params".into());
        }
        Ok(TunnelApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                net: ctx.regs.require(NETWORK_KEY)?,
                dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> TunnelTables {
        TunnelTables::default()
    }

    fn build_tables(&self, config: &TunnelConfig) -> Result<TunnelTables, String> {
        TunnelTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<TunnelTables>>) -> TunnelStage {
        TunnelStage::new(self.regs, tables)
    }

    fn describe(&self, tables: &TunnelTables) -> serde_json::Value {
        tables.describe()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn contract_is_consistent() {
        super::CONTRACT.validate().unwrap();
        assert_eq!(super::CONTRACT.entry("encap").map(|e| e.0), Some(0));
        assert_eq!(super::CONTRACT.entry("decap").map(|e| e.0), Some(1));
        assert_eq!(super::CONTRACT.exit("decap").map(|e| e.0), Some(0));
    }
}
