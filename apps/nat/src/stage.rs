//! `nat`'s hot path.
//!
//! **egress**: the IPv4 header is checked with df-wire views (lengths,
//! version, header checksum), the floating IP found by (source port key,
//! source IP), then every reason to drop is decided before a byte is
//! written: TTL, an ICMP error, a transport header cut short, the next hop
//! (destination when on-link, else the gateway) and its MAC in the shared
//! neighbour cache. An unresolved next hop costs the packet and, at most
//! once per (network, next hop) per 100 ms, sends an ARP request built in a
//! fresh buffer. The translation is in place: TTL - 1, source IP := the
//! floating IP, the IPv4 header checksum and the TCP/UDP checksum (the
//! address is in their pseudo-header) patched incrementally (RFC 1624), the
//! two MACs rewritten.
//!
//! **ingress**: ARP messages to a floating port teach the cache the
//! sender's MAC and are consumed; IPv4 to the floating IP is translated back
//! to the fixed IP the same way and handed to l2 for the VM's port.
//!
//! Fragments: only a first fragment (offset 0) carries the transport
//! header, so only its checksum is patched; the others change the IPv4
//! header alone.
//!
//! **SNAT** (a source without a floating IP, in a network of
//! `snat.snat_networks`): TTL, fragment, protocol, next hop and neighbour
//! are decided first, then the connection's external port is claimed or
//! reused in the shared [`SnatMap`](crate::SnatMap) and the source address
//! and port (ICMP echo: identifier) rewritten, checksums patched
//! incrementally. Replies to the SNAT pseudo-port are looked up by
//! destination port (identifier), checked against the mapping's remote end,
//! and translated back to the VM. Non-first fragments drop `fragment`.
//!
//! **ICMP errors** (destination unreachable, time exceeded, parameter
//! problem) quote a packet of the connection they are about, which must be
//! translated too. Ingress (to P or X): the quoted packet is one the VM
//! sent, already translated, so its source must be P (floating IP) or X
//! with a live mapping for (protocol, quoted source port or echo
//! identifier) whose remote is the quoted destination; the outer
//! destination becomes the fixed IP, the quoted source the fixed IP (and
//! for SNAT the quoted source port the VM's). Egress (from a VM): the quoted
//! packet is one the VM received, so its destination must be the VM's
//! address (and for SNAT the mapping is found by the whole connection); the
//! outer source and the quoted destination (and port) become P or X. The
//! quoted IPv4 header checksum and the quoted transport checksum (when the
//! quote holds it: UDP and echo always, TCP when 18 bytes are quoted) are
//! patched exactly as the forward translation patched them, so that the
//! quote is byte for byte the packet its receiver knows; the ICMP checksum
//! is patched for every 16-bit word changed (RFC 1624), so an error that
//! arrived with a bad checksum leaves with a bad one. Mappings are looked
//! up without being refreshed: an error keeps no connection alive.
//! Redirects drop `icmp-error`.
//!
//! **TTL**: a packet to a floating IP arriving with TTL 0 or 1 is answered
//! with an ICMP time exceeded from the floating IP (IPv4 header and 8 bytes
//! quoted, RFC 792), built in a fresh buffer and sent back out `external`
//! to the frame's Ethernet source, at most 3 per second per stage (burst
//! 3); never about an ICMP error, a non-first fragment or a non-unicast
//! source. The packet itself drops `ttl-expired` either way.

use std::net::Ipv4Addr;
use std::sync::Arc;

use df_dp::ratelimit::TokenBucket;
use df_dp::{Batch, DropId, EntryId, ExitId, Packet, RcuCell, RegSlot, Stage, StageIo};
use df_wire::checksum::{update_ipv4_addr, update_u16};
use df_wire::{
    split_embedded_ipv4, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress,
    EthernetFrame, EthernetRepr, Icmpv4Message, Icmpv4Packet, Icmpv4Repr, IpProtocol,
    Ipv4OptionBytes, Ipv4Packet, Ipv4Repr, TcpPacket, UdpPacket, ARP_ETHERNET_IPV4_LEN,
    ETHERNET_HEADER_LEN, ICMPV4_HEADER_LEN, IPV4_HEADER_LEN,
};

use crate::counters::{
    ARP_CONSUMED, FRAGMENT, ICMP_ERROR, MALFORMED, NEIGHBOUR_UNRESOLVED, NOT_FOR_FLOATING_IP,
    NOT_IPV4, NO_FLOATING_IP, NO_GATEWAY, SNAT_EXHAUSTED, SNAT_NO_MAPPING, SNAT_UNSUPPORTED,
    TTL_EXPIRED,
};
use crate::neigh::NeighbourCache;
use crate::snat::{Class, Flow, Mapping};
use crate::tables::{NatTables, Own, SnatTables};
use crate::trace;

const EGRESS: EntryId = EntryId(0);
const EXTERNAL: ExitId = ExitId(0);
const INTERNAL: ExitId = ExitId(1);

const ETH: usize = ETHERNET_HEADER_LEN;

/// TTL of the time exceeded messages nat sends.
const REPLY_TTL: u8 = 64;
/// Their DSCP: CS6, network control (as l3 and Linux send ICMP errors).
const ERROR_DSCP: u8 = 48;
/// Bytes of the original payload quoted after its IPv4 header (RFC 792).
const QUOTE: usize = 8;

/// Entries of the per-stage ARP request rate limit (a power of two).
pub(crate) const ARP_LIMIT_SLOTS: usize = 256;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) net: RegSlot,
    pub(crate) dst: RegSlot,
}

/// When this stage last asked for one (network, next hop).
#[derive(Debug, Clone, Copy, Default)]
struct ArpSent {
    net: u32,
    ip: u32,
    at: u64,
}

/// The `nat` stage of one worker.
#[derive(Debug)]
pub struct NatStage {
    regs: Regs,
    tables: Arc<RcuCell<NatTables>>,
    neighbours: Arc<NeighbourCache>,
    /// Direct-mapped by (network, next hop); a collision forgets the older
    /// entry (at worst one extra request).
    arp_sent: Box<[ArpSent]>,
    /// The time exceeded rate limit of this stage.
    time_exceeded: TokenBucket,
}

impl NatStage {
    pub(crate) fn new(
        regs: Regs,
        tables: Arc<RcuCell<NatTables>>,
        neighbours: Arc<NeighbourCache>,
    ) -> Self {
        NatStage {
            regs,
            tables,
            neighbours,
            arp_sent: vec![ArpSent::default(); ARP_LIMIT_SLOTS].into_boxed_slice(),
            time_exceeded: TokenBucket::default(),
        }
    }

    /// The neighbour cache this stage shares with its app's other stages.
    pub fn neighbours(&self) -> &Arc<NeighbourCache> {
        &self.neighbours
    }
}

/// True (and the time recorded in `sent`) when an ARP request for `ip` in
/// `net` may go now.
#[inline]
fn arp_allowed(sent: &mut [ArpSent], net: u32, ip: u32, now: u64, interval: u64) -> bool {
    let h = ((u64::from(net) << 32) | u64::from(ip)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let i = (h >> 40) as usize & (ARP_LIMIT_SLOTS - 1);
    let Some(e) = sent.get_mut(i) else {
        return true;
    };
    if e.net == net && e.ip == ip && e.at != 0 && now.wrapping_sub(e.at) < interval {
        return false;
    }
    *e = ArpSent {
        net,
        ip,
        at: now.max(1),
    };
    true
}

/// What one batch's processing reads.
struct Ctx<'a> {
    regs: Regs,
    t: &'a NatTables,
    neighbours: &'a NeighbourCache,
}

/// The fields translation needs, read once from a checked header.
#[derive(Debug, Clone, Copy)]
struct V4 {
    eth_src: EthernetAddress,
    eth_dst: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    proto: IpProtocol,
    /// IPv4 header length and total length (checked against the frame).
    hlen: usize,
    total: usize,
    /// Fragment offset 0 (the transport header is here).
    first: bool,
    /// The transport header of a first fragment: which checksum to patch
    /// after the address, which ports SNAT maps.
    l4: L4,
    /// TCP/UDP source port; ICMP echo: the identifier; else 0.
    sport: u16,
    /// TCP/UDP destination port; ICMP echo: the identifier; else 0.
    dport: u16,
    /// `l4 == L4::IcmpError`: the packet it quotes; else [`Quoted::NONE`].
    q: Quoted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum L4 {
    /// Another protocol, a non-first fragment, or ICMP other than echo.
    None,
    Tcp,
    Udp,
    EchoRequest,
    EchoReply,
    /// Destination unreachable, time exceeded or parameter problem
    /// (outer packet only).
    IcmpError,
}

/// The packet an ICMP error quotes (its IPv4 header and at least 8 bytes
/// after it when a first fragment of TCP, UDP or ICMP), as frame offsets
/// checked by `parse_v4` and the fields NAT maps by.
#[derive(Debug, Clone, Copy)]
struct Quoted {
    /// Frame offset of the ICMP header; the ICMP message ends at `end`.
    icmp_at: usize,
    end: usize,
    /// Frame offset of the quoted IPv4 header, and its length.
    at: usize,
    hlen: usize,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    /// Tcp, Udp, EchoRequest, EchoReply (of a first fragment), else None.
    l4: L4,
    /// Bytes quoted after the quoted IPv4 header.
    l4_len: usize,
    /// TCP/UDP ports; ICMP echo: the identifier in both; else 0.
    sport: u16,
    dport: u16,
    /// The error's ICMP type << 8 | code, for the trace.
    kind: u16,
}

impl Quoted {
    const NONE: Quoted = Quoted {
        icmp_at: 0,
        end: 0,
        at: 0,
        hlen: 0,
        src: Ipv4Addr::UNSPECIFIED,
        dst: Ipv4Addr::UNSPECIFIED,
        l4: L4::None,
        l4_len: 0,
        sport: 0,
        dport: 0,
        kind: 0,
    };
}

/// The big-endian word at `at` of `b`.
#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    match b.get(at..at + 2) {
        Some(&[x, y]) => Some(u16::from_be_bytes([x, y])),
        _ => None,
    }
}

/// Parses the quote of the ICMP error `icmp` (at frame offset `icmp_at`,
/// ending at `end`).
fn parse_quoted(icmp: &Icmpv4Packet<&[u8]>, icmp_at: usize, end: usize) -> Result<Quoted, Bad> {
    let kind = u16::from_be_bytes([u8::from(icmp.msg_type()), icmp.msg_code()]);
    let (hdr, rest) = split_embedded_ipv4(icmp.payload()).map_err(|_| Bad::Malformed)?;
    // `split_embedded_ipv4` checked 20 <= hdr.len(): the fixed fields are in.
    let ip = Ipv4Packet::new_unchecked(hdr);
    let ports = |l4| match (be16(rest, 0), be16(rest, 2)) {
        (Some(s), Some(d)) if rest.len() >= QUOTE => Ok((l4, s, d)),
        _ => Err(Bad::Malformed),
    };
    let (l4, sport, dport) = match ip.protocol() {
        _ if ip.frag_offset() != 0 => (L4::None, 0, 0),
        IpProtocol::Tcp => ports(L4::Tcp)?,
        IpProtocol::Udp => ports(L4::Udp)?,
        IpProtocol::Icmp => {
            let (ty, id) = match (rest.first(), be16(rest, 4)) {
                (Some(&ty), Some(id)) if rest.len() >= QUOTE => (ty, id),
                _ => return Err(Bad::Malformed),
            };
            match Icmpv4Message::from(ty) {
                Icmpv4Message::EchoRequest => (L4::EchoRequest, id, id),
                Icmpv4Message::EchoReply => (L4::EchoReply, id, id),
                _ => (L4::None, 0, 0),
            }
        }
        _ => (L4::None, 0, 0),
    };
    let at = icmp_at + ICMPV4_HEADER_LEN;
    Ok(Quoted {
        icmp_at,
        end,
        at,
        hlen: hdr.len(),
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        l4,
        l4_len: rest.len(),
        sport,
        dport,
        kind,
    })
}

/// Why an IPv4 frame cannot be translated.
enum Bad {
    Malformed,
    IcmpError,
}

/// Checks the IPv4 header behind the Ethernet header and the transport
/// header of a first fragment; `None` when the frame is not IPv4.
fn parse_v4(data: &[u8]) -> Option<Result<V4, Bad>> {
    let eth = EthernetFrame::new_checked(data).ok()?;
    if eth.ethertype() != EtherType::Ipv4 {
        return None;
    }
    let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
        return Some(Err(Bad::Malformed));
    };
    if ip.version() != 4 || !ip.verify_checksum() {
        return Some(Err(Bad::Malformed));
    }
    let first = ip.frag_offset() == 0;
    let proto = ip.protocol();
    let hlen = usize::from(ip.header_len());
    let total = usize::from(ip.total_len());
    let mut q = Quoted::NONE;
    let (l4, sport, dport) = match proto {
        _ if !first => (L4::None, 0, 0),
        IpProtocol::Tcp => match TcpPacket::new_checked(ip.payload()) {
            Ok(tcp) => (L4::Tcp, tcp.src_port(), tcp.dst_port()),
            Err(_) => return Some(Err(Bad::Malformed)),
        },
        IpProtocol::Udp => match UdpPacket::new_checked(ip.payload()) {
            Ok(udp) => (L4::Udp, udp.src_port(), udp.dst_port()),
            Err(_) => return Some(Err(Bad::Malformed)),
        },
        IpProtocol::Icmp => match Icmpv4Packet::new_checked(ip.payload()) {
            Ok(icmp) if icmp.is_error() => match icmp.msg_type() {
                Icmpv4Message::DstUnreachable
                | Icmpv4Message::TimeExceeded
                | Icmpv4Message::ParamProblem => {
                    match parse_quoted(&icmp, ETH + hlen, ETH + total) {
                        Ok(quoted) => q = quoted,
                        Err(bad) => return Some(Err(bad)),
                    }
                    (L4::IcmpError, 0, 0)
                }
                // Redirects.
                _ => return Some(Err(Bad::IcmpError)),
            },
            Ok(icmp) => match icmp.msg_type() {
                Icmpv4Message::EchoRequest => {
                    (L4::EchoRequest, icmp.echo_ident(), icmp.echo_ident())
                }
                Icmpv4Message::EchoReply => (L4::EchoReply, icmp.echo_ident(), icmp.echo_ident()),
                _ => (L4::None, 0, 0),
            },
            Err(_) => return Some(Err(Bad::Malformed)),
        },
        _ => (L4::None, 0, 0),
    };
    Some(Ok(V4 {
        eth_src: eth.src_addr(),
        eth_dst: eth.dst_addr(),
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        ttl: ip.ttl(),
        proto,
        hlen,
        total,
        first,
        l4,
        sport,
        dport,
        q,
    }))
}

/// Which address the translation replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Src,
    Dst,
}

/// Rewrites in place: MACs, TTL - 1, one address := `new`, the IPv4 and
/// TCP/UDP checksums patched. `h` came from `parse_v4` on this frame, which
/// checked every length used here.
#[inline]
fn translate(
    data: &mut [u8],
    h: &V4,
    side: Side,
    new: Ipv4Addr,
    eth_src: EthernetAddress,
    eth_dst: EthernetAddress,
) {
    let Some(l3) = data.get_mut(ETH..) else {
        return;
    };
    let old = match side {
        Side::Src => h.src,
        Side::Dst => h.dst,
    };
    let mut ip = Ipv4Packet::new_unchecked(l3);
    let proto = u8::from(h.proto);
    let ttl = h.ttl.saturating_sub(1);
    let mut sum = update_u16(
        ip.checksum(),
        u16::from_be_bytes([h.ttl, proto]),
        u16::from_be_bytes([ttl, proto]),
    );
    sum = update_ipv4_addr(sum, old, new);
    ip.set_ttl(ttl);
    match side {
        Side::Src => ip.set_src_addr(new),
        Side::Dst => ip.set_dst_addr(new),
    }
    ip.set_checksum(sum);
    match h.l4 {
        // ICMP has no pseudo-header.
        L4::None | L4::EchoRequest | L4::EchoReply | L4::IcmpError => {}
        L4::Tcp => {
            let mut tcp = TcpPacket::new_unchecked(ip.payload_mut());
            let c = update_ipv4_addr(tcp.checksum(), old, new);
            tcp.set_checksum(c);
        }
        L4::Udp => {
            let mut udp = UdpPacket::new_unchecked(ip.payload_mut());
            let c = udp.checksum();
            // 0: the sender computed none (allowed over IPv4); keep it so.
            if c != 0 {
                // A computed 0 is sent as all ones (RFC 768).
                let c = update_ipv4_addr(c, old, new);
                udp.set_checksum(if c == 0 { 0xffff } else { c });
            }
        }
    }
    let mut eth = EthernetFrame::new_unchecked(data);
    eth.set_src_addr(eth_src);
    eth.set_dst_addr(eth_dst);
}

/// Rewrites in place the source (`Side::Src`) or destination port of a
/// TCP/UDP first fragment, or the identifier of an ICMP echo, := `new`,
/// patching the transport checksum. `h` came from `parse_v4` on this frame
/// (and `translate` may have run since: it changes no length).
#[inline]
fn translate_port(data: &mut [u8], h: &V4, side: Side, new: u16) {
    let Some(l3) = data.get_mut(ETH..) else {
        return;
    };
    let old = match side {
        Side::Src => h.sport,
        Side::Dst => h.dport,
    };
    let mut ip = Ipv4Packet::new_unchecked(l3);
    match h.l4 {
        L4::None | L4::IcmpError => {}
        L4::Tcp => {
            let mut tcp = TcpPacket::new_unchecked(ip.payload_mut());
            let c = update_u16(tcp.checksum(), old, new);
            match side {
                Side::Src => tcp.set_src_port(new),
                Side::Dst => tcp.set_dst_port(new),
            }
            tcp.set_checksum(c);
        }
        L4::Udp => {
            let mut udp = UdpPacket::new_unchecked(ip.payload_mut());
            let c = udp.checksum();
            match side {
                Side::Src => udp.set_src_port(new),
                Side::Dst => udp.set_dst_port(new),
            }
            if c != 0 {
                let c = update_u16(c, old, new);
                udp.set_checksum(if c == 0 { 0xffff } else { c });
            }
        }
        L4::EchoRequest | L4::EchoReply => {
            let mut icmp = Icmpv4Packet::new_unchecked(ip.payload_mut());
            let c = update_u16(icmp.checksum(), old, new);
            icmp.set_echo_ident(new);
            icmp.set_checksum(c);
        }
    }
}

/// 16-bit words of an ICMP message rewritten in place, its checksum patched
/// for each (RFC 1624).
struct Words<'a> {
    b: &'a mut [u8],
    sum: u16,
}

impl Words<'_> {
    fn get(&self, at: usize) -> u16 {
        be16(self.b, at).unwrap_or(0)
    }

    fn set(&mut self, at: usize, v: u16) {
        if let Some([x, y]) = self.b.get_mut(at..at + 2) {
            let old = u16::from_be_bytes([*x, *y]);
            if old != v {
                [*x, *y] = v.to_be_bytes();
                self.sum = update_u16(self.sum, old, v);
            }
        }
    }

    fn set_ip(&mut self, at: usize, ip: Ipv4Addr) {
        let [a, b, c, d] = ip.octets();
        self.set(at, u16::from_be_bytes([a, b]));
        self.set(at + 2, u16::from_be_bytes([c, d]));
    }
}

/// Rewrites in place, inside the packet the ICMP error quotes, one address
/// (`Side::Src` on ingress: the quote is a packet we sent; `Side::Dst` on
/// egress) := `new` and, for SNAT, the port (echo identifier) on that side
/// := `port`. The quoted IPv4 header checksum and the quoted transport
/// checksum (when quoted: UDP unless 0, echo, TCP with 18 bytes quoted) are
/// patched as the forward translation patched them, and the ICMP checksum
/// for every word changed. `q` came from `parse_v4` on this frame.
fn translate_quoted(data: &mut [u8], q: &Quoted, side: Side, new: Ipv4Addr, port: Option<u16>) {
    let Some(msg) = data.get_mut(q.icmp_at..q.end) else {
        return;
    };
    let sum = be16(msg, 2).unwrap_or(0);
    let mut w = Words { b: msg, sum };
    let ip = q.at - q.icmp_at;
    let (old, addr_at, old_port, port_at) = match side {
        Side::Src => (q.src, ip + 12, q.sport, 0),
        Side::Dst => (q.dst, ip + 16, q.dport, 2),
    };
    let c = w.get(ip + 10);
    w.set(ip + 10, update_ipv4_addr(c, old, new));
    w.set_ip(addr_at, new);
    let l4 = ip + q.hlen;
    let new_port = port.unwrap_or(old_port);
    match q.l4 {
        L4::Tcp | L4::Udp => {
            w.set(l4 + port_at, new_port);
            let udp = q.l4 == L4::Udp;
            let sum_at = if udp { 6 } else { 16 };
            if q.l4_len >= sum_at + 2 {
                let c = w.get(l4 + sum_at);
                // UDP 0: no checksum; a computed 0 is sent as all ones.
                if !(udp && c == 0) {
                    let c = update_u16(update_ipv4_addr(c, old, new), old_port, new_port);
                    w.set(l4 + sum_at, if udp && c == 0 { 0xffff } else { c });
                }
            }
        }
        L4::EchoRequest | L4::EchoReply => {
            w.set(l4 + 4, new_port);
            let c = w.get(l4 + 2);
            w.set(l4 + 2, update_u16(c, old_port, new_port));
        }
        L4::None | L4::IcmpError => {}
    }
    let sum = w.sum;
    if let Some(c) = msg.get_mut(2..4) {
        c.copy_from_slice(&sum.to_be_bytes());
    }
}

/// Writes into `e` (a fresh buffer) the ICMP time exceeded (TTL) from our
/// address `own` to the sender of `orig` (IPv4 header `h`), quoting its
/// IPv4 header and 8 bytes; false when it has no room.
fn build_time_exceeded(e: &mut Packet, orig: &[u8], h: &V4, own: &Own) -> bool {
    let quoted_len = h.hlen + h.total.saturating_sub(h.hlen).min(QUOTE);
    let Some(quoted) = orig.get(ETH..ETH + quoted_len) else {
        return false;
    };
    let icmp = Icmpv4Repr::TimeExceeded {
        code: 0,
        data: quoted,
    };
    let ip = Ipv4Repr {
        src_addr: own.ip,
        dst_addr: h.src,
        protocol: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        ttl: REPLY_TTL,
        dscp: ERROR_DSCP,
        ecn: 0,
        ident: 0,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionBytes::default(),
    };
    let Some(buf) = e.append(ETH + ip.buffer_len()) else {
        return false;
    };
    // `buf` is exactly Ethernet + IPv4 + ICMP long: every emit fits.
    let (l2, l3) = buf.split_at_mut(ETH);
    let (iph, l4) = l3.split_at_mut(IPV4_HEADER_LEN);
    EthernetRepr {
        src_addr: own.mac,
        dst_addr: h.eth_src,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(l2));
    ip.emit(&mut Ipv4Packet::new_unchecked(iph));
    icmp.emit(&mut Icmpv4Packet::new_unchecked(l4));
    true
}

/// Writes the ARP request "who has `target`? tell (M, A)" from our address
/// `own` (a floating port, or the SNAT pseudo-port) into `pkt` (a fresh
/// buffer); false when it has no room.
fn build_arp_request(pkt: &mut Packet, own: &Own, target: Ipv4Addr) -> bool {
    let Some(buf) = pkt.append(ETH + ARP_ETHERNET_IPV4_LEN) else {
        return false;
    };
    let mut eth = EthernetFrame::new_unchecked(buf);
    EthernetRepr {
        src_addr: own.mac,
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EtherType::Arp,
    }
    .emit(&mut eth);
    ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: own.mac,
        source_protocol_addr: own.ip,
        target_hardware_addr: EthernetAddress::default(),
        target_protocol_addr: target,
    }
    .emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
    true
}

fn mac_u64(m: EthernetAddress) -> u64 {
    m.0.iter().fold(0, |w, &b| (w << 8) | u64::from(b))
}

/// Whether mapping `m` is a connection to `remote` (and, but for ICMP, its
/// port `rport`): what a reply or an error about it must come from.
#[inline]
fn from_remote(m: &Mapping, class: Class, remote: Ipv4Addr, rport: u16) -> bool {
    m.flow.remote_ip == remote && (class == Class::Icmp || m.flow.remote_port == rport)
}

/// The transport class SNAT maps a first fragment by, on egress (echo
/// request) or ingress (echo reply).
#[inline]
fn class_of(l4: L4, egress: bool) -> Option<Class> {
    match l4 {
        L4::Tcp => Some(Class::Tcp),
        L4::Udp => Some(Class::Udp),
        L4::EchoRequest if egress => Some(Class::Icmp),
        L4::EchoReply if !egress => Some(Class::Icmp),
        _ => None,
    }
}

impl Ctx<'_> {
    fn egress(&self, batch: &mut Batch, io: &mut StageIo<'_>, sent: &mut [ArpSent]) {
        let t = self.t;
        for mut pkt in batch.drain() {
            let h = match parse_v4(pkt.data()) {
                None => {
                    io.drop(pkt, NOT_IPV4);
                    continue;
                }
                Some(Err(Bad::Malformed)) => {
                    io.drop(pkt, MALFORMED);
                    continue;
                }
                Some(Err(Bad::IcmpError)) => {
                    io.drop(pkt, ICMP_ERROR);
                    continue;
                }
                Some(Ok(h)) => h,
            };
            let port = pkt.reg(self.regs.src);
            let net = pkt.reg(self.regs.net);
            io.note(&pkt, trace::FROM_NETWORK, u64::from(net));
            io.note(&pkt, trace::SOURCE_IP, u64::from(u32::from(h.src)));
            let Some(fip) = t.by_source(port, u32::from(h.src)) else {
                match t.snat().filter(|s| s.networks.contains(&net)) {
                    Some(snat) => self.snat_egress(io, sent, pkt, &h, snat),
                    None => io.drop(pkt, NO_FLOATING_IP),
                }
                continue;
            };
            io.note(
                &pkt,
                trace::FLOATING_IP,
                u64::from(u32::from(fip.floating_ip)),
            );
            let error = h.l4 == L4::IcmpError;
            if error {
                // About a packet the VM received: to its fixed IP.
                io.note(&pkt, trace::QUOTED_DST, u64::from(u32::from(h.q.dst)));
                if h.q.dst != h.src {
                    io.drop(pkt, ICMP_ERROR);
                    continue;
                }
            }
            let own = fip.own();
            let mac = match self.next_hop_mac(io, sent, &pkt, &h, &own) {
                Ok(mac) => mac,
                Err(reason) => {
                    io.drop(pkt, reason);
                    continue;
                }
            };
            translate(pkt.data_mut(), &h, Side::Src, own.ip, own.mac, mac);
            if error {
                translate_quoted(pkt.data_mut(), &h.q, Side::Dst, own.ip, None);
                io.note(&pkt, trace::ICMP_ERROR_TRANSLATED, u64::from(h.q.kind));
            }
            pkt.set_reg(self.regs.net, own.ext.key);
            pkt.set_reg(self.regs.src, own.port_key);
            io.send(EXTERNAL, pkt);
        }
    }

    /// The TTL check and the MAC of the next hop towards `h.dst` from our
    /// address `own`, or the reason to drop (an ARP request sent when
    /// unresolved and not rate-limited).
    #[inline]
    fn next_hop_mac(
        &self,
        io: &mut StageIo<'_>,
        sent: &mut [ArpSent],
        pkt: &Packet,
        h: &V4,
        own: &Own,
    ) -> Result<EthernetAddress, DropId> {
        if h.ttl <= 1 {
            io.note(pkt, trace::TTL_EXPIRED, u64::from(h.ttl));
            return Err(TTL_EXPIRED);
        }
        let Some(hop) = own.ext.next_hop(u32::from(h.dst)) else {
            return Err(NO_GATEWAY);
        };
        io.note(pkt, trace::NEXT_HOP, u64::from(hop));
        let hop = Ipv4Addr::from(hop);
        let Some(mac) = self.neighbours.lookup(own.ext.key, hop) else {
            self.resolve(io, sent, pkt, own, hop);
            return Err(NEIGHBOUR_UNRESOLVED);
        };
        io.note(pkt, trace::NEXT_HOP_MAC, mac_u64(mac));
        Ok(mac)
    }

    /// SNAT of a packet from a VM without a floating IP: every drop is
    /// decided before a port is claimed.
    fn snat_egress(
        &self,
        io: &mut StageIo<'_>,
        sent: &mut [ArpSent],
        mut pkt: Packet,
        h: &V4,
        snat: &SnatTables,
    ) {
        let own = snat.own;
        io.note(&pkt, trace::SNAT_IP, u64::from(u32::from(own.ip)));
        if !h.first {
            return io.drop(pkt, FRAGMENT);
        }
        if h.l4 == L4::IcmpError {
            return self.snat_error_egress(io, sent, pkt, h, snat);
        }
        let Some(class) = class_of(h.l4, true) else {
            return io.drop(pkt, SNAT_UNSUPPORTED);
        };
        let mac = match self.next_hop_mac(io, sent, &pkt, h, &own) {
            Ok(mac) => mac,
            Err(reason) => return io.drop(pkt, reason),
        };
        let m = Mapping {
            flow: Flow {
                vm_ip: h.src,
                vm_port: h.sport,
                remote_ip: h.dst,
                remote_port: if class == Class::Icmp { 0 } else { h.dport },
                port_key: pkt.reg(self.regs.src),
                network_key: pkt.reg(self.regs.net),
            },
            vm_mac: h.eth_src,
            router_mac: h.eth_dst,
        };
        let Ok(ext_port) = snat.map.acquire(class, &m, io.now(), snat.timeout(class)) else {
            return io.drop(pkt, SNAT_EXHAUSTED);
        };
        io.note(&pkt, trace::SNAT_PORT, u64::from(ext_port));
        translate(pkt.data_mut(), h, Side::Src, own.ip, own.mac, mac);
        translate_port(pkt.data_mut(), h, Side::Src, ext_port);
        pkt.set_reg(self.regs.net, own.ext.key);
        pkt.set_reg(self.regs.src, own.port_key);
        io.send(EXTERNAL, pkt);
    }

    /// SNAT of an ICMP error a VM sends about a packet it received through
    /// SNAT: the quote's connection (remote -> VM) must hold a live mapping
    /// (found, not refreshed); the outer source and the quoted destination
    /// and port become the external address and port.
    fn snat_error_egress(
        &self,
        io: &mut StageIo<'_>,
        sent: &mut [ArpSent],
        mut pkt: Packet,
        h: &V4,
        snat: &SnatTables,
    ) {
        let (own, q) = (snat.own, &h.q);
        io.note(&pkt, trace::QUOTED_DST, u64::from(u32::from(q.dst)));
        let Some(class) = class_of(q.l4, false).filter(|_| q.dst == h.src) else {
            return io.drop(pkt, SNAT_NO_MAPPING);
        };
        io.note(&pkt, trace::QUOTED_PORT, u64::from(q.dport));
        let flow = Flow {
            vm_ip: q.dst,
            vm_port: q.dport,
            remote_ip: q.src,
            remote_port: if class == Class::Icmp { 0 } else { q.sport },
            port_key: pkt.reg(self.regs.src),
            network_key: pkt.reg(self.regs.net),
        };
        let Some(ext_port) = snat.map.find(class, &flow, io.now(), snat.timeout(class)) else {
            return io.drop(pkt, SNAT_NO_MAPPING);
        };
        let mac = match self.next_hop_mac(io, sent, &pkt, h, &own) {
            Ok(mac) => mac,
            Err(reason) => return io.drop(pkt, reason),
        };
        io.note(&pkt, trace::SNAT_PORT, u64::from(ext_port));
        translate(pkt.data_mut(), h, Side::Src, own.ip, own.mac, mac);
        translate_quoted(pkt.data_mut(), q, Side::Dst, own.ip, Some(ext_port));
        io.note(&pkt, trace::ICMP_ERROR_TRANSLATED, u64::from(q.kind));
        pkt.set_reg(self.regs.net, own.ext.key);
        pkt.set_reg(self.regs.src, own.port_key);
        io.send(EXTERNAL, pkt);
    }

    /// Answers `pkt` (to our floating IP `own`, TTL 0 or 1) with an ICMP
    /// time exceeded from `own`, back out `external` to its Ethernet source,
    /// unless it is an ICMP error, a non-first fragment, from a non-unicast
    /// source, or over the stage's rate. The caller drops `pkt`.
    #[cold]
    fn time_exceeded(
        &self,
        io: &mut StageIo<'_>,
        bucket: &mut TokenBucket,
        pkt: &Packet,
        h: &V4,
        own: &Own,
    ) {
        let to = u64::from(u32::from(h.src));
        let unicast = !(h.src.is_unspecified()
            || h.src.is_broadcast()
            || h.src.is_multicast()
            || h.src.is_loopback())
            && h.eth_src.is_unicast();
        if h.l4 == L4::IcmpError || !h.first || !unicast {
            io.note(pkt, trace::TIME_EXCEEDED_SUPPRESSED, to);
            return;
        }
        if !bucket.admit(io.now(), self.t.time_exceeded) {
            io.note(pkt, trace::TIME_EXCEEDED_RATE_LIMITED, to);
            return;
        }
        let Some(mut e) = io.alloc() else {
            // The pool is empty (counted as `no-buffer`).
            io.note(pkt, trace::TIME_EXCEEDED_NO_BUFFER, to);
            return;
        };
        if !build_time_exceeded(&mut e, pkt.data(), h, own) {
            // A fresh buffer always holds the 110 bytes at most.
            io.note(pkt, trace::TIME_EXCEEDED_NO_BUFFER, to);
            return io.drop(e, TTL_EXPIRED);
        }
        // The reply follows its packet's trace.
        let m = *pkt.meta();
        e.meta_mut().flags = m.flags;
        e.meta_mut().trace_id = m.trace_id;
        e.set_reg(self.regs.net, own.ext.key);
        e.set_reg(self.regs.src, own.port_key);
        io.note(pkt, trace::TIME_EXCEEDED_SENT, to);
        io.note(&e, trace::TIME_EXCEEDED_SENT, to);
        io.send(EXTERNAL, e);
    }

    /// Sends an ARP request for `hop` from our address `own` unless one
    /// went less than the interval ago.
    #[cold]
    fn resolve(
        &self,
        io: &mut StageIo<'_>,
        sent: &mut [ArpSent],
        pkt: &Packet,
        own: &Own,
        hop: Ipv4Addr,
    ) {
        let (net, ip) = (own.ext.key, u32::from(hop));
        if !arp_allowed(sent, net, ip, io.now(), self.t.arp_interval) {
            io.note(pkt, trace::ARP_RATE_LIMITED, u64::from(ip));
            return;
        }
        io.note(pkt, trace::ARP_REQUEST, u64::from(ip));
        // None: the pool is empty, counted as `no-buffer`.
        let Some(mut req) = io.alloc() else {
            return;
        };
        if !build_arp_request(&mut req, own, hop) {
            // A fresh buffer always holds 42 bytes.
            io.drop(req, NEIGHBOUR_UNRESOLVED);
            return;
        }
        // The request follows its packet's trace.
        let m = *pkt.meta();
        req.meta_mut().flags = m.flags;
        req.meta_mut().trace_id = m.trace_id;
        req.set_reg(self.regs.net, net);
        req.set_reg(self.regs.src, own.port_key);
        io.send(EXTERNAL, req);
    }

    fn ingress(&self, batch: &mut Batch, io: &mut StageIo<'_>, bucket: &mut TokenBucket) {
        let t = self.t;
        for mut pkt in batch.drain() {
            let port = pkt.reg(self.regs.dst);
            io.note(&pkt, trace::FLOATING_PORT, u64::from(port));
            let fip = t.by_floating_port(port);
            let snat = t.snat().filter(|s| s.own.port_key == port);
            let own = match (fip, snat) {
                (Some(f), _) => f.own(),
                (None, Some(s)) => s.own,
                (None, None) => {
                    io.drop(pkt, NO_FLOATING_IP);
                    continue;
                }
            };
            let ethertype = match EthernetFrame::new_checked(pkt.data()) {
                Ok(eth) => eth.ethertype(),
                Err(_) => {
                    io.drop(pkt, MALFORMED);
                    continue;
                }
            };
            if ethertype == EtherType::Arp {
                self.learn(io, pkt, &own);
                continue;
            }
            let h = match parse_v4(pkt.data()) {
                None => {
                    io.drop(pkt, NOT_FOR_FLOATING_IP);
                    continue;
                }
                Some(Err(Bad::Malformed)) => {
                    io.drop(pkt, MALFORMED);
                    continue;
                }
                Some(Err(Bad::IcmpError)) => {
                    io.drop(pkt, ICMP_ERROR);
                    continue;
                }
                Some(Ok(h)) => h,
            };
            if h.dst != own.ip {
                io.drop(pkt, NOT_FOR_FLOATING_IP);
                continue;
            }
            if h.ttl <= 1 {
                io.note(&pkt, trace::TTL_EXPIRED, u64::from(h.ttl));
                if fip.is_some() {
                    self.time_exceeded(io, bucket, &pkt, &h, &own);
                }
                io.drop(pkt, TTL_EXPIRED);
                continue;
            }
            let fip = match (fip, snat) {
                (Some(f), _) => f,
                (None, Some(s)) => {
                    self.snat_ingress(io, pkt, &h, s);
                    continue;
                }
                (None, None) => {
                    io.drop(pkt, NO_FLOATING_IP);
                    continue;
                }
            };
            io.note(
                &pkt,
                trace::FLOATING_IP,
                u64::from(u32::from(fip.floating_ip)),
            );
            let error = h.l4 == L4::IcmpError;
            if error {
                // About a packet the VM sent: from the floating IP.
                io.note(&pkt, trace::QUOTED_SRC, u64::from(u32::from(h.q.src)));
                if h.q.src != fip.floating_ip {
                    io.drop(pkt, NOT_FOR_FLOATING_IP);
                    continue;
                }
            }
            io.note(&pkt, trace::FIXED_IP, u64::from(u32::from(fip.fixed_ip)));
            translate(
                pkt.data_mut(),
                &h,
                Side::Dst,
                fip.fixed_ip,
                fip.router_mac,
                fip.mac,
            );
            if error {
                translate_quoted(pkt.data_mut(), &h.q, Side::Src, fip.fixed_ip, None);
                io.note(&pkt, trace::ICMP_ERROR_TRANSLATED, u64::from(h.q.kind));
            }
            pkt.set_reg(self.regs.net, fip.network_key);
            pkt.set_reg(self.regs.dst, fip.port_key);
            pkt.set_reg(self.regs.src, fip.floating_port_key);
            io.send(INTERNAL, pkt);
        }
    }

    /// SNAT of a reply to the chassis' external address: the mapping of its
    /// destination port (identifier), if live and for this remote end.
    fn snat_ingress(&self, io: &mut StageIo<'_>, mut pkt: Packet, h: &V4, snat: &SnatTables) {
        io.note(&pkt, trace::SNAT_IP, u64::from(u32::from(h.dst)));
        if !h.first {
            return io.drop(pkt, FRAGMENT);
        }
        if h.l4 == L4::IcmpError {
            return self.snat_error_ingress(io, pkt, h, snat);
        }
        let Some(class) = class_of(h.l4, false) else {
            return io.drop(pkt, SNAT_UNSUPPORTED);
        };
        io.note(&pkt, trace::SNAT_PORT, u64::from(h.dport));
        let (remote, rport) = (h.src, h.sport);
        let m = snat.map.lookup(
            class,
            h.dport,
            |m| from_remote(m, class, remote, rport),
            io.now(),
            snat.timeout(class),
        );
        let Some(m) = m else {
            return io.drop(pkt, SNAT_NO_MAPPING);
        };
        io.note(&pkt, trace::SNAT_VM_IP, u64::from(u32::from(m.flow.vm_ip)));
        translate(
            pkt.data_mut(),
            h,
            Side::Dst,
            m.flow.vm_ip,
            m.router_mac,
            m.vm_mac,
        );
        translate_port(pkt.data_mut(), h, Side::Dst, m.flow.vm_port);
        self.to_vm(io, pkt, &m, snat);
    }

    /// SNAT of an ICMP error to the chassis' external address about a packet
    /// a VM sent through SNAT: the quote's source must be the external
    /// address and its source port (identifier) a live mapping (looked up,
    /// not refreshed) to the quote's destination; the outer destination and
    /// the quoted source and port are translated back to the VM's.
    fn snat_error_ingress(&self, io: &mut StageIo<'_>, mut pkt: Packet, h: &V4, snat: &SnatTables) {
        let q = &h.q;
        io.note(&pkt, trace::QUOTED_SRC, u64::from(u32::from(q.src)));
        let Some(class) = class_of(q.l4, true).filter(|_| q.src == snat.own.ip) else {
            return io.drop(pkt, SNAT_NO_MAPPING);
        };
        io.note(&pkt, trace::QUOTED_PORT, u64::from(q.sport));
        let (remote, rport) = (q.dst, q.dport);
        let m = snat.map.peek(
            class,
            q.sport,
            |m| from_remote(m, class, remote, rport),
            io.now(),
            snat.timeout(class),
        );
        let Some(m) = m else {
            return io.drop(pkt, SNAT_NO_MAPPING);
        };
        io.note(&pkt, trace::SNAT_VM_IP, u64::from(u32::from(m.flow.vm_ip)));
        translate(
            pkt.data_mut(),
            h,
            Side::Dst,
            m.flow.vm_ip,
            m.router_mac,
            m.vm_mac,
        );
        translate_quoted(
            pkt.data_mut(),
            q,
            Side::Src,
            m.flow.vm_ip,
            Some(m.flow.vm_port),
        );
        io.note(&pkt, trace::ICMP_ERROR_TRANSLATED, u64::from(q.kind));
        self.to_vm(io, pkt, &m, snat);
    }

    /// Sends a translated SNAT reply on to the VM of mapping `m`, in its
    /// network, as if from the SNAT address's port.
    fn to_vm(&self, io: &mut StageIo<'_>, mut pkt: Packet, m: &Mapping, snat: &SnatTables) {
        pkt.set_reg(self.regs.net, m.flow.network_key);
        pkt.set_reg(self.regs.dst, m.flow.port_key);
        pkt.set_reg(self.regs.src, snat.own.port_key);
        io.send(INTERNAL, pkt);
    }

    /// Learns the sender of an ARP message to our address `own` (when it is
    /// an on-link unicast neighbour) and consumes the message.
    fn learn(&self, io: &mut StageIo<'_>, pkt: Packet, own: &Own) {
        let arp = EthernetFrame::new_checked(pkt.data())
            .and_then(|eth| ArpRepr::parse(&ArpPacket::new_unchecked(eth.payload())));
        let Ok(arp) = arp else {
            return io.drop(pkt, MALFORMED);
        };
        let (ip, mac) = (arp.source_protocol_addr, arp.source_hardware_addr);
        let ext = own.ext;
        let ok = !ip.is_unspecified()
            && ip != own.ip
            && ext.on_link(u32::from(ip))
            && mac.is_unicast()
            && mac != EthernetAddress::default()
            && self.neighbours.learn(ext.key, ip, mac);
        if ok {
            io.note(&pkt, trace::LEARNED_IP, u64::from(u32::from(ip)));
            io.note(&pkt, trace::LEARNED_MAC, mac_u64(mac));
        } else {
            io.note(&pkt, trace::NOT_LEARNED, u64::from(u32::from(ip)));
        }
        io.drop(pkt, ARP_CONSUMED);
    }
}

impl Stage for NatStage {
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let cx = Ctx {
            regs: self.regs,
            t: self.tables.read(io.rcu()),
            neighbours: &self.neighbours,
        };
        if entry == EGRESS {
            cx.egress(batch, io, &mut self.arp_sent);
        } else {
            cx.ingress(batch, io, &mut self.time_exceeded);
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod snat_tests;

#[cfg(test)]
mod icmp_tests;
