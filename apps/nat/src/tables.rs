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
//!
//! SNAT (optional) adds this chassis' own address on an external network,
//! the set of tenant networks allowed to use it, the idle timeouts in TSC
//! cycles, and the shared [`SnatMap`]. The map is handed from one build to
//! the next by the app (see [`NatTables::build_reusing`]) so that a config
//! change that keeps the address and port range keeps the connections.

use std::net::Ipv4Addr;
use std::sync::Arc;

use df_dp::ratelimit::Rate;
use df_wire::EthernetAddress;
use hashbrown::{HashMap, HashSet};
use serde_json::json;

use crate::config::NatConfig;
use crate::snat::{Class, SnatMap};

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

/// An address of this chassis on an external network, with its port there:
/// a floating IP's port, or the SNAT address's pseudo-port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Own {
    pub(crate) ip: Ipv4Addr,
    pub(crate) mac: EthernetAddress,
    pub(crate) port_key: u32,
    pub(crate) ext: ExtNet,
}

/// SNAT through this chassis' external address.
#[derive(Debug, Clone)]
pub(crate) struct SnatTables {
    /// The external address, its MAC, pseudo-port and network.
    pub(crate) own: Own,
    /// Tenant network keys allowed to SNAT.
    pub(crate) networks: HashSet<u32>,
    /// Idle timeouts in TSC cycles, indexed by [`Class`].
    pub(crate) timeouts: [u64; 3],
    /// The shared mapping table.
    pub(crate) map: Arc<SnatMap>,
}

impl SnatTables {
    /// The idle timeout of `class`, in TSC cycles.
    #[inline]
    pub(crate) fn timeout(&self, class: Class) -> u64 {
        self.timeouts.get(class as usize).copied().unwrap_or(0)
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

impl Fip {
    /// The floating IP as an address of ours on its external network.
    #[inline]
    pub(crate) fn own(&self) -> Own {
        Own {
            ip: self.floating_ip,
            mac: self.floating_mac,
            port_key: self.floating_port_key,
            ext: self.ext,
        }
    }
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
    /// The per-stage rate of ICMP time exceeded sent from a floating IP
    /// ([`TIME_EXCEEDED_PER_SEC`], burst [`TIME_EXCEEDED_BURST`]).
    pub(crate) time_exceeded: Rate,
    /// SNAT, when configured.
    pub(crate) snat: Option<SnatTables>,
}

/// ICMP time exceeded a stage sends per second from floating IPs
/// (Dragonflow's `dnat_ttl_invalid_max_rate`).
pub(crate) const TIME_EXCEEDED_PER_SEC: u32 = 3;
/// Their burst.
pub(crate) const TIME_EXCEEDED_BURST: u32 = 3;

/// Mappings `describe` lists at most.
pub(crate) const DESCRIBE_MAPPINGS: usize = 100;

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
        Self::build_reusing(cfg, measured_hz, None)
    }

    /// As [`NatTables::build`], taking over the mapping table of `prev` (the
    /// SNAT tables last built) when the external address and port range are
    /// unchanged, so that live connections survive the new config.
    ///
    /// # Errors
    /// Those of [`NatTables::build`], and for `snat`: a zero key, a
    /// non-unicast MAC or address, an external network not listed, an
    /// address or port key that is also a floating IP's, `port_min` 0 or
    /// above `port_max`, a zero timeout, a zero or repeated
    /// `snat_networks` entry.
    pub(crate) fn build_reusing(
        cfg: &NatConfig,
        measured_hz: impl FnOnce() -> u64,
        prev: Option<&SnatTables>,
    ) -> Result<NatTables, String> {
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
            None if cfg.floating_ips.is_empty() && cfg.snat.is_none() => 0,
            None => measured_hz(),
        };
        t.arp_interval = hz / 10;
        t.time_exceeded = Rate::per_sec(TIME_EXCEEDED_PER_SEC, TIME_EXCEEDED_BURST, hz);
        if let Some(s) = &cfg.snat {
            t.snat = Some(t.build_snat(s, hz, prev)?);
        }
        Ok(t)
    }

    fn build_snat(
        &self,
        s: &crate::config::SnatConfig,
        hz: u64,
        prev: Option<&SnatTables>,
    ) -> Result<SnatTables, String> {
        for (name, key) in [
            ("port_key", s.port_key),
            ("external_network_key", s.external_network_key),
        ] {
            if key == 0 {
                return Err(format!("snat.{name}: must not be 0"));
            }
        }
        if !unicast_mac(s.mac) {
            return Err(format!("snat.mac: {} is not a unicast MAC address", s.mac));
        }
        if !unicast_ip(s.external_ip) {
            return Err(format!(
                "snat.external_ip: {} is not a unicast IPv4 address",
                s.external_ip
            ));
        }
        let Some(&ext) = self
            .networks
            .iter()
            .find(|n| n.key == s.external_network_key)
        else {
            return Err(format!(
                "snat.external_network_key: {} is not in external_networks",
                s.external_network_key
            ));
        };
        if let Some(j) = self
            .fips
            .iter()
            .position(|f| f.floating_ip == s.external_ip)
        {
            return Err(format!(
                "snat.external_ip: {} is also floating_ips[{j}].floating_ip",
                s.external_ip
            ));
        }
        if let Some(&j) = self.by_floating_port.get(&s.port_key) {
            return Err(format!(
                "snat.port_key: {} is also floating_ips[{j}].floating_port_key",
                s.port_key
            ));
        }
        if s.port_min == 0 {
            return Err("snat.port_min: must not be 0".into());
        }
        if s.port_min > s.port_max {
            return Err(format!(
                "snat.port_min: {} is above port_max {}",
                s.port_min, s.port_max
            ));
        }
        let mut timeouts = [0u64; 3];
        for (class, name, secs) in [
            (Class::Tcp, "tcp_timeout_secs", s.tcp_timeout_secs),
            (Class::Udp, "udp_timeout_secs", s.udp_timeout_secs),
            (Class::Icmp, "icmp_timeout_secs", s.icmp_timeout_secs),
        ] {
            if secs == 0 {
                return Err(format!("snat.{name}: must not be 0"));
            }
            if let Some(t) = timeouts.get_mut(class as usize) {
                *t = u64::from(secs).saturating_mul(hz);
            }
        }
        let mut networks = HashSet::new();
        for (i, &n) in s.snat_networks.iter().enumerate() {
            if n == 0 {
                return Err(format!("snat.snat_networks[{i}]: must not be 0"));
            }
            if !networks.insert(n) {
                return Err(format!("snat.snat_networks[{i}]: {n} is listed twice"));
            }
        }
        let map = match prev {
            Some(p) if p.own.ip == s.external_ip && p.map.range() == (s.port_min, s.port_max) => {
                p.map.clone()
            }
            _ => Arc::new(SnatMap::new(s.port_min, s.port_max)),
        };
        Ok(SnatTables {
            own: Own {
                ip: s.external_ip,
                mac: s.mac,
                port_key: s.port_key,
                ext,
            },
            networks,
            timeouts,
            map,
        })
    }

    /// The SNAT tables, when configured.
    pub(crate) fn snat(&self) -> Option<&SnatTables> {
        self.snat.as_ref()
    }

    /// The live SNAT mappings at TSC `now`: their count and the first
    /// [`DESCRIBE_MAPPINGS`]; `Null` without SNAT.
    pub(crate) fn describe_mappings(&self, now: u64) -> serde_json::Value {
        let Some(s) = &self.snat else {
            return serde_json::Value::Null;
        };
        let (count, list) = s.map.entries(now, s.timeouts, DESCRIBE_MAPPINGS);
        let list: Vec<_> = list
            .into_iter()
            .map(|(class, port, m, idle)| {
                json!({
                    "protocol": class.name(),
                    "external_port": port,
                    "vm_ip": m.flow.vm_ip.to_string(),
                    "vm_port": m.flow.vm_port,
                    "remote_ip": m.flow.remote_ip.to_string(),
                    "remote_port": m.flow.remote_port,
                    "port_key": m.flow.port_key,
                    "network_key": m.flow.network_key,
                    "vm_mac": m.vm_mac.to_string(),
                    "router_mac": m.router_mac.to_string(),
                    "idle_tsc": idle,
                })
            })
            .collect();
        json!({"count": count, "mappings": list})
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
        let snat = self.snat.as_ref().map(|s| {
            let mut nets: Vec<u32> = s.networks.iter().copied().collect();
            nets.sort_unstable();
            let (lo, hi) = s.map.range();
            json!({
                "external_ip": s.own.ip.to_string(),
                "mac": s.own.mac.to_string(),
                "port_key": s.own.port_key,
                "external_network_key": s.own.ext.key,
                "snat_networks": nets,
                "port_min": lo,
                "port_max": hi,
                "timeouts_tsc": {"tcp": s.timeouts[0], "udp": s.timeouts[1], "icmp": s.timeouts[2]},
            })
        });
        json!({
            "floating_ips": fips,
            "external_networks": nets,
            "arp_interval_tsc": self.arp_interval,
            "snat": snat,
        })
    }
}

#[cfg(test)]
mod tests;
