//! What control hands `output`: which switch port carries each local port.

use serde::Deserialize;

/// The local ports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// One entry per local logical port.
    pub ports: Vec<OutputPort>,
}

/// A local logical port and its switch port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputPort {
    /// The logical port's unique key (non-zero).
    pub port_key: u32,
    /// Switch port id.
    pub port: u16,
}
