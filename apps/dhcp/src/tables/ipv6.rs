//! The IPv6 half of `dhcp`'s tables: per network the Router Advertisement
//! it answers a Router Solicitation with (resolved down to its flags and
//! prefix options) and its DHCPv6 server (DUID, link-local, DNS, domain
//! search list, lease); per client port the addresses it gets in IA_NA and
//! its rate-limit bucket.
//!
//! Why resolved here: the stage copies a finished RA option set and a
//! DUID into the reply; no per-packet merging of subnet modes. Buckets are
//! shared with the IPv4 side by port key (a port's DHCP budget covers both
//! families); ports only in the IPv6 list get buckets after the IPv4 ones.
//! Every IPv4 port of a network with an IPv6 entry is a client too (with
//! no address), so its Router Solicitations are answered.

use std::net::Ipv6Addr;

use df_dp::table::KeyMap;
use df_wire::{EthernetAddress, FixedVec, PrefixInfo};
use hashbrown::HashMap;

use super::{Build, DhcpTables, Limit};
use crate::config::{Dhcp6Network, Ipv6Cidr, Ipv6Mode};

/// Prefix options an RA holds (df-wire's `NdOptionsRepr` capacity).
pub const MAX_RA_PREFIXES: usize = 4;
/// Addresses a port gets in its IA_NA.
pub const MAX_PORT_ADDRS6: usize = 4;
/// DNS servers a DHCPv6 reply carries.
pub const MAX_DNS6: usize = 8;
/// Router lifetime of the RA when the network has a router interface.
pub const ROUTER_LIFETIME_SECS: u16 = 1800;
/// Valid lifetime of advertised prefixes.
pub const PREFIX_VALID_SECS: u32 = 86_400;
/// Preferred lifetime of advertised prefixes.
pub const PREFIX_PREFERRED_SECS: u32 = 14_400;
/// Hop limit the RA tells hosts to use.
pub const RA_CUR_HOP_LIMIT: u8 = 64;
/// The IPv6 minimum link MTU; a smaller network MTU is not advertised.
const IPV6_MIN_MTU: u16 = 1280;
/// A DUID-LL (RFC 8415 §11.4): type 3, hardware type 1, the MAC.
pub(crate) const DUID_LL_LEN: usize = 10;

/// A Router Advertisement, ready to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ra {
    pub(crate) mac: EthernetAddress,
    pub(crate) src: Ipv6Addr,
    pub(crate) managed: bool,
    pub(crate) other: bool,
    pub(crate) lifetime: u16,
    pub(crate) mtu: Option<u32>,
    pub(crate) prefixes: FixedVec<PrefixInfo, MAX_RA_PREFIXES>,
}

/// The DHCPv6 server of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Server6 {
    pub(crate) mac: EthernetAddress,
    pub(crate) ip: Ipv6Addr,
    pub(crate) duid: [u8; DUID_LL_LEN],
}

/// One network's IPv6 services.
#[derive(Debug, Clone)]
pub(crate) struct Net6 {
    /// None: Router Solicitations pass.
    pub(crate) ra: Option<Ra>,
    /// Some subnet has `address_mode` dhcpv6-stateful or -stateless.
    pub(crate) dhcp: bool,
    /// The answering server (None with `dhcp`: counted `no-server` drops).
    pub(crate) server: Option<Server6>,
    /// Every subnet of the network (CONFIRM's on-link check).
    pub(crate) on_link: Box<[Ipv6Cidr]>,
    /// DNS servers of the DHCPv6 subnets, in order, without repeats.
    pub(crate) dns: FixedVec<Ipv6Addr, MAX_DNS6>,
    /// The domain search list in DNS wire form (option 24).
    pub(crate) domain: Option<Box<[u8]>>,
    /// Valid and preferred lifetime of IA_NA addresses.
    pub(crate) lease: u32,
}

/// One client port's IPv6 answer.
#[derive(Debug, Clone)]
pub(crate) struct Port6 {
    pub(crate) key: u32,
    pub(crate) network_key: u32,
    /// Its addresses in `dhcpv6-stateful` subnets.
    pub(crate) addrs: FixedVec<Ipv6Addr, MAX_PORT_ADDRS6>,
    /// Index of its rate-limit bucket.
    pub(crate) bucket: u32,
    pub(crate) limit: Limit,
}

/// Lookup-ready IPv6 state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tables6 {
    pub(crate) nets: KeyMap<u32>,
    pub(crate) net_list: Vec<Net6>,
    pub(crate) port_index: KeyMap<u32>,
    pub(crate) ports: Vec<Port6>,
}

impl Tables6 {
    /// The network entry of `key`.
    pub(crate) fn net(&self, key: u32) -> Option<&Net6> {
        self.nets
            .get(key)
            .and_then(|i| self.net_list.get(i as usize))
    }

    /// The client port `key` of network `net`.
    pub(crate) fn port(&self, key: u32, net: u32) -> Option<&Port6> {
        self.port_index
            .get(key)
            .and_then(|i| self.ports.get(i as usize))
            .filter(|p| p.network_key == net)
    }
}

/// The modified EUI-64 link-local address of `mac` (RFC 4291 app. A).
pub fn link_local(mac: EthernetAddress) -> Ipv6Addr {
    let m = mac.0;
    Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        m[0] ^ 2,
        m[1],
        m[2],
        0xff,
        0xfe,
        m[3],
        m[4],
        m[5],
    ])
}

/// The DUID-LL of `mac`.
pub(crate) fn duid_ll(mac: EthernetAddress) -> [u8; DUID_LL_LEN] {
    let m = mac.0;
    [0, 3, 0, 1, m[0], m[1], m[2], m[3], m[4], m[5]]
}

/// `domain` as a DNS search list of one name (RFC 1035 §3.1 labels).
pub(crate) fn search_list(at: &str, domain: &str) -> Result<Box<[u8]>, String> {
    let mut out = Vec::with_capacity(domain.len() + 2);
    for label in domain.strip_suffix('.').unwrap_or(domain).split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "{at}: `{domain}` has a label of {} bytes (each dot-separated label takes 1 to 63)",
                label.len()
            ));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(out.into_boxed_slice())
}

impl Build<'_> {
    /// Builds the IPv6 tables after the IPv4 ones (buckets follow theirs)
    /// and lists every bucket's port key.
    pub(super) fn ipv6(&mut self, t: &mut DhcpTables) -> Result<(), String> {
        let cfg = self.cfg;
        t.bucket_keys = t.ports.iter().map(|p| p.key).collect();
        let domain = match cfg.domain_name.as_deref() {
            Some(d) if !cfg.ipv6_networks.is_empty() => Some(search_list("domain_name", d)?),
            _ => None,
        };
        let mut net_at: HashMap<u32, String> = HashMap::new();
        let mut port_at: HashMap<u32, String> = HashMap::new();
        for (i, n) in cfg.ipv6_networks.iter().enumerate() {
            let at = format!("ipv6_networks[{i}]");
            if n.network_key == 0 {
                return Err(format!("{at}.network_key: must be non-zero"));
            }
            if let Some(first) = net_at.insert(n.network_key, at.clone()) {
                return Err(format!(
                    "{at}: network key {} is listed twice (also {first})",
                    n.network_key
                ));
            }
            let net = self.net6(&at, n, domain.as_deref())?;
            t.v6.nets.insert(n.network_key, t.v6.net_list.len() as u32);
            t.v6.net_list.push(net);
            self.ports6(t, &at, n, &mut port_at)?;
        }
        Ok(())
    }

    fn net6(&mut self, at: &str, n: &Dhcp6Network, domain: Option<&[u8]>) -> Result<Net6, String> {
        let mut cidrs: Vec<Ipv6Cidr> = Vec::with_capacity(n.subnets.len());
        let mut prefixes = FixedVec::new();
        let (mut managed, mut other, mut dhcp) = (false, false, false);
        let mut dns: FixedVec<Ipv6Addr, MAX_DNS6> = FixedVec::new();
        for (j, s) in n.subnets.iter().enumerate() {
            let sat = format!("{at}.subnets[{j}]");
            let c = s.cidr;
            if c.addr != c.network() {
                return Err(format!(
                    "{sat}.cidr: {c} has host bits set (did you mean {}/{}?)",
                    c.network(),
                    c.prefix_len
                ));
            }
            if let Some((k, o)) = cidrs
                .iter()
                .enumerate()
                .find(|(_, o)| o.contains(c.network()) || c.contains(o.network()))
            {
                return Err(format!("{sat}.cidr: {c} overlaps {o} (subnets[{k}])"));
            }
            if let (Some(ra), Some(am)) = (s.ra_mode, s.address_mode) {
                if ra != am {
                    return Err(format!(
                        "{sat}.address_mode: `{}` differs from ra_mode `{}` (Neutron requires \
                         them equal when both are set)",
                        am.as_str(),
                        ra.as_str()
                    ));
                }
            }
            let slaac = |m: Option<Ipv6Mode>| {
                matches!(m, Some(Ipv6Mode::Slaac | Ipv6Mode::Dhcpv6Stateless))
            };
            if (slaac(s.ra_mode) || slaac(s.address_mode)) && c.prefix_len != 64 {
                return Err(format!(
                    "{sat}.cidr: {c} must be a /64 for SLAAC (ra_mode or address_mode slaac or \
                     dhcpv6-stateless)"
                ));
            }
            for (k, d) in s.dns_nameservers.iter().enumerate() {
                if d.is_unspecified() || d.is_multicast() {
                    return Err(format!(
                        "{sat}.dns_nameservers[{k}]: {d} is not a unicast address"
                    ));
                }
            }
            if let Some(mode) = s.ra_mode {
                managed |= mode == Ipv6Mode::Dhcpv6Stateful;
                other |= mode != Ipv6Mode::Slaac;
                prefixes
                    .push(PrefixInfo {
                        prefix_len: c.prefix_len,
                        on_link: true,
                        autonomous: mode != Ipv6Mode::Dhcpv6Stateful,
                        valid_lifetime: PREFIX_VALID_SECS,
                        preferred_lifetime: PREFIX_PREFERRED_SECS,
                        prefix: c.network(),
                    })
                    .map_err(|_| {
                        format!(
                            "{sat}.ra_mode: more than {MAX_RA_PREFIXES} subnets with ra_mode \
                             set; an RA holds at most {MAX_RA_PREFIXES} prefixes"
                        )
                    })?;
            }
            if matches!(
                s.address_mode,
                Some(Ipv6Mode::Dhcpv6Stateful | Ipv6Mode::Dhcpv6Stateless)
            ) {
                dhcp = true;
                for d in &s.dns_nameservers {
                    if !dns.iter().any(|x| x == *d) {
                        dns.push(*d).map_err(|_| {
                            format!(
                                "{sat}.dns_nameservers: more than {MAX_DNS6} DNS servers across \
                                 the network's DHCPv6 subnets; a reply holds at most {MAX_DNS6}"
                            )
                        })?;
                    }
                }
            }
            cidrs.push(c);
        }
        if let Some(r) = &n.router {
            if !r.mac.is_unicast() {
                return Err(format!(
                    "{at}.router.mac: {} is not a unicast address",
                    r.mac
                ));
            }
            if !r.link_local.is_unicast_link_local() {
                return Err(format!(
                    "{at}.router.link_local: {} is not a link-local address (fe80::/10)",
                    r.link_local
                ));
            }
        }
        if let Some(m) = n.server_mac {
            if !m.is_unicast() {
                return Err(format!("{at}.server_mac: {m} is not a unicast address"));
            }
        }
        let mtu = self
            .cfg
            .networks
            .iter()
            .find(|v4| v4.network_key == n.network_key)
            .and_then(|v4| v4.mtu)
            .filter(|m| *m >= IPV6_MIN_MTU)
            .map(u32::from);
        let ra = n.router.filter(|_| !prefixes.is_empty()).map(|r| Ra {
            mac: r.mac,
            src: r.link_local,
            managed,
            other,
            lifetime: ROUTER_LIFETIME_SECS,
            mtu,
            prefixes,
        });
        let server = match (n.server_mac, &n.router) {
            (Some(mac), _) => Some(Server6 {
                mac,
                ip: link_local(mac),
                duid: duid_ll(mac),
            }),
            (None, Some(r)) => Some(Server6 {
                mac: r.mac,
                ip: r.link_local,
                duid: duid_ll(r.mac),
            }),
            (None, None) => None,
        }
        .filter(|_| dhcp);
        Ok(Net6 {
            ra,
            dhcp,
            server,
            on_link: cidrs.into_boxed_slice(),
            dns,
            domain: domain.map(Into::into),
            lease: self.cfg.lease_time,
        })
    }

    fn ports6(
        &mut self,
        t: &mut DhcpTables,
        at: &str,
        n: &Dhcp6Network,
        port_at: &mut HashMap<u32, String>,
    ) -> Result<(), String> {
        let mut owner: HashMap<Ipv6Addr, u32> = HashMap::new();
        for (p, c) in n.ports.iter().enumerate() {
            let pat = format!("{at}.ports[{p}]");
            if c.port_key == 0 {
                return Err(format!("{pat}.port_key: must be non-zero"));
            }
            if let Some(first) = port_at.insert(c.port_key, pat.clone()) {
                return Err(format!(
                    "{pat}: port key {} is listed twice (also {first})",
                    c.port_key
                ));
            }
            if let Some(v4) = t.port(c.port_key).and_then(|i| t.ports.get(i)) {
                if v4.network_key != n.network_key {
                    return Err(format!(
                        "{pat}.port_key: port {} is a client of network {} in `networks`, not of \
                         network {}",
                        c.port_key, v4.network_key, n.network_key
                    ));
                }
            }
            let mut addrs = FixedVec::new();
            for (k, &ip) in c.ips.iter().enumerate() {
                let Some(s) = n.subnets.iter().find(|s| s.cidr.contains(ip)) else {
                    return Err(format!(
                        "{pat}.ips[{k}]: {ip} is outside every IPv6 subnet of network {}",
                        n.network_key
                    ));
                };
                if ip == s.cidr.network() {
                    return Err(format!(
                        "{pat}.ips[{k}]: {ip} is the subnet-router anycast address of {}",
                        s.cidr
                    ));
                }
                if let Some(old) = owner.insert(ip, c.port_key) {
                    return Err(format!("{pat}.ips[{k}]: {ip} is also port {old}'s address"));
                }
                if s.address_mode == Some(Ipv6Mode::Dhcpv6Stateful) {
                    addrs.push(ip).map_err(|_| {
                        format!(
                            "{pat}.ips: more than {MAX_PORT_ADDRS6} addresses in \
                             dhcpv6-stateful subnets; an IA_NA here holds at most \
                             {MAX_PORT_ADDRS6}"
                        )
                    })?;
                }
            }
            self.add_port6(t, n.network_key, c.port_key, addrs);
        }
        // The network's IPv4-only clients get RAs too.
        let v4_only: Vec<u32> = t
            .ports
            .iter()
            .filter(|p| p.network_key == n.network_key && !port_at.contains_key(&p.key))
            .map(|p| p.key)
            .collect();
        for key in v4_only {
            self.add_port6(t, n.network_key, key, FixedVec::new());
        }
        Ok(())
    }

    fn add_port6(
        &mut self,
        t: &mut DhcpTables,
        network_key: u32,
        key: u32,
        addrs: FixedVec<Ipv6Addr, MAX_PORT_ADDRS6>,
    ) {
        let (bucket, limit) = match t.port(key).and_then(|i| t.ports.get(i).map(|p| (i, p))) {
            Some((i, p)) => (i as u32, p.limit),
            None => {
                t.bucket_keys.push(key);
                let cfg = self.cfg;
                let limit = self.limit(&cfg.rate_limit);
                ((t.bucket_keys.len() - 1) as u32, limit)
            }
        };
        t.v6.port_index.insert(key, t.v6.ports.len() as u32);
        t.v6.ports.push(Port6 {
            key,
            network_key,
            addrs,
            bucket,
            limit,
        });
    }
}

#[cfg(test)]
mod tests;
