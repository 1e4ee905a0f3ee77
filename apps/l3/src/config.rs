//! What control hands `l3-proactive`, compiled from the NB model's
//! `lrouter`, `lswitch`, `lsubnet` and `lport` tables: every router with its
//! interfaces and extra routes, and per network the addresses of its ports
//! (Dragonflow's table 65 proactive entries), plus the ICMP rate limits
//! Dragonflow kept in its config file (`router_ttl_invalid_max_rate`,
//! `router_port_unreach_max_rate`).
//!
//! Addresses are text here and parsed by [`crate::tables`], so that an error
//! names the exact field (`routers[0].ports[1].ip: ...`).

use serde::Deserialize;

/// The whole configuration of an `l3-proactive` vertex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L3Config {
    /// TSC frequency used to turn rate limits into cycles; measured with
    /// `df_dp::sys::tsc_hz()` when absent.
    pub tsc_hz: Option<u64>,
    /// ICMP time exceeded per router (`router_ttl_invalid_max_rate`).
    pub time_exceeded_rate: RateLimit,
    /// ICMP destination unreachable (net, host, port) per router
    /// (`router_port_unreach_max_rate`).
    pub unreachable_rate: RateLimit,
    /// The routers.
    pub routers: Vec<L3Router>,
    /// The networks attached to them, with their ports' addresses.
    pub networks: Vec<L3Network>,
}

/// A token bucket per router and worker for the ICMP errors it generates.
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
            per_sec: 3,
            burst: 3,
        }
    }
}

/// One logical router (`lrouter`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L3Router {
    /// The router's unique key (non-zero).
    pub router_key: u32,
    /// Its interfaces, one per (router port, subnet).
    #[serde(default)]
    pub ports: Vec<RouterPort>,
    /// Extra routes (`lrouter.routes`).
    #[serde(default)]
    pub routes: Vec<ExtraRoute>,
    /// The router reaches an external network (a floating IP of one of
    /// its ports is served here): IPv4 it has no route for leaves by
    /// `out.external` (for NAT) instead of being answered with an ICMP
    /// network unreachable.
    #[serde(default)]
    pub external: bool,
}

/// One router interface address. A router port with an IPv4 and an IPv6
/// subnet is listed twice, with the same port key, network and MAC.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterPort {
    /// The router interface lport's unique key (non-zero).
    pub port_key: u32,
    /// The network (lswitch unique key) it sits in.
    pub network_key: u32,
    /// The router's MAC in that network, `fa:16:3e:00:00:01`.
    pub mac: String,
    /// The interface address (IPv4 or IPv6), usually the subnet's gateway.
    pub ip: String,
    /// The subnet's prefix length.
    pub prefix_len: u8,
}

/// An extra route.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraRoute {
    /// Destination prefix, `10.1.0.0/16` or `2001:db8:1::/48`.
    pub destination: String,
    /// Next hop, on one of the router's interface subnets.
    pub nexthop: String,
}

/// One logical network and the addresses of its ports.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L3Network {
    /// The network's unique key (non-zero).
    pub network_key: u32,
    /// Its ports (router interface ports may be listed too; they are
    /// skipped, the router's own entry is authoritative).
    #[serde(default)]
    pub ports: Vec<L3Port>,
}

/// One port of a network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L3Port {
    /// The lport's unique key (non-zero).
    pub port_key: u32,
    /// Its MAC.
    pub mac: String,
    /// Its fixed IPs (IPv4 and IPv6).
    #[serde(default)]
    pub ips: Vec<String>,
    /// Allowed address pairs: more addresses routed to this port.
    #[serde(default)]
    pub allowed_address_pairs: Vec<AddressPair>,
}

/// An allowed address pair (a VIP the port may answer for).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressPair {
    /// A host address (not a CIDR).
    pub ip: String,
    /// The MAC to send to; the port's MAC when absent.
    #[serde(default)]
    pub mac: Option<String>,
}
