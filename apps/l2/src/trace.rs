//! What a traced packet records in `l2`.

/// Note: the FDB hit's port key.
pub(crate) const FDB_HIT: &str = "fdb hit: port key";
/// Note: the number of flood copies made.
pub(crate) const FLOOD_COPIES: &str = "flood: copies";
