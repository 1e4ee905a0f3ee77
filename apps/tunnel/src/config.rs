//! What control hands `tunnel`: this chassis' end of the overlay (its
//! underlay switch port, tunnel IP and MAC), the tunnelled networks with
//! their VNIs, the remote chassis and the remote logical ports behind them.
//!
//! Chassis are listed once and referred to by index, so that a network's
//! flood list and every remote port name the same entry (and the same
//! precomputed outer headers).

use std::net::Ipv4Addr;

use df_wire::EthernetAddress;
use serde::{Deserialize, Deserializer};

/// The overlay as this chassis sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelConfig {
    /// This chassis' end; `None`: tunnelling off (encap drops `no-underlay`,
    /// decap drops `no-underlay`).
    #[serde(default)]
    pub local: Option<LocalEndpoint>,
    /// The tunnelled networks (Dragonflow's lswitches whose network type is
    /// `geneve` or `vxlan`).
    #[serde(default)]
    pub networks: Vec<TunnelNetwork>,
    /// The other chassis this one tunnels to.
    #[serde(default)]
    pub chassis: Vec<RemoteChassis>,
    /// The logical ports bound on other chassis.
    #[serde(default)]
    pub ports: Vec<RemotePort>,
}

/// This chassis' tunnel endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalEndpoint {
    /// The underlay switch port (a DPDK port): encapsulated frames leave by
    /// it, and frames it receives are bound to `tunnel.in.decap`.
    pub port: u16,
    /// The local tunnel IP (Dragonflow's chassis `ip`), e.g. `"172.16.0.1"`.
    pub ip: Ipv4Addr,
    /// The underlay port's MAC, e.g. `"52:54:00:00:00:01"`.
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
    /// TTL of the outer IPv4 header (1..=255).
    #[serde(default = "default_ttl")]
    pub ttl: u8,
}

fn default_ttl() -> u8 {
    64
}

/// One tunnelled network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelNetwork {
    /// The logical network's unique key (non-zero).
    pub network_key: u32,
    /// Its segmentation id (< 2^24), unique among networks of its type.
    pub vni: u32,
    /// The encapsulation.
    #[serde(rename = "type", default)]
    pub kind: TunnelKind,
    /// The destination port key meaning "flood to every remote chassis of
    /// this network" (non-zero, unique, never a port key).
    pub flood_key: u32,
    /// Indexes into `chassis`: the remote chassis with ports in this network
    /// (each gets one copy of a flooded frame).
    #[serde(default)]
    pub chassis: Vec<u32>,
}

/// The encapsulation of a network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelKind {
    /// Geneve (RFC 8926), UDP port 6081: Dragonflow's default.
    #[default]
    Geneve,
    /// VXLAN (RFC 7348), UDP port 4789.
    Vxlan,
}

/// Another chassis.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteChassis {
    /// Its name (Dragonflow's chassis id, the hostname), for errors and
    /// `describe`.
    pub id: String,
    /// Its tunnel IP.
    pub ip: Ipv4Addr,
    /// The MAC to send to: the peer's underlay MAC (same L2 segment) or the
    /// underlay gateway's.
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
}

/// A logical port bound on another chassis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemotePort {
    /// Its unique key (non-zero, not a flood key).
    pub port_key: u32,
    /// Its network (one of `networks`): gives the VNI and encapsulation.
    pub network_key: u32,
    /// Index into `chassis`: where it is bound.
    pub chassis: u32,
}

fn mac<'de, D: Deserializer<'de>>(d: D) -> Result<EthernetAddress, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{s}` is not a MAC address (expected six hex bytes, e.g. 52:54:00:00:00:01)"
        ))
    })
}
