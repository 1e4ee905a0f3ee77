//! What a traced packet records in `xconnect`: the peer chosen.

/// Note: the destination port key.
pub(crate) const PEER: &str = "peer port key";
