//! App `l3-proactive`: the distributed virtual router (Dragonflow's
//! l3_base + l3_proactive apps, tables 55 (router MAC), 60 and 65), run on
//! every chassis, for IPv4 and IPv6.
//!
//! Two entries, as the seed's layout uses them:
//!
//! * `ingress-filter` sees unicast packets whose destination port l2
//!   resolved. A destination port that is a router interface (l2 found the
//!   router's MAC) sets `router_key` and leaves by `ingress-match`; anything
//!   else leaves by `forward` unchanged (plain L2 traffic).
//! * `route` routes a claimed packet: ICMP echo to one of the router's
//!   addresses is answered in place (`local-reply`, back to the source
//!   port); TCP/UDP to it gets ICMP port unreachable; an expired TTL / hop
//!   limit gets ICMP time exceeded; otherwise the longest prefix match over
//!   the router's connected subnets and extra routes picks the egress
//!   network, the proactive host table the destination port, and the packet
//!   leaves by `post-route` with new MACs, TTL - 1 and the destination's
//!   network and port keys. No route and no port get ICMP net / host
//!   unreachable. ICMP errors are rate-limited per router.
//!
//! NDP, ARP and router advertisements are not l3's business (l2 and the
//! responders answer them before l3).
#![forbid(unsafe_code)]

mod addr;
mod config;
mod counters;
mod lpm;
mod stage;
mod tables;
mod trace;

use std::sync::Arc;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, ROUTER_KEY, SOURCE_PORT_KEY};
use df_dp::{App, RcuCell, VertexCtx};

pub use config::{
    AddressPair, ExtraRoute, L3Config, L3Network, L3Port, L3Router, RateLimit, RouterPort,
};
pub use stage::L3Stage;
pub use tables::L3Tables;

/// The contract of `l3-proactive`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "l3-proactive",
    summary: "distributed virtual router: proactive IPv4/IPv6 routing, ICMP echo and errors \
              answered locally",
    entries: &[
        EntrySpec {
            name: "ingress-filter",
            reads: &[DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY],
            exits: &["ingress-match", "forward"],
            from_ports: false,
            doc: "unicast packets whose destination port l2 resolved; those to a router \
                  interface are claimed for routing",
        },
        EntrySpec {
            name: "route",
            reads: &[ROUTER_KEY, NETWORK_KEY, SOURCE_PORT_KEY],
            exits: &["post-route", "local-reply", "external"],
            from_ports: false,
            doc: "claimed packets (after the egress firewall): answer or route them",
        },
    ],
    exits: &[
        ExitSpec {
            name: "ingress-match",
            writes: &[ROUTER_KEY],
            progress: false,
            doc: "packets to a router interface, router_key set",
        },
        ExitSpec {
            name: "post-route",
            writes: &[NETWORK_KEY, DESTINATION_PORT_KEY],
            progress: true,
            doc: "routed packets: in the destination network, to the destination port, TTL - 1",
        },
        ExitSpec {
            name: "forward",
            writes: &[],
            progress: false,
            doc: "packets not for a router, unchanged; wire it to the output path",
        },
        ExitSpec {
            name: "local-reply",
            writes: &[DESTINATION_PORT_KEY],
            progress: false,
            doc: "ICMP the router answers itself (echo reply, time exceeded, unreachable), to \
                  the source port; wire it to output",
        },
        ExitSpec {
            name: "external",
            writes: &[],
            progress: false,
            doc: "IPv4 a router with an external network has no route for, unchanged (TTL not \
                  decremented); wire it to nat's egress",
        },
    ],
    drops: counters::DROPS,
    tables: &["router-ports", "routers", "hosts"],
};

/// The `l3-proactive` app.
#[derive(Debug)]
pub struct L3App {
    regs: stage::Regs,
}

impl App for L3App {
    type Config = L3Config;
    type Tables = L3Tables;
    type Stage = L3Stage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("l3-proactive takes no params (its settings come with its config)".into());
        }
        Ok(L3App {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
                net: ctx.regs.require(NETWORK_KEY)?,
                router: ctx.regs.require(ROUTER_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> L3Tables {
        L3Tables::default()
    }

    fn build_tables(&self, config: &L3Config) -> Result<L3Tables, String> {
        L3Tables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<L3Tables>>) -> L3Stage {
        L3Stage::new(self.regs, tables)
    }

    fn describe(&self, tables: &L3Tables) -> serde_json::Value {
        tables.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_is_consistent() {
        CONTRACT.validate().unwrap();
        assert_eq!(
            CONTRACT.entry("ingress-filter"),
            Some(stage::INGRESS_FILTER)
        );
        assert_eq!(CONTRACT.entry("route"), Some(stage::ROUTE));
        assert_eq!(CONTRACT.exit("ingress-match"), Some(stage::INGRESS_MATCH));
        assert_eq!(CONTRACT.exit("post-route"), Some(stage::POST_ROUTE));
        assert_eq!(CONTRACT.exit("forward"), Some(stage::FORWARD));
        assert_eq!(CONTRACT.exit("local-reply"), Some(stage::LOCAL_REPLY));
    }
}
