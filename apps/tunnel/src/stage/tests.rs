//! Stage tests: encapsulation byte by byte, round trips through a peer,
//! flood replication, the ARP responder, the UDP source port, and every
//! drop reason.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_dp::Packet;
use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, ChecksumPolicy, EtherType, EthernetAddress, EthernetFrame,
    EthernetRepr, GenevePacket, GeneveRepr, IpProtocol, Ipv4Packet, Ipv4Repr, PseudoHeader,
    UdpPacket, UdpRepr, VxlanPacket, VxlanRepr,
};

use crate::TunnelApp;

/// Chassis h1 (this one): underlay port 1.
const H1: &str = r#"{
    "local": {"port": 1, "ip": "172.16.0.1", "mac": "52:54:00:00:00:01"},
    "chassis": [
        {"id": "h2", "ip": "172.16.0.2", "mac": "52:54:00:00:00:02"},
        {"id": "h3", "ip": "172.16.0.3", "mac": "52:54:00:00:00:03"},
        {"id": "h4", "ip": "172.16.0.4", "mac": "52:54:00:00:00:04"}],
    "networks": [
        {"network_key": 10, "vni": 100, "type": "geneve", "flood_key": 900, "chassis": [0, 1]},
        {"network_key": 11, "vni": 100, "type": "vxlan", "flood_key": 901, "chassis": [0, 1, 2]},
        {"network_key": 12, "vni": 200, "flood_key": 902}],
    "ports": [
        {"port_key": 5, "network_key": 10, "chassis": 0},
        {"port_key": 6, "network_key": 11, "chassis": 1},
        {"port_key": 7, "network_key": 12, "chassis": 2}]
}"#;

/// A peer chassis `172.16.0.<n>` (underlay port 3, TTL 9) that knows h1 and
/// has VNI 100 as network 20 (Geneve) and 21 (VXLAN).
fn peer(n: u8) -> String {
    format!(
        r#"{{
        "local": {{"port": 3, "ip": "172.16.0.{n}", "mac": "52:54:00:00:00:0{n}", "ttl": 9}},
        "chassis": [{{"id": "h1", "ip": "172.16.0.1", "mac": "52:54:00:00:00:01"}}],
        "networks": [
            {{"network_key": 20, "vni": 100, "flood_key": 990, "chassis": [0]}},
            {{"network_key": 21, "vni": 100, "type": "vxlan", "flood_key": 991, "chassis": [0]}}]
    }}"#
    )
}

fn mac(last: u8) -> EthernetAddress {
    EthernetAddress([0x52, 0x54, 0, 0, 0, last])
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(172, 16, 0, last)
}

fn harness(cfg: &str) -> StageHarness<TunnelApp> {
    let mut h = StageHarness::<TunnelApp>::new("").unwrap();
    h.configure_json(cfg).unwrap();
    h
}

/// A VM's UDP frame 10.0.0.1:sport -> 10.0.0.2:dport, 54 bytes.
fn inner_udp(sport: u16, dport: u16, ident: u16) -> Vec<u8> {
    let payload = b"hello tunnel";
    let mut f = vec![0u8; 14 + 20 + 8 + payload.len()];
    EthernetRepr {
        src_addr: EthernetAddress([2, 0, 0, 0, 0, 0x0a]),
        dst_addr: EthernetAddress([2, 0, 0, 0, 0, 0x0b]),
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    let (src, dst) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IpProtocol::Udp,
        payload_len: 8 + payload.len(),
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Default::default(),
    }
    .emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
    f[42..].copy_from_slice(payload);
    UdpRepr {
        src_port: sport,
        dst_port: dport,
        payload_len: payload.len(),
    }
    .emit(
        &mut UdpPacket::new_unchecked(&mut f[34..]),
        &PseudoHeader::V4 { src, dst },
    );
    f
}

fn inner() -> Vec<u8> {
    inner_udp(1000, 2000, 1)
}

/// An underlay frame h2 -> h1 (UDP source port 50000, checksum 0) with
/// `tun` as the Geneve/VXLAN header (UDP destination `port`) and `inner`.
fn tunnelled(port: u16, tun: &[u8], inner: &[u8]) -> Vec<u8> {
    let udp_len = 8 + tun.len() + inner.len();
    let mut f = vec![0u8; 14 + 20 + udp_len];
    EthernetRepr {
        src_addr: mac(2),
        dst_addr: mac(1),
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    Ipv4Repr {
        src_addr: ip(2),
        dst_addr: ip(1),
        protocol: IpProtocol::Udp,
        payload_len: udp_len,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 0,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Default::default(),
    }
    .emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
    let mut udp = UdpPacket::new_unchecked(&mut f[34..42]);
    udp.set_src_port(50000);
    udp.set_dst_port(port);
    udp.set_len(udp_len as u16);
    f[42..42 + tun.len()].copy_from_slice(tun);
    f[42 + tun.len()..].copy_from_slice(inner);
    f
}

fn geneve_hdr(vni: u32) -> Vec<u8> {
    let mut g = vec![0u8; 8];
    GeneveRepr {
        oam: false,
        critical: false,
        protocol_type: EtherType::TransEtherBridging,
        vni,
        options: &[],
    }
    .emit(&mut GenevePacket::new_unchecked(&mut g[..]));
    g
}

fn vxlan_hdr(vni: u32) -> Vec<u8> {
    let mut v = vec![0u8; 8];
    VxlanRepr { vni }.emit(&mut VxlanPacket::new_unchecked(&mut v[..]));
    v
}

fn geneve(vni: u32, inner: &[u8]) -> Vec<u8> {
    tunnelled(6081, &geneve_hdr(vni), inner)
}

/// Recomputes the outer IPv4 checksum after a test edited the header.
fn fix_ip_checksum(f: &mut [u8]) {
    Ipv4Packet::new_unchecked(&mut f[14..34]).fill_checksum();
}

fn encap(h: &mut StageHarness<TunnelApp>, frame: &[u8], dst: u32) -> Outcome {
    let p = h.packet(frame, 2, &[(DESTINATION_PORT_KEY, dst), (NETWORK_KEY, 10)]);
    h.run("encap", vec![p])
}

fn decap(h: &mut StageHarness<TunnelApp>, frames: &[&[u8]], in_port: u16) -> Outcome {
    let pkts = frames.iter().map(|f| h.packet(f, in_port, &[])).collect();
    h.run("decap", pkts)
}

/// What an encapsulated frame says, each layer parsed by df-wire.
#[derive(Debug)]
struct Outer {
    eth: EthernetRepr,
    ip: Ipv4Repr,
    total_len: u16,
    sport: u16,
    dport: u16,
    udp_len: u16,
    udp_checksum: u16,
    /// (kind, VNI)
    tun: (&'static str, u32),
    inner: Vec<u8>,
}

fn parse_outer(d: &[u8]) -> Outer {
    let eth = EthernetFrame::new_checked(d).unwrap();
    let ipv = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let ip = Ipv4Repr::parse(&ipv, ChecksumPolicy::Verify).expect("outer IPv4 checksum");
    assert_eq!(ipv.header_len(), 20);
    let udp = UdpPacket::new_checked(ipv.payload()).unwrap();
    let (tun, inner) = match udp.dst_port() {
        6081 => {
            let g = GenevePacket::new_checked(udp.payload()).unwrap();
            let r = GeneveRepr::parse(&GenevePacket::new_unchecked(udp.payload())).unwrap();
            assert_eq!(g.version(), 0);
            assert_eq!(g.options_len(), 0);
            assert!(!r.oam && !r.critical);
            assert_eq!(r.protocol_type, EtherType::TransEtherBridging);
            assert_eq!(udp.payload()[1], 0, "reserved flags clear");
            assert_eq!(udp.payload()[7], 0, "reserved byte clear");
            (("geneve", r.vni), g.payload().to_vec())
        }
        4789 => {
            let v = VxlanPacket::new_checked(udp.payload()).unwrap();
            assert_eq!(v.flags(), 0x08);
            assert_eq!(&udp.payload()[1..4], &[0, 0, 0]);
            assert_eq!(udp.payload()[7], 0);
            (
                ("vxlan", VxlanRepr::parse(&v).unwrap().vni),
                v.payload().to_vec(),
            )
        }
        p => panic!("UDP port {p}"),
    };
    Outer {
        eth: EthernetRepr::parse(&eth).unwrap(),
        ip,
        total_len: ipv.total_len(),
        sport: udp.src_port(),
        dport: udp.dst_port(),
        udp_len: udp.len(),
        udp_checksum: udp.checksum(),
        tun,
        inner,
    }
}

fn tx_on(out: &Outcome, port: u16) -> Vec<&Packet> {
    assert!(
        out.tx.iter().all(|(p, _)| *p == port),
        "tx ports: {:?}",
        out.tx
    );
    out.tx.iter().map(|(_, p)| p).collect()
}

#[test]
fn geneve_round_trip_through_the_peer() {
    let mut h1 = harness(H1);
    let frame = inner();
    let out = encap(&mut h1, &frame, 5);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    assert!(out.sent.is_empty());
    let tx = tx_on(&out, 1);
    assert_eq!(tx.len(), 1);
    let wire = tx[0].data().to_vec();
    assert_eq!(wire.len(), frame.len() + 50);
    let o = parse_outer(&wire);
    assert_eq!(
        o.eth,
        EthernetRepr {
            src_addr: mac(1),
            dst_addr: mac(2),
            ethertype: EtherType::Ipv4
        }
    );
    assert_eq!((o.ip.src_addr, o.ip.dst_addr), (ip(1), ip(2)));
    assert_eq!(o.ip.protocol, IpProtocol::Udp);
    assert_eq!(
        (o.ip.ttl, o.ip.dont_frag, o.ip.more_frags, o.ip.frag_offset),
        (64, true, false, 0)
    );
    assert_eq!((o.ip.dscp, o.ip.ecn, o.ip.ident), (0, 0, 0));
    assert_eq!(usize::from(o.total_len), frame.len() + 36);
    assert_eq!(o.dport, 6081);
    assert!(o.sport >= 49152, "{}", o.sport);
    assert_eq!(usize::from(o.udp_len), frame.len() + 16);
    assert_eq!(o.udp_checksum, 0);
    assert_eq!(o.tun, ("geneve", 100));
    assert_eq!(o.inner, frame);
    // The fixed bytes, written out once.
    assert_eq!(
        &wire[..14],
        &[0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00]
    );
    assert_eq!(&wire[14..24], &[0x45, 0, 0, 90, 0, 0, 0x40, 0, 64, 17]);
    assert_eq!(&wire[26..34], &[172, 16, 0, 1, 172, 16, 0, 2]);
    assert_eq!(&wire[36..42], &[0x17, 0xc1, 0, 70, 0, 0]);
    assert_eq!(&wire[42..50], &[0, 0, 0x65, 0x58, 0, 0, 100, 0]);

    // Received by h2 on its underlay port.
    let mut h2 = harness(&peer(2));
    let out = decap(&mut h2, &[&wire], 3);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let got = out.by_exit("decap");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data(), &frame[..], "inner frame byte-identical");
    assert_eq!(
        got[0].reg(h2.reg(SOURCE_PORT_KEY)),
        990,
        "the source is the network's flood key: l2 never floods it back"
    );
    assert_eq!(
        got[0].reg(h2.reg(NETWORK_KEY)),
        20,
        "h2's network for Geneve VNI 100"
    );
}

#[test]
fn vxlan_round_trip_through_the_peer() {
    let mut h1 = harness(H1);
    let frame = inner();
    let out = encap(&mut h1, &frame, 6);
    let tx = tx_on(&out, 1);
    assert_eq!(tx.len(), 1);
    let wire = tx[0].data().to_vec();
    let o = parse_outer(&wire);
    assert_eq!((o.eth.src_addr, o.eth.dst_addr), (mac(1), mac(3)));
    assert_eq!((o.ip.src_addr, o.ip.dst_addr), (ip(1), ip(3)));
    assert_eq!((o.dport, o.udp_checksum, o.tun), (4789, 0, ("vxlan", 100)));
    assert_eq!(usize::from(o.udp_len), frame.len() + 16);
    assert_eq!(o.inner, frame);
    assert_eq!(&wire[42..50], &[0x08, 0, 0, 0, 0, 0, 100, 0]);

    let mut h3 = harness(&peer(3));
    let out = decap(&mut h3, &[&wire], 3);
    let got = out.by_exit("decap");
    assert_eq!(got.len(), 1, "{:?}", out.drops);
    assert_eq!(got[0].data(), &frame[..]);
    assert_eq!(got[0].reg(h3.reg(SOURCE_PORT_KEY)), 991);
    assert_eq!(
        got[0].reg(h3.reg(NETWORK_KEY)),
        21,
        "h3's network for VXLAN VNI 100"
    );

    // The peer's TTL and a VNI of 24 bits reach the wire.
    let cfg = peer(2).replace(
        r#""flood_key": 991, "chassis": [0]}"#,
        r#""flood_key": 991, "chassis": [0]},
           {"network_key": 22, "vni": 16777215, "flood_key": 992, "chassis": [0]}"#,
    );
    let mut h2 = harness(&cfg);
    let out = encap(&mut h2, &frame, 992);
    let o = parse_outer(tx_on(&out, 3)[0].data());
    assert_eq!((o.ip.ttl, o.ip.src_addr, o.ip.dst_addr), (9, ip(2), ip(1)));
    assert_eq!(o.tun, ("geneve", 16_777_215));
}

#[test]
fn flood_replicates_once_per_remote_chassis() {
    let mut h1 = harness(H1);
    let frame = inner();
    for (key, kind, want) in [
        (900, "geneve", vec![ip(2), ip(3)]),
        (901, "vxlan", vec![ip(2), ip(3), ip(4)]),
    ] {
        let out = encap(&mut h1, &frame, key);
        assert!(out.drops.is_empty(), "{:?}", out.drops);
        let tx = tx_on(&out, 1);
        assert_eq!(tx.len(), want.len());
        let mut dsts = Vec::new();
        let mut sports = BTreeSet::new();
        for p in &tx {
            let o = parse_outer(p.data());
            assert_eq!(o.tun, (kind, 100));
            assert_eq!(o.inner, frame);
            assert_eq!(
                o.eth.dst_addr,
                mac(o.ip.dst_addr.octets()[3]),
                "each copy to its chassis' MAC"
            );
            dsts.push(o.ip.dst_addr);
            sports.insert(o.sport);
        }
        dsts.sort();
        assert_eq!(dsts, want, "one copy per chassis, each to a different one");
        assert_eq!(sports.len(), 1, "one flow, one source port");
    }
    let out = encap(&mut h1, &frame, 902);
    assert!(out.tx.is_empty());
    assert_eq!(out.dropped("no-remote-chassis"), 1);
}

/// Who has 172.16.0.1? Tell 172.16.0.9 (52:54:00:00:00:09), padded to 60.
fn arp_request(target: Ipv4Addr, op: ArpOperation) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    EthernetRepr {
        src_addr: mac(9),
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EtherType::Arp,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    ArpRepr {
        operation: op,
        source_hardware_addr: mac(9),
        source_protocol_addr: ip(9),
        target_hardware_addr: EthernetAddress::default(),
        target_protocol_addr: target,
    }
    .emit(&mut ArpPacket::new_unchecked(&mut f[14..42]));
    f
}

#[test]
fn answers_arp_for_the_local_tunnel_ip() {
    let mut h1 = harness(H1);
    let out = decap(&mut h1, &[&arp_request(ip(1), ArpOperation::Request)], 1);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    assert!(out.sent.is_empty());
    let tx = tx_on(&out, 1);
    assert_eq!(tx.len(), 1);
    let d = tx[0].data();
    assert_eq!(d.len(), 60, "the request's buffer, padding kept");
    #[rustfmt::skip]
    let want: [u8; 42] = [
        0x52, 0x54, 0, 0, 0, 9, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x06, // to the asker, from local.mac
        0, 1, 0x08, 0, 6, 4, 0, 2,                                  // Ethernet/IPv4, reply
        0x52, 0x54, 0, 0, 0, 1, 172, 16, 0, 1,                      // local.mac is at local.ip
        0x52, 0x54, 0, 0, 0, 9, 172, 16, 0, 9,                      // to the asker
    ];
    assert_eq!(&d[..42], &want[..]);
    let text = format!("{:?}", out.trace);
    assert!(text.contains("tunnel: arp reply to"), "{text}");

    // Requests for other IPs, replies and gratuitous ARP are not ours.
    let out = decap(
        &mut h1,
        &[
            &arp_request(ip(2), ArpOperation::Request),
            &arp_request(ip(1), ArpOperation::Reply),
            &arp_request(ip(1), ArpOperation::Request)[..20],
        ],
        1,
    );
    assert!(out.tx.is_empty());
    assert_eq!(out.dropped("not-for-us"), 3);
}

#[test]
fn decap_accepts_options_group_macs_and_trims_padding() {
    let mut h1 = harness(H1);
    let frame = inner();
    // A Geneve header with one 8-byte non-critical option.
    let mut hdr = vec![0u8; 16];
    GeneveRepr {
        oam: false,
        critical: false,
        protocol_type: EtherType::TransEtherBridging,
        vni: 100,
        options: &[0x01, 0x02, 0x03, 0x01, 0xde, 0xad, 0xbe, 0xef],
    }
    .emit(&mut GenevePacket::new_unchecked(&mut hdr[..]));
    let with_options = tunnelled(6081, &hdr, &frame);
    // A multicast destination MAC.
    let mut multicast = geneve(100, &frame);
    multicast[..6].copy_from_slice(&[0x01, 0x00, 0x5e, 0, 0, 1]);
    // Ethernet padding after a short inner frame: 14-byte inner in a 64-byte
    // outer frame plus 6 bytes of trailer.
    let tiny = &frame[..14];
    let mut padded = tunnelled(4789, &vxlan_hdr(100), tiny);
    padded.extend_from_slice(&[0xee; 6]);
    let out = decap(&mut h1, &[&with_options, &multicast, &padded], 1);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let got = out.by_exit("decap");
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].data(), &frame[..]);
    assert_eq!(got[1].data(), &frame[..]);
    assert_eq!(got[2].data(), tiny);
    let net = h1.reg(NETWORK_KEY);
    let nets: Vec<u32> = got.iter().map(|p| p.reg(net)).collect();
    assert_eq!(nets, vec![10, 10, 11]);
}

#[test]
fn every_decap_drop_reason() {
    let mut h1 = harness(H1);
    let frame = inner();
    let good = geneve(100, &frame);
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut g = good.clone();
        f(&mut g);
        g
    };
    let other_mac = edit(&|g| g[..6].copy_from_slice(&mac(7).0));
    let ipv6 = edit(&|g| g[12..14].copy_from_slice(&[0x86, 0xdd]));
    let other_ip = edit(&|g| {
        g[33] = 9;
        fix_ip_checksum(g);
    });
    let tcp = edit(&|g| {
        g[23] = 6;
        fix_ip_checksum(g);
    });
    let dns = edit(&|g| g[36..38].copy_from_slice(&53u16.to_be_bytes()));
    let bad_sum = edit(&|g| g[24] ^= 0xff);
    let fragment = edit(&|g| {
        g[20] |= 0x20; // MF
        fix_ip_checksum(g);
    });
    let ihl_short = edit(&|g| {
        g[14] = 0x44;
        fix_ip_checksum(g);
    });
    let truncated_ip = good[..40].to_vec();
    let udp_too_long = edit(&|g| g[38..40].copy_from_slice(&500u16.to_be_bytes()));
    let version1 = edit(&|g| g[42] = 0x40);
    let oam = edit(&|g| g[43] = 0x80);
    let critical = edit(&|g| g[43] = 0x40);
    let not_ethernet = edit(&|g| g[44..46].copy_from_slice(&[0x08, 0x00]));
    let options_past_end = edit(&|g| g[42] = 0x3f);
    let no_i_flag = {
        let mut v = tunnelled(4789, &vxlan_hdr(100), &frame);
        v[42] = 0;
        v
    };
    let vxlan_short = tunnelled(4789, &[0x08, 0, 0], &[]);
    let unknown_vni = tunnelled(4789, &vxlan_hdr(200), &frame);
    let unknown_geneve_vni = geneve(101, &frame);
    let inner_runt = geneve(100, &frame[..13]);
    let cases: Vec<(&[u8], &str)> = vec![
        (&good[..13], "runt"),
        (&inner_runt, "runt"),
        (&other_mac, "not-for-us"),
        (&ipv6, "not-for-us"),
        (&other_ip, "not-for-us"),
        (&tcp, "not-for-us"),
        (&dns, "not-for-us"),
        (&bad_sum, "bad-outer"),
        (&fragment, "bad-outer"),
        (&ihl_short, "bad-outer"),
        (&truncated_ip, "bad-outer"),
        (&udp_too_long, "bad-outer"),
        (&version1, "bad-geneve"),
        (&oam, "bad-geneve"),
        (&critical, "bad-geneve"),
        (&not_ethernet, "bad-geneve"),
        (&options_past_end, "bad-geneve"),
        (&no_i_flag, "bad-vxlan"),
        (&vxlan_short, "bad-vxlan"),
        (&unknown_vni, "unknown-vni"),
        (&unknown_geneve_vni, "unknown-vni"),
    ];
    for (f, reason) in &cases {
        let out = decap(&mut h1, &[f], 1);
        assert_eq!(out.drops, vec![(*reason, 1)], "want {reason}: {f:02x?}");
        assert!(out.sent.is_empty() && out.tx.is_empty());
    }
    // The same good frame on another port, and with tunnelling off.
    let out = decap(&mut h1, &[&good], 2);
    assert_eq!(out.drops, vec![("unknown-port", 1)]);
    let mut off = StageHarness::<TunnelApp>::new("").unwrap();
    let out = decap(&mut off, &[&good], 1);
    assert_eq!(out.drops, vec![("no-underlay", 1)]);
    // And it is fine as it is.
    let out = decap(&mut h1, &[&good], 1);
    assert_eq!(out.by_exit("decap").len(), 1);
}

#[test]
fn every_encap_drop_reason() {
    let mut h1 = harness(H1);
    let frame = inner();
    let out = encap(&mut h1, &frame, 4242);
    assert_eq!(out.drops, vec![("unknown-destination", 1)]);
    let out = encap(&mut h1, &frame, 0);
    assert_eq!(out.drops, vec![("unknown-destination", 1)]);
    let out = encap(&mut h1, &frame, 902);
    assert_eq!(out.drops, vec![("no-remote-chassis", 1)]);
    // 49 bytes of headroom left: one short.
    let mut p = h1.packet(&frame, 2, &[(DESTINATION_PORT_KEY, 5)]);
    let extra = p.headroom() - 49;
    assert!(p.prepend(extra).is_some());
    let out = h1.run("encap", vec![p]);
    assert_eq!(out.drops, vec![("no-headroom", 1)]);
    // Exactly 50 is enough.
    let mut p = h1.packet(&frame, 2, &[(DESTINATION_PORT_KEY, 5)]);
    let extra = p.headroom() - 50;
    assert!(p.prepend(extra).is_some());
    let out = h1.run("encap", vec![p]);
    assert_eq!(out.tx.len(), 1);
    assert_eq!(out.tx[0].1.headroom(), 0);
    // Tunnelling off.
    let mut off = harness(r#"{"networks": [{"network_key": 10, "vni": 1, "flood_key": 900}]}"#);
    let out = encap(&mut off, &frame, 900);
    assert_eq!(out.drops, vec![("no-underlay", 1)]);
}

fn sport_of(h: &mut StageHarness<TunnelApp>, frame: &[u8]) -> u16 {
    let out = encap(h, frame, 5);
    let tx = tx_on(&out, 1);
    assert_eq!(tx.len(), 1);
    parse_outer(tx[0].data()).sport
}

#[test]
fn source_port_follows_the_flow() {
    let mut h1 = harness(H1);
    // One flow: the IP ident, TTL and payload change, the port does not.
    let a = inner_udp(1000, 2000, 1);
    let mut b = inner_udp(1000, 2000, 777);
    b[22] = 3; // TTL
    b[50] ^= 0xff; // payload
    let s = sport_of(&mut h1, &a);
    assert_eq!(sport_of(&mut h1, &b), s);
    assert_eq!(sport_of(&mut h1, &a), s);
    // Different flows (source ports) mostly get different ports, all in range.
    let ports: BTreeSet<u16> = (0..32u16)
        .map(|i| sport_of(&mut h1, &inner_udp(1000 + i, 2000, 1)))
        .collect();
    assert!(ports.len() >= 28, "{ports:?}");
    assert!(ports.iter().all(|p| *p >= 49152));
    // Non-IP and runt inner frames still get a port.
    let mut arp = arp_request(ip(1), ArpOperation::Request);
    arp[..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x0b]);
    assert!(sport_of(&mut h1, &arp) >= 49152);
    assert!(sport_of(&mut h1, &[1, 2, 3]) >= 49152);
    assert!(sport_of(&mut h1, &[]) >= 49152);
}

#[test]
fn traced_packets_record_the_decisions() {
    let mut h1 = harness(H1);
    let out = encap(&mut h1, &inner(), 900);
    let text = format!("{:?}", out.trace);
    for note in [
        "tunnel: destination port key",
        "tunnel: vni",
        "tunnel: udp source port",
        "tunnel: flood copies",
        "tunnel: to chassis",
    ] {
        assert!(text.contains(note), "{note}: {text}");
    }
    let out = decap(&mut h1, &[&geneve(100, &inner()), &geneve(7, &inner())], 1);
    let text = format!("{:?}", out.trace);
    assert!(text.contains("tunnel: network key"), "{text}");
    assert!(text.contains("tunnel: no network for vni"), "{text}");
}

#[test]
fn params_and_unknown_fields_are_refused() {
    assert!(StageHarness::<TunnelApp>::new("{a: 1}").is_err());
    let mut h = StageHarness::<TunnelApp>::new("").unwrap();
    assert!(h.configure_json(r#"{"networks": [], "x": 1}"#).is_err());
    let e = h
        .configure_json(r#"{"networks": [{"network_key": 1, "vni": 16777216, "flood_key": 2}]}"#)
        .unwrap_err();
    assert_eq!(e, "networks[0].vni: 16777216 is not a VNI (< 2^24)");
}

#[test]
fn the_fixed_offset_source_port_equals_the_parsed_one() {
    use super::{source_port, source_port_parsed};
    let mut frames = Vec::new();
    for (s, d) in [(1000, 2000), (2000, 1000), (53, 40000), (0, 0)] {
        frames.push(inner_udp(s, d, 7));
    }
    let base = inner();
    // Fragments, a short total length, padding after it, a bad total
    // length, IP options (IHL 6), not IPv4, runts.
    let mut frag = base.clone();
    frag[20] = 0x20;
    frames.push(frag.clone());
    frag[20] = 0;
    frag[21] = 8;
    frames.push(frag);
    let mut short = base.clone();
    short[16..18].copy_from_slice(&28u16.to_be_bytes());
    frames.push(short);
    let mut padded = base.clone();
    padded.extend([0u8; 10]);
    frames.push(padded);
    let mut bad = base.clone();
    bad[16..18].copy_from_slice(&1500u16.to_be_bytes());
    frames.push(bad.clone());
    bad[16..18].copy_from_slice(&10u16.to_be_bytes());
    frames.push(bad);
    let mut opts = base.clone();
    opts[14] = 0x46;
    frames.push(opts);
    let mut v6 = base.clone();
    v6[12..14].copy_from_slice(&[0x86, 0xdd]);
    frames.push(v6);
    frames.push(base[..20].to_vec());
    frames.push(base[..34].to_vec());
    frames.push(Vec::new());
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(source_port(f), source_port_parsed(f), "frame {i}");
    }
    let ports: BTreeSet<u16> = frames[..4].iter().map(|f| source_port(f)).collect();
    assert!(ports.len() >= 3, "different flows spread: {ports:?}");
}
