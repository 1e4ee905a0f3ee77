//! Test frames, built with df-wire's Reprs.

use std::net::IpAddr;

use df_wire::{
    EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Icmpv4Message, Icmpv4Packet,
    Icmpv4Repr, Icmpv6Message, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4OptionBytes, Ipv4Packet,
    Ipv4Repr, Ipv6Packet, Ipv6Repr, PseudoHeader, TcpFlags, TcpPacket, TcpRepr, UdpPacket, UdpRepr,
    ETHERNET_HEADER_LEN as ETH,
};

pub(super) const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0a]);
pub(super) const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0b]);
/// The router's MAC in network 10 (A's side).
pub(super) const MAC_R10: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 0x10]);
/// The router's MAC in network 20 (B's side).
pub(super) const MAC_R20: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 0x20]);

/// An L4 header and payload.
#[derive(Debug, Clone, Copy)]
pub(super) enum L4<'a> {
    Tcp {
        sport: u16,
        dport: u16,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        len: usize,
    },
    Udp {
        sport: u16,
        dport: u16,
        len: usize,
    },
    /// ICMP or ICMPv6 (by the addresses): type, code, rest, data.
    Icmp {
        ty: u8,
        code: u8,
        rest: [u8; 4],
        data: &'a [u8],
    },
}

pub(super) fn syn(sport: u16, dport: u16) -> L4<'static> {
    L4::Tcp {
        sport,
        dport,
        flags: TcpFlags::SYN,
        seq: 1000,
        ack: 0,
        len: 0,
    }
}

pub(super) fn syn_ack(sport: u16, dport: u16) -> L4<'static> {
    L4::Tcp {
        sport,
        dport,
        flags: TcpFlags::from_bits(TcpFlags::SYN.bits() | TcpFlags::ACK.bits()),
        seq: 5000,
        ack: 1001,
        len: 0,
    }
}

pub(super) fn udp(sport: u16, dport: u16) -> L4<'static> {
    L4::Udp {
        sport,
        dport,
        len: 12,
    }
}

pub(super) fn echo(ty: u8, ident: u16) -> L4<'static> {
    let i = ident.to_be_bytes();
    L4::Icmp {
        ty,
        code: 0,
        rest: [i[0], i[1], 0, 1],
        data: b"ping",
    }
}

fn proto(l4: &L4<'_>, v6: bool) -> IpProtocol {
    match l4 {
        L4::Tcp { .. } => IpProtocol::Tcp,
        L4::Udp { .. } => IpProtocol::Udp,
        L4::Icmp { .. } if v6 => IpProtocol::Icmpv6,
        L4::Icmp { .. } => IpProtocol::Icmp,
    }
}

/// The L4 bytes, checksums for `ph`.
fn l4_bytes(l4: &L4<'_>, ph: &PseudoHeader) -> Vec<u8> {
    match *l4 {
        L4::Tcp {
            sport,
            dport,
            flags,
            seq,
            ack,
            len,
        } => {
            let repr = TcpRepr {
                src_port: sport,
                dst_port: dport,
                seq_number: seq,
                ack_number: ack,
                flags,
                window_len: 1000,
                urgent_at: 0,
                max_seg_size: None,
                window_scale: None,
                sack_permitted: false,
                timestamps: None,
                payload_len: len,
            };
            let mut b = vec![0xab; repr.buffer_len()];
            repr.emit(&mut TcpPacket::new_unchecked(&mut b[..]), ph);
            b
        }
        L4::Udp { sport, dport, len } => {
            let repr = UdpRepr {
                src_port: sport,
                dst_port: dport,
                payload_len: len,
            };
            let mut b = vec![0xcd; repr.buffer_len()];
            repr.emit(&mut UdpPacket::new_unchecked(&mut b[..]), ph);
            b
        }
        L4::Icmp {
            ty,
            code,
            rest,
            data,
        } => match ph {
            PseudoHeader::V4 { .. } => {
                let repr = Icmpv4Repr::Other {
                    msg_type: Icmpv4Message::from(ty),
                    code,
                    rest,
                    data,
                };
                let mut b = vec![0; repr.buffer_len()];
                repr.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
                b
            }
            PseudoHeader::V6 { src, dst } => {
                let repr = Icmpv6Repr::Other {
                    msg_type: Icmpv6Message::from(ty),
                    code,
                    rest,
                    data,
                };
                let mut b = vec![0; repr.buffer_len()];
                repr.emit(&mut Icmpv6Packet::new_unchecked(&mut b[..]), src, dst);
                b
            }
        },
    }
}

fn ether(src: EthernetAddress, dst: EthernetAddress, ethertype: EtherType, l3: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; ETH + l3.len()];
    EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        ethertype,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    f[ETH..].copy_from_slice(l3);
    f
}

fn v4_header(src: &str, dst: &str, protocol: IpProtocol, len: usize) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: src.parse().unwrap(),
        dst_addr: dst.parse().unwrap(),
        protocol,
        payload_len: len,
        ttl: 63,
        dscp: 0,
        ecn: 0,
        ident: 0x1234,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionBytes::default(),
    }
}

fn v4_packet(ip: &Ipv4Repr, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; ip.buffer_len()];
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b[ip.header_len()..].copy_from_slice(payload);
    b
}

fn v6_packet(src: &str, dst: &str, next: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let ip = Ipv6Repr {
        src_addr: src.parse().unwrap(),
        dst_addr: dst.parse().unwrap(),
        next_header: next,
        payload_len: payload.len(),
        hop_limit: 63,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut b = vec![0u8; ip.buffer_len()];
    ip.emit(&mut Ipv6Packet::new_unchecked(&mut b[..]));
    b[40..].copy_from_slice(payload);
    b
}

/// The IP packet (no Ethernet) from `src` to `dst` carrying `l4`.
pub(super) fn ip_packet(src: &str, dst: &str, l4: L4<'_>) -> Vec<u8> {
    let (s, d): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
    match (s, d) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let bytes = l4_bytes(&l4, &PseudoHeader::V4 { src: s, dst: d });
            v4_packet(&v4_header(src, dst, proto(&l4, false), bytes.len()), &bytes)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let bytes = l4_bytes(&l4, &PseudoHeader::V6 { src: s, dst: d });
            v6_packet(src, dst, proto(&l4, true), &bytes)
        }
        _ => panic!("mixed address families"),
    }
}

/// A frame from MAC `from` to MAC `to`.
pub(super) fn frame(
    from: EthernetAddress,
    to: EthernetAddress,
    src: &str,
    dst: &str,
    l4: L4<'_>,
) -> Vec<u8> {
    let ip = ip_packet(src, dst, l4);
    let ethertype = if src.contains(':') {
        EtherType::Ipv6
    } else {
        EtherType::Ipv4
    };
    ether(from, to, ethertype, &ip)
}

/// An IPv4 fragment carrying `payload` (the L4 bytes at `offset`).
pub(super) fn fragment4(
    from: EthernetAddress,
    to: EthernetAddress,
    (src, dst): (&str, &str),
    protocol: IpProtocol,
    offset: u16,
    more: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut ip = v4_header(src, dst, protocol, payload.len());
    ip.more_frags = more;
    ip.frag_offset = offset;
    ether(from, to, EtherType::Ipv4, &v4_packet(&ip, payload))
}

/// An IPv6 fragment (with a Fragment header) carrying `payload`.
pub(super) fn fragment6(
    from: EthernetAddress,
    to: EthernetAddress,
    (src, dst): (&str, &str),
    protocol: IpProtocol,
    offset: u16,
    more: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut fh = vec![u8::from(protocol), 0];
    fh.extend_from_slice(&(offset | u16::from(more)).to_be_bytes());
    fh.extend_from_slice(&0xdead_beef_u32.to_be_bytes());
    fh.extend_from_slice(payload);
    let ip = v6_packet(src, dst, IpProtocol::Ipv6Frag, &fh);
    ether(from, to, EtherType::Ipv6, &ip)
}

/// The L4 bytes of `l4` between `src` and `dst` (for fragments).
pub(super) fn l4_of(src: &str, dst: &str, l4: L4<'_>) -> Vec<u8> {
    let p = ip_packet(src, dst, l4);
    if src.contains(':') {
        p[40..].to_vec()
    } else {
        p[20..].to_vec()
    }
}

/// An ARP request frame.
pub(super) fn arp() -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&MAC_A.0);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&MAC_A.0);
    f.extend_from_slice(&[10, 0, 0, 5, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1]);
    f
}
