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

use std::net::Ipv4Addr;
use std::sync::Arc;

use df_dp::{Batch, EntryId, ExitId, Packet, RcuCell, RegSlot, Stage, StageIo};
use df_wire::checksum::{update_ipv4_addr, update_u16};
use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
    Icmpv4Packet, IpProtocol, Ipv4Packet, TcpPacket, UdpPacket, ARP_ETHERNET_IPV4_LEN,
    ETHERNET_HEADER_LEN,
};

use crate::counters::{
    ARP_CONSUMED, ICMP_ERROR, MALFORMED, NEIGHBOUR_UNRESOLVED, NOT_FOR_FLOATING_IP, NOT_IPV4,
    NO_FLOATING_IP, NO_GATEWAY, TTL_EXPIRED,
};
use crate::neigh::NeighbourCache;
use crate::tables::{Fip, NatTables};
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

/// The IPv4 fields translation needs, read once from a checked header.
#[derive(Debug, Clone, Copy)]
struct V4 {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    proto: IpProtocol,
    /// The checksum to patch after the address: TCP or UDP of a first
    /// fragment.
    l4: L4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum L4 {
    None,
    Tcp,
    Udp,
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
    let l4 = match proto {
        _ if !first => L4::None,
        IpProtocol::Tcp => match TcpPacket::new_checked(ip.payload()) {
            Ok(_) => L4::Tcp,
            Err(_) => return Some(Err(Bad::Malformed)),
        },
        IpProtocol::Udp => match UdpPacket::new_checked(ip.payload()) {
            Ok(_) => L4::Udp,
            Err(_) => return Some(Err(Bad::Malformed)),
        },
        IpProtocol::Icmp => match Icmpv4Packet::new_checked(ip.payload()) {
            Ok(icmp) if icmp.is_error() => return Some(Err(Bad::IcmpError)),
            Ok(_) => L4::None,
            Err(_) => return Some(Err(Bad::Malformed)),
        },
        _ => L4::None,
    };
    Some(Ok(V4 {
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        ttl: ip.ttl(),
        proto,
        l4,
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
        L4::None => {}
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

/// Writes the ARP request "who has `target`? tell (Mf, P)" from the
/// floating port of `fip` into `pkt` (a fresh buffer); false when it has no
/// room.
fn build_arp_request(pkt: &mut Packet, fip: &Fip, target: Ipv4Addr) -> bool {
    let Some(buf) = pkt.append(ETH + ARP_ETHERNET_IPV4_LEN) else {
        return false;
    };
    let mut eth = EthernetFrame::new_unchecked(buf);
    EthernetRepr {
        src_addr: fip.floating_mac,
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EtherType::Arp,
    }
    .emit(&mut eth);
    ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: fip.floating_mac,
        source_protocol_addr: fip.floating_ip,
        target_hardware_addr: EthernetAddress::default(),
        target_protocol_addr: target,
    }
    .emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
    true
}

fn mac_u64(m: EthernetAddress) -> u64 {
    m.0.iter().fold(0, |w, &b| (w << 8) | u64::from(b))
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
            io.note(&pkt, trace::FROM_NETWORK, u64::from(pkt.reg(self.regs.net)));
            io.note(&pkt, trace::SOURCE_IP, u64::from(u32::from(h.src)));
            let Some(fip) = t.by_source(port, u32::from(h.src)) else {
                io.drop(pkt, NO_FLOATING_IP);
                continue;
            };
            io.note(
                &pkt,
                trace::FLOATING_IP,
                u64::from(u32::from(fip.floating_ip)),
            );
            if h.ttl <= 1 {
                io.note(&pkt, trace::TTL_EXPIRED, u64::from(h.ttl));
                io.drop(pkt, TTL_EXPIRED);
                continue;
            }
            let ext = fip.ext;
            let Some(hop) = ext.next_hop(u32::from(h.dst)) else {
                io.drop(pkt, NO_GATEWAY);
                continue;
            };
            io.note(&pkt, trace::NEXT_HOP, u64::from(hop));
            let hop = Ipv4Addr::from(hop);
            let Some(mac) = self.neighbours.lookup(ext.key, hop) else {
                self.resolve(io, sent, &pkt, fip, hop);
                io.drop(pkt, NEIGHBOUR_UNRESOLVED);
                continue;
            };
            io.note(&pkt, trace::NEXT_HOP_MAC, mac_u64(mac));
            translate(
                pkt.data_mut(),
                &h,
                Side::Src,
                fip.floating_ip,
                fip.floating_mac,
                mac,
            );
            pkt.set_reg(self.regs.net, ext.key);
            pkt.set_reg(self.regs.src, fip.floating_port_key);
            io.send(EXTERNAL, pkt);
        }
    }

    /// Sends an ARP request for `hop` out of `fip`'s floating port unless
    /// one went less than the interval ago.
    #[cold]
    fn resolve(
        &self,
        io: &mut StageIo<'_>,
        sent: &mut [ArpSent],
        pkt: &Packet,
        fip: &Fip,
        hop: Ipv4Addr,
    ) {
        let (net, ip) = (fip.ext.key, u32::from(hop));
        if !arp_allowed(sent, net, ip, io.now(), self.t.arp_interval) {
            io.note(pkt, trace::ARP_RATE_LIMITED, u64::from(ip));
            return;
        }
        io.note(pkt, trace::ARP_REQUEST, u64::from(ip));
        // None: the pool is empty, counted as `no-buffer`.
        let Some(mut req) = io.alloc() else {
            return;
        };
        if !build_arp_request(&mut req, fip, hop) {
            // A fresh buffer always holds 42 bytes.
            io.drop(req, NEIGHBOUR_UNRESOLVED);
            return;
        }
        // The request follows its packet's trace.
        let m = *pkt.meta();
        req.meta_mut().flags = m.flags;
        req.meta_mut().trace_id = m.trace_id;
        req.set_reg(self.regs.net, net);
        req.set_reg(self.regs.src, fip.floating_port_key);
        io.send(EXTERNAL, req);
    }

    fn ingress(&self, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.t;
        for mut pkt in batch.drain() {
            let port = pkt.reg(self.regs.dst);
            io.note(&pkt, trace::FLOATING_PORT, u64::from(port));
            let Some(fip) = t.by_floating_port(port) else {
                io.drop(pkt, NO_FLOATING_IP);
                continue;
            };
            let ethertype = match EthernetFrame::new_checked(pkt.data()) {
                Ok(eth) => eth.ethertype(),
                Err(_) => {
                    io.drop(pkt, MALFORMED);
                    continue;
                }
            };
            if ethertype == EtherType::Arp {
                self.learn(io, pkt, fip);
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
            if h.dst != fip.floating_ip {
                io.drop(pkt, NOT_FOR_FLOATING_IP);
                continue;
            }
            io.note(
                &pkt,
                trace::FLOATING_IP,
                u64::from(u32::from(fip.floating_ip)),
            );
            if h.ttl <= 1 {
                io.note(&pkt, trace::TTL_EXPIRED, u64::from(h.ttl));
                io.drop(pkt, TTL_EXPIRED);
                continue;
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
            pkt.set_reg(self.regs.net, fip.network_key);
            pkt.set_reg(self.regs.dst, fip.port_key);
            pkt.set_reg(self.regs.src, fip.floating_port_key);
            io.send(INTERNAL, pkt);
        }
    }

    /// Learns the sender of an ARP message to `fip`'s port (when it is an
    /// on-link unicast neighbour) and consumes the message.
    fn learn(&self, io: &mut StageIo<'_>, pkt: Packet, fip: &Fip) {
        let arp = EthernetFrame::new_checked(pkt.data())
            .and_then(|eth| ArpRepr::parse(&ArpPacket::new_unchecked(eth.payload())));
        let Ok(arp) = arp else {
            return io.drop(pkt, MALFORMED);
        };
        let (ip, mac) = (arp.source_protocol_addr, arp.source_hardware_addr);
        let ext = fip.ext;
        let ok = !ip.is_unspecified()
            && ip != fip.floating_ip
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
