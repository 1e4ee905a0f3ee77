//! `output`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "unknown-destination",
        doc: "the destination port key is not a local port in the output config",
    },
    DropSpec {
        name: "no-headroom",
        doc: "a frame for a VLAN uplink had less than 4 bytes of headroom for the tag (a stage grew it at the front; the packet pool's headroom is too small)",
    },
    DropSpec {
        name: "runt",
        doc: "a frame for a VLAN uplink too short to hold an Ethernet header",
    },
];

/// See [`DROPS`].
pub(crate) const UNKNOWN_DESTINATION: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const NO_HEADROOM: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const RUNT: DropId = DropId(2);
