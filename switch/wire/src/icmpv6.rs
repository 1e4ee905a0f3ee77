//! ICMPv6 (RFC 4443): the common header, checksum with the IPv6
//! pseudo-header, error and echo messages.
//!
//! Neighbor Discovery messages share this header and checksum; their bodies
//! are in [`ndisc`](crate::ndisc) and their options in
//! [`ndopt`](crate::ndopt), so that this file stays about ICMPv6 itself.
//! [`Repr`] is total: messages without a variant are kept as
//! [`Repr::Other`].

use std::net::Ipv6Addr;

use crate::bytes::{clamped, clamped_mut, get_u16, get_u32, set_u16, set_u32};
use crate::checksum::{self, ChecksumPolicy};
use crate::ndisc::NdiscRepr;
use crate::{Error, IpProtocol, Result};

enum_with_unknown! {
    /// ICMPv6 message types.
    pub enum Icmpv6Message(u8) {
        /// Destination unreachable.
        DstUnreachable = 1,
        /// Packet too big.
        PktTooBig = 2,
        /// Time exceeded.
        TimeExceeded = 3,
        /// Parameter problem.
        ParamProblem = 4,
        /// Echo request.
        EchoRequest = 128,
        /// Echo reply.
        EchoReply = 129,
        /// Multicast listener query.
        MldQuery = 130,
        /// Multicast listener report (v1).
        MldReport = 131,
        /// Router solicitation.
        RouterSolicit = 133,
        /// Router advertisement.
        RouterAdvert = 134,
        /// Neighbor solicitation.
        NeighborSolicit = 135,
        /// Neighbor advertisement.
        NeighborAdvert = 136,
        /// Redirect.
        Redirect = 137,
        /// Multicast listener report (v2).
        MldV2Report = 143,
    }
}

pub(crate) mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQNO: Range<usize> = 6..8;
    pub const MTU_POINTER: Range<usize> = 4..8;
    pub const DATA: usize = 8;
}

/// Length of the ICMPv6 header.
pub const HEADER_LEN: usize = field::DATA;

/// A zero-copy view of an ICMPv6 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    pub(crate) buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer (the whole upper-layer payload) without checking it.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the 8-byte header fits.
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

    /// Message type.
    pub fn msg_type(&self) -> Icmpv6Message {
        Icmpv6Message::from(self.buffer.as_ref()[field::TYPE])
    }

    /// Message code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Stored checksum.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// The four type-specific header bytes.
    pub fn rest_of_header(&self) -> [u8; 4] {
        let d = self.buffer.as_ref();
        [d[4], d[5], d[6], d[7]]
    }

    /// Echo identifier.
    pub fn echo_ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ECHO_IDENT.start)
    }

    /// Echo sequence number.
    pub fn echo_seq_no(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ECHO_SEQNO.start)
    }

    /// MTU of Packet Too Big, pointer of Parameter Problem.
    pub fn mtu_or_pointer(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::MTU_POINTER.start)
    }

    /// `true` when the checksum (with the pseudo-header for `src`, `dst`)
    /// verifies.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        let data = self.buffer.as_ref();
        let ph = checksum::pseudo_header_v6(src, dst, IpProtocol::Icmpv6, data.len() as u32);
        checksum::combine(&[ph, checksum::sum(data)]) == 0xffff
    }

    /// Bytes after the 8-byte header.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, field::DATA, data.len())
    }

    /// `true` for error messages (type < 128).
    pub fn is_error(&self) -> bool {
        u8::from(self.msg_type()) < 128
    }

    /// The embedded IPv6 header (40 bytes) and what follows it, for an error
    /// message.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if not an error; [`Error::Truncated`] if fewer
    /// than 40 bytes are quoted; [`Error::Malformed`] if they are not IPv6.
    pub fn embedded_ipv6(&self) -> Result<(&[u8], &[u8])> {
        if !self.is_error() {
            return Err(Error::Unsupported);
        }
        let data = self.payload();
        if data.len() < crate::ipv6::HEADER_LEN {
            return Err(Error::Truncated);
        }
        if data[0] >> 4 != 6 {
            return Err(Error::Malformed);
        }
        Ok(data.split_at(crate::ipv6::HEADER_LEN))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: Icmpv6Message) {
        self.buffer.as_mut()[field::TYPE] = value.into();
    }

    /// Sets the message code.
    pub fn set_msg_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// Sets the four type-specific header bytes.
    pub fn set_rest_of_header(&mut self, value: [u8; 4]) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&value);
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::ECHO_IDENT.start, value);
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::ECHO_SEQNO.start, value);
    }

    /// Sets the MTU (Packet Too Big) or pointer (Parameter Problem).
    pub fn set_mtu_or_pointer(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::MTU_POINTER.start, value);
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let data = self.buffer.as_ref();
        let ph = checksum::pseudo_header_v6(src, dst, IpProtocol::Icmpv6, data.len() as u32);
        let value = !checksum::combine(&[ph, checksum::sum(data)]);
        self.set_checksum(value);
    }

    /// Mutable bytes after the header.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, field::DATA, len)
    }
}

/// An owned ICMPv6 message; data is borrowed.
///
/// The `Ndisc` variant is a few hundred bytes (its option set is stored
/// inline); boxing it would allocate, which reprs must not do.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Echo request (code 0).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Echo reply (code 0).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Destination unreachable.
    DstUnreachable {
        /// Code (0 no route, 1 prohibited, 3 address, 4 port, ...).
        code: u8,
        /// As much of the invoking packet as fits the minimum MTU.
        data: &'a [u8],
    },
    /// Packet too big.
    PktTooBig {
        /// MTU of the next hop.
        mtu: u32,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Time exceeded (0: hop limit, 1: reassembly).
    TimeExceeded {
        /// Code.
        code: u8,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Parameter problem.
    ParamProblem {
        /// Code.
        code: u8,
        /// Offset of the error in the invoking packet.
        pointer: u32,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Neighbor Discovery (RS, RA, NS, NA).
    Ndisc(NdiscRepr<'a>),
    /// Any other message, kept whole.
    Other {
        /// Type.
        msg_type: Icmpv6Message,
        /// Code.
        code: u8,
        /// The four type-specific header bytes.
        rest: [u8; 4],
        /// Data after the header.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses a message; `src` and `dst` are the IPv6 addresses of the
    /// enclosing packet (for the checksum).
    ///
    /// # Errors
    /// [`Error::Truncated`] if shorter than the header (or an ND body);
    /// [`Error::Checksum`] if `policy` says verify and it fails;
    /// [`Error::Malformed`] for an ND message with a non-zero code or bad
    /// options; [`Error::Unsupported`] for ND options beyond capacity.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        policy: ChecksumPolicy,
    ) -> Result<Repr<'a>> {
        packet.check_len()?;
        if policy == ChecksumPolicy::Verify && !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        let buffer: &'a [u8] = AsRef::<[u8]>::as_ref(packet.buffer);
        let data = clamped(buffer, field::DATA, buffer.len());
        let (ident, seq_no) = (packet.echo_ident(), packet.echo_seq_no());
        Ok(match (packet.msg_type(), packet.msg_code()) {
            (Icmpv6Message::EchoRequest, 0) => Repr::EchoRequest {
                ident,
                seq_no,
                data,
            },
            (Icmpv6Message::EchoReply, 0) => Repr::EchoReply {
                ident,
                seq_no,
                data,
            },
            (Icmpv6Message::DstUnreachable, code) => Repr::DstUnreachable { code, data },
            (Icmpv6Message::PktTooBig, 0) => Repr::PktTooBig {
                mtu: packet.mtu_or_pointer(),
                data,
            },
            (Icmpv6Message::TimeExceeded, code) => Repr::TimeExceeded { code, data },
            (Icmpv6Message::ParamProblem, code) => Repr::ParamProblem {
                code,
                pointer: packet.mtu_or_pointer(),
                data,
            },
            (
                Icmpv6Message::RouterSolicit
                | Icmpv6Message::RouterAdvert
                | Icmpv6Message::NeighborSolicit
                | Icmpv6Message::NeighborAdvert,
                _,
            ) => Repr::Ndisc(NdiscRepr::parse(packet)?),
            (msg_type, code) => Repr::Other {
                msg_type,
                code,
                rest: packet.rest_of_header(),
                data,
            },
        })
    }

    /// Whole message length.
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::EchoRequest { data, .. }
            | Repr::EchoReply { data, .. }
            | Repr::DstUnreachable { data, .. }
            | Repr::PktTooBig { data, .. }
            | Repr::TimeExceeded { data, .. }
            | Repr::ParamProblem { data, .. }
            | Repr::Other { data, .. } => HEADER_LEN + data.len(),
            Repr::Ndisc(ndisc) => ndisc.buffer_len(),
        }
    }

    /// Header length (8; ND bodies are counted as payload here).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the message into exactly [`buffer_len`](Self::buffer_len)
    /// bytes and fills the checksum for `src` → `dst`.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
    ) {
        let len = self.buffer_len();
        let mut packet = Packet::new_unchecked(&mut packet.buffer.as_mut()[..len]);
        let (msg_type, code, rest, data) = match *self {
            Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => (
                Icmpv6Message::EchoRequest,
                0,
                echo_rest(ident, seq_no),
                data,
            ),
            Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => (Icmpv6Message::EchoReply, 0, echo_rest(ident, seq_no), data),
            Repr::DstUnreachable { code, data } => {
                (Icmpv6Message::DstUnreachable, code, [0; 4], data)
            }
            Repr::PktTooBig { mtu, data } => (Icmpv6Message::PktTooBig, 0, mtu.to_be_bytes(), data),
            Repr::TimeExceeded { code, data } => (Icmpv6Message::TimeExceeded, code, [0; 4], data),
            Repr::ParamProblem {
                code,
                pointer,
                data,
            } => (
                Icmpv6Message::ParamProblem,
                code,
                pointer.to_be_bytes(),
                data,
            ),
            Repr::Other {
                msg_type,
                code,
                rest,
                data,
            } => (msg_type, code, rest, data),
            Repr::Ndisc(ndisc) => {
                ndisc.emit(&mut packet);
                packet.fill_checksum(src, dst);
                return;
            }
        };
        packet.set_msg_type(msg_type);
        packet.set_msg_code(code);
        packet.set_rest_of_header(rest);
        packet.payload_mut().copy_from_slice(data);
        packet.fill_checksum(src, dst);
    }
}

fn echo_rest(ident: u16, seq_no: u16) -> [u8; 4] {
    let (i, s) = (ident.to_be_bytes(), seq_no.to_be_bytes());
    [i[0], i[1], s[0], s[1]]
}

#[cfg(test)]
mod tests;
