//! What control hands `input`: which logical port each switch port carries.

use serde::Deserialize;

/// The switch-port bindings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// One entry per bound switch port.
    pub ports: Vec<InputPort>,
    /// Switch ports that are uplinks to a physical network (Dragonflow's
    /// `bridge_mappings` patch ports): their traffic leaves by
    /// `out.provider`, unclassified (`provider` finds the network by VLAN).
    #[serde(default)]
    pub uplinks: Vec<u16>,
    /// Trunk child ports (VLAN-aware VMs): a frame received on `port`
    /// tagged with `vlan` belongs to the child; the tag is popped. The
    /// switch port must also be listed in `ports` (the parent, untagged).
    #[serde(default)]
    pub vlans: Vec<InputVlan>,
}

/// One trunk child port, by VLAN id on its parent's switch port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputVlan {
    /// Switch port id (the parent's).
    pub port: u16,
    /// VLAN id (1..=4094).
    pub vlan: u16,
    /// The child's port key (non-zero).
    pub port_key: u32,
    /// The child's network key (non-zero).
    pub network_key: u32,
}

/// One switch port bound to a logical VM port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputPort {
    /// Switch port id.
    pub port: u16,
    /// The logical port's unique key (non-zero).
    pub port_key: u32,
    /// The logical network's unique key (non-zero).
    pub network_key: u32,
}
