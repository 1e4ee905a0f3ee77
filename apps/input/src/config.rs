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
