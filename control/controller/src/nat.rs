//! Floating IPs (Dragonflow's dnat app), compiled for the chassis that
//! hosts the fixed port: the `nat` vertex's config, and what the other apps
//! need for it (the external network switched here, its floating ports).
//!
//! A floating IP counts here when it is associated (`lport`), its fixed
//! port is plugged in here, and its floating port, router and external
//! subnet exist. Its external network then is switched on this chassis
//! too (its uplink carries it); the floating port is a port of it whose
//! traffic `output` hands to `nat`.

use std::collections::BTreeSet;
use std::net::IpAddr;

use std::net::Ipv4Addr;

use df_app_nat::{ExternalNetwork, FloatingIp as NatFip, NatConfig, SnatConfig};
use df_model::{Chassis, FloatingIp, LogicalPort, LogicalRouter, LogicalSwitch, Snapshot, Subnet};
use df_wire::EthernetAddress;

use crate::compile::LocalPort;

/// What the floating IPs add to the other apps' configs.
#[derive(Debug, Default)]
pub(crate) struct Nat {
    /// The `nat` vertex's config.
    pub(crate) config: NatConfig,
    /// Floating ports' keys (output hands their traffic to `nat`).
    pub(crate) floating_keys: Vec<u32>,
    /// External networks switched here for the floating IPs.
    pub(crate) external_networks: BTreeSet<u32>,
    /// Router keys with a floating IP or SNAT here: unrouted traffic goes
    /// to `nat`.
    pub(crate) routers: BTreeSet<u32>,
    /// FDB entries on external networks for this chassis' SNAT address.
    pub(crate) fdb: Vec<(u32, df_app_l2::L2Port)>,
}

/// The bit that marks the port key of a chassis' SNAT address on external
/// network `n`: `SNAT_KEY_BIT | n`.
pub const SNAT_KEY_BIT: u32 = 0x2000_0000;

/// The MAC of a chassis' SNAT address (locally administered, made from
/// the address, as Dragonflow's `91:92:<ip>` but unicast).
fn snat_mac(ip: Ipv4Addr) -> EthernetAddress {
    let o = ip.octets();
    EthernetAddress([0x02, 0x92, o[0], o[1], o[2], o[3]])
}

/// Compiles the floating IPs of the local ports and this chassis' SNAT.
pub(crate) fn nat(
    snap: &Snapshot,
    chassis: &str,
    locals: &[LocalPort<'_>],
    warn: &mut Vec<String>,
) -> Nat {
    let mut out = Nat::default();
    for fip in snap.iter::<FloatingIp>() {
        let Some(port_id) = fip.lport.as_deref() else {
            continue; // not associated
        };
        let Some(local) = locals.iter().find(|l| l.lport.id == port_id) else {
            continue; // its VM is on another chassis
        };
        let mut skip = |why: String| {
            warn.push(format!(
                "floating IP {} of lport `{port_id}`: {why}; it is not served",
                fip.floating_ip_address
            ));
        };
        let IpAddr::V4(floating_ip) = fip.floating_ip_address else {
            skip("an IPv6 floating IP (NAT is IPv4 only)".into());
            continue;
        };
        let fixed = fip
            .fixed_ip_address
            .or_else(|| local.lport.ips.iter().copied().find(IpAddr::is_ipv4));
        let Some(IpAddr::V4(fixed_ip)) = fixed else {
            skip("the fixed address is missing or not IPv4".into());
            continue;
        };
        let Some(vm_mac) = local.lport.mac() else {
            skip(format!("lport `{port_id}` has no MAC"));
            continue;
        };
        let Some(fport) = fip
            .floating_lport
            .as_deref()
            .and_then(|p| snap.get::<LogicalPort>(p))
        else {
            skip("its floating port is missing".into());
            continue;
        };
        let (Some(fkey), Some(fmac)) = (fport.unique_key, fport.mac()) else {
            skip(format!(
                "floating port `{}` has no unique_key or MAC",
                fport.id
            ));
            continue;
        };
        let Some(ext) = snap.get::<LogicalSwitch>(&fport.lswitch) else {
            continue;
        };
        let Some(ext_key) = ext.unique_key else {
            continue;
        };
        let Some(router) = fip
            .lrouter
            .as_deref()
            .and_then(|r| snap.get::<LogicalRouter>(r))
        else {
            skip("it names no router".into());
            continue;
        };
        let Some(rport) = router
            .ports
            .iter()
            .find(|p| p.lswitch == local.lport.lswitch)
        else {
            skip(format!(
                "router `{}` has no interface on the fixed port's network `{}`",
                router.id, local.lport.lswitch
            ));
            continue;
        };
        let Some(subnet) = snap
            .iter::<Subnet>()
            .find(|s| s.lswitch == ext.id && s.cidr.contains(IpAddr::V4(floating_ip)))
        else {
            skip(format!(
                "no subnet of external network `{}` holds it",
                ext.id
            ));
            continue;
        };
        let gateway = match subnet.gateway_ip {
            Some(IpAddr::V4(g)) => Some(g),
            _ => None,
        };
        if !out.external_networks.contains(&ext_key) {
            out.config.external_networks.push(ExternalNetwork {
                network_key: ext_key,
                cidr: subnet.cidr.to_string(),
                gateway,
            });
            out.external_networks.insert(ext_key);
        }
        out.config.floating_ips.push(NatFip {
            floating_ip,
            fixed_ip,
            port_key: local.port_key,
            network_key: local.network_key,
            mac: EthernetAddress(vm_mac.0),
            router_mac: EthernetAddress(rport.mac.0),
            floating_port_key: fkey,
            floating_mac: EthernetAddress(fmac.0),
            external_network_key: ext_key,
        });
        out.floating_keys.push(fkey);
        if let Some(k) = router.unique_key {
            out.routers.insert(k);
        }
    }
    snat(snap, chassis, locals, &mut out, warn);
    out
}

/// Distributed SNAT (Dragonflow's chassis_snat): the VMs here behind a
/// router whose external gateway has SNAT on leave as this chassis'
/// `external_host_ip`, a pseudo-port of the external network.
fn snat(
    snap: &Snapshot,
    chassis: &str,
    locals: &[LocalPort<'_>],
    out: &mut Nat,
    warn: &mut Vec<String>,
) {
    let local_nets: BTreeSet<&str> = locals.iter().map(|l| l.lport.lswitch.as_str()).collect();
    let routers: Vec<&LogicalRouter> = snap
        .iter::<LogicalRouter>()
        .filter(|r| {
            r.external_gateway.as_ref().is_some_and(|g| g.enable_snat)
                && r.ports
                    .iter()
                    .any(|p| local_nets.contains(p.lswitch.as_str()))
        })
        .collect();
    let Some(first) = routers.first() else {
        return;
    };
    let Some(IpAddr::V4(ip)) = snap
        .get::<Chassis>(chassis)
        .and_then(|c| c.external_host_ip)
    else {
        warn.push(format!(
            "router `{}` has SNAT on, but chassis `{chassis}` has no external_host_ip: VMs here without a floating IP cannot reach its external network (set [chassis] external_ip in dfswitchd.toml)",
            first.id
        ));
        return;
    };
    let Some(gw) = first.external_gateway.as_ref() else {
        return;
    };
    let Some(ext) = snap.get::<LogicalSwitch>(&gw.network) else {
        return;
    };
    let Some(ext_key) = ext.unique_key else {
        return;
    };
    let Some(subnet) = snap
        .iter::<Subnet>()
        .find(|s| s.lswitch == ext.id && s.cidr.contains(IpAddr::V4(ip)))
    else {
        warn.push(format!(
            "chassis `{chassis}` external_host_ip {ip} is in no subnet of external network `{}`: no SNAT here",
            ext.id
        ));
        return;
    };
    let mut snat_networks = BTreeSet::new();
    for r in &routers {
        if r.external_gateway.as_ref().map(|g| g.network.as_str()) != Some(ext.id.as_str()) {
            warn.push(format!(
                "router `{}` has SNAT to another external network than `{}`: a chassis SNATs to one external network; its VMs here get no SNAT",
                r.id, ext.id
            ));
            continue;
        }
        for p in &r.ports {
            if let Some(k) = snap
                .get::<LogicalSwitch>(&p.lswitch)
                .and_then(|s| s.unique_key)
            {
                snat_networks.insert(k);
            }
        }
        if let Some(k) = r.unique_key {
            out.routers.insert(k);
        }
    }
    if !out.external_networks.contains(&ext_key) {
        out.config.external_networks.push(ExternalNetwork {
            network_key: ext_key,
            cidr: subnet.cidr.to_string(),
            gateway: match subnet.gateway_ip {
                Some(IpAddr::V4(g)) => Some(g),
                _ => None,
            },
        });
        out.external_networks.insert(ext_key);
    }
    let key = SNAT_KEY_BIT | ext_key;
    let mac = snat_mac(ip);
    out.config.snat = Some(SnatConfig::new(
        ip,
        mac,
        key,
        ext_key,
        snat_networks.into_iter().collect(),
    ));
    out.floating_keys.push(key);
    out.fdb.push((
        ext_key,
        df_app_l2::L2Port {
            port_key: key,
            mac,
            ips: vec![IpAddr::V4(ip)],
            flood: false,
        },
    ));
}
