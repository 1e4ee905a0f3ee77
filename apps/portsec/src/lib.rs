//! App `portsec`: anti-spoofing for packets from local VM ports
//! (Dragonflow's portsec app, plus the checks it left out).
//!
//! Per packet from a port with port security (`source_port_key`): the
//! Ethernet source must be one of the port's MACs or an allowed-address-pair
//! MAC; an IPv4/IPv6 source must be bound to that MAC (fixed IPs, pair IPs,
//! the MAC's EUI-64 link-local); ARP sender addresses must match; ND
//! link-layer options must be the Ethernet source and a neighbour
//! advertisement may only claim the port's own addresses; a VM may not send
//! router advertisements, redirects or DHCP server messages; only IPv4,
//! IPv6 and ARP pass. Exemptions: a DHCPv4 client from 0.0.0.0, an ARP probe
//! from 0.0.0.0, DAD solicitations and MLD reports from ::. A port with
//! `port_security_enabled: false` is not checked.
//!
//! Exits: `accept` for everything allowed. With the vertex param
//! `services_exit: true`, the traffic Dragonflow let bypass security groups
//! (ARP, ND and MLD, DHCPv4/DHCPv6 client messages) leaves by `services`
//! instead; the default keeps it on `accept`, because a layout that left
//! `services` unwired would otherwise drop ARP.
//!
//! VLAN-tagged frames are dropped as `unknown-ethertype`: trunk ports
//! (Dragonflow's trunk app) will classify sub-ports before portsec.
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
use serde::Deserialize;

pub use config::{AllowedAddressPair, PortsecConfig, PortsecParams, PortsecPort};
pub use stage::PortsecStage;
pub use tables::{link_local, PortsecTables, MAX_MACS, MAX_PAIRS};

/// The contract of `portsec`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "portsec",
    summary: "anti-spoofing: source MAC/IP per port, ARP and ND checks, RA and DHCP-server guards",
    entries: &[EntrySpec {
        name: "default",
        reads: &[SOURCE_PORT_KEY, NETWORK_KEY],
        exits: &["accept", "services"],
        from_ports: false,
        doc: "packets from local VM ports (source_port_key set by input)",
    }],
    exits: &[
        ExitSpec {
            name: "accept",
            writes: &[],
            progress: false,
            doc: "packets the port may send (all of them unless services_exit is set)",
        },
        ExitSpec {
            name: "services",
            writes: &[],
            progress: false,
            doc: "with params services_exit: true, ARP, ND, MLD and DHCP client packets (they bypass security groups)",
        },
    ],
    drops: counters::DROPS,
    tables: &["ports"],
};

/// The `portsec` app.
#[derive(Debug)]
pub struct PortsecApp {
    regs: stage::Regs,
    params: PortsecParams,
}

impl App for PortsecApp {
    type Config = PortsecConfig;
    type Tables = PortsecTables;
    type Stage = PortsecStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        let params = if ctx.params.is_null() {
            PortsecParams::default()
        } else {
            PortsecParams::deserialize(ctx.params).map_err(|e| format!("params: {e}"))?
        };
        Ok(PortsecApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
            },
            params,
        })
    }

    fn empty_tables(&self) -> PortsecTables {
        PortsecTables::default()
    }

    fn build_tables(&self, config: &PortsecConfig) -> Result<PortsecTables, String> {
        PortsecTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<PortsecTables>>) -> PortsecStage {
        let services = if self.params.services_exit {
            stage::SERVICES
        } else {
            stage::ACCEPT
        };
        PortsecStage::new(self.regs, services, tables)
    }

    fn describe(&self, tables: &PortsecTables) -> serde_json::Value {
        tables.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_is_consistent() {
        CONTRACT.validate().unwrap();
        assert_eq!(CONTRACT.exit("accept"), Some(stage::ACCEPT));
        assert_eq!(CONTRACT.exit("services"), Some(stage::SERVICES));
    }
}
