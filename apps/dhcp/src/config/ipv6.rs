//! IPv6 host configuration: what control hands `dhcp` for the Router
//! Advertisements it answers Router Solicitations with and for its DHCPv6
//! server (RFC 8415, stateful and stateless), per network.
//!
//! Why a list of its own beside [`DhcpConfig::networks`](crate::DhcpConfig):
//! a port may have IPv6 addresses and no IPv4 one, a network may have only
//! IPv6 subnets, and the IPv4 types stay as they are (existing configs and
//! the code that builds them are unchanged). The two lists meet by network
//! key (the RA's MTU is the IPv4 entry's `mtu`) and by port key (a port in
//! both shares one rate-limit bucket).

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use df_wire::EthernetAddress;
use serde::{Deserialize, Deserializer};

/// Neutron's `ipv6_ra_mode` / `ipv6_address_mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Ipv6Mode {
    /// Stateless address autoconfiguration from the RA's prefix.
    #[serde(rename = "slaac")]
    Slaac,
    /// Addresses (and other settings) from DHCPv6.
    #[serde(rename = "dhcpv6-stateful")]
    Dhcpv6Stateful,
    /// SLAAC addresses, other settings (DNS) from DHCPv6.
    #[serde(rename = "dhcpv6-stateless")]
    Dhcpv6Stateless,
}

impl Ipv6Mode {
    /// Neutron's spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Ipv6Mode::Slaac => "slaac",
            Ipv6Mode::Dhcpv6Stateful => "dhcpv6-stateful",
            Ipv6Mode::Dhcpv6Stateless => "dhcpv6-stateless",
        }
    }
}

/// One network's IPv6 services.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dhcp6Network {
    /// The network's unique key (non-zero); the same key in `networks`
    /// gives the MTU the RA advertises.
    pub network_key: u32,
    /// The router's interface on this network: the source of Router
    /// Advertisements. None: Router Solicitations are not answered.
    #[serde(default)]
    pub router: Option<Router6>,
    /// The DHCPv6 server's MAC (Neutron's DHCP port on this network): the
    /// server's DUID-LL and link-local address (EUI-64) come from it.
    /// None: the router's MAC and link-local serve DHCPv6.
    #[serde(default, deserialize_with = "opt_mac")]
    pub server_mac: Option<EthernetAddress>,
    /// IPv6 subnets.
    #[serde(default)]
    pub subnets: Vec<Dhcp6Subnet>,
    /// Client ports with their IPv6 fixed addresses.
    #[serde(default)]
    pub ports: Vec<Dhcp6Port>,
}

/// A router interface: the RA's Ethernet and IPv6 source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Router6 {
    /// The router port's MAC (also the RA's source link-layer option).
    #[serde(deserialize_with = "super::mac")]
    pub mac: EthernetAddress,
    /// The router port's link-local address (fe80::/64, usually the MAC's
    /// EUI-64).
    pub link_local: Ipv6Addr,
}

/// One IPv6 subnet (Neutron subnet with `ip_version` 6).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dhcp6Subnet {
    /// The prefix, `2001:db8:1::/64`.
    pub cidr: Ipv6Cidr,
    /// `ipv6_ra_mode`: set, the prefix is advertised in RAs; none, RAs do
    /// not mention it (an external router advertises it, or nobody).
    #[serde(default)]
    pub ra_mode: Option<Ipv6Mode>,
    /// `ipv6_address_mode`: `dhcpv6-stateful` gives ports their fixed
    /// addresses by DHCPv6; `dhcpv6-stateless` (and stateful) answer
    /// INFORMATION-REQUEST with DNS; none or `slaac`: no DHCPv6 for it.
    #[serde(default)]
    pub address_mode: Option<Ipv6Mode>,
    /// DNS servers (DHCPv6 option 23).
    #[serde(default)]
    pub dns_nameservers: Vec<Ipv6Addr>,
}

/// A client port's IPv6 side.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dhcp6Port {
    /// The logical port's unique key (non-zero).
    pub port_key: u32,
    /// Its IPv6 fixed addresses (all of them; those in `dhcpv6-stateful`
    /// subnets are handed out in IA_NA).
    #[serde(default)]
    pub ips: Vec<Ipv6Addr>,
}

/// An IPv6 prefix written `addr/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Cidr {
    /// The address as written.
    pub addr: Ipv6Addr,
    /// Prefix length, 0..=128.
    pub prefix_len: u8,
}

impl Ipv6Cidr {
    fn mask(&self) -> u128 {
        match self.prefix_len {
            0 => 0,
            n => u128::MAX << (128 - u32::from(n.min(128))),
        }
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv6Addr {
        Ipv6Addr::from(u128::from(self.addr) & self.mask())
    }

    /// True if `ip` is inside the prefix.
    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & self.mask() == u128::from(self.network())
    }
}

impl fmt::Display for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Ipv6Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not an IPv6 prefix (expected e.g. 2001:db8:1::/64)");
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv6Addr = a.parse().map_err(|_| bad())?;
        let prefix_len: u8 = p.parse().map_err(|_| bad())?;
        if prefix_len > 128 {
            return Err(bad());
        }
        Ok(Ipv6Cidr { addr, prefix_len })
    }
}

impl<'de> Deserialize<'de> for Ipv6Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn opt_mac<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EthernetAddress>, D::Error> {
    let Some(s) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    super::parse_mac(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}
