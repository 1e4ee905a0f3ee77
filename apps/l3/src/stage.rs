//! `l3-proactive`'s hot path.
//!
//! `ingress-filter` is one key lookup on `destination_port_key`. `route`
//! reads the fixed IP header through df-wire views (lengths checked by
//! `new_checked`, the IPv4 header checksum verified), then decides in this
//! order: martian addresses, the router's own addresses (echo, port
//! unreachable, drop), TTL / hop limit, the LPM route, the destination port.
//! Forwarding rewrites the packet in place: two MACs, TTL - 1 with an
//! incremental IPv4 checksum update (RFC 1624), two registers. IPv6
//! extension headers are walked only for packets to the router and for
//! ICMP errors, never on the forwarding path. Echo replies are built in
//! place ([`icmp`]); ICMP errors in a fresh buffer, the original then
//! dropped under the error's reason. Nothing here allocates.

mod icmp;
mod limit;

use std::net::IpAddr;
use std::sync::Arc;

use df_dp::{Batch, EntryId, ExitId, Packet, RcuCell, RegSlot, Stage, StageIo};
use df_wire::{
    walk_ext_headers, EtherType, EthernetFrame, Icmpv4Message, Icmpv4Packet, Icmpv6Message,
    Icmpv6Packet, IpProtocol, Ipv4Packet, Ipv6Packet, ETHERNET_HEADER_LEN as ETH, IPV6_HEADER_LEN,
};

use crate::counters::{FRAGMENT_TO_ROUTER, MALFORMED, MARTIAN, NOT_IP, TO_ROUTER, UNKNOWN_ROUTER};
use crate::tables::{Hop, Host, L3Tables, Route, Router};
use crate::trace;
use icmp::IcmpError;
use limit::Limiter;

/// `in.ingress-filter`.
pub(crate) const INGRESS_FILTER: EntryId = EntryId(0);
/// `in.route`.
pub(crate) const ROUTE: EntryId = EntryId(1);
/// `out.ingress-match`.
pub(crate) const INGRESS_MATCH: ExitId = ExitId(0);
/// `out.post-route`.
pub(crate) const POST_ROUTE: ExitId = ExitId(1);
/// `out.forward`.
pub(crate) const FORWARD: ExitId = ExitId(2);
/// `out.local-reply`.
pub(crate) const LOCAL_REPLY: ExitId = ExitId(3);
/// `out.external`.
pub(crate) const EXTERNAL: ExitId = ExitId(4);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) dst: RegSlot,
    pub(crate) net: RegSlot,
    pub(crate) router: RegSlot,
}

/// The `l3-proactive` stage of one worker.
#[derive(Debug)]
pub struct L3Stage {
    regs: Regs,
    tables: Arc<RcuCell<L3Tables>>,
    limiter: Limiter,
}

impl L3Stage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<L3Tables>>) -> Self {
        L3Stage {
            regs,
            tables,
            limiter: Limiter::default(),
        }
    }
}

impl Stage for L3Stage {
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let L3Stage {
            regs,
            tables,
            limiter,
        } = self;
        let t = tables.read(io.rcu());
        debug_assert!(entry == INGRESS_FILTER || entry == ROUTE);
        if entry != ROUTE {
            if !io.tracing() {
                // Mostly all one way: claim in place, hand on in one go.
                if let Some(exit) = filter_all(*regs, t, batch) {
                    return io.send_all(exit, batch);
                }
            }
            for pkt in batch.drain() {
                filter(*regs, t, pkt, io);
            }
            return;
        }
        if limiter.generation != t.generation {
            limiter.resync(t);
        }
        for pkt in batch.drain() {
            route(*regs, t, limiter, pkt, io);
        }
    }
}

/// `ingress-filter` over a whole batch: when every packet leaves the same
/// way, returns that exit. Sets the router register of each claimed packet
/// it looked at (as `filter` would), so a mixed batch is left for the
/// caller to take one by one.
#[inline]
fn filter_all(regs: Regs, t: &L3Tables, batch: &mut Batch) -> Option<ExitId> {
    let mut claimed = None;
    for pkt in batch.as_mut_slice() {
        let router = t.router_ports.get(pkt.reg(regs.dst));
        if *claimed.get_or_insert(router.is_some()) != router.is_some() {
            return None;
        }
        if let Some(r) = router {
            pkt.set_reg(regs.router, r);
        }
    }
    Some(if claimed? { INGRESS_MATCH } else { FORWARD })
}

/// `ingress-filter`: claim packets to a router interface port.
#[inline]
fn filter(regs: Regs, t: &L3Tables, mut pkt: Packet, io: &mut StageIo<'_>) {
    let port = pkt.reg(regs.dst);
    match t.router_ports.get(port) {
        Some(router) => {
            pkt.set_reg(regs.router, router);
            io.note(&pkt, trace::ROUTER_PORT, router.into());
            io.send(INGRESS_MATCH, pkt);
        }
        None => {
            io.note(&pkt, trace::NOT_ROUTER_PORT, port.into());
            io.send(FORWARD, pkt);
        }
    }
}

/// What one routed packet needs from the tables.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'t> {
    pub(crate) regs: Regs,
    pub(crate) t: &'t L3Tables,
    /// The router's dense index (for its rate-limit buckets).
    pub(crate) ridx: usize,
    pub(crate) router: &'t Router,
}

/// `route`: find the router, then by IP version.
fn route(regs: Regs, t: &L3Tables, lim: &mut Limiter, pkt: Packet, io: &mut StageIo<'_>) {
    let key = pkt.reg(regs.router);
    let Some((ridx, router)) = t.router(key) else {
        io.note(&pkt, trace::UNKNOWN_ROUTER, key.into());
        return io.drop(pkt, UNKNOWN_ROUTER);
    };
    let c = Ctx {
        regs,
        t,
        ridx,
        router,
    };
    let ethertype = match EthernetFrame::new_checked(pkt.data()) {
        Ok(eth) => eth.ethertype(),
        Err(_) => {
            io.note(&pkt, trace::MALFORMED_ETHERNET, 0);
            return io.drop(pkt, MALFORMED);
        }
    };
    match ethertype {
        EtherType::Ipv4 => v4(&c, lim, pkt, io),
        EtherType::Ipv6 => v6(&c, lim, pkt, io),
        other => {
            io.note(&pkt, trace::NOT_IP, u16::from(other).into());
            io.drop(pkt, NOT_IP);
        }
    }
}

/// The IPv4 header fields routing needs, read once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V4 {
    pub(crate) hlen: usize,
    pub(crate) total: usize,
    pub(crate) src: u32,
    pub(crate) dst: u32,
    pub(crate) ttl: u8,
    pub(crate) proto: IpProtocol,
    pub(crate) frag_offset: u16,
    pub(crate) fragment: bool,
}

/// Reads and checks the IPv4 header: lengths against the frame, version,
/// header checksum (RFC 1812 5.2.2).
fn parse_v4(data: &[u8]) -> Option<V4> {
    let l3 = data.get(ETH..)?;
    // `new_checked` validates the lengths (20 <= IHL <= total <= buffer);
    // the fields are then read from the fixed header as one array.
    Ipv4Packet::new_checked(l3).ok()?;
    let h = l3.first_chunk::<20>()?;
    let hlen = usize::from(h[0] & 0x0f) * 4;
    if h[0] >> 4 != 4 || df_wire::checksum::sum(l3.get(..hlen)?) != 0xffff {
        return None;
    }
    let flags_offset = u16::from_be_bytes([h[6], h[7]]);
    Some(V4 {
        hlen,
        total: usize::from(u16::from_be_bytes([h[2], h[3]])),
        src: u32::from_be_bytes([h[12], h[13], h[14], h[15]]),
        dst: u32::from_be_bytes([h[16], h[17], h[18], h[19]]),
        ttl: h[8],
        proto: IpProtocol::from(h[9]),
        frag_offset: (flags_offset & 0x1fff) << 3,
        fragment: flags_offset & 0x3fff != 0,
    })
}

/// 0.0.0.0/8, loopback, multicast, reserved and broadcast.
#[inline]
fn martian4(a: u32) -> bool {
    let o = (a >> 24) as u8;
    o == 0 || o == 127 || o >= 224
}

fn v4(c: &Ctx<'_>, lim: &mut Limiter, pkt: Packet, io: &mut StageIo<'_>) {
    let Some(h) = parse_v4(pkt.data()) else {
        io.note(&pkt, trace::MALFORMED_IPV4, 0);
        return io.drop(pkt, MALFORMED);
    };
    if martian4(h.src) {
        io.note(&pkt, trace::MARTIAN_SRC, h.src.into());
        return io.drop(pkt, MARTIAN);
    }
    if martian4(h.dst) {
        io.note(&pkt, trace::MARTIAN_DST, h.dst.into());
        return io.drop(pkt, MARTIAN);
    }
    if c.router.is_local_v4(h.dst) {
        return to_router_v4(c, lim, &h, pkt, io);
    }
    if h.ttl <= 1 {
        io.note(&pkt, trace::TTL_EXPIRED, h.ttl.into());
        return icmp::error_v4(c, lim, &h, IcmpError::TimeExceeded, None, pkt, io);
    }
    let Some(route) = c.router.route_v4(h.dst) else {
        if c.router.external {
            io.note(&pkt, trace::TO_EXTERNAL, h.dst.into());
            return io.send(EXTERNAL, pkt);
        }
        io.note(&pkt, trace::NO_ROUTE, h.dst.into());
        return icmp::error_v4(c, lim, &h, IcmpError::NetUnreachable, None, pkt, io);
    };
    if let IpAddr::V4(p) = route.prefix.addr {
        io.note(
            &pkt,
            trace::ROUTE_V4,
            u64::from(u32::from(p)) << 8 | u64::from(route.prefix.len),
        );
    }
    let (host, looked_up) = match route.hop {
        Hop::Connected => {
            if route
                .prefix
                .broadcast4()
                .is_some_and(|b| u32::from(b) == h.dst)
                && route.prefix.len <= 30
            {
                io.note(&pkt, trace::MARTIAN_DST, h.dst.into());
                return io.drop(pkt, MARTIAN);
            }
            (c.t.host_v4(route.network_key, h.dst), u64::from(h.dst))
        }
        Hop::Via { nexthop, host } => {
            let hop = match nexthop {
                IpAddr::V4(a) => u64::from(u32::from(a)),
                IpAddr::V6(a) => u128::from(a) as u64,
            };
            io.note(&pkt, trace::VIA, hop);
            (host, hop)
        }
    };
    let Some(host) = host else {
        io.note(&pkt, trace::NO_HOST, looked_up);
        return icmp::error_v4(c, lim, &h, IcmpError::HostUnreachable, None, pkt, io);
    };
    forward_v4(c, route, host, h.ttl, pkt, io);
}

/// Rewrites MACs and TTL in place and hands the packet to the destination.
fn forward_v4(
    c: &Ctx<'_>,
    route: &Route,
    host: Host,
    ttl: u8,
    mut pkt: Packet,
    io: &mut StageIo<'_>,
) {
    let ttl = ttl - 1;
    {
        let d = pkt.data_mut();
        set_macs(d, host, route);
        // `parse_v4` checked the 20-byte header behind the Ethernet header:
        // TTL at 8, protocol at 9, checksum at 10..12.
        if let Some(h) = d.get_mut(ETH..).and_then(|l3| l3.first_chunk_mut::<20>()) {
            let proto = h[9];
            let old = u16::from_be_bytes([ttl + 1, proto]);
            let new = u16::from_be_bytes([ttl, proto]);
            h[8] = ttl;
            let sum = df_wire::checksum::update_u16(u16::from_be_bytes([h[10], h[11]]), old, new);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
        }
    }
    send_routed(c, route, host, ttl, pkt, io);
}

/// Ethernet source := the egress interface's MAC, destination := the port's.
#[inline]
fn set_macs(d: &mut [u8], host: Host, route: &Route) {
    if let Some(hdr) = d.get_mut(..ETH) {
        hdr[..6].copy_from_slice(&host.mac.0);
        hdr[6..12].copy_from_slice(&route.mac.0);
    }
}

#[inline]
fn send_routed(
    c: &Ctx<'_>,
    route: &Route,
    host: Host,
    ttl: u8,
    mut pkt: Packet,
    io: &mut StageIo<'_>,
) {
    pkt.set_reg(c.regs.net, route.network_key);
    pkt.set_reg(c.regs.dst, host.port_key);
    io.note(&pkt, trace::NEXT_HOP_PORT, host.port_key.into());
    io.note(&pkt, trace::TTL_AFTER, ttl.into());
    io.send(POST_ROUTE, pkt);
}

/// A packet to one of the router's IPv4 addresses.
fn to_router_v4(c: &Ctx<'_>, lim: &mut Limiter, h: &V4, pkt: Packet, io: &mut StageIo<'_>) {
    let proto = u64::from(u8::from(h.proto));
    if h.fragment {
        io.note(&pkt, trace::FRAGMENT_TO_ROUTER, proto);
        return io.drop(pkt, FRAGMENT_TO_ROUTER);
    }
    match h.proto {
        IpProtocol::Icmp => {
            let echo = match pkt.data().get(ETH + h.hlen..ETH + h.total) {
                Some(l4) => match Icmpv4Packet::new_checked(l4) {
                    Ok(m) => m.msg_type() == Icmpv4Message::EchoRequest && m.msg_code() == 0,
                    Err(_) => {
                        io.note(&pkt, trace::MALFORMED_L4, 0);
                        return io.drop(pkt, MALFORMED);
                    }
                },
                None => false,
            };
            if echo {
                icmp::echo_reply_v4(c, h, pkt, io);
            } else {
                io.note(&pkt, trace::TO_ROUTER, proto);
                io.drop(pkt, TO_ROUTER);
            }
        }
        IpProtocol::Tcp | IpProtocol::Udp => {
            let from = Some(h.dst);
            icmp::error_v4(c, lim, h, IcmpError::PortUnreachable, from, pkt, io);
        }
        _ => {
            io.note(&pkt, trace::TO_ROUTER, proto);
            io.drop(pkt, TO_ROUTER);
        }
    }
}

/// The IPv6 header fields routing needs, read once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V6 {
    pub(crate) src: u128,
    pub(crate) dst: u128,
    pub(crate) hop_limit: u8,
    pub(crate) next_header: IpProtocol,
    pub(crate) payload_len: usize,
}

fn parse_v6(data: &[u8]) -> Option<V6> {
    let ip = Ipv6Packet::new_checked(data.get(ETH..)?).ok()?;
    if ip.version() != 6 {
        return None;
    }
    Some(V6 {
        src: u128::from(ip.src_addr()),
        dst: u128::from(ip.dst_addr()),
        hop_limit: ip.hop_limit(),
        next_header: ip.next_header(),
        payload_len: usize::from(ip.payload_len()),
    })
}

/// Unspecified, loopback, multicast.
#[inline]
fn martian6(a: u128) -> bool {
    a <= 1 || a >> 120 == 0xff
}

/// fe80::/10.
#[inline]
fn link_local6(a: u128) -> bool {
    a >> 118 == 0x3fa
}

/// The low 64 bits of an IPv6 address, for trace notes.
#[inline]
pub(crate) fn low64(a: u128) -> u64 {
    a as u64
}

fn v6(c: &Ctx<'_>, lim: &mut Limiter, pkt: Packet, io: &mut StageIo<'_>) {
    let Some(h) = parse_v6(pkt.data()) else {
        io.note(&pkt, trace::MALFORMED_IPV6, 0);
        return io.drop(pkt, MALFORMED);
    };
    if martian6(h.src) {
        io.note(&pkt, trace::MARTIAN_SRC, low64(h.src));
        return io.drop(pkt, MARTIAN);
    }
    if martian6(h.dst) {
        io.note(&pkt, trace::MARTIAN_DST, low64(h.dst));
        return io.drop(pkt, MARTIAN);
    }
    if c.router.is_local_v6(h.dst) {
        return to_router_v6(c, lim, &h, pkt, io);
    }
    // RFC 4291 2.5.6: link-local packets are not forwarded.
    if link_local6(h.src) {
        io.note(&pkt, trace::MARTIAN_SRC, low64(h.src));
        return io.drop(pkt, MARTIAN);
    }
    if link_local6(h.dst) {
        io.note(&pkt, trace::MARTIAN_DST, low64(h.dst));
        return io.drop(pkt, MARTIAN);
    }
    if h.hop_limit <= 1 {
        io.note(&pkt, trace::TTL_EXPIRED, h.hop_limit.into());
        return icmp::error_v6(c, lim, &h, IcmpError::TimeExceeded, None, pkt, io);
    }
    let Some(route) = c.router.route_v6(h.dst) else {
        io.note(&pkt, trace::NO_ROUTE, low64(h.dst));
        return icmp::error_v6(c, lim, &h, IcmpError::NetUnreachable, None, pkt, io);
    };
    if let IpAddr::V6(p) = route.prefix.addr {
        io.note(&pkt, trace::ROUTE_V6, (u128::from(p) >> 64) as u64);
        io.note(&pkt, trace::ROUTE_V6_LEN, route.prefix.len.into());
    }
    let (host, looked_up) = match route.hop {
        Hop::Connected => (c.t.host_v6(route.network_key, h.dst), low64(h.dst)),
        Hop::Via { nexthop, host } => {
            let hop = match nexthop {
                IpAddr::V6(a) => low64(u128::from(a)),
                IpAddr::V4(a) => u64::from(u32::from(a)),
            };
            io.note(&pkt, trace::VIA, hop);
            (host, hop)
        }
    };
    let Some(host) = host else {
        io.note(&pkt, trace::NO_HOST, looked_up);
        return icmp::error_v6(c, lim, &h, IcmpError::HostUnreachable, None, pkt, io);
    };
    let hop_limit = h.hop_limit - 1;
    let mut pkt = pkt;
    {
        let d = pkt.data_mut();
        set_macs(d, host, route);
        // `parse_v6` checked the 40-byte header; IPv6 has no header checksum.
        if let Some(l3) = d.get_mut(ETH..) {
            Ipv6Packet::new_unchecked(l3).set_hop_limit(hop_limit);
        }
    }
    send_routed(c, route, host, hop_limit, pkt, io);
}

/// A packet to one of the router's IPv6 addresses.
fn to_router_v6(c: &Ctx<'_>, lim: &mut Limiter, h: &V6, pkt: Packet, io: &mut StageIo<'_>) {
    let payload = pkt
        .data()
        .get(ETH + IPV6_HEADER_LEN..ETH + IPV6_HEADER_LEN + h.payload_len)
        .unwrap_or_default();
    let Ok(walk) = walk_ext_headers(h.next_header, payload) else {
        io.note(&pkt, trace::MALFORMED_IPV6, 0);
        return io.drop(pkt, MALFORMED);
    };
    let proto = u64::from(u8::from(walk.upper));
    if walk.fragment.is_some() {
        io.note(&pkt, trace::FRAGMENT_TO_ROUTER, proto);
        return io.drop(pkt, FRAGMENT_TO_ROUTER);
    }
    match walk.upper {
        IpProtocol::Icmpv6 => {
            let echo =
                match Icmpv6Packet::new_checked(payload.get(walk.offset..).unwrap_or_default()) {
                    Ok(m) => m.msg_type() == Icmpv6Message::EchoRequest && m.msg_code() == 0,
                    Err(_) => {
                        io.note(&pkt, trace::MALFORMED_L4, 0);
                        return io.drop(pkt, MALFORMED);
                    }
                };
            if echo {
                icmp::echo_reply_v6(c, h, ETH + IPV6_HEADER_LEN + walk.offset, pkt, io);
            } else {
                io.note(&pkt, trace::TO_ROUTER, proto);
                io.drop(pkt, TO_ROUTER);
            }
        }
        IpProtocol::Tcp | IpProtocol::Udp => {
            let from = Some(h.dst);
            icmp::error_v6(c, lim, h, IcmpError::PortUnreachable, from, pkt, io);
        }
        _ => {
            io.note(&pkt, trace::TO_ROUTER, proto);
            io.drop(pkt, TO_ROUTER);
        }
    }
}

#[cfg(test)]
mod tests;
