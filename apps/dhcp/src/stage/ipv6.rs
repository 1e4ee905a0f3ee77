//! IPv6 in `dhcp`'s hot path: which IPv6 frames are ours (a Router
//! Solicitation, a DHCPv6 client message), and the Router Advertisement
//! that answers a solicitation. The DHCPv6 server is [`super::dhcpv6`].
//!
//! Classification reads the fixed headers only (as l2 does before sending
//! the frame here): EtherType, version, next header, then the ICMPv6 type or
//! the UDP ports. Everything else about an IPv6 frame is "not ours" and
//! passes. A solicitation is validated as RFC 4861 §6.1.1 asks (hop limit
//! 255, ICMPv6 checksum, code 0, option lengths, no source link-layer
//! option from `::`) only once its network has an RA to give and its port
//! is known and within its rate limit.
//!
//! Replies are built on the stack (at most one Ethernet MTU) and copied
//! over the request with `Packet::set_data`, which keeps the metadata and
//! registers.

use std::net::Ipv6Addr;

use df_dp::{Packet, StageIo};
use df_wire::{
    ChecksumPolicy, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Icmpv6Packet,
    Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, NdOptionsRepr, NdiscRepr, ETHERNET_HEADER_LEN,
    IPV6_HEADER_LEN,
};

use super::{dhcpv6, PortStates, Regs, PASS, REPLY};
use crate::counters::{NO_PORT, NO_ROOM, RATE_LIMITED, RS_INVALID};
use crate::tables::ipv6::Ra;
use crate::tables::DhcpTables;
use crate::trace::{BLOCKED_UNTIL, PASS as PASS_NOTE, RA_PREFIXES, RA_TO_ALL_NODES};

/// Largest frame built here: one untagged Ethernet MTU.
pub(super) const MAX_FRAME: usize = ETHERNET_HEADER_LEN + 1500;
/// Ethernet and IPv6 headers.
pub(super) const HEADERS6: usize = ETHERNET_HEADER_LEN + IPV6_HEADER_LEN;
/// ff02::2, where hosts send Router Solicitations.
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// ff02::1, where the RA goes when the solicitation came from `::`.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// ICMPv6 type of a Router Solicitation.
const RS_TYPE: u8 = 133;

const _: () = assert!(MAX_FRAME <= df_dp::packet::DATA_ROOM);

/// What an IPv6 frame is to `dhcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind6 {
    /// An ICMPv6 Router Solicitation (next header 58 after the fixed header).
    Solicit { dst: Ipv6Addr },
    /// A UDP 546 -> 547 datagram (next header 17 after the fixed header).
    Dhcp { dst: Ipv6Addr },
}

/// Classifies an untagged IPv6 frame from its fixed headers; `None` for
/// anything else.
#[inline]
pub(super) fn classify(d: &[u8]) -> Option<Kind6> {
    if d.get(12..14) != Some(&[0x86, 0xdd][..]) {
        return None;
    }
    let ip = Ipv6Packet::new_unchecked(d.get(ETHERNET_HEADER_LEN..HEADERS6)?);
    if ip.version() != 6 {
        return None;
    }
    let dst = ip.dst_addr();
    match ip.next_header() {
        IpProtocol::Icmpv6 if d.get(HEADERS6) == Some(&RS_TYPE) => Some(Kind6::Solicit { dst }),
        IpProtocol::Udp if d.get(HEADERS6..HEADERS6 + 4) == Some(&[2, 34, 2, 35][..]) => {
            Some(Kind6::Dhcp { dst })
        }
        _ => None,
    }
}

/// Handles a frame [`classify`] recognised.
pub(super) fn handle(
    regs: Regs,
    t: &DhcpTables,
    states: &mut PortStates,
    kind: Kind6,
    pkt: Packet,
    io: &mut StageIo<'_>,
) {
    match kind {
        Kind6::Solicit { dst } => solicit(regs, t, states, dst, pkt, io),
        Kind6::Dhcp { dst } => dhcpv6::handle(regs, t, states, dst, pkt, io),
    }
}

fn solicit(
    regs: Regs,
    t: &DhcpTables,
    states: &mut PortStates,
    dst: Ipv6Addr,
    pkt: Packet,
    io: &mut StageIo<'_>,
) {
    let net = pkt.reg(regs.net);
    let Some(ra) =
        t.v6.net(net)
            .and_then(|n| n.ra)
            .filter(|ra| dst == ALL_ROUTERS || dst == ra.src)
    else {
        io.note(&pkt, PASS_NOTE, 0);
        return io.send(PASS, pkt);
    };
    let Some(port) = t.v6.port(pkt.reg(regs.src), net) else {
        return io.drop(pkt, NO_PORT);
    };
    if let Err(until) = states.check_blocked(port.bucket as usize, io.now(), port.limit) {
        io.note(&pkt, BLOCKED_UNTIL, until);
        return io.drop(pkt, RATE_LIMITED);
    }
    let Some((eth_src, ip_src)) = parse_solicit(pkt.data()) else {
        return io.drop(pkt, RS_INVALID);
    };
    let ip_dst = if ip_src.is_unspecified() {
        ALL_NODES
    } else {
        ip_src
    };
    let mut buf = [0u8; MAX_FRAME];
    let len = advert(&ra, eth_src, ip_dst, &mut buf);
    let key = port.key;
    send_reply(regs, key, &buf[..len], pkt, io, |pkt, io| {
        io.note(pkt, RA_PREFIXES, ra.prefixes.len() as u64);
        io.note(pkt, RA_TO_ALL_NODES, u64::from(ip_dst == ALL_NODES));
    });
}

/// The Ethernet and IPv6 source of a valid Router Solicitation.
fn parse_solicit(data: &[u8]) -> Option<(EthernetAddress, Ipv6Addr)> {
    let eth = EthernetFrame::new_checked(data).ok()?;
    let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
    if ip.hop_limit() != 255 {
        return None;
    }
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    if src.is_multicast() {
        return None;
    }
    let icmp = Icmpv6Packet::new_checked(ip.payload()).ok()?;
    let Ok(Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit { options })) =
        Icmpv6Repr::parse(&icmp, &src, &dst, ChecksumPolicy::Verify)
    else {
        return None;
    };
    if src.is_unspecified() && options.source_lladdr.is_some() {
        return None;
    }
    Some((eth.src_addr(), src))
}

/// Writes the Router Advertisement frame into `buf`; returns its length.
fn advert(ra: &Ra, eth_dst: EthernetAddress, ip_dst: Ipv6Addr, buf: &mut [u8; MAX_FRAME]) -> usize {
    let icmp = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
        hop_limit: crate::tables::RA_CUR_HOP_LIMIT,
        managed: ra.managed,
        other_config: ra.other,
        router_lifetime: ra.lifetime,
        reachable_time: 0,
        retrans_time: 0,
        options: NdOptionsRepr {
            source_lladdr: Some(ra.mac),
            mtu: ra.mtu,
            prefixes: ra.prefixes,
            ..NdOptionsRepr::default()
        },
    });
    // At most 16 + 8 + 8 + 4 x 32 bytes: far below MAX_FRAME.
    let len = HEADERS6 + icmp.buffer_len();
    let (head, body) = buf.split_at_mut(HEADERS6);
    headers(
        head,
        (ra.mac, eth_dst),
        (ra.src, ip_dst),
        IpProtocol::Icmpv6,
        icmp.buffer_len(),
        255,
    );
    icmp.emit(&mut Icmpv6Packet::new_unchecked(body), &ra.src, &ip_dst);
    len
}

/// Writes the Ethernet and IPv6 headers into `head` (`HEADERS6` bytes).
pub(super) fn headers(
    head: &mut [u8],
    (eth_src, eth_dst): (EthernetAddress, EthernetAddress),
    (src, dst): (Ipv6Addr, Ipv6Addr),
    next_header: IpProtocol,
    payload_len: usize,
    hop_limit: u8,
) {
    let (eth, ip) = head.split_at_mut(ETHERNET_HEADER_LEN);
    EthernetRepr {
        src_addr: eth_src,
        dst_addr: eth_dst,
        ethertype: EtherType::Ipv6,
    }
    .emit(&mut EthernetFrame::new_unchecked(eth));
    Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header,
        payload_len,
        hop_limit,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut Ipv6Packet::new_unchecked(ip));
}

/// Replaces the request with `frame` and sends it by `reply` to port `key`
/// (notes first, by `notes`); a frame the buffer cannot hold is a counted
/// `no-room` drop.
pub(super) fn send_reply(
    regs: Regs,
    key: u32,
    frame: &[u8],
    mut pkt: Packet,
    io: &mut StageIo<'_>,
    notes: impl FnOnce(&Packet, &mut StageIo<'_>),
) {
    if !pkt.set_data(frame) {
        return io.drop(pkt, NO_ROOM);
    }
    pkt.set_reg(regs.dst, key);
    notes(&pkt, io);
    io.send(REPLY, pkt);
}
