//! Reject replies: content, checksums, where they go, when none is sent,
//! rate limit.

use std::net::{Ipv4Addr, Ipv6Addr};

use df_wire::{
    EtherType, EthernetFrame, Icmpv4Packet, Icmpv6Packet, IpProtocol, Ipv4Packet, Ipv6Packet,
    PseudoHeader, TcpFlags, TcpPacket,
};

use super::frames::{fragment4, frame, syn, syn_ack, udp, L4, MAC_A, MAC_B, MAC_R10, MAC_R20};
use super::*;

/// The one packet that left by `exit`.
fn only<'a>(out: &'a Outcome, exit: &str) -> &'a Packet {
    let v = out.by_exit(exit);
    assert_eq!(v.len(), 1, "{exit}: {:?} {:?}", out.drops, out.trace);
    v[0]
}

const REJECT_ALL: &str = r#"[{"id": "r4", "action": "reject", "ip_version": 4},
                             {"id": "r6", "action": "reject", "ip_version": 6}]"#;

#[test]
fn reject_tcp_with_a_reset() {
    let mut h = harness(&groups(REJECT_ALL, "null", "null", "null"));
    let p = a_out(&mut h, syn(40000, 80));
    let out = h.run("egress", vec![p]);
    assert_eq!(out.dropped("rejected"), 1);
    assert_eq!(notes(&out, trace::RULE_REJECT), vec![0]);
    let r = only(&out, "reject-reply");
    assert_eq!(
        r.reg(h.reg(DESTINATION_PORT_KEY)),
        1,
        "back to the source port"
    );
    assert_eq!(r.reg(h.reg(NETWORK_KEY)), 10);
    let d = r.data();
    assert_eq!(d.len(), ETH + 20 + 20);
    let eth = EthernetFrame::new_checked(d).unwrap();
    assert_eq!((eth.src_addr(), eth.dst_addr()), (MAC_R10, MAC_A));
    assert_eq!(eth.ethertype(), EtherType::Ipv4);
    let ip = Ipv4Packet::new_checked(&d[ETH..]).unwrap();
    assert!(ip.verify_checksum());
    let (src, dst): (Ipv4Addr, Ipv4Addr) = (B.parse().unwrap(), A.parse().unwrap());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (src, dst));
    assert_eq!((ip.protocol(), ip.ttl()), (IpProtocol::Tcp, 64));
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    assert!(tcp.verify_checksum(&PseudoHeader::V4 { src, dst }));
    assert_eq!((tcp.src_port(), tcp.dst_port()), (80, 40000));
    // A SYN (seq 1000) without ACK: RST|ACK acknowledging the SYN.
    assert_eq!(
        tcp.flags().bits(),
        TcpFlags::RST.bits() | TcpFlags::ACK.bits()
    );
    assert_eq!((tcp.seq_number(), tcp.ack_number()), (0, 1001));
    assert_eq!(notes(&out, trace::REPLY_RST), vec![40000, 40000]);

    // A segment with ACK: a bare RST with seq = its ack.
    h.set_now(1_000_000);
    let p = a_out(&mut h, syn_ack(40000, 80));
    let out = h.run("egress", vec![p]);
    let r = only(&out, "reject-reply");
    let tcp = TcpPacket::new_checked(&r.data()[ETH + 20..]).unwrap();
    assert_eq!(tcp.flags(), TcpFlags::RST);
    assert_eq!((tcp.seq_number(), tcp.ack_number()), (1001, 0));

    // Data without ACK: the ack covers the payload.
    h.set_now(2_000_000);
    let data = L4::Tcp {
        sport: 40000,
        dport: 80,
        flags: TcpFlags::FIN,
        seq: 7,
        ack: 0,
        len: 10,
    };
    let p = a_out(&mut h, data);
    let out = h.run("egress", vec![p]);
    let r = only(&out, "reject-reply");
    let tcp = TcpPacket::new_checked(&r.data()[ETH + 20..]).unwrap();
    assert_eq!(tcp.ack_number(), 7 + 10 + 1);
}

#[test]
fn reject_udp_with_icmp_prohibited() {
    let mut h = harness(&groups(REJECT_ALL, "null", "null", "null"));
    let orig = frame(MAC_A, MAC_R10, A, B, udp(5000, 53));
    let p = egress_a(&mut h, &orig);
    let out = h.run("egress", vec![p]);
    assert_eq!(out.dropped("rejected"), 1);
    let r = only(&out, "reject-reply");
    let d = r.data();
    let ip = Ipv4Packet::new_checked(&d[ETH..]).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!(ip.protocol(), IpProtocol::Icmp);
    assert_eq!(ip.src_addr(), B.parse::<Ipv4Addr>().unwrap());
    assert_eq!(ip.dst_addr(), A.parse::<Ipv4Addr>().unwrap());
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert!(icmp.verify_checksum());
    assert_eq!((u8::from(icmp.msg_type()), icmp.msg_code()), (3, 13));
    // The original IP header and 8 bytes.
    assert_eq!(icmp.payload(), &orig[ETH..ETH + 28]);
    assert_eq!(notes(&out, trace::REPLY_ICMP), vec![0x030d, 0x030d]);
}

#[test]
fn reject_ipv6() {
    let mut h = harness(&groups(REJECT_ALL, "null", "null", "null"));
    let (src, dst): (Ipv6Addr, Ipv6Addr) = (B6.parse().unwrap(), A6.parse().unwrap());
    let f = frame(MAC_A, MAC_R10, A6, B6, syn(40000, 443));
    let p = egress_a(&mut h, &f);
    let out = h.run("egress", vec![p]);
    let r = only(&out, "reject-reply");
    let ip = Ipv6Packet::new_checked(&r.data()[ETH..]).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr()), (src, dst));
    assert_eq!((ip.next_header(), ip.hop_limit()), (IpProtocol::Tcp, 64));
    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
    assert!(tcp.verify_checksum(&PseudoHeader::V6 { src, dst }));
    assert_eq!((tcp.src_port(), tcp.dst_port()), (443, 40000));
    assert!(tcp.flags().contains(TcpFlags::RST));

    let orig = frame(MAC_A, MAC_R10, A6, B6, udp(5000, 53));
    let p = egress_a(&mut h, &orig);
    let out = h.run("egress", vec![p]);
    let r = only(&out, "reject-reply");
    let eth = EthernetFrame::new_checked(r.data()).unwrap();
    assert_eq!(eth.ethertype(), EtherType::Ipv6);
    let ip = Ipv6Packet::new_checked(&r.data()[ETH..]).unwrap();
    assert_eq!(ip.next_header(), IpProtocol::Icmpv6);
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert!(icmp.verify_checksum(&src, &dst));
    assert_eq!((u8::from(icmp.msg_type()), icmp.msg_code()), (1, 1));
    assert_eq!(
        icmp.payload(),
        &orig[ETH..],
        "the whole (short) packet is quoted"
    );
}

#[test]
fn reject_at_ingress_goes_back_through_the_router() {
    let mut h = harness(&groups("null", "null", "null", REJECT_ALL));
    let p = b_in(&mut h, syn(40000, 80));
    let out = h.run("ingress", vec![p]);
    assert_eq!(out.dropped("rejected"), 1);
    let r = only(&out, "reject-route");
    // As if B sent it: from B's port in network 20, to the router.
    assert_eq!(r.reg(h.reg(SOURCE_PORT_KEY)), 2);
    assert_eq!(r.reg(h.reg(NETWORK_KEY)), 20);
    assert_eq!(r.reg(h.reg(ROUTER_KEY)), 1);
    let eth = EthernetFrame::new_checked(r.data()).unwrap();
    assert_eq!((eth.src_addr(), eth.dst_addr()), (MAC_B, MAC_R20));
    let ip = Ipv4Packet::new_checked(&r.data()[ETH..]).unwrap();
    assert_eq!(ip.dst_addr(), A.parse::<Ipv4Addr>().unwrap());
}

#[test]
fn no_reply_about_resets_errors_fragments_or_broadcast() {
    let mut h = harness(&groups(REJECT_ALL, "null", "null", "null"));
    let rst = L4::Tcp {
        sport: 1,
        dport: 2,
        flags: TcpFlags::RST,
        seq: 1,
        ack: 0,
        len: 0,
    };
    let unreachable = L4::Icmp {
        ty: 3,
        code: 3,
        rest: [0; 4],
        data: &[0x45, 0, 0, 28],
    };
    let later = fragment4(MAC_A, MAC_R10, (A, B), IpProtocol::Udp, 8, false, &[0; 8]);
    let cases = vec![
        frame(MAC_A, MAC_R10, A, B, rst),
        frame(MAC_A, MAC_R10, A, B, unreachable),
        later,
        frame(MAC_A, MAC_R10, A, "255.255.255.255", udp(68, 67)),
        frame(MAC_A, MAC_R10, "0.0.0.0", B, udp(68, 67)),
    ];
    for f in cases {
        let p = egress_a(&mut h, &f);
        let out = expect(&mut h, "egress", p, "rejected");
        assert!(out.sent.is_empty());
        assert_eq!(notes(&out, trace::REPLY_SUPPRESSED).len(), 1);
    }
}

#[test]
fn reject_replies_are_rate_limited_per_port() {
    let mut h = harness(&groups(REJECT_ALL, "null", "null", REJECT_ALL));
    let pkts = (0..3).map(|i| a_out(&mut h, udp(5000 + i, 53))).collect();
    let out = h.run("egress", pkts);
    assert_eq!(out.by_exit("reject-reply").len(), 2, "burst 2");
    assert_eq!(out.dropped("rejected"), 2);
    assert_eq!(out.dropped("reject-rate-limited"), 1);
    assert_eq!(notes(&out, trace::REPLY_RATE_LIMITED), vec![100]);
    // Another port has its own bucket.
    let p = b_in(&mut h, udp(5000, 53));
    let out = h.run("ingress", vec![p]);
    assert_eq!(out.by_exit("reject-route").len(), 1);
    // 100 cycles (0.1 s at 1000 Hz) earn one more reply.
    h.set_now(1_100);
    let pkts = (0..2).map(|i| a_out(&mut h, udp(6000 + i, 53))).collect();
    let out = h.run("egress", pkts);
    assert_eq!(out.by_exit("reject-reply").len(), 1);
    assert_eq!(out.dropped("reject-rate-limited"), 1);
}
