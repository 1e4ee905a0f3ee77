//! `l3-proactive`'s tables: which ports are router interfaces (for
//! `ingress-filter`), every router with its interfaces, its own addresses
//! and one longest-prefix-match table per family over connected subnets and
//! extra routes, and the proactive host table (network, IP) -> (MAC, port
//! key) of Dragonflow's table 65.
//!
//! Why resolved in advance: an extra route's next hop is looked up in the
//! host table here, once, so forwarding by an extra route costs the LPM and
//! nothing else; a connected route costs the LPM and one hash lookup. Each
//! route carries its egress network and MAC, so the stage touches one route
//! entry and one host entry per packet. Router interface addresses are hosts
//! of their networks too, so one router can route to another (a next hop
//! that is another router's interface). Every build gets a new
//! [`L3Tables::generation`] so the stage's per-router rate-limit state
//! notices that router indices changed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::AtomicU64;

use df_dp::table::KeyMap;
use df_wire::EthernetAddress;
use hashbrown::HashMap;

use crate::addr::Prefix;
use crate::config::L3Config;
use crate::lpm::{ByLen, Lpm};

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Index of the time-exceeded limit in [`L3Tables::limits`].
pub(crate) const TIME_EXCEEDED: usize = 0;
/// Index of the destination-unreachable limit in [`L3Tables::limits`].
pub(crate) const UNREACHABLE: usize = 1;

/// A rate limit in TSC cycles.
pub(crate) type Limit = df_dp::ratelimit::Rate;

/// Where a packet goes in a network: the port's MAC and key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Host {
    pub(crate) mac: EthernetAddress,
    pub(crate) port_key: u32,
}

/// One router interface address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Iface {
    pub(crate) port_key: u32,
    pub(crate) network_key: u32,
    pub(crate) mac: EthernetAddress,
    pub(crate) ip: IpAddr,
    pub(crate) subnet: Prefix,
}

/// How a route reaches the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hop {
    /// A connected subnet: the destination itself is looked up.
    Connected,
    /// An extra route: the next hop, resolved at build time (`None`: no
    /// port has the next hop's address yet).
    Via { nexthop: IpAddr, host: Option<Host> },
}

/// One entry of a router's LPM tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) prefix: Prefix,
    /// The egress interface's network.
    pub(crate) network_key: u32,
    /// The egress interface's MAC (the new Ethernet source).
    pub(crate) mac: EthernetAddress,
    pub(crate) hop: Hop,
}

/// One router.
#[derive(Debug, Clone)]
pub(crate) struct Router {
    pub(crate) key: u32,
    pub(crate) ifaces: Box<[Iface]>,
    pub(crate) routes: Box<[Route]>,
    /// The router's own IPv4 addresses, sorted.
    pub(crate) local_v4: Box<[u32]>,
    /// The router's own IPv6 addresses, sorted.
    pub(crate) local_v6: Box<[u128]>,
    pub(crate) lpm_v4: Lpm<u32>,
    /// The same IPv4 routes by one hash probe per prefix length, when they
    /// have few lengths.
    pub(crate) by_len_v4: Option<ByLen>,
    pub(crate) lpm_v6: Lpm<u128>,
    /// Unrouted IPv4 leaves by `out.external`.
    pub(crate) external: bool,
}

impl Router {
    /// True if `a` is one of the router's IPv4 addresses.
    #[inline]
    pub(crate) fn is_local_v4(&self, a: u32) -> bool {
        self.local_v4.binary_search(&a).is_ok()
    }

    /// True if `a` is one of the router's IPv6 addresses.
    #[inline]
    pub(crate) fn is_local_v6(&self, a: u128) -> bool {
        self.local_v6.binary_search(&a).is_ok()
    }

    /// The longest-prefix route to `a`.
    #[inline]
    pub(crate) fn route_v4(&self, a: u32) -> Option<&Route> {
        match &self.by_len_v4 {
            Some(b) => b.lookup(a),
            None => self.lpm_v4.lookup(a),
        }
        .and_then(|i| self.routes.get(i as usize))
    }

    /// The longest-prefix route to `a`.
    #[inline]
    pub(crate) fn route_v6(&self, a: u128) -> Option<&Route> {
        self.lpm_v6
            .lookup(a)
            .and_then(|i| self.routes.get(i as usize))
    }

    /// The address ICMP errors about a packet from `src` that entered by
    /// network `net` come from: the router's address in that network (the
    /// one whose subnet holds `src`, else the first), else any address of
    /// the family (a packet may enter by a network where the router has
    /// only addresses of the other family).
    pub(crate) fn source_for(&self, net: u32, src: IpAddr) -> Option<IpAddr> {
        let same = |i: &&Iface| i.ip.is_ipv4() == src.is_ipv4();
        let mut in_net = self
            .ifaces
            .iter()
            .filter(same)
            .filter(|i| i.network_key == net);
        let first = in_net.clone().next();
        in_net
            .find(|i| i.subnet.contains(src))
            .or(first)
            .or_else(|| self.ifaces.iter().find(same))
            .map(|i| i.ip)
    }
}

/// Lookup-ready routing state.
#[derive(Debug, Clone, Default)]
pub struct L3Tables {
    /// Unique per build (0 for the empty tables).
    pub(crate) generation: u64,
    /// Router interface port key -> router key.
    pub(crate) router_ports: KeyMap<u32>,
    /// Router key -> dense index into `routers`.
    pub(crate) router_index: KeyMap<u32>,
    pub(crate) routers: Vec<Router>,
    /// (network key << 32 | IPv4) -> host.
    pub(crate) hosts_v4: HashMap<u64, Host>,
    /// (network key, IPv6) -> host.
    pub(crate) hosts_v6: HashMap<(u32, u128), Host>,
    /// Indexed by [`TIME_EXCEEDED`] and [`UNREACHABLE`].
    pub(crate) limits: [Limit; 2],
}

impl L3Tables {
    /// The router with key `key`, and its dense index.
    #[inline]
    pub(crate) fn router(&self, key: u32) -> Option<(usize, &Router)> {
        let i = self.router_index.get(key)? as usize;
        self.routers.get(i).map(|r| (i, r))
    }

    /// The host with IPv4 address `ip` in network `net`.
    #[inline]
    pub(crate) fn host_v4(&self, net: u32, ip: u32) -> Option<Host> {
        self.hosts_v4
            .get(&(u64::from(net) << 32 | u64::from(ip)))
            .copied()
    }

    /// The host with IPv6 address `ip` in network `net`.
    #[inline]
    pub(crate) fn host_v6(&self, net: u32, ip: u128) -> Option<Host> {
        self.hosts_v6.get(&(net, ip)).copied()
    }

    /// Builds the tables.
    ///
    /// # Errors
    /// Any inconsistency, naming the entry and field: zero or repeated keys,
    /// a port key that is an interface of two routers, an interface address
    /// that is not a host address of its subnet, overlapping interface
    /// subnets of one router, an address two ports claim, a route whose
    /// destination is not a prefix or whose next hop is on no interface
    /// subnet, a bad rate limit.
    pub fn build(cfg: &L3Config) -> Result<L3Tables, String> {
        build::build(cfg)
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let routers: Vec<_> = self
            .routers
            .iter()
            .map(|r| {
                let ports: Vec<_> = r
                    .ifaces
                    .iter()
                    .map(|f| {
                        serde_json::json!({
                            "port_key": f.port_key,
                            "network_key": f.network_key,
                            "mac": f.mac.to_string(),
                            "ip": format!("{}/{}", f.ip, f.subnet.len),
                        })
                    })
                    .collect();
                let routes: Vec<_> = r
                    .routes
                    .iter()
                    .map(|x| {
                        let mut v = serde_json::json!({
                            "destination": x.prefix.to_string(),
                            "network_key": x.network_key,
                        });
                        if let Hop::Via { nexthop, host } = x.hop {
                            v["nexthop"] = nexthop.to_string().into();
                            v["next_hop_port_key"] = host.map(|h| h.port_key).into();
                        }
                        v
                    })
                    .collect();
                serde_json::json!({
                    "router_key": r.key,
                    "ports": ports,
                    "routes": routes,
                    "lpm_ranges": [r.lpm_v4.ranges(), r.lpm_v6.ranges()],
                })
            })
            .collect();
        let mut hosts: Vec<(u32, IpAddr, Host)> = self
            .hosts_v4
            .iter()
            .map(|(k, h)| ((k >> 32) as u32, IpAddr::V4(Ipv4Addr::from(*k as u32)), *h))
            .chain(
                self.hosts_v6
                    .iter()
                    .map(|((n, a), h)| (*n, IpAddr::V6(Ipv6Addr::from(*a)), *h)),
            )
            .collect();
        hosts.sort_by_key(|(n, a, _)| (*n, *a));
        let hosts: Vec<_> = hosts
            .iter()
            .map(|(n, a, h)| {
                serde_json::json!({
                    "network_key": n, "ip": a.to_string(),
                    "mac": h.mac.to_string(), "port_key": h.port_key,
                })
            })
            .collect();
        serde_json::json!({
            "generation": self.generation,
            "routers": routers,
            "hosts": hosts,
            "rate_limited": self.limits.iter().map(|l| l.per_token != 0).collect::<Vec<_>>(),
        })
    }
}

mod build;
#[cfg(test)]
pub(crate) mod tests;
