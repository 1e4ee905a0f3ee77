//! Parsing a frame into what `sg` decides on: the IP version, addresses,
//! protocol, the L4 ports or ICMP fields, the tuple embedded in an ICMP
//! error, and fragment position.
//!
//! It uses the df-wire views directly rather than `parse_frame`, which
//! would also walk DHCP options and VXLAN/Geneve payloads a tenant sends
//! on those ports; `sg` needs the L3 header, one L4 header and, for ICMP
//! errors, the quoted header. Every length is checked by a view's
//! `new_checked` or a `get` before it is read; a failure is a
//! `&'static str` trace note for the `malformed` drop. Nothing allocates.
//!
//! ICMP queries are keyed like a port protocol: the request's identifier
//! is its "source port" and `request type << 8 | code` its "destination
//! port", and a reply swaps them, so a request and its reply normalise to
//! one key. Other ICMP messages have ports `(0, type << 8 | code)`.

use df_wire::{
    split_embedded_ipv4, walk_ext_headers, EtherType, IpProtocol, Ipv4Packet, Ipv6Packet,
    TcpPacket, IPV6_HEADER_LEN,
};

use crate::rules::{v4_addr, v6_addr};
use crate::tables::has_ports;
use crate::trace;

/// What a frame is, for `sg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// ARP: passes security groups.
    Arp,
    /// Another EtherType (VLAN-tagged frames included).
    NotIp(u16),
    /// IPv4 or IPv6, described by the [`Ip`] given to [`parse`].
    Ip,
}

/// A connection tuple as sent (not normalised).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tuple {
    pub(crate) src: u128,
    pub(crate) dst: u128,
    pub(crate) proto: u8,
    pub(crate) sport: u16,
    pub(crate) dport: u16,
}

/// Where a packet sits in a fragmented datagram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Frag {
    /// Not fragmented (or an atomic IPv6 fragment).
    #[default]
    Whole,
    /// The first fragment.
    First,
    /// A later fragment (no L4 header).
    Later,
}

/// The transport layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum L4 {
    /// TCP (`Ip::tcp_flags`).
    Tcp,
    /// Another protocol with ports (UDP, SCTP, DCCP, UDP-Lite).
    Ports,
    /// An ICMP query request (echo, timestamp, ...); `Ip::icmp_type`.
    IcmpRequest,
    /// An ICMP query reply.
    IcmpReply,
    /// An ICMP error quoting `Ip::inner` (as the quoted packet was sent).
    IcmpError,
    /// Another ICMP message (ND, MLD, router discovery, ...).
    IcmpOther,
    /// Another protocol, or a later fragment.
    #[default]
    Other,
}

/// An IP packet. Plain fields rather than enum payloads: the parser
/// writes them in place and the stage reads them one by one, which keeps
/// the CPU's store forwarding happy on the hot path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ip {
    pub(crate) v6: bool,
    pub(crate) l4: L4,
    /// TCP flags (TCP only).
    pub(crate) tcp_flags: u8,
    /// ICMP type (ICMP only).
    pub(crate) icmp_type: u8,
    pub(crate) frag: Frag,
    /// Identification (fragments only).
    pub(crate) frag_ident: u32,
    /// Addresses, protocol and the key's ports (L4 ports; ICMP: see module).
    pub(crate) tuple: Tuple,
    /// The packet an ICMP error quotes.
    pub(crate) inner: Tuple,
}

/// The tuple of an unfragmented IPv4 TCP or UDP frame without IP options,
/// read at fixed offsets, or `None` for anything else. Only the batch's
/// cache warm-up uses it ([`crate::stage`]); the decision is made by
/// [`parse`], which agrees with it on every frame it accepts.
#[inline]
pub(crate) fn fast_v4_tuple(data: &[u8]) -> Option<Tuple> {
    let h = data.get(..38)?;
    // EtherType IPv4, version 4 with a 20-byte header, no MF, offset 0.
    if h[12..14] != [0x08, 0x00] || h[14] != 0x45 || h[20] & 0x3f != 0 || h[21] != 0 {
        return None;
    }
    let proto = h[23];
    if proto != 6 && proto != 17 {
        return None;
    }
    let a = |at: usize| v4_addr([h[at], h[at + 1], h[at + 2], h[at + 3]].into());
    Some(Tuple {
        src: a(26),
        dst: a(30),
        proto,
        sport: u16::from_be_bytes([h[34], h[35]]),
        dport: u16::from_be_bytes([h[36], h[37]]),
    })
}

/// Parses one frame; for IP, fills `ip`.
#[inline]
pub(crate) fn parse(data: &[u8], ip: &mut Ip) -> Result<Frame, &'static str> {
    // As `EthernetFrame::new_checked`: the 14-byte header must be there.
    let (Some(hdr), Some(payload)) = (data.first_chunk::<14>(), data.get(14..)) else {
        return Err(trace::MALFORMED_ETHERNET);
    };
    match EtherType::from(u16::from_be_bytes([hdr[12], hdr[13]])) {
        EtherType::Arp => Ok(Frame::Arp),
        EtherType::Ipv4 => ipv4(payload, ip).map(|()| Frame::Ip),
        EtherType::Ipv6 => ipv6(payload, ip).map(|()| Frame::Ip),
        t => Ok(Frame::NotIp(u16::from(t))),
    }
}

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    match b.get(at..at + 2) {
        Some(&[x, y]) => Some(u16::from_be_bytes([x, y])),
        _ => None,
    }
}

/// The ICMP request type a query type belongs to, and whether it is the
/// reply; `None` for types that are not queries.
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

/// ICMP error types (v4: unreachable, source quench, redirect, time
/// exceeded, parameter problem; v6: unreachable, too big, time exceeded,
/// parameter problem).
#[inline]
fn icmp_error(ty: u8, v6: bool) -> bool {
    if v6 {
        (1..=4).contains(&ty)
    } else {
        matches!(ty, 3 | 4 | 5 | 11 | 12)
    }
}

/// The key ports of an ICMP message of type `ty` with identifier `id`.
#[inline]
fn icmp_ports(ty: u8, code: u8, id: u16, v6: bool) -> (u16, u16) {
    match icmp_query(ty, v6) {
        Some((req, false)) => (id, u16::from(req) << 8 | u16::from(code)),
        Some((req, true)) => (u16::from(req) << 8 | u16::from(code), id),
        None => (0, u16::from(ty) << 8 | u16::from(code)),
    }
}

/// The key ports of an L4 header of `proto` (first bytes in `l4`), for a
/// quoted packet: ports, or ICMP fields; `None` if too short.
#[inline]
fn quoted_ports(proto: u8, v6: bool, l4: &[u8]) -> Option<(u16, u16)> {
    if has_ports(proto) {
        return Some((be16(l4, 0)?, be16(l4, 2)?));
    }
    match (proto, v6) {
        (1, false) | (58, true) => {
            let (&ty, &code) = (l4.first()?, l4.get(1)?);
            Some(icmp_ports(ty, code, be16(l4, 4)?, v6))
        }
        _ => Some((0, 0)),
    }
}

/// The transport layer of `ip`, whose L4 bytes are `l4`.
#[inline(always)]
fn transport(ip: &mut Ip, l4: &[u8]) -> Result<(), &'static str> {
    let (proto, v6) = (ip.tuple.proto, ip.v6);
    if proto == 6 {
        let tcp = TcpPacket::new_checked(l4).map_err(|_| trace::MALFORMED_TCP)?;
        ip.tuple.sport = tcp.src_port();
        ip.tuple.dport = tcp.dst_port();
        ip.tcp_flags = tcp.flags().bits();
        ip.l4 = L4::Tcp;
        return Ok(());
    }
    if has_ports(proto) {
        // UDP and UDP-Lite have 8-byte headers, SCTP and DCCP 12: the ports
        // are the first four bytes of each.
        let (Some(sport), Some(dport), true) = (be16(l4, 0), be16(l4, 2), l4.len() >= 8) else {
            return Err(trace::MALFORMED_L4);
        };
        ip.tuple.sport = sport;
        ip.tuple.dport = dport;
        ip.l4 = L4::Ports;
        return Ok(());
    }
    if !matches!((proto, v6), (1, false) | (58, true)) {
        ip.l4 = L4::Other;
        return Ok(());
    }
    // ICMPv4 and ICMPv6 share the 8-byte header layout; the quoted packet
    // of an error follows it.
    let (Some(&ty), Some(&code), Some(id), true) =
        (l4.first(), l4.get(1), be16(l4, 4), l4.len() >= 8)
    else {
        return Err(trace::MALFORMED_ICMP);
    };
    (ip.tuple.sport, ip.tuple.dport) = icmp_ports(ty, code, id, v6);
    ip.icmp_type = ty;
    ip.l4 = if icmp_error(ty, v6) {
        let quoted = l4.get(8..).unwrap_or_default();
        ip.inner = if v6 {
            quoted_ipv6(quoted)
        } else {
            quoted_ipv4(quoted)
        }
        .ok_or(trace::MALFORMED_QUOTED)?;
        L4::IcmpError
    } else {
        match icmp_query(ty, v6) {
            Some((_, false)) => L4::IcmpRequest,
            Some((_, true)) => L4::IcmpReply,
            None => L4::IcmpOther,
        }
    };
    Ok(())
}

/// The tuple of the IPv4 packet quoted by an ICMP error.
#[inline(never)]
fn quoted_ipv4(data: &[u8]) -> Option<Tuple> {
    let (hdr, rest) = split_embedded_ipv4(data).ok()?;
    let proto = *hdr.get(9)?;
    let addr = |at: usize| -> Option<u128> {
        let b: [u8; 4] = hdr.get(at..at + 4)?.try_into().ok()?;
        Some(v4_addr(b.into()))
    };
    let mut t = Tuple {
        src: addr(12)?,
        dst: addr(16)?,
        proto,
        sport: 0,
        dport: 0,
    };
    // A quoted later fragment has no L4 header: it matches no connection.
    if be16(hdr, 6)? & 0x1fff == 0 {
        (t.sport, t.dport) = quoted_ports(proto, false, rest)?;
    }
    Some(t)
}

/// The tuple of the IPv6 packet quoted by an ICMPv6 error.
#[inline(never)]
fn quoted_ipv6(data: &[u8]) -> Option<Tuple> {
    let hdr = data.get(..IPV6_HEADER_LEN)?;
    if hdr.first()? >> 4 != 6 {
        return None;
    }
    let rest = data.get(IPV6_HEADER_LEN..)?;
    let addr = |at: usize| -> Option<u128> {
        let b: [u8; 16] = hdr.get(at..at + 16)?.try_into().ok()?;
        Some(v6_addr(b.into()))
    };
    let walk = walk_ext_headers(IpProtocol::from(*hdr.get(6)?), rest).ok()?;
    let proto = u8::from(walk.upper);
    let mut t = Tuple {
        src: addr(8)?,
        dst: addr(24)?,
        proto,
        sport: 0,
        dport: 0,
    };
    if walk.has_upper_header() {
        (t.sport, t.dport) = quoted_ports(proto, true, rest.get(walk.offset..)?)?;
    }
    Some(t)
}

#[inline]
fn ipv4(l3: &[u8], ip: &mut Ip) -> Result<(), &'static str> {
    // `new_checked` validates the lengths (20 <= IHL <= total <= buffer);
    // the fixed header's fields are then read from one array (no call and
    // no bounds check per field).
    Ipv4Packet::new_checked(l3).map_err(|_| trace::MALFORMED_IPV4)?;
    let Some(h) = l3.first_chunk::<20>() else {
        return Err(trace::MALFORMED_IPV4);
    };
    if h[0] >> 4 != 4 {
        return Err(trace::MALFORMED_IPV4);
    }
    let addr = |at: usize| v4_addr([h[at], h[at + 1], h[at + 2], h[at + 3]].into());
    ip.v6 = false;
    ip.tuple = Tuple {
        src: addr(12),
        dst: addr(16),
        proto: h[9],
        sport: 0,
        dport: 0,
    };
    ip.frag_ident = u32::from(u16::from_be_bytes([h[4], h[5]]));
    let flags_offset = u16::from_be_bytes([h[6], h[7]]);
    ip.frag = if flags_offset & 0x1fff != 0 {
        Frag::Later
    } else if flags_offset & 0x2000 != 0 {
        Frag::First
    } else {
        Frag::Whole
    };
    if ip.frag == Frag::Later {
        ip.l4 = L4::Other;
        return Ok(());
    }
    let (hlen, total) = (
        usize::from(h[0] & 0x0f) * 4,
        usize::from(u16::from_be_bytes([h[2], h[3]])),
    );
    transport(ip, l3.get(hlen..total).unwrap_or_default())
}

#[inline]
fn ipv6(l3: &[u8], ip: &mut Ip) -> Result<(), &'static str> {
    let p = Ipv6Packet::new_checked(l3).map_err(|_| trace::MALFORMED_IPV6)?;
    if p.version() != 6 {
        return Err(trace::MALFORMED_IPV6);
    }
    let payload = p.payload();
    let walk = walk_ext_headers(p.next_header(), payload).map_err(|_| trace::MALFORMED_IPV6)?;
    ip.v6 = true;
    ip.tuple = Tuple {
        src: v6_addr(p.src_addr()),
        dst: v6_addr(p.dst_addr()),
        proto: u8::from(walk.upper),
        sport: 0,
        dport: 0,
    };
    (ip.frag, ip.frag_ident) = match walk.fragment {
        Some(f) if f.frag_offset != 0 => (Frag::Later, f.ident),
        Some(f) if f.more_frags => (Frag::First, f.ident),
        _ => (Frag::Whole, 0),
    };
    if ip.frag == Frag::Later {
        ip.l4 = L4::Other;
        return Ok(());
    }
    let upper = payload.get(walk.offset..).ok_or(trace::MALFORMED_IPV6)?;
    transport(ip, upper)
}
