//! App `nat`: distributed floating IPs (Dragonflow's dnat app, tables 76
//! and 77), on the chassis that hosts the VM port.
//!
//! A VM port (fixed IP F in tenant network T) has a floating IP P on an
//! external (flat or VLAN provider) network E; P has its own port on E, the
//! *floating port* (key Kf, MAC Mf), bound on this chassis.
//!
//! * `in.egress` gets IPv4 from the VM that the router has no east-west
//!   route for. Its source F becomes P, its source MAC Mf, its destination
//!   MAC the next hop's (the destination itself when inside E's CIDR, else
//!   E's gateway), and it leaves by `out.external` into E as if from the
//!   floating port (l2 forwards it out of the uplink).
//! * `in.ingress` gets what l2 delivers to a floating port: IPv4 to P is
//!   translated back to F, addressed from the router interface to the VM,
//!   and leaves by `out.internal` for the VM's port (through l2, so that the
//!   VM's security groups apply, as Dragonflow resubmits to table 55); ARP
//!   messages teach the neighbour cache and are consumed.
//!
//! Unlike Dragonflow, which leaves the destination MAC as a placeholder for
//! the provider app to fill with `br-ex`'s MAC, the switch is its own
//! uplink here, so `nat` resolves next hops itself: a [`NeighbourCache`]
//! shared by every worker's stage of one vertex (ARP replies arrive on
//! whichever worker polls the uplink), filled from ARP, never expired in
//! this version. ICMP errors (destination unreachable, time exceeded,
//! parameter problem) are translated both ways, the packet they quote
//! included (floating IPs and SNAT alike); a packet to a floating IP whose
//! TTL expires is answered with a time exceeded from the floating IP
//! (rate-limited per stage, 3/s); see `stage.rs`.
//!
//! **Distributed SNAT** (Dragonflow's `chassis_snat`), when the config has
//! `snat`: a VM without a floating IP, in one of `snat.snat_networks`,
//! reaches E through this chassis' own address X (`snat.external_ip`, on the
//! pseudo-port `snat.port_key`). Each TCP or UDP connection and each ICMP
//! echo identifier gets an external port (identifier) from
//! `port_min..=port_max` in a lock-free [`SnatMap`] shared by the vertex's
//! stages (see `snat.rs`); egress translates source F:p to X:port, ingress
//! (frames l2 delivers to the pseudo-port) translates replies back after
//! checking the remote end. Idle mappings expire after the per-protocol
//! timeout. A floating IP takes precedence over SNAT.
#![forbid(unsafe_code)]

mod config;
mod counters;
mod neigh;
mod snat;
mod stage;
mod tables;
mod trace;

use std::sync::{Arc, Mutex};

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::{App, RcuCell, VertexCtx};
use serde_json::json;

pub use config::{ExternalNetwork, FloatingIp, NatConfig, SnatConfig};
pub use neigh::{NeighbourCache, NEIGHBOUR_SLOTS};
pub use snat::{Class as SnatClass, Exhausted, Flow as SnatFlow, Mapping as SnatMapping, SnatMap};
pub use stage::NatStage;
pub use tables::NatTables;

/// The contract of `nat`.
pub static CONTRACT: AppContract = AppContract {
    type_name: "nat",
    summary: "distributed floating IPs: SNAT fixed -> floating IP towards the external network, DNAT back, with ARP resolution of next hops",
    entries: &[
        EntrySpec {
            name: "egress",
            reads: &[SOURCE_PORT_KEY, NETWORK_KEY],
            exits: &["external"],
            from_ports: false,
            doc: "routed IPv4 from a VM port with no east-west route: translated to its floating IP, or else (SNAT) to this chassis' external address and a port of its own, and sent into the external network",
        },
        EntrySpec {
            name: "ingress",
            reads: &[DESTINATION_PORT_KEY],
            exits: &["internal"],
            from_ports: false,
            doc: "frames delivered to a floating IP's port or the SNAT pseudo-port: IPv4 to the floating IP translated to the fixed IP, replies to a SNAT port translated to the connection's VM; ARP learned and consumed",
        },
    ],
    exits: &[
        ExitSpec {
            name: "external",
            writes: &[NETWORK_KEY, SOURCE_PORT_KEY],
            progress: true,
            doc: "translated packets (TTL decremented; ICMP errors with their quoted packet), ARP requests and ICMP time exceeded from a floating IP, in the external network, from the floating IP's port or the SNAT pseudo-port",
        },
        ExitSpec {
            name: "internal",
            writes: &[NETWORK_KEY, SOURCE_PORT_KEY, DESTINATION_PORT_KEY],
            progress: true,
            doc: "packets translated back (TTL decremented; ICMP errors with their quoted packet), in the VM's network, to the VM's port, from the floating IP's port or the SNAT pseudo-port",
        },
    ],
    drops: counters::DROPS,
    tables: &["floating-ips", "external-networks", "neighbours", "snat-mappings"],
};

/// The `nat` app: one per vertex; holds the neighbour cache and the SNAT
/// mapping table its stages share.
#[derive(Debug)]
pub struct NatApp {
    regs: stage::Regs,
    neighbours: Arc<NeighbourCache>,
    /// The SNAT tables last built (control only, never the hot path): their
    /// mapping table is carried into the next build when the external
    /// address and port range stay (the stages reach it through the
    /// tables).
    snat: Mutex<Option<tables::SnatTables>>,
}

impl NatApp {
    /// The neighbour cache shared by this vertex's stages.
    pub fn neighbours(&self) -> &Arc<NeighbourCache> {
        &self.neighbours
    }
}

impl App for NatApp {
    type Config = NatConfig;
    type Tables = NatTables;
    type Stage = NatStage;

    fn contract() -> &'static AppContract {
        &CONTRACT
    }

    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String> {
        if !ctx.params.is_null() {
            return Err("nat takes no params".into());
        }
        Ok(NatApp {
            regs: stage::Regs {
                src: ctx.regs.require(SOURCE_PORT_KEY)?,
                net: ctx.regs.require(NETWORK_KEY)?,
                dst: ctx.regs.require(DESTINATION_PORT_KEY)?,
            },
            neighbours: Arc::new(NeighbourCache::default()),
            snat: Mutex::new(None),
        })
    }

    fn empty_tables(&self) -> NatTables {
        NatTables::default()
    }

    fn build_tables(&self, config: &NatConfig) -> Result<NatTables, String> {
        // A poisoned lock only means a panic elsewhere; the value is whole.
        let mut last = self.snat.lock().unwrap_or_else(|p| p.into_inner());
        let t = NatTables::build_reusing(config, df_dp::sys::tsc_hz, last.as_ref())?;
        *last = t.snat().cloned();
        Ok(t)
    }

    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<NatTables>>) -> NatStage {
        NatStage::new(self.regs, tables, self.neighbours.clone())
    }

    fn describe(&self, tables: &NatTables) -> serde_json::Value {
        let mut d = tables.describe();
        let neighbours: Vec<_> = self
            .neighbours
            .entries()
            .into_iter()
            .map(|(net, ip, mac)| {
                json!({"network_key": net, "ip": ip.to_string(), "mac": mac.to_string()})
            })
            .collect();
        d["neighbours"] = json!(neighbours);
        d["snat_mappings"] = tables.describe_mappings(df_dp::sys::tsc());
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use df_dp::{RcuDomain, RegSlot};

    #[test]
    fn contract_is_consistent() {
        CONTRACT.validate().unwrap();
        assert_eq!(CONTRACT.entry("egress").map(|e| e.0), Some(0));
        assert_eq!(CONTRACT.entry("ingress").map(|e| e.0), Some(1));
        assert_eq!(CONTRACT.exit("external").map(|e| e.0), Some(0));
        assert_eq!(CONTRACT.exit("internal").map(|e| e.0), Some(1));
        assert_eq!(
            CONTRACT.registers(),
            vec![SOURCE_PORT_KEY, NETWORK_KEY, DESTINATION_PORT_KEY]
        );
    }

    #[test]
    fn stages_of_one_app_share_the_neighbour_cache() {
        let app = Arc::new(NatApp {
            regs: stage::Regs {
                src: RegSlot::new(0).unwrap(),
                net: RegSlot::new(1).unwrap(),
                dst: RegSlot::new(2).unwrap(),
            },
            neighbours: Arc::new(NeighbourCache::default()),
            snat: Mutex::new(None),
        });
        let rcu = RcuDomain::new();
        let tables = Arc::new(RcuCell::new(&rcu, app.empty_tables()));
        let (a, b) = (app.new_stage(tables.clone()), app.new_stage(tables));
        assert!(Arc::ptr_eq(a.neighbours(), b.neighbours()));
        assert!(Arc::ptr_eq(a.neighbours(), app.neighbours()));
        let ip = "198.18.0.1".parse().unwrap();
        let mac = df_wire::EthernetAddress([2, 0, 0, 0, 0, 9]);
        assert!(a.neighbours().learn(7, ip, mac));
        assert_eq!(b.neighbours().lookup(7, ip), Some(mac));
        let d = app.describe(&app.empty_tables());
        assert_eq!(
            d["neighbours"],
            json!([{"network_key": 7, "ip": "198.18.0.1", "mac": "02:00:00:00:00:09"}])
        );
    }

    #[test]
    fn describe_shows_live_snat_mappings_and_rebuilds_keep_them() {
        let app = NatApp {
            regs: stage::Regs {
                src: RegSlot::new(0).unwrap(),
                net: RegSlot::new(1).unwrap(),
                dst: RegSlot::new(2).unwrap(),
            },
            neighbours: Arc::new(NeighbourCache::default()),
            snat: Mutex::new(None),
        };
        let json = r#"{"tsc_hz": 1000000000,
            "external_networks": [{"network_key": 100, "cidr": "198.18.0.0/24"}],
            "snat": {"external_ip": "198.18.0.2", "mac": "fa:16:3e:00:00:99", "port_key": 99,
                     "external_network_key": 100, "snat_networks": [1]}}"#;
        let cfg: NatConfig = serde_json::from_str(json).unwrap();
        let t = app.build_tables(&cfg).unwrap();
        assert_eq!(app.describe(&t)["snat_mappings"]["count"], 0);
        let m = SnatMapping {
            flow: SnatFlow {
                vm_ip: "10.0.0.7".parse().unwrap(),
                vm_port: 5000,
                remote_ip: "8.8.8.8".parse().unwrap(),
                remote_port: 53,
                port_key: 7,
                network_key: 1,
            },
            vm_mac: df_wire::EthernetAddress([2, 0, 0, 0, 0, 7]),
            router_mac: df_wire::EthernetAddress([2, 0, 0, 0, 0, 1]),
        };
        let s = t.snat().unwrap();
        let now = df_dp::sys::tsc();
        let port = s
            .map
            .acquire(SnatClass::Udp, &m, now, u64::MAX / 2)
            .unwrap();
        // A new config with the same address and range keeps the mapping.
        let t2 = app.build_tables(&cfg).unwrap();
        let d = app.describe(&t2);
        assert_eq!(d["snat_mappings"]["count"], 1);
        assert_eq!(d["snat_mappings"]["mappings"][0]["external_port"], port);
        assert_eq!(d["snat"]["port_key"], 99);
    }
}
