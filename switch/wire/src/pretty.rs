//! `describe`: a one-line, tcpdump-like rendering of a frame.
//!
//! For packet traces and the fuzz target. It is built on
//! [`parse_frame`](crate::parse_frame), so it shows exactly what the
//! datapath would see, and writes into any `core::fmt::Write` so callers
//! choose where the text goes (a fixed buffer in a trace ring, a `String` in
//! tests). It is not for the hot path: formatting is slow by design
//! (STYLE.md rule 5).

use core::fmt::{self, Write};

use crate::frame::{AppInfo, FrameInfo, L3Info, L4Info, Layers};
use crate::{parse_frame, ArpOperation};

/// Writes a one-line description of `frame`, or of the error that stopped
/// [`parse_frame`].
///
/// # Errors
/// Only those of `out`.
pub fn describe(frame: &[u8], out: &mut impl Write) -> fmt::Result {
    match parse_frame(frame) {
        Ok(info) => describe_info(&info, out),
        Err(error) => write!(out, "{} bytes: {error}", frame.len()),
    }
}

/// Writes a one-line description of an already parsed frame.
///
/// # Errors
/// Only those of `out`.
pub fn describe_info(info: &FrameInfo, out: &mut impl Write) -> fmt::Result {
    describe_layers(&info.outer, out)?;
    match info.app {
        AppInfo::None => {}
        AppInfo::Dhcp {
            message_type: Some(t),
            transaction_id,
        } => write!(out, " DHCP {t} xid 0x{transaction_id:08x}")?,
        AppInfo::Dhcp {
            message_type: None,
            transaction_id,
        } => write!(out, " BOOTP xid 0x{transaction_id:08x}")?,
        AppInfo::Vxlan { vni } => write!(out, " VXLAN vni {vni}")?,
        AppInfo::Geneve { vni, protocol_type } => {
            write!(out, " Geneve vni {vni} proto {protocol_type}")?
        }
    }
    if let Some(inner) = &info.inner {
        out.write_str(" | ")?;
        describe_layers(inner, out)?;
    }
    Ok(())
}

fn describe_layers(layers: &Layers, out: &mut impl Write) -> fmt::Result {
    write!(out, "{} > {}", layers.src_mac, layers.dst_mac)?;
    for tag in layers.vlans.iter() {
        write!(out, " vlan {} p {}", tag.vid, tag.pcp)?;
    }
    match layers.net {
        L3Info::Other => write!(out, " {}", layers.ethertype)?,
        L3Info::Arp(arp) => match arp.operation {
            ArpOperation::Request => write!(
                out,
                " ARP who-has {} tell {}",
                arp.target_protocol_addr, arp.source_protocol_addr
            )?,
            ArpOperation::Reply => write!(
                out,
                " ARP reply {} is-at {}",
                arp.source_protocol_addr, arp.source_hardware_addr
            )?,
            op => write!(out, " ARP {op:?}")?,
        },
        L3Info::Ipv4 {
            src,
            dst,
            ttl,
            fragment,
            frag_offset,
        } => {
            write!(out, " IPv4 {src} > {dst} ttl {ttl}")?;
            if fragment {
                write!(out, " frag @{frag_offset}")?;
            }
        }
        L3Info::Ipv6 {
            src,
            dst,
            hop_limit,
            fragment,
        } => {
            write!(out, " IPv6 {src} > {dst} hlim {hop_limit}")?;
            if let Some(f) = fragment {
                write!(out, " frag @{} id 0x{:08x}", f.frag_offset, f.ident)?;
            }
        }
        L3Info::Mpls { depth, top_label } => write!(out, " MPLS label {top_label} depth {depth}")?,
    }
    match layers.transport {
        L4Info::None => {
            if let Some(proto) = layers.ip_proto {
                write!(out, " {proto}")?;
            }
        }
        L4Info::Udp { src_port, dst_port } => write!(out, " UDP {src_port} > {dst_port}")?,
        L4Info::Tcp {
            src_port,
            dst_port,
            flags,
        } => write!(out, " TCP {src_port} > {dst_port} [{flags}]")?,
        L4Info::Icmpv4 { msg_type, code } => write!(out, " ICMP {msg_type:?} code {code}")?,
        L4Info::Icmpv6 { msg_type, code } => write!(out, " ICMPv6 {msg_type:?} code {code}")?,
    }
    if let Some(at) = layers.payload {
        write!(out, " len {}", layers.end.saturating_sub(at))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{
        ARP_REQUEST, DHCP_DISCOVER, GENEVE_FRAME, ICMPV6_NS, IPV6_FRAG, MPLS_FRAME, QINQ_UDP,
        TCP_SYN, VXLAN_FRAME,
    };

    fn text(frame: &[u8]) -> String {
        let mut s = String::new();
        describe(frame, &mut s).unwrap();
        s
    }

    #[test]
    fn one_line_per_fixture() {
        assert_eq!(
            text(&ARP_REQUEST),
            "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff ARP who-has 10.0.0.2 tell 10.0.0.1"
        );
        assert_eq!(
            text(&QINQ_UDP),
            "02:00:00:00:00:01 > 02:00:00:00:00:02 vlan 100 p 3 vlan 200 p 5 \
             IPv4 10.1.1.1 > 10.1.1.2 ttl 9 UDP 1111 > 2222 len 5"
        );
        assert!(text(&TCP_SYN)
            .ends_with("IPv4 192.168.1.10 > 192.168.1.20 ttl 64 TCP 40000 > 80 [S] len 0"));
        assert!(text(&DHCP_DISCOVER).ends_with("UDP 68 > 67 len 261 DHCP Discover xid 0x3903f326"));
        assert!(text(&ICMPV6_NS).ends_with(
            "IPv6 fe80::1 > ff02::1:ff00:2 hlim 255 ICMPv6 NeighborSolicit code 0 len 24"
        ));
        assert!(text(&IPV6_FRAG).ends_with("hlim 64 frag @0 id 0xdeadbeef UDP"));
        assert!(text(&MPLS_FRAME).ends_with("MPLS label 100 depth 2 len 28"));
        let vxlan = text(&VXLAN_FRAME);
        assert!(
            vxlan.contains("UDP 49152 > 4789 len 50 VXLAN vni 5001 | "),
            "{vxlan}"
        );
        assert!(
            vxlan.ends_with("IPv4 192.168.0.1 > 192.168.0.2 ttl 64 ICMP EchoRequest code 0 len 0"),
            "{vxlan}"
        );
        assert!(text(&GENEVE_FRAME).contains("Geneve vni 1193046 proto TransEtherBridging | "));
        assert_eq!(text(&ARP_REQUEST[..20]), "20 bytes: truncated packet");
    }
}
