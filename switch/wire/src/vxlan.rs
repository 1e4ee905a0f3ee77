//! VXLAN (RFC 7348): the 8-byte header between UDP and the inner frame.
//!
//! The switch terminates and originates VXLAN tunnels for overlay networks;
//! all it needs is the I flag and the 24-bit VNI. Reserved bits are ignored
//! on parse and written as zero, as the RFC asks.

use crate::bytes::{clamped, clamped_mut, get_u24, set_u24};
use crate::{Error, Result};

/// IANA UDP port for VXLAN.
pub const UDP_PORT: u16 = 4789;

mod field {
    use core::ops::Range;

    pub const FLAGS: usize = 0;
    pub const VNI: Range<usize> = 4..7;
    pub const PAYLOAD: usize = 8;
}

/// Length of the VXLAN header.
pub const HEADER_LEN: usize = field::PAYLOAD;

const FLAG_I: u8 = 0x08;

/// A zero-copy view of a VXLAN header and the inner frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer (the UDP payload) without checking it.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the header fits.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than 8 bytes.
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

    /// The flags byte.
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// The I flag: the VNI is valid.
    pub fn has_vni(&self) -> bool {
        self.flags() & FLAG_I != 0
    }

    /// VXLAN network identifier (24 bits).
    pub fn vni(&self) -> u32 {
        get_u24(self.buffer.as_ref(), field::VNI.start)
    }

    /// The inner Ethernet frame.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, field::PAYLOAD, data.len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the flags byte.
    pub fn set_flags(&mut self, value: u8) {
        self.buffer.as_mut()[field::FLAGS] = value;
    }

    /// Sets the VNI (low 24 bits).
    pub fn set_vni(&mut self, value: u32) {
        set_u24(self.buffer.as_mut(), field::VNI.start, value);
    }

    /// Mutable inner frame.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, field::PAYLOAD, len)
    }
}

/// The owned VXLAN header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// VNI; only the low 24 bits are emitted.
    pub vni: u32,
}

impl Repr {
    /// Parses a header.
    ///
    /// # Errors
    /// [`Error::Truncated`] if shorter than 8 bytes; [`Error::Malformed`]
    /// if the I flag is clear.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if !packet.has_vni() {
            return Err(Error::Malformed);
        }
        Ok(Repr { vni: packet.vni() })
    }

    /// Header length (8).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes `emit` writes (8; the inner frame is the caller's).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header with reserved fields zeroed.
    ///
    /// # Panics
    /// If the buffer is shorter than 8 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.buffer.as_mut()[..HEADER_LEN].fill(0);
        packet.set_flags(FLAG_I);
        packet.set_vni(self.vni);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::VXLAN_FRAME;
    use proptest::prelude::*;

    const VXLAN: &[u8] = VXLAN_FRAME.split_at(42).1;

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(VXLAN).unwrap();
        assert!(packet.has_vni());
        assert_eq!(packet.vni(), 5001);
        assert_eq!(packet.payload().len(), 42);
        assert_eq!(Repr::parse(&packet), Ok(Repr { vni: 5001 }));
    }

    #[test]
    fn construct() {
        let mut buf = [0xffu8; 8];
        Repr { vni: 5001 }.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[..], &VXLAN[..8]);
    }

    #[test]
    fn malformed() {
        assert_eq!(
            Packet::new_checked(&VXLAN[..7]).err(),
            Some(Error::Truncated)
        );
        let mut bad = VXLAN.to_vec();
        bad[0] = 0;
        assert_eq!(
            Repr::parse(&Packet::new_checked(&bad[..]).unwrap()),
            Err(Error::Malformed)
        );
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&bad[..1])),
            Err(Error::Truncated)
        );
    }

    proptest! {
        #[test]
        fn round_trip(vni in 0u32..(1 << 24), payload in proptest::collection::vec(any::<u8>(), 0..32)) {
            let repr = Repr { vni };
            let mut buf = vec![0u8; repr.buffer_len() + payload.len()];
            buf[HEADER_LEN..].copy_from_slice(&payload);
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            let packet = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(packet.payload(), &payload[..]);
            prop_assert_eq!(Repr::parse(&packet), Ok(repr));
        }
    }
}
