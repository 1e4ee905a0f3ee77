//! `parse_frame`: one pass from the Ethernet header to the application
//! layer, returning offsets and key fields.
//!
//! Every stage of the switch needs to know where L3 and L4 start and what
//! they are; parsing the headers once at input and handing the stages a
//! `Copy` summary avoids re-walking VLAN tags and IPv6 extension headers in
//! each of them. The walk is Ethernet → up to two VLAN tags → ARP / IPv4 /
//! IPv6 (extension headers) / MPLS → ICMP / ICMPv6 / UDP / TCP → DHCP (UDP
//! 67/68), VXLAN (UDP 4789) or Geneve (UDP 6081) → the inner Ethernet frame,
//! once (no tunnel in a tunnel).
//!
//! What it checks: exactly the lengths it needs to locate each layer (the
//! views' `check_len`), plus the IP versions. What it leaves to the
//! per-protocol `Repr::parse`: checksums and the contents of options.
//! Fragments: the L4 header of a fragmented datagram is not parsed (only a
//! reassembled datagram has a trustworthy one), `l4` is still set for the
//! first fragment. It never panics and never allocates; a malformed layer
//! makes the whole frame an error, which the caller counts as a drop.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::bytes::clamped;
use crate::ipv6ext::{walk_ext_headers, FragmentRepr};
use crate::mpls::walk_label_stack;
use crate::vlan::{walk_tags, TagStack};
use crate::{
    arp, dhcp, ethernet, geneve, icmpv4, icmpv6, ipv4, ipv6, tcp, udp, vxlan, ArpRepr,
    DhcpMessageType, DhcpOptionCode, Error, EtherType, EthernetAddress, Icmpv4Message,
    Icmpv6Message, IpProtocol, Result, TcpFlags,
};

/// The network layer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L3Info {
    /// An EtherType this walk does not parse.
    Other,
    /// An Ethernet/IPv4 ARP packet.
    Arp(ArpRepr),
    /// IPv4.
    Ipv4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
        /// Time to live.
        ttl: u8,
        /// Any fragment (MF or non-zero offset).
        fragment: bool,
        /// Fragment offset in bytes.
        frag_offset: u16,
    },
    /// IPv6.
    Ipv6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
        /// Hop limit.
        hop_limit: u8,
        /// The Fragment header, if any.
        fragment: Option<FragmentRepr>,
    },
    /// An MPLS label stack (the payload is not parsed further).
    Mpls {
        /// Number of labels.
        depth: usize,
        /// Label of the top entry.
        top_label: u32,
    },
}

/// The transport layer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4Info {
    /// None parsed (not IP, a fragment, or another protocol).
    None,
    /// UDP.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// TCP.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Flags.
        flags: TcpFlags,
    },
    /// ICMP over IPv4.
    Icmpv4 {
        /// Type.
        msg_type: Icmpv4Message,
        /// Code.
        code: u8,
    },
    /// ICMPv6.
    Icmpv6 {
        /// Type.
        msg_type: Icmpv6Message,
        /// Code.
        code: u8,
    },
}

/// The application layer recognised by UDP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppInfo {
    /// Nothing recognised.
    None,
    /// DHCP (UDP 67/68).
    Dhcp {
        /// Option 53, if present.
        message_type: Option<DhcpMessageType>,
        /// Transaction id.
        transaction_id: u32,
    },
    /// VXLAN (UDP 4789).
    Vxlan {
        /// VNI.
        vni: u32,
    },
    /// Geneve (UDP 6081).
    Geneve {
        /// VNI.
        vni: u32,
        /// Payload protocol.
        protocol_type: EtherType,
    },
}

/// Offsets and fields of one Ethernet frame's layers. Offsets are from the
/// start of the bytes given to [`parse_frame`], except the VLAN tag offsets
/// in `vlans`, which are from `l2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    /// Offset of the Ethernet header.
    pub l2: usize,
    /// Destination MAC.
    pub dst_mac: EthernetAddress,
    /// Source MAC.
    pub src_mac: EthernetAddress,
    /// VLAN tags (at most two) and the inner EtherType.
    pub vlans: TagStack,
    /// EtherType after the tags.
    pub ethertype: EtherType,
    /// Offset of the L3 header.
    pub l3: usize,
    /// The L3 header.
    pub net: L3Info,
    /// End of the L3 packet (IP total/payload length; Ethernet padding
    /// excluded); the frame end for non-IP.
    pub end: usize,
    /// Upper-layer protocol (IPv6: after extension headers).
    pub ip_proto: Option<IpProtocol>,
    /// Offset of the L4 header (absent for non-first fragments).
    pub l4: Option<usize>,
    /// The L4 header.
    pub transport: L4Info,
    /// Offset of the L4 payload (after UDP/TCP/ICMP header).
    pub payload: Option<usize>,
}

/// Everything [`parse_frame`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// The outer frame.
    pub outer: Layers,
    /// DHCP, VXLAN or Geneve, recognised by UDP port on the outer frame.
    pub app: AppInfo,
    /// The frame inside a VXLAN or Geneve (Ethernet payload) tunnel.
    pub inner: Option<Layers>,
}

/// Parses a frame from its Ethernet header down to the application layer.
///
/// The application layer is recognised on a best-effort basis: a UDP
/// payload on a DHCP, VXLAN or Geneve port that does not parse as such (or
/// whose inner frame does not parse) gives `AppInfo::None` / no `inner`,
/// never an error, so tenant traffic on those ports is not mistaken for a
/// malformed frame.
///
/// # Errors
/// The first error of any layer's length check ([`Error::Truncated`],
/// [`Error::Malformed`]), a wrong IP version ([`Error::Malformed`]), or a
/// tag stack / extension-header chain / label stack beyond the supported
/// depth ([`Error::Unsupported`]).
pub fn parse_frame(frame: &[u8]) -> Result<FrameInfo> {
    let (outer, app, inner_at) = parse_layers(frame, 0, true)?;
    // An inner frame that does not parse leaves `inner` empty: the outer
    // frame is still good (the tunnel app decides what a bad inner frame is).
    let inner = inner_at.and_then(|(start, end)| {
        let data = frame.get(start..end)?;
        parse_layers(data, start, false).ok().map(|l| l.0)
    });
    Ok(FrameInfo { outer, app, inner })
}

/// One frame's layers, its application layer and where a tunnelled inner
/// frame sits (absolute range), if any.
type Parsed = (Layers, AppInfo, Option<(usize, usize)>);

/// Parses one frame's layers; `base` is the offset of `data` in the outer
/// frame. Looks for tunnels only when `tunnels` is set.
fn parse_layers(data: &[u8], base: usize, tunnels: bool) -> Result<Parsed> {
    let eth = ethernet::Frame::new_checked(data)?;
    let vlans = walk_tags(data)?;
    let l3 = vlans.l3_offset;
    let rest = data.get(l3..).ok_or(Error::Truncated)?;
    let mut layers = Layers {
        l2: base,
        dst_mac: eth.dst_addr(),
        src_mac: eth.src_addr(),
        vlans,
        ethertype: vlans.ethertype,
        l3: base + l3,
        net: L3Info::Other,
        end: base + data.len(),
        ip_proto: None,
        l4: None,
        transport: L4Info::None,
        payload: None,
    };
    // The L4 bytes (bounded by the IP length) and whether to parse them.
    let mut l4: Option<(usize, &[u8])> = None;
    match vlans.ethertype {
        EtherType::Arp => {
            let packet = arp::Packet::new_checked(rest)?;
            match ArpRepr::parse(&packet) {
                Ok(repr) => layers.net = L3Info::Arp(repr),
                Err(Error::Unsupported) => {}
                Err(e) => return Err(e),
            }
        }
        EtherType::Ipv4 => {
            let packet = ipv4::Packet::new_checked(rest)?;
            if packet.version() != 4 {
                return Err(Error::Malformed);
            }
            let header_len = usize::from(packet.header_len());
            layers.end = layers.l3 + usize::from(packet.total_len());
            layers.net = L3Info::Ipv4 {
                src: packet.src_addr(),
                dst: packet.dst_addr(),
                ttl: packet.ttl(),
                fragment: packet.is_fragment(),
                frag_offset: packet.frag_offset(),
            };
            layers.ip_proto = Some(packet.protocol());
            if packet.frag_offset() == 0 {
                layers.l4 = Some(layers.l3 + header_len);
            }
            if !packet.is_fragment() {
                l4 = Some((
                    header_len,
                    clamped(rest, header_len, usize::from(packet.total_len())),
                ));
            }
        }
        EtherType::Ipv6 => {
            let packet = ipv6::Packet::new_checked(rest)?;
            if packet.version() != 6 {
                return Err(Error::Malformed);
            }
            let payload_end = ipv6::HEADER_LEN + usize::from(packet.payload_len());
            let payload = clamped(rest, ipv6::HEADER_LEN, payload_end);
            let walk = walk_ext_headers(packet.next_header(), payload)?;
            layers.end = layers.l3 + payload_end;
            layers.net = L3Info::Ipv6 {
                src: packet.src_addr(),
                dst: packet.dst_addr(),
                hop_limit: packet.hop_limit(),
                fragment: walk.fragment,
            };
            layers.ip_proto = Some(walk.upper);
            if walk.has_upper_header() {
                layers.l4 = Some(layers.l3 + ipv6::HEADER_LEN + walk.offset);
            }
            if walk.fragment.is_none() {
                let upper = payload.get(walk.offset..).ok_or(Error::Truncated)?;
                l4 = Some((ipv6::HEADER_LEN + walk.offset, upper));
            }
        }
        EtherType::Mpls | EtherType::MplsMulticast => {
            let (depth, offset) = walk_label_stack(rest)?;
            let top = crate::mpls::Packet::new_checked(rest)?;
            layers.net = L3Info::Mpls {
                depth,
                top_label: top.label(),
            };
            layers.payload = Some(layers.l3 + offset);
        }
        _ => {}
    }
    let (Some(proto), Some((l4_rel, segment))) = (layers.ip_proto, l4) else {
        return Ok((layers, AppInfo::None, None));
    };
    let l4_at = layers.l3 + l4_rel;
    let mut app = AppInfo::None;
    let mut inner = None;
    match proto {
        IpProtocol::Udp => {
            let packet = udp::Packet::new_checked(segment)?;
            let (src_port, dst_port) = (packet.src_port(), packet.dst_port());
            layers.transport = L4Info::Udp { src_port, dst_port };
            let payload_at = l4_at + udp::HEADER_LEN;
            layers.payload = Some(payload_at);
            if tunnels {
                // Best effort: a tenant's own UDP to port 67/4789/6081 that
                // is not DHCP/VXLAN/Geneve is ordinary UDP, not a bad frame.
                (app, inner) = parse_app(src_port, dst_port, packet.payload(), payload_at)
                    .unwrap_or((AppInfo::None, None));
            }
        }
        IpProtocol::Tcp => {
            let packet = tcp::Packet::new_checked(segment)?;
            layers.transport = L4Info::Tcp {
                src_port: packet.src_port(),
                dst_port: packet.dst_port(),
                flags: packet.flags(),
            };
            layers.payload = Some(l4_at + usize::from(packet.header_len()));
        }
        IpProtocol::Icmp if vlans.ethertype == EtherType::Ipv4 => {
            let packet = icmpv4::Packet::new_checked(segment)?;
            layers.transport = L4Info::Icmpv4 {
                msg_type: packet.msg_type(),
                code: packet.msg_code(),
            };
            layers.payload = Some(l4_at + icmpv4::HEADER_LEN);
        }
        IpProtocol::Icmpv6 if vlans.ethertype == EtherType::Ipv6 => {
            let packet = icmpv6::Packet::new_checked(segment)?;
            layers.transport = L4Info::Icmpv6 {
                msg_type: packet.msg_type(),
                code: packet.msg_code(),
            };
            layers.payload = Some(l4_at + icmpv6::HEADER_LEN);
        }
        _ => {}
    }
    Ok((
        layers,
        app,
        inner.map(|(start, len)| (base + start, base + start + len)),
    ))
}

/// Recognises DHCP, VXLAN and Geneve in a UDP payload at `at` (relative to
/// the current frame); returns the inner frame's relative start and length.
fn parse_app(
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
    at: usize,
) -> Result<(AppInfo, Option<(usize, usize)>)> {
    let (server, client) = (dhcp::SERVER_PORT, dhcp::CLIENT_PORT);
    // Client to server, server to client, relay to server.
    if [(client, server), (server, client), (server, server)].contains(&(src_port, dst_port)) {
        let packet = dhcp::Packet::new_checked(payload)?;
        let mut message_type = None;
        for option in packet.options_iter() {
            let option = option?;
            if option.code == DhcpOptionCode::MessageType {
                message_type = option.data.first().map(|&t| DhcpMessageType::from(t));
            }
        }
        let app = AppInfo::Dhcp {
            message_type,
            transaction_id: packet.transaction_id(),
        };
        return Ok((app, None));
    }
    if dst_port == vxlan::UDP_PORT {
        let packet = vxlan::Packet::new_checked(payload)?;
        let repr = crate::VxlanRepr::parse(&packet)?;
        let start = at + vxlan::HEADER_LEN;
        return Ok((
            AppInfo::Vxlan { vni: repr.vni },
            Some((start, packet.payload().len())),
        ));
    }
    if dst_port == geneve::UDP_PORT {
        let packet = geneve::Packet::new_checked(payload)?;
        if packet.version() != 0 {
            return Err(Error::Unsupported);
        }
        let protocol_type = packet.protocol_type();
        let app = AppInfo::Geneve {
            vni: packet.vni(),
            protocol_type,
        };
        let inner = (protocol_type == EtherType::TransEtherBridging)
            .then(|| (at + packet.header_len(), packet.payload().len()));
        return Ok((app, inner));
    }
    Ok((AppInfo::None, None))
}

#[cfg(test)]
mod tests;
