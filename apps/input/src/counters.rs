//! `input`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[DropSpec {
    name: "unbound-port",
    doc: "received on a switch port that carries no logical port (bind one with the input config)",
}];

/// See [`DROPS`].
pub(crate) const UNBOUND_PORT: DropId = DropId(0);
