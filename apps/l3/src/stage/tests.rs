//! Stage tests: real frames built with df-wire Reprs, results parsed back
//! with df-wire (checksums verified), every exit and drop reason.

use std::net::{Ipv4Addr, Ipv6Addr};

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, ROUTER_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_dp::trace::TraceEvent;
use df_dp::Packet;
use df_wire::{
    ChecksumPolicy, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Icmpv4Packet,
    Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4OptionBytes, Ipv4Packet, Ipv4Repr,
    Ipv6Packet, Ipv6Repr,
};

use crate::tables::tests::base;
use crate::trace;
use crate::L3App;

const R1: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 1, 1]);
const R2: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 2, 1]);
const R3: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 3, 1]);
const VM5: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 5]);
const VM6: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 6]);

/// Registers of a packet from port 5 (network 1) claimed for router 7.
const FROM5: [(&str, u32); 4] = [
    (ROUTER_KEY, 7),
    (NETWORK_KEY, 1),
    (SOURCE_PORT_KEY, 5),
    (DESTINATION_PORT_KEY, 11),
];

/// The base config; `limited`: with the default ICMP rates (3/s), else none.
fn harness(limited: bool) -> StageHarness<L3App> {
    let mut cfg = base();
    if !limited {
        cfg["time_exceeded_rate"] = serde_json::json!({"per_sec": 0});
        cfg["unreachable_rate"] = serde_json::json!({"per_sec": 0});
    }
    let mut h = StageHarness::<L3App>::new("").unwrap();
    h.configure_json(&cfg.to_string()).unwrap();
    h
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn eth(src: EthernetAddress, dst: EthernetAddress, ty: EtherType, l3: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 14 + l3.len()];
    EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        ethertype: ty,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    f[14..].copy_from_slice(l3);
    f
}

fn ipv4_opts(src: &str, dst: &str, ttl: u8, proto: IpProtocol, opts: &[u8], l4: &[u8]) -> Vec<u8> {
    let r = Ipv4Repr {
        src_addr: v4(src),
        dst_addr: v4(dst),
        protocol: proto,
        payload_len: l4.len(),
        ttl,
        dscp: 0,
        ecn: 0,
        ident: 0x1234,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionBytes::new(opts).unwrap(),
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b[r.header_len()..].copy_from_slice(l4);
    b
}

fn ipv4(src: &str, dst: &str, ttl: u8, proto: IpProtocol, l4: &[u8]) -> Vec<u8> {
    ipv4_opts(src, dst, ttl, proto, &[], l4)
}

/// An IPv4 frame from port 5 to the router's MAC in network 1.
fn from5(dst: &str, ttl: u8, proto: IpProtocol, l4: &[u8]) -> Vec<u8> {
    eth(
        VM5,
        R1,
        EtherType::Ipv4,
        &ipv4("10.0.1.5", dst, ttl, proto, l4),
    )
}

fn echo4(ident: u16, seq_no: u16, data: &[u8]) -> Vec<u8> {
    let r = Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
    b
}

/// A UDP datagram (checksum 0: the router never reads it).
fn udp(payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut b = vec![0x30, 0x39, 0x82, 0x9b];
    b.extend_from_slice(&len.to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(payload);
    b
}

fn ipv6(src: &str, dst: &str, hop_limit: u8, nh: IpProtocol, l4: &[u8]) -> Vec<u8> {
    let r = Ipv6Repr {
        src_addr: v6(src),
        dst_addr: v6(dst),
        next_header: nh,
        payload_len: l4.len(),
        hop_limit,
        traffic_class: 0,
        flow_label: 7,
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut Ipv6Packet::new_unchecked(&mut b[..]));
    b[40..].copy_from_slice(l4);
    b
}

fn from5_v6(dst: &str, hop_limit: u8, nh: IpProtocol, l4: &[u8]) -> Vec<u8> {
    eth(
        VM5,
        R1,
        EtherType::Ipv6,
        &ipv6("2001:db8:1::5", dst, hop_limit, nh, l4),
    )
}

fn echo6(src: &str, dst: &str, ident: u16, seq_no: u16, data: &[u8]) -> Vec<u8> {
    let r = Icmpv6Repr::EchoRequest {
        ident,
        seq_no,
        data,
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(
        &mut Icmpv6Packet::new_unchecked(&mut b[..]),
        &v6(src),
        &v6(dst),
    );
    b
}

fn run(h: &mut StageHarness<L3App>, frames: &[Vec<u8>]) -> Outcome {
    let pkts: Vec<Packet> = frames.iter().map(|f| h.packet(f, 0, &FROM5)).collect();
    h.run("route", pkts)
}

fn notes(out: &Outcome, what: &str) -> Vec<u64> {
    out.trace
        .iter()
        .filter_map(|r| match r.event {
            TraceEvent::Note(w, v) if w == what => Some(v),
            _ => None,
        })
        .collect()
}

/// Checks an Ethernet/IPv4 frame and returns its header repr and payload.
fn parse4(d: &[u8]) -> (EthernetRepr, Ipv4Repr, Vec<u8>) {
    let e = EthernetFrame::new_checked(d).unwrap();
    let er = EthernetRepr::parse(&e).unwrap();
    let ip = Ipv4Packet::new_checked(e.payload()).unwrap();
    let r = Ipv4Repr::parse(&ip, ChecksumPolicy::Verify).unwrap();
    (er, r, ip.payload().to_vec())
}

/// The ICMPv4 message of a reply, checksum verified.
fn icmp4(payload: &[u8]) -> Icmpv4Repr<'_> {
    Icmpv4Repr::parse(
        &Icmpv4Packet::new_checked(payload).unwrap(),
        ChecksumPolicy::Verify,
    )
    .unwrap()
}

fn parse6(d: &[u8]) -> (EthernetRepr, Ipv6Repr, Vec<u8>) {
    let e = EthernetFrame::new_checked(d).unwrap();
    let er = EthernetRepr::parse(&e).unwrap();
    let ip = Ipv6Packet::new_checked(e.payload()).unwrap();
    let r = Ipv6Repr::parse(&ip).unwrap();
    (er, r, ip.payload().to_vec())
}

fn icmp6<'a>(r: &Ipv6Repr, payload: &'a [u8]) -> Icmpv6Repr<'a> {
    Icmpv6Repr::parse(
        &Icmpv6Packet::new_checked(payload).unwrap(),
        &r.src_addr,
        &r.dst_addr,
        ChecksumPolicy::Verify,
    )
    .unwrap()
}

#[test]
fn ingress_filter_claims_router_ports_only() {
    let mut h = harness(false);
    let f = from5("10.0.2.6", 64, IpProtocol::Udp, &udp(b"x"));
    let to_router = h.packet(
        &f,
        0,
        &[
            (DESTINATION_PORT_KEY, 11),
            (NETWORK_KEY, 1),
            (SOURCE_PORT_KEY, 5),
        ],
    );
    let to_vm = h.packet(
        &f,
        0,
        &[
            (DESTINATION_PORT_KEY, 6),
            (NETWORK_KEY, 2),
            (SOURCE_PORT_KEY, 5),
        ],
    );
    let out = h.run("ingress-filter", vec![to_router, to_vm]);
    let router = h.reg(ROUTER_KEY);
    let m = out.by_exit("ingress-match");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].reg(router), 7);
    let fwd = out.by_exit("forward");
    assert_eq!(fwd.len(), 1);
    assert_eq!(
        (fwd[0].reg(router), fwd[0].data()),
        (0, &f[..]),
        "unchanged"
    );
    assert_eq!(notes(&out, trace::ROUTER_PORT), vec![7]);
    assert_eq!(notes(&out, trace::NOT_ROUTER_PORT), vec![6]);
    assert!(out.drops.is_empty());
    // Untraced: all claimed, none claimed, or mixed: the same outcome.
    let regs = |dst| {
        [
            (DESTINATION_PORT_KEY, dst),
            (NETWORK_KEY, 1),
            (SOURCE_PORT_KEY, 5),
        ]
    };
    for (dsts, claimed) in [(vec![11, 11, 11], 3), (vec![6, 6], 0), (vec![6, 11, 6], 1)] {
        let n = dsts.len();
        let pkts = dsts
            .iter()
            .map(|&d| h.packet_untraced(&f, 0, &regs(d)))
            .collect();
        let out = h.run("ingress-filter", pkts);
        let m = out.by_exit("ingress-match");
        assert_eq!(m.len(), claimed, "{dsts:?}");
        assert!(m.iter().all(|p| p.reg(router) == 7), "{dsts:?}");
        let fwd = out.by_exit("forward");
        assert_eq!(fwd.len(), n - claimed, "{dsts:?}");
        assert!(fwd.iter().all(|p| p.reg(router) == 0), "{dsts:?}");
        assert!(out.trace.is_empty());
    }
}

#[test]
fn routes_ipv4_between_subnets() {
    let mut h = harness(false);
    let payload = udp(b"hello, network 2");
    let out = run(&mut h, &[from5("10.0.2.6", 64, IpProtocol::Udp, &payload)]);
    let p = out.by_exit("post-route");
    assert_eq!(p.len(), 1, "{:?}", out.drops);
    let (e, ip, l4) = parse4(p[0].data());
    assert_eq!((e.src_addr, e.dst_addr), (R2, VM6));
    assert_eq!(
        (ip.src_addr, ip.dst_addr, ip.ttl),
        (v4("10.0.1.5"), v4("10.0.2.6"), 63)
    );
    assert_eq!((ip.ident, ip.dont_frag), (0x1234, true));
    assert_eq!(l4, payload);
    assert_eq!(p[0].reg(h.reg(NETWORK_KEY)), 2);
    assert_eq!(p[0].reg(h.reg(DESTINATION_PORT_KEY)), 6);
    assert_eq!(p[0].reg(h.reg(SOURCE_PORT_KEY)), 5);
    let prefix = u64::from(u32::from(v4("10.0.2.0"))) << 8 | 24;
    assert_eq!(notes(&out, trace::ROUTE_V4), vec![prefix]);
    assert_eq!(notes(&out, trace::NEXT_HOP_PORT), vec![6]);
    assert_eq!(notes(&out, trace::TTL_AFTER), vec![63]);
}

#[test]
fn incremental_checksum_equals_a_recompute() {
    let mut h = harness(false);
    for ttl in 2..=255u8 {
        let mut f = from5("10.0.2.6", ttl, IpProtocol::Udp, &udp(&[ttl; 3]));
        // Vary the checksum's other inputs too.
        let mut ip = Ipv4Packet::new_unchecked(&mut f[14..34]);
        ip.set_ident(u16::from(ttl).wrapping_mul(0x0101) ^ 0xffff);
        ip.fill_checksum();
        let out = run(&mut h, &[f]);
        let d = out.by_exit("post-route")[0].data().to_vec();
        let mut want = d[14..34].to_vec();
        let mut w = Ipv4Packet::new_unchecked(&mut want[..]);
        w.fill_checksum();
        assert_eq!(&d[14..34], &want[..], "ttl {ttl}");
        assert_eq!(d[22], ttl - 1);
    }
}

#[test]
fn ipv4_options_are_kept() {
    let mut h = harness(false);
    let opts = [1, 1, 1, 0];
    let ip = ipv4_opts(
        "10.0.1.5",
        "10.0.2.6",
        9,
        IpProtocol::Udp,
        &opts,
        &udp(b"o"),
    );
    let out = run(&mut h, &[eth(VM5, R1, EtherType::Ipv4, &ip)]);
    let (_, r, _) = parse4(out.by_exit("post-route")[0].data());
    assert_eq!((r.options.as_slice(), r.ttl), (&opts[..], 8));
}

#[test]
fn routes_ipv6_between_subnets() {
    let mut h = harness(false);
    let payload = udp(b"v6");
    let f = from5_v6("2001:db8:2::6", 64, IpProtocol::Udp, &payload);
    let out = run(&mut h, &[f]);
    let p = out.by_exit("post-route");
    assert_eq!(p.len(), 1, "{:?}", out.drops);
    let (e, ip, l4) = parse6(p[0].data());
    assert_eq!((e.src_addr, e.dst_addr), (R2, VM6));
    assert_eq!(
        (ip.dst_addr, ip.hop_limit, ip.flow_label),
        (v6("2001:db8:2::6"), 63, 7)
    );
    assert_eq!(l4, payload);
    assert_eq!(p[0].reg(h.reg(NETWORK_KEY)), 2);
    assert_eq!(p[0].reg(h.reg(DESTINATION_PORT_KEY)), 6);
    assert_eq!(notes(&out, trace::ROUTE_V6), vec![0x2001_0db8_0002_0000]);
    assert_eq!(notes(&out, trace::ROUTE_V6_LEN), vec![64]);
    assert_eq!(notes(&out, trace::TTL_AFTER), vec![63]);
}

#[test]
fn extra_routes_longest_prefix_and_pairs() {
    let mut h = harness(false);
    let l4 = udp(b"x");
    let out = run(
        &mut h,
        &[
            from5("172.16.9.9", 64, IpProtocol::Udp, &l4),
            from5("172.16.5.9", 64, IpProtocol::Udp, &l4),
            from5("10.0.2.100", 64, IpProtocol::Udp, &l4),
            from5_v6("2001:db8:99:1::1", 64, IpProtocol::Udp, &l4),
        ],
    );
    let p = out.by_exit("post-route");
    assert_eq!(p.len(), 4, "{:?}", out.drops);
    let dst = h.reg(DESTINATION_PORT_KEY);
    let net = h.reg(NETWORK_KEY);
    let got: Vec<(u32, u32, EthernetAddress, EthernetAddress)> = p
        .iter()
        .map(|q| {
            let e = EthernetFrame::new_checked(q.data()).unwrap();
            (q.reg(dst), q.reg(net), e.src_addr(), e.dst_addr())
        })
        .collect();
    let mac = |b: u8| EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, b]);
    assert_eq!(
        got,
        vec![
            (8, 3, R3, mac(8)),
            (9, 3, R3, mac(9)),
            (6, 2, R2, mac(0x99)),
            (10, 2, R2, mac(0x10)),
        ]
    );
    let via = |s: &str| u64::from(u32::from(v4(s)));
    assert_eq!(
        notes(&out, trace::VIA),
        vec![via("10.0.3.254"), via("10.0.3.253"), 0x99]
    );
    let p16 = u64::from(u32::from(v4("172.16.0.0"))) << 8 | 16;
    let p24 = u64::from(u32::from(v4("172.16.5.0"))) << 8 | 24;
    assert_eq!(notes(&out, trace::ROUTE_V4)[..2], [p16, p24]);
}

#[test]
fn echo_reply_v4() {
    let mut h = harness(false);
    let req = echo4(0x4242, 7, b"abcdefgh");
    let out = run(&mut h, &[from5("10.0.2.1", 1, IpProtocol::Icmp, &req)]);
    let r = out.by_exit("local-reply");
    assert_eq!(r.len(), 1, "{:?}", out.drops);
    assert_eq!(r[0].reg(h.reg(DESTINATION_PORT_KEY)), 5);
    let (e, ip, l4) = parse4(r[0].data());
    assert_eq!((e.src_addr, e.dst_addr), (R1, VM5));
    assert_eq!(
        (ip.src_addr, ip.dst_addr, ip.ttl),
        (v4("10.0.2.1"), v4("10.0.1.5"), 64)
    );
    assert_eq!(
        icmp4(&l4),
        Icmpv4Repr::EchoReply {
            ident: 0x4242,
            seq_no: 7,
            data: b"abcdefgh"
        }
    );
    assert_eq!(notes(&out, trace::ECHO_REPLY), vec![5]);
}

#[test]
fn echo_reply_v6_also_behind_an_extension_header() {
    let mut h = harness(false);
    let (src, dst) = ("2001:db8:1::5", "2001:db8:2::1");
    let req = echo6(src, dst, 9, 1, b"ping6");
    let mut hbh = vec![58, 0, 1, 4, 0, 0, 0, 0];
    hbh.extend_from_slice(&req);
    let out = run(
        &mut h,
        &[
            from5_v6(dst, 64, IpProtocol::Icmpv6, &req),
            from5_v6(dst, 64, IpProtocol::HopByHop, &hbh),
        ],
    );
    let r = out.by_exit("local-reply");
    assert_eq!(r.len(), 2, "{:?}", out.drops);
    for (i, p) in r.iter().enumerate() {
        assert_eq!(p.reg(h.reg(DESTINATION_PORT_KEY)), 5);
        let (e, ip, l4) = parse6(p.data());
        assert_eq!((e.src_addr, e.dst_addr), (R1, VM5));
        assert_eq!(
            (ip.src_addr, ip.dst_addr, ip.hop_limit),
            (v6(dst), v6(src), 64)
        );
        let msg = &l4[if i == 0 { 0 } else { 8 }..];
        let want = Icmpv6Repr::EchoReply {
            ident: 9,
            seq_no: 1,
            data: b"ping6",
        };
        assert_eq!(icmp6(&ip, msg), want);
    }
}

#[test]
fn time_exceeded_quotes_the_header_and_comes_from_the_ingress_interface() {
    let mut h = harness(false);
    let opts = [1, 1, 1, 0];
    let l4 = udp(b"0123456789abcdef");
    let ip = ipv4_opts("10.0.1.5", "10.0.2.6", 1, IpProtocol::Udp, &opts, &l4);
    let f = eth(VM5, R1, EtherType::Ipv4, &ip);
    let out = run(&mut h, std::slice::from_ref(&f));
    assert_eq!(out.dropped("ttl-expired"), 1);
    let r = out.by_exit("local-reply");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].reg(h.reg(DESTINATION_PORT_KEY)), 5);
    assert_eq!(r[0].reg(h.reg(NETWORK_KEY)), 1);
    let (e, rip, payload) = parse4(r[0].data());
    assert_eq!(
        (e.src_addr, e.dst_addr, e.ethertype),
        (R1, VM5, EtherType::Ipv4)
    );
    assert_eq!(
        (rip.src_addr, rip.dst_addr),
        (v4("10.0.1.1"), v4("10.0.1.5"))
    );
    assert_eq!((rip.protocol, rip.ttl), (IpProtocol::Icmp, 64));
    assert_eq!(
        icmp4(&payload),
        Icmpv4Repr::TimeExceeded {
            code: 0,
            data: &f[14..14 + 24 + 8]
        },
        "the original header with its options, and 8 bytes"
    );
    assert_eq!(notes(&out, trace::TTL_EXPIRED), vec![1]);
    assert_eq!(notes(&out, trace::ICMP_SENT), vec![11 << 8, 11 << 8]);
}

#[test]
fn time_exceeded_v6_fits_in_1280_bytes() {
    let mut h = harness(false);
    let small = from5_v6("2001:db8:2::6", 1, IpProtocol::Udp, &udp(b"s"));
    let big = from5_v6("2001:db8:2::6", 0, IpProtocol::Udp, &udp(&[7; 1400]));
    let out = run(&mut h, &[small.clone(), big.clone()]);
    assert_eq!(out.dropped("ttl-expired"), 2);
    let r = out.by_exit("local-reply");
    assert_eq!(r.len(), 2);
    let (e, ip, payload) = parse6(r[0].data());
    assert_eq!((e.src_addr, e.dst_addr), (R1, VM5));
    assert_eq!(
        (ip.src_addr, ip.dst_addr),
        (v6("2001:db8:1::1"), v6("2001:db8:1::5"))
    );
    assert_eq!(
        icmp6(&ip, &payload),
        Icmpv6Repr::TimeExceeded {
            code: 0,
            data: &small[14..]
        }
    );
    let (_, ip, payload) = parse6(r[1].data());
    assert_eq!(40 + payload.len(), 1280);
    assert_eq!(
        icmp6(&ip, &payload),
        Icmpv6Repr::TimeExceeded {
            code: 0,
            data: &big[14..14 + 1232]
        }
    );
}

/// (type, code, source) of the one ICMPv4 error in `out`, and its quote.
fn error4(out: &Outcome) -> (u8, u8, Ipv4Addr) {
    let r = out.by_exit("local-reply");
    assert_eq!(r.len(), 1, "{:?}", out.drops);
    let (_, ip, payload) = parse4(r[0].data());
    match icmp4(&payload) {
        Icmpv4Repr::DstUnreachable { reason, data, .. } => {
            assert_eq!(data.len(), 28);
            (3, u8::from(reason), ip.src_addr)
        }
        Icmpv4Repr::TimeExceeded { code, .. } => (11, code, ip.src_addr),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unreachables_v4() {
    let mut h = harness(false);
    let l4 = udp(b"12345678");
    let out = run(&mut h, &[from5("8.8.8.8", 64, IpProtocol::Udp, &l4)]);
    assert_eq!(error4(&out), (3, 0, v4("10.0.1.1")));
    assert_eq!(out.dropped("no-route"), 1);
    assert_eq!(
        notes(&out, trace::NO_ROUTE),
        vec![u64::from(u32::from(v4("8.8.8.8")))]
    );

    let out = run(&mut h, &[from5("10.0.2.77", 64, IpProtocol::Udp, &l4)]);
    assert_eq!(error4(&out), (3, 1, v4("10.0.1.1")));
    assert_eq!(out.dropped("host-unreachable"), 1);

    let out = run(&mut h, &[from5("192.168.1.1", 64, IpProtocol::Udp, &l4)]);
    assert_eq!(
        error4(&out),
        (3, 1, v4("10.0.1.1")),
        "next hop not resolved"
    );
    assert_eq!(
        notes(&out, trace::NO_HOST),
        vec![u64::from(u32::from(v4("10.0.3.250")))]
    );

    let out = run(&mut h, &[from5("10.0.2.1", 64, IpProtocol::Udp, &l4)]);
    assert_eq!(
        error4(&out),
        (3, 3, v4("10.0.2.1")),
        "from the address asked"
    );
    assert_eq!(out.dropped("port-unreachable"), 1);
    let out = run(&mut h, &[from5("10.0.1.1", 1, IpProtocol::Tcp, &[0; 20])]);
    assert_eq!(
        error4(&out),
        (3, 3, v4("10.0.1.1")),
        "TTL 1 to the router is fine"
    );
}

#[test]
fn unreachables_v6() {
    let mut h = harness(false);
    let l4 = udp(b"x");
    let cases = [
        (
            "2001:db8:77::1",
            IpProtocol::Udp,
            1,
            0,
            "2001:db8:1::1",
            "no-route",
        ),
        (
            "2001:db8:2::77",
            IpProtocol::Udp,
            1,
            3,
            "2001:db8:1::1",
            "host-unreachable",
        ),
        (
            "2001:db8:2::1",
            IpProtocol::Tcp,
            1,
            4,
            "2001:db8:2::1",
            "port-unreachable",
        ),
    ];
    for (dst, proto, ty, code, from, reason) in cases {
        let out = run(&mut h, &[from5_v6(dst, 64, proto, &l4)]);
        assert_eq!(out.dropped(reason), 1, "{dst}");
        let r = out.by_exit("local-reply");
        assert_eq!(r.len(), 1, "{dst}");
        let (_, ip, payload) = parse6(r[0].data());
        assert_eq!(ip.src_addr, v6(from), "{dst}");
        let (t, c) = match icmp6(&ip, &payload) {
            Icmpv6Repr::DstUnreachable { code, .. } => (1, code),
            other => panic!("{other:?}"),
        };
        assert_eq!((t, c), (ty, code), "{dst}");
    }
}

#[test]
fn icmp_errors_are_rate_limited_then_recover() {
    let mut h = harness(true);
    let ttl1 = from5("10.0.2.6", 1, IpProtocol::Udp, &udp(b"t"));
    let burst: Vec<Vec<u8>> = (0..5).map(|_| ttl1.clone()).collect();
    let out = run(&mut h, &burst);
    assert_eq!(out.by_exit("local-reply").len(), 3, "burst of 3");
    assert_eq!(out.dropped("rate-limited"), 2);
    assert_eq!(out.dropped("ttl-expired"), 3);
    assert_eq!(
        notes(&out, trace::ICMP_RATE_LIMITED),
        vec![11 << 8, 11 << 8]
    );

    // Unreachables have their own bucket.
    let out = run(&mut h, &[from5("8.8.8.8", 64, IpProtocol::Udp, &udp(b"u"))]);
    assert_eq!(out.by_exit("local-reply").len(), 1);

    // tsc_hz 1000 at 3/s: one token per 333 cycles.
    h.set_now(1 + 333);
    let out = run(&mut h, &burst[..2]);
    assert_eq!(out.by_exit("local-reply").len(), 1);
    assert_eq!(out.dropped("rate-limited"), 1);
    h.set_now(1 + 333 + 10_000);
    let out = run(&mut h, &burst);
    assert_eq!(
        out.by_exit("local-reply").len(),
        3,
        "refilled, up to the burst"
    );
    assert_eq!(out.dropped("rate-limited"), 2);

    // Echo replies are not rate-limited.
    let echo = from5("10.0.1.1", 64, IpProtocol::Icmp, &echo4(1, 1, b""));
    let out = run(&mut h, &vec![echo; 10]);
    assert_eq!(out.by_exit("local-reply").len(), 10);
}

#[test]
fn errors_are_not_sent_about_errors_fragments_or_without_a_source() {
    let mut h = harness(false);
    // An ICMP error with TTL 1.
    let mut err = vec![3, 1, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&[0x45; 28]);
    let about_error = from5("10.0.2.6", 1, IpProtocol::Icmp, &err);
    // A non-first fragment with TTL 1.
    let mut frag = ipv4("10.0.1.5", "10.0.2.6", 1, IpProtocol::Udp, &[0; 16]);
    {
        let mut ip = Ipv4Packet::new_unchecked(&mut frag[..]);
        ip.set_fragment(false, false, 8);
        ip.fill_checksum();
    }
    let frag = eth(VM5, R1, EtherType::Ipv4, &frag);
    // An ICMPv6 error with hop limit 1.
    let about_error6 = from5_v6(
        "2001:db8:2::6",
        1,
        IpProtocol::Icmpv6,
        &[1, 3, 0, 0, 0, 0, 0, 0],
    );
    let out = run(&mut h, &[about_error, frag, about_error6]);
    assert!(out.by_exit("local-reply").is_empty());
    assert_eq!(out.dropped("ttl-expired"), 3);
    assert_eq!(
        notes(&out, trace::ICMP_SUPPRESSED),
        vec![11 << 8, 11 << 8, 3 << 8]
    );

    // Router 8 has no IPv6 address to send from.
    let f = eth(
        VM5,
        EthernetAddress([0xfa, 0x16, 0x3e, 0, 4, 1]),
        EtherType::Ipv6,
        &ipv6(
            "2001:db8:4::5",
            "2001:db8:9::1",
            64,
            IpProtocol::Udp,
            &udp(b"x"),
        ),
    );
    let p = h.packet(
        &f,
        0,
        &[(ROUTER_KEY, 8), (NETWORK_KEY, 4), (SOURCE_PORT_KEY, 31)],
    );
    let out = h.run("route", vec![p]);
    assert!(out.by_exit("local-reply").is_empty());
    assert_eq!(out.dropped("no-route"), 1);
    assert_eq!(notes(&out, trace::ICMP_NO_SOURCE), vec![1 << 8]);
}

#[test]
fn packets_to_the_router_it_does_not_answer() {
    let mut h = harness(false);
    let mut frag_echo = ipv4(
        "10.0.1.5",
        "10.0.1.1",
        64,
        IpProtocol::Icmp,
        &echo4(1, 1, b"big"),
    );
    {
        let mut ip = Ipv4Packet::new_unchecked(&mut frag_echo[..]);
        ip.set_fragment(false, true, 0);
        ip.fill_checksum();
    }
    let frag_echo = eth(VM5, R1, EtherType::Ipv4, &frag_echo);
    let echo = echo6("2001:db8:1::5", "2001:db8:1::1", 1, 1, b"big");
    let mut frag6 = vec![58, 0, 0, 1, 0, 0, 0, 9];
    frag6.extend_from_slice(&echo);
    let timestamp = [13, 0, 0xf2, 0xff, 0, 0, 0, 0];
    let out = run(
        &mut h,
        &[
            frag_echo,
            from5_v6("2001:db8:1::1", 64, IpProtocol::Ipv6Frag, &frag6),
            from5("10.0.1.1", 64, IpProtocol::Icmp, &timestamp),
            from5("10.0.1.1", 64, IpProtocol::Gre, &[0; 8]),
            from5_v6(
                "2001:db8:1::1",
                64,
                IpProtocol::Icmpv6,
                &[135, 0, 0, 0, 0, 0, 0, 0],
            ),
        ],
    );
    assert!(out.sent.is_empty());
    assert_eq!(out.dropped("fragment-to-router"), 2);
    assert_eq!(out.dropped("to-router"), 3);
    assert_eq!(notes(&out, trace::TO_ROUTER), vec![1, 47, 58]);
}

#[test]
fn martians() {
    let mut h = harness(false);
    let l4 = udp(b"m");
    let spoofed_loopback = eth(
        VM5,
        R1,
        EtherType::Ipv4,
        &ipv4("127.0.0.1", "10.0.2.6", 64, IpProtocol::Udp, &l4),
    );
    let out = run(
        &mut h,
        &[
            spoofed_loopback,
            from5("224.0.0.5", 64, IpProtocol::Udp, &l4),
            from5("10.0.2.255", 64, IpProtocol::Udp, &l4),
            from5("255.255.255.255", 64, IpProtocol::Udp, &l4),
            from5_v6("fe80::6", 64, IpProtocol::Udp, &l4),
            from5_v6("ff02::1", 64, IpProtocol::Udp, &l4),
            eth(
                VM5,
                R1,
                EtherType::Ipv6,
                &ipv6("fe80::5", "2001:db8:2::6", 64, IpProtocol::Udp, &l4),
            ),
        ],
    );
    assert!(out.sent.is_empty());
    assert_eq!(out.dropped("martian"), 7);
    assert_eq!(notes(&out, trace::MARTIAN_SRC).len(), 2);
    assert_eq!(notes(&out, trace::MARTIAN_DST).len(), 5);
}

#[test]
fn malformed_non_ip_and_unknown_router() {
    let mut h = harness(false);
    let good = from5("10.0.2.6", 64, IpProtocol::Udp, &udp(b"g"));
    let mut bad_sum = good.clone();
    bad_sum[24] ^= 0xff;
    let mut bad_version = good.clone();
    bad_version[14] = 0x55;
    let truncated = good[..good.len() - 4].to_vec();
    let v6 = from5_v6("2001:db8:2::6", 64, IpProtocol::Udp, &udp(b"g"));
    let arp = eth(VM5, R1, EtherType::Arp, &[0; 28]);
    let vlan = eth(VM5, R1, EtherType::Vlan, &[0; 46]);
    let short_icmp = from5("10.0.1.1", 64, IpProtocol::Icmp, &[8, 0, 0]);
    let bad_ext = from5_v6(
        "2001:db8:1::1",
        64,
        IpProtocol::HopByHop,
        &[58, 9, 0, 0, 0, 0, 0, 0],
    );
    let out = run(
        &mut h,
        &[
            good[..10].to_vec(),
            bad_sum,
            bad_version,
            truncated,
            v6[..50].to_vec(),
            short_icmp,
            bad_ext,
            arp,
            vlan,
        ],
    );
    assert!(out.sent.is_empty());
    assert_eq!(out.dropped("malformed"), 7);
    assert_eq!(out.dropped("not-ip"), 2);
    assert_eq!(notes(&out, trace::NOT_IP), vec![0x0806, 0x8100]);

    let p = h.packet(
        &good,
        0,
        &[(ROUTER_KEY, 99), (NETWORK_KEY, 1), (SOURCE_PORT_KEY, 5)],
    );
    let out = h.run("route", vec![p]);
    assert_eq!(out.dropped("unknown-router"), 1);
    assert_eq!(notes(&out, trace::UNKNOWN_ROUTER), vec![99]);

    let mut empty = StageHarness::<L3App>::new("").unwrap();
    let p = empty.packet(&good, 0, &FROM5);
    assert_eq!(empty.run("route", vec![p]).dropped("unknown-router"), 1);
    let p = empty.packet(&good, 0, &FROM5);
    assert_eq!(
        empty
            .run("ingress-filter", vec![p])
            .by_exit("forward")
            .len(),
        1
    );
}

#[test]
fn params_and_unknown_fields_are_refused() {
    assert!(StageHarness::<L3App>::new("{a: 1}").is_err());
    let mut h = StageHarness::<L3App>::new("").unwrap();
    let e = h.configure_json(r#"{"routers": [], "x": 1}"#).unwrap_err();
    assert!(e.contains("unknown field `x`"), "{e}");
}

#[test]
fn a_new_config_keeps_working() {
    let mut h = harness(true);
    let ttl1 = from5("10.0.2.6", 1, IpProtocol::Udp, &udp(b"t"));
    let out = run(&mut h, &vec![ttl1.clone(); 4]);
    assert_eq!(out.by_exit("local-reply").len(), 3);
    // Republishing (a new generation) keeps router 7's buckets.
    let mut cfg = base();
    cfg["routers"].as_array_mut().unwrap().swap(0, 1);
    h.configure_json(&cfg.to_string()).unwrap();
    let out = run(&mut h, &[ttl1]);
    assert_eq!(
        out.dropped("rate-limited"),
        1,
        "the bucket followed the router"
    );
}

/// A router with an external network hands what it cannot route
/// east-west to `out.external`, unchanged, instead of answering with an
/// ICMP network unreachable; routed traffic is not affected.
#[test]
fn unrouted_ipv4_of_an_external_router_goes_to_nat() {
    let mut cfg = base();
    cfg["routers"][0]["external"] = serde_json::json!(true);
    let mut h = StageHarness::<L3App>::new("").unwrap();
    h.configure_json(&cfg.to_string()).unwrap();
    let l4 = udp(b"12345678");
    let pkt = from5("8.8.8.8", 64, IpProtocol::Udp, &l4);
    let out = run(&mut h, std::slice::from_ref(&pkt));
    let ext = out.by_exit("external");
    assert_eq!(ext.len(), 1, "{:?}", out.drops);
    assert_eq!(ext[0].data(), &pkt[..], "unchanged: nat decrements the TTL");
    assert!(out.by_exit("local-reply").is_empty());
    assert_eq!(
        notes(&out, trace::TO_EXTERNAL),
        vec![u64::from(u32::from(v4("8.8.8.8")))]
    );
    let out = run(&mut h, &[from5("10.0.2.6", 64, IpProtocol::Udp, &l4)]);
    assert_eq!(out.by_exit("post-route").len(), 1, "east-west still routed");
}
