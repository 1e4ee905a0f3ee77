//! What a traced packet records in `input`: the source port key found, or
//! that the port is an uplink.

/// Note: the logical source port the switch port maps to.
pub(crate) const SOURCE_PORT: &str = "source port key";

/// Note: the switch port is an uplink to a physical network.
pub(crate) const UPLINK: &str = "uplink port";

/// Note: the VLAN id of a tagged frame on a trunk parent's port.
pub(crate) const TRUNK_CHILD: &str = "trunk: vlan";
