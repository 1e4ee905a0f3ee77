//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! Why one module: IPv4, ICMP, ICMPv6, UDP and TCP all use the same
//! ones'-complement sum, and NAT must patch two of them (IP header and
//! transport) whenever it rewrites an address or a port. Recomputing over the
//! whole segment would touch every payload byte; [`update_u16`] and
//! [`update_u32`] cost a few adds instead.
//!
//! Vocabulary: a *sum* is the folded 16-bit ones'-complement sum (not
//! inverted); a *checksum* is the inverted sum, as stored in headers. A region
//! whose stored checksum is correct sums to `0xffff`.
//!
//! Speed: [`sum`] adds 8 bytes at a time into a `u64` accumulator (two 32-bit
//! halves per step, so no carry is lost) and folds once at the end. Summing
//! big-endian 32-bit words and folding gives the same result as summing 16-bit
//! words (RFC 1071 §2(B), "byte order independence" and "parallel
//! summation").

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::IpProtocol;

/// Whether `parse` functions verify checksums.
///
/// `Ignore` is for packets whose checksum the NIC already verified, and for
/// fuzzing, where a random input almost never carries a valid checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChecksumPolicy {
    /// Verify and fail with [`Error::Checksum`](crate::Error::Checksum).
    #[default]
    Verify,
    /// Skip verification.
    Ignore,
}

/// Folds a wide accumulator to 16 bits with end-around carry.
#[inline]
fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Folded ones'-complement sum of `data` (big-endian 16-bit words; an odd
/// trailing byte is padded with a zero on the right).
///
/// Inputs up to 16 GiB cannot overflow the accumulator.
pub fn sum(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        // `chunks_exact(8)` yields 8-byte slices: the indexing is in bounds.
        let word = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc += (word >> 32) + (word & 0xffff_ffff);
    }
    let mut pairs = chunks.remainder().chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let Some(&last) = pairs.remainder().first() {
        acc += u64::from(last) << 8;
    }
    fold(acc)
}

/// Ones'-complement addition of partial sums.
///
/// Each partial sum must cover an even number of bytes, except possibly the
/// last one, for the result to equal the sum over the concatenation.
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// The checksum to store for `data`: `!sum(data)`.
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// Sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768).
///
/// `length` is the transport length (header plus payload).
pub fn pseudo_header_v4(src: &Ipv4Addr, dst: &Ipv4Addr, protocol: IpProtocol, length: u32) -> u16 {
    let s = u32::from(*src);
    let d = u32::from(*dst);
    let acc = u64::from(s >> 16)
        + u64::from(s & 0xffff)
        + u64::from(d >> 16)
        + u64::from(d & 0xffff)
        + u64::from(u8::from(protocol))
        + u64::from(length >> 16)
        + u64::from(length & 0xffff);
    fold(acc)
}

/// Sum of the IPv6 pseudo-header (RFC 8200 §8.1).
///
/// `length` is the upper-layer packet length; `next_header` the upper-layer
/// protocol (not an extension header).
pub fn pseudo_header_v6(
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    next_header: IpProtocol,
    length: u32,
) -> u16 {
    let acc = u64::from(sum(&src.octets()))
        + u64::from(sum(&dst.octets()))
        + u64::from(u8::from(next_header))
        + u64::from(length >> 16)
        + u64::from(length & 0xffff);
    fold(acc)
}

/// The addresses a transport checksum covers, for either IP version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    /// IPv4 source and destination.
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
    },
    /// IPv6 source and destination.
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
    },
}

impl PseudoHeader {
    /// Pseudo-header sum for `protocol` and transport `length`.
    pub fn sum(&self, protocol: IpProtocol, length: u32) -> u16 {
        match self {
            PseudoHeader::V4 { src, dst } => pseudo_header_v4(src, dst, protocol, length),
            PseudoHeader::V6 { src, dst } => pseudo_header_v6(src, dst, protocol, length),
        }
    }

    /// `true` for IPv4, where a zero UDP checksum means "none".
    pub fn is_v4(&self) -> bool {
        matches!(self, PseudoHeader::V4 { .. })
    }
}

/// RFC 1624 eqn. 3 for a 16-bit field: `HC' = ~(~HC + ~m + m')`.
///
/// `checksum` is the stored checksum, `old`/`new` the field before and after.
/// The result equals a full recompute whenever the covered data is not all
/// zeros (always the case for IP and transport headers).
pub fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    !fold(u64::from(!checksum) + u64::from(!old) + u64::from(new))
}

/// RFC 1624 eqn. 3 for a 32-bit field (two 16-bit words), e.g. an IPv4
/// address.
pub fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let acc = u64::from(!checksum)
        + u64::from(!(old >> 16) & 0xffff)
        + u64::from(!old & 0xffff)
        + u64::from(new >> 16)
        + u64::from(new & 0xffff);
    !fold(acc)
}

/// [`update_u32`] for an IPv4 address rewrite (NAT). Apply it to the IPv4
/// header checksum and to the TCP/UDP checksum (the address is in the
/// pseudo-header); skip the UDP one when it is zero over IPv4.
pub fn update_ipv4_addr(checksum: u16, old: Ipv4Addr, new: Ipv4Addr) -> u16 {
    update_u32(checksum, u32::from(old), u32::from(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The textbook 16-bit-at-a-time sum, as the oracle.
    fn naive_sum(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in data.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).copied().map_or(0, u32::from);
            acc += hi | lo;
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
        assert_eq!(sum(&[]), 0);
        assert_eq!(sum(&[0xab]), 0xab00);
    }

    #[test]
    fn ipv4_header_verifies_to_ffff() {
        // A real header (from the ICMP echo fixture), checksum 0x14a3 in place.
        let header = [
            0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x14, 0xa3, 0x0a, 0x00,
            0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        ];
        assert_eq!(sum(&header), 0xffff);
    }

    #[test]
    fn pseudo_header_matches_bytes() {
        let src = Ipv4Addr::new(192, 168, 1, 10);
        let dst = Ipv4Addr::new(192, 168, 1, 20);
        let mut bytes = [0u8; 12];
        bytes[0..4].copy_from_slice(&src.octets());
        bytes[4..8].copy_from_slice(&dst.octets());
        bytes[9] = 6;
        bytes[10..12].copy_from_slice(&40u16.to_be_bytes());
        assert_eq!(
            pseudo_header_v4(&src, &dst, IpProtocol::Tcp, 40),
            sum(&bytes)
        );

        let s6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let d6: Ipv6Addr = "fe80::2".parse().unwrap();
        let mut b6 = [0u8; 40];
        b6[0..16].copy_from_slice(&s6.octets());
        b6[16..32].copy_from_slice(&d6.octets());
        b6[32..36].copy_from_slice(&70_000u32.to_be_bytes());
        b6[39] = 58;
        let ph = PseudoHeader::V6 { src: s6, dst: d6 };
        assert_eq!(ph.sum(IpProtocol::Icmpv6, 70_000), sum(&b6));
        assert!(!ph.is_v4());
    }

    /// Builds IPv4 header + TCP segment with both checksums filled.
    fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], sport: u16, tail: &[u8]) -> Vec<u8> {
        let tcp_len = 20 + tail.len();
        let mut p = vec![0u8; 20 + tcp_len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        p[8] = 64;
        p[9] = 6;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        let c = checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p[20..22].copy_from_slice(&sport.to_be_bytes());
        p[32] = 0x50;
        p[40..].copy_from_slice(tail);
        let ph = pseudo_header_v4(&src.into(), &dst.into(), IpProtocol::Tcp, tcp_len as u32);
        let c = !combine(&[ph, sum(&p[20..])]);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        p
    }

    proptest! {
        #[test]
        fn fast_sum_matches_naive(data in proptest::collection::vec(any::<u8>(), 0..300),
                                  skip in 0usize..8) {
            let d = &data[skip.min(data.len())..];
            prop_assert_eq!(sum(d), naive_sum(d));
        }

        #[test]
        fn combine_matches_concatenation(a in proptest::collection::vec(any::<u8>(), 0..64),
                                         b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut a = a;
            if a.len() % 2 == 1 { a.pop(); }
            let whole: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
            prop_assert_eq!(combine(&[sum(&a), sum(&b)]), sum(&whole));
        }

        #[test]
        fn update_u16_matches_recompute(data in proptest::collection::vec(any::<u8>(), 4..64),
                                        at in 0usize..31, new in any::<u16>()) {
            let mut data = data;
            data[0] |= 0x40; // never all zeros, like any real header
            if data.len() % 2 == 1 { data.push(0); }
            // Any 16-bit word but the first, which keeps the data non-zero.
            let at = 2 + (at * 2) % (data.len() - 2);
            let before = checksum(&data);
            let old = u16::from_be_bytes([data[at], data[at + 1]]);
            data[at..at + 2].copy_from_slice(&new.to_be_bytes());
            prop_assert_eq!(update_u16(before, old, new), checksum(&data));
        }

        /// NAT: rewrite the source address and port, patch the IPv4 and TCP
        /// checksums incrementally, compare with a full recompute.
        #[test]
        fn nat_rewrite_matches_recompute(src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(),
                                         new_src in any::<[u8; 4]>(), sport in any::<u16>(),
                                         new_sport in any::<u16>(),
                                         tail in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut p = ipv4_tcp(src, dst, sport, &tail);
            let expected = ipv4_tcp(new_src, dst, new_sport, &tail);
            let (old_a, new_a) = (Ipv4Addr::from(src), Ipv4Addr::from(new_src));
            let ip_ck = u16::from_be_bytes([p[10], p[11]]);
            let ip_ck = update_ipv4_addr(ip_ck, old_a, new_a);
            p[10..12].copy_from_slice(&ip_ck.to_be_bytes());
            p[12..16].copy_from_slice(&new_src);
            let tcp_ck = u16::from_be_bytes([p[36], p[37]]);
            let tcp_ck = update_ipv4_addr(tcp_ck, old_a, new_a);
            let tcp_ck = update_u16(tcp_ck, sport, new_sport);
            p[36..38].copy_from_slice(&tcp_ck.to_be_bytes());
            p[20..22].copy_from_slice(&new_sport.to_be_bytes());
            prop_assert_eq!(p, expected);
        }
    }
}
