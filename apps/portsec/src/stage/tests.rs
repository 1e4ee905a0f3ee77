//! Stage tests: real frames built with df-wire Reprs, one per case of the
//! app doc, each checked for its exit or drop reason and its trace note.

use std::net::{Ipv4Addr, Ipv6Addr};

use df_dp::reg::{NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::StageHarness;
use df_dp::trace::TraceEvent;
use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, DhcpMessageType, DhcpOpCode, DhcpPacket, DhcpRepr, EtherType,
    EthernetAddress, EthernetFrame, EthernetRepr, Icmpv6Packet, Icmpv6Repr, IpProtocol,
    Ipv4OptionBytes, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, NdOptionsRepr, NdiscRepr,
    PseudoHeader, UdpPacket, UdpRepr,
};

use crate::PortsecApp;

const MAC1: [u8; 6] = [0xfa, 0x16, 0x3e, 0, 0, 1];
const VIP_MAC: [u8; 6] = [0xfa, 0x16, 0x3e, 0, 0, 0x99];
const MAC3: [u8; 6] = [0xfa, 0x16, 0x3e, 0, 0, 3];
const EVIL: [u8; 6] = [0xfa, 0x16, 0x3e, 0, 0, 0x66];
const ROUTER: [u8; 6] = [0xfa, 0x16, 0x3e, 0, 0, 0xfe];
const BCAST: [u8; 6] = [0xff; 6];
const IPV6_ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];

/// Port 1: one MAC, fixed IPv4 and IPv6, pairs with their own MAC and with
/// the default MAC. Port 2: port security disabled. Port 3: a second VM.
const CFG: &str = r#"{"ports":[
    {"port_key":1,"macs":["fa:16:3e:00:00:01"],"ipv4":["10.0.0.5"],"ipv6":["2001:db8::5"],
     "allowed_address_pairs":[{"ip":"10.0.0.100","mac":"fa:16:3e:00:00:99"},
                              {"ip":"2001:db8::100","mac":"fa:16:3e:00:00:99"},
                              {"ip":"10.0.0.101"}]},
    {"port_key":2,"port_security_enabled":false},
    {"port_key":3,"macs":["fa:16:3e:00:00:03"],"ipv4":["10.0.0.7"]}]}"#;

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// Port 1's link-local (EUI-64 of fa:16:3e:00:00:01).
fn ll1() -> Ipv6Addr {
    v6("fe80::f816:3eff:fe00:1")
}

fn eth(src: [u8; 6], dst: [u8; 6], ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 14 + payload.len()];
    let repr = EthernetRepr {
        src_addr: EthernetAddress(src),
        dst_addr: EthernetAddress(dst),
        ethertype,
    };
    repr.emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    f[14..].copy_from_slice(payload);
    if f.len() < 60 {
        f.resize(60, 0); // Ethernet padding, as on the wire
    }
    f
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, l4: &[u8]) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol,
        payload_len: l4.len(),
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 1,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionBytes::default(),
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b[20..].copy_from_slice(l4);
    b
}

fn udp(ph: PseudoHeader, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut seg = vec![0u8; 8 + payload.len()];
    seg[8..].copy_from_slice(payload);
    let repr = UdpRepr {
        src_port: sport,
        dst_port: dport,
        payload_len: payload.len(),
    };
    repr.emit(&mut UdpPacket::new_unchecked(&mut seg[..]), &ph);
    seg
}

/// An Ethernet/IPv4/UDP frame.
fn udp4(mac: [u8; 6], src: Ipv4Addr, dst: Ipv4Addr, ports: (u16, u16), payload: &[u8]) -> Vec<u8> {
    let seg = udp(PseudoHeader::V4 { src, dst }, ports.0, ports.1, payload);
    eth(
        mac,
        ROUTER,
        EtherType::Ipv4,
        &ipv4(src, dst, IpProtocol::Udp, &seg),
    )
}

fn dhcp(op: DhcpOpCode, t: DhcpMessageType, chaddr: [u8; 6]) -> Vec<u8> {
    let r = DhcpRepr::new(op, t, 0x1234_5678, EthernetAddress(chaddr));
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut DhcpPacket::new_unchecked(&mut b[..]));
    b
}

fn arp(mac: [u8; 6], op: ArpOperation, sha: [u8; 6], spa: &str, tpa: &str) -> Vec<u8> {
    let repr = ArpRepr {
        operation: op,
        source_hardware_addr: EthernetAddress(sha),
        source_protocol_addr: v4(spa),
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: v4(tpa),
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut b[..]));
    eth(mac, BCAST, EtherType::Arp, &b)
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: next,
        payload_len: payload.len(),
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut b[..]));
    b[40..].copy_from_slice(payload);
    b
}

/// An Ethernet/IPv6/ICMPv6 frame.
fn icmp6(mac: [u8; 6], src: Ipv6Addr, dst: Ipv6Addr, msg: Icmpv6Repr<'_>) -> Vec<u8> {
    let mut seg = vec![0u8; msg.buffer_len()];
    msg.emit(&mut Icmpv6Packet::new_unchecked(&mut seg[..]), &src, &dst);
    eth(
        mac,
        IPV6_ALL_NODES_MAC,
        EtherType::Ipv6,
        &ipv6(src, dst, IpProtocol::Icmpv6, &seg),
    )
}

fn lladdr(source: Option<[u8; 6]>, target: Option<[u8; 6]>) -> NdOptionsRepr<'static> {
    NdOptionsRepr {
        source_lladdr: source.map(EthernetAddress),
        target_lladdr: target.map(EthernetAddress),
        ..Default::default()
    }
}

fn ns(target: Ipv6Addr, slla: Option<[u8; 6]>) -> Icmpv6Repr<'static> {
    Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
        target,
        options: lladdr(slla, None),
    })
}

fn na(target: Ipv6Addr, tlla: Option<[u8; 6]>) -> Icmpv6Repr<'static> {
    Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
        router: false,
        solicited: false,
        override_cache: true,
        target,
        options: lladdr(None, tlla),
    })
}

fn harness(params: &str) -> StageHarness<PortsecApp> {
    let mut h = StageHarness::<PortsecApp>::new(params).unwrap();
    h.configure_json(CFG).unwrap();
    h
}

/// Runs one frame from `port`; returns where it went (exit or drop reason)
/// and the app's trace note.
fn run(h: &mut StageHarness<PortsecApp>, port: u32, frame: &[u8]) -> (&'static str, &'static str) {
    let p = h.packet(frame, 0, &[(SOURCE_PORT_KEY, port), (NETWORK_KEY, 1)]);
    let mut out = h.run("default", vec![p]);
    let notes: Vec<&'static str> = out
        .trace
        .iter()
        .filter_map(|r| match r.event {
            TraceEvent::Note(what, _) => Some(what),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 1, "one note per decision: {notes:?}");
    let went = match out.sent.pop() {
        Some((exit, p)) => {
            h.free(p);
            exit
        }
        None => {
            assert_eq!(out.drops.len(), 1, "{:?}", out.drops);
            out.drops[0].0
        }
    };
    (went, notes[0])
}

/// Where a frame from port 1 goes (default params).
fn verdict(frame: &[u8]) -> &'static str {
    run(&mut harness(""), 1, frame).0
}

#[test]
fn ipv4_udp_from_a_fixed_ip_is_accepted() {
    let f = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.7"), (40000, 53), b"query");
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("accept", crate::trace::ACCEPT)
    );
}

#[test]
fn ipv4_source_must_be_bound_to_the_source_mac() {
    let f = udp4(MAC1, v4("10.0.0.7"), v4("10.0.0.1"), (40000, 53), b"q");
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("spoofed-ipv4", crate::trace::SPOOFED_IPV4)
    );
    // A pair's IP from the port's MAC, and a fixed IP from the pair's MAC.
    assert_eq!(
        verdict(&udp4(MAC1, v4("10.0.0.100"), v4("10.0.0.1"), (1, 2), b"")),
        "spoofed-ipv4"
    );
    assert_eq!(
        verdict(&udp4(VIP_MAC, v4("10.0.0.5"), v4("10.0.0.1"), (1, 2), b"")),
        "spoofed-ipv4"
    );
    // 0.0.0.0 outside DHCP.
    assert_eq!(
        verdict(&udp4(MAC1, v4("0.0.0.0"), v4("10.0.0.1"), (1, 2), b"")),
        "spoofed-ipv4"
    );
}

#[test]
fn allowed_address_pair_with_its_own_mac() {
    let f = udp4(
        VIP_MAC,
        v4("10.0.0.100"),
        v4("10.0.0.7"),
        (5000, 5001),
        b"vrrp-ish",
    );
    assert_eq!(verdict(&f), "accept");
    // A pair without a MAC uses the port's MAC.
    let f = udp4(MAC1, v4("10.0.0.101"), v4("10.0.0.7"), (5000, 5001), b"");
    assert_eq!(verdict(&f), "accept");
    // IPv6 pair.
    let f = icmp6(
        VIP_MAC,
        v6("2001:db8::100"),
        v6("2001:db8::1"),
        Icmpv6Repr::EchoRequest {
            ident: 1,
            seq_no: 1,
            data: b"ping",
        },
    );
    assert_eq!(verdict(&f), "accept");
    // Gratuitous ARP for the pair's IP from the pair's MAC.
    let f = arp(
        VIP_MAC,
        ArpOperation::Request,
        VIP_MAC,
        "10.0.0.100",
        "10.0.0.100",
    );
    assert_eq!(verdict(&f), "accept");
}

#[test]
fn spoofed_source_mac() {
    let f = udp4(EVIL, v4("10.0.0.5"), v4("10.0.0.7"), (1, 2), b"");
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("spoofed-mac", crate::trace::SPOOFED_MAC)
    );
    // Port 3's MAC is not port 1's.
    assert_eq!(
        verdict(&udp4(MAC3, v4("10.0.0.7"), v4("10.0.0.5"), (1, 2), b"")),
        "spoofed-mac"
    );
}

#[test]
fn dhcp_discover_from_unspecified_is_accepted_as_service() {
    let d = dhcp(DhcpOpCode::BootRequest, DhcpMessageType::Discover, MAC1);
    let f = udp4(MAC1, v4("0.0.0.0"), v4("255.255.255.255"), (68, 67), &d);
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("accept", crate::trace::ACCEPT_SERVICE)
    );
    assert_eq!(
        run(&mut harness("services_exit: true"), 1, &f).0,
        "services"
    );
    // To a unicast server (renewal before the address is configured).
    let f = udp4(MAC1, v4("0.0.0.0"), v4("10.0.0.2"), (68, 67), &d);
    assert_eq!(verdict(&f), "accept");
    // Not from a pair's MAC, not to multicast, not from another UDP port.
    let f = udp4(VIP_MAC, v4("0.0.0.0"), v4("255.255.255.255"), (68, 67), &d);
    assert_eq!(verdict(&f), "spoofed-ipv4");
    let f = udp4(MAC1, v4("0.0.0.0"), v4("224.0.0.1"), (68, 67), &d);
    assert_eq!(verdict(&f), "spoofed-ipv4");
    let f = udp4(MAC1, v4("0.0.0.0"), v4("255.255.255.255"), (1068, 67), &d);
    assert_eq!(verdict(&f), "spoofed-ipv4");
    // A request from the fixed IP is service traffic too.
    let d = dhcp(DhcpOpCode::BootRequest, DhcpMessageType::Request, MAC1);
    let f = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.2"), (68, 67), &d);
    assert_eq!(
        run(&mut harness("services_exit: true"), 1, &f).0,
        "services"
    );
}

#[test]
fn dhcpv4_server_messages_from_a_vm() {
    let offer = dhcp(
        DhcpOpCode::BootReply,
        DhcpMessageType::Offer,
        [2, 0, 0, 0, 0, 9],
    );
    let f = udp4(
        MAC1,
        v4("10.0.0.5"),
        v4("255.255.255.255"),
        (67, 68),
        &offer,
    );
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("dhcp-server", crate::trace::DHCPV4_SERVER)
    );
    // Server ports alone are enough.
    let f = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.9"), (67, 68), b"junk");
    assert_eq!(verdict(&f), "dhcp-server");
    // BOOTREPLY or an ACK/NAK type on the client-to-server ports.
    let f = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.2"), (68, 67), &offer);
    assert_eq!(verdict(&f), "dhcp-server");
    let ack = dhcp(DhcpOpCode::BootRequest, DhcpMessageType::Ack, MAC1);
    let f = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.2"), (67, 67), &ack);
    assert_eq!(verdict(&f), "dhcp-server");
    let nak = dhcp(DhcpOpCode::BootRequest, DhcpMessageType::Nak, MAC1);
    let f = udp4(MAC1, v4("0.0.0.0"), v4("255.255.255.255"), (68, 67), &nak);
    assert_eq!(verdict(&f), "dhcp-server");
    // A relay forwarding a request (67 -> 67) from its own IP is fine.
    let req = dhcp(
        DhcpOpCode::BootRequest,
        DhcpMessageType::Request,
        [2, 0, 0, 0, 0, 9],
    );
    let f = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.2"), (67, 67), &req);
    assert_eq!(verdict(&f), "accept");
}

#[test]
fn first_fragment_to_a_dhcp_client_is_a_server_message() {
    let seg = udp(
        PseudoHeader::V4 {
            src: v4("10.0.0.5"),
            dst: v4("10.0.0.9"),
        },
        67,
        68,
        &[0; 16],
    );
    let mut ip = ipv4(v4("10.0.0.5"), v4("10.0.0.9"), IpProtocol::Udp, &seg);
    let mut p = Ipv4Packet::new_unchecked(&mut ip[..]);
    p.set_fragment(false, true, 0);
    p.fill_checksum();
    assert_eq!(
        verdict(&eth(MAC1, ROUTER, EtherType::Ipv4, &ip)),
        "dhcp-server"
    );
    // A later fragment carries no header: only the source is checked.
    let mut p = Ipv4Packet::new_unchecked(&mut ip[..]);
    p.set_fragment(false, false, 8);
    p.fill_checksum();
    assert_eq!(verdict(&eth(MAC1, ROUTER, EtherType::Ipv4, &ip)), "accept");
}

#[test]
fn arp_request_probe_and_gratuitous() {
    let mut h = harness("");
    let req = arp(MAC1, ArpOperation::Request, MAC1, "10.0.0.5", "10.0.0.7");
    assert_eq!(
        run(&mut h, 1, &req),
        ("accept", crate::trace::ACCEPT_SERVICE)
    );
    let probe = arp(MAC1, ArpOperation::Request, MAC1, "0.0.0.0", "10.0.0.5");
    assert_eq!(run(&mut h, 1, &probe).0, "accept");
    let garp = arp(MAC1, ArpOperation::Request, MAC1, "10.0.0.5", "10.0.0.5");
    assert_eq!(run(&mut h, 1, &garp).0, "accept");
    let garp_reply = arp(MAC1, ArpOperation::Reply, MAC1, "10.0.0.5", "10.0.0.5");
    assert_eq!(run(&mut h, 1, &garp_reply).0, "accept");
    let mut s = harness("services_exit: true");
    assert_eq!(run(&mut s, 1, &req).0, "services");
    assert_eq!(run(&mut s, 1, &probe).0, "services");
}

#[test]
fn arp_spoofs() {
    let mut h = harness("");
    // Sender MAC differs from the Ethernet source.
    let f = arp(MAC1, ArpOperation::Reply, VIP_MAC, "10.0.0.100", "10.0.0.7");
    assert_eq!(run(&mut h, 1, &f), ("spoofed-arp", crate::trace::ARP_SHA));
    // Sender IP not the port's (another VM's address).
    let f = arp(MAC1, ArpOperation::Reply, MAC1, "10.0.0.7", "10.0.0.1");
    assert_eq!(run(&mut h, 1, &f), ("spoofed-arp", crate::trace::ARP_SPA));
    // A pair's IP from the port's MAC.
    let f = arp(MAC1, ArpOperation::Request, MAC1, "10.0.0.100", "10.0.0.1");
    assert_eq!(run(&mut h, 1, &f).0, "spoofed-arp");
    // 0.0.0.0 only in a probe (request).
    let f = arp(MAC1, ArpOperation::Reply, MAC1, "0.0.0.0", "10.0.0.1");
    assert_eq!(run(&mut h, 1, &f).0, "spoofed-arp");
    // Not Ethernet/IPv4 (hardware type 6, IEEE 802).
    let mut f = arp(MAC1, ArpOperation::Request, MAC1, "10.0.0.5", "10.0.0.7");
    f[15] = 6;
    assert_eq!(
        run(&mut h, 1, &f),
        ("spoofed-arp", crate::trace::ARP_NOT_IPV4)
    );
}

#[test]
fn ipv6_from_fixed_and_link_local() {
    let echo = Icmpv6Repr::EchoRequest {
        ident: 7,
        seq_no: 1,
        data: b"hello",
    };
    let f = icmp6(MAC1, v6("2001:db8::5"), v6("2001:db8::1"), echo);
    assert_eq!(run(&mut harness("services_exit: true"), 1, &f).0, "accept");
    let f = icmp6(MAC1, ll1(), v6("fe80::1"), echo);
    assert_eq!(verdict(&f), "accept");
    // Another MAC's link-local, a foreign global address.
    let f = icmp6(MAC1, v6("fe80::f816:3eff:fe00:3"), v6("fe80::1"), echo);
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("spoofed-ipv6", crate::trace::SPOOFED_IPV6)
    );
    let f = icmp6(MAC1, v6("2001:db8::7"), v6("2001:db8::1"), echo);
    assert_eq!(verdict(&f), "spoofed-ipv6");
    // :: outside DAD and MLD.
    let f = icmp6(MAC1, Ipv6Addr::UNSPECIFIED, v6("2001:db8::1"), echo);
    assert_eq!(verdict(&f), "spoofed-ipv6");
    // UDP over IPv6.
    let (src, dst) = (v6("2001:db8::5"), v6("2001:db8::7"));
    let seg = udp(PseudoHeader::V6 { src, dst }, 4000, 53, b"q");
    let f = eth(
        MAC1,
        ROUTER,
        EtherType::Ipv6,
        &ipv6(src, dst, IpProtocol::Udp, &seg),
    );
    assert_eq!(verdict(&f), "accept");
}

#[test]
fn dad_neighbour_solicitation_and_mld_from_unspecified() {
    let solicited_node = v6("ff02::1:ff00:5");
    let dad = icmp6(
        MAC1,
        Ipv6Addr::UNSPECIFIED,
        solicited_node,
        ns(v6("2001:db8::5"), None),
    );
    let mut s = harness("services_exit: true");
    assert_eq!(
        run(&mut s, 1, &dad),
        ("services", crate::trace::ACCEPT_SERVICE)
    );
    assert_eq!(verdict(&dad), "accept");
    let mld = Icmpv6Repr::Other {
        msg_type: df_wire::Icmpv6Message::MldV2Report,
        code: 0,
        rest: [0; 4],
        data: &[],
    };
    let f = icmp6(MAC1, Ipv6Addr::UNSPECIFIED, v6("ff02::16"), mld);
    assert_eq!(run(&mut s, 1, &f).0, "services");
    // DAD must not carry a source link-layer address (RFC 4861 4.3).
    let f = icmp6(
        MAC1,
        Ipv6Addr::UNSPECIFIED,
        solicited_node,
        ns(v6("2001:db8::5"), Some(MAC1)),
    );
    assert_eq!(
        run(&mut s, 1, &f),
        ("spoofed-nd", crate::trace::ND_LLADDR_FROM_UNSPECIFIED)
    );
}

#[test]
fn neighbour_solicitation_and_advertisement_checks() {
    let mut h = harness("services_exit: true");
    // Address resolution from the link-local with the right SLLA.
    let f = icmp6(
        MAC1,
        ll1(),
        v6("ff02::1:ff00:7"),
        ns(v6("2001:db8::7"), Some(MAC1)),
    );
    assert_eq!(run(&mut h, 1, &f).0, "services");
    // NS with a wrong SLLA option.
    let f = icmp6(
        MAC1,
        ll1(),
        v6("ff02::1:ff00:7"),
        ns(v6("2001:db8::7"), Some(EVIL)),
    );
    assert_eq!(run(&mut h, 1, &f), ("spoofed-nd", crate::trace::ND_LLADDR));
    // NA for the port's own addresses, TLLA = Ethernet source.
    let f = icmp6(
        MAC1,
        ll1(),
        v6("ff02::1"),
        na(v6("2001:db8::5"), Some(MAC1)),
    );
    assert_eq!(run(&mut h, 1, &f).0, "services");
    let f = icmp6(MAC1, ll1(), v6("ff02::1"), na(ll1(), None));
    assert_eq!(run(&mut h, 1, &f).0, "services");
    // NA with a foreign target (another VM's address, the router's).
    let f = icmp6(
        MAC1,
        ll1(),
        v6("ff02::1"),
        na(v6("2001:db8::7"), Some(MAC1)),
    );
    assert_eq!(run(&mut h, 1, &f), ("spoofed-nd", crate::trace::ND_TARGET));
    let f = icmp6(MAC1, ll1(), v6("ff02::1"), na(v6("fe80::1"), None));
    assert_eq!(run(&mut h, 1, &f).0, "spoofed-nd");
    // NA with a wrong TLLA.
    let f = icmp6(
        MAC1,
        ll1(),
        v6("ff02::1"),
        na(v6("2001:db8::5"), Some(EVIL)),
    );
    assert_eq!(run(&mut h, 1, &f), ("spoofed-nd", crate::trace::ND_LLADDR));
    // NA for the pair's IPv6 only from the pair's MAC.
    let f = icmp6(
        VIP_MAC,
        v6("2001:db8::100"),
        v6("ff02::1"),
        na(v6("2001:db8::100"), Some(VIP_MAC)),
    );
    assert_eq!(run(&mut h, 1, &f).0, "services");
    let f = icmp6(
        MAC1,
        ll1(),
        v6("ff02::1"),
        na(v6("2001:db8::100"), Some(MAC1)),
    );
    assert_eq!(run(&mut h, 1, &f).0, "spoofed-nd");
    // NA from :: is not DAD.
    let f = icmp6(
        MAC1,
        Ipv6Addr::UNSPECIFIED,
        v6("ff02::1"),
        na(v6("2001:db8::5"), None),
    );
    assert_eq!(run(&mut h, 1, &f).0, "spoofed-ipv6");
}

#[test]
fn router_advertisement_and_redirect_from_a_vm() {
    let ra = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
        hop_limit: 64,
        managed: false,
        other_config: false,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_time: 0,
        options: lladdr(Some(MAC1), None),
    });
    let f = icmp6(MAC1, ll1(), v6("ff02::1"), ra);
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("router-advertisement", crate::trace::ROUTER_ADVERTISEMENT)
    );
    let redirect = Icmpv6Repr::Other {
        msg_type: df_wire::Icmpv6Message::Redirect,
        code: 0,
        rest: [0; 4],
        data: &[0; 32],
    };
    let f = icmp6(MAC1, ll1(), v6("2001:db8::7"), redirect);
    assert_eq!(verdict(&f), "router-advertisement");
    // A router solicitation is fine.
    let rs = Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit {
        options: lladdr(Some(MAC1), None),
    });
    assert_eq!(verdict(&icmp6(MAC1, ll1(), v6("ff02::2"), rs)), "accept");
}

#[test]
fn dhcpv6_server_messages_from_a_vm() {
    let (src, dst) = (ll1(), v6("fe80::f816:3eff:fe00:3"));
    let frame = |sport, dport, msg: u8| {
        let seg = udp(PseudoHeader::V6 { src, dst }, sport, dport, &[msg, 0, 0, 1]);
        eth(
            MAC1,
            MAC3,
            EtherType::Ipv6,
            &ipv6(src, dst, IpProtocol::Udp, &seg),
        )
    };
    // ADVERTISE (2) from the server port.
    assert_eq!(
        run(&mut harness(""), 1, &frame(547, 546, 2)),
        ("dhcp-server", crate::trace::DHCPV6_SERVER)
    );
    // REPLY (7) to a client from any port.
    assert_eq!(verdict(&frame(5000, 546, 7)), "dhcp-server");
    // A SOLICIT (1) from the client is service traffic.
    let f = frame(546, 547, 1);
    assert_eq!(
        run(&mut harness("services_exit: true"), 1, &f).0,
        "services"
    );
}

#[test]
fn port_security_disabled_bypasses_every_check() {
    let mut h = harness("services_exit: true");
    for f in [
        udp4(EVIL, v4("192.0.2.1"), v4("10.0.0.7"), (67, 68), b"offer"),
        arp(EVIL, ArpOperation::Reply, MAC1, "10.0.0.7", "10.0.0.1"),
        eth(EVIL, BCAST, EtherType::Unknown(0x88b5), &[]),
        vec![1, 2, 3],
    ] {
        assert_eq!(run(&mut h, 2, &f), ("accept", crate::trace::BYPASS));
    }
    // Known before any packet: such a port's packets all pass (the worker
    // skips the stage for them); a secured port's depend on their bytes.
    let src = |k| [(SOURCE_PORT_KEY, k)];
    assert_eq!(
        h.route("default", Some(0), &src(2)),
        Some(("exit:accept".to_string(), vec![]))
    );
    assert_eq!(h.route("default", Some(0), &src(1)), None);
    assert_eq!(h.route("default", Some(0), &src(9)), None, "unknown port");
    assert_eq!(h.route("default", Some(0), &[]), None, "port unknown");
}

#[test]
fn unknown_port() {
    let f = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.7"), (1, 2), b"");
    assert_eq!(
        run(&mut harness(""), 9, &f),
        ("unknown-port", crate::trace::UNKNOWN_PORT)
    );
    // Before any config, every port is unknown.
    let mut h = StageHarness::<PortsecApp>::new("").unwrap();
    assert_eq!(run(&mut h, 1, &f).0, "unknown-port");
}

#[test]
fn other_ethertypes_and_vlan_tags() {
    let f = eth(MAC1, BCAST, EtherType::Lldp, &[0; 20]);
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("unknown-ethertype", crate::trace::ETHERTYPE)
    );
    // 802.1Q-tagged IPv4 from a port that is not a trunk.
    let inner = ipv4(v4("10.0.0.5"), v4("10.0.0.7"), IpProtocol::Udp, &[0; 8]);
    let mut tagged = vec![0, 100, 0x08, 0x00];
    tagged.extend_from_slice(&inner);
    let f = eth(MAC1, ROUTER, EtherType::Vlan, &tagged);
    assert_eq!(
        run(&mut harness(""), 1, &f),
        ("unknown-ethertype", crate::trace::VLAN_TAGGED)
    );
    let f = eth(MAC1, ROUTER, EtherType::Mpls, &[0, 1, 1, 64]);
    assert_eq!(verdict(&f), "unknown-ethertype");
}

#[test]
fn malformed_frames() {
    let mut h = harness("");
    let good = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.7"), (1, 2), &[0; 40]);
    // Truncated IPv4: total length past the frame.
    assert_eq!(
        run(&mut h, 1, &good[..30]),
        ("malformed", crate::trace::MALFORMED_IPV4)
    );
    // Runt Ethernet.
    assert_eq!(
        run(&mut h, 1, &good[..10]),
        ("malformed", crate::trace::MALFORMED_ETHERNET)
    );
    // IPv4 version 5.
    let mut f = good.clone();
    f[14] = 0x55;
    assert_eq!(run(&mut h, 1, &f).0, "malformed");
    // UDP length field past the IP payload.
    let mut f = good.clone();
    f[14 + 20 + 4] = 0xff;
    assert_eq!(
        run(&mut h, 1, &f),
        ("malformed", crate::trace::MALFORMED_UDP)
    );
    // UDP length field shorter than the UDP header.
    let mut f = good.clone();
    f[14 + 20 + 4..14 + 20 + 6].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(
        run(&mut h, 1, &f),
        ("malformed", crate::trace::MALFORMED_UDP)
    );
    // Truncated ARP.
    let a = arp(MAC1, ArpOperation::Request, MAC1, "10.0.0.5", "10.0.0.7");
    assert_eq!(
        run(&mut h, 1, &a[..30]),
        ("malformed", crate::trace::MALFORMED_ARP)
    );
    // DHCP to the server port shorter than its fixed part.
    let f = udp4(
        MAC1,
        v4("0.0.0.0"),
        v4("255.255.255.255"),
        (68, 67),
        &[1; 100],
    );
    assert_eq!(
        run(&mut h, 1, &f),
        ("malformed", crate::trace::MALFORMED_DHCP)
    );
    // IPv6 payload length past the frame.
    let ns = icmp6(
        MAC1,
        ll1(),
        v6("ff02::1:ff00:7"),
        ns(v6("2001:db8::7"), Some(MAC1)),
    );
    assert_eq!(
        run(&mut h, 1, &ns[..60]),
        ("malformed", crate::trace::MALFORMED_IPV6)
    );
    // ND option with a zero length.
    let mut f = ns.clone();
    let opt = 14 + 40 + 24;
    f[opt + 1] = 0;
    assert_eq!(
        run(&mut h, 1, &f),
        ("malformed", crate::trace::MALFORMED_ICMPV6)
    );
    // NS cut inside its target (payload length and frame agree).
    let (src, dst) = (ll1(), v6("ff02::1:ff00:7"));
    let body = [135u8, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01];
    let f = eth(
        MAC1,
        BCAST,
        EtherType::Ipv6,
        &ipv6(src, dst, IpProtocol::Icmpv6, &body),
    );
    assert_eq!(
        run(&mut h, 1, &f),
        ("malformed", crate::trace::MALFORMED_ICMPV6)
    );
}

#[test]
fn fragmented_nd_and_ra_are_dropped() {
    // IPv6 Fragment header (first fragment, more to come) then an RA / NS.
    let (src, dst) = (ll1(), v6("ff02::1"));
    let frag = |icmp_type: u8| {
        let mut payload = vec![58, 0, 0, 1, 0, 0, 0, 42];
        payload.extend_from_slice(&[icmp_type, 0, 0, 0, 0, 0, 0, 0]);
        eth(
            MAC1,
            BCAST,
            EtherType::Ipv6,
            &ipv6(src, dst, IpProtocol::Ipv6Frag, &payload),
        )
    };
    assert_eq!(verdict(&frag(134)), "router-advertisement");
    assert_eq!(
        run(&mut harness(""), 1, &frag(135)),
        ("spoofed-nd", crate::trace::ND_FRAGMENT)
    );
    assert_eq!(
        verdict(&frag(128)),
        "accept",
        "an echo fragment only has its source checked"
    );
}

#[test]
fn a_batch_is_split_by_verdict() {
    let mut h = harness("services_exit: true");
    let regs = [(SOURCE_PORT_KEY, 1), (NETWORK_KEY, 1)];
    let frames = [
        udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.7"), (1, 2), b""),
        arp(MAC1, ArpOperation::Request, MAC1, "10.0.0.5", "10.0.0.7"),
        udp4(EVIL, v4("10.0.0.5"), v4("10.0.0.7"), (1, 2), b""),
        udp4(MAC3, v4("10.0.0.7"), v4("10.0.0.5"), (1, 2), b""),
    ];
    let mut pkts: Vec<_> = frames.iter().map(|f| h.packet(f, 0, &regs)).collect();
    pkts.push(h.packet(&frames[3], 0, &[(SOURCE_PORT_KEY, 3), (NETWORK_KEY, 1)]));
    let out = h.run("default", pkts);
    assert_eq!(out.by_exit("accept").len(), 2);
    assert_eq!(out.by_exit("services").len(), 1);
    assert_eq!(out.dropped("spoofed-mac"), 2);
    assert!(out.tx.is_empty());
}

#[test]
fn params_are_checked() {
    assert!(StageHarness::<PortsecApp>::new("services_exit: false").is_ok());
    let e = StageHarness::<PortsecApp>::new("services: true").unwrap_err();
    assert!(e.starts_with("params: unknown field `services`"), "{e}");
    let e = StageHarness::<PortsecApp>::new("services_exit: maybe").unwrap_err();
    assert!(e.starts_with("params: "), "{e}");
}

#[test]
fn untraced_batches_pass_in_one_go_or_one_by_one() {
    let mut h = harness("");
    let good = udp4(MAC1, v4("10.0.0.5"), v4("10.0.0.7"), (1000, 53), b"q");
    let spoofed = udp4(MAC1, v4("10.0.0.66"), v4("10.0.0.7"), (1000, 53), b"q");
    let src = |k| [(SOURCE_PORT_KEY, k), (NETWORK_KEY, 1)];
    // All pass (port 1's own addresses, port 2 without port security).
    let pkts = vec![
        h.packet_untraced(&good, 0, &src(1)),
        h.packet_untraced(&spoofed, 0, &src(2)),
        h.packet_untraced(&good, 0, &src(1)),
    ];
    let out = h.run("default", pkts);
    assert_eq!(out.by_exit("accept").len(), 3);
    assert!(out.trace.is_empty());
    // A spoofed source and an unknown port among them: each on its own.
    let pkts = vec![
        h.packet_untraced(&good, 0, &src(1)),
        h.packet_untraced(&spoofed, 0, &src(1)),
        h.packet_untraced(&good, 0, &src(9)),
        h.packet_untraced(&good, 0, &src(1)),
    ];
    let out = h.run("default", pkts);
    assert_eq!(out.by_exit("accept").len(), 2);
    assert_eq!(out.dropped("spoofed-ipv4"), 1);
    assert_eq!(out.dropped("unknown-port"), 1);
}
