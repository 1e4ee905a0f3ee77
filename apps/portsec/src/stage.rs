//! `portsec`'s hot path: one table lookup by source port key, then checks
//! of the frame's addresses against the port's few (MAC, IP) pairs.
//!
//! Parsing uses the df-wire views directly rather than `parse_frame`: the
//! checks need the Ethernet source, the L3 addresses and at most one L4
//! header, and `parse_frame` would also walk DHCP options and VXLAN/Geneve
//! payloads, failing a tenant's ordinary UDP to port 4789 as a malformed
//! tunnel. Every length is checked by a view's `new_checked` before it is
//! read; a check returns a [`Deny`] (reason, trace note, value) that the
//! loop turns into a counted drop. Nothing here allocates.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use df_dp::stage::{Known, Route};
use df_dp::{Batch, DropId, EntryId, ExitId, RcuCell, RcuReader, RegSlot, Stage, StageIo};
use df_wire::{
    is_tpid, walk_ext_headers, ArpOperation, ArpPacket, ArpRepr, DhcpMessageType, DhcpOpCode,
    DhcpOptionCode, DhcpPacket, Error, EtherType, Icmpv6Message, Icmpv6Packet, IpProtocol,
    Ipv4Packet, Ipv6Packet, NdOption, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, UDP_HEADER_LEN,
};

use crate::counters::{
    DHCP_SERVER, MALFORMED, ROUTER_ADVERTISEMENT, SPOOFED_ARP, SPOOFED_IPV4, SPOOFED_IPV6,
    SPOOFED_MAC, SPOOFED_ND, UNKNOWN_ETHERTYPE, UNKNOWN_PORT,
};
use crate::tables::{Mac, PortEntry, PortsecTables};
use crate::trace;

/// `out.accept`.
pub(crate) const ACCEPT: ExitId = ExitId(0);
/// `out.services`.
pub(crate) const SERVICES: ExitId = ExitId(1);

/// DHCPv6 client and server UDP ports (RFC 8415).
const DHCPV6_CLIENT_PORT: u16 = 546;
const DHCPV6_SERVER_PORT: u16 = 547;
/// DHCPv6 messages only a server sends: ADVERTISE, REPLY, RECONFIGURE.
const DHCPV6_SERVER_MESSAGES: [u8; 3] = [2, 7, 10];
/// MLDv1 Done (RFC 2710), which df-wire has no name for.
const MLD_DONE: u8 = 132;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
}

/// The `portsec` stage of one worker.
#[derive(Debug)]
pub struct PortsecStage {
    regs: Regs,
    /// Where service traffic leaves: `SERVICES` or `ACCEPT` (params).
    services: ExitId,
    tables: Arc<RcuCell<PortsecTables>>,
}

impl PortsecStage {
    pub(crate) fn new(regs: Regs, services: ExitId, tables: Arc<RcuCell<PortsecTables>>) -> Self {
        PortsecStage {
            regs,
            services,
            tables,
        }
    }
}

impl Stage for PortsecStage {
    fn process(&mut self, _entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.tables.read(io.rcu());
        // The common case first: every packet passes, and they all go on
        // in one go. Otherwise (or when tracing) one by one, from the start.
        if !io.tracing()
            && batch.as_slice().iter().all(|pkt| {
                t.port(pkt.reg(self.regs.src)).is_some_and(|port| {
                    !port.secured || check(port, pkt.data()) == Ok(Pass::Accept)
                })
            })
        {
            return io.send_all(ACCEPT, batch);
        }
        for pkt in batch.drain() {
            let key = pkt.reg(self.regs.src);
            let Some(port) = t.port(key) else {
                io.note(&pkt, trace::UNKNOWN_PORT, key.into());
                io.drop(pkt, UNKNOWN_PORT);
                continue;
            };
            if !port.secured {
                io.note(&pkt, trace::BYPASS, key.into());
                io.send(ACCEPT, pkt);
                continue;
            }
            match check(port, pkt.data()) {
                Ok(Pass::Accept) => {
                    io.note(&pkt, trace::ACCEPT, key.into());
                    io.send(ACCEPT, pkt);
                }
                Ok(Pass::Service) => {
                    io.note(&pkt, trace::ACCEPT_SERVICE, key.into());
                    io.send(self.services, pkt);
                }
                Err(d) => {
                    io.note(&pkt, d.note, d.value);
                    io.drop(pkt, d.reason);
                }
            }
        }
    }

    /// A known source port with port security off: everything passes.
    fn route(&self, _entry: EntryId, known: &mut Known, rcu: &RcuReader) -> Option<Route> {
        let port = self.tables.read(rcu).port(known.reg(self.regs.src)?)?;
        (!port.secured).then_some(Route::Exit(ACCEPT))
    }
}

/// A packet the port may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Ordinary traffic: on to security groups.
    Accept,
    /// ARP, ND, MLD, DHCP client: may bypass security groups.
    Service,
}

/// Why a packet is dropped: reason, trace note and the value behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deny {
    pub(crate) reason: DropId,
    pub(crate) note: &'static str,
    pub(crate) value: u64,
}

type Verdict<T = Pass> = Result<T, Deny>;

fn deny(reason: DropId, note: &'static str, value: u64) -> Deny {
    Deny {
        reason,
        note,
        value,
    }
}

fn malformed(note: &'static str) -> Deny {
    deny(MALFORMED, note, 0)
}

fn mac_u64(m: &Mac) -> u64 {
    u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]])
}

fn low64(a: &Ipv6Addr) -> u64 {
    let [.., a8, a9, a10, a11, a12, a13, a14, a15] = a.octets();
    u64::from_be_bytes([a8, a9, a10, a11, a12, a13, a14, a15])
}

/// Checks one frame from a port with port security.
pub(crate) fn check(port: &PortEntry, frame: &[u8]) -> Verdict {
    // The 14-byte header read as one array (as `EthernetFrame`'s checked
    // view, without a call per field).
    let (Some(hdr), Some(l3)) = (frame.first_chunk::<14>(), frame.get(14..)) else {
        return Err(malformed(trace::MALFORMED_ETHERNET));
    };
    let mac: Mac = [hdr[6], hdr[7], hdr[8], hdr[9], hdr[10], hdr[11]];
    let Some(own) = port.mac(&mac) else {
        return Err(deny(SPOOFED_MAC, trace::SPOOFED_MAC, mac_u64(&mac)));
    };
    match EtherType::from(u16::from_be_bytes([hdr[12], hdr[13]])) {
        EtherType::Ipv4 => ipv4(port, &mac, own, l3),
        EtherType::Ipv6 => ipv6(port, &mac, l3),
        EtherType::Arp => arp(port, &mac, l3),
        t if is_tpid(t) => Err(deny(
            UNKNOWN_ETHERTYPE,
            trace::VLAN_TAGGED,
            u16::from(t).into(),
        )),
        t => Err(deny(
            UNKNOWN_ETHERTYPE,
            trace::ETHERTYPE,
            u16::from(t).into(),
        )),
    }
}

/// The ports of a UDP header and, unless it is in a fragment, its payload.
fn udp(segment: &[u8], fragment: bool) -> Verdict<(u16, u16, &[u8])> {
    let bad = || malformed(trace::MALFORMED_UDP);
    if fragment {
        // Only the header is trustworthy in a first fragment.
        let Some(&[s0, s1, d0, d1, ..]) = segment.get(..UDP_HEADER_LEN) else {
            return Err(bad());
        };
        return Ok((
            u16::from_be_bytes([s0, s1]),
            u16::from_be_bytes([d0, d1]),
            &[],
        ));
    }
    // As `UdpPacket::new_checked`: 8 <= length field <= segment.
    let Some(u) = segment.first_chunk::<UDP_HEADER_LEN>() else {
        return Err(bad());
    };
    let len = usize::from(u16::from_be_bytes([u[4], u[5]]));
    if len < UDP_HEADER_LEN {
        return Err(bad());
    }
    let payload = segment.get(UDP_HEADER_LEN..len).ok_or_else(bad)?;
    Ok((
        u16::from_be_bytes([u[0], u[1]]),
        u16::from_be_bytes([u[2], u[3]]),
        payload,
    ))
}

/// Whether a DHCPv4 message (UDP to port 67) is one only a server sends.
fn dhcpv4_from_server(payload: &[u8]) -> Verdict<bool> {
    let d = DhcpPacket::new_checked(payload).map_err(|_| malformed(trace::MALFORMED_DHCP))?;
    if d.op() == DhcpOpCode::BootReply {
        return Ok(true);
    }
    if d.magic_number() != df_wire::DHCP_MAGIC_COOKIE {
        return Ok(false);
    }
    for option in d.options_iter() {
        // A bad option ends the walk: the receiver's parser stops there too.
        let Ok(option) = option else { break };
        if option.code == DhcpOptionCode::MessageType {
            let t = option.data.first().map(|&t| DhcpMessageType::from(t));
            return Ok(matches!(
                t,
                Some(DhcpMessageType::Offer | DhcpMessageType::Ack | DhcpMessageType::Nak)
            ));
        }
    }
    Ok(false)
}

fn ipv4(port: &PortEntry, mac: &Mac, own: bool, l3: &[u8]) -> Verdict {
    let bad = || malformed(trace::MALFORMED_IPV4);
    // `new_checked` validates the lengths (20 <= IHL <= total <= buffer);
    // the fixed header's fields are then read from one array.
    Ipv4Packet::new_checked(l3).map_err(|_| bad())?;
    let Some(h) = l3.first_chunk::<20>() else {
        return Err(bad());
    };
    if h[0] >> 4 != 4 {
        return Err(bad());
    }
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    let flags_offset = u16::from_be_bytes([h[6], h[7]]);
    let mut dhcp_client = false;
    if h[9] == u8::from(IpProtocol::Udp) && flags_offset & 0x1fff == 0 {
        // MF set, offset 0: a first fragment.
        let fragment = flags_offset & 0x2000 != 0;
        let (hlen, total) = (
            usize::from(h[0] & 0x0f) * 4,
            usize::from(u16::from_be_bytes([h[2], h[3]])),
        );
        let (sport, dport, payload) = udp(l3.get(hlen..total).unwrap_or_default(), fragment)?;
        let server = deny(
            DHCP_SERVER,
            trace::DHCPV4_SERVER,
            u64::from(sport) << 16 | u64::from(dport),
        );
        match (sport, dport) {
            (DHCP_SERVER_PORT, DHCP_CLIENT_PORT) => return Err(server),
            (DHCP_CLIENT_PORT | DHCP_SERVER_PORT, DHCP_SERVER_PORT) if !fragment => {
                if dhcpv4_from_server(payload)? {
                    return Err(server);
                }
                dhcp_client = sport == DHCP_CLIENT_PORT;
            }
            _ => {}
        }
    }
    let spoofed = || deny(SPOOFED_IPV4, trace::SPOOFED_IPV4, u32::from(src).into());
    if src.is_unspecified() {
        // A DHCP client before it has an address: only from the port's own
        // MAC, to the broadcast address or a unicast server.
        let to = dst.is_broadcast() || !(dst.is_multicast() || dst.is_unspecified());
        return if dhcp_client && own && to {
            Ok(Pass::Service)
        } else {
            Err(spoofed())
        };
    }
    if !port.v4(mac, &src.octets()) {
        return Err(spoofed());
    }
    Ok(if dhcp_client {
        Pass::Service
    } else {
        Pass::Accept
    })
}

fn arp(port: &PortEntry, mac: &Mac, l3: &[u8]) -> Verdict {
    let p = ArpPacket::new_checked(l3).map_err(|_| malformed(trace::MALFORMED_ARP))?;
    let arp = match ArpRepr::parse(&p) {
        Ok(arp) => arp,
        Err(Error::Unsupported) => {
            let hw = u16::from(p.hardware_type());
            return Err(deny(SPOOFED_ARP, trace::ARP_NOT_IPV4, hw.into()));
        }
        Err(_) => return Err(malformed(trace::MALFORMED_ARP)),
    };
    let sha = arp.source_hardware_addr.0;
    if sha != *mac {
        return Err(deny(SPOOFED_ARP, trace::ARP_SHA, mac_u64(&sha)));
    }
    let spa: Ipv4Addr = arp.source_protocol_addr;
    let allowed = if spa.is_unspecified() {
        // RFC 5227 probe: a request from 0.0.0.0.
        arp.operation == ArpOperation::Request
    } else {
        port.v4(mac, &spa.octets())
    };
    if allowed {
        Ok(Pass::Service)
    } else {
        Err(deny(SPOOFED_ARP, trace::ARP_SPA, u32::from(spa).into()))
    }
}

fn ipv6(port: &PortEntry, mac: &Mac, l3: &[u8]) -> Verdict {
    let bad = || malformed(trace::MALFORMED_IPV6);
    let ip = Ipv6Packet::new_checked(l3).map_err(|_| bad())?;
    if ip.version() != 6 {
        return Err(bad());
    }
    let src = ip.src_addr();
    let payload = ip.payload();
    let walk = walk_ext_headers(ip.next_header(), payload).map_err(|_| bad())?;
    let fragment = walk.fragment.is_some();
    let (mut service, mut unspecified_ok) = (false, false);
    if walk.has_upper_header() {
        let upper = payload.get(walk.offset..).ok_or_else(bad)?;
        match walk.upper {
            IpProtocol::Icmpv6 => {
                (service, unspecified_ok) = icmpv6(port, mac, &src, upper, fragment)?;
            }
            IpProtocol::Udp => {
                let (sport, dport, data) = udp(upper, fragment)?;
                let server_message = data
                    .first()
                    .is_some_and(|t| DHCPV6_SERVER_MESSAGES.contains(t));
                if dport == DHCPV6_CLIENT_PORT && (sport == DHCPV6_SERVER_PORT || server_message) {
                    let ports = u64::from(sport) << 16 | u64::from(dport);
                    return Err(deny(DHCP_SERVER, trace::DHCPV6_SERVER, ports));
                }
                service = (sport, dport) == (DHCPV6_CLIENT_PORT, DHCPV6_SERVER_PORT);
            }
            _ => {}
        }
    }
    let allowed = if src.is_unspecified() {
        unspecified_ok
    } else {
        port.v6(mac, &src.octets())
    };
    if !allowed {
        return Err(deny(SPOOFED_IPV6, trace::SPOOFED_IPV6, low64(&src)));
    }
    Ok(if service { Pass::Service } else { Pass::Accept })
}

/// Checks an ICMPv6 message; returns (service traffic, may come from ::).
fn icmpv6(
    port: &PortEntry,
    mac: &Mac,
    src: &Ipv6Addr,
    seg: &[u8],
    fragment: bool,
) -> Verdict<(bool, bool)> {
    let bad = || malformed(trace::MALFORMED_ICMPV6);
    let ty = *seg.first().ok_or_else(bad)?;
    let msg = Icmpv6Message::from(ty);
    match msg {
        Icmpv6Message::RouterAdvert | Icmpv6Message::Redirect => {
            return Err(deny(
                ROUTER_ADVERTISEMENT,
                trace::ROUTER_ADVERTISEMENT,
                ty.into(),
            ));
        }
        Icmpv6Message::RouterSolicit
        | Icmpv6Message::NeighborSolicit
        | Icmpv6Message::NeighborAdvert
            if fragment =>
        {
            return Err(deny(SPOOFED_ND, trace::ND_FRAGMENT, ty.into()));
        }
        _ if fragment => return Ok((false, false)),
        _ => {}
    }
    let p = Icmpv6Packet::new_checked(seg).map_err(|_| bad())?;
    match msg {
        Icmpv6Message::RouterSolicit
        | Icmpv6Message::NeighborSolicit
        | Icmpv6Message::NeighborAdvert => {
            p.check_ndisc_len().map_err(|_| bad())?;
            let mut slla = false;
            for option in p.ndisc_options() {
                match option.map_err(|_| bad())? {
                    NdOption::SourceLinkLayerAddr(a) | NdOption::TargetLinkLayerAddr(a)
                        if a.0 != *mac =>
                    {
                        return Err(deny(SPOOFED_ND, trace::ND_LLADDR, mac_u64(&a.0)));
                    }
                    NdOption::SourceLinkLayerAddr(_) => slla = true,
                    _ => {}
                }
            }
            // RFC 4861 4.1, 4.3: no SLLA when the source is unspecified.
            if slla && src.is_unspecified() {
                return Err(deny(
                    SPOOFED_ND,
                    trace::ND_LLADDR_FROM_UNSPECIFIED,
                    ty.into(),
                ));
            }
            if msg == Icmpv6Message::NeighborAdvert {
                let target = p.target_addr();
                if !port.v6(mac, &target.octets()) {
                    return Err(deny(SPOOFED_ND, trace::ND_TARGET, low64(&target)));
                }
                return Ok((true, false));
            }
            // DAD solicitations (and RS before an address) come from ::.
            Ok((true, true))
        }
        Icmpv6Message::MldReport | Icmpv6Message::MldV2Report => Ok((true, true)),
        Icmpv6Message::MldQuery | Icmpv6Message::Unknown(MLD_DONE) => Ok((true, false)),
        _ => Ok((false, false)),
    }
}

#[cfg(test)]
mod tests;
