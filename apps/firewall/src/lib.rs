//! App `firewall`: FWaaS v2 firewall groups on router ports (Dragonflow's
//! fwaas spec, which never landed; Neutron FWaaS v2 semantics).
//!
//! A firewall group binds an ingress and an egress policy (ordered rule
//! lists, first match wins, an implicit deny at the end) to router
//! interface ports. In the seed's graph the firewall sits around the
//! router: `l3.out.ingress-match -> firewall.in.egress` (a packet leaving
//! its network through the router port of `(router_key, network_key)`: the
//! egress policy of that port's group), `firewall.out.egress-accept ->
//! l3.in.route`, `l3.out.post-route -> firewall.in.ingress` (the routed
//! packet entering the destination network: the ingress policy of the
//! router port of `(router_key, destination network)`), and
//! `firewall.out.ingress-accept -> l2.in.default`. "Egress" and "ingress"
//! are as neutron-fwaas's iptables driver has them on router interfaces
//! (`-i qr-` is egress, `-o qr-` is ingress): the direction relative to
//! the network behind the port.
//!
//! Decisions where FWaaS leaves a choice (all in `stage.rs`):
//! * a port without a group, a port the config does not list, and a group
//!   without a policy for a direction: not filtered;
//! * non-IP frames pass unchanged (ARP never crosses a router, and `l3`
//!   drops what it does not route), so there is no `not-ip` drop;
//! * stateful as FWaaS is, but simply: a refused packet passes when it
//!   answers a flow accepted in the other direction at the same port
//!   (a per-worker LRU-ish cache, `ct.rs`, idle timeout 300 s);
//! * reject replies (TCP RST, ICMP administratively prohibited) come from
//!   the original destination, rate-limited per router port; a reply to a
//!   packet refused at `in.ingress` is handed back to the router
//!   (`out.reject-route`) because only the router knows the way back.
#![forbid(unsafe_code)]

mod config;
mod counters;
mod ct;
mod flow;
mod limit;
mod reject;
mod rules;
mod stage;
mod tables;
mod trace;

use std::sync::Arc;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, ROUTER_KEY, SOURCE_PORT_KEY};
use df_dp::{App, RcuCell, VertexCtx};

pub use config::{
    ConntrackConfig, FirewallConfig, FirewallGroup, FirewallPort, FirewallRouter, FirewallRule,
    ProtocolSpec, RateLimit, RuleAction,
};
pub use stage::FirewallStage;
pub use tables::{FirewallTables, MAX_CAPACITY};

/// The contract of `firewall`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "firewall",
    summary: "FWaaS v2 firewall groups on router ports: ordered allow/deny/reject rules per \
              direction, replies of accepted flows pass, rejects answered with TCP RST / ICMP",
    entries: &[
        EntrySpec {
            name: "egress",
            reads: &[SOURCE_PORT_KEY, ROUTER_KEY, NETWORK_KEY],
            exits: &["egress-accept", "reject-reply"],
            from_ports: false,
            doc: "packets entering the router from network_key (before routing): the egress \
                  policy of the group on the router port of (router_key, network_key)",
        },
        EntrySpec {
            name: "ingress",
            reads: &[DESTINATION_PORT_KEY, NETWORK_KEY, ROUTER_KEY],
            exits: &["ingress-accept", "reject-route"],
            from_ports: false,
            doc: "routed packets entering network_key (after l3's post-route): the ingress \
                  policy of the group on the router port of (router_key, network_key)",
        },
    ],
    exits: &[
        ExitSpec {
            name: "egress-accept",
            writes: &[],
            progress: false,
            doc: "packets the egress policy accepts (or not filtered), unchanged; wire it to \
                  l3.in.route",
        },
        ExitSpec {
            name: "ingress-accept",
            writes: &[],
            progress: false,
            doc: "packets the ingress policy accepts (or not filtered), unchanged; wire it to \
                  l2.in.default",
        },
        ExitSpec {
            name: "reject-reply",
            writes: &[DESTINATION_PORT_KEY],
            progress: false,
            doc: "TCP RST / ICMP prohibited for a packet rejected at egress, to its source \
                  port (destination_port_key := source_port_key); wire it to output",
        },
        ExitSpec {
            name: "reject-route",
            writes: &[SOURCE_PORT_KEY],
            progress: false,
            doc: "TCP RST / ICMP prohibited for a packet rejected at ingress, as if sent by \
                  its destination (source_port_key := destination_port_key, network and \
                  router unchanged); wire it to l3.in.route, which routes it back",
        },
    ],
    drops: counters::DROPS,
    tables: &["router-ports", "groups", "conntrack"],
};

/// The `firewall` app.
#[derive(Debug)]
pub struct FirewallApp {
    regs: stage::Regs,
}

impl App for FirewallApp {
    type Config = FirewallConfig;
    type Tables = FirewallTables;
    type Stage = FirewallStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("firewall takes no params (its settings come with its config)".into());
        }
        Ok(FirewallApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
                net: ctx.regs.require(NETWORK_KEY)?,
                router: ctx.regs.require(ROUTER_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> FirewallTables {
        FirewallTables::default()
    }

    fn build_tables(&self, config: &FirewallConfig) -> Result<FirewallTables, String> {
        FirewallTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<FirewallTables>>) -> FirewallStage {
        FirewallStage::new(self.regs, tables)
    }

    fn describe(&self, tables: &FirewallTables) -> serde_json::Value {
        tables.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_is_consistent() {
        CONTRACT.validate().unwrap();
        assert_eq!(CONTRACT.entry("egress"), Some(stage::EGRESS_IN));
        assert_eq!(CONTRACT.entry("ingress"), Some(stage::INGRESS_IN));
        assert_eq!(CONTRACT.exit("egress-accept"), Some(stage::EGRESS_ACCEPT));
        assert_eq!(CONTRACT.exit("ingress-accept"), Some(stage::INGRESS_ACCEPT));
        assert_eq!(CONTRACT.exit("reject-reply"), Some(stage::REJECT_REPLY));
        assert_eq!(CONTRACT.exit("reject-route"), Some(stage::REJECT_ROUTE));
        for (name, id) in [
            ("denied", counters::DENIED),
            ("rejected", counters::REJECTED),
            ("reject-rate-limited", counters::REJECT_RATE_LIMITED),
            ("malformed", counters::MALFORMED),
        ] {
            assert_eq!(CONTRACT.drop_reason(name), Some(id));
        }
    }
}
