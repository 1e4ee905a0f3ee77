//! Reject replies: a TCP reset for TCP, ICMP destination unreachable
//! "communication administratively prohibited" (ICMPv4 type 3 code 13,
//! ICMPv6 type 1 code 1) for everything else.
//!
//! Built with df-wire's Reprs into a fresh buffer from `io.alloc()`; the
//! original is never modified. The reply goes back the way the original
//! came: Ethernet addresses swapped, IP addresses swapped (the reply comes
//! from the original destination, as a reset must for the sender's TCP to
//! accept it; the ICMP error too, since the firewall has no address of its
//! own), TTL / hop limit 64. The reset follows RFC 793 (and Linux's
//! `nf_send_reset`): to a segment with ACK, `seq = its ack`; otherwise
//! `RST|ACK` acknowledging its sequence space. The ICMPv4 error quotes the
//! IP header and 8 bytes (RFC 792, as `l3` does), the ICMPv6 error as much
//! of the packet as fits in 1280 bytes (RFC 4443 2.4(c)).
//!
//! No reply is sent about a reset, about an ICMP error, about a later
//! fragment, or from or to an address that is not unicast (RFC 1122
//! 3.2.2, RFC 1812 4.3.2.7, RFC 4443 2.4(e)); a TCP first fragment gets
//! the ICMP error (its segment length is unknown).

use std::net::{Ipv4Addr, Ipv6Addr};

use df_dp::Packet;
use df_wire::{
    EtherType, EthernetFrame, EthernetRepr, Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr,
    Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4OptionBytes, Ipv4Packet, Ipv4Repr, Ipv6Packet,
    Ipv6Repr, PseudoHeader, TcpFlags, TcpPacket, TcpRepr, ETHERNET_HEADER_LEN as ETH,
    IPV4_HEADER_LEN, IPV6_HEADER_LEN,
};

use crate::flow::{Flow, Frag, L3_AT, L4};

/// TTL / hop limit of replies.
const TTL: u8 = 64;
/// DSCP of ICMP errors: CS6, network control (as Linux and `l3` send them).
const ERROR_DSCP: u8 = 48;
/// Bytes of the original payload quoted after its IPv4 header (RFC 792).
const QUOTE_V4: usize = 8;
/// Largest ICMPv6 error packet (RFC 4443 2.4(c): the IPv6 minimum MTU).
const MAX_V6_ERROR: usize = 1280;
/// ICMPv6 destination unreachable, code 1: administratively prohibited.
const V6_PROHIBITED: u8 = 1;

/// What was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// A TCP reset.
    Rst,
    /// An ICMP error; `type << 8 | code`.
    Icmp(u16),
}

#[inline]
fn unicast(a: u128, v6: bool) -> bool {
    if v6 {
        a > 1 && a >> 120 != 0xff
    } else {
        let o = (a >> 24) as u8;
        !(o == 0 || o == 127 || o >= 224)
    }
}

/// Whether a reply may be sent about `f` (see the module doc).
pub(crate) fn replyable(f: &Flow) -> bool {
    let t = &f.tuple;
    let rst = f.l4 == L4::Tcp && f.tcp_flags & TcpFlags::RST.bits() != 0;
    !rst && f.l4 != L4::IcmpError
        && f.frag != Frag::Later
        && unicast(t.src, t.v6)
        && unicast(t.dst, t.v6)
}

/// Builds the reply to `orig` (the frame `f` was parsed from) into the
/// empty packet `r`. `None`: the frame lacks what a reply needs (cannot
/// happen after a successful parse) or `r` has no room.
pub(crate) fn build(orig: &[u8], f: &Flow, r: &mut Packet) -> Option<Reply> {
    let eth = EthernetFrame::new_checked(orig).ok()?;
    let ethertype = if f.tuple.v6 {
        EtherType::Ipv6
    } else {
        EtherType::Ipv4
    };
    let eth = EthernetRepr {
        src_addr: eth.dst_addr(),
        dst_addr: eth.src_addr(),
        ethertype,
    };
    if f.l4 == L4::Tcp && f.frag == Frag::Whole {
        rst(orig, f, eth, r)
    } else {
        icmp(orig, f, eth, r)
    }
}

/// The reply's IP addresses (the original's, swapped).
fn v4_addrs(f: &Flow) -> (Ipv4Addr, Ipv4Addr) {
    (
        Ipv4Addr::from(f.tuple.dst as u32),
        Ipv4Addr::from(f.tuple.src as u32),
    )
}

fn v6_addrs(f: &Flow) -> (Ipv6Addr, Ipv6Addr) {
    (Ipv6Addr::from(f.tuple.dst), Ipv6Addr::from(f.tuple.src))
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, len: usize, dscp: u8) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol,
        payload_len: len,
        ttl: TTL,
        dscp,
        ecn: 0,
        ident: 0,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionBytes::default(),
    }
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next_header: IpProtocol, len: usize, tc: u8) -> Ipv6Repr {
    Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header,
        payload_len: len,
        hop_limit: TTL,
        traffic_class: tc,
        flow_label: 0,
    }
}

/// A TCP reset (RFC 793, "Reset Generation").
fn rst(orig: &[u8], f: &Flow, eth: EthernetRepr, r: &mut Packet) -> Option<Reply> {
    let tcp = TcpPacket::new_checked(orig.get(f.l4_at..f.end)?).ok()?;
    let flags = tcp.flags();
    let (seq_number, ack_number, flags) = if flags.contains(TcpFlags::ACK) {
        (tcp.ack_number(), 0, TcpFlags::RST)
    } else {
        let len = tcp.payload().len() as u32
            + u32::from(flags.contains(TcpFlags::SYN))
            + u32::from(flags.contains(TcpFlags::FIN));
        let both = TcpFlags::from_bits(TcpFlags::RST.bits() | TcpFlags::ACK.bits());
        (0, tcp.seq_number().wrapping_add(len), both)
    };
    let repr = TcpRepr {
        src_port: tcp.dst_port(),
        dst_port: tcp.src_port(),
        seq_number,
        ack_number,
        flags,
        window_len: 0,
        urgent_at: 0,
        max_seg_size: None,
        window_scale: None,
        sack_permitted: false,
        timestamps: None,
        payload_len: 0,
    };
    let l4_len = repr.buffer_len();
    if f.tuple.v6 {
        let (src, dst) = v6_addrs(f);
        let ip = ipv6(src, dst, IpProtocol::Tcp, l4_len, 0);
        let buf = r.append(ETH + ip.buffer_len())?;
        // `buf` is exactly Ethernet + IPv6 + TCP long: every emit fits.
        let (l2, l3) = buf.split_at_mut(ETH);
        let (iph, l4) = l3.split_at_mut(IPV6_HEADER_LEN);
        eth.emit(&mut EthernetFrame::new_unchecked(l2));
        ip.emit(&mut Ipv6Packet::new_unchecked(iph));
        repr.emit(
            &mut TcpPacket::new_unchecked(l4),
            &PseudoHeader::V6 { src, dst },
        );
    } else {
        let (src, dst) = v4_addrs(f);
        let ip = ipv4(src, dst, IpProtocol::Tcp, l4_len, 0);
        let buf = r.append(ETH + ip.buffer_len())?;
        // `buf` is exactly Ethernet + IPv4 + TCP long: every emit fits.
        let (l2, l3) = buf.split_at_mut(ETH);
        let (iph, l4) = l3.split_at_mut(IPV4_HEADER_LEN);
        eth.emit(&mut EthernetFrame::new_unchecked(l2));
        ip.emit(&mut Ipv4Packet::new_unchecked(iph));
        repr.emit(
            &mut TcpPacket::new_unchecked(l4),
            &PseudoHeader::V4 { src, dst },
        );
    }
    Some(Reply::Rst)
}

/// ICMP(v6) destination unreachable, administratively prohibited.
fn icmp(orig: &[u8], f: &Flow, eth: EthernetRepr, r: &mut Packet) -> Option<Reply> {
    if f.tuple.v6 {
        let room = MAX_V6_ERROR - IPV6_HEADER_LEN - 8;
        let quoted = orig.get(L3_AT..f.end.min(L3_AT + room))?;
        let msg = Icmpv6Repr::DstUnreachable {
            code: V6_PROHIBITED,
            data: quoted,
        };
        let (src, dst) = v6_addrs(f);
        let ip = ipv6(
            src,
            dst,
            IpProtocol::Icmpv6,
            msg.buffer_len(),
            ERROR_DSCP << 2,
        );
        let buf = r.append(ETH + ip.buffer_len())?;
        // `buf` is exactly Ethernet + IPv6 + ICMPv6 long: every emit fits.
        let (l2, l3) = buf.split_at_mut(ETH);
        let (iph, l4) = l3.split_at_mut(IPV6_HEADER_LEN);
        eth.emit(&mut EthernetFrame::new_unchecked(l2));
        ip.emit(&mut Ipv6Packet::new_unchecked(iph));
        msg.emit(&mut Icmpv6Packet::new_unchecked(l4), &src, &dst);
        Some(Reply::Icmp(1 << 8 | u16::from(V6_PROHIBITED)))
    } else {
        let ihl = usize::from(orig.get(L3_AT)? & 0x0f) * 4;
        let total = f.end.checked_sub(L3_AT)?;
        let quoted_len = ihl + total.checked_sub(ihl)?.min(QUOTE_V4);
        let quoted = orig.get(L3_AT..L3_AT + quoted_len)?;
        let reason = Icmpv4DstUnreachable::AdminProhibited;
        let msg = Icmpv4Repr::DstUnreachable {
            reason,
            next_hop_mtu: 0,
            data: quoted,
        };
        let (src, dst) = v4_addrs(f);
        let ip = ipv4(src, dst, IpProtocol::Icmp, msg.buffer_len(), ERROR_DSCP);
        let buf = r.append(ETH + ip.buffer_len())?;
        // `buf` is exactly Ethernet + IPv4 + ICMP long: every emit fits.
        let (l2, l3) = buf.split_at_mut(ETH);
        let (iph, l4) = l3.split_at_mut(IPV4_HEADER_LEN);
        eth.emit(&mut EthernetFrame::new_unchecked(l2));
        ip.emit(&mut Ipv4Packet::new_unchecked(iph));
        msg.emit(&mut Icmpv4Packet::new_unchecked(l4));
        Some(Reply::Icmp(3 << 8 | u16::from(u8::from(reason))))
    }
}
