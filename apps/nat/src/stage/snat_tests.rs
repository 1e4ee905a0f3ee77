//! SNAT stage tests: translation both ways with checksums recomputed from
//! scratch, port reuse and allocation, exhaustion, expiry, the remote-end
//! check, floating-IP precedence, and every SNAT drop.

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_dp::Packet;
use df_wire::{
    ArpOperation, EtherType, EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv4Repr, IpProtocol,
    Ipv4Packet, Ipv4Repr, PseudoHeader, TcpFlags, TcpPacket, TcpRepr, UdpPacket, UdpRepr,
};

use super::tests::{arp, check_ipv4, eth, ip, mac, notes, CFG, GW, GW_MAC, MR, P};
use crate::trace;
use crate::NatApp;

/// The chassis' SNAT address X, its MAC and pseudo-port.
pub(super) const X: &str = "198.18.0.2";
pub(super) const MX: &str = "fa:16:3e:00:00:99";
pub(super) const XPORT: u32 = 99;
/// A VM without a floating IP: port 7 in network 1.
pub(super) const V: &str = "10.0.0.7";
pub(super) const MV7: &str = "fa:16:3e:00:00:07";
pub(super) const REMOTE: &str = "8.8.8.8";
/// UDP timeout at 1 GHz.
const UDP_TIMEOUT: u64 = 60_000_000_000;

/// `CFG` plus `snat` (networks 1 and 2) with `extra` fields.
fn cfg(extra: &str) -> String {
    let snat = format!(
        r#""snat": {{"external_ip": "{X}", "mac": "{MX}", "port_key": {XPORT},
            "external_network_key": 100, "snat_networks": [1, 2]{extra}}},
    "floating_ips":"#
    );
    assert!(CFG.contains(r#""floating_ips":"#));
    CFG.replacen(r#""floating_ips":"#, &snat, 1)
}

fn harness_with(extra: &str) -> StageHarness<NatApp> {
    let mut h = StageHarness::<NatApp>::new("").unwrap();
    h.configure_json(&cfg(extra)).unwrap();
    h.set_now(1_000);
    h
}

/// A harness with SNAT and the gateway learned through the SNAT port.
pub(super) fn harness() -> StageHarness<NatApp> {
    let mut h = harness_with("");
    let out = ingress(&mut h, &[arp(ArpOperation::Reply, GW_MAC, GW, X)], XPORT);
    assert_eq!(out.dropped("arp-consumed"), 1);
    assert_eq!(notes(&out, trace::LEARNED_IP).len(), 1);
    h
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum K {
    Tcp,
    Udp,
    Echo,
    EchoReply,
    Raw(IpProtocol),
}

const DATA: &[u8] = b"snat payload, twenty";

/// An IPv4 frame `src`:`sport` -> `dst`:`dport` (ICMP echo: identifier
/// `sport`, sequence 1) between `esrc` and `edst`.
#[allow(clippy::too_many_arguments)]
pub(super) fn frame_full(
    esrc: &str,
    edst: &str,
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    k: K,
    frag_offset: u16,
) -> Vec<u8> {
    let (s, d) = (ip(src), ip(dst));
    let ph = PseudoHeader::V4 { src: s, dst: d };
    let (proto, len) = match k {
        K::Tcp => (IpProtocol::Tcp, 20 + DATA.len()),
        K::Udp => (IpProtocol::Udp, 8 + DATA.len()),
        K::Echo | K::EchoReply => (IpProtocol::Icmp, 8 + DATA.len()),
        K::Raw(p) => (p, DATA.len()),
    };
    let mut f = vec![0u8; 34 + len];
    EthernetRepr {
        src_addr: mac(esrc),
        dst_addr: mac(edst),
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    Ipv4Repr {
        src_addr: s,
        dst_addr: d,
        protocol: proto,
        payload_len: len,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 0x4321,
        dont_frag: false,
        more_frags: false,
        frag_offset,
        options: Default::default(),
    }
    .emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
    let l4 = &mut f[34..];
    match k {
        K::Tcp => {
            l4[20..].copy_from_slice(DATA);
            TcpRepr {
                src_port: sport,
                dst_port: dport,
                seq_number: 0x0102_0304,
                ack_number: 0,
                flags: TcpFlags::SYN,
                window_len: 512,
                urgent_at: 0,
                max_seg_size: None,
                window_scale: None,
                sack_permitted: false,
                timestamps: None,
                payload_len: DATA.len(),
            }
            .emit(&mut TcpPacket::new_unchecked(l4), &ph);
        }
        K::Udp => {
            l4[8..].copy_from_slice(DATA);
            UdpRepr {
                src_port: sport,
                dst_port: dport,
                payload_len: DATA.len(),
            }
            .emit(&mut UdpPacket::new_unchecked(l4), &ph);
        }
        K::Echo => Icmpv4Repr::EchoRequest {
            ident: sport,
            seq_no: 1,
            data: DATA,
        }
        .emit(&mut Icmpv4Packet::new_unchecked(l4)),
        K::EchoReply => Icmpv4Repr::EchoReply {
            ident: sport,
            seq_no: 1,
            data: DATA,
        }
        .emit(&mut Icmpv4Packet::new_unchecked(l4)),
        K::Raw(_) => l4.copy_from_slice(DATA),
    }
    f
}

/// From VM `src` (MAC MV7) to the router (MR).
pub(super) fn out_frame(src: &str, sport: u16, dst: &str, dport: u16, k: K) -> Vec<u8> {
    frame_full(MV7, MR, src, sport, dst, dport, k, 0)
}

/// From the gateway to X.
pub(super) fn in_frame(src: &str, sport: u16, dport: u16, k: K) -> Vec<u8> {
    frame_full(GW_MAC, MX, src, sport, X, dport, k, 0)
}

pub(super) fn egress_from(
    h: &mut StageHarness<NatApp>,
    frames: &[Vec<u8>],
    port: u32,
    net: u32,
) -> Outcome {
    let pkts: Vec<Packet> = frames
        .iter()
        .map(|f| h.packet(f, 1, &[(SOURCE_PORT_KEY, port), (NETWORK_KEY, net)]))
        .collect();
    h.run("egress", pkts)
}

pub(super) fn egress(h: &mut StageHarness<NatApp>, frames: &[Vec<u8>]) -> Outcome {
    egress_from(h, frames, 7, 1)
}

pub(super) fn ingress(h: &mut StageHarness<NatApp>, frames: &[Vec<u8>], port: u32) -> Outcome {
    let pkts: Vec<Packet> = frames
        .iter()
        .map(|f| h.packet(f, 2, &[(DESTINATION_PORT_KEY, port)]))
        .collect();
    h.run("ingress", pkts)
}

/// The source port (ICMP: identifier) and destination port of a frame.
pub(super) fn ports(d: &[u8]) -> (u16, u16) {
    let ipp = Ipv4Packet::new_checked(&d[14..]).unwrap();
    match ipp.protocol() {
        IpProtocol::Tcp => {
            let t = TcpPacket::new_checked(ipp.payload()).unwrap();
            (t.src_port(), t.dst_port())
        }
        IpProtocol::Udp => {
            let u = UdpPacket::new_checked(ipp.payload()).unwrap();
            (u.src_port(), u.dst_port())
        }
        _ => {
            let i = Icmpv4Packet::new_checked(ipp.payload()).unwrap();
            (i.echo_ident(), i.echo_ident())
        }
    }
}

/// Sends one packet of a flow out; returns its external port.
pub(super) fn snat_port(h: &mut StageHarness<NatApp>, f: Vec<u8>) -> u16 {
    let out = egress(h, &[f]);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let d = out.by_exit("external")[0].data().to_vec();
    ports(&d).0
}

#[test]
fn egress_translates_tcp_udp_and_echo_and_replies_come_back() {
    let mut h = harness();
    let (net, src, dst) = (
        h.reg(NETWORK_KEY),
        h.reg(SOURCE_PORT_KEY),
        h.reg(DESTINATION_PORT_KEY),
    );
    let flows = [
        (K::Tcp, 40000, 443, K::Tcp),
        (K::Udp, 5353, 53, K::Udp),
        (K::Echo, 7, 7, K::EchoReply),
    ];
    let frames: Vec<_> = flows
        .iter()
        .map(|&(k, sp, dp, _)| out_frame(V, sp, REMOTE, dp, k))
        .collect();
    let out = egress(&mut h, &frames);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let sent = out.by_exit("external");
    assert_eq!(sent.len(), 3);
    let mut ext = Vec::new();
    for ((p, orig), &(k, _, dp, _)) in sent.iter().zip(&frames).zip(&flows) {
        let d = p.data();
        assert_eq!(d.len(), orig.len());
        assert_eq!(eth(d), (mac(MX), mac(GW_MAC)), "{k:?}");
        check_ipv4(d, X, REMOTE, 63);
        let (sp, dp2) = ports(d);
        assert!((32768..=60999).contains(&sp), "{k:?}: {sp}");
        assert_eq!(dp2, if k == K::Echo { sp } else { dp }, "{k:?}");
        assert_eq!(d[d.len() - DATA.len()..], *DATA, "payload unchanged");
        assert_eq!((p.reg(net), p.reg(src)), (100, XPORT));
        ext.push(sp);
    }
    // ICMP: the sequence number survives, the checksum verified above.
    assert_eq!(sent[2].data()[40..42], [0, 1]);
    assert_eq!(
        notes(&out, trace::SNAT_IP),
        vec![u64::from(u32::from(ip(X))); 3]
    );
    assert_eq!(
        notes(&out, trace::SNAT_PORT),
        ext.iter().map(|&p| u64::from(p)).collect::<Vec<_>>()
    );

    // The replies, to X:external port from the remote end.
    let replies: Vec<_> = flows
        .iter()
        .zip(&ext)
        .map(|(&(_, _, dp, rk), &ep)| {
            let sport = if rk == K::EchoReply { ep } else { dp };
            in_frame(REMOTE, sport, ep, rk)
        })
        .collect();
    let out = ingress(&mut h, &replies, XPORT);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let back = out.by_exit("internal");
    assert_eq!(back.len(), 3);
    for (p, &(k, sp, dp, _)) in back.iter().zip(&flows) {
        let d = p.data();
        assert_eq!(eth(d), (mac(MR), mac(MV7)), "{k:?}");
        check_ipv4(d, REMOTE, V, 63);
        let want = if k == K::Echo { (sp, sp) } else { (dp, sp) };
        assert_eq!(ports(d), want, "{k:?}");
        assert_eq!((p.reg(net), p.reg(dst), p.reg(src)), (1, 7, XPORT));
    }
    assert_eq!(
        notes(&out, trace::SNAT_VM_IP),
        vec![u64::from(u32::from(ip(V))); 3]
    );
}

#[test]
fn same_flow_same_port_another_flow_another_port() {
    let mut h = harness();
    let a = snat_port(&mut h, out_frame(V, 5000, REMOTE, 53, K::Udp));
    h.set_now(2_000);
    assert_eq!(snat_port(&mut h, out_frame(V, 5000, REMOTE, 53, K::Udp)), a);
    let b = snat_port(&mut h, out_frame(V, 5001, REMOTE, 53, K::Udp));
    let c = snat_port(&mut h, out_frame("10.0.0.8", 5000, REMOTE, 53, K::Udp));
    let d = snat_port(&mut h, out_frame(V, 5000, "9.9.9.9", 53, K::Udp));
    assert!(a != b && a != c && a != d && b != c && b != d && c != d);
    // The same addresses from network 2 are another VM: another port, and
    // the reply goes back to network 2.
    let out = egress_from(&mut h, &[out_frame(V, 5000, REMOTE, 53, K::Udp)], 17, 2);
    let e = ports(out.by_exit("external")[0].data()).0;
    assert_ne!(e, a);
    let out = ingress(&mut h, &[in_frame(REMOTE, 53, e, K::Udp)], XPORT);
    let p = out.by_exit("internal")[0];
    assert_eq!(
        (
            p.reg(h.reg(NETWORK_KEY)),
            p.reg(h.reg(DESTINATION_PORT_KEY))
        ),
        (2, 17)
    );
}

#[test]
fn a_tiny_range_exhausts_and_expiry_frees_the_port() {
    let mut h = harness_with(r#", "port_min": 40000, "port_max": 40000"#);
    let out = ingress(&mut h, &[arp(ArpOperation::Reply, GW_MAC, GW, X)], XPORT);
    assert_eq!(out.dropped("arp-consumed"), 1);
    let first = out_frame(V, 5000, REMOTE, 53, K::Udp);
    let second = out_frame(V, 5001, "9.9.9.9", 53, K::Udp);
    assert_eq!(snat_port(&mut h, first.clone()), 40000);
    let out = egress(&mut h, std::slice::from_ref(&second));
    assert_eq!(out.drops, vec![("snat-exhausted", 1)]);
    assert!(out.sent.is_empty());
    // Each protocol has the whole range.
    assert_eq!(
        snat_port(&mut h, out_frame(V, 5000, REMOTE, 53, K::Tcp)),
        40000
    );
    assert_eq!(
        snat_port(&mut h, out_frame(V, 9, REMOTE, 9, K::Echo)),
        40000
    );
    // Still live exactly at the timeout; the reply refreshes it.
    h.set_now(1_000 + UDP_TIMEOUT);
    let out = ingress(&mut h, &[in_frame(REMOTE, 53, 40000, K::Udp)], XPORT);
    assert_eq!(out.by_exit("internal").len(), 1);
    let out = egress(&mut h, std::slice::from_ref(&second));
    assert_eq!(out.drops, vec![("snat-exhausted", 1)]);
    // One tick past the timeout since the reply: the port goes to the
    // second flow, and the first flow's replies no longer map.
    h.set_now(1_000 + 2 * UDP_TIMEOUT + 1);
    assert_eq!(snat_port(&mut h, second), 40000);
    let out = ingress(&mut h, &[in_frame(REMOTE, 53, 40000, K::Udp)], XPORT);
    assert_eq!(out.drops, vec![("snat-no-mapping", 1)]);
    let out = ingress(&mut h, &[in_frame("9.9.9.9", 53, 40000, K::Udp)], XPORT);
    assert_eq!(out.by_exit("internal").len(), 1);
    // The first flow is now the one without a port.
    let out = egress(&mut h, &[first]);
    assert_eq!(out.drops, vec![("snat-exhausted", 1)]);
}

#[test]
fn replies_from_the_wrong_remote_or_to_no_mapping_drop() {
    let mut h = harness();
    let u = snat_port(&mut h, out_frame(V, 5000, REMOTE, 53, K::Udp));
    let t = snat_port(&mut h, out_frame(V, 40000, REMOTE, 443, K::Tcp));
    let i = snat_port(&mut h, out_frame(V, 7, REMOTE, 7, K::Echo));
    let cases = [
        in_frame("9.9.9.9", 53, u, K::Udp),
        in_frame(REMOTE, 54, u, K::Udp),
        in_frame(REMOTE, 443, u.wrapping_add(1), K::Udp),
        in_frame(REMOTE, 80, t, K::Tcp),
        in_frame("9.9.9.9", 443, t, K::Tcp),
        in_frame(REMOTE, 53, u, K::Tcp),
        in_frame("9.9.9.9", i, i, K::EchoReply),
        in_frame(REMOTE, 1, 1, K::EchoReply),
        in_frame(REMOTE, 53, 1000, K::Udp),
    ];
    for f in &cases {
        let out = ingress(&mut h, std::slice::from_ref(f), XPORT);
        assert_eq!(out.drops, vec![("snat-no-mapping", 1)]);
    }
    // An ICMP reply's identifier is all that is checked besides the remote.
    let out = ingress(&mut h, &[in_frame(REMOTE, i, i, K::EchoReply)], XPORT);
    assert_eq!(out.by_exit("internal").len(), 1);
    // A wrong-remote packet does not keep the mapping alive.
    h.set_now(1_000 + UDP_TIMEOUT);
    ingress(&mut h, &[in_frame("9.9.9.9", 53, u, K::Udp)], XPORT);
    h.set_now(1_000 + UDP_TIMEOUT + 1);
    let out = ingress(&mut h, &[in_frame(REMOTE, 53, u, K::Udp)], XPORT);
    assert_eq!(out.drops, vec![("snat-no-mapping", 1)]);
}

#[test]
fn floating_ips_take_precedence_and_other_networks_do_not_snat() {
    let mut h = harness();
    // 10.0.0.5 on port 5 has floating IP P.
    let out = egress_from(
        &mut h,
        &[out_frame("10.0.0.5", 5000, REMOTE, 53, K::Udp)],
        5,
        1,
    );
    let d = out.by_exit("external")[0].data();
    check_ipv4(d, P, REMOTE, 63);
    assert_eq!(ports(d), (5000, 53));
    assert!(notes(&out, trace::SNAT_IP).is_empty());
    // Network 3 has no SNAT.
    let out = egress_from(&mut h, &[out_frame(V, 5000, REMOTE, 53, K::Udp)], 7, 3);
    assert_eq!(out.drops, vec![("no-floating-ip", 1)]);
    // Without `snat`, network 1 has none either.
    let mut h = StageHarness::<NatApp>::new("").unwrap();
    h.configure_json(CFG).unwrap();
    let out = egress(&mut h, &[out_frame(V, 5000, REMOTE, 53, K::Udp)]);
    assert_eq!(out.drops, vec![("no-floating-ip", 1)]);
    let out = ingress(&mut h, &[in_frame(REMOTE, 53, 40000, K::Udp)], XPORT);
    assert_eq!(out.drops, vec![("no-floating-ip", 1)]);
}

#[test]
fn unresolved_next_hop_asks_from_the_snat_address() {
    let mut h = harness_with("");
    let (net, src) = (h.reg(NETWORK_KEY), h.reg(SOURCE_PORT_KEY));
    let out = egress(&mut h, &[out_frame(V, 5000, REMOTE, 53, K::Udp)]);
    assert_eq!(out.drops, vec![("neighbour-unresolved", 1)]);
    let req = out.by_exit("external");
    assert_eq!(req.len(), 1);
    let d = req[0].data();
    assert_eq!(eth(d), (mac(MX), mac("ff:ff:ff:ff:ff:ff")));
    assert_eq!(d[28..32], ip(X).octets(), "sender IP X");
    assert_eq!(d[38..42], ip(GW).octets(), "target: the gateway");
    assert_eq!((req[0].reg(net), req[0].reg(src)), (100, XPORT));
    // No port was claimed for the dropped packet: a tiny range shows it.
    let mut h = harness_with(r#", "port_min": 40000, "port_max": 40000"#);
    let out = egress(&mut h, &[out_frame(V, 1, REMOTE, 53, K::Udp)]);
    assert_eq!(out.dropped("neighbour-unresolved"), 1);
    ingress(&mut h, &[arp(ArpOperation::Reply, GW_MAC, GW, X)], XPORT);
    assert_eq!(
        snat_port(&mut h, out_frame(V, 2, REMOTE, 53, K::Udp)),
        40000
    );
}

#[test]
fn every_snat_drop() {
    let mut h = harness();
    let u = snat_port(&mut h, out_frame(V, 5000, REMOTE, 53, K::Udp));
    let mut ttl1 = out_frame(V, 5000, REMOTE, 53, K::Udp);
    {
        let mut ipp = Ipv4Packet::new_unchecked(&mut ttl1[14..]);
        ipp.set_ttl(1);
        ipp.fill_checksum();
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "fragment",
            frame_full(MV7, MR, V, 0, REMOTE, 0, K::Raw(IpProtocol::Udp), 8),
        ),
        (
            "snat-unsupported",
            out_frame(V, 0, REMOTE, 0, K::Raw(IpProtocol::Unknown(47))),
        ),
        ("snat-unsupported", out_frame(V, 7, REMOTE, 7, K::EchoReply)),
        ("ttl-expired", ttl1),
    ];
    for (reason, f) in &cases {
        let out = egress(&mut h, std::slice::from_ref(f));
        assert_eq!(out.drops, vec![(*reason, 1)], "egress {reason}");
        assert!(out.sent.is_empty());
    }
    let mut to_other = in_frame(REMOTE, 53, u, K::Udp);
    {
        let mut ipp = Ipv4Packet::new_unchecked(&mut to_other[14..]);
        ipp.set_dst_addr(ip("198.18.0.3"));
        ipp.fill_checksum();
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "fragment",
            frame_full(GW_MAC, MX, REMOTE, 0, X, 0, K::Raw(IpProtocol::Udp), 8),
        ),
        ("snat-unsupported", in_frame(REMOTE, 1, 1, K::Echo)),
        (
            "snat-unsupported",
            in_frame(REMOTE, 0, 0, K::Raw(IpProtocol::Unknown(47))),
        ),
        ("not-for-floating-ip", to_other),
        ("arp-consumed", arp(ArpOperation::Reply, GW_MAC, GW, X)),
    ];
    for (reason, f) in &cases {
        let out = ingress(&mut h, std::slice::from_ref(f), XPORT);
        assert_eq!(out.drops, vec![(*reason, 1)], "ingress {reason}");
        assert!(out.sent.is_empty());
    }
}
