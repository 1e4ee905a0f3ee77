//! What control hands `l2`: each network's ports, their MACs and the IP
//! addresses the ARP and ND responders answer for.

use std::net::IpAddr;

use df_wire::EthernetAddress;
use serde::{Deserialize, Deserializer};

/// The forwarding database, by network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2Config {
    /// The networks.
    pub networks: Vec<L2Network>,
}

/// One logical network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2Network {
    /// The network's unique key (non-zero).
    pub network_key: u32,
    /// The port key of the network's uplink to its physical network (a
    /// flat or VLAN provider network): unknown unicast goes there unless
    /// it came from there, and it is one of the flood targets. `None`: a
    /// network with no way out of this chassis.
    #[serde(default)]
    pub uplink: Option<u32>,
    /// The network's remote-flood key: one flood copy goes to it, for the
    /// overlay to replicate to every other chassis with ports in the
    /// network. Frames from the overlay carry it as their source port key,
    /// so they are never flooded back. `None`: no remote chassis.
    #[serde(default)]
    pub remote_flood: Option<u32>,
    /// Its ports.
    pub ports: Vec<L2Port>,
}

/// One port of a network. Router interfaces and DHCP ports are ports like
/// any other here: their IPs are answered for with their MACs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2Port {
    /// The logical port's unique key (non-zero).
    pub port_key: u32,
    /// Its MAC address (unicast), written `aa:bb:cc:dd:ee:ff`.
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
    /// Its IPv4 and IPv6 addresses (fixed IPs and allowed address pairs
    /// owned by this MAC), answered locally for ARP and Neighbour
    /// Solicitation; none by default.
    #[serde(default, deserialize_with = "ips")]
    pub ips: Vec<IpAddr>,
    /// A flood target (default): broadcast and multicast reach it. Control
    /// clears it for ports that are not plugged into this switch (ports of
    /// other chassis get their floods through the remote-flood key; router
    /// and DHCP ports are answered for, not flooded to).
    #[serde(default = "yes")]
    pub flood: bool,
}

fn yes() -> bool {
    true
}

fn mac<'de, D: Deserializer<'de>>(d: D) -> Result<EthernetAddress, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{s}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)"
        ))
    })
}

fn ips<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse().map_err(|_| {
                serde::de::Error::custom(format!(
                    "ips[{i}]: `{s}` is not an IP address (expected IPv4 like 10.0.0.5 or IPv6 like fd00::5)"
                ))
            })
        })
        .collect()
}
