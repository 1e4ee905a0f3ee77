//! The overlay (Dragonflow's tunneling app): which ports of the local
//! networks live on other chassis, how to reach those chassis, and the
//! `tunnel` vertex's config.
//!
//! A network is tunnelled when its `network_type` is `geneve` or `vxlan`
//! (its `segmentation_id` is the VNI) and it has a port plugged in here or
//! is routed to from one that has (a router joins them).
//! Its ports bound to another chassis (`binding.chassis`) are remote: their
//! traffic is encapsulated to that chassis' tunnel IP and underlay MAC
//! (from its `chassis` record). Broadcast and multicast reach the other
//! chassis through the network's remote-flood key, one copy per chassis
//! (head-end replication).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use df_app_tunnel::{
    LocalEndpoint, RemoteChassis, RemotePort, TunnelConfig, TunnelKind, TunnelNetwork,
};
use df_model::{
    Chassis, ChildPortSegmentation, LogicalPort, LogicalRouter, LogicalSwitch, NetworkType,
    Snapshot, TunnelType,
};
use df_wire::EthernetAddress;

use crate::compile::Local;

/// The bit that marks a network's remote-flood key: network `n` floods to
/// the other chassis through port key `FLOOD_KEY_BIT | n` (lport keys are
/// allocated from 1 upward and stay far below it; uplinks use
/// [`crate::UPLINK_KEY_BIT`]).
pub const FLOOD_KEY_BIT: u32 = 0x4000_0000;

/// What the overlay adds to the other apps' configs.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    /// The `tunnel` vertex's config.
    pub(crate) config: TunnelConfig,
    /// Network key -> its remote-flood key, for networks with remote chassis.
    pub(crate) flood: BTreeMap<u32, u32>,
    /// Port keys reached through the overlay: remote ports and flood keys.
    pub(crate) remote_keys: Vec<u32>,
}

/// The networks this chassis sends into: those with a local port, and
/// every network of a router that has an interface on one of them (the
/// distributed router routes here, then the packet travels in the
/// destination network, which may have no port on this chassis).
pub(crate) fn reachable_networks(snap: &Snapshot, local_nets: &BTreeSet<u32>) -> BTreeSet<u32> {
    let key_of = |sw: &str| snap.get::<LogicalSwitch>(sw).and_then(|s| s.unique_key);
    let mut nets = local_nets.clone();
    for r in snap.iter::<LogicalRouter>() {
        let keys: Vec<u32> = r.ports.iter().filter_map(|p| key_of(&p.lswitch)).collect();
        if keys.iter().any(|k| local_nets.contains(k)) {
            nets.extend(keys);
        }
    }
    nets
}

/// Compiles the overlay for the networks this chassis sends into.
pub(crate) fn overlay<'a>(
    snap: &'a Snapshot,
    local: &Local,
    local_nets: &BTreeSet<u32>,
    local_keys: &BTreeSet<u32>,
    warn: &mut Vec<String>,
) -> Overlay {
    let mut out = Overlay::default();
    out.config.local = local.underlay.as_ref().map(|u| LocalEndpoint {
        port: u.port,
        ip: u.ip,
        mac: EthernetAddress(u.mac),
        ttl: 64,
    });
    // Chassis index by id, filled as remote ports need them.
    let mut chassis_index: BTreeMap<&str, Option<u32>> = BTreeMap::new();
    let mut no_underlay_warned = false;
    let nets = reachable_networks(snap, local_nets);
    // A trunk child lives where its parent is bound.
    let parent_of: BTreeMap<&str, &str> = snap
        .iter::<ChildPortSegmentation>()
        .map(|s| (s.port.as_str(), s.parent.as_str()))
        .collect();
    fn bound(p: &LogicalPort) -> Option<&str> {
        p.binding.as_ref().and_then(|b| b.chassis.as_deref())
    }
    let chassis_of = |lp: &'a LogicalPort| -> Option<&'a str> {
        bound(lp).or_else(|| bound(snap.get::<LogicalPort>(parent_of.get(lp.id.as_str())?)?))
    };
    for sw in snap.iter::<LogicalSwitch>() {
        let Some(nk) = sw.unique_key.filter(|k| nets.contains(k)) else {
            continue;
        };
        let kind = match sw.network_type {
            Some(NetworkType::Geneve) => TunnelKind::Geneve,
            Some(NetworkType::Vxlan) => TunnelKind::Vxlan,
            Some(NetworkType::Gre) => {
                warn.push(format!(
                    "lswitch `{}` is a GRE network: GRE is not supported (use geneve or vxlan); its traffic stays on this chassis",
                    sw.id
                ));
                continue;
            }
            _ => continue,
        };
        let Some(vni) = sw.segmentation_id else {
            continue; // the model rejects a tunnel network without one
        };
        let ttype = match kind {
            TunnelKind::Geneve => TunnelType::Geneve,
            TunnelKind::Vxlan => TunnelType::Vxlan,
        };
        let mut net_chassis: BTreeSet<u32> = BTreeSet::new();
        let mut ports = Vec::new();
        for lp in snap.iter::<LogicalPort>() {
            if lp.lswitch != sw.id || !lp.enabled {
                continue;
            }
            let Some(pk) = lp.unique_key else { continue };
            if local_keys.contains(&pk) {
                continue;
            }
            let Some(c) = chassis_of(lp) else {
                continue; // bound nowhere (router and DHCP ports, unplugged VMs)
            };
            if c == local.chassis {
                continue; // bound here but not plugged in: nothing to reach
            }
            let idx = *chassis_index.entry(c).or_insert_with(|| {
                let ch = snap.get::<Chassis>(c);
                let reach = match ch {
                    None => Err(format!("chassis `{c}` is not registered")),
                    Some(ch) => match (ch.ip, ch.tunnel_mac.as_ref()) {
                        (IpAddr::V4(ip), Some(mac)) => Ok((ip, mac.0)),
                        (IpAddr::V6(_), _) => Err(format!("chassis `{c}` has an IPv6 tunnel IP (the underlay is IPv4)")),
                        (_, None) => Err(format!("chassis `{c}` has no tunnel_mac (a Dragonflow-RS chassis registers it with its underlay port)")),
                    },
                };
                match reach {
                    Ok((ip, mac)) => {
                        out.config.chassis.push(RemoteChassis {
                            id: c.to_string(),
                            ip,
                            mac: EthernetAddress(mac),
                        });
                        Some(out.config.chassis.len() as u32 - 1)
                    }
                    Err(why) => {
                        warn.push(format!("{why}: ports bound to it are unreachable from here"));
                        None
                    }
                }
            });
            let Some(idx) = idx else { continue };
            if let Some(ch) = snap.get::<Chassis>(c) {
                if !ch.tunnel_types.contains(&ttype) {
                    warn.push(format!(
                        "lport `{}` is on {} network `{}`, but its chassis `{c}` does not terminate {}: it is unreachable from here",
                        lp.id, ttype, sw.id, ttype
                    ));
                    continue;
                }
            }
            net_chassis.insert(idx);
            ports.push(RemotePort {
                port_key: pk,
                network_key: nk,
                chassis: idx,
            });
        }
        if net_chassis.is_empty() {
            continue;
        }
        if local.underlay.is_none() {
            if !no_underlay_warned {
                warn.push(format!(
                    "network `{}` has ports on other chassis, but this chassis has no underlay port: they are unreachable (give a [[port]] of dfswitchd.toml underlay = true and [chassis] tunnel_ip)",
                    sw.id
                ));
                no_underlay_warned = true;
            }
            continue;
        }
        let flood_key = FLOOD_KEY_BIT | nk;
        out.remote_keys.extend(ports.iter().map(|p| p.port_key));
        out.remote_keys.push(flood_key);
        out.config.ports.extend(ports);
        out.config.networks.push(TunnelNetwork {
            network_key: nk,
            vni,
            kind,
            flood_key,
            chassis: net_chassis.into_iter().collect(),
        });
        out.flood.insert(nk, flood_key);
    }
    out
}
