//! App `l2`: proactive L2 forwarding inside a logical network (Dragonflow's
//! l2 app, table 55) and its ARP and ND responders (tables 25 and 45).
//!
//! The forwarding database comes from the NB model; there is no MAC
//! learning. A unicast destination MAC is looked up by (network key, MAC)
//! and leaves by `out.unicast` with the destination port key set; broadcast
//! and multicast are replicated to every port of the network but the
//! source, each copy leaving by `out.flood` with its destination port key.
//! A provider network's uplink (its physical network) is one of the flood
//! targets and takes unknown unicast, except what came from it (Dragonflow's
//! provider app: no reflection to the fabric). An overlay network's
//! remote-flood key is one more flood target (the tunnel replicates that
//! copy to every other chassis of the network); frames from the overlay
//! carry it as their source, so they are only flooded locally.
//!
//! Before that lookup, an ARP request or IPv6 Neighbour Solicitation from a
//! logical port for an address some port of the network owns (each port's
//! `ips`: fixed IPs, router interfaces and DHCP ports alike) is answered in
//! place with the owner's MAC, as Dragonflow's `l2_responder` does, and the
//! reply leaves by `out.reply` with destination port key := source port
//! key. Requests for unknown addresses, gratuitous ARPs and probes, and a
//! DAD probe for the sender's own address take the normal path.
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

pub use config::{L2Config, L2Network, L2Port};
pub use stage::L2Stage;
pub use tables::L2Tables;

/// The contract of `l2`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "l2",
    summary: "proactive L2 lookup by (network, destination MAC); flood broadcast and multicast; answer ARP and ND for known addresses",
    entries: &[
        EntrySpec {
            name: "default",
            reads: &[NETWORK_KEY, SOURCE_PORT_KEY],
            exits: &["unicast", "flood", "reply", "dhcp"],
            from_ports: false,
            doc: "classified packets of a logical network",
        },
        EntrySpec {
            name: "lookup",
            reads: &[NETWORK_KEY, SOURCE_PORT_KEY],
            exits: &["unicast", "flood", "reply"],
            from_ports: false,
            doc: "as `default` without the DHCP classification (what the dhcp app passes back)",
        },
    ],
    exits: &[
        ExitSpec {
            name: "unicast",
            writes: &[DESTINATION_PORT_KEY],
            progress: false,
            doc: "a known unicast destination, or an unknown one sent to the network's uplink",
        },
        ExitSpec {
            name: "flood",
            writes: &[DESTINATION_PORT_KEY],
            progress: false,
            doc: "one copy per port of the network but the source (broadcast, multicast)",
        },
        // Keep after `unicast` and `flood`: stages index exits by position.
        ExitSpec {
            name: "reply",
            writes: &[DESTINATION_PORT_KEY],
            progress: false,
            doc: "an ARP reply or Neighbour Advertisement, back to the requesting port",
        },
        // Dragonflow's services classification (table 20 -> 30): DHCP
        // client messages and Router Solicitations go to the dhcp app
        // before any flooding.
        ExitSpec {
            name: "dhcp",
            writes: &[],
            progress: false,
            doc: "DHCPv4 client messages (UDP 68 -> 67), IPv6 Router Solicitations (ICMPv6 133, \
                  hop limit 255) and DHCPv6 client messages (UDP 546 -> 547), untagged and \
                  without IPv6 extension headers, for the dhcp app",
        },
    ],
    drops: counters::DROPS,
    tables: &["fdb", "flood", "responder"],
};

/// The `l2` app.
#[derive(Debug)]
pub struct L2App {
    regs: stage::Regs,
}

impl App for L2App {
    type Config = L2Config;
    type Tables = L2Tables;
    type Stage = L2Stage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("l2 takes no params".into());
        }
        Ok(L2App {
            regs: stage::Regs {
                net: ctx.regs.require(NETWORK_KEY)?,
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> L2Tables {
        L2Tables::default()
    }

    fn build_tables(&self, config: &L2Config) -> Result<L2Tables, String> {
        L2Tables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<L2Tables>>) -> L2Stage {
        L2Stage::new(self.regs, tables)
    }

    fn describe(&self, tables: &L2Tables) -> serde_json::Value {
        tables.describe()
    }
}
