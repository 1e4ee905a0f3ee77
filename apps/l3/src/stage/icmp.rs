//! The ICMP the router sends itself.
//!
//! Echo replies are the request turned around in place: MACs and IPs
//! swapped, TTL 64, the type changed, both checksums updated incrementally
//! (swapping addresses leaves every sum unchanged). Errors (time exceeded,
//! destination unreachable) are built with df-wire's Reprs in a buffer from
//! `io.alloc()`, carrying the original IPv4 header and 8 bytes (RFC 792) or
//! as much of the IPv6 packet as fits in 1280 bytes (RFC 4443), from the
//! router's address in the ingress network; the original packet is then
//! dropped under the error's reason. Errors are not sent about ICMP errors
//! or non-first IPv4 fragments (RFC 1812 4.3.2.7, RFC 4443 2.4), and are
//! rate-limited per router.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use df_dp::{DropId, Packet, RegSlot, StageIo};
use df_wire::checksum::update_u16;
use df_wire::{
    walk_ext_headers, EtherType, EthernetFrame, EthernetRepr, Icmpv4DstUnreachable, Icmpv4Message,
    Icmpv4Packet, Icmpv4Repr, Icmpv6Message, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4OptionBytes,
    Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, ETHERNET_HEADER_LEN as ETH, ICMPV4_HEADER_LEN,
    ICMPV6_HEADER_LEN, IPV4_HEADER_LEN, IPV6_HEADER_LEN,
};

use super::limit::Limiter;
use super::{Ctx, LOCAL_REPLY, V4, V6};
use crate::counters::{
    HOST_UNREACHABLE, MALFORMED, NO_ROUTE, PORT_UNREACHABLE, RATE_LIMITED, TTL_EXPIRED,
};
use crate::tables::{TIME_EXCEEDED, UNREACHABLE};
use crate::trace;

/// TTL / hop limit of what the router sends.
const TTL: u8 = 64;
/// DSCP of ICMP errors: CS6, network control (as Linux sends them).
const ERROR_DSCP: u8 = 48;
/// Bytes of the original payload quoted after its IPv4 header (RFC 792).
const QUOTE_V4: usize = 8;
/// Largest ICMPv6 error packet (RFC 4443 2.4(c): the IPv6 minimum MTU).
const MAX_V6_ERROR: usize = 1280;

/// An ICMP error the router sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IcmpError {
    TimeExceeded,
    NetUnreachable,
    HostUnreachable,
    PortUnreachable,
}

impl IcmpError {
    /// The drop reason the original packet is counted under.
    fn reason(self) -> DropId {
        match self {
            IcmpError::TimeExceeded => TTL_EXPIRED,
            IcmpError::NetUnreachable => NO_ROUTE,
            IcmpError::HostUnreachable => HOST_UNREACHABLE,
            IcmpError::PortUnreachable => PORT_UNREACHABLE,
        }
    }

    /// Which rate limit applies.
    fn limit(self) -> usize {
        match self {
            IcmpError::TimeExceeded => TIME_EXCEEDED,
            _ => UNREACHABLE,
        }
    }

    /// ICMPv4 (type, code).
    fn v4(self) -> (u8, u8) {
        match self {
            IcmpError::TimeExceeded => (11, 0),
            IcmpError::NetUnreachable => (3, 0),
            IcmpError::HostUnreachable => (3, 1),
            IcmpError::PortUnreachable => (3, 3),
        }
    }

    /// ICMPv6 (type, code).
    fn v6(self) -> (u8, u8) {
        match self {
            IcmpError::TimeExceeded => (3, 0),
            IcmpError::NetUnreachable => (1, 0),
            IcmpError::HostUnreachable => (1, 3),
            IcmpError::PortUnreachable => (1, 4),
        }
    }
}

/// Answers an echo request to a router address in place.
pub(super) fn echo_reply_v4(c: &Ctx<'_>, h: &V4, mut pkt: Packet, io: &mut StageIo<'_>) {
    {
        let d = pkt.data_mut();
        swap_macs(d);
        // `parse_v4` and `to_router_v4` checked both headers' lengths.
        let (Some(l3), Some(l4)) = split(d, ETH, ETH + h.hlen) else {
            return io.drop(pkt, MALFORMED);
        };
        let mut ip = Ipv4Packet::new_unchecked(l3);
        let proto = u8::from(ip.protocol());
        let sum = update_u16(
            ip.checksum(),
            u16::from_be_bytes([h.ttl, proto]),
            u16::from_be_bytes([TTL, proto]),
        );
        ip.set_src_addr(Ipv4Addr::from(h.dst));
        ip.set_dst_addr(Ipv4Addr::from(h.src));
        ip.set_ttl(TTL);
        ip.set_checksum(sum);
        let mut icmp = Icmpv4Packet::new_unchecked(l4);
        let old = u16::from_be_bytes([u8::from(Icmpv4Message::EchoRequest), 0]);
        let new = u16::from_be_bytes([u8::from(Icmpv4Message::EchoReply), 0]);
        icmp.set_msg_type(Icmpv4Message::EchoReply);
        icmp.set_checksum(update_u16(icmp.checksum(), old, new));
    }
    reply_to_source(c, pkt, io);
}

/// Answers an ICMPv6 echo request in place; `at` is the ICMPv6 header's
/// offset in the frame.
pub(super) fn echo_reply_v6(c: &Ctx<'_>, h: &V6, at: usize, mut pkt: Packet, io: &mut StageIo<'_>) {
    {
        let d = pkt.data_mut();
        swap_macs(d);
        // `parse_v6` and `to_router_v6` checked both headers' lengths.
        let (Some(l3), Some(l4)) = split(d, ETH, at) else {
            return io.drop(pkt, MALFORMED);
        };
        let mut ip = Ipv6Packet::new_unchecked(l3);
        ip.set_src_addr(Ipv6Addr::from(h.dst));
        ip.set_dst_addr(Ipv6Addr::from(h.src));
        ip.set_hop_limit(TTL);
        let mut icmp = Icmpv6Packet::new_unchecked(l4);
        let old = u16::from_be_bytes([u8::from(Icmpv6Message::EchoRequest), 0]);
        let new = u16::from_be_bytes([u8::from(Icmpv6Message::EchoReply), 0]);
        icmp.set_msg_type(Icmpv6Message::EchoReply);
        icmp.set_checksum(update_u16(icmp.checksum(), old, new));
    }
    reply_to_source(c, pkt, io);
}

/// `d[a..b]` and `d[b..]`, if `a <= b <= d.len()`.
fn split(d: &mut [u8], a: usize, b: usize) -> (Option<&mut [u8]>, Option<&mut [u8]>) {
    match d.get_mut(a..) {
        Some(rest) if b >= a && b - a <= rest.len() => {
            let (x, y) = rest.split_at_mut(b - a);
            (Some(x), Some(y))
        }
        _ => (None, None),
    }
}

fn swap_macs(d: &mut [u8]) {
    if let Some(hdr) = d.get_mut(..ETH) {
        let mut eth = EthernetFrame::new_unchecked(hdr);
        let (src, dst) = (eth.src_addr(), eth.dst_addr());
        eth.set_src_addr(dst);
        eth.set_dst_addr(src);
    }
}

fn reply_to_source(c: &Ctx<'_>, mut pkt: Packet, io: &mut StageIo<'_>) {
    let src = pkt.reg(c.regs.src);
    pkt.set_reg(c.regs.dst, src);
    io.note(&pkt, trace::ECHO_REPLY, src.into());
    io.send(LOCAL_REPLY, pkt);
}

/// Whether an error may be sent at all: not when RFC 1812 / 4443 forbid it
/// (`suppressed`), not without a source address. Notes why not.
fn allowed(
    suppressed: bool,
    has_source: bool,
    tc: u64,
    pkt: &Packet,
    io: &mut StageIo<'_>,
) -> bool {
    if suppressed {
        io.note(pkt, trace::ICMP_SUPPRESSED, tc);
        return false;
    }
    if !has_source {
        io.note(pkt, trace::ICMP_NO_SOURCE, tc);
        return false;
    }
    true
}

/// The rate limit and a buffer for an error. Returns the fresh packet
/// (metadata and registers of the original, going back to the source
/// port), or the reason to drop the original under.
fn prepare(
    c: &Ctx<'_>,
    lim: &mut Limiter,
    kind: IcmpError,
    tc: u64,
    pkt: &Packet,
    io: &mut StageIo<'_>,
) -> Result<Packet, DropId> {
    let l = kind.limit();
    let limit = c.t.limits.get(l).copied().unwrap_or_default();
    if !lim.admit(c.ridx, l, io.now(), limit) {
        io.note(pkt, trace::ICMP_RATE_LIMITED, tc);
        return Err(RATE_LIMITED);
    }
    let Some(mut e) = io.alloc() else {
        io.note(pkt, trace::ICMP_NO_BUFFER, tc);
        return Err(kind.reason());
    };
    *e.meta_mut() = *pkt.meta();
    for (i, v) in pkt.regs().iter().enumerate() {
        if let Some(s) = RegSlot::new(i) {
            e.set_reg(s, *v);
        }
    }
    e.set_reg(c.regs.dst, pkt.reg(c.regs.src));
    Ok(e)
}

/// The Ethernet header of a reply: from the router's MAC in the ingress
/// network (the original's destination) back to the sender.
fn reply_eth(orig: &[u8], ethertype: EtherType) -> Option<EthernetRepr> {
    let eth = EthernetFrame::new_checked(orig).ok()?;
    Some(EthernetRepr {
        src_addr: eth.dst_addr(),
        dst_addr: eth.src_addr(),
        ethertype,
    })
}

/// Hands the built error on and drops the original.
fn finish(kind: IcmpError, tc: u64, e: Packet, pkt: Packet, io: &mut StageIo<'_>) {
    io.note(&pkt, trace::ICMP_SENT, tc);
    io.note(&e, trace::ICMP_SENT, tc);
    io.send(LOCAL_REPLY, e);
    io.drop(pkt, kind.reason());
}

/// A fresh buffer could not take the error (a mempool with less than
/// 1294 bytes of data room): noted like a pool shortage.
fn no_room(kind: IcmpError, tc: u64, e: Packet, pkt: Packet, io: &mut StageIo<'_>) {
    io.note(&pkt, trace::ICMP_NO_BUFFER, tc);
    io.drop(e, kind.reason());
    io.drop(pkt, kind.reason());
}

/// Sends an ICMPv4 error about `pkt` and drops it. `from`: the source
/// address (the router address a port unreachable is about); `None`: the
/// router's address in the ingress network.
pub(super) fn error_v4(
    c: &Ctx<'_>,
    lim: &mut Limiter,
    h: &V4,
    kind: IcmpError,
    from: Option<u32>,
    pkt: Packet,
    io: &mut StageIo<'_>,
) {
    let (ty, code) = kind.v4();
    let tc = u64::from(ty) << 8 | u64::from(code);
    let data = pkt.data();
    // RFC 1812 4.3.2.7: not about an ICMP error, not about a non-first fragment.
    let about_error = h.proto == IpProtocol::Icmp
        && data
            .get(ETH + h.hlen)
            .is_some_and(|&t| matches!(t, 3 | 4 | 5 | 11 | 12));
    let from = from.or_else(|| {
        let net = pkt.reg(c.regs.net);
        match c.router.source_for(net, IpAddr::V4(Ipv4Addr::from(h.src))) {
            Some(IpAddr::V4(a)) => Some(u32::from(a)),
            _ => None,
        }
    });
    if !allowed(
        about_error || h.frag_offset != 0,
        from.is_some(),
        tc,
        &pkt,
        io,
    ) {
        return io.drop(pkt, kind.reason());
    }
    // `parse_v4` checked the header and total length against the frame.
    let quoted_len = h.hlen + (h.total - h.hlen).min(QUOTE_V4);
    let (Some(eth), Some(quoted), Some(src)) = (
        reply_eth(data, EtherType::Ipv4),
        data.get(ETH..ETH + quoted_len),
        from,
    ) else {
        return io.drop(pkt, MALFORMED);
    };
    let mut e = match prepare(c, lim, kind, tc, &pkt, io) {
        Ok(e) => e,
        Err(reason) => return io.drop(pkt, reason),
    };
    let icmp = if kind == IcmpError::TimeExceeded {
        Icmpv4Repr::TimeExceeded { code, data: quoted }
    } else {
        Icmpv4Repr::DstUnreachable {
            reason: Icmpv4DstUnreachable::from(code),
            next_hop_mtu: 0,
            data: quoted,
        }
    };
    let ip = Ipv4Repr {
        src_addr: Ipv4Addr::from(src),
        dst_addr: Ipv4Addr::from(h.src),
        protocol: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        ttl: TTL,
        dscp: ERROR_DSCP,
        ecn: 0,
        ident: 0,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionBytes::default(),
    };
    let Some(buf) = e.append(ETH + ip.buffer_len()) else {
        return no_room(kind, tc, e, pkt, io);
    };
    // `buf` is exactly Ethernet + IPv4 + ICMP long: every emit fits.
    let (l2, l3) = buf.split_at_mut(ETH);
    let (iph, l4) = l3.split_at_mut(IPV4_HEADER_LEN);
    eth.emit(&mut EthernetFrame::new_unchecked(l2));
    ip.emit(&mut Ipv4Packet::new_unchecked(iph));
    debug_assert_eq!(l4.len(), ICMPV4_HEADER_LEN + quoted.len());
    icmp.emit(&mut Icmpv4Packet::new_unchecked(l4));
    finish(kind, tc, e, pkt, io);
}

/// Sends an ICMPv6 error about `pkt` and drops it; see [`error_v4`].
pub(super) fn error_v6(
    c: &Ctx<'_>,
    lim: &mut Limiter,
    h: &V6,
    kind: IcmpError,
    from: Option<u128>,
    pkt: Packet,
    io: &mut StageIo<'_>,
) {
    let (ty, code) = kind.v6();
    let tc = u64::from(ty) << 8 | u64::from(code);
    let data = pkt.data();
    let l3_end = ETH + IPV6_HEADER_LEN + h.payload_len;
    let payload = data.get(ETH + IPV6_HEADER_LEN..l3_end).unwrap_or_default();
    // RFC 4443 2.4(e): not about an ICMPv6 error message (types below 128).
    let about_error = walk_ext_headers(h.next_header, payload).is_ok_and(|w| {
        w.upper == IpProtocol::Icmpv6
            && w.has_upper_header()
            && payload.get(w.offset).is_some_and(|&t| t < 128)
    });
    let from = from.or_else(|| {
        let net = pkt.reg(c.regs.net);
        match c.router.source_for(net, IpAddr::V6(Ipv6Addr::from(h.src))) {
            Some(IpAddr::V6(a)) => Some(u128::from(a)),
            _ => None,
        }
    });
    if !allowed(about_error, from.is_some(), tc, &pkt, io) {
        return io.drop(pkt, kind.reason());
    }
    let room = MAX_V6_ERROR - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;
    let (Some(eth), Some(quoted), Some(src)) = (
        reply_eth(data, EtherType::Ipv6),
        data.get(ETH..l3_end.min(ETH + room)),
        from,
    ) else {
        return io.drop(pkt, MALFORMED);
    };
    let mut e = match prepare(c, lim, kind, tc, &pkt, io) {
        Ok(e) => e,
        Err(reason) => return io.drop(pkt, reason),
    };
    let icmp = if kind == IcmpError::TimeExceeded {
        Icmpv6Repr::TimeExceeded { code, data: quoted }
    } else {
        Icmpv6Repr::DstUnreachable { code, data: quoted }
    };
    let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(h.src));
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: icmp.buffer_len(),
        hop_limit: TTL,
        traffic_class: ERROR_DSCP << 2,
        flow_label: 0,
    };
    let Some(buf) = e.append(ETH + ip.buffer_len()) else {
        return no_room(kind, tc, e, pkt, io);
    };
    // `buf` is exactly Ethernet + IPv6 + ICMPv6 long: every emit fits.
    let (l2, l3) = buf.split_at_mut(ETH);
    let (iph, l4) = l3.split_at_mut(IPV6_HEADER_LEN);
    eth.emit(&mut EthernetFrame::new_unchecked(l2));
    ip.emit(&mut Ipv6Packet::new_unchecked(iph));
    icmp.emit(&mut Icmpv6Packet::new_unchecked(l4), &src, &dst);
    finish(kind, tc, e, pkt, io);
}
