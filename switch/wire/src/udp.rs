//! UDP (RFC 768) with the IPv4 and IPv6 pseudo-header checksums.
//!
//! The length field is trusted only after `check_len`: it must cover the
//! 8-byte header and fit the buffer, and [`Packet::payload`] stops at it. A
//! zero checksum means "none" over IPv4 and is invalid over IPv6
//! (RFC 8200 §8.1); a computed checksum of zero is sent as `0xffff`.

use crate::bytes::{clamped, clamped_mut, get_u16, set_u16};
use crate::checksum::{self, ChecksumPolicy, PseudoHeader};
use crate::{Error, IpProtocol, Result};

mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
    pub const PAYLOAD: usize = 8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A zero-copy view of a UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks the header and length field.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than 8 bytes or than
    /// the length field; [`Error::Malformed`] if the length field is below 8.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let length = usize::from(self.len());
        if length < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len < length {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::SRC_PORT.start)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::DST_PORT.start)
    }

    /// Length field (header + payload).
    pub fn len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// `true` when the length field says there is no payload.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// Stored checksum.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    fn datagram(&self) -> &[u8] {
        clamped(self.buffer.as_ref(), 0, usize::from(self.len()))
    }

    /// `true` when the checksum verifies for `ph` (or is absent over IPv4).
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> bool {
        if self.checksum() == 0 {
            return ph.is_v4();
        }
        let datagram = self.datagram();
        let pseudo = ph.sum(IpProtocol::Udp, datagram.len() as u32);
        checksum::combine(&[pseudo, checksum::sum(datagram)]) == 0xffff
    }

    /// Payload, up to the length field.
    pub fn payload(&self) -> &[u8] {
        clamped(
            self.buffer.as_ref(),
            field::PAYLOAD,
            usize::from(self.len()),
        )
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::SRC_PORT.start, value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::DST_PORT.start, value);
    }

    /// Sets the length field.
    pub fn set_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::LENGTH.start, value);
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// Computes and stores the checksum over the datagram (header and the
    /// payload up to the length field) for `ph`.
    pub fn fill_checksum(&mut self, ph: &PseudoHeader) {
        self.set_checksum(0);
        let datagram = self.datagram();
        let pseudo = ph.sum(IpProtocol::Udp, datagram.len() as u32);
        let value = !checksum::combine(&[pseudo, checksum::sum(datagram)]);
        self.set_checksum(if value == 0 { 0xffff } else { value });
    }

    /// Mutable payload, up to the length field.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        clamped_mut(self.buffer.as_mut(), field::PAYLOAD, end)
    }
}

/// The owned UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload length.
    pub payload_len: usize,
}

impl Repr {
    /// Parses a datagram carried between the addresses of `ph`.
    ///
    /// # Errors
    /// Those of [`Packet::check_len`]; [`Error::Checksum`] if `policy` says
    /// verify and it fails.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &Packet<T>,
        ph: &PseudoHeader,
        policy: ChecksumPolicy,
    ) -> Result<Repr> {
        packet.check_len()?;
        if policy == ChecksumPolicy::Verify && !packet.verify_checksum(ph) {
            return Err(Error::Checksum);
        }
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: packet.payload().len(),
        })
    }

    /// Header length (8).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header and the checksum for `ph`. The checksum covers the
    /// `payload_len` bytes already in the buffer after the header: write the
    /// payload first (at [`HEADER_LEN`]), or call
    /// [`Packet::fill_checksum`] again after writing it.
    /// The length field saturates at 65535.
    ///
    /// # Panics
    /// If the buffer is shorter than 8 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>, ph: &PseudoHeader) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.fill_checksum(ph);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{arb_ipv4, arb_ipv6, DHCP_DISCOVER, QINQ_UDP};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const UDP: &[u8] = QINQ_UDP.split_at(42).1;

    fn ph() -> PseudoHeader {
        PseudoHeader::V4 {
            src: Ipv4Addr::new(10, 1, 1, 1),
            dst: Ipv4Addr::new(10, 1, 1, 2),
        }
    }

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(UDP).unwrap();
        assert_eq!(
            (packet.src_port(), packet.dst_port(), packet.len()),
            (1111, 2222, 13)
        );
        assert_eq!(packet.payload(), b"hello");
        assert!(packet.verify_checksum(&ph()));
        let repr = Repr::parse(&packet, &ph(), ChecksumPolicy::Verify).unwrap();
        assert_eq!(
            repr,
            Repr {
                src_port: 1111,
                dst_port: 2222,
                payload_len: 5
            }
        );
        let dhcp = Packet::new_checked(&DHCP_DISCOVER[34..]).unwrap();
        assert_eq!((dhcp.src_port(), dhcp.dst_port()), (68, 67));
    }

    #[test]
    fn construct() {
        let repr = Repr {
            src_port: 1111,
            dst_port: 2222,
            payload_len: 5,
        };
        let mut buf = [0u8; 13];
        buf[8..].copy_from_slice(b"hello");
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &ph());
        assert_eq!(&buf[..], UDP);
    }

    #[test]
    fn zero_checksum() {
        let mut buf = UDP.to_vec();
        buf[6] = 0;
        buf[7] = 0;
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum(&ph()));
        let v6 = PseudoHeader::V6 {
            src: "::1".parse().unwrap(),
            dst: "::2".parse().unwrap(),
        };
        assert!(!packet.verify_checksum(&v6));
        // A datagram whose checksum computes to zero is sent as 0xffff.
        let mut buf = [0u8; 8];
        let zero = PseudoHeader::V4 {
            src: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::UNSPECIFIED,
        };
        // Pick ports so that the whole sum is 0xffff: 8 (length) + 17 (proto)
        // + 8 (pseudo length) + src + dst = 0xffff.
        let ports_sum: u16 = 0xffff - 8 - 17 - 8;
        Repr {
            src_port: ports_sum,
            dst_port: 0,
            payload_len: 0,
        }
        .emit(&mut Packet::new_unchecked(&mut buf[..]), &zero);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.checksum(), 0xffff);
        assert!(packet.verify_checksum(&zero));
    }

    #[test]
    fn malformed() {
        assert_eq!(Packet::new_checked(&UDP[..7]).err(), Some(Error::Truncated));
        assert_eq!(
            Packet::new_checked(&UDP[..12]).err(),
            Some(Error::Truncated)
        );
        let mut bad = UDP.to_vec();
        bad[5] = 7;
        assert_eq!(Packet::new_checked(&bad[..]).err(), Some(Error::Malformed));
        bad[5] = 13;
        bad[10] ^= 0xff;
        let packet = Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(
            Repr::parse(&packet, &ph(), ChecksumPolicy::Verify),
            Err(Error::Checksum)
        );
        assert_eq!(
            Repr::parse(
                &Packet::new_unchecked(&bad[..2]),
                &ph(),
                ChecksumPolicy::Ignore
            ),
            Err(Error::Truncated)
        );
    }

    fn arb_ph() -> impl Strategy<Value = PseudoHeader> {
        prop_oneof![
            (arb_ipv4(), arb_ipv4()).prop_map(|(src, dst)| PseudoHeader::V4 { src, dst }),
            (arb_ipv6(), arb_ipv6()).prop_map(|(src, dst)| PseudoHeader::V6 { src, dst }),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(src_port in any::<u16>(), dst_port in any::<u16>(),
                      payload in proptest::collection::vec(any::<u8>(), 0..64), ph in arb_ph()) {
            let repr = Repr { src_port, dst_port, payload_len: payload.len() };
            let mut buf = vec![0u8; repr.buffer_len()];
            buf[HEADER_LEN..].copy_from_slice(&payload);
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &ph);
            let packet = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(packet.payload(), &payload[..]);
            prop_assert_eq!(Repr::parse(&packet, &ph, ChecksumPolicy::Verify), Ok(repr));
        }
    }
}
