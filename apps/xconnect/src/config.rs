//! What control hands `xconnect`: port pairs.

use serde::Deserialize;

/// The patches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XconnectConfig {
    /// One entry per direction.
    pub pairs: Vec<XconnectPair>,
}

/// Traffic from `from` goes to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XconnectPair {
    /// Source logical port key.
    pub from: u32,
    /// Destination logical port key.
    pub to: u32,
}
