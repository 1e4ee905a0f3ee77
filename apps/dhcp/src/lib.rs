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
//!
//! IPv6 host configuration too (Neutron's `ipv6_ra_mode` and
//! `ipv6_address_mode`): a Router Solicitation from a client port of a
//! network whose router advertises some subnet gets a Router Advertisement
//! (M and O flags, MTU, prefixes for SLAAC), and DHCPv6 client messages
//! (UDP 546 -> 547 to ff02::1:2 or the server's link-local) get the
//! RFC 8415 answer: the port's fixed addresses in IA_NA (stateful), DNS
//! servers and domain search list (stateless). Same exits, same buckets.
#![forbid(unsafe_code)]

mod config;
mod counters;
mod dhcpv6;
mod stage;
mod tables;
mod trace;

use std::sync::Arc;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::{App, RcuCell, VertexCtx};

pub use config::{
    Dhcp6Network, Dhcp6Port, Dhcp6Subnet, DhcpClientPort, DhcpConfig, DhcpNetwork, DhcpServerPort,
    DhcpSubnet, ExtraOption, HostRoute, Ipv4Cidr, Ipv6Cidr, Ipv6Mode, MetadataRoute, RateLimit,
    Router6, DEFAULT_LEASE_SECS,
};
pub use stage::DhcpStage;
pub use tables::{
    link_local, DhcpTables, MAX_BOOT_FILE_LEN, MAX_DNS6, MAX_PORT_ADDRS6, MAX_PORT_EXTRA_OPTIONS,
    MAX_RA_PREFIXES, METADATA_IP, PREFIX_PREFERRED_SECS, PREFIX_VALID_SECS, RA_CUR_HOP_LIMIT,
    ROUTER_LIFETIME_SECS,
};

/// The contract of `dhcp`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "dhcp",
    summary: "distributed DHCPv4 and DHCPv6 server and IPv6 router advertisements: answer \
              DISCOVER/REQUEST/INFORM, SOLICIT/REQUEST/INFORMATION-REQUEST and Router \
              Solicitations from the ports' fixed addresses and subnets",
    entries: &[EntrySpec {
        name: "default",
        reads: &[SOURCE_PORT_KEY, NETWORK_KEY],
        exits: &["reply", "pass"],
        from_ports: false,
        doc: "classified packets that may be DHCP(v6) client messages or Router Solicitations",
    }],
    exits: &[
        ExitSpec {
            name: "reply",
            writes: &[DESTINATION_PORT_KEY],
            progress: false,
            doc: "the server's answer (OFFER, ACK, NAK; ADVERTISE, REPLY; a Router \
                  Advertisement) to the requesting port; wire it to output",
        },
        ExitSpec {
            name: "pass",
            writes: &[],
            progress: false,
            doc: "everything that is not a DHCP client message for a server here (nor a Router \
                  Solicitation a router here answers), unchanged",
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
