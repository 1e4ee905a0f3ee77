//! What control hands `provider`: the switch ports that are uplinks to
//! physical networks (Dragonflow's `bridge_mappings` patch ports) and the
//! provider networks each carries, untagged (flat) or by VLAN id.

use serde::Deserialize;

/// The uplinks of this chassis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// One entry per switch port that is a physical network's uplink.
    pub uplinks: Vec<Uplink>,
}

/// One switch port attached to a physical network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uplink {
    /// Switch port id.
    pub port: u16,
    /// The physical network's name (Neutron's `provider:physical_network`,
    /// e.g. `physnet1`); one uplink per physical network.
    pub physical_network: String,
    /// The provider networks this uplink carries.
    pub networks: Vec<ProviderNetwork>,
}

/// One provider network on an uplink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderNetwork {
    /// The logical network's unique key (non-zero).
    pub network_key: u32,
    /// The port key the uplink has in this network: frames from the
    /// physical network carry it as their source port key, so that l2
    /// never floods or sends unknown unicast back to where they came from.
    /// 0 (the default): none, as Dragonflow's zeroed `in_port`.
    #[serde(default)]
    pub port_key: u32,
    /// The VLAN id (1..=4094) of a VLAN network; absent for the flat
    /// (untagged) network, of which an uplink carries at most one.
    #[serde(default)]
    pub vlan: Option<u16>,
}
