//! `output`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[DropSpec {
    name: "unknown-destination",
    doc: "the destination port key is not a local port in the output config",
}];

/// See [`DROPS`].
pub(crate) const UNKNOWN_DESTINATION: DropId = DropId(0);
