//! What a traced packet records in `provider`.

/// Note: the VLAN id of the 802.1Q tag popped (0 for a priority tag).
pub(crate) const VLAN_POPPED: &str = "provider: vlan popped";
/// Note: a VLAN id (or 4096 for untagged) the uplink carries no network for.
pub(crate) const NO_NETWORK_FOR_VLAN: &str = "provider: no network for vlan (4096 = untagged)";
/// Note: the provider network the packet entered.
pub(crate) const NETWORK: &str = "provider: network key";
