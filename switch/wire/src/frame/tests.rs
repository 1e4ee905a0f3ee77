//! Tests for `parse_frame`: every fixture, malformed frames, and arbitrary
//! bytes.

use super::*;
use crate::fixtures::{
    ARP_REQUEST, DHCP_DISCOVER, GENEVE_FRAME, ICMPV6_NS, ICMPV6_RA, ICMP_ECHO, IPV4_OPTIONS,
    IPV6_FRAG, MPLS_FRAME, QINQ_UDP, TCP_SYN, VXLAN_FRAME,
};
use crate::ArpOperation;
use proptest::prelude::*;

const FIXTURES: [&[u8]; 12] = [
    &ARP_REQUEST,
    &DHCP_DISCOVER,
    &GENEVE_FRAME,
    &ICMPV6_NS,
    &ICMPV6_RA,
    &ICMP_ECHO,
    &IPV4_OPTIONS,
    &IPV6_FRAG,
    &MPLS_FRAME,
    &QINQ_UDP,
    &TCP_SYN,
    &VXLAN_FRAME,
];

#[test]
fn arp() {
    let info = parse_frame(&ARP_REQUEST).unwrap();
    assert_eq!(info.outer.ethertype, EtherType::Arp);
    assert_eq!(info.outer.l3, 14);
    let L3Info::Arp(arp) = info.outer.net else {
        panic!("{info:?}")
    };
    assert_eq!(arp.operation, ArpOperation::Request);
    assert_eq!(
        (info.outer.ip_proto, info.outer.l4, info.app, info.inner),
        (None, None, AppInfo::None, None)
    );
}

#[test]
fn icmp_echo() {
    let info = parse_frame(&ICMP_ECHO).unwrap().outer;
    assert_eq!(
        (info.l3, info.l4, info.payload, info.end),
        (14, Some(34), Some(42), 50)
    );
    assert_eq!(info.ip_proto, Some(IpProtocol::Icmp));
    assert_eq!(
        info.transport,
        L4Info::Icmpv4 {
            msg_type: Icmpv4Message::EchoRequest,
            code: 0
        }
    );
}

#[test]
fn qinq_udp() {
    let info = parse_frame(&QINQ_UDP).unwrap().outer;
    assert_eq!(info.vlans.len(), 2);
    assert_eq!(info.vlans.outer().map(|t| t.vid), Some(100));
    assert_eq!(info.vlans.inner().map(|t| t.vid), Some(200));
    assert_eq!(
        (info.ethertype, info.l3, info.l4, info.payload),
        (EtherType::Ipv4, 22, Some(42), Some(50))
    );
    assert_eq!(
        info.transport,
        L4Info::Udp {
            src_port: 1111,
            dst_port: 2222
        }
    );
}

#[test]
fn tcp_syn_and_options() {
    let info = parse_frame(&TCP_SYN).unwrap().outer;
    assert_eq!(
        info.transport,
        L4Info::Tcp {
            src_port: 40000,
            dst_port: 80,
            flags: TcpFlags::SYN
        }
    );
    assert_eq!((info.l4, info.payload), (Some(34), Some(74)));
    let info = parse_frame(&IPV4_OPTIONS).unwrap().outer;
    assert_eq!((info.l4, info.payload), (Some(42), Some(50)));
}

#[test]
fn dhcp_discover() {
    let info = parse_frame(&DHCP_DISCOVER).unwrap();
    assert_eq!(
        info.app,
        AppInfo::Dhcp {
            message_type: Some(DhcpMessageType::Discover),
            transaction_id: 0x3903_f326
        }
    );
    assert_eq!(info.outer.payload, Some(42));
}

#[test]
fn ipv6_nd_and_fragment() {
    let info = parse_frame(&ICMPV6_RA).unwrap().outer;
    assert_eq!(
        info.transport,
        L4Info::Icmpv6 {
            msg_type: Icmpv6Message::RouterAdvert,
            code: 0
        }
    );
    let info = parse_frame(&ICMPV6_NS).unwrap().outer;
    assert_eq!((info.l4, info.end), (Some(54), 86));
    let info = parse_frame(&IPV6_FRAG).unwrap().outer;
    assert_eq!(info.ip_proto, Some(IpProtocol::Udp));
    assert_eq!(info.l4, Some(14 + 40 + 16));
    assert_eq!(info.transport, L4Info::None);
    let L3Info::Ipv6 {
        fragment: Some(frag),
        ..
    } = info.net
    else {
        panic!("{info:?}")
    };
    assert!(frag.more_frags);
}

#[test]
fn mpls() {
    let info = parse_frame(&MPLS_FRAME).unwrap().outer;
    assert_eq!(
        info.net,
        L3Info::Mpls {
            depth: 2,
            top_label: 100
        }
    );
    assert_eq!(info.payload, Some(22));
}

#[test]
fn vxlan_inner_frame() {
    let info = parse_frame(&VXLAN_FRAME).unwrap();
    assert_eq!(info.app, AppInfo::Vxlan { vni: 5001 });
    let inner = info.inner.unwrap();
    assert_eq!((inner.l2, inner.l3, inner.l4), (50, 64, Some(84)));
    assert_eq!(inner.src_mac, EthernetAddress([2, 0, 0, 0, 0, 1]));
    assert_eq!(
        inner.transport,
        L4Info::Icmpv4 {
            msg_type: Icmpv4Message::EchoRequest,
            code: 0
        }
    );
    assert_eq!(inner.end, VXLAN_FRAME.len());
}

#[test]
fn geneve_inner_frame() {
    let info = parse_frame(&GENEVE_FRAME).unwrap();
    assert_eq!(
        info.app,
        AppInfo::Geneve {
            vni: 0x12_3456,
            protocol_type: EtherType::TransEtherBridging
        }
    );
    let inner = info.inner.unwrap();
    assert_eq!(inner.l2, 14 + 40 + 8 + 16);
    assert_eq!(inner.ethertype, EtherType::Ipv4);
}

#[test]
fn no_tunnel_in_a_tunnel() {
    // VXLAN whose inner frame is the VXLAN fixture itself.
    let mut frame = VXLAN_FRAME[..50].to_vec();
    frame.extend_from_slice(&VXLAN_FRAME);
    let grow = |at: usize, by: usize| {
        let v = u16::from_be_bytes([frame[at], frame[at + 1]]) as usize + by;
        (v as u16).to_be_bytes()
    };
    // The new inner frame is the 92-byte fixture instead of the 42-byte one.
    let extra = VXLAN_FRAME.len() - 42;
    let (ip_len, udp_len) = (grow(16, extra), grow(38, extra));
    frame[16..18].copy_from_slice(&ip_len);
    frame[38..40].copy_from_slice(&udp_len);
    let info = parse_frame(&frame).unwrap();
    let inner = info.inner.unwrap();
    assert_eq!(
        inner.transport,
        L4Info::Udp {
            src_port: 49152,
            dst_port: 4789
        }
    );
    assert_eq!(inner.payload, Some(50 + 42));
}

#[test]
fn malformed_frames() {
    assert_eq!(parse_frame(&[]), Err(Error::Truncated));
    assert_eq!(parse_frame(&ICMP_ECHO[..13]), Err(Error::Truncated));
    assert_eq!(parse_frame(&ICMP_ECHO[..33]), Err(Error::Truncated));
    assert_eq!(parse_frame(&ICMP_ECHO[..41]), Err(Error::Truncated));
    let mut bad = ICMP_ECHO;
    bad[14] = 0x43; // IHL 3
    assert_eq!(parse_frame(&bad), Err(Error::Malformed));
    bad[14] = 0x65; // version 6 in an IPv4 EtherType
    assert_eq!(parse_frame(&bad), Err(Error::Malformed));
    // Tunnel with a truncated inner frame.
    assert_eq!(parse_frame(&VXLAN_FRAME[..60]), Err(Error::Truncated));
    // UDP to the VXLAN port that is not VXLAN (no I flag) is plain UDP:
    // the application layer is best effort, the outer frame stays good.
    let mut bad = VXLAN_FRAME;
    bad[42] = 0;
    let info = parse_frame(&bad).unwrap();
    assert_eq!(info.app, AppInfo::None);
    assert_eq!(info.inner, None);
    assert!(matches!(
        info.outer.transport,
        L4Info::Udp { dst_port: 4789, .. }
    ));
    // Every strict prefix of every fixture is rejected or parses shorter;
    // none panics.
    for fixture in FIXTURES {
        for len in 0..fixture.len() {
            let _ = parse_frame(&fixture[..len]);
        }
    }
}

#[test]
fn padding_is_ignored() {
    let mut padded = ARP_REQUEST.to_vec();
    padded.resize(60, 0);
    assert!(matches!(
        parse_frame(&padded).unwrap().outer.net,
        L3Info::Arp(_)
    ));
    let mut padded = ICMP_ECHO.to_vec();
    padded.resize(64, 0xaa);
    assert_eq!(parse_frame(&padded).unwrap().outer.end, 50);
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(info) = parse_frame(&data) {
            prop_assert!(info.outer.l3 <= data.len());
            if let Some(inner) = info.inner {
                prop_assert!(inner.l2 <= data.len());
            }
        }
        let mut text = String::new();
        crate::describe(&data, &mut text).unwrap();
    }

    #[test]
    fn never_panics_on_mutated_fixtures(pick in 0usize..FIXTURES.len(),
                                        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
                                        cut in any::<proptest::sample::Index>()) {
        let mut frame = FIXTURES[pick].to_vec();
        for (at, value) in edits {
            let i = at.index(frame.len());
            frame[i] = value;
        }
        frame.truncate(cut.index(frame.len() + 1));
        if let Ok(info) = parse_frame(&frame) {
            for offset in [info.outer.l4, info.outer.payload].into_iter().flatten() {
                prop_assert!(offset <= frame.len());
            }
        }
        let mut text = String::new();
        crate::describe(&frame, &mut text).unwrap();
    }
}
