//! TCP segment headers (RFC 9293 §3.1).
//!
//! The switch never terminates TCP; it reads ports and flags (ACLs,
//! conntrack), rewrites ports and fixes checksums (NAT), and clamps the MSS
//! of SYNs. So the view is complete and the [`Repr`] keeps exactly the
//! options a SYN carries; other options are visible through
//! [`Packet::options_iter`] but not kept. TCP has no length field: the view
//! is the whole segment (the IP payload), and the payload is everything
//! after the data offset.

use crate::bytes::{clamped, clamped_mut, get_u16, get_u32, set_u16, set_u32};
use crate::checksum::{self, ChecksumPolicy, PseudoHeader};
use crate::tcpopt::{kind, TcpFlags, TcpOption, TcpOptions};
use crate::{Error, IpProtocol, Result};

mod field {
    use core::ops::Range;

    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ_NUM: Range<usize> = 4..8;
    pub const ACK_NUM: Range<usize> = 8..12;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
    pub const OPTIONS: usize = 20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::OPTIONS;

/// A zero-copy view of a TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer (the whole segment) without checking it.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks header and data offset.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than 20 bytes or the
    /// data offset; [`Error::Malformed`] if the data offset is below 5.
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

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::SEQ_NUM.start)
    }

    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::ACK_NUM.start)
    }

    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::DATA_OFFSET] >> 4) * 4
    }

    /// Flags.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags::from_bits(self.buffer.as_ref()[field::FLAGS])
    }

    /// Window.
    pub fn window_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::WINDOW.start)
    }

    /// Stored checksum.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::URGENT.start)
    }

    /// Raw option bytes.
    pub fn options(&self) -> &[u8] {
        clamped(
            self.buffer.as_ref(),
            field::OPTIONS,
            usize::from(self.header_len()),
        )
    }

    /// Iterator over the options.
    pub fn options_iter(&self) -> TcpOptions<'_> {
        TcpOptions::new(self.options())
    }

    /// `true` when the checksum over the whole segment verifies for `ph`.
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> bool {
        let data = self.buffer.as_ref();
        let pseudo = ph.sum(IpProtocol::Tcp, data.len() as u32);
        checksum::combine(&[pseudo, checksum::sum(data)]) == 0xffff
    }

    /// Everything after the header.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, usize::from(self.header_len()), data.len())
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

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::SEQ_NUM.start, value);
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::ACK_NUM.start, value);
    }

    /// Sets the header length in bytes (a multiple of 4, 20..=60); clears
    /// the reserved bits.
    pub fn set_header_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::DATA_OFFSET] = (value / 4) << 4;
    }

    /// Sets the flags.
    pub fn set_flags(&mut self, value: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = value.bits();
    }

    /// Sets the window.
    pub fn set_window_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::WINDOW.start, value);
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM.start, value);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::URGENT.start, value);
    }

    /// Computes and stores the checksum over the whole buffer for `ph`.
    pub fn fill_checksum(&mut self, ph: &PseudoHeader) {
        self.set_checksum(0);
        let data = self.buffer.as_ref();
        let pseudo = ph.sum(IpProtocol::Tcp, data.len() as u32);
        let value = !checksum::combine(&[pseudo, checksum::sum(data)]);
        self.set_checksum(value);
    }

    /// Mutable option bytes.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.header_len());
        clamped_mut(self.buffer.as_mut(), field::OPTIONS, end)
    }

    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = usize::from(self.header_len());
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, start, len)
    }
}

/// The owned TCP header, with the options a SYN carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number.
    pub ack_number: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window.
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
    /// MSS option.
    pub max_seg_size: Option<u16>,
    /// Window scale option.
    pub window_scale: Option<u8>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// Timestamps option `(tsval, tsecr)`.
    pub timestamps: Option<(u32, u32)>,
    /// Payload length.
    pub payload_len: usize,
}

impl Repr {
    /// Parses a segment carried between the addresses of `ph`. Options
    /// other than MSS, window scale, SACK-permitted and timestamps are
    /// validated and skipped.
    ///
    /// # Errors
    /// Those of [`Packet::check_len`]; [`Error::Malformed`] for a bad option;
    /// [`Error::Checksum`] if `policy` says verify and it fails.
    pub fn parse<T: AsRef<[u8]>>(
        packet: &Packet<T>,
        ph: &PseudoHeader,
        policy: ChecksumPolicy,
    ) -> Result<Repr> {
        packet.check_len()?;
        let mut repr = Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
            urgent_at: packet.urgent_at(),
            max_seg_size: None,
            window_scale: None,
            sack_permitted: false,
            timestamps: None,
            payload_len: packet.payload().len(),
        };
        for option in packet.options_iter() {
            match option? {
                TcpOption::MaxSegmentSize(mss) => repr.max_seg_size = Some(mss),
                TcpOption::WindowScale(shift) => repr.window_scale = Some(shift),
                TcpOption::SackPermitted => repr.sack_permitted = true,
                TcpOption::Timestamps { tsval, tsecr } => repr.timestamps = Some((tsval, tsecr)),
                TcpOption::NoOperation | TcpOption::Sack(_) | TcpOption::Other { .. } => {}
            }
        }
        if policy == ChecksumPolicy::Verify && !packet.verify_checksum(ph) {
            return Err(Error::Checksum);
        }
        Ok(repr)
    }

    /// Header length: 20 plus the options, each 4-byte aligned with NOPs.
    pub fn header_len(&self) -> usize {
        HEADER_LEN
            + 4 * usize::from(self.max_seg_size.is_some())
            + 4 * usize::from(self.window_scale.is_some())
            + 4 * usize::from(self.sack_permitted)
            + 12 * usize::from(self.timestamps.is_some())
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes header and options, then the checksum for `ph` over the
    /// header and the `payload_len` bytes already in the buffer after it
    /// (write the payload first, or call [`Packet::fill_checksum`] after).
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>, ph: &PseudoHeader) {
        let header_len = self.header_len();
        let mut packet = Packet::new_unchecked(&mut packet.buffer.as_mut()[..self.buffer_len()]);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number);
        packet.set_header_len(header_len as u8);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window_len);
        packet.set_urgent_at(self.urgent_at);
        let options = &mut packet.buffer[HEADER_LEN..header_len];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            options[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if let Some(mss) = self.max_seg_size {
            let m = mss.to_be_bytes();
            put(&[kind::MSS, 4, m[0], m[1]]);
        }
        if let Some(shift) = self.window_scale {
            put(&[kind::NOP, kind::WINDOW_SCALE, 3, shift]);
        }
        if self.sack_permitted {
            put(&[kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]);
        }
        if let Some((tsval, tsecr)) = self.timestamps {
            put(&[kind::NOP, kind::NOP, kind::TIMESTAMPS, 10]);
            put(&tsval.to_be_bytes());
            put(&tsecr.to_be_bytes());
        }
        packet.fill_checksum(ph);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{arb_ipv4, TCP_SYN};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const SYN: &[u8] = TCP_SYN.split_at(34).1;

    fn ph() -> PseudoHeader {
        PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 168, 1, 10),
            dst: Ipv4Addr::new(192, 168, 1, 20),
        }
    }

    #[test]
    fn deconstruct_syn() {
        let packet = Packet::new_checked(SYN).unwrap();
        assert_eq!((packet.src_port(), packet.dst_port()), (40000, 80));
        assert_eq!(packet.seq_number(), 0x0102_0304);
        assert_eq!(packet.flags(), TcpFlags::SYN);
        assert_eq!(packet.header_len(), 40);
        assert_eq!(packet.window_len(), 64240);
        assert!(packet.verify_checksum(&ph()));
        let options: Vec<_> = packet.options_iter().collect::<Result<_>>().unwrap();
        assert_eq!(options.len(), 5);
        let repr = Repr::parse(&packet, &ph(), ChecksumPolicy::Verify).unwrap();
        assert_eq!(repr.max_seg_size, Some(1460));
        assert_eq!(repr.window_scale, Some(7));
        assert!(repr.sack_permitted);
        assert_eq!(repr.timestamps, Some((123_456, 0)));
        assert_eq!(repr.payload_len, 0);
    }

    #[test]
    fn construct_syn_ack() {
        let syn = Repr::parse(
            &Packet::new_checked(SYN).unwrap(),
            &ph(),
            ChecksumPolicy::Verify,
        )
        .unwrap();
        let syn_ack = Repr {
            src_port: syn.dst_port,
            dst_port: syn.src_port,
            ack_number: syn.seq_number.wrapping_add(1),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            ..syn
        };
        let mut buf = vec![0u8; syn_ack.buffer_len()];
        syn_ack.emit(&mut Packet::new_unchecked(&mut buf[..]), &ph());
        assert_eq!(buf.len(), 44);
        assert_eq!(&buf[20..24], &[2, 4, 0x05, 0xb4]);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(
            Repr::parse(&packet, &ph(), ChecksumPolicy::Verify),
            Ok(syn_ack)
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(
            Packet::new_checked(&SYN[..19]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Packet::new_checked(&SYN[..39]).err(),
            Some(Error::Truncated)
        );
        let mut bad = SYN.to_vec();
        bad[12] = 0x40; // data offset 4
        assert_eq!(Packet::new_checked(&bad[..]).err(), Some(Error::Malformed));
        bad[12] = 0xa0;
        bad[21] = 30; // MSS option length overruns the header
        let packet = Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(
            Repr::parse(&packet, &ph(), ChecksumPolicy::Ignore),
            Err(Error::Malformed)
        );
        bad[21] = 4;
        bad[4] ^= 1;
        let packet = Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(
            Repr::parse(&packet, &ph(), ChecksumPolicy::Verify),
            Err(Error::Checksum)
        );
        assert_eq!(
            Repr::parse(
                &Packet::new_unchecked(&bad[..3]),
                &ph(),
                ChecksumPolicy::Ignore
            ),
            Err(Error::Truncated)
        );
    }

    prop_compose! {
        fn arb_repr()(ports in any::<(u16, u16)>(), seq in any::<u32>(), ack in any::<u32>(),
                      flags in any::<u8>(), window in any::<u16>(), urgent in any::<u16>(),
                      mss in proptest::option::of(any::<u16>()), ws in proptest::option::of(any::<u8>()),
                      sack in any::<bool>(), ts in proptest::option::of(any::<(u32, u32)>()),
                      payload_len in 0usize..32) -> Repr {
            Repr {
                src_port: ports.0, dst_port: ports.1, seq_number: seq, ack_number: ack,
                flags: TcpFlags::from_bits(flags), window_len: window, urgent_at: urgent,
                max_seg_size: mss, window_scale: ws, sack_permitted: sack, timestamps: ts, payload_len,
            }
        }
    }

    proptest! {
        #[test]
        fn round_trip(repr in arb_repr(), src in arb_ipv4(), dst in arb_ipv4(), fill in any::<u8>()) {
            let ph = PseudoHeader::V4 { src, dst };
            let mut buf = vec![fill; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &ph);
            let packet = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&packet, &ph, ChecksumPolicy::Verify), Ok(repr));
        }
    }
}
