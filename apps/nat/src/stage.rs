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

use std::net::Ipv4Addr;
use std::sync::Arc;

use df_dp::{Batch, DropId, EntryId, ExitId, Packet, RcuCell, RegSlot, Stage, StageIo};
use df_wire::checksum::{update_ipv4_addr, update_u16};
use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
    Icmpv4Message, Icmpv4Packet, IpProtocol, Ipv4Packet, TcpPacket, UdpPacket,
    ARP_ETHERNET_IPV4_LEN, ETHERNET_HEADER_LEN,
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
    /// Fragment offset 0 (the transport header is here).
    first: bool,
    /// The transport header of a first fragment: which checksum to patch
    /// after the address, which ports SNAT maps.
    l4: L4,
    /// TCP/UDP source port; ICMP echo: the identifier; else 0.
    sport: u16,
    /// TCP/UDP destination port; ICMP echo: the identifier; else 0.
    dport: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum L4 {
    /// Another protocol, a non-first fragment, or ICMP other than echo.
    None,
    Tcp,
    Udp,
    EchoRequest,
    EchoReply,
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
            Ok(icmp) if icmp.is_error() => return Some(Err(Bad::IcmpError)),
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
        first,
        l4,
        sport,
        dport,
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
        L4::None | L4::EchoRequest | L4::EchoReply => {}
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
        L4::None => {}
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
            let own = fip.own();
            let mac = match self.next_hop_mac(io, sent, &pkt, &h, &own) {
                Ok(mac) => mac,
                Err(reason) => {
                    io.drop(pkt, reason);
                    continue;
                }
            };
            translate(pkt.data_mut(), &h, Side::Src, own.ip, own.mac, mac);
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

    fn ingress(&self, batch: &mut Batch, io: &mut StageIo<'_>) {
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
            io.note(&pkt, trace::FIXED_IP, u64::from(u32::from(fip.fixed_ip)));
            translate(
                pkt.data_mut(),
                &h,
                Side::Dst,
                fip.fixed_ip,
                fip.router_mac,
                fip.mac,
            );
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
        let Some(class) = class_of(h.l4, false) else {
            return io.drop(pkt, SNAT_UNSUPPORTED);
        };
        io.note(&pkt, trace::SNAT_PORT, u64::from(h.dport));
        let (remote, rport) = (h.src, h.sport);
        let m = snat.map.lookup(
            class,
            h.dport,
            |m| m.flow.remote_ip == remote && (class == Class::Icmp || m.flow.remote_port == rport),
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
            cx.ingress(batch, io);
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod snat_tests;
