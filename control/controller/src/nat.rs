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

use df_app_nat::{ExternalNetwork, FloatingIp as NatFip, NatConfig};
use df_model::{FloatingIp, LogicalPort, LogicalRouter, LogicalSwitch, Snapshot, Subnet};
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
    /// Router keys with a floating IP here: unrouted traffic goes to `nat`.
    pub(crate) routers: BTreeSet<u32>,
}

/// Compiles the floating IPs of the local ports.
pub(crate) fn nat(snap: &Snapshot, locals: &[LocalPort<'_>], warn: &mut Vec<String>) -> Nat {
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
    out
}
