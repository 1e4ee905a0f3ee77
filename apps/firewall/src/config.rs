//! What control hands `firewall`, compiled from the NB model's
//! `firewall_group`, `firewall_policy` and `firewall_rule` tables and the
//! routers' interface ports.
//!
//! Control does the joins so the datapath does not have to: each router
//! lists its interfaces as (network, router port, group bound to that
//! port), and each group carries its two policies already flattened into
//! the ordered rule lists they reference (`null`: the group has no policy
//! in that direction, so that direction is not filtered; `[]`: a policy
//! with no rules, which denies everything). Prefixes and protocols stay
//! text here and are checked in `tables.rs`, so that an error names its
//! place (`groups[1].egress[0].source_prefix: ...`).

use serde::Deserialize;

/// The whole configuration of a `firewall` vertex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirewallConfig {
    /// TSC frequency used to turn rates and timeouts into cycles; measured
    /// with `df_dp::sys::tsc_hz()` when absent.
    pub tsc_hz: Option<u64>,
    /// Reject replies (TCP RST, ICMP prohibited) per router port.
    pub reject_rate: RateLimit,
    /// The connection cache that lets replies of allowed flows back in.
    pub conntrack: ConntrackConfig,
    /// The routers and their interface ports.
    pub routers: Vec<FirewallRouter>,
    /// Every group a router port names.
    pub groups: Vec<FirewallGroup>,
}

/// A token bucket per router port and worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    /// Messages per second (0: no limit).
    pub per_sec: u32,
    /// Messages allowed at once (bucket size).
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_sec: 10,
            burst: 10,
        }
    }
}

/// Size and timeout of each worker's connection cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConntrackConfig {
    /// Flows each worker remembers (rounded up to a power of two).
    pub capacity: u32,
    /// A flow is forgotten after this many seconds without a packet.
    pub idle_secs: u32,
}

impl Default for ConntrackConfig {
    fn default() -> Self {
        ConntrackConfig {
            capacity: 16384,
            idle_secs: 300,
        }
    }
}

/// One logical router.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallRouter {
    /// The router's unique key (non-zero).
    pub router_key: u32,
    /// Its interfaces, one per attached network.
    #[serde(default)]
    pub ports: Vec<FirewallPort>,
}

/// One router interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallPort {
    /// The network (lswitch unique key) the interface sits in.
    pub network_key: u32,
    /// The router interface lport's unique key (non-zero).
    pub port_key: u32,
    /// The unique key of the firewall group bound to the port; absent:
    /// the port is not firewalled and everything passes.
    #[serde(default)]
    pub firewall_group: Option<u32>,
}

/// One firewall group with its two policies, flattened.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallGroup {
    /// The group's unique key (non-zero).
    pub key: u32,
    /// The ingress policy's rules in order (traffic the router sends into
    /// the port's network); `null`: no ingress policy, nothing filtered.
    #[serde(default)]
    pub ingress: Option<Vec<FirewallRule>>,
    /// The egress policy's rules in order (traffic leaving the port's
    /// network through the router); `null`: no egress policy.
    #[serde(default)]
    pub egress: Option<Vec<FirewallRule>>,
}

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Pass on.
    Allow,
    /// Drop silently.
    Deny,
    /// Drop and answer with a TCP reset or an ICMP administratively
    /// prohibited.
    Reject,
}

/// A protocol: a name (`tcp`, `udp`, `icmp`, `icmpv6`, `any`, ...) or an
/// IANA number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ProtocolSpec {
    /// 0..=255.
    Number(u8),
    /// A name, any case.
    Name(String),
}

/// One firewall rule (Neutron FWaaS v2 fields, renamed as control flattens
/// them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallRule {
    /// The Neutron rule id (for `dfctl show tables`).
    pub id: String,
    /// allow, deny or reject.
    pub action: RuleAction,
    /// 4 or 6.
    pub ip_version: u8,
    /// Absent, `null` or `any`: every protocol.
    #[serde(default)]
    pub protocol: Option<ProtocolSpec>,
    /// Source prefix (`10.0.0.0/24`, `2001:db8::/64`, or a host address).
    #[serde(default)]
    pub source_prefix: Option<String>,
    /// Destination prefix.
    #[serde(default)]
    pub destination_prefix: Option<String>,
    /// Source port range `[min, max]` (protocols with ports only).
    #[serde(default)]
    pub source_port: Option<[u16; 2]>,
    /// Destination port range `[min, max]` (protocols with ports only).
    #[serde(default)]
    pub destination_port: Option<[u16; 2]>,
    /// A disabled rule is skipped.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}
