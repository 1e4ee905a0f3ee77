//! The ARP and ND responders (Dragonflow's l2 tables 25 and 45): a request
//! for an address a port of the packet's network owns is answered in the
//! datapath, in the request's own buffer, and sent back to the requesting
//! port by `out.reply`.
//!
//! Only what a host would answer is answered: an ARP request (broadcast or
//! unicast, not a gratuitous ARP or probe) and a valid Neighbour
//! Solicitation (RFC 4861 §7.1.1: hop limit 255, checksum, non-multicast
//! target, DAD only to the solicited-node group and without a source
//! link-layer option). A DAD probe is answered only when another port owns
//! the address: that is the duplicate it detects. Everything else, and
//! every request for an address nobody here owns, goes on to the normal
//! FDB lookup or flood, untouched. Only packets from a logical port
//! (source port key non-zero) are answered: a reply to a physical network
//! or a tunnel has no port to go back to yet.

use std::net::Ipv6Addr;

use df_dp::{Packet, StageIo};
use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, ChecksumPolicy, EtherType, EthernetAddress, EthernetFrame,
    EthernetRepr, Icmpv6Message, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr,
    NdOptionsRepr, NdiscRepr, ARP_ETHERNET_IPV4_LEN, ETHERNET_HEADER_LEN, IPV6_HEADER_LEN,
};

use super::{Regs, REPLY};
use crate::tables::{arp_key, L2Tables};
use crate::trace::{ARP_PASS, ARP_REPLY, ND_PASS, ND_REPLY};

/// An Ethernet ARP reply, without padding.
const ARP_FRAME_LEN: usize = ETHERNET_HEADER_LEN + ARP_ETHERNET_IPV4_LEN;
/// A Neighbour Advertisement: ICMPv6 header, target, target link-layer option.
const NA_ICMP_LEN: usize = 24 + 8;
/// The whole advertisement frame.
const NA_FRAME_LEN: usize = ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + NA_ICMP_LEN;
/// ff02::1, where the answer to a DAD probe goes.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// The Ethernet group of ff02::1.
const ALL_NODES_MAC: EthernetAddress = EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);

// Why a request was not answered (the value of the `*_PASS` notes).
const ARP_GRATUITOUS: u64 = 1;
const ARP_NOT_REQUEST: u64 = 2;
const ARP_MULTICAST_DST: u64 = 3;
const UNKNOWN_TARGET_ARP: u64 = 4;
const ND_INVALID: u64 = 1;
const UNKNOWN_TARGET_ND: u64 = 2;
const ND_OWN_DAD: u64 = 3;
const ND_NO_ROOM: u64 = 4;
/// Same value in both notes.
const NOT_FROM_PORT: u64 = 5;

/// Answers `pkt` if it is an ARP request or Neighbour Solicitation for a
/// known address (then `None`: the reply has been sent); otherwise hands
/// it back unchanged for normal processing. The caller checked that the
/// frame holds an Ethernet header.
#[inline]
pub(super) fn answer(
    regs: Regs,
    t: &L2Tables,
    pkt: Packet,
    io: &mut StageIo<'_>,
) -> Option<Packet> {
    let ethertype = match pkt.data().get(12..14) {
        Some(&[hi, lo]) => EtherType::from(u16::from_be_bytes([hi, lo])),
        _ => return Some(pkt),
    };
    match ethertype {
        EtherType::Arp if !t.arp.is_empty() => arp(regs, t, pkt, io),
        EtherType::Ipv6 if !t.nd.is_empty() => nd(regs, t, pkt, io),
        _ => Some(pkt),
    }
}

/// Records why `pkt` was not answered and hands it back.
#[inline]
fn pass(io: &mut StageIo<'_>, pkt: Packet, what: &'static str, why: u64) -> Option<Packet> {
    io.note(&pkt, what, why);
    Some(pkt)
}

#[inline(never)]
fn arp(regs: Regs, t: &L2Tables, mut pkt: Packet, io: &mut StageIo<'_>) -> Option<Packet> {
    let (req, eth_src, eth_dst) = {
        let Ok(eth) = EthernetFrame::new_checked(pkt.data()) else {
            return Some(pkt);
        };
        let req = ArpPacket::new_checked(eth.payload()).and_then(|p| ArpRepr::parse(&p));
        (req, eth.src_addr(), eth.dst_addr())
    };
    let req = match req {
        Ok(r) if r.operation == ArpOperation::Request => r,
        _ => return pass(io, pkt, ARP_PASS, ARP_NOT_REQUEST),
    };
    if eth_dst.is_multicast() && !eth_dst.is_broadcast() {
        return pass(io, pkt, ARP_PASS, ARP_MULTICAST_DST);
    }
    let spa = req.source_protocol_addr;
    if spa.is_unspecified() || spa == req.target_protocol_addr {
        return pass(io, pkt, ARP_PASS, ARP_GRATUITOUS);
    }
    let src_port = pkt.reg(regs.src);
    if src_port == 0 {
        return pass(io, pkt, ARP_PASS, NOT_FROM_PORT);
    }
    let key = arp_key(pkt.reg(regs.net), u32::from(req.target_protocol_addr));
    let Some(&owner) = t.arp.get(&key) else {
        return pass(io, pkt, ARP_PASS, UNKNOWN_TARGET_ARP);
    };
    // The request parsed, so the frame holds at least ARP_FRAME_LEN bytes:
    // cutting the padding leaves exactly the reply's length.
    pkt.truncate(ARP_FRAME_LEN);
    let Some(buf) = pkt.data_mut().get_mut(..ARP_FRAME_LEN) else {
        return Some(pkt);
    };
    let mut frame = EthernetFrame::new_unchecked(buf);
    EthernetRepr {
        src_addr: owner.mac,
        dst_addr: eth_src,
        ethertype: EtherType::Arp,
    }
    .emit(&mut frame);
    req.reply(owner.mac)
        .emit(&mut ArpPacket::new_unchecked(frame.payload_mut()));
    pkt.set_reg(regs.dst, src_port);
    io.note(&pkt, ARP_REPLY, u64::from(owner.port_key));
    io.send(REPLY, pkt);
    None
}

/// What the advertisement needs from a solicitation.
#[derive(Debug, Clone, Copy)]
struct Solicit {
    eth_src: EthernetAddress,
    src: Ipv6Addr,
    target: Ipv6Addr,
}

#[derive(Debug, Clone, Copy)]
enum Parsed {
    /// Not a Neighbour Solicitation (most IPv6 traffic).
    Other,
    /// A solicitation no host would answer.
    Invalid,
    Solicit(Solicit),
}

/// The solicited-node multicast group of `a` (ff02::1:ffXX:XXXX).
fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15],
    ])
}

/// Reads an untagged Ethernet/IPv6 frame as a Neighbour Solicitation
/// without extension headers, validated as RFC 4861 §7.1.1 asks.
fn parse_solicit(data: &[u8]) -> Parsed {
    let Ok(eth) = EthernetFrame::new_checked(data) else {
        return Parsed::Other;
    };
    let Ok(ip) = Ipv6Packet::new_checked(eth.payload()) else {
        return Parsed::Other;
    };
    if ip.version() != 6 || ip.next_header() != IpProtocol::Icmpv6 {
        return Parsed::Other;
    }
    let Ok(icmp) = Icmpv6Packet::new_checked(ip.payload()) else {
        return Parsed::Other;
    };
    if icmp.msg_type() != Icmpv6Message::NeighborSolicit {
        return Parsed::Other;
    }
    if ip.hop_limit() != 255 {
        return Parsed::Invalid;
    }
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let Ok(Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit { target, options })) =
        Icmpv6Repr::parse(&icmp, &src, &dst, ChecksumPolicy::Verify)
    else {
        return Parsed::Invalid;
    };
    let to_group = dst == solicited_node(target);
    let dad = src.is_unspecified();
    if target.is_multicast()
        || (dst.is_multicast() && !to_group)
        || (dad && (!to_group || options.source_lladdr.is_some()))
    {
        return Parsed::Invalid;
    }
    Parsed::Solicit(Solicit {
        eth_src: eth.src_addr(),
        src,
        target,
    })
}

#[inline(never)]
fn nd(regs: Regs, t: &L2Tables, mut pkt: Packet, io: &mut StageIo<'_>) -> Option<Packet> {
    let ns = match parse_solicit(pkt.data()) {
        Parsed::Other => return Some(pkt),
        Parsed::Invalid => return pass(io, pkt, ND_PASS, ND_INVALID),
        Parsed::Solicit(ns) => ns,
    };
    let src_port = pkt.reg(regs.src);
    if src_port == 0 {
        return pass(io, pkt, ND_PASS, NOT_FROM_PORT);
    }
    let Some(&owner) = t.nd.get(&(pkt.reg(regs.net), u128::from(ns.target))) else {
        return pass(io, pkt, ND_PASS, UNKNOWN_TARGET_ND);
    };
    // Duplicate address detection: answer only for another port's address.
    let dad = ns.src.is_unspecified();
    if dad && (owner.mac == ns.eth_src || owner.port_key == src_port) {
        return pass(io, pkt, ND_PASS, ND_OWN_DAD);
    }
    let (ip_dst, eth_dst) = if dad {
        (ALL_NODES, ALL_NODES_MAC)
    } else {
        (ns.src, ns.eth_src)
    };
    // A solicitation without options is shorter than the advertisement.
    let len = pkt.len();
    if len > NA_FRAME_LEN {
        pkt.truncate(NA_FRAME_LEN);
    } else if len < NA_FRAME_LEN && pkt.append(NA_FRAME_LEN - len).is_none() {
        return pass(io, pkt, ND_PASS, ND_NO_ROOM);
    }
    let Some(buf) = pkt.data_mut().get_mut(..NA_FRAME_LEN) else {
        return pass(io, pkt, ND_PASS, ND_NO_ROOM);
    };
    let (eth, rest) = buf.split_at_mut(ETHERNET_HEADER_LEN);
    let (ip, icmp) = rest.split_at_mut(IPV6_HEADER_LEN);
    EthernetRepr {
        src_addr: owner.mac,
        dst_addr: eth_dst,
        ethertype: EtherType::Ipv6,
    }
    .emit(&mut EthernetFrame::new_unchecked(eth));
    Ipv6Repr {
        src_addr: ns.target,
        dst_addr: ip_dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: NA_ICMP_LEN,
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut Ipv6Packet::new_unchecked(ip));
    Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
        router: false,
        solicited: !dad,
        override_cache: true,
        target: ns.target,
        options: NdOptionsRepr {
            target_lladdr: Some(owner.mac),
            ..NdOptionsRepr::default()
        },
    })
    .emit(&mut Icmpv6Packet::new_unchecked(icmp), &ns.target, &ip_dst);
    pkt.set_reg(regs.dst, src_port);
    io.note(&pkt, ND_REPLY, u64::from(owner.port_key));
    io.send(REPLY, pkt);
    None
}
