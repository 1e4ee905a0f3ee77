//! Parsing a frame into what `firewall` decides on: IP version, addresses,
//! protocol, L4 ports (or ICMP fields), fragment position, and for ICMP
//! errors the flow of the packet they quote.
//!
//! `df_wire::parse_frame` does the one-pass walk (Ethernet, IPv4 / IPv6 and
//! its extension headers, the L4 header of unfragmented packets, every
//! length checked); this module reads the few L4 bytes it does not keep
//! (TCP flags of first fragments, ICMP identifiers, ports of SCTP / DCCP /
//! UDP-Lite, the quoted header of an ICMP error), each through a checked
//! `get`. A failure is a `&'static str` trace note for the `malformed`
//! drop. Nothing allocates.
//!
//! A flow's ports double as its connection-cache key: for an ICMP query
//! the request's identifier is its "source port" and `request type << 8 |
//! code` its "destination port", and a reply swaps them, so a reply's
//! reversed tuple is its request's tuple (as in `sg`). Such ICMP "ports"
//! never meet a rule: [`Flow::ports`] is false for ICMP.

use df_wire::{
    parse_frame, split_embedded_ipv4, walk_ext_headers, EtherType, EthernetFrame, IpProtocol,
    L3Info, TcpPacket, ETHERNET_HEADER_LEN as ETH, IPV6_HEADER_LEN,
};

use crate::rules::{has_ports, Query};
use crate::trace;

/// Offset of the IP header in frames the firewall filters (untagged).
pub(crate) const L3_AT: usize = ETH;

/// What a frame is for the firewall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// Not IPv4/IPv6 at offset 14 (ARP, VLAN-tagged, ...): value EtherType.
    NotIp(u16),
    /// IPv4 or IPv6, described by the [`Flow`] given to [`parse`].
    Ip,
}

/// A flow as sent (not normalised).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Tuple {
    pub(crate) v6: bool,
    pub(crate) proto: u8,
    pub(crate) src: u128,
    pub(crate) dst: u128,
    pub(crate) sport: u16,
    pub(crate) dport: u16,
}

impl Tuple {
    /// The tuple of the other direction.
    #[inline]
    pub(crate) fn reversed(&self) -> Tuple {
        Tuple {
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
            ..*self
        }
    }
}

/// Where a packet sits in a fragmented datagram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Frag {
    /// Not fragmented (or an atomic IPv6 fragment).
    #[default]
    Whole,
    /// The first fragment (carries the L4 header).
    First,
    /// A later fragment (no L4 header).
    Later,
}

/// The transport layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum L4 {
    /// TCP; flags in [`Flow::tcp_flags`].
    Tcp,
    /// UDP, SCTP, DCCP, UDP-Lite.
    Ports,
    /// An ICMP query or query reply (echo, timestamp, ...).
    IcmpQuery,
    /// An ICMP error message; its quoted flow, if readable, in
    /// [`Flow::inner`].
    IcmpError,
    /// Another ICMP message (ND, router discovery, ...).
    IcmpOther,
    /// Another protocol, or a later fragment.
    #[default]
    Other,
}

/// An IP packet, filled in place by [`parse`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flow {
    pub(crate) tuple: Tuple,
    /// `tuple.sport` / `tuple.dport` are L4 ports rules may match.
    pub(crate) ports: bool,
    pub(crate) l4: L4,
    pub(crate) tcp_flags: u8,
    pub(crate) frag: Frag,
    /// Identification (fragments only; IPv4's is 16 bits).
    pub(crate) frag_ident: u32,
    /// Offset of the L4 header in the frame (0 for a later fragment).
    pub(crate) l4_at: usize,
    /// End of the IP packet in the frame (Ethernet padding excluded).
    pub(crate) end: usize,
    /// The flow an ICMP error quotes, as it was sent.
    pub(crate) inner: Option<Tuple>,
}

impl Flow {
    /// What rules see.
    #[inline]
    pub(crate) fn query(&self) -> Query {
        let t = &self.tuple;
        Query {
            proto: t.proto,
            src: t.src,
            dst: t.dst,
            sport: t.sport,
            dport: t.dport,
            ports: self.ports,
        }
    }
}

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    match b.get(at..at + 2) {
        Some(&[x, y]) => Some(u16::from_be_bytes([x, y])),
        _ => None,
    }
}

/// True for ICMP error types (v4: unreachable, source quench, redirect,
/// time exceeded, parameter problem; v6: every type below 128).
#[inline]
pub(crate) fn icmp_error(ty: u8, v6: bool) -> bool {
    if v6 {
        ty < 128
    } else {
        matches!(ty, 3 | 4 | 5 | 11 | 12)
    }
}

/// The request type of a query type, and whether it is the reply.
#[inline]
fn icmp_query(ty: u8, v6: bool) -> Option<(u8, bool)> {
    match (ty, v6) {
        (8 | 13 | 15 | 17, false) | (128, true) => Some((ty, false)),
        (0, false) => Some((8, true)),
        (14 | 16 | 18, false) => Some((ty - 1, true)),
        (129, true) => Some((128, true)),
        _ => None,
    }
}

/// The key ports of an ICMP message (see the module doc).
#[inline]
fn icmp_ports(ty: u8, code: u8, ident: u16, v6: bool) -> (u16, u16, bool) {
    match icmp_query(ty, v6) {
        Some((req, false)) => (ident, u16::from(req) << 8 | u16::from(code), true),
        Some((req, true)) => (u16::from(req) << 8 | u16::from(code), ident, true),
        None => (0, u16::from(ty) << 8 | u16::from(code), false),
    }
}

/// The key ports of the first L4 bytes `l4` of a packet of `proto`; `None`
/// when too short.
fn l4_ports(proto: u8, v6: bool, l4: &[u8]) -> Option<(u16, u16)> {
    if has_ports(proto) {
        return Some((be16(l4, 0)?, be16(l4, 2)?));
    }
    if proto == icmp_proto(v6) {
        let (&ty, &code) = (l4.first()?, l4.get(1)?);
        let (s, d, _) = icmp_ports(ty, code, be16(l4, 4)?, v6);
        return Some((s, d));
    }
    Some((0, 0))
}

#[inline]
fn icmp_proto(v6: bool) -> u8 {
    if v6 {
        58
    } else {
        1
    }
}

/// Parses one frame; for IP, fills `f`.
pub(crate) fn parse(data: &[u8], f: &mut Flow) -> Result<Frame, &'static str> {
    let eth = EthernetFrame::new_checked(data).map_err(|_| trace::MALFORMED_ETHERNET)?;
    let v6 = match eth.ethertype() {
        EtherType::Ipv4 => false,
        EtherType::Ipv6 => true,
        other => return Ok(Frame::NotIp(u16::from(other))),
    };
    let info = parse_frame(data).map_err(|_| trace::MALFORMED_IP)?;
    let l = &info.outer;
    *f = Flow {
        end: l.end,
        ..Flow::default()
    };
    let t = &mut f.tuple;
    t.v6 = v6;
    t.proto = l.ip_proto.map_or(0, u8::from);
    match l.net {
        L3Info::Ipv4 {
            src,
            dst,
            fragment,
            frag_offset,
            ..
        } => {
            t.src = u128::from(u32::from(src));
            t.dst = u128::from(u32::from(dst));
            if fragment {
                f.frag = if frag_offset == 0 {
                    Frag::First
                } else {
                    Frag::Later
                };
                f.frag_ident = u32::from(be16(data, l.l3 + 4).unwrap_or(0));
            }
        }
        L3Info::Ipv6 {
            src, dst, fragment, ..
        } => {
            t.src = u128::from(src);
            t.dst = u128::from(dst);
            if let Some(fr) = fragment {
                f.frag = match (fr.frag_offset, fr.more_frags) {
                    (0, false) => Frag::Whole,
                    (0, true) => Frag::First,
                    _ => Frag::Later,
                };
                f.frag_ident = fr.ident;
            }
        }
        // The EtherType said IP: parse_frame either parsed it or failed.
        _ => return Err(trace::MALFORMED_IP),
    }
    let l4_at = match (l.l4, f.frag) {
        (Some(at), Frag::Whole | Frag::First) => at,
        _ => return Ok(Frame::Ip),
    };
    f.l4_at = l4_at;
    let seg = data.get(l4_at..l.end).ok_or(trace::MALFORMED_L4)?;
    transport(f, seg)?;
    Ok(Frame::Ip)
}

/// The transport layer of `f`, whose L4 bytes are `seg`.
fn transport(f: &mut Flow, seg: &[u8]) -> Result<(), &'static str> {
    let (proto, v6) = (f.tuple.proto, f.tuple.v6);
    if proto == 6 {
        let tcp = TcpPacket::new_checked(seg).map_err(|_| trace::MALFORMED_L4)?;
        f.tuple.sport = tcp.src_port();
        f.tuple.dport = tcp.dst_port();
        f.tcp_flags = tcp.flags().bits();
        f.l4 = L4::Tcp;
        f.ports = true;
        return Ok(());
    }
    if has_ports(proto) {
        // UDP and UDP-Lite have 8-byte headers, SCTP and DCCP 12: ports
        // are the first four bytes of each.
        let (Some(sport), Some(dport), true) = (be16(seg, 0), be16(seg, 2), seg.len() >= 8) else {
            return Err(trace::MALFORMED_L4);
        };
        f.tuple.sport = sport;
        f.tuple.dport = dport;
        f.l4 = L4::Ports;
        f.ports = true;
        return Ok(());
    }
    if proto != icmp_proto(v6) {
        f.l4 = L4::Other;
        return Ok(());
    }
    // ICMPv4 and ICMPv6 share the 8-byte header layout; an error's quoted
    // packet follows it.
    let (Some(&ty), Some(&code), Some(ident), true) =
        (seg.first(), seg.get(1), be16(seg, 4), seg.len() >= 8)
    else {
        return Err(trace::MALFORMED_L4);
    };
    let (sport, dport, query) = icmp_ports(ty, code, ident, v6);
    f.tuple.sport = sport;
    f.tuple.dport = dport;
    f.l4 = if query {
        L4::IcmpQuery
    } else if icmp_error(ty, v6) {
        f.inner = seg.get(8..).and_then(|q| quoted(q, v6));
        L4::IcmpError
    } else {
        L4::IcmpOther
    };
    Ok(())
}

/// The flow of the packet an ICMP error quotes; `None` if unreadable.
fn quoted(q: &[u8], v6: bool) -> Option<Tuple> {
    let mut t = Tuple {
        v6,
        ..Tuple::default()
    };
    let l4 = if v6 {
        let hdr = q.get(..IPV6_HEADER_LEN)?;
        if hdr.first()? >> 4 != 6 {
            return None;
        }
        t.src = u128::from_be_bytes(hdr.get(8..24)?.try_into().ok()?);
        t.dst = u128::from_be_bytes(hdr.get(24..40)?.try_into().ok()?);
        let rest = q.get(IPV6_HEADER_LEN..)?;
        let walk = walk_ext_headers(IpProtocol::from(*hdr.get(6)?), rest).ok()?;
        if !walk.has_upper_header() {
            return None;
        }
        t.proto = u8::from(walk.upper);
        rest.get(walk.offset..)?
    } else {
        let (hdr, rest) = split_embedded_ipv4(q).ok()?;
        // A quoted later fragment has no L4 header to read.
        if be16(hdr, 6)? & 0x1fff != 0 {
            return None;
        }
        t.proto = *hdr.get(9)?;
        t.src = u128::from(u32::from_be_bytes(hdr.get(12..16)?.try_into().ok()?));
        t.dst = u128::from(u32::from_be_bytes(hdr.get(16..20)?.try_into().ok()?));
        rest
    };
    (t.sport, t.dport) = l4_ports(t.proto, v6, l4)?;
    Some(t)
}
