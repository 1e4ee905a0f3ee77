//! `l2`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "runt",
        doc: "frame shorter than an Ethernet header",
    },
    DropSpec {
        name: "unknown-unicast",
        doc: "no port of the network has the destination MAC and the network has no uplink to a physical network, or the frame came from that uplink (there is no MAC learning: check the port's MAC in the model)",
    },
    DropSpec {
        name: "unknown-network",
        doc: "broadcast or multicast in a network l2 has no ports for",
    },
    DropSpec {
        name: "no-flood-target",
        doc: "broadcast or multicast in a network whose only port is the source",
    },
];

/// See [`DROPS`].
pub(crate) const RUNT: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const UNKNOWN_UNICAST: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const UNKNOWN_NETWORK: DropId = DropId(2);
/// See [`DROPS`].
pub(crate) const NO_FLOOD_TARGET: DropId = DropId(3);
