//! What control hands `output`: which switch port carries each local port
//! (and each provider network's uplink, with its VLAN id), and which port
//! keys are reached through the overlay.

use serde::Deserialize;

/// The local ports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// One entry per local logical port.
    pub ports: Vec<OutputPort>,
    /// Port keys that live on other chassis, and the networks'
    /// remote-flood keys: they leave by `out.remote`, for the overlay.
    #[serde(default)]
    pub remote: Vec<u32>,
    /// Port keys of floating IPs' ports hosted here: what is sent to them
    /// leaves by `out.nat`, to be translated to the fixed port.
    #[serde(default)]
    pub nat: Vec<u32>,
}

/// A local logical port and its switch port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputPort {
    /// The logical port's unique key (non-zero).
    pub port_key: u32,
    /// Switch port id.
    pub port: u16,
    /// Push an 802.1Q tag with this VLAN id (1..=4094) on the way out: a
    /// VLAN provider network's uplink. `None`: untagged.
    #[serde(default)]
    pub vlan: Option<u16>,
}
