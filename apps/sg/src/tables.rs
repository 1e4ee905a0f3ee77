//! `sg`'s tables: port key -> (port security, rule set), the compiled rule
//! sets, the remote groups' member sets, and the conntrack parameters.
//!
//! Built off the workers from an [`SgConfig`]. Ports with the same groups
//! (in any order) share one compiled [`RuleSet`], so a thousand ports in the
//! default group cost one rule set. Every rule gets a dense index in config
//! order; a tracked connection remembers the index of the rule that allowed
//! it and the generation of the tables it was allowed under (see
//! `stage.rs` for how a removed rule cuts its connections).

use std::collections::HashMap as StdHashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use df_dp::table::KeyMap;
use hashbrown::HashSet;

use crate::config::{Direction, EtherType, Protocol, SgConfig, SgRule};
use crate::rules::{addr, list_index, CRule, Remote, RuleList, RuleSet, ANY};

/// Largest conntrack capacity per worker (the index holds 32-bit entry
/// numbers and twice as many slots as entries).
pub const MAX_CAPACITY: u32 = 1 << 28;

/// Source of table generations: every build gets a new one.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Protocol names Neutron accepts, with their numbers.
const PROTOCOL_NAMES: &[(&str, u8)] = &[
    ("tcp", 6),
    ("udp", 17),
    ("icmp", 1),
    ("icmpv6", 58),
    ("ipv6-icmp", 58),
    ("ah", 51),
    ("dccp", 33),
    ("egp", 8),
    ("esp", 50),
    ("gre", 47),
    ("igmp", 2),
    ("ipip", 4),
    ("ipv6-encap", 41),
    ("ipv6-frag", 44),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("ipv6-route", 43),
    ("ospf", 89),
    ("pgm", 113),
    ("rsvp", 46),
    ("sctp", 132),
    ("udplite", 136),
    ("vrrp", 112),
];

/// Protocols whose rules may have a port range (TCP, UDP, DCCP, SCTP,
/// UDP-Lite): the first four bytes of their header are the ports.
pub(crate) fn has_ports(proto: u8) -> bool {
    matches!(proto, 6 | 17 | 33 | 132 | 136)
}

/// One port's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortEntry {
    /// Port security on: the port's traffic is checked.
    pub(crate) secured: bool,
    /// Index in `SgTables::rulesets`; `None` for a port without groups.
    pub(crate) ruleset: Option<u32>,
}

/// Who a rule is, for traces and `dfctl show tables`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleMeta {
    pub(crate) group_key: u32,
    pub(crate) id: String,
}

/// Conntrack timeouts, in TSC cycles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) tcp_established: u64,
    pub(crate) tcp_transitional: u64,
    pub(crate) tcp_closed: u64,
    pub(crate) udp: u64,
    pub(crate) udp_replied: u64,
    pub(crate) icmp: u64,
    pub(crate) other: u64,
    pub(crate) fragment: u64,
}

/// Lookup-ready security-group state.
#[derive(Debug, Clone, Default)]
pub struct SgTables {
    /// Changes with every build; conntrack entries remember it.
    pub(crate) generation: u64,
    pub(crate) ports: KeyMap<PortEntry>,
    pub(crate) rulesets: Vec<RuleSet>,
    /// Member IPs of each group, by group index.
    pub(crate) members: Vec<HashSet<u128>>,
    /// Every rule, by dense index.
    pub(crate) rules: Vec<RuleMeta>,
    /// Group keys by group index.
    group_keys: Vec<u32>,
    /// Conntrack entries per worker.
    pub(crate) capacity: usize,
    pub(crate) timeouts: Timeouts,
}

/// State of one build.
struct Build {
    /// Group key -> group index.
    groups: StdHashMap<u32, usize>,
    /// Compiled rules of each group, by group index.
    compiled: Vec<Vec<(Direction, EtherType, CRule)>>,
}

impl SgTables {
    /// Builds the tables.
    ///
    /// # Errors
    /// Any inconsistency, naming the entry and field: zero or repeated
    /// keys, a port naming a group that is not listed (or naming one twice),
    /// groups on a port without port security, a member IP that does not
    /// parse, a rule with a repeated id, an unknown protocol, a port range
    /// that is not one (or on a protocol without ports), an ICMP type/code
    /// past 255, a prefix that does not parse, has host bits set or is of
    /// the other IP version, both `remote_ip_prefix` and `remote_group`, a
    /// `remote_group` that is not listed, or conntrack limits out of range.
    pub fn build(cfg: &SgConfig) -> Result<SgTables, String> {
        let mut t = SgTables {
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
            ..SgTables::default()
        };
        let ct = &cfg.conntrack;
        if ct.capacity == 0 || ct.capacity > MAX_CAPACITY {
            return Err(format!(
                "conntrack.capacity: {} is out of range (1..={MAX_CAPACITY})",
                ct.capacity
            ));
        }
        t.capacity = ct.capacity as usize;
        let secs = [
            ("tcp_established_secs", ct.tcp_established_secs),
            ("tcp_transitional_secs", ct.tcp_transitional_secs),
            ("tcp_closed_secs", ct.tcp_closed_secs),
            ("udp_secs", ct.udp_secs),
            ("udp_replied_secs", ct.udp_replied_secs),
            ("icmp_secs", ct.icmp_secs),
            ("other_secs", ct.other_secs),
            ("fragment_secs", ct.fragment_secs),
        ];
        if let Some((name, _)) = secs.iter().find(|(_, s)| *s == 0) {
            return Err(format!("conntrack.{name}: must be at least 1"));
        }
        if cfg.tsc_hz == Some(0) {
            return Err("tsc_hz: must be non-zero (omit it to measure the TSC)".into());
        }
        let hz = cfg.tsc_hz.unwrap_or_else(df_dp::sys::tsc_hz).max(1);
        let c = |s: u32| hz.saturating_mul(u64::from(s));
        t.timeouts = Timeouts {
            tcp_established: c(ct.tcp_established_secs),
            tcp_transitional: c(ct.tcp_transitional_secs),
            tcp_closed: c(ct.tcp_closed_secs),
            udp: c(ct.udp_secs),
            udp_replied: c(ct.udp_replied_secs),
            icmp: c(ct.icmp_secs),
            other: c(ct.other_secs),
            fragment: c(ct.fragment_secs),
        };

        let mut b = Build {
            groups: StdHashMap::new(),
            compiled: Vec::new(),
        };
        for (i, g) in cfg.groups.iter().enumerate() {
            let at = format!("groups[{i}]");
            if g.group_key == 0 {
                return Err(format!("{at}.group_key: must be non-zero"));
            }
            if let Some(first) = b.groups.insert(g.group_key, i) {
                return Err(format!(
                    "{at}.group_key: group {} is listed twice (also groups[{first}])",
                    g.group_key
                ));
            }
            let mut members = HashSet::with_capacity(g.member_ips.len());
            for (j, s) in g.member_ips.iter().enumerate() {
                let ip: IpAddr = s
                    .parse()
                    .map_err(|_| format!("{at}.member_ips[{j}]: `{s}` is not an IP address"))?;
                members.insert(addr(ip));
            }
            t.members.push(members);
            t.group_keys.push(g.group_key);
        }
        for (i, g) in cfg.groups.iter().enumerate() {
            let mut compiled = Vec::with_capacity(g.rules.len());
            for (j, r) in g.rules.iter().enumerate() {
                let at = format!("groups[{i}].rules[{j}]");
                if let Some(k) = g.rules[..j].iter().position(|o| o.id == r.id) {
                    return Err(format!(
                        "{at}.id: `{}` is used twice in group {} (also rules[{k}])",
                        r.id, g.group_key
                    ));
                }
                let index = t.rules.len() as u32;
                let rule = compile_rule(&at, r, index, &b.groups)?;
                t.rules.push(RuleMeta {
                    group_key: g.group_key,
                    id: r.id.clone(),
                });
                compiled.push((r.direction, r.ethertype, rule));
            }
            b.compiled.push(compiled);
        }

        let mut sets: StdHashMap<Vec<usize>, u32> = StdHashMap::new();
        for (i, p) in cfg.ports.iter().enumerate() {
            let at = format!("ports[{i}]");
            if p.port_key == 0 {
                return Err(format!("{at}.port_key: must be non-zero"));
            }
            if t.ports.get(p.port_key).is_some() {
                let first = cfg.ports[..i]
                    .iter()
                    .position(|o| o.port_key == p.port_key)
                    .unwrap_or(0);
                return Err(format!(
                    "{at}.port_key: port {} is listed twice (also ports[{first}])",
                    p.port_key
                ));
            }
            if !p.port_security_enabled && !p.security_groups.is_empty() {
                return Err(format!(
                    "{at}.security_groups: a port without port security cannot have \
                     security groups (Neutron refuses it too)"
                ));
            }
            let mut groups = Vec::with_capacity(p.security_groups.len());
            for (j, key) in p.security_groups.iter().enumerate() {
                let Some(&g) = b.groups.get(key) else {
                    return Err(format!(
                        "{at}.security_groups[{j}]: group {key} is not in groups"
                    ));
                };
                if groups.contains(&g) {
                    return Err(format!(
                        "{at}.security_groups[{j}]: group {key} is listed twice"
                    ));
                }
                groups.push(g);
            }
            groups.sort_unstable();
            let ruleset = if groups.is_empty() {
                None
            } else if let Some(&s) = sets.get(&groups) {
                Some(s)
            } else {
                let s = t.rulesets.len() as u32;
                t.rulesets.push(compile_set(&b, &groups));
                sets.insert(groups, s);
                Some(s)
            };
            t.ports.insert(
                p.port_key,
                PortEntry {
                    secured: p.port_security_enabled,
                    ruleset,
                },
            );
        }
        Ok(t)
    }

    /// The entry of port `key`.
    #[inline]
    pub(crate) fn port(&self, key: u32) -> Option<PortEntry> {
        self.ports.get(key)
    }

    /// The low 32 bits of the generation, as conntrack entries keep it.
    #[inline]
    pub(crate) fn gen32(&self) -> u32 {
        self.generation as u32
    }

    /// Number of ports.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// True when no port is configured.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// JSON summary: ports, groups with their rule ids (by dense index),
    /// rule sets with their rule counts, and the conntrack capacity.
    pub fn describe(&self) -> serde_json::Value {
        let ports: Vec<serde_json::Value> = self
            .ports
            .iter()
            .map(|(key, p)| {
                serde_json::json!({
                    "port_key": key,
                    "port_security_enabled": p.secured,
                    "ruleset": p.ruleset,
                })
            })
            .collect();
        let groups: Vec<serde_json::Value> = self
            .group_keys
            .iter()
            .zip(&self.members)
            .map(|(key, m)| {
                let rules: Vec<serde_json::Value> = self
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.group_key == *key)
                    .map(|(i, r)| serde_json::json!({"index": i, "id": r.id}))
                    .collect();
                serde_json::json!({"group_key": key, "members": m.len(), "rules": rules})
            })
            .collect();
        let rulesets: Vec<serde_json::Value> = self
            .rulesets
            .iter()
            .map(|s| {
                serde_json::json!({
                    "egress_ipv4": s.lists[list_index(false, false)].len(),
                    "egress_ipv6": s.lists[list_index(false, true)].len(),
                    "ingress_ipv4": s.lists[list_index(true, false)].len(),
                    "ingress_ipv6": s.lists[list_index(true, true)].len(),
                })
            })
            .collect();
        serde_json::json!({
            "generation": self.generation,
            "conntrack_capacity": self.capacity,
            "ports": ports,
            "groups": groups,
            "rulesets": rulesets,
        })
    }
}

/// The rule set of ports in `groups` (group indexes, sorted).
fn compile_set(b: &Build, groups: &[usize]) -> RuleSet {
    let mut set = RuleSet::default();
    for ingress in [false, true] {
        for v6 in [false, true] {
            let dir = if ingress {
                Direction::Ingress
            } else {
                Direction::Egress
            };
            let et = if v6 { EtherType::Ipv6 } else { EtherType::Ipv4 };
            let rules: Vec<CRule> = groups
                .iter()
                .filter_map(|g| b.compiled.get(*g))
                .flatten()
                .filter(|(d, e, _)| *d == dir && *e == et)
                .map(|(_, _, r)| *r)
                .collect();
            set.lists[list_index(ingress, v6)] = RuleList::new(&rules, v6);
        }
    }
    set
}

/// Parses a protocol as Neutron spells it; IPv6 rules' `icmp` means ICMPv6.
fn protocol(at: &str, p: &Protocol, v6: bool) -> Result<u8, String> {
    let n = match p {
        Protocol::Number(n) => u8::try_from(*n).ok(),
        Protocol::Name(s) => s.parse::<u8>().ok().or_else(|| {
            let lower = s.to_ascii_lowercase();
            PROTOCOL_NAMES
                .iter()
                .find(|(name, _)| *name == lower)
                .map(|(_, n)| *n)
        }),
    };
    let shown = match p {
        Protocol::Number(n) => n.to_string(),
        Protocol::Name(s) => format!("`{s}`"),
    };
    let n = n.ok_or_else(|| {
        format!(
            "{at}.protocol: {shown} is not a protocol (expected 0..=255 or a name such as \
             tcp, udp, icmp, icmpv6, sctp)"
        )
    })?;
    match (n, v6) {
        (1, true) => Ok(58),
        (58, false) => Err(format!(
            "{at}.protocol: icmpv6 does not match ethertype IPv4"
        )),
        (n, _) => Ok(n),
    }
}

/// Compiles one rule, checking it as the NB model does.
fn compile_rule(
    at: &str,
    r: &SgRule,
    index: u32,
    groups: &StdHashMap<u32, usize>,
) -> Result<CRule, String> {
    let v6 = r.ethertype == EtherType::Ipv6;
    let proto = r
        .protocol
        .as_ref()
        .map(|p| protocol(at, p, v6))
        .transpose()?;
    let mut rule = CRule {
        proto: proto.map_or(ANY, u16::from),
        lo: 0,
        hi: u16::MAX,
        icmp_type: ANY,
        icmp_code: ANY,
        remote: Remote::Any,
        index,
    };
    let (min, max) = (r.port_range_min, r.port_range_max);
    let field = format!("{at}.port_range_min");
    match proto {
        _ if min.is_none() && max.is_none() => {}
        None => return Err(format!("{field}: a port range needs a protocol")),
        Some(p) if has_ports(p) => match (min, max) {
            (Some(lo), Some(hi)) if lo > 65535 || hi > 65535 => {
                return Err(format!(
                    "{field}: [{lo}, {hi}] is not a port range (ports are 0..=65535)"
                ))
            }
            (Some(lo), Some(hi)) if lo > hi => {
                return Err(format!(
                    "{field}: port_range_min {lo} is greater than port_range_max {hi}"
                ))
            }
            (Some(lo), Some(hi)) => {
                rule.lo = lo as u16;
                rule.hi = hi as u16;
            }
            _ => {
                return Err(format!(
                    "{field}: protocol {p} needs both port_range_min and port_range_max, or neither"
                ))
            }
        },
        Some(1 | 58) => {
            let Some(ty) = min else {
                return Err(format!(
                    "{field}: an ICMP code (port_range_max) needs an ICMP type (port_range_min)"
                ));
            };
            for (name, v) in [("port_range_min", Some(ty)), ("port_range_max", max)] {
                if let Some(v) = v.filter(|v| *v > 255) {
                    return Err(format!(
                        "{at}.{name}: {v} is not an ICMP type/code (expected 0..=255)"
                    ));
                }
            }
            rule.icmp_type = ty as u16;
            rule.icmp_code = max.map_or(ANY, |c| c as u16);
        }
        Some(p) => return Err(format!("{field}: protocol {p} has no ports")),
    }
    match (&r.remote_ip_prefix, r.remote_group) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{at}.remote_ip_prefix: remote_ip_prefix and remote_group are mutually exclusive"
            ))
        }
        (Some(p), None) => rule.remote = prefix(&format!("{at}.remote_ip_prefix"), p, v6)?,
        (None, Some(key)) => {
            let Some(&g) = groups.get(&key) else {
                return Err(format!(
                    "{at}.remote_group: group {key} is not in groups (list it with its \
                     member_ips even when no local port is in it)"
                ));
            };
            rule.remote = Remote::Group(g as u32);
        }
        (None, None) => {}
    }
    Ok(rule)
}

/// Parses `addr/len` (a bare address is a host prefix).
fn prefix(at: &str, s: &str, v6: bool) -> Result<Remote, String> {
    let (a, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = a
        .parse()
        .map_err(|_| format!("{at}: `{s}` is not an IP prefix (e.g. 10.0.0.0/8)"))?;
    if ip.is_ipv6() != v6 {
        let et = if v6 { "IPv6" } else { "IPv4" };
        return Err(format!("{at}: {s} does not match ethertype {et}"));
    }
    let bits: u32 = if v6 { 128 } else { 32 };
    let len = match len {
        None => bits,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| *l <= bits)
            .ok_or_else(|| format!("{at}: `{s}` has a bad prefix length (0..={bits})"))?,
    };
    if len == 0 {
        return Ok(Remote::Any);
    }
    // The upper 96 bits of a mapped IPv4 address are always compared.
    let mask = u128::MAX << (bits - len);
    let net = addr(ip);
    if net & !mask != 0 {
        return Err(format!(
            "{at}: {s} has host bits set (the network is {}/{len})",
            match ip {
                IpAddr::V4(_) => IpAddr::from(std::net::Ipv4Addr::from((net & mask) as u32)),
                IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::from(net & mask)),
            }
        ));
    }
    Ok(Remote::Prefix { net, mask })
}

#[cfg(test)]
mod tests;
