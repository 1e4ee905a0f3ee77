//! What a traced packet records in `input`: the source port key found.

/// Note: the logical source port the switch port maps to.
pub(crate) const SOURCE_PORT: &str = "source port key";
