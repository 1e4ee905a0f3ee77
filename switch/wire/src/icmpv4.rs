//! ICMP for IPv4 (RFC 792).
//!
//! The switch answers pings to its router ports and generates Destination
//! Unreachable / Time Exceeded; it also has to look inside received ICMP
//! errors (NAT must translate the embedded header). The view gives the
//! common 8-byte header, the checksum over the whole message and the
//! embedded original IPv4 header of error messages. The [`Repr`] names the
//! messages the switch builds; every other type is kept as
//! [`Repr::Other`], so parsing is total.

use crate::bytes::{clamped, clamped_mut, get_u16, set_u16};
use crate::checksum::{self, ChecksumPolicy};
use crate::{Error, Result};

enum_with_unknown! {
    /// ICMPv4 message types.
    pub enum Icmpv4Message(u8) {
        /// Echo reply.
        EchoReply = 0,
        /// Destination unreachable.
        DstUnreachable = 3,
        /// Redirect.
        Redirect = 5,
        /// Echo request.
        EchoRequest = 8,
        /// Router advertisement.
        RouterAdvert = 9,
        /// Router solicitation.
        RouterSolicit = 10,
        /// Time exceeded.
        TimeExceeded = 11,
        /// Parameter problem.
        ParamProblem = 12,
        /// Timestamp request.
        Timestamp = 13,
        /// Timestamp reply.
        TimestampReply = 14,
    }
}

enum_with_unknown! {
    /// Codes of Destination Unreachable.
    pub enum Icmpv4DstUnreachable(u8) {
        /// Network unreachable.
        NetUnreachable = 0,
        /// Host unreachable.
        HostUnreachable = 1,
        /// Protocol unreachable.
        ProtoUnreachable = 2,
        /// Port unreachable.
        PortUnreachable = 3,
        /// Fragmentation needed and DF set (carries the next-hop MTU).
        FragRequired = 4,
        /// Communication administratively prohibited (RFC 1812).
        AdminProhibited = 13,
    }
}

mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQNO: Range<usize> = 6..8;
    pub const MTU: Range<usize> = 6..8;
    pub const DATA: usize = 8;
}

/// Length of the ICMP header.
pub const HEADER_LEN: usize = field::DATA;

/// Splits the data of an ICMP error into the embedded IPv4 header (options
/// included) and the bytes of the original datagram after it.
///
/// # Errors
/// [`Error::Malformed`] if the data does not start with an IPv4 header
/// (version 4, IHL >= 5); [`Error::Truncated`] if the header is cut short.
pub fn split_embedded_ipv4(data: &[u8]) -> Result<(&[u8], &[u8])> {
    let first = *data.first().ok_or(Error::Truncated)?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < crate::ipv4::HEADER_LEN {
        return Err(Error::Malformed);
    }
    if data.len() < header_len {
        return Err(Error::Truncated);
    }
    Ok(data.split_at(header_len))
}

/// A zero-copy view of an ICMPv4 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer (the whole IP payload) without checking it.
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
    pub fn msg_type(&self) -> Icmpv4Message {
        Icmpv4Message::from(self.buffer.as_ref()[field::TYPE])
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

    /// Next-hop MTU of a "fragmentation needed" message (RFC 1191).
    pub fn next_hop_mtu(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::MTU.start)
    }

    /// `true` when the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.buffer.as_ref()) == 0xffff
    }

    /// Everything after the 8-byte header (echo data, or the invoking
    /// datagram of an error).
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, field::DATA, data.len())
    }

    /// `true` for the error messages that embed the invoking datagram.
    pub fn is_error(&self) -> bool {
        matches!(
            self.msg_type(),
            Icmpv4Message::DstUnreachable
                | Icmpv4Message::TimeExceeded
                | Icmpv4Message::ParamProblem
                | Icmpv4Message::Redirect
        )
    }

    /// The embedded original IPv4 header and the bytes after it, for an
    /// error message.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if this is not an error message; otherwise
    /// those of [`split_embedded_ipv4`].
    pub fn embedded_ipv4(&self) -> Result<(&[u8], &[u8])> {
        if !self.is_error() {
            return Err(Error::Unsupported);
        }
        split_embedded_ipv4(self.payload())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: Icmpv4Message) {
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

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let value = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(value);
    }

    /// Mutable bytes after the header.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, field::DATA, len)
    }
}

/// An owned ICMPv4 message; the data is borrowed.
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
        /// Why.
        reason: Icmpv4DstUnreachable,
        /// Next-hop MTU (meaningful for `FragRequired`, else 0).
        next_hop_mtu: u16,
        /// The invoking datagram: IPv4 header and at least 8 bytes.
        data: &'a [u8],
    },
    /// Time exceeded (code 0: TTL, 1: reassembly).
    TimeExceeded {
        /// Code.
        code: u8,
        /// The invoking datagram.
        data: &'a [u8],
    },
    /// Any other message, kept whole.
    Other {
        /// Type.
        msg_type: Icmpv4Message,
        /// Code.
        code: u8,
        /// The four type-specific header bytes.
        rest: [u8; 4],
        /// Data after the header.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses a message.
    ///
    /// # Errors
    /// [`Error::Truncated`] if shorter than 8 bytes; [`Error::Checksum`] if
    /// `policy` says verify and the checksum is wrong.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        policy: ChecksumPolicy,
    ) -> Result<Repr<'a>> {
        packet.check_len()?;
        if policy == ChecksumPolicy::Verify && !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        let buffer: &'a [u8] = AsRef::<[u8]>::as_ref(packet.buffer);
        let data = clamped(buffer, field::DATA, buffer.len());
        let (ident, seq_no) = (packet.echo_ident(), packet.echo_seq_no());
        Ok(match (packet.msg_type(), packet.msg_code()) {
            (Icmpv4Message::EchoRequest, 0) => Repr::EchoRequest {
                ident,
                seq_no,
                data,
            },
            (Icmpv4Message::EchoReply, 0) => Repr::EchoReply {
                ident,
                seq_no,
                data,
            },
            (Icmpv4Message::DstUnreachable, code) => Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::from(code),
                next_hop_mtu: packet.next_hop_mtu(),
                data,
            },
            (Icmpv4Message::TimeExceeded, code) => Repr::TimeExceeded { code, data },
            (msg_type, code) => Repr::Other {
                msg_type,
                code,
                rest: packet.rest_of_header(),
                data,
            },
        })
    }

    /// The data after the header.
    pub fn data(&self) -> &'a [u8] {
        match *self {
            Repr::EchoRequest { data, .. }
            | Repr::EchoReply { data, .. }
            | Repr::DstUnreachable { data, .. }
            | Repr::TimeExceeded { data, .. }
            | Repr::Other { data, .. } => data,
        }
    }

    /// Header length (8).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Whole message length.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data().len()
    }

    /// Writes the message (header, data, checksum over exactly
    /// [`buffer_len`](Self::buffer_len) bytes).
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let (msg_type, code, rest) = match *self {
            Repr::EchoRequest { ident, seq_no, .. } => {
                (Icmpv4Message::EchoRequest, 0, echo_rest(ident, seq_no))
            }
            Repr::EchoReply { ident, seq_no, .. } => {
                (Icmpv4Message::EchoReply, 0, echo_rest(ident, seq_no))
            }
            Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                ..
            } => {
                let mtu = next_hop_mtu.to_be_bytes();
                (
                    Icmpv4Message::DstUnreachable,
                    reason.into(),
                    [0, 0, mtu[0], mtu[1]],
                )
            }
            Repr::TimeExceeded { code, .. } => (Icmpv4Message::TimeExceeded, code, [0; 4]),
            Repr::Other {
                msg_type,
                code,
                rest,
                ..
            } => (msg_type, code, rest),
        };
        let data = self.data();
        let len = self.buffer_len();
        let mut packet = Packet::new_unchecked(&mut packet.buffer.as_mut()[..len]);
        packet.set_msg_type(msg_type);
        packet.set_msg_code(code);
        packet.set_rest_of_header(rest);
        packet.payload_mut().copy_from_slice(data);
        packet.fill_checksum();
    }
}

fn echo_rest(ident: u16, seq_no: u16) -> [u8; 4] {
    let (i, s) = (ident.to_be_bytes(), seq_no.to_be_bytes());
    [i[0], i[1], s[0], s[1]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::ICMP_ECHO;
    use proptest::prelude::*;

    const ECHO: &[u8] = ICMP_ECHO.split_at(34).1;

    #[test]
    fn deconstruct_echo() {
        let packet = Packet::new_checked(ECHO).unwrap();
        assert_eq!(packet.msg_type(), Icmpv4Message::EchoRequest);
        assert_eq!((packet.echo_ident(), packet.echo_seq_no()), (0x4242, 7));
        assert!(packet.verify_checksum());
        let repr = Repr::parse(&packet, ChecksumPolicy::Verify).unwrap();
        assert_eq!(
            repr,
            Repr::EchoRequest {
                ident: 0x4242,
                seq_no: 7,
                data: b"pingdata"
            }
        );
        assert_eq!(packet.embedded_ipv4(), Err(Error::Unsupported));
    }

    #[test]
    fn construct_echo() {
        let repr = Repr::EchoRequest {
            ident: 0x4242,
            seq_no: 7,
            data: b"pingdata",
        };
        let mut buf = [0u8; 16];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[..], ECHO);
    }

    #[test]
    fn error_embeds_original_header() {
        // Port unreachable quoting the echo's own IPv4 header + 8 bytes.
        let quoted = &ICMP_ECHO[14..42];
        let repr = Repr::DstUnreachable {
            reason: Icmpv4DstUnreachable::PortUnreachable,
            next_hop_mtu: 0,
            data: quoted,
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert!(packet.is_error());
        let (header, rest) = packet.embedded_ipv4().unwrap();
        assert_eq!(header, &ICMP_ECHO[14..34]);
        assert_eq!(rest.len(), 8);
        assert_eq!(Repr::parse(&packet, ChecksumPolicy::Verify), Ok(repr));
    }

    #[test]
    fn malformed() {
        assert_eq!(
            Packet::new_checked(&ECHO[..7]).err(),
            Some(Error::Truncated)
        );
        let mut bad = ECHO.to_vec();
        bad[9] ^= 1;
        let packet = Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(
            Repr::parse(&packet, ChecksumPolicy::Verify),
            Err(Error::Checksum)
        );
        assert!(Repr::parse(&packet, ChecksumPolicy::Ignore).is_ok());
        assert_eq!(split_embedded_ipv4(&[]), Err(Error::Truncated));
        assert_eq!(split_embedded_ipv4(&[0x44, 0, 0, 0]), Err(Error::Malformed));
        assert_eq!(split_embedded_ipv4(&[0x45, 0, 0, 0]), Err(Error::Truncated));
        let short: &[u8] = &ECHO[..3];
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(short), ChecksumPolicy::Ignore),
            Err(Error::Truncated)
        );
    }

    /// Builds one of the five repr shapes from owned random fields.
    fn build(kind: u8, a: u16, b: u16, code: u8, rest: [u8; 4], data: &[u8]) -> Repr<'_> {
        match kind {
            0 => Repr::EchoRequest {
                ident: a,
                seq_no: b,
                data,
            },
            1 => Repr::EchoReply {
                ident: a,
                seq_no: b,
                data,
            },
            2 => Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::from(code),
                next_hop_mtu: a,
                data,
            },
            3 => Repr::TimeExceeded { code, data },
            // Types without their own variant (anything but 0, 3, 8, 11).
            _ => {
                let msg_type = Icmpv4Message::from([5, 9, 12, 13, 200][usize::from(code % 5)]);
                Repr::Other {
                    msg_type,
                    code,
                    rest,
                    data,
                }
            }
        }
    }

    proptest! {
        #[test]
        fn round_trip(kind in 0u8..5, a in any::<u16>(), b in any::<u16>(), code in any::<u8>(),
                      rest in any::<[u8; 4]>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let repr = build(kind, a, b, code, rest, &data);
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            let packet = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&packet, ChecksumPolicy::Verify), Ok(repr));
        }
    }
}
