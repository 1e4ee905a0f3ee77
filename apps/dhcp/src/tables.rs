//! `dhcp`'s tables: which networks have a DHCP server here (and its
//! addresses, for recognising unicast renewals), and for every client port
//! its whole answer resolved in advance: address, mask, server, router, DNS,
//! domain, MTU, lease, the option 121 route list and the extra options.
//!
//! Why per port: the stage then reads one entry and copies values into a
//! reply, with no per-packet merging of subnet, network and port settings.
//! Ports get a dense index (their position in [`DhcpTables::ports`]) so the
//! stage can keep per-port rate-limit state in a plain vector; every build
//! gets a new [`DhcpTables::generation`] so the stage notices cheaply that
//! the indices changed.
//!
//! The IPv6 side (Router Advertisements, DHCPv6) is in [`ipv6`]; its ports
//! share the IPv4 ports' rate-limit buckets by key, so the stage keeps one
//! bucket vector indexed by [`DhcpTables::bucket_keys`].

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};

use df_dp::table::KeyMap;
use df_wire::{
    EthernetAddress, FixedVec, StaticRoute, DHCP_MAX_DNS_SERVERS, DHCP_MAX_EXTRA_OPTIONS,
    DHCP_MAX_STATIC_ROUTES,
};
use hashbrown::HashMap;

use crate::config::{
    DhcpClientPort, DhcpConfig, DhcpNetwork, HostRoute, Ipv4Cidr, MetadataRoute, RateLimit,
};
use ipv6::Tables6;
use options::port_options;

pub use ipv6::{
    link_local, MAX_DNS6, MAX_PORT_ADDRS6, MAX_RA_PREFIXES, PREFIX_PREFERRED_SECS,
    PREFIX_VALID_SECS, RA_CUR_HOP_LIMIT, ROUTER_LIFETIME_SECS,
};

/// Extra options a port may carry: the reply's untyped slots minus T1 and T2.
pub const MAX_PORT_EXTRA_OPTIONS: usize = DHCP_MAX_EXTRA_OPTIONS - 2;

/// Longest BOOTP `file` value (128 bytes, NUL terminated).
pub const MAX_BOOT_FILE_LEN: usize = 127;

/// The metadata service address.
pub const METADATA_IP: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// A rate limit in TSC cycles. `per_token == 0` means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Limit {
    /// Cycles that earn one request.
    pub(crate) per_token: u64,
    /// Bucket size in cycles (burst x per_token).
    pub(crate) capacity: u64,
    /// Cycles a port stays blocked after exceeding the limit.
    pub(crate) block: u64,
}

/// The DHCP server answering for a subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Server {
    pub(crate) mac: EthernetAddress,
    pub(crate) ip: Ipv4Addr,
}

/// Everything needed to answer one client port.
#[derive(Debug, Clone)]
pub(crate) struct PortEntry {
    pub(crate) key: u32,
    pub(crate) network_key: u32,
    pub(crate) ip: Ipv4Addr,
    pub(crate) subnet: Ipv4Cidr,
    pub(crate) enable_dhcp: bool,
    pub(crate) server: Option<Server>,
    pub(crate) mask: Ipv4Addr,
    pub(crate) router: Option<Ipv4Addr>,
    pub(crate) dns: FixedVec<Ipv4Addr, DHCP_MAX_DNS_SERVERS>,
    pub(crate) domain: Option<Box<[u8]>>,
    pub(crate) mtu: Option<u16>,
    pub(crate) lease: u32,
    /// Host routes, metadata route, port routes, then the default route.
    pub(crate) routes: FixedVec<StaticRoute, DHCP_MAX_STATIC_ROUTES>,
    /// Other extra options (tag, data), sent when requested.
    pub(crate) extras: Box<[(u8, Box<[u8]>)]>,
    pub(crate) siaddr: Ipv4Addr,
    pub(crate) boot_file: Option<Box<[u8]>>,
    pub(crate) limit: Limit,
}

/// A network with at least one DHCP server address.
#[derive(Debug, Clone)]
pub(crate) struct NetEntry {
    /// Every server address of the network (unicast requests go to one).
    pub(crate) servers: Box<[Ipv4Addr]>,
}

/// Lookup-ready DHCP state.
#[derive(Debug, Clone, Default)]
pub struct DhcpTables {
    /// Unique per build (0 for the empty tables).
    pub(crate) generation: u64,
    pub(crate) nets: KeyMap<u32>,
    pub(crate) net_list: Vec<NetEntry>,
    /// Port key -> dense index into `ports`.
    pub(crate) port_index: KeyMap<u32>,
    pub(crate) ports: Vec<PortEntry>,
    /// The IPv6 side.
    pub(crate) v6: Tables6,
    /// The port key of each rate-limit bucket: the IPv4 ports' (at their
    /// dense index), then the ports only the IPv6 side has.
    pub(crate) bucket_keys: Vec<u32>,
}

/// A subnet during the build.
struct SubnetAt<'a> {
    cidr: Ipv4Cidr,
    cfg: &'a crate::config::DhcpSubnet,
    server: Option<Server>,
}

/// Shared state of one build.
struct Build<'a> {
    cfg: &'a DhcpConfig,
    tsc_hz: Option<u64>,
    net_at: HashMap<u32, String>,
    port_at: HashMap<u32, String>,
}

impl DhcpTables {
    /// Builds the tables.
    ///
    /// # Errors
    /// Any inconsistency, naming the entry and field: zero or repeated keys,
    /// a subnet with host bits set or overlapping another, a gateway outside
    /// its subnet, a DHCP server address in no subnet or two servers for one
    /// subnet, a port address outside every subnet or taken, an extra option
    /// the server sets itself or in the wrong form, more routes, DNS servers
    /// or extra options than a reply holds, a bad MTU, lease or rate limit.
    pub fn build(cfg: &DhcpConfig) -> Result<DhcpTables, String> {
        let mut t = DhcpTables {
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
            ..DhcpTables::default()
        };
        if cfg.tsc_hz == Some(0) {
            return Err("tsc_hz: must be non-zero (omit it to measure the TSC)".into());
        }
        check_dns("dns_nameservers", &cfg.dns_nameservers)?;
        check_domain("domain_name", cfg.domain_name.as_deref())?;
        check_lease("lease_time", cfg.lease_time)?;
        check_rate("rate_limit", &cfg.rate_limit)?;
        let mut b = Build {
            cfg,
            tsc_hz: cfg.tsc_hz,
            net_at: HashMap::new(),
            port_at: HashMap::new(),
        };
        for (i, n) in cfg.networks.iter().enumerate() {
            b.network(&mut t, &format!("networks[{i}]"), n)?;
        }
        b.ipv6(&mut t)?;
        Ok(t)
    }

    /// The dense index of client port `key`.
    pub(crate) fn port(&self, key: u32) -> Option<usize> {
        self.port_index.get(key).map(|i| i as usize)
    }

    /// The rate-limit bucket of port `key` (IPv4 or IPv6 client).
    pub(crate) fn bucket(&self, key: u32) -> Option<usize> {
        self.port(key).or_else(|| {
            self.v6
                .port_index
                .get(key)
                .and_then(|i| self.v6.ports.get(i as usize))
                .map(|p| p.bucket as usize)
        })
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let nets: Vec<_> = self
            .nets
            .iter()
            .map(|(k, i)| {
                let servers: Vec<String> = self
                    .net_list
                    .get(i as usize)
                    .map(|n| n.servers.iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default();
                serde_json::json!({"network_key": k, "servers": servers})
            })
            .collect();
        let ports: Vec<_> = self
            .ports
            .iter()
            .map(|p| {
                serde_json::json!({
                    "port_key": p.key,
                    "network_key": p.network_key,
                    "ip": p.ip.to_string(),
                    "subnet": p.subnet.to_string(),
                    "enable_dhcp": p.enable_dhcp,
                    "server": p.server.map(|s| s.ip.to_string()),
                    "router": p.router.map(|r| r.to_string()),
                    "dns": p.dns.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                    "mtu": p.mtu,
                    "lease": p.lease,
                    "routes": p.routes.iter().map(|r| format!("{}/{} via {}", r.destination, r.prefix_len, r.gateway)).collect::<Vec<_>>(),
                    "extra_tags": p.extras.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
                    "rate_limited": p.limit.per_token != 0,
                })
            })
            .collect();
        let nets6: Vec<_> = self
            .v6
            .nets
            .iter()
            .filter_map(|(k, i)| Some((k, self.v6.net_list.get(i as usize)?)))
            .map(|(k, n)| {
                serde_json::json!({
                    "network_key": k,
                    "ra": n.ra.map(|r| serde_json::json!({
                        "src": r.src.to_string(),
                        "managed": r.managed,
                        "other": r.other,
                        "mtu": r.mtu,
                        "prefixes": r.prefixes.iter().map(|p| format!("{}/{} L{} A{}", p.prefix, p.prefix_len, u8::from(p.on_link), u8::from(p.autonomous))).collect::<Vec<_>>(),
                    })),
                    "dhcpv6": n.dhcp,
                    "server": n.server.map(|s| s.ip.to_string()),
                    "dns": n.dns.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                    "lease": n.lease,
                })
            })
            .collect();
        let ports6: Vec<_> = self
            .v6
            .ports
            .iter()
            .map(|p| {
                serde_json::json!({
                    "port_key": p.key,
                    "network_key": p.network_key,
                    "ia_na": p.addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({
            "generation": self.generation,
            "networks": nets,
            "ports": ports,
            "ipv6_networks": nets6,
            "ipv6_ports": ports6,
        })
    }
}

impl Build<'_> {
    fn network(&mut self, t: &mut DhcpTables, at: &str, n: &DhcpNetwork) -> Result<(), String> {
        if n.network_key == 0 {
            return Err(format!("{at}.network_key: must be non-zero"));
        }
        if let Some(first) = self.net_at.insert(n.network_key, at.to_string()) {
            return Err(format!(
                "{at}: network key {} is listed twice (also {first})",
                n.network_key
            ));
        }
        if let Some(mtu) = n.mtu {
            if mtu < 68 {
                return Err(format!("{at}.mtu: {mtu} is below the IPv4 minimum of 68"));
            }
        }
        let mut subnets: Vec<SubnetAt<'_>> = Vec::with_capacity(n.subnets.len());
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
            if let Some((k, o)) = subnets
                .iter()
                .enumerate()
                .find(|(_, o)| o.cidr.contains(c.network()) || c.contains(o.cidr.network()))
            {
                return Err(format!(
                    "{sat}.cidr: {c} overlaps {} (subnets[{k}])",
                    o.cidr
                ));
            }
            if let Some(gw) = s.gateway_ip {
                if !c.contains(gw) {
                    return Err(format!("{sat}.gateway_ip: {gw} is outside {c}"));
                }
            }
            check_dns(&format!("{sat}.dns_nameservers"), &s.dns_nameservers)?;
            check_domain(&format!("{sat}.domain_name"), s.domain_name.as_deref())?;
            if let Some(l) = s.lease_time {
                check_lease(&format!("{sat}.lease_time"), l)?;
            }
            subnets.push(SubnetAt {
                cidr: c,
                cfg: s,
                server: None,
            });
        }
        let mut servers = Vec::new();
        for (k, d) in n.dhcp_ports.iter().enumerate() {
            let dat = format!("{at}.dhcp_ports[{k}]");
            if !d.mac.is_unicast() {
                return Err(format!("{dat}.mac: {} is not a unicast address", d.mac));
            }
            for (m, &ip) in d.ips.iter().enumerate() {
                let Some(s) = subnets.iter_mut().find(|s| s.cidr.contains(ip)) else {
                    return Err(format!(
                        "{dat}.ips[{m}]: {ip} is in no subnet of network {}",
                        n.network_key
                    ));
                };
                if let Some(old) = s.server {
                    return Err(format!(
                        "{dat}.ips[{m}]: subnet {} has two DHCP servers ({} and {ip})",
                        s.cidr, old.ip
                    ));
                }
                s.server = Some(Server { mac: d.mac, ip });
                servers.push(ip);
            }
        }
        let mut ips: HashMap<Ipv4Addr, u32> = HashMap::new();
        for (p, c) in n.ports.iter().enumerate() {
            let pat = format!("{at}.ports[{p}]");
            let entry = self.port(&pat, n, &subnets, c)?;
            if let Some(old) = ips.insert(c.ip, c.port_key) {
                return Err(format!("{pat}.ip: {} is also port {old}'s address", c.ip));
            }
            let idx = t.ports.len() as u32;
            if t.port_index.insert(c.port_key, idx).is_some() {
                let first = self.port_at.get(&c.port_key).cloned().unwrap_or_default();
                return Err(format!(
                    "{pat}: port key {} is listed twice (also {first})",
                    c.port_key
                ));
            }
            self.port_at.insert(c.port_key, pat);
            t.ports.push(entry);
        }
        if !servers.is_empty() {
            t.nets.insert(n.network_key, t.net_list.len() as u32);
            t.net_list.push(NetEntry {
                servers: servers.into_boxed_slice(),
            });
        }
        Ok(())
    }

    fn port(
        &mut self,
        at: &str,
        n: &DhcpNetwork,
        subnets: &[SubnetAt<'_>],
        c: &DhcpClientPort,
    ) -> Result<PortEntry, String> {
        if c.port_key == 0 {
            return Err(format!("{at}.port_key: must be non-zero"));
        }
        if !c.mac.is_unicast() {
            return Err(format!("{at}.mac: {} is not a unicast address", c.mac));
        }
        let Some(s) = subnets.iter().find(|s| s.cidr.contains(c.ip)) else {
            return Err(format!(
                "{at}.ip: {} is outside every subnet of network {}",
                c.ip, n.network_key
            ));
        };
        let cidr = s.cidr;
        if cidr.prefix_len <= 30 && (c.ip == cidr.network() || c.ip == cidr.broadcast()) {
            return Err(format!(
                "{at}.ip: {} is the network or broadcast address of {cidr}",
                c.ip
            ));
        }
        if s.server.is_some_and(|v| v.ip == c.ip) || s.cfg.gateway_ip == Some(c.ip) {
            return Err(format!(
                "{at}.ip: {} is the subnet's DHCP server or gateway address",
                c.ip
            ));
        }
        let o = port_options(at, &c.dhcp_options)?;
        let router = o.router.or(s.cfg.gateway_ip);
        let dns_src = match (&o.dns, s.cfg.dns_nameservers.is_empty()) {
            (Some(d), _) => d.as_slice(),
            (None, false) => s.cfg.dns_nameservers.as_slice(),
            (None, true) => self.cfg.dns_nameservers.as_slice(),
        };
        let mut dns = FixedVec::new();
        for d in dns_src {
            dns.push(*d)
                .map_err(|_| format!("{at}: more than {DHCP_MAX_DNS_SERVERS} DNS servers"))?;
        }
        let domain = o
            .domain
            .as_deref()
            .or(s.cfg.domain_name.as_deref())
            .or(self.cfg.domain_name.as_deref())
            .map(|d| d.as_bytes().into());
        let mut routes: Vec<HostRoute> = s.cfg.host_routes.clone();
        let metadata_hop = match self.cfg.metadata_route {
            MetadataRoute::Off => None,
            MetadataRoute::Port => Some(c.ip),
            MetadataRoute::DhcpServer => s.server.map(|v| v.ip),
            MetadataRoute::OnLink => Some(Ipv4Addr::UNSPECIFIED),
        };
        if let Some(nexthop) = metadata_hop {
            routes.push(HostRoute {
                destination: Ipv4Cidr {
                    addr: METADATA_IP,
                    prefix_len: 32,
                },
                nexthop,
            });
        }
        routes.extend(o.routes.iter().copied());
        if let Some(gw) = router {
            routes.push(HostRoute {
                destination: Ipv4Cidr {
                    addr: Ipv4Addr::UNSPECIFIED,
                    prefix_len: 0,
                },
                nexthop: gw,
            });
        }
        let mut fixed = FixedVec::new();
        for r in &routes {
            fixed
                .push(StaticRoute {
                    destination: r.destination.network(),
                    prefix_len: r.destination.prefix_len,
                    gateway: r.nexthop,
                })
                .map_err(|_| {
                    format!(
                        "{at}: {} classless static routes (subnet host routes, metadata, port \
                         routes and the default route) exceed the {DHCP_MAX_STATIC_ROUTES} a \
                         reply holds",
                        routes.len()
                    )
                })?;
        }
        if let Some(b) = &c.boot_file {
            if b.len() > MAX_BOOT_FILE_LEN || b.contains('\0') {
                return Err(format!(
                    "{at}.boot_file: must be at most {MAX_BOOT_FILE_LEN} bytes without NUL"
                ));
            }
        }
        let limit = match &c.rate_limit {
            Some(r) => {
                check_rate(&format!("{at}.rate_limit"), r)?;
                self.limit(r)
            }
            None => self.limit(&self.cfg.rate_limit),
        };
        Ok(PortEntry {
            key: c.port_key,
            network_key: n.network_key,
            ip: c.ip,
            subnet: cidr,
            enable_dhcp: s.cfg.enable_dhcp,
            server: s.server,
            mask: Ipv4Addr::from(cidr.mask()),
            router,
            dns,
            domain,
            mtu: n.mtu,
            lease: s.cfg.lease_time.unwrap_or(self.cfg.lease_time),
            routes: fixed,
            extras: o.extras.into_boxed_slice(),
            siaddr: c
                .siaddr
                .or(s.server.map(|v| v.ip))
                .unwrap_or(Ipv4Addr::UNSPECIFIED),
            boot_file: c.boot_file.as_ref().map(|b| b.as_bytes().into()),
            limit,
        })
    }

    /// Turns a rate limit into cycles, measuring the TSC the first time a
    /// limit is needed and no `tsc_hz` was configured.
    fn limit(&mut self, r: &RateLimit) -> Limit {
        if r.per_sec == 0 {
            return Limit::default();
        }
        let hz = (*self.tsc_hz.get_or_insert_with(df_dp::sys::tsc_hz)).max(1);
        let per_token = (hz / u64::from(r.per_sec)).max(1);
        Limit {
            per_token,
            capacity: per_token.saturating_mul(u64::from(r.burst)),
            block: hz.saturating_mul(u64::from(r.block_secs)),
        }
    }
}

fn check_dns(at: &str, dns: &[Ipv4Addr]) -> Result<(), String> {
    if dns.len() > DHCP_MAX_DNS_SERVERS {
        return Err(format!(
            "{at}: {} DNS servers, a reply holds at most {DHCP_MAX_DNS_SERVERS}",
            dns.len()
        ));
    }
    Ok(())
}

fn check_domain(at: &str, d: Option<&str>) -> Result<(), String> {
    match d {
        Some(d) if d.is_empty() || d.len() > 255 => Err(format!(
            "{at}: must be 1 to 255 bytes (omit it to send none)"
        )),
        _ => Ok(()),
    }
}

fn check_lease(at: &str, l: u32) -> Result<(), String> {
    if l == 0 {
        return Err(format!("{at}: must be at least 1 second"));
    }
    Ok(())
}

fn check_rate(at: &str, r: &RateLimit) -> Result<(), String> {
    if r.per_sec > 0 && r.burst == 0 {
        return Err(format!("{at}.burst: must be at least 1 when per_sec > 0"));
    }
    Ok(())
}

pub(crate) mod ipv6;
mod options;
#[cfg(test)]
mod tests;
