//! ARP (RFC 826) for Ethernet and IPv4.
//!
//! The view reads the generic layout (address lengths come from the header),
//! so any ARP packet can be inspected; the [`Repr`] only models the one
//! combination the switch answers, Ethernet hardware with IPv4 protocol
//! addresses, and reports anything else as [`Error::Unsupported`]. ARP has no
//! payload: bytes after the target protocol address are Ethernet padding.

use std::net::Ipv4Addr;

use crate::bytes::{clamped, get_u16, set_u16};
use crate::{Error, EtherType, EthernetAddress, Result};

enum_with_unknown! {
    /// ARP hardware types (IANA "Hardware Types").
    pub enum ArpHardware(u16) {
        /// Ethernet (10 Mb and every later speed).
        Ethernet = 1,
    }
}

enum_with_unknown! {
    /// ARP operation codes.
    pub enum ArpOperation(u16) {
        /// Who has the target protocol address?
        Request = 1,
        /// The sender owns the sender protocol address.
        Reply = 2,
        /// Reverse ARP request (RFC 903).
        RarpRequest = 3,
        /// Reverse ARP reply (RFC 903).
        RarpReply = 4,
    }
}

mod field {
    use core::ops::Range;

    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const ADDRESSES: usize = 8;
}

/// Length of the fixed part (before the addresses).
pub const FIXED_LEN: usize = field::ADDRESSES;

/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = FIXED_LEN + 2 * (6 + 4);

/// A zero-copy view of an ARP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the fixed part and all four addresses
    /// fit.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the fixed part, then the addresses the length fields announce.
    ///
    /// # Errors
    /// [`Error::Truncated`] if either is cut short.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < FIXED_LEN || len < FIXED_LEN + 2 * (self.hardware_len() + self.protocol_len()) {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type.
    pub fn hardware_type(&self) -> ArpHardware {
        ArpHardware::from(get_u16(self.buffer.as_ref(), field::HTYPE.start))
    }

    /// Protocol type.
    pub fn protocol_type(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::PTYPE.start))
    }

    /// Hardware address length, in bytes.
    pub fn hardware_len(&self) -> usize {
        self.buffer
            .as_ref()
            .get(field::HLEN)
            .copied()
            .map_or(0, usize::from)
    }

    /// Protocol address length, in bytes.
    pub fn protocol_len(&self) -> usize {
        self.buffer
            .as_ref()
            .get(field::PLEN)
            .copied()
            .map_or(0, usize::from)
    }

    /// Operation.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(get_u16(self.buffer.as_ref(), field::OPER.start))
    }

    /// Offset and length of the `index`-th address (SHA, SPA, THA, TPA).
    fn address(&self, index: usize) -> &[u8] {
        let (h, p) = (self.hardware_len(), self.protocol_len());
        let start = field::ADDRESSES + (index / 2) * (h + p) + (index % 2) * h;
        let len = if index.is_multiple_of(2) { h } else { p };
        clamped(self.buffer.as_ref(), start, start + len)
    }

    /// Sender hardware address.
    pub fn source_hardware_addr(&self) -> &[u8] {
        self.address(0)
    }

    /// Sender protocol address.
    pub fn source_protocol_addr(&self) -> &[u8] {
        self.address(1)
    }

    /// Target hardware address.
    pub fn target_hardware_addr(&self) -> &[u8] {
        self.address(2)
    }

    /// Target protocol address.
    pub fn target_protocol_addr(&self) -> &[u8] {
        self.address(3)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, value: ArpHardware) {
        set_u16(self.buffer.as_mut(), field::HTYPE.start, value.into());
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        set_u16(self.buffer.as_mut(), field::PTYPE.start, value.into());
    }

    /// Sets the hardware address length.
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value;
    }

    /// Sets the protocol address length.
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value;
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, value: ArpOperation) {
        set_u16(self.buffer.as_mut(), field::OPER.start, value.into());
    }

    fn set_address(&mut self, index: usize, value: &[u8]) {
        let (h, p) = (self.hardware_len(), self.protocol_len());
        let start = field::ADDRESSES + (index / 2) * (h + p) + (index % 2) * h;
        self.buffer.as_mut()[start..start + value.len()].copy_from_slice(value);
    }

    /// Sets the sender hardware address (length set beforehand).
    ///
    /// # Panics
    /// If the buffer is too short for the address at its offset.
    pub fn set_source_hardware_addr(&mut self, value: &[u8]) {
        self.set_address(0, value);
    }

    /// Sets the sender protocol address (lengths set beforehand).
    ///
    /// # Panics
    /// If the buffer is too short for the address at its offset.
    pub fn set_source_protocol_addr(&mut self, value: &[u8]) {
        self.set_address(1, value);
    }

    /// Sets the target hardware address (lengths set beforehand).
    ///
    /// # Panics
    /// If the buffer is too short for the address at its offset.
    pub fn set_target_hardware_addr(&mut self, value: &[u8]) {
        self.set_address(2, value);
    }

    /// Sets the target protocol address (lengths set beforehand).
    ///
    /// # Panics
    /// If the buffer is too short for the address at its offset.
    pub fn set_target_protocol_addr(&mut self, value: &[u8]) {
        self.set_address(3, value);
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Operation.
    pub operation: ArpOperation,
    /// Sender MAC.
    pub source_hardware_addr: EthernetAddress,
    /// Sender IPv4 address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target MAC (zero in a request).
    pub target_hardware_addr: EthernetAddress,
    /// Target IPv4 address.
    pub target_protocol_addr: Ipv4Addr,
}

fn ipv4_from(bytes: &[u8]) -> Result<Ipv4Addr> {
    let octets: [u8; 4] = bytes.try_into().map_err(|_| Error::Truncated)?;
    Ok(Ipv4Addr::from(octets))
}

impl Repr {
    /// Parses an Ethernet/IPv4 ARP packet.
    ///
    /// # Errors
    /// [`Error::Truncated`] if cut short; [`Error::Unsupported`] for other
    /// hardware or protocol types or address lengths.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.hardware_type() != ArpHardware::Ethernet
            || packet.protocol_type() != EtherType::Ipv4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        Ok(Repr {
            operation: packet.operation(),
            source_hardware_addr: EthernetAddress::from_bytes(packet.source_hardware_addr())?,
            source_protocol_addr: ipv4_from(packet.source_protocol_addr())?,
            target_hardware_addr: EthernetAddress::from_bytes(packet.target_hardware_addr())?,
            target_protocol_addr: ipv4_from(packet.target_protocol_addr())?,
        })
    }

    /// The reply a host owning `target_protocol_addr` sends, with `mac` as
    /// its hardware address.
    pub fn reply(&self, mac: EthernetAddress) -> Repr {
        Repr {
            operation: ArpOperation::Reply,
            source_hardware_addr: mac,
            source_protocol_addr: self.target_protocol_addr,
            target_hardware_addr: self.source_hardware_addr,
            target_protocol_addr: self.source_protocol_addr,
        }
    }

    /// Packet length (28).
    pub const fn header_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Bytes `emit` writes (28).
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_hardware_type(ArpHardware::Ethernet);
        packet.set_protocol_type(EtherType::Ipv4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(&self.source_hardware_addr.0);
        packet.set_source_protocol_addr(&self.source_protocol_addr.octets());
        packet.set_target_hardware_addr(&self.target_hardware_addr.0);
        packet.set_target_protocol_addr(&self.target_protocol_addr.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{arb_ipv4, arb_mac, ARP_REQUEST};
    use proptest::prelude::*;

    const ARP: &[u8] = ARP_REQUEST.split_at(14).1;

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(ARP).unwrap();
        assert_eq!(packet.hardware_type(), ArpHardware::Ethernet);
        assert_eq!(packet.protocol_type(), EtherType::Ipv4);
        assert_eq!(packet.operation(), ArpOperation::Request);
        assert_eq!(packet.source_protocol_addr(), &[10, 0, 0, 1]);
        let repr = Repr::parse(&packet).unwrap();
        assert_eq!(
            repr.source_hardware_addr,
            EthernetAddress([2, 0, 0, 0, 0, 1])
        );
        assert_eq!(repr.target_hardware_addr, EthernetAddress([0; 6]));
        assert_eq!(repr.target_protocol_addr, Ipv4Addr::new(10, 0, 0, 2));
    }

    #[test]
    fn construct() {
        let repr = Repr {
            operation: ArpOperation::Request,
            source_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            source_protocol_addr: Ipv4Addr::new(10, 0, 0, 1),
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: Ipv4Addr::new(10, 0, 0, 2),
        };
        let mut buf = [0u8; 28];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[..], ARP);
        let reply = repr.reply(EthernetAddress([2, 0, 0, 0, 0, 2]));
        assert_eq!(reply.operation, ArpOperation::Reply);
        assert_eq!(reply.target_protocol_addr, repr.source_protocol_addr);
    }

    #[test]
    fn malformed() {
        assert_eq!(Packet::new_checked(&ARP[..7]).err(), Some(Error::Truncated));
        assert_eq!(
            Packet::new_checked(&ARP[..27]).err(),
            Some(Error::Truncated)
        );
        let mut other = [0u8; 28];
        other.copy_from_slice(ARP);
        other[1] = 6; // IEEE 802 hardware
        assert_eq!(
            Repr::parse(&Packet::new_checked(&other[..]).unwrap()),
            Err(Error::Unsupported)
        );
        // Huge address lengths announce more than the buffer holds.
        other[1] = 1;
        other[4] = 0xff;
        assert_eq!(
            Packet::new_checked(&other[..]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&other[..3])),
            Err(Error::Truncated)
        );
    }

    proptest! {
        #[test]
        fn round_trip(op in any::<u16>(), sha in arb_mac(), spa in arb_ipv4(),
                      tha in arb_mac(), tpa in arb_ipv4()) {
            let repr = Repr {
                operation: ArpOperation::from(op),
                source_hardware_addr: sha,
                source_protocol_addr: spa,
                target_hardware_addr: tha,
                target_protocol_addr: tpa,
            };
            let mut buf = [0u8; 28];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()), Ok(repr));
        }
    }
}
