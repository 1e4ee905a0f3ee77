//! `firewall`'s tables: (router, network) -> router port -> group ->
//! compiled policies, plus the reject rate limit and the connection-cache
//! size in TSC cycles.
//!
//! Everything the hot path needs is resolved here: the port lookup is one
//! hash probe on `router << 32 | network`, the group a dense index, each
//! policy two short rule lists. Every build gets a new
//! [`FirewallTables::generation`]: the stage follows it to resize its
//! per-worker state and to re-check cached flows against changed rules.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use hashbrown::{HashMap, HashSet};

use crate::config::{FirewallConfig, FirewallRule, ProtocolSpec, RateLimit};
use crate::rules::{has_ports, Policy, Rule};

/// Source of table generations: every build gets a new one.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Largest connection-cache capacity per worker.
pub const MAX_CAPACITY: u32 = 1 << 24;

/// Index of the egress policy in [`Group::policies`] (and of the egress
/// direction everywhere in the stage).
pub(crate) const EGRESS: usize = 0;
/// Index of the ingress policy.
pub(crate) const INGRESS: usize = 1;

/// A rate limit in TSC cycles.
pub(crate) type Limit = df_dp::ratelimit::Rate;

/// One router interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Port {
    pub(crate) router_key: u32,
    pub(crate) network_key: u32,
    pub(crate) port_key: u32,
    /// Dense index into [`FirewallTables::groups`].
    pub(crate) group: Option<u32>,
}

/// One group: `[egress, ingress]` policies; `None` = not filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Group {
    pub(crate) key: u32,
    pub(crate) policies: [Option<Policy>; 2],
}

/// Lookup-ready firewall state.
#[derive(Debug, Clone, Default)]
pub struct FirewallTables {
    pub(crate) generation: u64,
    /// `router_key << 32 | network_key` -> index into `ports`.
    pub(crate) port_index: HashMap<u64, u32>,
    pub(crate) ports: Vec<Port>,
    pub(crate) groups: Vec<Group>,
    pub(crate) reject_limit: Limit,
    /// Connection-cache capacity (0 before the first config).
    pub(crate) ct_capacity: usize,
    /// Idle timeout in TSC cycles.
    pub(crate) ct_idle: u64,
    pub(crate) tsc_hz: u64,
}

/// The key of a router interface.
#[inline]
pub(crate) fn port_key(router: u32, network: u32) -> u64 {
    u64::from(router) << 32 | u64::from(network)
}

impl FirewallTables {
    /// Builds the tables.
    ///
    /// # Errors
    /// A zero key, a duplicate router interface, port key or group key, a
    /// port naming an unknown group, or a rule that does not make sense
    /// (bad prefix, version mismatch, port range without a protocol with
    /// ports), naming the field, e.g. `groups[0].egress[2].source_port: ...`.
    pub fn build(cfg: &FirewallConfig) -> Result<FirewallTables, String> {
        if cfg.tsc_hz == Some(0) {
            return Err("tsc_hz: must be non-zero (omit it to measure the TSC)".into());
        }
        let r = &cfg.reject_rate;
        if r.per_sec > 0 && r.burst == 0 {
            return Err("reject_rate.burst: must be at least 1 when per_sec > 0".into());
        }
        let ct = &cfg.conntrack;
        if ct.capacity == 0 || ct.capacity > MAX_CAPACITY {
            return Err(format!(
                "conntrack.capacity: {} is out of range (1..={MAX_CAPACITY})",
                ct.capacity
            ));
        }
        if ct.idle_secs == 0 {
            return Err("conntrack.idle_secs: must be at least 1".into());
        }
        let hz = cfg.tsc_hz.unwrap_or_else(df_dp::sys::tsc_hz).max(1);
        let mut t = FirewallTables {
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
            reject_limit: limit(hz, r),
            ct_capacity: ct.capacity.next_power_of_two() as usize,
            ct_idle: hz.saturating_mul(u64::from(ct.idle_secs)),
            tsc_hz: hz,
            ..FirewallTables::default()
        };
        let mut group_index: HashMap<u32, u32> = HashMap::new();
        for (i, g) in cfg.groups.iter().enumerate() {
            let at = format!("groups[{i}]");
            if g.key == 0 {
                return Err(format!("{at}.key: must be non-zero"));
            }
            if group_index.insert(g.key, t.groups.len() as u32).is_some() {
                return Err(format!("{at}.key: group {} is listed twice", g.key));
            }
            let mut group = Group {
                key: g.key,
                policies: [None, None],
            };
            for (dir, name, rules) in [
                (EGRESS, "egress", &g.egress),
                (INGRESS, "ingress", &g.ingress),
            ] {
                if let Some(rules) = rules {
                    group.policies[dir] = Some(policy(&format!("{at}.{name}"), rules)?);
                }
            }
            t.groups.push(group);
        }
        let mut routers = HashSet::new();
        let mut port_keys = HashMap::new();
        for (i, rt) in cfg.routers.iter().enumerate() {
            if rt.router_key == 0 {
                return Err(format!("routers[{i}].router_key: must be non-zero"));
            }
            if !routers.insert(rt.router_key) {
                return Err(format!(
                    "routers[{i}].router_key: router {} is listed twice",
                    rt.router_key
                ));
            }
            for (j, p) in rt.ports.iter().enumerate() {
                let at = format!("routers[{i}].ports[{j}]");
                if p.network_key == 0 {
                    return Err(format!("{at}.network_key: must be non-zero"));
                }
                if p.port_key == 0 {
                    return Err(format!("{at}.port_key: must be non-zero"));
                }
                if let Some(other) = port_keys.insert(p.port_key, rt.router_key) {
                    return Err(format!(
                        "{at}.port_key: port {} is listed twice (routers {other} and {})",
                        p.port_key, rt.router_key
                    ));
                }
                let group = match p.firewall_group {
                    None => None,
                    Some(k) => Some(*group_index.get(&k).ok_or_else(|| {
                        format!("{at}.firewall_group: group {k} is not in `groups`")
                    })?),
                };
                let key = port_key(rt.router_key, p.network_key);
                if t.port_index.insert(key, t.ports.len() as u32).is_some() {
                    return Err(format!(
                        "{at}.network_key: router {} has two ports in network {}",
                        rt.router_key, p.network_key
                    ));
                }
                t.ports.push(Port {
                    router_key: rt.router_key,
                    network_key: p.network_key,
                    port_key: p.port_key,
                    group,
                });
            }
        }
        Ok(t)
    }

    /// The router interface of `(router, network)`: its dense index and
    /// entry.
    #[inline]
    pub(crate) fn port(&self, router: u32, network: u32) -> Option<(usize, &Port)> {
        let i = *self.port_index.get(&port_key(router, network))? as usize;
        Some((i, self.ports.get(i)?))
    }

    /// The dense index of the port with key `port_key` (for carrying
    /// per-port state over a publish). Linear: off the hot path.
    pub(crate) fn port_by_key(&self, port_key: u32) -> Option<usize> {
        self.ports.iter().position(|p| p.port_key == port_key)
    }

    /// JSON summary for `dfctl show tables`.
    pub fn describe(&self) -> serde_json::Value {
        use serde_json::json;
        let policy = |p: &Option<Policy>| match p {
            None => serde_json::Value::Null,
            Some(p) => json!({
                "rules": p.ids.to_vec(),
                "enabled_v4": p.lists[0].len(),
                "enabled_v6": p.lists[1].len(),
            }),
        };
        json!({
            "generation": self.generation,
            "ports": self.ports.iter().map(|p| json!({
                "router_key": p.router_key,
                "network_key": p.network_key,
                "port_key": p.port_key,
                "firewall_group": p.group.and_then(|g| self.groups.get(g as usize)).map(|g| g.key),
            })).collect::<Vec<_>>(),
            "groups": self.groups.iter().map(|g| json!({
                "key": g.key,
                "egress": policy(&g.policies[EGRESS]),
                "ingress": policy(&g.policies[INGRESS]),
            })).collect::<Vec<_>>(),
            "reject_limit_cycles_per_token": self.reject_limit.per_token,
            "conntrack_capacity": self.ct_capacity,
            "conntrack_idle_cycles": self.ct_idle,
            "tsc_hz": self.tsc_hz,
        })
    }
}

/// Turns a rate into cycles.
fn limit(hz: u64, r: &RateLimit) -> Limit {
    if r.per_sec == 0 {
        return Limit::default();
    }
    let per_token = (hz / u64::from(r.per_sec)).max(1);
    Limit {
        per_token,
        capacity: per_token.saturating_mul(u64::from(r.burst)),
    }
}

/// Compiles one policy's rule list (`at` names it, e.g. `groups[0].egress`).
fn policy(at: &str, rules: &[FirewallRule]) -> Result<Policy, String> {
    let mut lists: [Vec<Rule>; 2] = [Vec::new(), Vec::new()];
    let mut ids = Vec::with_capacity(rules.len());
    for (k, r) in rules.iter().enumerate() {
        let at = format!("{at}[{k}]");
        if r.id.is_empty() {
            return Err(format!("{at}.id: must not be empty"));
        }
        if ids.contains(&r.id) {
            return Err(format!(
                "{at}.id: rule `{}` appears twice in the policy",
                r.id
            ));
        }
        ids.push(r.id.clone());
        let rule = compile(&at, k as u32, r)?;
        if r.enabled {
            lists[usize::from(r.ip_version == 6)].push(rule);
        }
    }
    let [v4, v6] = lists;
    Ok(Policy {
        lists: [v4.into_boxed_slice(), v6.into_boxed_slice()],
        ids: ids.into_boxed_slice(),
    })
}

/// Compiles one rule, checking it whether or not it is enabled.
fn compile(at: &str, pos: u32, r: &FirewallRule) -> Result<Rule, String> {
    let v6 = match r.ip_version {
        4 => false,
        6 => true,
        v => return Err(format!("{at}.ip_version: {v} is not 4 or 6")),
    };
    let proto = match &r.protocol {
        None => None,
        Some(spec) => protocol(spec).ok_or_else(|| {
            format!(
                "{at}.protocol: `{}` is not a protocol (expected tcp, udp, icmp, icmpv6, any \
                 or a number 0..=255)",
                match spec {
                    ProtocolSpec::Name(n) => n.clone(),
                    ProtocolSpec::Number(n) => n.to_string(),
                }
            )
        })?,
    };
    match (proto, v6) {
        (Some(1), true) => {
            return Err(format!(
                "{at}.protocol: icmp does not match ip_version 6 (use icmpv6)"
            ))
        }
        (Some(58), false) => {
            return Err(format!("{at}.protocol: icmpv6 does not match ip_version 4"))
        }
        _ => {}
    }
    let (src, src_mask) = prefix(&format!("{at}.source_prefix"), &r.source_prefix, v6)?;
    let (dst, dst_mask) = prefix(
        &format!("{at}.destination_prefix"),
        &r.destination_prefix,
        v6,
    )?;
    let sport = range(&format!("{at}.source_port"), r.source_port, proto)?;
    let dport = range(&format!("{at}.destination_port"), r.destination_port, proto)?;
    Ok(Rule {
        action: r.action,
        proto,
        src,
        src_mask,
        dst,
        dst_mask,
        sport,
        dport,
        pos,
    })
}

/// `None` for "any"; `Some(None)` for an unknown name.
fn protocol(spec: &ProtocolSpec) -> Option<Option<u8>> {
    match spec {
        ProtocolSpec::Number(n) => Some(Some(*n)),
        ProtocolSpec::Name(name) => {
            let n = match name.to_ascii_lowercase().as_str() {
                "any" => return Some(None),
                "tcp" => 6,
                "udp" => 17,
                "icmp" => 1,
                "icmpv6" | "ipv6-icmp" => 58,
                "dccp" => 33,
                "sctp" => 132,
                "udplite" => 136,
                other => other.parse::<u8>().ok()?,
            };
            Some(Some(n))
        }
    }
}

/// A prefix as (address, mask); absent: any.
fn prefix(at: &str, text: &Option<String>, v6: bool) -> Result<(u128, u128), String> {
    let Some(text) = text else {
        return Ok((0, 0));
    };
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text.as_str(), None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{at}: `{text}` is not an address or prefix"))?;
    let (bits, value): (u32, u128) = match (addr, v6) {
        (IpAddr::V4(a), false) => (32, u128::from(u32::from(a))),
        (IpAddr::V6(a), true) => (128, u128::from(a)),
        (_, v6) => {
            return Err(format!(
                "{at}: {text} does not match ip_version {}",
                if v6 { 6 } else { 4 }
            ))
        }
    };
    let len = match len {
        None => bits,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if n <= bits => n,
            _ => {
                return Err(format!(
                    "{at}: `{text}` has a bad prefix length (0..={bits})"
                ))
            }
        },
    };
    let full: u128 = if bits == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    let mask = if len == 0 {
        0
    } else {
        (full << (bits - len)) & full
    };
    if value & !mask != 0 {
        return Err(format!(
            "{at}: {text} has host bits set (give the network address of the prefix)"
        ));
    }
    Ok((value, mask))
}

/// A port range; only for protocols with ports.
fn range(at: &str, r: Option<[u16; 2]>, proto: Option<u8>) -> Result<Option<(u16, u16)>, String> {
    let Some([lo, hi]) = r else {
        return Ok(None);
    };
    match proto {
        Some(p) if has_ports(p) => {}
        Some(p) => return Err(format!("{at}: protocol {p} has no ports")),
        None => {
            return Err(format!(
                "{at}: a port range needs a protocol with ports (tcp, udp, ...)"
            ))
        }
    }
    if lo > hi {
        return Err(format!(
            "{at}: `[{lo}, {hi}]` is not a port range (min is greater than max)"
        ));
    }
    Ok(Some((lo, hi)))
}

#[cfg(test)]
mod tests;
