//! IPv4 headers (RFC 791): options, fragmentation fields, header checksum.
//!
//! The view's length check is strict on the fields the datapath trusts:
//! IHL must be at least 5 and fit the buffer, `total_len` must cover the
//! header and fit the buffer. After that, [`Packet::payload`] is exactly the
//! L4 bytes, with any Ethernet padding cut off. Options are kept as raw bytes
//! and walked by [`Ipv4Options`], which stops with [`Error::Malformed`] on a
//! bad option length.

use std::net::Ipv4Addr;

use crate::bytes::{clamped, clamped_mut, get_ipv4, get_u16, set_u16};
use crate::checksum::{self, ChecksumPolicy};
use crate::{Error, IpProtocol, Result};

mod field {
    use core::ops::Range;

    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
    pub const OPTIONS: usize = 20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::OPTIONS;

/// Maximum length of the options (IHL 15).
pub const MAX_OPTIONS_LEN: usize = 40;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// A zero-copy view of an IPv4 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks its length fields.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the fixed header, IHL and total length against the buffer.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than 20 bytes, than the
    /// IHL or than `total_len`; [`Error::Malformed`] if IHL < 5 or
    /// `total_len` < header length.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = usize::from(self.header_len());
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len < header_len {
            return Err(Error::Truncated);
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(Error::Malformed);
        }
        if len < total_len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version field (4 for a valid packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// DSCP.
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// ECN.
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }

    /// Total length (header + payload).
    pub fn total_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::IDENT.start)
    }

    fn flags_offset(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::FLG_OFF.start)
    }

    /// Don't Fragment.
    pub fn dont_frag(&self) -> bool {
        self.flags_offset() & FLAG_DF != 0
    }

    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        self.flags_offset() & FLAG_MF != 0
    }

    /// Fragment offset in bytes (the field × 8).
    pub fn frag_offset(&self) -> u16 {
        (self.flags_offset() & OFFSET_MASK) << 3
    }

    /// `true` for any fragment: MF set or a non-zero offset.
    pub fn is_fragment(&self) -> bool {
        self.flags_offset() & (FLAG_MF | OFFSET_MASK) != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Stored header checksum.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::SRC_ADDR.start)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::DST_ADDR.start)
    }

    /// `true` when the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        let data = self.buffer.as_ref();
        checksum::sum(clamped(data, 0, usize::from(self.header_len()))) == 0xffff
    }

    /// Raw option bytes (between byte 20 and the IHL).
    pub fn options(&self) -> &[u8] {
        clamped(
            self.buffer.as_ref(),
            field::OPTIONS,
            usize::from(self.header_len()),
        )
    }

    /// Iterator over the options.
    pub fn options_iter(&self) -> Ipv4Options<'_> {
        Ipv4Options::new(self.options())
    }

    /// The L4 bytes: from the IHL to `total_len` (padding excluded).
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(
            data,
            usize::from(self.header_len()),
            usize::from(self.total_len()),
        )
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version and IHL (`header_len` in bytes, a multiple of 4).
    pub fn set_version_and_header_len(&mut self, version: u8, header_len: u8) {
        self.buffer.as_mut()[field::VER_IHL] = (version << 4) | ((header_len / 4) & 0x0f);
    }

    /// Sets DSCP and ECN.
    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = (dscp << 2) | (ecn & 0x03);
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::LENGTH.start, value);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::IDENT.start, value);
    }

    /// Sets DF, MF and the fragment offset (in bytes; must be a multiple of 8).
    pub fn set_fragment(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let mut value = (offset >> 3) & OFFSET_MASK;
        if dont_frag {
            value |= FLAG_DF;
        }
        if more_frags {
            value |= FLAG_MF;
        }
        set_u16(self.buffer.as_mut(), field::FLG_OFF.start, value);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[field::TTL] = value;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = value.into();
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&value.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&value.octets());
    }

    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = usize::from(self.header_len());
        let value = checksum::checksum(clamped(self.buffer.as_ref(), 0, header_len));
        self.set_checksum(value);
    }

    /// Mutable option bytes.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.header_len());
        clamped_mut(self.buffer.as_mut(), field::OPTIONS, end)
    }

    /// Mutable payload (IHL to `total_len`).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = (
            usize::from(self.header_len()),
            usize::from(self.total_len()),
        );
        clamped_mut(self.buffer.as_mut(), start, end)
    }
}

enum_with_unknown! {
    /// IPv4 option types (copied flag, class and number in one byte).
    pub enum Ipv4OptionType(u8) {
        /// End of option list.
        EndOfList = 0,
        /// No operation (padding).
        Nop = 1,
        /// Record route.
        RecordRoute = 7,
        /// Router alert (RFC 2113).
        RouterAlert = 148,
        /// Loose source route.
        LooseSourceRoute = 131,
        /// Strict source route.
        StrictSourceRoute = 137,
        /// Timestamp.
        Timestamp = 68,
    }
}

/// One IPv4 option: its type and its data (after type and length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Option<'a> {
    /// Option type.
    pub kind: Ipv4OptionType,
    /// Data bytes (empty for NOP).
    pub data: &'a [u8],
}

/// Iterator over IPv4 options. Stops after End of List; yields one
/// `Err(Malformed)` and stops if a length is below 2 or overruns the options.
#[derive(Debug, Clone)]
pub struct Ipv4Options<'a> {
    rest: &'a [u8],
}

impl<'a> Ipv4Options<'a> {
    /// Walks raw option bytes.
    pub fn new(options: &'a [u8]) -> Ipv4Options<'a> {
        Ipv4Options { rest: options }
    }
}

impl<'a> Iterator for Ipv4Options<'a> {
    type Item = Result<Ipv4Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, after) = self.rest.split_first()?;
        let kind = Ipv4OptionType::from(kind);
        match kind {
            Ipv4OptionType::EndOfList => {
                self.rest = &[];
                None
            }
            Ipv4OptionType::Nop => {
                self.rest = after;
                Some(Ok(Ipv4Option { kind, data: &[] }))
            }
            _ => {
                let len = after.first().copied().map_or(0, usize::from);
                match (len >= 2).then(|| self.rest.get(2..len)).flatten() {
                    Some(data) => {
                        self.rest = clamped(self.rest, len, self.rest.len());
                        Some(Ok(Ipv4Option { kind, data }))
                    }
                    None => {
                        self.rest = &[];
                        Some(Err(Error::Malformed))
                    }
                }
            }
        }
    }
}

/// The owned IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Payload length (total length minus header).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// DSCP (6 bits).
    pub dscp: u8,
    /// ECN (2 bits).
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes (multiple of 8).
    pub frag_offset: u16,
    /// Raw options, padded to a multiple of 4 on emit.
    pub options: OptionBytes,
}

/// Up to 40 bytes of raw IPv4 options, stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptionBytes {
    bytes: [u8; MAX_OPTIONS_LEN],
    len: u8,
}

impl Default for OptionBytes {
    fn default() -> Self {
        OptionBytes {
            bytes: [0; MAX_OPTIONS_LEN],
            len: 0,
        }
    }
}

impl OptionBytes {
    /// Copies option bytes.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if longer than 40 bytes.
    pub fn new(options: &[u8]) -> Result<OptionBytes> {
        let mut bytes = [0u8; MAX_OPTIONS_LEN];
        bytes
            .get_mut(..options.len())
            .ok_or(Error::Unsupported)?
            .copy_from_slice(options);
        Ok(OptionBytes {
            bytes,
            len: options.len() as u8,
        })
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        clamped(&self.bytes, 0, usize::from(self.len))
    }

    /// Length once padded to 4 bytes.
    pub fn padded_len(&self) -> usize {
        usize::from(self.len).div_ceil(4) * 4
    }
}

impl Repr {
    /// Parses a header. Options are copied (and validated by walking them).
    ///
    /// # Errors
    /// Those of [`Packet::check_len`]; [`Error::Malformed`] for a version
    /// other than 4 or a bad option length; [`Error::Checksum`] when `policy`
    /// says verify and the checksum is wrong.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>, policy: ChecksumPolicy) -> Result<Repr> {
        packet.check_len()?;
        if packet.version() != 4 {
            return Err(Error::Malformed);
        }
        for option in packet.options_iter() {
            option?;
        }
        if policy == ChecksumPolicy::Verify && !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: packet.payload().len(),
            ttl: packet.ttl(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            options: OptionBytes::new(packet.options())?,
        })
    }

    /// Header length including padded options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.padded_len()
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header and its checksum. The payload is left untouched.
    /// `total_len` saturates at 65535 if `payload_len` is too large.
    ///
    /// # Panics
    /// If the buffer is shorter than [`header_len`](Self::header_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let header_len = self.header_len();
        packet.set_version_and_header_len(4, header_len as u8);
        packet.set_dscp_ecn(self.dscp, self.ecn);
        packet.set_total_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.set_ident(self.ident);
        packet.set_fragment(self.dont_frag, self.more_frags, self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        let options = &mut packet.buffer.as_mut()[HEADER_LEN..header_len];
        options.fill(0);
        options[..self.options.as_slice().len()].copy_from_slice(self.options.as_slice());
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests;
