//! What control hands `nat`: the floating IPs whose fixed port is bound on
//! this chassis, and the external (provider) networks they live on.
//!
//! A floating IP names its external network by key; the network is listed
//! once in `external_networks` with its CIDR (which destinations are on-link)
//! and its gateway (the next hop for everything else).

use std::net::Ipv4Addr;

use df_wire::EthernetAddress;
use serde::{Deserialize, Deserializer};

/// The floating IPs of this chassis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatConfig {
    /// TSC frequency in Hz, for the ARP request rate limit; `None`: measured
    /// once (`df_dp::sys::tsc_hz`, about 20 ms) when the tables are built.
    #[serde(default)]
    pub tsc_hz: Option<u64>,
    /// One entry per floating IP associated with a port bound here.
    #[serde(default)]
    pub floating_ips: Vec<FloatingIp>,
    /// The external networks the floating IPs are on.
    #[serde(default)]
    pub external_networks: Vec<ExternalNetwork>,
}

/// A floating IP `floating_ip` (P) on external network E, translated to and
/// from the fixed IP `fixed_ip` (F) of a VM port in tenant network T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatingIp {
    /// P, the public address, e.g. `"198.18.0.10"`.
    pub floating_ip: Ipv4Addr,
    /// F, the VM's address in its tenant network.
    pub fixed_ip: Ipv4Addr,
    /// The VM port's unique key (non-zero).
    pub port_key: u32,
    /// T, the VM port's network key (non-zero).
    pub network_key: u32,
    /// Mv, the VM port's MAC.
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
    /// Mr, the MAC of the router interface on T (source MAC of translated
    /// ingress packets).
    #[serde(deserialize_with = "mac")]
    pub router_mac: EthernetAddress,
    /// Kf, the unique key of the floating IP's own port on E (non-zero).
    pub floating_port_key: u32,
    /// Mf, the MAC of that port (source MAC of translated egress packets and
    /// of ARP requests).
    #[serde(deserialize_with = "mac")]
    pub floating_mac: EthernetAddress,
    /// E, the external network's key; must be in `external_networks`.
    pub external_network_key: u32,
}

/// An external (flat or VLAN provider) network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalNetwork {
    /// Its network key (non-zero, unique).
    pub network_key: u32,
    /// Its IPv4 subnet, e.g. `"198.18.0.0/24"`: destinations inside it are
    /// reached directly, the others through `gateway`.
    pub cidr: String,
    /// The subnet's gateway (inside `cidr`); `None`: only on-link
    /// destinations are reachable (others drop `no-gateway`).
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
}

fn mac<'de, D: Deserializer<'de>>(d: D) -> Result<EthernetAddress, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{s}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)"
        ))
    })
}
