//! Stage tests: translation both ways with checksums recomputed from
//! scratch, next hops, ARP requests and their rate limit, learning from
//! ARP, TTL, fragments and every drop reason.

use std::net::Ipv4Addr;

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_dp::trace::TraceEvent;
use df_dp::Packet;
use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
    Icmpv4Message, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr, PseudoHeader,
    TcpFlags, TcpPacket, TcpRepr, UdpPacket, UdpRepr,
};

use crate::NatApp;

/// Floating IP 198.18.0.10 (port 50) of VM 10.0.0.5 (port 5, network 1) on
/// external network 100 (198.18.0.0/24, gateway .1); 203.0.113.3 (port 60)
/// of 10.0.0.6 (port 6) on network 101 (no gateway). TSC at 1 GHz: ARP
/// requests at most every 100_000_000 cycles.
pub(super) const CFG: &str = r#"{
    "tsc_hz": 1000000000,
    "external_networks": [
        {"network_key": 100, "cidr": "198.18.0.0/24", "gateway": "198.18.0.1"},
        {"network_key": 101, "cidr": "203.0.113.0/28"}],
    "floating_ips": [
        {"floating_ip": "198.18.0.10", "fixed_ip": "10.0.0.5", "port_key": 5, "network_key": 1,
         "mac": "fa:16:3e:00:00:05", "router_mac": "fa:16:3e:00:00:01",
         "floating_port_key": 50, "floating_mac": "fa:16:3e:00:00:50",
         "external_network_key": 100},
        {"floating_ip": "203.0.113.3", "fixed_ip": "10.0.0.6", "port_key": 6, "network_key": 1,
         "mac": "fa:16:3e:00:00:06", "router_mac": "fa:16:3e:00:00:01",
         "floating_port_key": 60, "floating_mac": "fa:16:3e:00:00:60",
         "external_network_key": 101}]
}"#;

const INTERVAL: u64 = 100_000_000;

pub(super) fn mac(s: &str) -> EthernetAddress {
    s.parse().unwrap()
}

pub(super) fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub(super) const MV: &str = "fa:16:3e:00:00:05";
pub(super) const MR: &str = "fa:16:3e:00:00:01";
pub(super) const MF: &str = "fa:16:3e:00:00:50";
pub(super) const GW_MAC: &str = "52:54:00:00:00:01";
pub(super) const P: &str = "198.18.0.10";
pub(super) const F: &str = "10.0.0.5";
pub(super) const GW: &str = "198.18.0.1";

pub(super) fn harness() -> StageHarness<NatApp> {
    let mut h = StageHarness::<NatApp>::new("").unwrap();
    h.configure_json(CFG).unwrap();
    h
}

/// What rides on IPv4 in a test frame.
#[derive(Clone, Copy)]
enum L4 {
    Echo,
    EchoReply,
    Udp,
    /// UDP without a checksum (0).
    UdpNoSum,
    Tcp,
    TimeExceeded,
    Redirect,
    /// Raw bytes with this protocol (no transport checksum).
    Raw(IpProtocol, &'static [u8]),
}

/// An IPv4 frame `src` -> `dst` with `ttl`, fragment fields as given.
fn ipv4_frag(src: &str, dst: &str, ttl: u8, l4: L4, more_frags: bool, frag_offset: u16) -> Vec<u8> {
    let (src, dst) = (ip(src), ip(dst));
    let ph = PseudoHeader::V4 { src, dst };
    let payload: &[u8] = b"floating ip payload!";
    let (proto, len) = match l4 {
        L4::Echo | L4::EchoReply => (IpProtocol::Icmp, 8 + payload.len()),
        L4::TimeExceeded | L4::Redirect => (IpProtocol::Icmp, 8 + 28),
        L4::Udp | L4::UdpNoSum => (IpProtocol::Udp, 8 + payload.len()),
        L4::Tcp => (IpProtocol::Tcp, 20 + payload.len()),
        L4::Raw(p, b) => (p, b.len()),
    };
    let mut f = vec![0u8; 34 + len];
    EthernetRepr {
        src_addr: mac("02:00:00:00:00:aa"),
        dst_addr: mac("02:00:00:00:00:bb"),
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: proto,
        payload_len: len,
        ttl,
        dscp: 0,
        ecn: 0,
        ident: 0x1234,
        dont_frag: false,
        more_frags,
        frag_offset,
        options: Default::default(),
    }
    .emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
    let l4buf = &mut f[34..];
    match l4 {
        L4::Echo => Icmpv4Repr::EchoRequest {
            ident: 7,
            seq_no: 1,
            data: payload,
        }
        .emit(&mut Icmpv4Packet::new_unchecked(l4buf)),
        L4::EchoReply => Icmpv4Repr::EchoReply {
            ident: 7,
            seq_no: 1,
            data: payload,
        }
        .emit(&mut Icmpv4Packet::new_unchecked(l4buf)),
        L4::TimeExceeded => Icmpv4Repr::TimeExceeded {
            code: 0,
            data: &[0x45; 28],
        }
        .emit(&mut Icmpv4Packet::new_unchecked(l4buf)),
        L4::Redirect => Icmpv4Repr::Other {
            msg_type: Icmpv4Message::Redirect,
            code: 1,
            rest: [198, 18, 0, 1],
            data: &[0x45; 28],
        }
        .emit(&mut Icmpv4Packet::new_unchecked(l4buf)),
        L4::Udp | L4::UdpNoSum => {
            l4buf[8..].copy_from_slice(payload);
            UdpRepr {
                src_port: 5353,
                dst_port: 53,
                payload_len: payload.len(),
            }
            .emit(&mut UdpPacket::new_unchecked(&mut *l4buf), &ph);
            if matches!(l4, L4::UdpNoSum) {
                UdpPacket::new_unchecked(l4buf).set_checksum(0);
            }
        }
        L4::Tcp => {
            l4buf[20..].copy_from_slice(payload);
            TcpRepr {
                src_port: 40000,
                dst_port: 443,
                seq_number: 0x0102_0304,
                ack_number: 0x0a0b_0c0d,
                flags: TcpFlags::ACK,
                window_len: 512,
                urgent_at: 0,
                max_seg_size: None,
                window_scale: None,
                sack_permitted: false,
                timestamps: None,
                payload_len: payload.len(),
            }
            .emit(&mut TcpPacket::new_unchecked(l4buf), &ph);
        }
        L4::Raw(_, b) => l4buf.copy_from_slice(b),
    }
    f
}

fn ipv4(src: &str, dst: &str, ttl: u8, l4: L4) -> Vec<u8> {
    ipv4_frag(src, dst, ttl, l4, false, 0)
}

/// An ARP frame from (`sha`, `spa`) about `tpa`.
pub(super) fn arp(op: ArpOperation, sha: &str, spa: &str, tpa: &str) -> Vec<u8> {
    let mut f = vec![0u8; 42];
    EthernetRepr {
        src_addr: mac(sha),
        dst_addr: mac(MF),
        ethertype: EtherType::Arp,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    ArpRepr {
        operation: op,
        source_hardware_addr: mac(sha),
        source_protocol_addr: ip(spa),
        target_hardware_addr: mac(MF),
        target_protocol_addr: ip(tpa),
    }
    .emit(&mut ArpPacket::new_unchecked(&mut f[14..]));
    f
}

pub(super) fn egress(h: &mut StageHarness<NatApp>, frames: &[Vec<u8>], port: u32) -> Outcome {
    let pkts: Vec<Packet> = frames
        .iter()
        .map(|f| h.packet(f, 1, &[(SOURCE_PORT_KEY, port), (NETWORK_KEY, 1)]))
        .collect();
    h.run("egress", pkts)
}

pub(super) fn ingress(h: &mut StageHarness<NatApp>, frames: &[Vec<u8>], port: u32) -> Outcome {
    let pkts: Vec<Packet> = frames
        .iter()
        .map(|f| h.packet(f, 2, &[(DESTINATION_PORT_KEY, port)]))
        .collect();
    h.run("ingress", pkts)
}

/// Teaches the cache `spa` -> `sha` through an ARP reply to port 50.
pub(super) fn learn(h: &mut StageHarness<NatApp>, sha: &str, spa: &str) {
    let out = ingress(h, &[arp(ArpOperation::Reply, sha, spa, P)], 50);
    assert_eq!(out.dropped("arp-consumed"), 1);
    assert!(out.sent.is_empty() && out.tx.is_empty());
}

/// Checks a translated frame: addresses, TTL, the IPv4 checksum, and the
/// transport checksum equal to one recomputed from scratch.
pub(super) fn check_ipv4(d: &[u8], src: &str, dst: &str, ttl: u8) {
    let ipp = Ipv4Packet::new_checked(&d[14..]).unwrap();
    assert!(ipp.verify_checksum(), "IPv4 header checksum");
    assert_eq!((ipp.src_addr(), ipp.dst_addr()), (ip(src), ip(dst)));
    assert_eq!(ipp.ttl(), ttl);
    let ph = PseudoHeader::V4 {
        src: ip(src),
        dst: ip(dst),
    };
    let mut seg = ipp.payload().to_vec();
    match ipp.protocol() {
        IpProtocol::Tcp => {
            let got = TcpPacket::new_checked(&seg[..]).unwrap().checksum();
            assert!(TcpPacket::new_checked(&seg[..])
                .unwrap()
                .verify_checksum(&ph));
            let mut t = TcpPacket::new_unchecked(&mut seg[..]);
            t.fill_checksum(&ph);
            assert_eq!(got, t.checksum(), "TCP: incremental == recomputed");
        }
        IpProtocol::Udp => {
            let got = UdpPacket::new_checked(&seg[..]).unwrap().checksum();
            assert!(UdpPacket::new_checked(&seg[..])
                .unwrap()
                .verify_checksum(&ph));
            if got != 0 {
                let mut u = UdpPacket::new_unchecked(&mut seg[..]);
                u.fill_checksum(&ph);
                assert_eq!(got, u.checksum(), "UDP: incremental == recomputed");
            }
        }
        IpProtocol::Icmp => {
            assert!(Icmpv4Packet::new_checked(&seg[..])
                .unwrap()
                .verify_checksum());
        }
        _ => {}
    }
}

pub(super) fn eth(d: &[u8]) -> (EthernetAddress, EthernetAddress) {
    let e = EthernetFrame::new_checked(d).unwrap();
    (e.src_addr(), e.dst_addr())
}

pub(super) fn notes(out: &Outcome, what: &str) -> Vec<u64> {
    out.trace
        .iter()
        .filter_map(|r| match r.event {
            TraceEvent::Note(w, v) if w == what => Some(v),
            _ => None,
        })
        .collect()
}

#[test]
fn egress_translates_icmp_udp_and_tcp() {
    let mut h = harness();
    learn(&mut h, GW_MAC, GW);
    let (net, src) = (h.reg(NETWORK_KEY), h.reg(SOURCE_PORT_KEY));
    let frames: Vec<_> = [L4::Echo, L4::Udp, L4::Tcp]
        .iter()
        .map(|&l4| ipv4(F, "8.8.8.8", 64, l4))
        .collect();
    let out = egress(&mut h, &frames, 5);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let sent = out.by_exit("external");
    assert_eq!(sent.len(), 3);
    for (p, orig) in sent.iter().zip(&frames) {
        let d = p.data();
        assert_eq!(d.len(), orig.len());
        assert_eq!(eth(d), (mac(MF), mac(GW_MAC)));
        check_ipv4(d, P, "8.8.8.8", 63);
        // Only TTL, checksum and source address changed in the header, and
        // the transport payload is intact.
        assert_eq!(d[34..38], orig[34..38], "ports unchanged");
        assert_eq!(
            d[d.len() - 20..],
            orig[orig.len() - 20..],
            "payload unchanged"
        );
        assert_eq!((p.reg(net), p.reg(src)), (100, 50));
    }
    assert_eq!(
        notes(&out, crate::trace::NEXT_HOP)[0],
        u64::from(u32::from(ip(GW)))
    );
    assert_eq!(
        notes(&out, crate::trace::FLOATING_IP)[0],
        u64::from(u32::from(ip(P)))
    );
    for p in out.sent {
        h.free(p.1);
    }
}

#[test]
fn udp_without_checksum_keeps_none() {
    let mut h = harness();
    learn(&mut h, GW_MAC, GW);
    let out = egress(&mut h, &[ipv4(F, "8.8.8.8", 64, L4::UdpNoSum)], 5);
    let d = out.by_exit("external")[0].data();
    check_ipv4(d, P, "8.8.8.8", 63);
    assert_eq!(UdpPacket::new_checked(&d[34..]).unwrap().checksum(), 0);
}

#[test]
fn fragments_patch_the_transport_checksum_only_in_the_first() {
    let mut h = harness();
    learn(&mut h, GW_MAC, GW);
    let first = ipv4_frag(F, "8.8.8.8", 64, L4::Udp, true, 0);
    let later = ipv4_frag(F, "8.8.8.8", 64, L4::Udp, false, 8);
    let out = egress(&mut h, &[first.clone(), later.clone()], 5);
    let sent = out.by_exit("external");
    assert_ne!(
        sent[0].data()[40..42],
        first[40..42],
        "first: UDP sum patched"
    );
    assert_eq!(
        sent[1].data()[34..],
        later[34..],
        "later: payload untouched"
    );
    for p in sent {
        let ipp = Ipv4Packet::new_checked(&p.data()[14..]).unwrap();
        assert!(ipp.verify_checksum());
        assert_eq!(ipp.src_addr(), ip(P));
    }
}

#[test]
fn next_hop_is_the_destination_on_link_else_the_gateway() {
    let mut h = harness();
    learn(&mut h, GW_MAC, GW);
    learn(&mut h, "52:54:00:00:00:77", "198.18.0.77");
    let out = egress(
        &mut h,
        &[
            ipv4(F, "198.18.0.77", 64, L4::Udp),
            ipv4(F, "192.0.2.1", 64, L4::Udp),
        ],
        5,
    );
    let sent = out.by_exit("external");
    assert_eq!(eth(sent[0].data()).1, mac("52:54:00:00:00:77"));
    assert_eq!(eth(sent[1].data()).1, mac(GW_MAC));
    assert_eq!(
        notes(&out, crate::trace::NEXT_HOP),
        vec![
            u64::from(u32::from(ip("198.18.0.77"))),
            u64::from(u32::from(ip(GW)))
        ]
    );
    // Network 101 has no gateway: on-link only.
    let out = egress(&mut h, &[ipv4("10.0.0.6", "8.8.8.8", 64, L4::Udp)], 6);
    assert_eq!(out.dropped("no-gateway"), 1);
    assert!(out.sent.is_empty());
}

/// The exact ARP request from (Mf, P) for `target`, broadcast.
fn want_request(target: [u8; 4]) -> Vec<u8> {
    let mut w = vec![0xff; 6];
    w.extend_from_slice(&[0xfa, 0x16, 0x3e, 0, 0, 0x50, 0x08, 0x06]);
    w.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    w.extend_from_slice(&[0xfa, 0x16, 0x3e, 0, 0, 0x50, 198, 18, 0, 10]);
    w.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    w.extend_from_slice(&target);
    w
}

#[test]
fn unresolved_next_hop_sends_a_rate_limited_arp_request() {
    let mut h = harness();
    let (net, src) = (h.reg(NETWORK_KEY), h.reg(SOURCE_PORT_KEY));
    h.set_now(1_000);
    let out = egress(&mut h, &[ipv4(F, "8.8.8.8", 64, L4::Udp)], 5);
    assert_eq!(out.dropped("neighbour-unresolved"), 1);
    let reqs = out.by_exit("external");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].data(), &want_request([198, 18, 0, 1])[..]);
    assert_eq!((reqs[0].reg(net), reqs[0].reg(src)), (100, 50));
    assert_eq!(
        notes(&out, crate::trace::ARP_REQUEST),
        vec![u64::from(u32::from(ip(GW)))]
    );

    // Within 100 ms: the packets drop, no second request; another next
    // hop gets its own.
    h.set_now(1_000 + INTERVAL - 1);
    let out = egress(
        &mut h,
        &[
            ipv4(F, "8.8.8.8", 64, L4::Udp),
            ipv4(F, "9.9.9.9", 64, L4::Tcp),
            ipv4(F, "198.18.0.99", 64, L4::Echo),
        ],
        5,
    );
    assert_eq!(out.dropped("neighbour-unresolved"), 3);
    let reqs = out.by_exit("external");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].data(), &want_request([198, 18, 0, 99])[..]);
    assert_eq!(notes(&out, crate::trace::ARP_RATE_LIMITED).len(), 2);

    // 100 ms later: one request again.
    h.set_now(1_000 + INTERVAL);
    let out = egress(
        &mut h,
        &[
            ipv4(F, "8.8.8.8", 64, L4::Udp),
            ipv4(F, "8.8.4.4", 64, L4::Udp),
        ],
        5,
    );
    assert_eq!(out.dropped("neighbour-unresolved"), 2);
    let reqs = out.by_exit("external");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].data(), &want_request([198, 18, 0, 1])[..]);
}

#[test]
fn arp_to_a_floating_port_is_learned_and_consumed() {
    let mut h = harness();
    // A gratuitous ARP (request for its own address) teaches as well.
    let out = ingress(&mut h, &[arp(ArpOperation::Request, GW_MAC, GW, GW)], 50);
    assert_eq!(out.dropped("arp-consumed"), 1);
    assert_eq!(
        notes(&out, crate::trace::LEARNED_IP),
        vec![u64::from(u32::from(ip(GW)))]
    );
    assert_eq!(
        notes(&out, crate::trace::LEARNED_MAC),
        vec![0x5254_0000_0001]
    );
    let out = egress(&mut h, &[ipv4(F, "8.8.8.8", 64, L4::Echo)], 5);
    assert_eq!(eth(out.by_exit("external")[0].data()).1, mac(GW_MAC));

    // A later reply moves the neighbour.
    learn(&mut h, "52:54:00:00:00:02", GW);
    let out = egress(&mut h, &[ipv4(F, "8.8.8.8", 64, L4::Echo)], 5);
    assert_eq!(
        eth(out.by_exit("external")[0].data()).1,
        mac("52:54:00:00:00:02")
    );

    // Not learned (but consumed): an off-link sender, a probe from
    // 0.0.0.0, a multicast sender MAC, our own floating IP.
    let out = ingress(
        &mut h,
        &[
            arp(ArpOperation::Reply, "52:54:00:00:00:03", "192.0.2.1", P),
            arp(
                ArpOperation::Request,
                "52:54:00:00:00:04",
                "0.0.0.0",
                "198.18.0.4",
            ),
            arp(ArpOperation::Reply, "01:00:5e:00:00:01", "198.18.0.5", P),
            arp(ArpOperation::Reply, "52:54:00:00:00:06", P, P),
        ],
        50,
    );
    assert_eq!(out.dropped("arp-consumed"), 4);
    assert_eq!(notes(&out, crate::trace::NOT_LEARNED).len(), 4);
    assert!(notes(&out, crate::trace::LEARNED_IP).is_empty());
    // The on-link neighbour .5 stays unresolved: the egress sends a request.
    let out = egress(&mut h, &[ipv4(F, "198.18.0.5", 64, L4::Echo)], 5);
    assert_eq!(out.dropped("neighbour-unresolved"), 1);
}

#[test]
fn arp_learned_on_one_network_does_not_resolve_another() {
    let mut h = harness();
    // 203.0.113.1 learned through port 60 (network 101) ...
    let out = ingress(
        &mut h,
        &[arp(
            ArpOperation::Reply,
            GW_MAC,
            "203.0.113.1",
            "203.0.113.3",
        )],
        60,
    );
    assert_eq!(notes(&out, crate::trace::LEARNED_IP).len(), 1);
    let out = egress(&mut h, &[ipv4("10.0.0.6", "203.0.113.1", 64, L4::Udp)], 6);
    assert_eq!(
        eth(out.by_exit("external")[0].data()),
        (mac("fa:16:3e:00:00:60"), mac(GW_MAC))
    );
    // ... is off-link for network 100: not learned there.
    let out = ingress(
        &mut h,
        &[arp(ArpOperation::Reply, GW_MAC, "203.0.113.1", P)],
        50,
    );
    assert_eq!(notes(&out, crate::trace::NOT_LEARNED).len(), 1);
}

#[test]
fn ingress_translates_back_to_the_fixed_ip() {
    let mut h = harness();
    let (net, src, dst) = (
        h.reg(NETWORK_KEY),
        h.reg(SOURCE_PORT_KEY),
        h.reg(DESTINATION_PORT_KEY),
    );
    let frames: Vec<_> = [L4::EchoReply, L4::Udp, L4::Tcp, L4::UdpNoSum]
        .iter()
        .map(|&l4| ipv4("8.8.8.8", P, 57, l4))
        .collect();
    let out = ingress(&mut h, &frames, 50);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let sent = out.by_exit("internal");
    assert_eq!(sent.len(), 4);
    for (p, orig) in sent.iter().zip(&frames) {
        let d = p.data();
        assert_eq!(eth(d), (mac(MR), mac(MV)));
        check_ipv4(d, "8.8.8.8", F, 56);
        assert_eq!(d[34..38], orig[34..38], "ports unchanged");
        assert_eq!(
            d[d.len() - 20..],
            orig[orig.len() - 20..],
            "payload unchanged"
        );
        assert_eq!((p.reg(net), p.reg(dst), p.reg(src)), (1, 5, 50));
    }
    assert_eq!(
        UdpPacket::new_checked(&sent[3].data()[34..])
            .unwrap()
            .checksum(),
        0
    );
    assert_eq!(
        notes(&out, crate::trace::FIXED_IP)[0],
        u64::from(u32::from(ip(F)))
    );
}

#[test]
fn round_trip_restores_the_original_addresses() {
    let mut h = harness();
    learn(&mut h, GW_MAC, GW);
    let orig = ipv4(F, "8.8.8.8", 64, L4::Tcp);
    let out = egress(&mut h, std::slice::from_ref(&orig), 5);
    let mut back = out.by_exit("external")[0].data().to_vec();
    // The far end swaps the addresses (a reply with the same ports would
    // swap them too; addresses suffice for the checksum arithmetic).
    let mut ipp = Ipv4Packet::new_unchecked(&mut back[14..]);
    ipp.set_src_addr(ip("8.8.8.8"));
    ipp.set_dst_addr(ip(P));
    ipp.fill_checksum();
    let out = ingress(&mut h, &[back], 50);
    let d = out.by_exit("internal")[0].data();
    check_ipv4(d, "8.8.8.8", F, 62);
}

#[test]
fn ttl_one_expires_both_ways() {
    let mut h = harness();
    learn(&mut h, GW_MAC, GW);
    for ttl in [0, 1] {
        let out = egress(&mut h, &[ipv4(F, "8.8.8.8", ttl, L4::Udp)], 5);
        assert_eq!(out.dropped("ttl-expired"), 1);
        assert_eq!(notes(&out, crate::trace::TTL_EXPIRED), vec![u64::from(ttl)]);
        assert!(out.sent.is_empty());
        let out = ingress(&mut h, &[ipv4("8.8.8.8", P, ttl, L4::Udp)], 50);
        assert_eq!(out.dropped("ttl-expired"), 1);
        // Answered with a time exceeded (see icmp_tests).
        assert_eq!(out.by_exit("external").len(), 1);
        assert!(out.by_exit("internal").is_empty());
    }
    // TTL 2 makes it, leaving with 1.
    let out = egress(&mut h, &[ipv4(F, "8.8.8.8", 2, L4::Udp)], 5);
    check_ipv4(out.by_exit("external")[0].data(), P, "8.8.8.8", 1);
}

#[test]
fn every_drop_reason() {
    let mut h = harness();
    learn(&mut h, GW_MAC, GW);
    let good = ipv4(F, "8.8.8.8", 64, L4::Udp);
    let mut bad_sum = good.clone();
    bad_sum[24] ^= 0xff;
    let mut bad_version = good.clone();
    bad_version[14] = 0x65;
    let truncated_tcp = ipv4(F, "8.8.8.8", 64, L4::Raw(IpProtocol::Tcp, &[0; 12]));
    let truncated_icmp = ipv4(F, "8.8.8.8", 64, L4::Raw(IpProtocol::Icmp, &[8, 0, 0]));
    let mut ipv6 = good.clone();
    ipv6[12..14].copy_from_slice(&[0x86, 0xdd]);
    let arp_frame = arp(ArpOperation::Request, MV, F, "10.0.0.1");

    let cases: Vec<(&str, Vec<u8>, u32)> = vec![
        ("no-floating-ip", good.clone(), 6),
        (
            "no-floating-ip",
            ipv4("10.0.0.9", "8.8.8.8", 64, L4::Udp),
            5,
        ),
        ("icmp-error", ipv4(F, "8.8.8.8", 64, L4::TimeExceeded), 5),
        ("not-ipv4", ipv6.clone(), 5),
        ("not-ipv4", arp_frame, 5),
        ("not-ipv4", vec![0; 10], 5),
        ("malformed", bad_sum.clone(), 5),
        ("malformed", bad_version, 5),
        ("malformed", good[..30].to_vec(), 5),
        ("malformed", truncated_tcp.clone(), 5),
        ("malformed", truncated_icmp, 5),
    ];
    for (reason, frame, port) in &cases {
        let out = egress(&mut h, std::slice::from_ref(frame), *port);
        assert_eq!(out.drops, vec![(*reason, 1)], "egress {reason}");
        assert!(out.sent.is_empty());
    }
    // A non-first fragment is not checked for a transport header.
    let frag = ipv4_frag(
        F,
        "8.8.8.8",
        64,
        L4::Raw(IpProtocol::Tcp, &[0; 12]),
        false,
        16,
    );
    assert_eq!(egress(&mut h, &[frag], 5).by_exit("external").len(), 1);

    let mut short_arp = arp(ArpOperation::Reply, GW_MAC, GW, P);
    short_arp.truncate(30);
    let to_p = |l4| ipv4("8.8.8.8", P, 64, l4);
    let cases: Vec<(&str, Vec<u8>, u32)> = vec![
        ("no-floating-ip", to_p(L4::Udp), 5),
        ("no-floating-ip", to_p(L4::Udp), 0),
        ("icmp-error", to_p(L4::Redirect), 50),
        // The quote (all 0x45) is not from P.
        ("not-for-floating-ip", to_p(L4::TimeExceeded), 50),
        (
            "not-for-floating-ip",
            ipv4("8.8.8.8", "198.18.0.11", 64, L4::Udp),
            50,
        ),
        ("not-for-floating-ip", to_p(L4::Udp), 60),
        ("not-for-floating-ip", ipv6, 50),
        ("malformed", vec![0; 10], 50),
        ("malformed", short_arp, 50),
        ("malformed", bad_sum, 50),
        ("arp-consumed", arp(ArpOperation::Reply, GW_MAC, GW, P), 50),
    ];
    for (reason, frame, port) in &cases {
        let out = ingress(&mut h, std::slice::from_ref(frame), *port);
        assert_eq!(out.drops, vec![(*reason, 1)], "ingress {reason}");
        assert!(out.sent.is_empty());
    }
    // ttl-expired, no-gateway and neighbour-unresolved have their own tests.
}

#[test]
fn empty_tables_drop_everything() {
    let mut h = StageHarness::<NatApp>::new("").unwrap();
    let out = egress(&mut h, &[ipv4(F, "8.8.8.8", 64, L4::Udp)], 5);
    assert_eq!(out.dropped("no-floating-ip"), 1);
    let out = ingress(&mut h, &[arp(ArpOperation::Reply, GW_MAC, GW, P)], 50);
    assert_eq!(out.dropped("no-floating-ip"), 1);
    assert!(StageHarness::<NatApp>::new("x: 1").is_err(), "no params");
}
