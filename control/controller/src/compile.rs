//! The model compiler: an NB snapshot and this chassis' switch ports in, the
//! apps' table configs out. Pure: no I/O, no clock, no datapath handle.
//!
//! What "local" means here: a switch port of this chassis carries the
//! logical port whose id its `iface_id` names (as OVS's
//! `external_ids:iface-id` did for Dragonflow). The compiler emits only what
//! this chassis needs: the networks that have a local port, every port of
//! those networks for the forwarding database, and the local ports for
//! classification, flooding and output.
//!
//! Problems in the model (a port without a unique key, a switch port naming
//! an lport that does not exist) never stop compilation: the object is left
//! out and a warning names it and the fix; the rest applies.
//!
//! The forwarding apps (`input`, `l2`, `output`) are compiled here; the
//! security apps (`portsec`, `sg`) in [`crate::security`] and the service
//! apps (`dhcp`, `l3-proactive`) in [`crate::services`], all from the local
//! ports resolved here.

use std::collections::{BTreeMap, BTreeSet};

use df_app_dhcp::DhcpConfig;
use df_app_input::{InputConfig, InputPort, InputVlan};
use df_app_l2::{L2Config, L2Network, L2Port};
use df_app_l3::L3Config;
use df_app_output::{OutputConfig, OutputPort};
use df_app_portsec::PortsecConfig;
use df_app_provider::{ProviderConfig, ProviderNetwork, Uplink};
use df_app_sg::SgConfig;
use df_model::{
    ChildPortSegmentation, LogicalPort, LogicalSwitch, NetworkType, SegmentationType, Snapshot,
};
use df_wire::EthernetAddress;

/// A switch port of this chassis and the logical port it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchPortBinding {
    /// Switch port id (index in the daemon's port list).
    pub port: u16,
    /// Switch port name (for messages).
    pub name: String,
    /// The lport id it carries.
    pub iface_id: String,
}

/// A switch port of this chassis that is the uplink to a physical network
/// (what Dragonflow's `bridge_mappings` named: `physnet1:br-ex`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UplinkBinding {
    /// Switch port id.
    pub port: u16,
    /// Switch port name (for messages).
    pub name: String,
    /// The physical network (`provider:physical_network`) it reaches.
    pub physical_network: String,
}

/// This chassis' underlay port, where tunnels start and end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnderlayBinding {
    /// Switch port id.
    pub port: u16,
    /// The chassis' tunnel IP (its address on the underlay).
    pub ip: std::net::Ipv4Addr,
    /// The underlay port's MAC.
    pub mac: [u8; 6],
}

/// What the compiler needs to know about this chassis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Local {
    /// This chassis' id.
    pub chassis: String,
    /// Its switch ports that carry logical ports.
    pub ports: Vec<SwitchPortBinding>,
    /// Its switch ports that are uplinks to physical networks.
    pub uplinks: Vec<UplinkBinding>,
    /// Its underlay port, if it has one (tunnels to other chassis).
    pub underlay: Option<UnderlayBinding>,
}

/// The bit that marks an uplink's port key: the uplink of the provider
/// network with key `n` is port `UPLINK_KEY_BIT | n` in that network (lport
/// keys are allocated from 1 upward and stay far below it).
pub const UPLINK_KEY_BIT: u32 = 0x8000_0000;

/// Table configs for every app the controller feeds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableConfigs {
    /// `input`: switch port -> (port key, network key).
    pub input: InputConfig,
    /// `l2`: the FDB and flood lists of the local networks.
    pub l2: L2Config,
    /// `output`: port key -> switch port.
    pub output: OutputConfig,
    /// `portsec`: the local ports' addresses.
    pub portsec: PortsecConfig,
    /// `sg`: the local ports' security groups and the groups they name.
    pub sg: SgConfig,
    /// `dhcp`: the networks with a local port, their subnets and clients.
    pub dhcp: DhcpConfig,
    /// `l3-proactive`: the routers and the ports of their networks.
    pub l3: L3Config,
    /// `firewall`: FWaaS v2 groups on router interfaces.
    pub firewall: df_app_firewall::FirewallConfig,
    /// `provider`: the uplinks and the flat and VLAN networks they carry.
    pub provider: ProviderConfig,
    /// `tunnel`: this chassis' underlay end, the remote chassis and ports.
    pub tunnel: df_app_tunnel::TunnelConfig,
    /// `nat`: the floating IPs of the local ports.
    pub nat: df_app_nat::NatConfig,
}

/// A local logical port with its keys resolved (what the per-app
/// compilers start from).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalPort<'s> {
    /// The lport.
    pub lport: &'s LogicalPort,
    /// Its unique key.
    pub port_key: u32,
    /// Its lswitch's unique key.
    pub network_key: u32,
}

/// The result of one compilation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compiled {
    /// The configs.
    pub configs: TableConfigs,
    /// Objects left out, each with the reason and the fix.
    pub warnings: Vec<String>,
    /// Local ports by lport id -> switch port (what is bound here).
    pub local_ports: BTreeMap<String, u16>,
}

/// Compiles `snap` for the chassis described by `local`.
pub fn compile(snap: &Snapshot, local: &Local) -> Compiled {
    let mut out = Compiled::default();
    let warn = &mut out.warnings;

    // Local ports: switch port -> lport, with keys resolved.
    let mut local_nets: BTreeSet<u32> = BTreeSet::new();
    let mut local_keys: BTreeSet<u32> = BTreeSet::new();
    let mut locals: Vec<LocalPort<'_>> = Vec::new();
    for sp in &local.ports {
        let Some(lp) = snap.get::<LogicalPort>(&sp.iface_id) else {
            warn.push(format!(
                "switch port `{}` carries lport `{}`, which is not in the NB database (create it, or fix the port's iface_id)",
                sp.name, sp.iface_id
            ));
            continue;
        };
        if let Some(b) = lp.binding.as_ref().and_then(|b| b.chassis.as_deref()) {
            if b != local.chassis {
                warn.push(format!(
                    "lport `{}` is bound to chassis `{b}` but plugged into switch port `{}` of chassis `{}`: treating it as local here (rebind it with `dfctl port bind`)",
                    lp.id, sp.name, local.chassis
                ));
            }
        }
        let Some((pk, nk)) = keys(snap, lp, warn) else {
            continue;
        };
        if !lp.enabled {
            warn.push(format!(
                "lport `{}` is disabled (admin state down): switch port `{}` drops its traffic",
                lp.id, sp.name
            ));
            continue;
        }
        if !local_keys.insert(pk) {
            warn.push(format!(
                "lport `{}` is plugged into two switch ports; `{}` is ignored",
                lp.id, sp.name
            ));
            continue;
        }
        local_nets.insert(nk);
        locals.push(LocalPort {
            lport: lp,
            port_key: pk,
            network_key: nk,
        });
        out.local_ports.insert(lp.id.clone(), sp.port);
        out.configs.input.ports.push(InputPort {
            port: sp.port,
            port_key: pk,
            network_key: nk,
        });
        out.configs.output.ports.push(OutputPort {
            port_key: pk,
            port: sp.port,
            vlan: None,
        });
    }

    // Trunk children (VLAN-aware VMs): a child of a local parent is local
    // too, on the parent's switch port under its VLAN id (Dragonflow's
    // trunk app: the tag is popped on the way in, pushed on the way out).
    let parents: BTreeMap<&str, u16> = out
        .local_ports
        .iter()
        .map(|(id, &sp)| (id.as_str(), sp))
        .collect();
    let mut children: Vec<(u16, u16, &LogicalPort)> = Vec::new();
    for seg in snap.iter::<ChildPortSegmentation>() {
        let Some(&sp) = parents.get(seg.parent.as_str()) else {
            continue;
        };
        if seg.segmentation_type != SegmentationType::Vlan {
            warn.push(format!(
                "trunk subport `{}` of `{}` is {}: only vlan subports are supported; it is left out",
                seg.port, seg.parent, seg.segmentation_type
            ));
            continue;
        }
        let Some(vid) = u16::try_from(seg.segmentation_id)
            .ok()
            .filter(|v| (1..=4094).contains(v))
        else {
            warn.push(format!(
                "trunk subport `{}` of `{}` has VLAN id {}, outside 1..=4094: it is left out",
                seg.port, seg.parent, seg.segmentation_id
            ));
            continue;
        };
        let Some(child) = snap.get::<LogicalPort>(&seg.port) else {
            continue; // the cache parks a segmentation until its ports exist
        };
        children.push((sp, vid, child));
    }
    for (sp, vid, lp) in children {
        let Some((pk, nk)) = keys(snap, lp, warn) else {
            continue;
        };
        if !lp.enabled || !local_keys.insert(pk) {
            continue;
        }
        local_nets.insert(nk);
        locals.push(LocalPort {
            lport: lp,
            port_key: pk,
            network_key: nk,
        });
        out.local_ports.insert(lp.id.clone(), sp);
        out.configs.input.vlans.push(InputVlan {
            port: sp,
            vlan: vid,
            port_key: pk,
            network_key: nk,
        });
        out.configs.output.ports.push(OutputPort {
            port_key: pk,
            port: sp,
            vlan: Some(vid),
        });
    }

    // The FDB: every port of every network with a local port, and of the
    // networks a router takes traffic into from those. Remote ports are
    // listed for unicast lookup (the overlay reaches them); floods go to the
    // local ports and, once, to the other chassis.
    // Floating IPs of local ports bring their external networks here.
    let nat = crate::nat::nat(snap, &local.chassis, &locals, warn);
    let switched: BTreeSet<u32> = local_nets.union(&nat.external_networks).copied().collect();
    let mut nets: BTreeMap<u32, Vec<L2Port>> = crate::overlay::reachable_networks(snap, &switched)
        .into_iter()
        .map(|n| (n, Vec::new()))
        .collect();
    let uplinks = provider(snap, local, &switched, &mut out.configs, warn);
    let mut seen_mac: BTreeMap<(u32, [u8; 6]), String> = BTreeMap::new();
    for lp in snap.iter::<LogicalPort>() {
        let Some(sw) = snap.get::<LogicalSwitch>(&lp.lswitch) else {
            continue;
        };
        let Some(nk) = sw.unique_key else { continue };
        let Some(list) = nets.get_mut(&nk) else {
            continue;
        };
        let Some(pk) = lp.unique_key else {
            warn.push(format!(
                "lport `{}` has no unique_key: it is left out of network `{}` (create it with dfctl, which allocates keys)",
                lp.id, sw.id
            ));
            continue;
        };
        if !local_keys.contains(&pk) && !lp.enabled {
            continue;
        }
        if uplinks.contains_key(&nk)
            && !local_keys.contains(&pk)
            && !served_here(lp, pk, local, &nat)
        {
            // A provider network's port that lives on another chassis (or a
            // floating IP served elsewhere) is reached through the physical
            // network, and only its own chassis answers ARP for it there
            // (Dragonflow's provider app: no per-remote-port flows).
            continue;
        }
        for (mi, mac) in lp.macs.iter().enumerate() {
            if let Some(other) = seen_mac.insert((nk, mac.0), lp.id.clone()) {
                warn.push(format!(
                    "MAC {mac} is used by lports `{other}` and `{}` in network `{}`: `{}` keeps it",
                    lp.id, sw.id, lp.id
                ));
                list.retain(|p| p.mac.0 != mac.0);
            }
            list.push(L2Port {
                port_key: pk,
                mac: EthernetAddress(mac.0),
                // The ARP/ND responder answers for the port's IPs with its
                // first MAC.
                ips: if mi == 0 {
                    answered_ips(lp, mac)
                } else {
                    Vec::new()
                },
                // Floods reach the ports plugged in here; other chassis get
                // theirs through the remote flood, and router and DHCP
                // ports need none (their addresses are answered for).
                flood: local_keys.contains(&pk),
            });
        }
    }
    let overlay = crate::overlay::overlay(snap, local, &local_nets, &local_keys, warn);
    // This chassis' SNAT address answers ARP on its external network.
    for (nk, p) in nat.fdb.iter().cloned() {
        nets.entry(nk).or_default().push(p);
    }
    out.configs.l2.networks = nets
        .into_iter()
        .map(|(network_key, ports)| L2Network {
            network_key,
            uplink: uplinks.get(&network_key).copied(),
            remote_flood: overlay.flood.get(&network_key).copied(),
            ports,
        })
        .collect();
    out.configs.output.remote = overlay.remote_keys.clone();
    out.configs.output.nat = nat.floating_keys.clone();
    out.configs.portsec = crate::security::portsec(&locals, warn);
    out.configs.sg = crate::security::sg(snap, &locals, warn);
    // Uplinks are ports without port security (the physical network is
    // not a VM), remote ports are checked by their own chassis on the way
    // in, and what reaches a floating IP's port is checked as the fixed
    // port's after translation: sg passes their traffic untracked here.
    out.configs.sg.ports.extend(
        uplinks
            .values()
            .chain(&overlay.remote_keys)
            .chain(&nat.floating_keys)
            .map(|&key| df_app_sg::SgPort {
                port_key: key,
                port_security_enabled: false,
                security_groups: Vec::new(),
            }),
    );
    out.configs.tunnel = overlay.config;
    out.configs.dhcp = crate::services::dhcp(snap, &locals, warn);
    out.configs.l3 = crate::services::l3(snap, warn);
    for r in &mut out.configs.l3.routers {
        r.external = nat.routers.contains(&r.router_key);
    }
    out.configs.nat = nat.config;
    out.configs.firewall = crate::firewall::firewall(snap, warn);
    out
}

/// Compiles the uplinks (Dragonflow's provider app): every flat or VLAN
/// network with a local port whose physical network has an uplink here
/// gets the uplink as a port (key [`UPLINK_KEY_BIT`] | network key):
/// `provider` classifies its frames by VLAN id, `output` sends to it (with
/// the tag pushed for VLAN), `input` hands the uplink's traffic to
/// `provider`. Returns network key -> uplink port key for `l2`.
fn provider(
    snap: &Snapshot,
    local: &Local,
    local_nets: &BTreeSet<u32>,
    configs: &mut TableConfigs,
    warn: &mut Vec<String>,
) -> BTreeMap<u32, u32> {
    let mut keys = BTreeMap::new();
    let mut uplinks: Vec<Uplink> = Vec::new();
    for u in &local.uplinks {
        if let Some(first) = uplinks
            .iter()
            .find(|x| x.physical_network == u.physical_network)
        {
            warn.push(format!(
                "switch ports {} and `{}` are both uplinks of physical network `{}`: `{}` is ignored (one uplink per physical network)",
                first.port, u.name, u.physical_network, u.name
            ));
            continue;
        }
        configs.input.uplinks.push(u.port);
        uplinks.push(Uplink {
            port: u.port,
            physical_network: u.physical_network.clone(),
            networks: Vec::new(),
        });
    }
    for sw in snap.iter::<LogicalSwitch>() {
        let Some(nk) = sw.unique_key.filter(|k| local_nets.contains(k)) else {
            continue;
        };
        let vlan = match sw.network_type {
            Some(NetworkType::Flat) => None,
            Some(NetworkType::Vlan) => match sw.segmentation_id {
                Some(v @ 1..=4094) => Some(v as u16),
                other => {
                    warn.push(format!(
                        "lswitch `{}` is a VLAN network with segmentation_id {}: it needs a VLAN id in 1..=4094; its traffic stays on this chassis",
                        sw.id,
                        other.map_or("unset".to_string(), |v| v.to_string())
                    ));
                    continue;
                }
            },
            _ => continue,
        };
        let Some(physnet) = sw.physical_network.as_deref() else {
            warn.push(format!(
                "lswitch `{}` is a {} network without a physical_network: its traffic stays on this chassis (set provider:physical_network)",
                sw.id,
                if vlan.is_some() { "VLAN" } else { "flat" }
            ));
            continue;
        };
        let Some(up) = uplinks.iter_mut().find(|u| u.physical_network == physnet) else {
            warn.push(format!(
                "lswitch `{}` is on physical network `{physnet}`, which has no uplink on chassis `{}`: its traffic stays on this chassis (give a [[port]] of dfswitchd.toml physical_network = \"{physnet}\")",
                sw.id, local.chassis
            ));
            continue;
        };
        if nk & UPLINK_KEY_BIT != 0 {
            warn.push(format!(
                "lswitch `{}` has unique_key {nk}, too large for an uplink port key: it gets no uplink",
                sw.id
            ));
            continue;
        }
        if vlan.is_none() && up.networks.iter().any(|n| n.vlan.is_none()) {
            warn.push(format!(
                "lswitch `{}` is a second flat network on physical network `{physnet}`: it gets no uplink (a physical network carries one untagged network)",
                sw.id
            ));
            continue;
        }
        if vlan.is_some() && up.networks.iter().any(|n| n.vlan == vlan) {
            warn.push(format!(
                "lswitch `{}` reuses VLAN {} on physical network `{physnet}`: it gets no uplink",
                sw.id,
                vlan.unwrap_or_default()
            ));
            continue;
        }
        let key = UPLINK_KEY_BIT | nk;
        up.networks.push(ProviderNetwork {
            network_key: nk,
            vlan,
            port_key: key,
        });
        configs.output.ports.push(OutputPort {
            port_key: key,
            port: up.port,
            vlan,
        });
        keys.insert(nk, key);
    }
    configs.provider = ProviderConfig { uplinks };
    keys
}

/// Whether a non-local port of a provider network belongs in this
/// chassis' FDB: not when it is bound to another chassis, nor when it is a
/// floating IP's port whose VM is elsewhere; router interfaces and DHCP
/// ports (bound nowhere) stay.
fn served_here(lp: &LogicalPort, key: u32, local: &Local, nat: &crate::nat::Nat) -> bool {
    let elsewhere = lp
        .binding
        .as_ref()
        .and_then(|b| b.chassis.as_deref())
        .is_some_and(|c| c != local.chassis);
    let foreign_fip = lp.device_owner.as_deref() == Some(df_model::device_owner::FLOATINGIP)
        && !nat.floating_keys.contains(&key);
    !elsewhere && !foreign_fip
}

/// The addresses the ARP/ND responder answers for with `lp`'s first MAC:
/// its IPs, and for an IPv6 router interface also its link-local address
/// (hosts use it as their default router, learnt from its advertisements).
fn answered_ips(lp: &LogicalPort, mac: &df_model::Mac) -> Vec<std::net::IpAddr> {
    let mut ips = lp.ips.clone();
    if lp.device_owner.as_deref() == Some(df_model::device_owner::ROUTER_INTERFACE)
        && ips.iter().any(std::net::IpAddr::is_ipv6)
    {
        ips.push(df_app_dhcp::link_local(EthernetAddress(mac.0)).into());
    }
    ips
}

/// The (port key, network key) of `lp`, or a warning.
fn keys(snap: &Snapshot, lp: &LogicalPort, warn: &mut Vec<String>) -> Option<(u32, u32)> {
    let Some(pk) = lp.unique_key else {
        warn.push(format!(
            "lport `{}` has no unique_key (objects written without dfctl must carry one)",
            lp.id
        ));
        return None;
    };
    let Some(sw) = snap.get::<LogicalSwitch>(&lp.lswitch) else {
        warn.push(format!(
            "lport `{}` refers to lswitch `{}`, which is not in the NB database",
            lp.id, lp.lswitch
        ));
        return None;
    };
    let Some(nk) = sw.unique_key else {
        warn.push(format!(
            "lswitch `{}` has no unique_key (objects written without dfctl must carry one)",
            sw.id
        ));
        return None;
    };
    Some((pk, nk))
}
