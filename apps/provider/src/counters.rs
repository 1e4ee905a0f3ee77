//! `provider`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "runt",
        doc: "frame shorter than an Ethernet header, or cut short inside its 802.1Q tag",
    },
    DropSpec {
        name: "unknown-port",
        doc: "received on a switch port bound to provider that is no physical network's uplink (check the provider config's `uplinks` and the daemon's port bindings)",
    },
    DropSpec {
        name: "unknown-vlan",
        doc: "the uplink carries no network for the frame's VLAN id, or the frame is untagged and the uplink has no flat network (check the networks' segmentation ids on this physical network)",
    },
];

/// See [`DROPS`].
pub(crate) const RUNT: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const UNKNOWN_PORT: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const UNKNOWN_VLAN: DropId = DropId(2);
