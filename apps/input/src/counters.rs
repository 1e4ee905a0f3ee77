//! `input`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "unbound-port",
        doc: "received on a switch port that carries no logical port (bind one with the input config)",
    },
    DropSpec {
        name: "unknown-vlan",
        doc: "a tagged frame on a trunk parent's port whose VLAN id names no child port (check the trunk's subports: `dfctl show tables input`)",
    },
];

/// See [`DROPS`].
pub(crate) const UNBOUND_PORT: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const UNKNOWN_VLAN: DropId = DropId(1);
