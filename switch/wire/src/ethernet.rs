//! Ethernet II frames and MAC addresses.
//!
//! The frame is the outermost view of every packet the switch sees. Only the
//! Ethernet II header is modelled (destination, source, EtherType); 802.3
//! length-style frames show up as an [`EtherType::Unknown`] below 0x0600 and
//! are left to the caller. VLAN tags are in [`vlan`](crate::vlan).

use core::fmt;
use core::str::FromStr;

use crate::bytes::{clamped, clamped_mut, get_u16, set_u16};
use crate::{Error, Result};

enum_with_unknown! {
    /// EtherType values (IEEE "EtherType" registry).
    pub enum EtherType(u16) {
        /// IPv4.
        Ipv4 = 0x0800,
        /// ARP.
        Arp = 0x0806,
        /// Transparent Ethernet bridging (Geneve/GRE payload type).
        TransEtherBridging = 0x6558,
        /// 802.1Q customer VLAN tag.
        Vlan = 0x8100,
        /// IPv6.
        Ipv6 = 0x86dd,
        /// MPLS unicast.
        Mpls = 0x8847,
        /// MPLS multicast.
        MplsMulticast = 0x8848,
        /// 802.1ad service VLAN tag (QinQ outer tag).
        QinQ = 0x88a8,
        /// LLDP.
        Lldp = 0x88cc,
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtherType::Ipv4 => f.write_str("IPv4"),
            EtherType::Arp => f.write_str("ARP"),
            EtherType::Ipv6 => f.write_str("IPv6"),
            EtherType::Vlan => f.write_str("802.1Q"),
            EtherType::QinQ => f.write_str("802.1ad"),
            EtherType::Mpls | EtherType::MplsMulticast => f.write_str("MPLS"),
            EtherType::Unknown(v) => write!(f, "ethertype-0x{v:04x}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A 48-bit Ethernet MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    /// Reads an address from the first six bytes of `data`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if `data` is shorter than six bytes.
    pub fn from_bytes(data: &[u8]) -> Result<EthernetAddress> {
        let mut octets = [0u8; 6];
        octets.copy_from_slice(data.get(..6).ok_or(Error::Truncated)?);
        Ok(EthernetAddress(octets))
    }

    /// The six octets.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// `true` for the all-ones broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// `true` when the group bit (I/G, lowest bit of the first octet) is set;
    /// broadcast is multicast.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// `true` for individual (non-group) addresses.
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// `true` when the U/L bit marks a locally administered address.
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for EthernetAddress {
    type Err = Error;

    /// Parses `aa:bb:cc:dd:ee:ff` (hex digits, either case; `-` also accepted
    /// as separator).
    fn from_str(s: &str) -> Result<EthernetAddress> {
        let mut octets = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for octet in &mut octets {
            let part = parts.next().ok_or(Error::Malformed)?;
            if part.is_empty() || part.len() > 2 {
                return Err(Error::Malformed);
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| Error::Malformed)?;
        }
        if parts.next().is_some() {
            return Err(Error::Malformed);
        }
        Ok(EthernetAddress(octets))
    }
}

mod field {
    use core::ops::Range;

    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const PAYLOAD: usize = 14;
}

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A zero-copy view of an Ethernet II frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer and checks that the header fits.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Frame<T>> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer holds the 14-byte header.
    ///
    /// # Errors
    /// [`Error::Truncated`] if it does not.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Header length (always 14).
    pub const fn header_len() -> usize {
        HEADER_LEN
    }

    /// Destination address.
    pub fn dst_addr(&self) -> EthernetAddress {
        let mut octets = [0u8; 6];
        octets.copy_from_slice(&self.buffer.as_ref()[field::DESTINATION]);
        EthernetAddress(octets)
    }

    /// Source address.
    pub fn src_addr(&self) -> EthernetAddress {
        let mut octets = [0u8; 6];
        octets.copy_from_slice(&self.buffer.as_ref()[field::SOURCE]);
        EthernetAddress(octets)
    }

    /// EtherType (the first TPID if the frame is tagged).
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::ETHERTYPE.start))
    }

    /// Everything after the 14-byte header.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, field::PAYLOAD, data.len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        set_u16(
            self.buffer.as_mut(),
            field::ETHERTYPE.start,
            ethertype.into(),
        );
    }

    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, field::PAYLOAD, len)
    }
}

/// The owned Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: EthernetAddress,
    /// Destination address.
    pub dst_addr: EthernetAddress,
    /// EtherType.
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads the header of a frame.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than the header.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Repr> {
        frame.check_len()?;
        Ok(Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// Header length (14).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes `emit` writes: the header only; the payload is the caller's.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{arb_mac, ARP_REQUEST};
    use proptest::prelude::*;

    #[test]
    fn deconstruct() {
        let frame = Frame::new_checked(&ARP_REQUEST[..]).unwrap();
        assert_eq!(frame.dst_addr(), EthernetAddress::BROADCAST);
        assert_eq!(frame.src_addr(), EthernetAddress([2, 0, 0, 0, 0, 1]));
        assert_eq!(frame.ethertype(), EtherType::Arp);
        assert_eq!(frame.payload().len(), 28);
    }

    #[test]
    fn construct() {
        let repr = Repr::parse(&Frame::new_checked(&ARP_REQUEST[..]).unwrap()).unwrap();
        let mut buf = [0u8; 14];
        repr.emit(&mut Frame::new_unchecked(&mut buf[..]));
        assert_eq!(buf, ARP_REQUEST[..14]);
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Frame::new_checked(&ARP_REQUEST[..13]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Repr::parse(&Frame::new_unchecked(&[0u8; 3][..])),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn address_kinds_and_text() {
        let a: EthernetAddress = "02:00:5E:10:00:01".parse().unwrap();
        assert_eq!(a, EthernetAddress([2, 0, 0x5e, 0x10, 0, 1]));
        assert_eq!(a.to_string(), "02:00:5e:10:00:01");
        assert!(a.is_unicast() && a.is_local() && !a.is_multicast());
        assert!(EthernetAddress::BROADCAST.is_broadcast());
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(EthernetAddress([0x33, 0x33, 0, 0, 0, 1]).is_multicast());
        for bad in [
            "",
            "02:00:5e:10:00",
            "02:00:5e:10:00:01:02",
            "0g:00:00:00:00:00",
            "002:0:0:0:0:0",
        ] {
            assert_eq!(
                bad.parse::<EthernetAddress>(),
                Err(Error::Malformed),
                "{bad}"
            );
        }
        assert_eq!(EthernetAddress::from_bytes(&[1, 2]), Err(Error::Truncated));
        assert_eq!(
            EthernetAddress::from_bytes(&[1; 7]),
            Ok(EthernetAddress([1; 6]))
        );
        assert_eq!(EtherType::Unknown(0x1234).to_string(), "ethertype-0x1234");
    }

    proptest! {
        #[test]
        fn round_trip(src in arb_mac(), dst in arb_mac(), et in any::<u16>()) {
            let repr = Repr { src_addr: src, dst_addr: dst, ethertype: EtherType::from(et) };
            let mut buf = [0u8; 14];
            repr.emit(&mut Frame::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Frame::new_checked(&buf[..]).unwrap()), Ok(repr));
        }

        #[test]
        fn mac_text_round_trip(mac in arb_mac()) {
            prop_assert_eq!(mac.to_string().parse::<EthernetAddress>(), Ok(mac));
        }
    }
}
