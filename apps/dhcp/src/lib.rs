//! App `dhcp`: a distributed DHCPv4 server answered in the datapath
//! (Dragonflow's dhcp app, table 30, without the round trip to the
//! controller). Each chassis answers its own ports from table data: the
//! offered address is the port's fixed IP, so there is no lease state.
//!
//! A client message (IPv4, UDP 68 -> 67, to 255.255.255.255 or to one of the
//! network's DHCP server addresses) in a network with a DHCP server here is
//! consumed: DISCOVER gets an OFFER, REQUEST an ACK (or a NAK for an address
//! that is not the port's), INFORM an ACK without lease; RELEASE and DECLINE
//! are counted and need no reply. The reply is built in place in the
//! request's buffer and leaves by `out.reply` with the destination port key
//! set to the requesting port. Everything else leaves by `out.pass`
//! untouched. A per-port token bucket (Dragonflow's 3 requests/s, 100 s
//! block) guards against DHCP floods.
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
    DhcpClientPort, DhcpConfig, DhcpNetwork, DhcpServerPort, DhcpSubnet, ExtraOption, HostRoute,
    Ipv4Cidr, MetadataRoute, RateLimit, DEFAULT_LEASE_SECS,
};
pub use stage::DhcpStage;
pub use tables::{DhcpTables, MAX_BOOT_FILE_LEN, MAX_PORT_EXTRA_OPTIONS, METADATA_IP};

/// The contract of `dhcp`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "dhcp",
    summary:
        "distributed DHCPv4 server: answer DISCOVER/REQUEST/INFORM from the ports' fixed addresses",
    entries: &[EntrySpec {
        name: "default",
        reads: &[SOURCE_PORT_KEY, NETWORK_KEY],
        exits: &["reply", "pass"],
        from_ports: false,
        doc: "classified packets that may be DHCP client messages",
    }],
    exits: &[
        ExitSpec {
            name: "reply",
            writes: &[DESTINATION_PORT_KEY],
            progress: false,
            doc: "the server's answer (OFFER, ACK, NAK) to the requesting port; wire it to output",
        },
        ExitSpec {
            name: "pass",
            writes: &[],
            progress: false,
            doc: "everything that is not a DHCP client message for a server here, unchanged",
        },
    ],
    drops: counters::DROPS,
    tables: &["networks", "ports"],
};

/// The `dhcp` app.
#[derive(Debug)]
pub struct DhcpApp {
    regs: stage::Regs,
}

impl App for DhcpApp {
    type Config = DhcpConfig;
    type Tables = DhcpTables;
    type Stage = DhcpStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("dhcp takes no params (its settings come with its config)".into());
        }
        Ok(DhcpApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                net: ctx.regs.require(NETWORK_KEY)?,
                dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> DhcpTables {
        DhcpTables::default()
    }

    fn build_tables(&self, config: &DhcpConfig) -> Result<DhcpTables, String> {
        DhcpTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<DhcpTables>>) -> DhcpStage {
        DhcpStage::new(self.regs, tables)
    }

    fn describe(&self, tables: &DhcpTables) -> serde_json::Value {
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
