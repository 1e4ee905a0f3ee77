//! What control hands `dhcp`: per network, its DHCP server port (Dragonflow's
//! `network:dhcp` lport), its subnets and the client ports to answer; plus
//! the deployment-wide defaults Dragonflow kept in its config file
//! (`df_dns_servers`, `dns_domain`, `dhcp_lease_duration`,
//! `df_add_link_local_route`, `df_dhcp_max_rate_per_sec`,
//! `df_dhcp_block_time_in_sec`).
//!
//! Everything is plain data: addresses as text, validated and resolved into
//! per-port answers by [`crate::tables`]. IPv6 (Router Advertisements and
//! DHCPv6) has its own per-network list, in [`ipv6`].

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use df_wire::EthernetAddress;
use serde::{Deserialize, Deserializer};

mod ipv6;
pub use ipv6::{Dhcp6Network, Dhcp6Port, Dhcp6Subnet, Ipv6Cidr, Ipv6Mode, Router6};

/// Dragonflow's default lease (`dhcp_lease_duration`), one day.
pub const DEFAULT_LEASE_SECS: u32 = 86_400;

/// The whole configuration of a `dhcp` vertex.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DhcpConfig {
    /// TSC frequency used to turn rate limits into cycles; measured with
    /// `df_dp::sys::tsc_hz()` when absent.
    pub tsc_hz: Option<u64>,
    /// DNS servers for subnets that list none (`df_dns_servers`).
    pub dns_nameservers: Vec<Ipv4Addr>,
    /// Domain name (option 15) for subnets that set none (`dns_domain`).
    pub domain_name: Option<String>,
    /// Lease in seconds for subnets that set none (`dhcp_lease_duration`);
    /// `4294967295` is an infinite lease (no T1/T2).
    pub lease_time: u32,
    /// Whether and how to add the 169.254.169.254/32 metadata route
    /// (`df_add_link_local_route`).
    pub metadata_route: MetadataRoute,
    /// Per-port DHCP rate limit for ports that set none.
    pub rate_limit: RateLimit,
    /// The networks with DHCP clients on this chassis.
    pub networks: Vec<DhcpNetwork>,
    /// The same networks' IPv6 services (RAs, DHCPv6); absent in a
    /// DHCPv4-only config.
    pub ipv6_networks: Vec<Dhcp6Network>,
}

impl Default for DhcpConfig {
    fn default() -> Self {
        DhcpConfig {
            tsc_hz: None,
            dns_nameservers: Vec::new(),
            domain_name: None,
            lease_time: DEFAULT_LEASE_SECS,
            metadata_route: MetadataRoute::Off,
            rate_limit: RateLimit::default(),
            networks: Vec::new(),
            ipv6_networks: Vec::new(),
        }
    }
}

/// The next hop of the 169.254.169.254/32 route in option 121.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataRoute {
    /// No metadata route.
    #[default]
    Off,
    /// Via the client's own address (what Dragonflow sent).
    Port,
    /// Via the subnet's DHCP server address (what Neutron's isolated
    /// metadata sends).
    DhcpServer,
    /// On-link (next hop 0.0.0.0): the client ARPs for 169.254.169.254.
    OnLink,
}

/// A token bucket per client port; exceeding it blocks the port's DHCP
/// for `block_secs` (Dragonflow installed a drop flow with that hard timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per second (0: no limit).
    pub per_sec: u32,
    /// Requests allowed at once (bucket size).
    pub burst: u32,
    /// How long a port that exceeded the limit stays blocked.
    pub block_secs: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_sec: 3,
            burst: 3,
            block_secs: 100,
        }
    }
}

/// One logical network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpNetwork {
    /// The network's unique key (non-zero).
    pub network_key: u32,
    /// MTU advertised in option 26 (the network's, already reduced for
    /// overlay encapsulation); none: option 26 is not sent.
    #[serde(default)]
    pub mtu: Option<u16>,
    /// The network's DHCP server ports (normally one, with an address in
    /// each DHCP-enabled subnet).
    #[serde(default)]
    pub dhcp_ports: Vec<DhcpServerPort>,
    /// IPv4 subnets.
    #[serde(default)]
    pub subnets: Vec<DhcpSubnet>,
    /// Client ports.
    #[serde(default)]
    pub ports: Vec<DhcpClientPort>,
}

/// A DHCP server port (Dragonflow's `network:dhcp` lport).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpServerPort {
    /// The MAC replies come from.
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
    /// Its addresses; each serves the subnet it falls in.
    pub ips: Vec<Ipv4Addr>,
}

/// One IPv4 subnet (Dragonflow's `lsubnet`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpSubnet {
    /// The subnet, `10.0.0.0/24`.
    pub cidr: Ipv4Cidr,
    /// Default gateway (option 3 and the 0.0.0.0/0 route of option 121).
    #[serde(default)]
    pub gateway_ip: Option<Ipv4Addr>,
    /// DNS servers; empty: the config's default list.
    #[serde(default)]
    pub dns_nameservers: Vec<Ipv4Addr>,
    /// Extra routes (option 121).
    #[serde(default)]
    pub host_routes: Vec<HostRoute>,
    /// False: requests from the subnet's ports are dropped.
    #[serde(default = "yes")]
    pub enable_dhcp: bool,
    /// Domain name; none: the config's default.
    #[serde(default)]
    pub domain_name: Option<String>,
    /// Lease in seconds; none: the config's default.
    #[serde(default)]
    pub lease_time: Option<u32>,
}

/// A route pushed to clients in option 121.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostRoute {
    /// Destination prefix (host bits are ignored).
    pub destination: Ipv4Cidr,
    /// Next hop.
    pub nexthop: Ipv4Addr,
}

/// A client port (a VM's lport).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpClientPort {
    /// The logical port's unique key (non-zero).
    pub port_key: u32,
    /// Its MAC address.
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
    /// Its fixed IPv4 address; the subnet is the one containing it.
    pub ip: Ipv4Addr,
    /// Neutron's `extra_dhcp_opts` (Dragonflow's `dhcp_params.opts`).
    #[serde(default)]
    pub dhcp_options: Vec<ExtraOption>,
    /// `siaddr` (Dragonflow's `dhcp_params.siaddr`); none: the server's address.
    #[serde(default)]
    pub siaddr: Option<Ipv4Addr>,
    /// BOOTP `file` field (at most 127 bytes).
    #[serde(default)]
    pub boot_file: Option<String>,
    /// This port's rate limit; none: the config's default.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
}

/// One extra DHCP option of a port. Exactly one of `text`, `ips`, `hex`,
/// `routes` is given. Tags 3 (router), 6 (DNS) and 15 (domain) replace the
/// subnet's value and are always sent; tag 121 adds routes; any other tag is
/// sent when the client asks for it (option 55).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraOption {
    /// Option code.
    pub tag: u8,
    /// Text, sent as its bytes.
    #[serde(default)]
    pub text: Option<String>,
    /// Addresses, sent as 4 bytes each.
    #[serde(default)]
    pub ips: Option<Vec<Ipv4Addr>>,
    /// Raw bytes as hex digits (`"0104c0a80001"`).
    #[serde(default)]
    pub hex: Option<String>,
    /// Routes (tag 121 only).
    #[serde(default)]
    pub routes: Option<Vec<HostRoute>>,
}

/// An IPv4 prefix written `a.b.c.d/n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    /// The address as written.
    pub addr: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix_len: u8,
}

impl Ipv4Cidr {
    /// The netmask.
    pub fn mask(&self) -> u32 {
        match self.prefix_len {
            0 => 0,
            n => u32::MAX << (32 - u32::from(n.min(32))),
        }
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    /// True if `ip` is inside the prefix.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network())
    }

    /// The directed broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network()) | !self.mask())
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not an IPv4 prefix (expected e.g. 10.0.0.0/24)");
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
        let prefix_len: u8 = p.parse().map_err(|_| bad())?;
        if prefix_len > 32 {
            return Err(bad());
        }
        Ok(Ipv4Cidr { addr, prefix_len })
    }
}

impl<'de> Deserialize<'de> for Ipv4Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn yes() -> bool {
    true
}

fn mac<'de, D: Deserializer<'de>>(d: D) -> Result<EthernetAddress, D::Error> {
    let s = String::deserialize(d)?;
    parse_mac(&s).map_err(serde::de::Error::custom)
}

fn parse_mac(s: &str) -> Result<EthernetAddress, String> {
    s.parse().map_err(|_| {
        format!("`{s}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)")
    })
}
