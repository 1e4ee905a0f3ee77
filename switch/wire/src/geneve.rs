//! Geneve (RFC 8926): base header, VNI and variable-length TLV options.
//!
//! Geneve carries metadata in options whose total length is in the base
//! header (in 4-byte words) and whose individual lengths are in each option
//! header: two lengths an attacker controls. `check_len` makes the first fit
//! the buffer; [`GeneveOptions`] checks the second and stops with
//! [`Error::Malformed`] instead of reading past the option area. The repr
//! borrows the raw option bytes, so building a header with options needs no
//! allocation.

use crate::bytes::{clamped, clamped_mut, get_u16, get_u24, set_u16, set_u24};
use crate::{Error, EtherType, Result};

/// IANA UDP port for Geneve.
pub const UDP_PORT: u16 = 6081;

mod field {
    use core::ops::Range;

    pub const VER_OPTLEN: usize = 0;
    pub const FLAGS: usize = 1;
    pub const PROTOCOL: Range<usize> = 2..4;
    pub const VNI: Range<usize> = 4..7;
    pub const OPTIONS: usize = 8;
}

/// Length of the base header.
pub const HEADER_LEN: usize = field::OPTIONS;
/// Largest option area (6-bit length in 4-byte words).
pub const MAX_OPTIONS_LEN: usize = 63 * 4;

const FLAG_OAM: u8 = 0x80;
const FLAG_CRITICAL: u8 = 0x40;

/// A zero-copy view of a Geneve header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer (the UDP payload) without checking it.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks base header and option area.
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
    /// the option area.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < self.header_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version (0 is the only one defined).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_OPTLEN] >> 6
    }

    /// Length of the option area in bytes.
    pub fn options_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_OPTLEN] & 0x3f) * 4
    }

    /// Base header plus options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// O bit: control (OAM) packet.
    pub fn oam(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_OAM != 0
    }

    /// C bit: critical options present.
    pub fn critical(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_CRITICAL != 0
    }

    /// Protocol type of the payload (0x6558 for Ethernet).
    pub fn protocol_type(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::PROTOCOL.start))
    }

    /// Virtual network identifier (24 bits).
    pub fn vni(&self) -> u32 {
        get_u24(self.buffer.as_ref(), field::VNI.start)
    }

    /// Raw option bytes.
    pub fn options(&self) -> &[u8] {
        clamped(self.buffer.as_ref(), HEADER_LEN, self.header_len())
    }

    /// Iterator over the options.
    pub fn options_iter(&self) -> GeneveOptions<'_> {
        GeneveOptions::new(self.options())
    }

    /// The tunnelled payload after the options.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, self.header_len(), data.len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version (0) and option length in bytes (rounded down to words).
    pub fn set_version_and_options_len(&mut self, version: u8, options_len: usize) {
        let words = (options_len / 4).min(63) as u8;
        self.buffer.as_mut()[field::VER_OPTLEN] = (version << 6) | words;
    }

    /// Sets the O and C bits (clears the reserved ones).
    pub fn set_flags(&mut self, oam: bool, critical: bool) {
        self.buffer.as_mut()[field::FLAGS] =
            if oam { FLAG_OAM } else { 0 } | if critical { FLAG_CRITICAL } else { 0 };
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        set_u16(self.buffer.as_mut(), field::PROTOCOL.start, value.into());
    }

    /// Sets the VNI (low 24 bits) and clears the reserved byte.
    pub fn set_vni(&mut self, value: u32) {
        let data = self.buffer.as_mut();
        set_u24(data, field::VNI.start, value);
        data[field::VNI.end] = 0;
    }

    /// Mutable option bytes.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        clamped_mut(self.buffer.as_mut(), HEADER_LEN, end)
    }

    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, start, len)
    }
}

/// One Geneve option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneveOption<'a> {
    /// Option class.
    pub class: u16,
    /// Type; the high bit marks a critical option.
    pub kind: u8,
    /// Option data (a multiple of 4 bytes).
    pub data: &'a [u8],
}

impl GeneveOption<'_> {
    /// `true` when the receiver must drop the packet if it does not
    /// understand this option.
    pub fn is_critical(&self) -> bool {
        self.kind & 0x80 != 0
    }
}

/// Iterator over Geneve options; yields `Err(Malformed)` once and stops when
/// an option header or its data runs past the option area.
#[derive(Debug, Clone)]
pub struct GeneveOptions<'a> {
    rest: &'a [u8],
}

impl<'a> GeneveOptions<'a> {
    /// Walks raw option bytes.
    pub fn new(options: &'a [u8]) -> GeneveOptions<'a> {
        GeneveOptions { rest: options }
    }
}

impl<'a> Iterator for GeneveOptions<'a> {
    type Item = Result<GeneveOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let option = self.rest.get(..4).and_then(|head| {
            let len = usize::from(head[3] & 0x1f) * 4;
            let data = self.rest.get(4..4 + len)?;
            Some((
                GeneveOption {
                    class: get_u16(head, 0),
                    kind: head[2],
                    data,
                },
                4 + len,
            ))
        });
        match option {
            Some((option, len)) => {
                self.rest = self.rest.get(len..).unwrap_or(&[]);
                Some(Ok(option))
            }
            None => {
                self.rest = &[];
                Some(Err(Error::Malformed))
            }
        }
    }
}

/// The owned Geneve header; options are borrowed raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// O bit.
    pub oam: bool,
    /// C bit.
    pub critical: bool,
    /// Payload protocol.
    pub protocol_type: EtherType,
    /// VNI; only the low 24 bits are emitted.
    pub vni: u32,
    /// Raw options: whole 4-byte words, at most 252 bytes. Emit writes
    /// `min(len, 252) / 4` words and ignores the excess.
    pub options: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses a header and validates its options.
    ///
    /// # Errors
    /// Those of [`Packet::check_len`]; [`Error::Unsupported`] for a version
    /// other than 0; [`Error::Malformed`] for a bad option length.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        if packet.version() != 0 {
            return Err(Error::Unsupported);
        }
        let buffer: &'a [u8] = AsRef::<[u8]>::as_ref(packet.buffer);
        let options = clamped(buffer, HEADER_LEN, packet.header_len());
        for option in GeneveOptions::new(options) {
            option?;
        }
        Ok(Repr {
            oam: packet.oam(),
            critical: packet.critical(),
            protocol_type: packet.protocol_type(),
            vni: packet.vni(),
            options,
        })
    }

    fn emitted_options(&self) -> &'a [u8] {
        let len = self.options.len().min(MAX_OPTIONS_LEN) / 4 * 4;
        clamped(self.options, 0, len)
    }

    /// Iterator over the options.
    pub fn options_iter(&self) -> GeneveOptions<'a> {
        GeneveOptions::new(self.emitted_options())
    }

    /// Base header plus options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.emitted_options().len()
    }

    /// Bytes `emit` writes (the header; the payload is the caller's).
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the header and options.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let options = self.emitted_options();
        packet.set_version_and_options_len(0, options.len());
        packet.set_flags(self.oam, self.critical);
        packet.set_protocol_type(self.protocol_type);
        packet.set_vni(self.vni);
        packet.buffer.as_mut()[HEADER_LEN..HEADER_LEN + options.len()].copy_from_slice(options);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::GENEVE_FRAME;
    use proptest::prelude::*;

    const GENEVE: &[u8] = GENEVE_FRAME.split_at(62).1;

    #[test]
    fn deconstruct() {
        let packet = Packet::new_checked(GENEVE).unwrap();
        assert_eq!(
            (packet.version(), packet.options_len(), packet.header_len()),
            (0, 8, 16)
        );
        assert!(!packet.oam() && !packet.critical());
        assert_eq!(packet.protocol_type(), EtherType::TransEtherBridging);
        assert_eq!(packet.vni(), 0x12_3456);
        let options: Vec<_> = packet.options_iter().collect::<Result<_>>().unwrap();
        assert_eq!(
            options,
            vec![GeneveOption {
                class: 0x0102,
                kind: 0x80,
                data: &[0xde, 0xad, 0xbe, 0xef]
            }]
        );
        assert!(options[0].is_critical());
        assert_eq!(&packet.payload()[..6], &[2, 0, 0, 0, 0, 2]);
    }

    #[test]
    fn construct() {
        let repr = Repr::parse(&Packet::new_checked(GENEVE).unwrap()).unwrap();
        let mut buf = [0xffu8; 16];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[..], &GENEVE[..16]);
    }

    #[test]
    fn malformed() {
        assert_eq!(
            Packet::new_checked(&GENEVE[..7]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Packet::new_checked(&GENEVE[..15]).err(),
            Some(Error::Truncated)
        );
        let mut bad = GENEVE.to_vec();
        bad[11] = 0x82; // option data of 8 bytes in a 4-byte area
        let packet = Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(
            packet.options_iter().collect::<Vec<_>>(),
            vec![Err(Error::Malformed)]
        );
        assert_eq!(Repr::parse(&packet), Err(Error::Malformed));
        bad[11] = 0x81;
        bad[0] = 0x42; // version 1
        assert_eq!(
            Repr::parse(&Packet::new_checked(&bad[..]).unwrap()),
            Err(Error::Unsupported)
        );
        assert_eq!(
            GeneveOptions::new(&[0, 1, 2]).next(),
            Some(Err(Error::Malformed))
        );
        let short: &[u8] = &bad[..3];
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(short)),
            Err(Error::Truncated)
        );
    }

    proptest! {
        #[test]
        fn round_trip(oam in any::<bool>(), critical in any::<bool>(), proto in any::<u16>(),
                      vni in 0u32..(1 << 24),
                      opts in proptest::collection::vec((any::<u16>(), any::<u8>(), 0usize..4, any::<u8>()), 0..6)) {
            let mut options = Vec::new();
            for (class, kind, words, fill) in opts {
                options.extend_from_slice(&class.to_be_bytes());
                options.push(kind);
                options.push(words as u8);
                options.extend(std::iter::repeat_n(fill, words * 4));
            }
            let repr = Repr { oam, critical, protocol_type: EtherType::from(proto), vni, options: &options };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            let packet = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(packet.options_iter().count(), repr.options_iter().count());
            prop_assert_eq!(Repr::parse(&packet), Ok(repr));
        }
    }
}
