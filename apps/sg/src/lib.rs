//! App `sg`: stateful security groups with connection tracking
//! (Dragonflow's sg app, OpenStack Neutron's security-group semantics).
//!
//! Dragonflow sent every packet of a local port through OVS conntrack
//! (`ct(zone=network)`) and a conjunctive match of the port's group rules,
//! committing the connection when a rule allowed it; established and
//! related traffic passed on the conntrack state alone. Here the stage owns
//! a connection table per worker (`ct.rs`) and compiled rules per set of
//! groups (`rules.rs`): an established packet costs one hash lookup; a new
//! connection one scan of the few rules of its protocol. `stage.rs` says
//! what happens to each packet and how removing a rule cuts the
//! connections it allowed.
//!
//! Entries: `egress` (traffic from a VM port, checked against its egress
//! rules; the port is `source_port_key`) and `ingress` (traffic to a VM
//! port, checked against its ingress rules; the port is
//! `destination_port_key`). Exits: `egress-accept`, `ingress-accept`.
//!
//! Decisions where Neutron and Dragonflow leave a choice:
//! * **ARP** passes both entries unchanged (Dragonflow sent ARP around the
//!   security groups through portsec's `services` exit; with portsec's
//!   default layout it arrives here, and passes). The ND, MLD, router
//!   discovery and DHCP exchanges Neutron's firewall admits before any
//!   rule pass too, untracked. Other EtherTypes from or to a port with port
//!   security are dropped as `not-ip` (Neutron admits only ARP and IP).
//! * **No port security**: everything passes, untracked.
//! * **Port security and no groups**: every other IP packet is dropped
//!   (`no-rule`), as in Neutron (a port with no group admits nothing).
//! * **Unknown port key**: dropped (`unknown-port`): control lists every
//!   port whose traffic the layout sends here.
#![forbid(unsafe_code)]

mod config;
mod counters;
mod ct;
mod flow;
mod rules;
mod stage;
mod state;
mod tables;
mod trace;

use std::sync::Arc;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::{App, RcuCell, VertexCtx};

pub use config::{
    ConntrackConfig, Direction, EtherType, Protocol, SgConfig, SgGroup, SgPort, SgRule,
};
pub use stage::SgStage;
pub use tables::{SgTables, MAX_CAPACITY};

/// The contract of `sg`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "sg",
    summary: "stateful security groups: per-worker conntrack, Neutron rules per port and direction",
    entries: &[
        EntrySpec {
            name: "egress",
            reads: &[SOURCE_PORT_KEY, NETWORK_KEY],
            exits: &["egress-accept"],
            from_ports: false,
            doc: "traffic from a local VM port (source_port_key), checked against its egress rules",
        },
        EntrySpec {
            name: "ingress",
            reads: &[DESTINATION_PORT_KEY, NETWORK_KEY],
            exits: &["ingress-accept"],
            from_ports: false,
            doc: "traffic to a local VM port (destination_port_key), checked against its ingress rules",
        },
    ],
    exits: &[
        ExitSpec {
            name: "egress-accept",
            writes: &[],
            progress: false,
            doc: "traffic from the port that its groups allow (or that is not filtered)",
        },
        ExitSpec {
            name: "ingress-accept",
            writes: &[],
            progress: false,
            doc: "traffic to the port that its groups allow (or that is not filtered)",
        },
    ],
    drops: counters::DROPS,
    tables: &["ports", "rulesets", "members", "conntrack"],
};

/// The `sg` app.
#[derive(Debug)]
pub struct SgApp {
    regs: stage::Regs,
}

impl App for SgApp {
    type Config = SgConfig;
    type Tables = SgTables;
    type Stage = SgStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("sg takes no params".into());
        }
        Ok(SgApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
                net: ctx.regs.require(NETWORK_KEY)?,
            },
        })
    }

    fn empty_tables(&self) -> SgTables {
        SgTables::default()
    }

    fn build_tables(&self, config: &SgConfig) -> Result<SgTables, String> {
        SgTables::build(config)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<SgTables>>) -> SgStage {
        SgStage::new(self.regs, tables)
    }

    fn describe(&self, tables: &SgTables) -> serde_json::Value {
        tables.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_is_consistent() {
        CONTRACT.validate().unwrap();
        assert_eq!(CONTRACT.entry("egress"), Some(stage::EGRESS));
        assert_eq!(CONTRACT.exit("egress-accept"), Some(stage::EGRESS_ACCEPT));
        assert_eq!(CONTRACT.exit("ingress-accept"), Some(stage::INGRESS_ACCEPT));
    }
}
