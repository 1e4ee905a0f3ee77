//! Building [`L3Tables`] from an [`L3Config`]: every check, each error
//! naming the entry and field. Order: routers' interfaces (ports and their
//! addresses), then hosts (router interfaces first, then the networks'
//! fixed IPs, then allowed address pairs), then routes, whose next hops are
//! resolved against the finished host table.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use df_wire::EthernetAddress;
use hashbrown::HashMap;

use super::{
    Hop, Host, Iface, L3Tables, Limit, Route, Router, GENERATION, TIME_EXCEEDED, UNREACHABLE,
};
use crate::addr::{is_link_local6, not_unicast, parse_ip, parse_mac, parse_prefix, width, Prefix};
use crate::config::{L3Config, L3Network, L3Router, RateLimit};
use crate::lpm::{ByLen, Lpm};

/// Builds the tables (see [`L3Tables::build`]).
pub(super) fn build(cfg: &L3Config) -> Result<L3Tables, String> {
    let mut t = L3Tables {
        generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        ..L3Tables::default()
    };
    if cfg.tsc_hz == Some(0) {
        return Err("tsc_hz: must be non-zero (omit it to measure the TSC)".into());
    }
    check_rate("time_exceeded_rate", &cfg.time_exceeded_rate)?;
    check_rate("unreachable_rate", &cfg.unreachable_rate)?;
    let mut b = Build {
        tsc_hz: cfg.tsc_hz,
        router_at: HashMap::new(),
        owner: HashMap::new(),
    };
    t.limits[TIME_EXCEEDED] = b.limit(&cfg.time_exceeded_rate);
    t.limits[UNREACHABLE] = b.limit(&cfg.unreachable_rate);
    let mut ifaces = Vec::with_capacity(cfg.routers.len());
    for (i, r) in cfg.routers.iter().enumerate() {
        ifaces.push(b.interfaces(&mut t, &format!("routers[{i}]"), r)?);
    }
    for (i, (r, list)) in cfg.routers.iter().zip(&ifaces).enumerate() {
        for (j, f) in list.iter().enumerate() {
            let host = Host {
                mac: f.mac,
                port_key: f.port_key,
            };
            if let Err(old) = insert_host(&mut t, f.network_key, f.ip, host) {
                return Err(format!(
                    "routers[{i}].ports[{j}].ip: {} is already the address of port {} in \
                     network {} (router {})",
                    f.ip,
                    old.port_key,
                    f.network_key,
                    t.router_ports.get(old.port_key).unwrap_or(r.router_key)
                ));
            }
        }
    }
    hosts(&mut t, &cfg.networks)?;
    for (i, (r, f)) in cfg.routers.iter().zip(ifaces).enumerate() {
        let router = routes(&t, &format!("routers[{i}]"), r, f)?;
        t.router_index.insert(r.router_key, t.routers.len() as u32);
        t.routers.push(router);
    }
    Ok(t)
}

/// The host with address `ip` in network `net`.
fn host(t: &L3Tables, net: u32, ip: IpAddr) -> Option<Host> {
    match ip {
        IpAddr::V4(a) => t.host_v4(net, u32::from(a)),
        IpAddr::V6(a) => t.host_v6(net, u128::from(a)),
    }
}

/// Inserts a host unless the address is taken; `Err`: the holder.
fn insert_host(t: &mut L3Tables, net: u32, ip: IpAddr, h: Host) -> Result<(), Host> {
    let old = match ip {
        IpAddr::V4(a) => *t
            .hosts_v4
            .entry(u64::from(net) << 32 | u64::from(u32::from(a)))
            .or_insert(h),
        IpAddr::V6(a) => *t.hosts_v6.entry((net, u128::from(a))).or_insert(h),
    };
    if old == h {
        Ok(())
    } else {
        Err(old)
    }
}

/// Where a router interface port key was first seen.
struct Owner {
    router: u32,
    network: u32,
    mac: EthernetAddress,
    at: String,
}

/// Shared state of one build.
struct Build {
    tsc_hz: Option<u64>,
    router_at: HashMap<u32, String>,
    owner: HashMap<u32, Owner>,
}

impl Build {
    /// Validates a router's interfaces and registers its ports.
    fn interfaces(
        &mut self,
        t: &mut L3Tables,
        at: &str,
        r: &L3Router,
    ) -> Result<Vec<Iface>, String> {
        if r.router_key == 0 {
            return Err(format!("{at}.router_key: must be non-zero"));
        }
        if let Some(first) = self.router_at.insert(r.router_key, at.to_string()) {
            return Err(format!(
                "{at}: router key {} is listed twice (also {first})",
                r.router_key
            ));
        }
        let mut out: Vec<Iface> = Vec::with_capacity(r.ports.len());
        for (j, p) in r.ports.iter().enumerate() {
            let pat = format!("{at}.ports[{j}]");
            if p.port_key == 0 {
                return Err(format!("{pat}.port_key: must be non-zero"));
            }
            if p.network_key == 0 {
                return Err(format!("{pat}.network_key: must be non-zero"));
            }
            let mac = parse_mac(&format!("{pat}.mac"), &p.mac)?;
            let ip = parse_ip(&format!("{pat}.ip"), &p.ip)?;
            if p.prefix_len > width(ip) {
                return Err(format!(
                    "{pat}.prefix_len: {} is longer than an address of {ip}'s family ({} bits)",
                    p.prefix_len,
                    width(ip)
                ));
            }
            let subnet = Prefix::of(ip, p.prefix_len);
            check_interface_ip(&format!("{pat}.ip"), ip, &subnet)?;
            match self.owner.get(&p.port_key) {
                Some(o) if o.router != r.router_key => {
                    return Err(format!(
                        "{pat}.port_key: {} is already an interface of router {} ({})",
                        p.port_key, o.router, o.at
                    ));
                }
                Some(o) if o.network != p.network_key || o.mac != mac => {
                    return Err(format!(
                        "{pat}: port key {} is listed twice with another network or MAC \
                         (also {})",
                        p.port_key, o.at
                    ));
                }
                Some(_) => {}
                None => {
                    self.owner.insert(
                        p.port_key,
                        Owner {
                            router: r.router_key,
                            network: p.network_key,
                            mac,
                            at: pat.clone(),
                        },
                    );
                    t.router_ports.insert(p.port_key, r.router_key);
                }
            }
            if let Some((k, o)) = out
                .iter()
                .enumerate()
                .find(|(_, o)| o.subnet.overlaps(&subnet))
            {
                return Err(format!(
                    "{pat}: subnet {subnet} overlaps {} ({at}.ports[{k}]); a router has one \
                     interface per subnet",
                    o.subnet
                ));
            }
            out.push(Iface {
                port_key: p.port_key,
                network_key: p.network_key,
                mac,
                ip,
                subnet,
            });
        }
        Ok(out)
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
        }
    }
}

/// An interface address must be a host address of its subnet.
fn check_interface_ip(at: &str, ip: IpAddr, subnet: &Prefix) -> Result<(), String> {
    if let Some(why) = not_unicast(ip) {
        return Err(format!("{at}: {ip} is not a host address ({why})"));
    }
    match ip {
        IpAddr::V4(a) if subnet.len <= 30 => {
            if subnet.addr == ip {
                return Err(format!(
                    "{at}: {ip} is not a host address (it is the network address of {subnet})"
                ));
            }
            if subnet.broadcast4() == Some(a) {
                return Err(format!(
                    "{at}: {ip} is not a host address (it is the broadcast address of {subnet})"
                ));
            }
        }
        IpAddr::V6(a) => {
            if is_link_local6(&a) {
                return Err(format!(
                    "{at}: {ip} is link-local; a router interface needs a global or \
                     unique-local address"
                ));
            }
            if subnet.len < 127 && subnet.addr == ip {
                return Err(format!(
                    "{at}: {ip} is not a host address (it is the subnet-router anycast \
                     address of {subnet})"
                ));
            }
        }
        IpAddr::V4(_) => {}
    }
    Ok(())
}

/// Fills the host table from the networks: fixed IPs first (two ports may
/// not share one), then allowed address pairs (a pair address already
/// taken, by a fixed IP or an earlier pair, is left to its holder: VRRP-style
/// VIPs are listed on every member port).
fn hosts(t: &mut L3Tables, nets: &[L3Network]) -> Result<(), String> {
    let mut net_at: HashMap<u32, String> = HashMap::new();
    let mut port_at: HashMap<u32, String> = HashMap::new();
    for (i, n) in nets.iter().enumerate() {
        let at = format!("networks[{i}]");
        if n.network_key == 0 {
            return Err(format!("{at}.network_key: must be non-zero"));
        }
        if let Some(first) = net_at.insert(n.network_key, at.clone()) {
            return Err(format!(
                "{at}: network key {} is listed twice (also {first})",
                n.network_key
            ));
        }
        let mut macs = Vec::with_capacity(n.ports.len());
        for (j, p) in n.ports.iter().enumerate() {
            let pat = format!("{at}.ports[{j}]");
            if p.port_key == 0 {
                return Err(format!("{pat}.port_key: must be non-zero"));
            }
            if let Some(first) = port_at.insert(p.port_key, pat.clone()) {
                return Err(format!(
                    "{pat}: port key {} is listed twice (also {first})",
                    p.port_key
                ));
            }
            let mac = parse_mac(&format!("{pat}.mac"), &p.mac)?;
            macs.push(mac);
            if t.router_ports.get(p.port_key).is_some() {
                continue;
            }
            for (k, s) in p.ips.iter().enumerate() {
                let iat = format!("{pat}.ips[{k}]");
                let ip = host_ip(&iat, s)?;
                let host = Host {
                    mac,
                    port_key: p.port_key,
                };
                if let Err(old) = insert_host(t, n.network_key, ip, host) {
                    let whose = match t.router_ports.get(old.port_key) {
                        Some(r) => format!(" (router {r}'s interface)"),
                        None => String::new(),
                    };
                    return Err(format!(
                        "{iat}: {ip} is already the address of port {}{whose} in network {}",
                        old.port_key, n.network_key
                    ));
                }
            }
        }
        for (j, (p, mac)) in n.ports.iter().zip(macs).enumerate() {
            if t.router_ports.get(p.port_key).is_some() {
                continue;
            }
            for (k, a) in p.allowed_address_pairs.iter().enumerate() {
                let aat = format!("{at}.ports[{j}].allowed_address_pairs[{k}]");
                let ip = host_ip(&format!("{aat}.ip"), &a.ip)?;
                let mac = match &a.mac {
                    Some(m) => parse_mac(&format!("{aat}.mac"), m)?,
                    None => mac,
                };
                let host = Host {
                    mac,
                    port_key: p.port_key,
                };
                // A taken address stays with its holder (see the doc).
                let _ = insert_host(t, n.network_key, ip, host);
            }
        }
    }
    Ok(())
}

/// Parses a port's address: a unicast host address.
fn host_ip(at: &str, s: &str) -> Result<IpAddr, String> {
    let ip = parse_ip(at, s)?;
    if let Some(why) = not_unicast(ip) {
        return Err(format!("{at}: {ip} is not a host address ({why})"));
    }
    Ok(ip)
}

/// Validates a router's extra routes and builds its route and LPM tables.
/// Connected subnets come first, extra routes after: an extra route for
/// exactly a connected subnet wins (Dragonflow gave extra routes the higher
/// flow priority).
fn routes(t: &L3Tables, at: &str, r: &L3Router, ifaces: Vec<Iface>) -> Result<Router, String> {
    let mut routes: Vec<Route> = ifaces
        .iter()
        .map(|f| Route {
            prefix: f.subnet,
            network_key: f.network_key,
            mac: f.mac,
            hop: Hop::Connected,
        })
        .collect();
    // One connected route per subnet (a multi-address port lists its
    // subnets separately, so there are no duplicates: subnets do not overlap).
    let connected = routes.len();
    for (k, x) in r.routes.iter().enumerate() {
        let rat = format!("{at}.routes[{k}]");
        let dest = parse_prefix(&format!("{rat}.destination"), &x.destination)?;
        let nexthop = parse_ip(&format!("{rat}.nexthop"), &x.nexthop)?;
        if nexthop.is_ipv4() != dest.addr.is_ipv4() {
            return Err(format!(
                "{rat}.nexthop: {nexthop} and the destination {dest} are of different families"
            ));
        }
        if ifaces.iter().any(|f| f.ip == nexthop) {
            return Err(format!(
                "{rat}.nexthop: {nexthop} is router {}'s own address",
                r.router_key
            ));
        }
        let Some(f) = ifaces.iter().find(|f| f.subnet.contains(nexthop)) else {
            return Err(format!(
                "{rat}.nexthop: {nexthop} is on no interface subnet of router {}",
                r.router_key
            ));
        };
        if let Some(j) = routes[connected..].iter().position(|o| o.prefix == dest) {
            return Err(format!(
                "{rat}.destination: {dest} is listed twice (also {at}.routes[{j}])"
            ));
        }
        routes.push(Route {
            prefix: dest,
            network_key: f.network_key,
            mac: f.mac,
            hop: Hop::Via {
                nexthop,
                host: host(t, f.network_key, nexthop),
            },
        });
    }
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for (i, x) in routes.iter().enumerate() {
        match x.prefix.addr {
            IpAddr::V4(a) => v4.push((u32::from(a), x.prefix.len, i as u32)),
            IpAddr::V6(a) => v6.push((u128::from(a), x.prefix.len, i as u32)),
        }
    }
    let mut local_v4: Vec<u32> = Vec::new();
    let mut local_v6: Vec<u128> = Vec::new();
    for f in &ifaces {
        match f.ip {
            IpAddr::V4(a) => local_v4.push(u32::from(a)),
            IpAddr::V6(a) => local_v6.push(u128::from(a)),
        }
    }
    local_v4.sort_unstable();
    local_v6.sort_unstable();
    Ok(Router {
        key: r.router_key,
        ifaces: ifaces.into_boxed_slice(),
        routes: routes.into_boxed_slice(),
        local_v4: local_v4.into_boxed_slice(),
        local_v6: local_v6.into_boxed_slice(),
        lpm_v4: Lpm::build(&v4),
        by_len_v4: ByLen::build(&v4),
        lpm_v6: Lpm::build(&v6),
        external: r.external,
    })
}

fn check_rate(at: &str, r: &RateLimit) -> Result<(), String> {
    if r.per_sec > 0 && r.burst == 0 {
        return Err(format!("{at}.burst: must be at least 1 when per_sec > 0"));
    }
    Ok(())
}
