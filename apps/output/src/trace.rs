//! What a traced packet records in `output`: the switch port chosen (the
//! framework records the transmit itself).

/// Note: the destination port key looked up.
pub(crate) const DESTINATION: &str = "destination port key";
/// Note: the VLAN id of the 802.1Q tag pushed for a VLAN uplink.
pub(crate) const VLAN_PUSHED: &str = "vlan pushed: id";
