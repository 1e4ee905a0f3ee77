//! The one error type of the crate.
//!
//! Parsing runs on the hot path, where a bad packet is a counted drop and not
//! an exceptional event, so the error is a small `Copy` enum: it never
//! allocates, carries no borrowed data and fits in a byte. The variants say
//! *what kind* of problem was found; the caller knows which layer it asked
//! about and maps the pair to a drop reason.

use core::fmt;

/// Why a buffer could not be viewed, parsed or walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer ends before the header, or before the length that a header
    /// field announces.
    Truncated,
    /// A field holds a value the format forbids: a length below the header
    /// size, a wrong version, an option whose length overruns its container.
    Malformed,
    /// The checksum does not verify.
    Checksum,
    /// The input is well formed but uses a variant this crate does not
    /// handle (non-Ethernet ARP, a third VLAN tag, a full fixed-capacity list).
    Unsupported,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
            Error::Checksum => "checksum mismatch",
            Error::Unsupported => "unsupported packet variant",
        };
        f.write_str(text)
    }
}

impl std::error::Error for Error {}

/// The result of every fallible operation in this crate.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_short_and_static() {
        assert_eq!(Error::Truncated.to_string(), "truncated packet");
        assert_eq!(Error::Checksum.to_string(), "checksum mismatch");
        assert_eq!(core::mem::size_of::<Error>(), 1);
    }
}
