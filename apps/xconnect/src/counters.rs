//! `xconnect`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[DropSpec {
    name: "no-peer",
    doc: "the source port has no peer in the xconnect config",
}];

/// See [`DROPS`].
pub(crate) const NO_PEER: DropId = DropId(0);
