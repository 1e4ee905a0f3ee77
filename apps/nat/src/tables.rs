//! `nat`'s tables: (VM port key, fixed IP) -> floating IP for egress,
//! floating port key -> floating IP for ingress, each floating IP carrying a
//! copy of its external network (prefix, mask, gateway) so that the stage
//! finds the next hop without a second lookup.
//!
//! Why two maps onto one vector: egress is keyed by where the packet comes
//! from (the VM's port and address: a port may have several fixed IPs, each
//! with its own floating IP), ingress by the port l2 delivered it to (the
//! floating IP's own port on the external network). Both resolve to the same
//! record.

use std::net::Ipv4Addr;

use df_wire::EthernetAddress;
use hashbrown::HashMap;
use serde_json::json;

use crate::config::NatConfig;

/// An external network, as the stage needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExtNet {
    pub(crate) key: u32,
    pub(crate) prefix: u32,
    pub(crate) len: u8,
    pub(crate) mask: u32,
    pub(crate) gateway: Option<u32>,
}

impl ExtNet {
    /// True when `ip` is inside the network's CIDR (reached directly).
    #[inline]
    pub(crate) fn on_link(&self, ip: u32) -> bool {
        ip & self.mask == self.prefix
    }

    /// The next hop towards `dst`: `dst` itself when on-link, else the
    /// gateway.
    #[inline]
    pub(crate) fn next_hop(&self, dst: u32) -> Option<u32> {
        if self.on_link(dst) {
            Some(dst)
        } else {
            self.gateway
        }
    }
}

/// One floating IP, addresses as host-order `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fip {
    pub(crate) floating_ip: Ipv4Addr,
    pub(crate) fixed_ip: Ipv4Addr,
    pub(crate) port_key: u32,
    pub(crate) network_key: u32,
    pub(crate) mac: EthernetAddress,
    pub(crate) router_mac: EthernetAddress,
    pub(crate) floating_port_key: u32,
    pub(crate) floating_mac: EthernetAddress,
    pub(crate) ext: ExtNet,
}

/// Lookup-ready floating IPs.
#[derive(Debug, Clone, Default)]
pub struct NatTables {
    pub(crate) fips: Vec<Fip>,
    /// [`fixed_key`] -> index into `fips`.
    pub(crate) by_fixed: HashMap<u64, u32>,
    /// Floating port key -> index into `fips`.
    pub(crate) by_floating_port: HashMap<u32, u32>,
    pub(crate) networks: Vec<ExtNet>,
    /// Minimum TSC cycles between two ARP requests for one (network, IP).
    pub(crate) arp_interval: u64,
}

/// The egress key: (VM port key, fixed IP).
#[inline]
pub(crate) fn fixed_key(port_key: u32, ip: u32) -> u64 {
    (u64::from(port_key) << 32) | u64::from(ip)
}

/// Parses `a.b.c.d/len` into (prefix, len); host bits must be zero.
pub(crate) fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let bad = || format!("`{s}` is not an IPv4 CIDR (expected e.g. 198.18.0.0/24)");
    let (addr, len) = s.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    if len > 32 {
        return Err(bad());
    }
    let mask = mask(len);
    let a = u32::from(addr);
    if a & !mask != 0 {
        return Err(format!(
            "`{s}` has host bits set (did you mean {}/{len}?)",
            Ipv4Addr::from(a & mask)
        ));
    }
    Ok((addr, len))
}

fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

fn unicast_mac(mac: EthernetAddress) -> bool {
    mac.is_unicast() && mac != EthernetAddress::default()
}

fn unicast_ip(ip: Ipv4Addr) -> bool {
    !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() || ip.is_loopback())
}

impl NatTables {
    /// Builds the tables; `measured_hz` is called for the TSC frequency
    /// only when the config gives none.
    ///
    /// # Errors
    /// An external network with a zero or repeated key, a bad CIDR, or a
    /// gateway outside its CIDR; a floating IP with a zero key, a
    /// non-unicast MAC or address, an external network not listed, a
    /// floating IP, floating port key or (port key, fixed IP) listed twice;
    /// a zero `tsc_hz`. Each names the field.
    pub fn build(cfg: &NatConfig, measured_hz: impl FnOnce() -> u64) -> Result<NatTables, String> {
        let mut t = NatTables::default();
        if cfg.tsc_hz == Some(0) {
            return Err("tsc_hz: 0 is not a frequency (omit it to measure the TSC)".into());
        }
        for (i, n) in cfg.external_networks.iter().enumerate() {
            let at = format!("external_networks[{i}]");
            if n.network_key == 0 {
                return Err(format!("{at}.network_key: must not be 0"));
            }
            if let Some(j) = t.networks.iter().position(|o| o.key == n.network_key) {
                return Err(format!(
                    "{at}.network_key: {} is listed twice (external_networks[{j}] and {at})",
                    n.network_key
                ));
            }
            let (prefix, len) = parse_cidr(&n.cidr).map_err(|e| format!("{at}.cidr: {e}"))?;
            let mut net = ExtNet {
                key: n.network_key,
                prefix: u32::from(prefix),
                len,
                mask: mask(len),
                gateway: None,
            };
            if let Some(g) = n.gateway {
                if !unicast_ip(g) || !net.on_link(u32::from(g)) {
                    return Err(format!(
                        "{at}.gateway: {g} is not a unicast address inside cidr {}",
                        n.cidr
                    ));
                }
                net.gateway = Some(u32::from(g));
            }
            t.networks.push(net);
        }
        for (i, f) in cfg.floating_ips.iter().enumerate() {
            let at = format!("floating_ips[{i}]");
            for (name, key) in [
                ("port_key", f.port_key),
                ("network_key", f.network_key),
                ("floating_port_key", f.floating_port_key),
                ("external_network_key", f.external_network_key),
            ] {
                if key == 0 {
                    return Err(format!("{at}.{name}: must not be 0"));
                }
            }
            for (name, m) in [
                ("mac", f.mac),
                ("router_mac", f.router_mac),
                ("floating_mac", f.floating_mac),
            ] {
                if !unicast_mac(m) {
                    return Err(format!("{at}.{name}: {m} is not a unicast MAC address"));
                }
            }
            for (name, ip) in [("floating_ip", f.floating_ip), ("fixed_ip", f.fixed_ip)] {
                if !unicast_ip(ip) {
                    return Err(format!("{at}.{name}: {ip} is not a unicast IPv4 address"));
                }
            }
            let Some(&ext) = t.networks.iter().find(|n| n.key == f.external_network_key) else {
                return Err(format!(
                    "{at}.external_network_key: {} is not in external_networks",
                    f.external_network_key
                ));
            };
            let idx = t.fips.len() as u32;
            if let Some(j) = t.fips.iter().position(|o| o.floating_ip == f.floating_ip) {
                return Err(format!(
                    "{at}.floating_ip: {} is listed twice (floating_ips[{j}] and {at})",
                    f.floating_ip
                ));
            }
            if let Some(&j) = t.by_floating_port.get(&f.floating_port_key) {
                return Err(format!(
                    "{at}.floating_port_key: {} is listed twice (floating_ips[{j}] and {at})",
                    f.floating_port_key
                ));
            }
            let fk = fixed_key(f.port_key, u32::from(f.fixed_ip));
            if let Some(&j) = t.by_fixed.get(&fk) {
                return Err(format!(
                    "{at}.fixed_ip: port {} with fixed IP {} already has a floating IP (floating_ips[{j}])",
                    f.port_key, f.fixed_ip
                ));
            }
            t.by_fixed.insert(fk, idx);
            t.by_floating_port.insert(f.floating_port_key, idx);
            t.fips.push(Fip {
                floating_ip: f.floating_ip,
                fixed_ip: f.fixed_ip,
                port_key: f.port_key,
                network_key: f.network_key,
                mac: f.mac,
                router_mac: f.router_mac,
                floating_port_key: f.floating_port_key,
                floating_mac: f.floating_mac,
                ext,
            });
        }
        let hz = match cfg.tsc_hz {
            Some(hz) => hz,
            None if cfg.floating_ips.is_empty() => 0,
            None => measured_hz(),
        };
        t.arp_interval = hz / 10;
        Ok(t)
    }

    /// The floating IP of traffic from (`port_key`, `src`).
    #[inline]
    pub(crate) fn by_source(&self, port_key: u32, src: u32) -> Option<&Fip> {
        let i = *self.by_fixed.get(&fixed_key(port_key, src))?;
        self.fips.get(i as usize)
    }

    /// The floating IP whose own port is `port_key`.
    #[inline]
    pub(crate) fn by_floating_port(&self, port_key: u32) -> Option<&Fip> {
        let i = *self.by_floating_port.get(&port_key)?;
        self.fips.get(i as usize)
    }

    /// A JSON summary (without the neighbour cache, which the app adds).
    pub fn describe(&self) -> serde_json::Value {
        let nets: Vec<_> = self
            .networks
            .iter()
            .map(|n| {
                json!({
                    "network_key": n.key,
                    "cidr": format!("{}/{}", Ipv4Addr::from(n.prefix), n.len),
                    "gateway": n.gateway.map(|g| Ipv4Addr::from(g).to_string()),
                })
            })
            .collect();
        let fips: Vec<_> = self
            .fips
            .iter()
            .map(|f| {
                json!({
                    "floating_ip": f.floating_ip.to_string(),
                    "fixed_ip": f.fixed_ip.to_string(),
                    "port_key": f.port_key,
                    "network_key": f.network_key,
                    "mac": f.mac.to_string(),
                    "router_mac": f.router_mac.to_string(),
                    "floating_port_key": f.floating_port_key,
                    "floating_mac": f.floating_mac.to_string(),
                    "external_network_key": f.ext.key,
                })
            })
            .collect();
        json!({
            "floating_ips": fips,
            "external_networks": nets,
            "arp_interval_tsc": self.arp_interval,
        })
    }
}

#[cfg(test)]
mod tests;
