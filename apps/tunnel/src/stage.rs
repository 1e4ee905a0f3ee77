//! `tunnel`'s hot path.
//!
//! **encap**: one hash probe by destination port key gives a remote port
//! (one chassis) or a flood key (every remote chassis of a network). The
//! UDP source port is hashed once from the inner flow (MACs, EtherType, IP
//! addresses and protocol, TCP/UDP/SCTP ports of an unfragmented packet;
//! never fields that change within a flow) so that the underlay's ECMP
//! spreads flows and keeps each in order. Each copy gets the chassis'
//! 50-byte template prepended (no copy of the frame) with the lengths, the
//! IPv4 checksum (incrementally), the source port and the VNI patched, and
//! is transmitted on the underlay port. Flood copies are cloned from the
//! inner frame before it is encapsulated; the last chassis gets the
//! original.
//!
//! **decap**: the outer headers are checked with df-wire views (dst MAC,
//! IPv4 header and checksum, no fragment, dst IP, UDP length and port,
//! Geneve or VXLAN header), the network found by (encapsulation, VNI), and
//! the outer headers removed by moving the frame start (`adj`, no copy) and
//! trimming anything after the UDP payload. ARP requests for the local
//! tunnel IP are turned into the reply in place and sent back out of the
//! port.

use std::sync::Arc;

use df_dp::{Batch, DropId, EntryId, ExitId, Packet, RcuCell, RegSlot, Stage, StageIo};
use df_wire::checksum::update_u16;
use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, GenevePacket,
    IpProtocol, Ipv4Packet, Ipv6Packet, UdpPacket, VxlanPacket, ETHERNET_HEADER_LEN,
    GENEVE_UDP_PORT, IPV4_HEADER_LEN, UDP_HEADER_LEN, VXLAN_UDP_PORT,
};

use crate::config::TunnelKind;
use crate::counters::{
    BAD_GENEVE, BAD_OUTER, BAD_VXLAN, NOT_FOR_US, NO_HEADROOM, NO_REMOTE_CHASSIS, NO_UNDERLAY,
    RUNT, UNKNOWN_DESTINATION, UNKNOWN_PORT, UNKNOWN_VNI,
};
use crate::tables::{
    vni_key, Chassis, Dest, Local, Network, TunnelTables, ENCAP_LEN, IP_OFF, TUN_OFF, UDP_OFF,
};
use crate::trace::{
    ARP_REPLY, DESTINATION, FLOOD_COPIES, NETWORK, NO_NETWORK_FOR_VNI, SOURCE_PORT, TO_CHASSIS, VNI,
};

const ENCAP: EntryId = EntryId(0);
const DECAP: ExitId = ExitId(0);

/// First port of the dynamic range the UDP source port is taken from
/// (RFC 8926 §3.3, RFC 7348 §5: 49152..=65535).
const SPORT_BASE: u16 = 49152;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) net: RegSlot,
    pub(crate) dst: RegSlot,
}

/// The `tunnel` stage of one worker.
#[derive(Debug)]
pub struct TunnelStage {
    regs: Regs,
    tables: Arc<RcuCell<TunnelTables>>,
}

impl TunnelStage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<TunnelTables>>) -> Self {
        TunnelStage { regs, tables }
    }
}

/// One round of a multiply-rotate mix (as in FxHash).
#[inline(always)]
fn mix(h: u64, v: u64) -> u64 {
    (h.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// Folds 1 to 8 bytes into a word (missing bytes count as 0).
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    b.iter().take(8).fold(0u64, |w, &x| (w << 8) | u64::from(x))
}

/// The protocol and, for TCP, UDP and SCTP, the two ports, as one word.
#[inline(always)]
fn l4_word(proto: IpProtocol, l4: &[u8]) -> u64 {
    let ports = match proto {
        IpProtocol::Tcp | IpProtocol::Udp | IpProtocol::Sctp => l4.get(..4).map_or(0, word),
        _ => 0,
    };
    (u64::from(u8::from(proto)) << 32) | ports
}

/// The UDP source port for an inner frame: 49152 + a hash of its flow
/// fields modulo 16384. Cheap (a handful of multiplies), stable within a
/// flow, total on any bytes.
#[inline]
fn source_port(frame: &[u8]) -> u16 {
    // The common case, read at fixed offsets: untagged IPv4 without
    // options whose total length fits the frame (what the checked views
    // below accept; the same words go into the hash).
    if let Some(f) = frame.first_chunk::<34>() {
        let total = usize::from(u16::from_be_bytes([f[16], f[17]]));
        if f[12..14] == [0x08, 0x00] && f[14] == 0x45 && total >= 20 && 14 + total <= frame.len() {
            let mut h = mix(0, word(&f[..12]));
            h = mix(h, word(&f[8..14]));
            let s = u32::from_be_bytes([f[26], f[27], f[28], f[29]]);
            let d = u32::from_be_bytes([f[30], f[31], f[32], f[33]]);
            h = mix(h, (u64::from(s) << 32) | u64::from(d));
            let fragment = u16::from_be_bytes([f[20], f[21]]) & 0x3fff != 0;
            let l4 = if fragment {
                &[][..]
            } else {
                &frame[34..14 + total]
            };
            h = mix(h, l4_word(IpProtocol::from(f[23]), l4));
            return fold(h);
        }
    }
    source_port_parsed(frame)
}

/// [`source_port`] through the checked views, for any frame.
fn source_port_parsed(frame: &[u8]) -> u16 {
    let mut h = mix(0, word(frame.get(..12).unwrap_or(frame)));
    h = mix(h, word(frame.get(8..14).unwrap_or(&[])));
    if let Ok(eth) = EthernetFrame::new_checked(frame) {
        match eth.ethertype() {
            EtherType::Ipv4 => {
                if let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) {
                    let (s, d) = (u32::from(ip.src_addr()), u32::from(ip.dst_addr()));
                    h = mix(h, (u64::from(s) << 32) | u64::from(d));
                    let l4 = if ip.is_fragment() {
                        &[][..]
                    } else {
                        ip.payload()
                    };
                    h = mix(h, l4_word(ip.protocol(), l4));
                }
            }
            EtherType::Ipv6 => {
                if let Ok(ip) = Ipv6Packet::new_checked(eth.payload()) {
                    let (s, d) = (u128::from(ip.src_addr()), u128::from(ip.dst_addr()));
                    h = mix(h, (s >> 64) as u64);
                    h = mix(h, s as u64);
                    h = mix(h, (d >> 64) as u64);
                    h = mix(h, d as u64);
                    h = mix(h, l4_word(ip.next_header(), ip.payload()));
                }
            }
            _ => {}
        }
    }
    fold(h)
}

/// The port for hash `h`: its high bits (the best mixed) folded into the
/// low 14, in the dynamic range.
#[inline(always)]
fn fold(h: u64) -> u16 {
    let folded = (h >> 50) ^ (h >> 36) ^ (h >> 22);
    SPORT_BASE + (folded & 0x3fff) as u16
}

/// Prepends `tpl` with the per-frame fields patched; false (frame
/// untouched) when the headroom is too small.
#[inline]
fn encapsulate(
    pkt: &mut Packet,
    tpl: &[u8; ENCAP_LEN],
    vni: u32,
    kind: TunnelKind,
    sport: u16,
) -> bool {
    let inner = pkt.len();
    let Some(h) = pkt.prepend(ENCAP_LEN) else {
        return false;
    };
    h.copy_from_slice(tpl);
    // Frames are at most a buffer (a few KiB): these fit in u16.
    let ip_len = (inner + ENCAP_LEN - IP_OFF) as u16;
    let udp_len = (inner + ENCAP_LEN - UDP_OFF) as u16;
    let mut ip = Ipv4Packet::new_unchecked(&mut h[IP_OFF..UDP_OFF]);
    let sum = ip.checksum();
    ip.set_total_len(ip_len);
    ip.set_checksum(update_u16(sum, IPV4_HEADER_LEN as u16, ip_len));
    let mut udp = UdpPacket::new_unchecked(&mut h[UDP_OFF..TUN_OFF]);
    udp.set_src_port(sport);
    udp.set_len(udp_len);
    match kind {
        TunnelKind::Geneve => GenevePacket::new_unchecked(&mut h[TUN_OFF..]).set_vni(vni),
        TunnelKind::Vxlan => VxlanPacket::new_unchecked(&mut h[TUN_OFF..]).set_vni(vni),
    }
    true
}

/// Encapsulates `pkt` for chassis `c` of network `n` and transmits it.
#[inline]
fn send_to(
    io: &mut StageIo<'_>,
    mut pkt: Packet,
    local: &Local,
    t: &TunnelTables,
    c: u32,
    n: &Network,
    sport: u16,
) {
    let Some(ch): Option<&Chassis> = t.chassis.get(c as usize) else {
        // Tables index only existing chassis (checked when built).
        return io.drop(pkt, UNKNOWN_DESTINATION);
    };
    io.note(&pkt, TO_CHASSIS, u64::from(c));
    if !encapsulate(
        &mut pkt,
        &ch.templates[n.kind as usize],
        n.vni,
        n.kind,
        sport,
    ) {
        return io.drop(pkt, NO_HEADROOM);
    }
    io.tx(local.port, pkt);
}

/// What decap makes of an underlay frame.
enum Decap {
    /// Answer this ARP request in place.
    ArpReply(ArpRepr),
    /// A tunnelled frame: the inner frame is `len` bytes at `offset`.
    Inner {
        offset: usize,
        len: usize,
        network: u32,
        /// The network's flood key: the frame's source port key.
        flood: u32,
        vni: u32,
    },
    /// Drop, noting `value` under `note` when there is one.
    Drop(DropId, Option<(&'static str, u64)>),
}

const fn drop(reason: DropId) -> Decap {
    Decap::Drop(reason, None)
}

/// Classifies an underlay frame; reads only what each check made safe.
#[inline]
fn classify(data: &[u8], local: &Local, t: &TunnelTables) -> Decap {
    let Ok(eth) = EthernetFrame::new_checked(data) else {
        return drop(RUNT);
    };
    let dst = eth.dst_addr();
    if dst != local.mac && !dst.is_multicast() {
        return drop(NOT_FOR_US);
    }
    match eth.ethertype() {
        EtherType::Ipv4 => {}
        EtherType::Arp => {
            return match ArpPacket::new_checked(eth.payload()).and_then(|a| ArpRepr::parse(&a)) {
                Ok(arp)
                    if arp.operation == ArpOperation::Request
                        && arp.target_protocol_addr == local.ip =>
                {
                    Decap::ArpReply(arp)
                }
                _ => drop(NOT_FOR_US),
            };
        }
        _ => return drop(NOT_FOR_US),
    }
    let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
        return drop(BAD_OUTER);
    };
    if ip.version() != 4 || !ip.verify_checksum() || ip.is_fragment() {
        return drop(BAD_OUTER);
    }
    if ip.dst_addr() != local.ip || ip.protocol() != IpProtocol::Udp {
        return drop(NOT_FOR_US);
    }
    let Ok(udp) = UdpPacket::new_checked(ip.payload()) else {
        return drop(BAD_OUTER);
    };
    let (kind, vni, tun_len) = match udp.dst_port() {
        GENEVE_UDP_PORT => {
            let Ok(g) = GenevePacket::new_checked(udp.payload()) else {
                return drop(BAD_GENEVE);
            };
            if g.version() != 0
                || g.oam()
                || g.critical()
                || g.protocol_type() != EtherType::TransEtherBridging
            {
                return drop(BAD_GENEVE);
            }
            (TunnelKind::Geneve, g.vni(), g.header_len())
        }
        VXLAN_UDP_PORT => match VxlanPacket::new_checked(udp.payload()) {
            Ok(v) if v.has_vni() => (TunnelKind::Vxlan, v.vni(), df_wire::VXLAN_HEADER_LEN),
            _ => return drop(BAD_VXLAN),
        },
        _ => return drop(NOT_FOR_US),
    };
    let key = vni_key(kind, vni);
    let Some(&(network, flood)) = t.vnis.get(&key) else {
        return Decap::Drop(UNKNOWN_VNI, Some((NO_NETWORK_FOR_VNI, u64::from(key))));
    };
    // The checked views guarantee header_len <= payload lengths.
    let len = udp.payload().len().saturating_sub(tun_len);
    if len < ETHERNET_HEADER_LEN {
        return drop(RUNT);
    }
    Decap::Inner {
        offset: ETHERNET_HEADER_LEN + usize::from(ip.header_len()) + UDP_HEADER_LEN + tun_len,
        len,
        network,
        flood,
        vni,
    }
}

/// Rewrites an ARP request for the local IP into its reply, in place.
#[inline]
fn arp_reply(pkt: &mut Packet, arp: &ArpRepr, local: &Local) {
    let mut eth = EthernetFrame::new_unchecked(pkt.data_mut());
    EthernetRepr {
        src_addr: local.mac,
        dst_addr: arp.source_hardware_addr,
        ethertype: EtherType::Arp,
    }
    .emit(&mut eth);
    // `classify` parsed a whole ARP packet from this payload.
    arp.reply(local.mac)
        .emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
}

impl TunnelStage {
    fn encap(&self, batch: &mut Batch, io: &mut StageIo<'_>, t: &TunnelTables) {
        for pkt in batch.drain() {
            let Some(local) = t.local.as_ref() else {
                io.drop(pkt, NO_UNDERLAY);
                continue;
            };
            let key = pkt.reg(self.regs.dst);
            io.note(&pkt, DESTINATION, u64::from(key));
            let dest = t.dests.get(&key).copied();
            let net = match dest {
                Some(Dest::Port { network, .. }) | Some(Dest::Flood { network }) => {
                    t.networks.get(network as usize)
                }
                None => None,
            };
            let (Some(dest), Some(n)) = (dest, net) else {
                io.drop(pkt, UNKNOWN_DESTINATION);
                continue;
            };
            let sport = source_port(pkt.data());
            io.note(&pkt, VNI, u64::from(n.vni));
            io.note(&pkt, SOURCE_PORT, u64::from(sport));
            match dest {
                Dest::Port { chassis, .. } => send_to(io, pkt, local, t, chassis, n, sport),
                Dest::Flood { .. } => {
                    let Some((&last, rest)) = n.chassis.split_last() else {
                        io.drop(pkt, NO_REMOTE_CHASSIS);
                        continue;
                    };
                    io.note(&pkt, FLOOD_COPIES, n.chassis.len() as u64);
                    for &c in rest {
                        // None: the pool is empty, counted as `no-buffer`.
                        if let Some(copy) = io.clone_packet(&pkt) {
                            send_to(io, copy, local, t, c, n, sport);
                        }
                    }
                    send_to(io, pkt, local, t, last, n, sport);
                }
            }
        }
    }

    fn decap(&self, batch: &mut Batch, io: &mut StageIo<'_>, t: &TunnelTables) {
        for mut pkt in batch.drain() {
            let Some(local) = t.local.as_ref() else {
                io.drop(pkt, NO_UNDERLAY);
                continue;
            };
            let in_port = pkt.meta().in_port;
            if in_port != local.port {
                io.drop(pkt, UNKNOWN_PORT);
                continue;
            }
            match classify(pkt.data(), local, t) {
                Decap::Inner {
                    offset,
                    len,
                    network,
                    flood,
                    vni,
                } => {
                    io.note(&pkt, VNI, u64::from(vni));
                    if !pkt.adj(offset) {
                        // Cannot happen: `classify` measured the frame.
                        io.drop(pkt, RUNT);
                        continue;
                    }
                    pkt.truncate(len);
                    // The source is "the rest of the overlay": l2's flood
                    // skips its source, so a flood from the overlay never
                    // goes back to it.
                    pkt.set_reg(self.regs.src, flood);
                    pkt.set_reg(self.regs.net, network);
                    io.note(&pkt, NETWORK, u64::from(network));
                    io.send(DECAP, pkt);
                }
                Decap::ArpReply(arp) => {
                    arp_reply(&mut pkt, &arp, local);
                    io.note(
                        &pkt,
                        ARP_REPLY,
                        u64::from(u32::from(arp.source_protocol_addr)),
                    );
                    io.tx(in_port, pkt);
                }
                Decap::Drop(reason, note) => {
                    if let Some((what, value)) = note {
                        io.note(&pkt, what, value);
                    }
                    io.drop(pkt, reason);
                }
            }
        }
    }
}

impl Stage for TunnelStage {
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.tables.read(io.rcu());
        if entry == ENCAP {
            self.encap(batch, io, t);
        } else {
            self.decap(batch, io, t);
        }
    }
}

#[cfg(test)]
mod tests;
