//! Big-endian field access shared by every view.
//!
//! The fixed-offset helpers index directly: they are only called for fields
//! inside the fixed header, whose presence `check_len` establishes (see the
//! crate-level panic contract). Variable-length parts go through [`clamped`],
//! which never panics even on a view built with `new_unchecked`.

/// Reads a big-endian `u16` at `at`.
#[inline]
pub(crate) fn get_u16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data[at], data[at + 1]])
}

/// Reads a big-endian 24-bit value at `at`.
#[inline]
pub(crate) fn get_u24(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([0, data[at], data[at + 1], data[at + 2]])
}

/// Reads a big-endian `u32` at `at`.
#[inline]
pub(crate) fn get_u32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// Writes a big-endian `u16` at `at`.
#[inline]
pub(crate) fn set_u16(data: &mut [u8], at: usize, value: u16) {
    data[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// Writes the low 24 bits of `value`, big-endian, at `at`.
#[inline]
pub(crate) fn set_u24(data: &mut [u8], at: usize, value: u32) {
    data[at..at + 3].copy_from_slice(&value.to_be_bytes()[1..]);
}

/// Writes a big-endian `u32` at `at`.
#[inline]
pub(crate) fn set_u32(data: &mut [u8], at: usize, value: u32) {
    data[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

/// Reads an IPv4 address at `at`.
#[inline]
pub(crate) fn get_ipv4(data: &[u8], at: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(get_u32(data, at))
}

/// Reads an IPv6 address at `at`.
#[inline]
pub(crate) fn get_ipv6(data: &[u8], at: usize) -> std::net::Ipv6Addr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(&data[at..at + 16]);
    std::net::Ipv6Addr::from(octets)
}

/// The `N` bytes at `at`, or zeros if the buffer is too short: for fields
/// whose presence depends on the message type (ND bodies), read through a
/// view that only checked the common header.
#[inline]
pub(crate) fn array_or_zero<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(bytes) = at.checked_add(N).and_then(|end| data.get(at..end)) {
        out.copy_from_slice(bytes);
    }
    out
}

/// `data[start..end]`, shrunk to what exists: never panics, returns an empty
/// slice when `start` is past the end or `end < start`.
#[inline]
pub(crate) fn clamped(data: &[u8], start: usize, end: usize) -> &[u8] {
    let end = end.min(data.len());
    data.get(start..end).unwrap_or(&[])
}

/// Mutable counterpart of [`clamped`].
#[inline]
pub(crate) fn clamped_mut(data: &mut [u8], start: usize, end: usize) -> &mut [u8] {
    let end = end.min(data.len());
    data.get_mut(start..end).unwrap_or(&mut [])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamped_never_panics() {
        let d = [1u8, 2, 3];
        assert_eq!(clamped(&d, 1, 10), &[2, 3]);
        assert_eq!(clamped(&d, 5, 10), &[] as &[u8]);
        assert_eq!(clamped(&d, 2, 1), &[] as &[u8]);
    }

    #[test]
    fn array_or_zero_never_panics() {
        let d = [1u8, 2, 3];
        assert_eq!(array_or_zero::<2>(&d, 1), [2, 3]);
        assert_eq!(array_or_zero::<2>(&d, 2), [0, 0]);
        assert_eq!(array_or_zero::<2>(&d, usize::MAX), [0, 0]);
    }

    #[test]
    fn u24_round_trip() {
        let mut d = [0u8; 4];
        set_u24(&mut d, 1, 0x00ab_cdef);
        assert_eq!(d, [0, 0xab, 0xcd, 0xef]);
        assert_eq!(get_u24(&d, 1), 0x00ab_cdef);
    }
}
