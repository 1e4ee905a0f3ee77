//! IPv6 stage tests: Router Solicitations and DHCPv6 client messages built
//! with df-wire (and, for the ISC dhclient and rdisc6 fixtures, by hand),
//! replies parsed back with df-wire (ICMPv6 and UDP checksums verified),
//! every message type, flag combination, exit and drop reason.

use std::net::Ipv6Addr;

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_dp::Packet;
use df_wire::{
    ChecksumPolicy, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Icmpv6Packet,
    Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, NdOptionsRepr, NdiscRepr, PrefixInfo,
    PseudoHeader, UdpPacket, UdpRepr,
};

use crate::dhcpv6::{ipv6_at, msg, opt, status, u32_at, Options};
use crate::DhcpApp;

const CFG: &str = r#"{
  "tsc_hz": 1000,
  "domain_name": "openstacklocal",
  "lease_time": 3600,
  "networks": [
    {"network_key": 1, "mtu": 1450, "subnets": [{"cidr": "10.0.0.0/24"}],
     "ports": [{"port_key": 5, "mac": "fa:16:3e:00:00:05", "ip": "10.0.0.5"},
               {"port_key": 6, "mac": "fa:16:3e:00:00:06", "ip": "10.0.0.6"}]}
  ],
  "ipv6_networks": [
    {"network_key": 1,
     "router": {"mac": "fa:16:3e:00:00:01", "link_local": "fe80::f816:3eff:fe00:1"},
     "server_mac": "fa:16:3e:00:00:02",
     "subnets": [
       {"cidr": "2001:db8:1::/64", "ra_mode": "slaac", "address_mode": "slaac"},
       {"cidr": "2001:db8:2::/64", "ra_mode": "dhcpv6-stateful", "address_mode": "dhcpv6-stateful",
        "dns_nameservers": ["2001:db8::53"]}],
     "ports": [{"port_key": 5, "ips": ["2001:db8:1::5", "2001:db8:2::5"]},
               {"port_key": 9, "ips": []}]},
    {"network_key": 2,
     "router": {"mac": "fa:16:3e:00:00:11", "link_local": "fe80::11"},
     "subnets": [{"cidr": "2001:db8:20::/64", "ra_mode": "slaac"}],
     "ports": [{"port_key": 20}]},
    {"network_key": 3,
     "router": {"mac": "fa:16:3e:00:00:12", "link_local": "fe80::12"},
     "subnets": [{"cidr": "2001:db8:30::/64", "ra_mode": "dhcpv6-stateless",
                  "address_mode": "dhcpv6-stateless", "dns_nameservers": ["2001:db8::53"]}],
     "ports": [{"port_key": 30, "ips": ["2001:db8:30::30"]}]},
    {"network_key": 4,
     "subnets": [{"cidr": "2001:db8:40::/64", "address_mode": "dhcpv6-stateless"}],
     "ports": [{"port_key": 40}]},
    {"network_key": 5,
     "router": {"mac": "fa:16:3e:00:00:15", "link_local": "fe80::15"},
     "subnets": [{"cidr": "2001:db8:50::/64", "address_mode": "slaac"}],
     "ports": [{"port_key": 50}]}
  ]
}"#;

const CLIENT: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 5]);
const ROUTER_MAC: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 1]);
const SERVER_MAC: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 2]);
const SERVER_DUID: &[u8] = &[0, 3, 0, 1, 0xfa, 0x16, 0x3e, 0, 0, 2];
const CLIENT_DUID: &[u8] = &[0, 3, 0, 1, 0xfa, 0x16, 0x3e, 0, 0, 5];
const XID: [u8; 3] = [0xab, 0xcd, 0xef];

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn client_ll() -> Ipv6Addr {
    ip("fe80::f816:3eff:fe00:5")
}

fn server_ll() -> Ipv6Addr {
    ip("fe80::f816:3eff:fe00:2")
}

fn harness_with(limited: bool) -> StageHarness<DhcpApp> {
    let mut cfg: serde_json::Value = serde_json::from_str(CFG).unwrap();
    if !limited {
        cfg["rate_limit"] = serde_json::json!({"per_sec": 0});
    }
    let mut h = StageHarness::<DhcpApp>::new("").unwrap();
    h.configure_json(&cfg.to_string()).unwrap();
    h
}

fn harness() -> StageHarness<DhcpApp> {
    harness_with(false)
}

/// Ethernet / IPv6 around a payload whose checksum `fill` writes.
fn ipv6_frame(
    eth: (EthernetAddress, EthernetAddress),
    ips: (Ipv6Addr, Ipv6Addr),
    next_header: IpProtocol,
    hop_limit: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![0u8; 54 + payload.len()];
    EthernetRepr {
        src_addr: eth.0,
        dst_addr: eth.1,
        ethertype: EtherType::Ipv6,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    Ipv6Repr {
        src_addr: ips.0,
        dst_addr: ips.1,
        next_header,
        payload_len: payload.len(),
        hop_limit,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut Ipv6Packet::new_unchecked(&mut f[14..54]));
    f[54..].copy_from_slice(payload);
    f
}

/// A Router Solicitation from port 5's MAC, with `src` and `hop_limit`.
fn rs(src: Ipv6Addr, hop_limit: u8, slla: bool) -> Vec<u8> {
    let r = Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit {
        options: NdOptionsRepr {
            source_lladdr: slla.then_some(CLIENT),
            ..NdOptionsRepr::default()
        },
    });
    let dst = ip("ff02::2");
    let mut icmp = vec![0u8; r.buffer_len()];
    r.emit(&mut Icmpv6Packet::new_unchecked(&mut icmp[..]), &src, &dst);
    let mac = EthernetAddress([0x33, 0x33, 0, 0, 0, 2]);
    ipv6_frame(
        (CLIENT, mac),
        (src, dst),
        IpProtocol::Icmpv6,
        hop_limit,
        &icmp,
    )
}

/// A UDP 546 -> 547 datagram carrying `dhcp`, from port 5's link-local.
fn dhcp_frame(src: Ipv6Addr, dst: Ipv6Addr, dhcp: &[u8]) -> Vec<u8> {
    let mut udp = vec![0u8; 8 + dhcp.len()];
    udp[8..].copy_from_slice(dhcp);
    UdpRepr {
        src_port: 546,
        dst_port: 547,
        payload_len: dhcp.len(),
    }
    .emit(
        &mut UdpPacket::new_unchecked(&mut udp[..]),
        &PseudoHeader::V6 { src, dst },
    );
    let mac = EthernetAddress([0x33, 0x33, 0, 1, 0, 2]);
    ipv6_frame((CLIENT, mac), (src, dst), IpProtocol::Udp, 1, &udp)
}

/// A DHCPv6 message: type, XID, options.
fn message(msg_type: u8, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = vec![msg_type, XID[0], XID[1], XID[2]];
    for (code, data) in opts {
        m.extend_from_slice(&code.to_be_bytes());
        m.extend_from_slice(&(data.len() as u16).to_be_bytes());
        m.extend_from_slice(data);
    }
    m
}

/// An IA_NA's data: IAID, T1 = T2 = 0, an IAADDR per address.
fn ia(iaid: u32, addrs: &[&str]) -> Vec<u8> {
    let mut d = iaid.to_be_bytes().to_vec();
    d.extend_from_slice(&[0; 8]);
    for a in addrs {
        d.extend_from_slice(&opt::IAADDR.to_be_bytes());
        d.extend_from_slice(&24u16.to_be_bytes());
        d.extend_from_slice(&ip(a).octets());
        d.extend_from_slice(&[0; 8]);
    }
    d
}

fn request(msg_type: u8, opts: &[(u16, &[u8])]) -> Vec<u8> {
    dhcp_frame(client_ll(), ip("ff02::1:2"), &message(msg_type, opts))
}

fn run(h: &mut StageHarness<DhcpApp>, frames: &[Vec<u8>], port: u32, net: u32) -> Outcome {
    let pkts = frames
        .iter()
        .map(|f| h.packet(f, 3, &[(SOURCE_PORT_KEY, port), (NETWORK_KEY, net)]))
        .collect();
    h.run("default", pkts)
}

fn one_reply(out: &Outcome) -> &Packet {
    let r = out.by_exit("reply");
    assert_eq!(
        r.len(),
        1,
        "drops {:?}, passed {}",
        out.drops,
        out.by_exit("pass").len()
    );
    r[0]
}

/// Parses an RA reply, checksum verified.
fn open_ra(p: &Packet) -> (EthernetRepr, Ipv6Repr, NdiscRepr<'_>) {
    let d = p.data();
    let eth = EthernetRepr::parse(&EthernetFrame::new_checked(d).unwrap()).unwrap();
    let ipp = Ipv6Packet::new_checked(&d[14..]).unwrap();
    let ip6 = Ipv6Repr::parse(&ipp).unwrap();
    assert_eq!(d.len(), 14 + ip6.buffer_len(), "no trailing bytes");
    let icmp = Icmpv6Packet::new_checked(&d[54..]).unwrap();
    let r = Icmpv6Repr::parse(&icmp, &ip6.src_addr, &ip6.dst_addr, ChecksumPolicy::Verify);
    let Ok(Icmpv6Repr::Ndisc(nd @ NdiscRepr::RouterAdvert { .. })) = r else {
        panic!("not an RA: {r:?}")
    };
    (eth, ip6, nd)
}

/// Parses a DHCPv6 reply, UDP checksum verified; returns the headers, the
/// message type, the XID and the top-level options.
fn open6(p: &Packet) -> (EthernetRepr, Ipv6Repr, u8, Vec<(u16, Vec<u8>)>) {
    let d = p.data();
    let eth = EthernetRepr::parse(&EthernetFrame::new_checked(d).unwrap()).unwrap();
    let ipp = Ipv6Packet::new_checked(&d[14..]).unwrap();
    let ip6 = Ipv6Repr::parse(&ipp).unwrap();
    assert_eq!(ip6.next_header, IpProtocol::Udp);
    assert_eq!(d.len(), 14 + ip6.buffer_len(), "no trailing bytes");
    let udp = UdpPacket::new_checked(&d[54..]).unwrap();
    assert_ne!(udp.checksum(), 0, "the UDP checksum is computed");
    let ph = PseudoHeader::V6 {
        src: ip6.src_addr,
        dst: ip6.dst_addr,
    };
    let u = UdpRepr::parse(&udp, &ph, ChecksumPolicy::Verify).unwrap();
    assert_eq!((u.src_port, u.dst_port), (547, 546));
    let body = udp.payload();
    assert_eq!(&body[1..4], &XID, "the transaction id is echoed");
    (eth, ip6, body[0], opts(&body[4..]))
}

fn opts(data: &[u8]) -> Vec<(u16, Vec<u8>)> {
    Options::new(data)
        .map(|o| o.map(|(c, d)| (c, d.to_vec())).unwrap())
        .collect()
}

fn get(o: &[(u16, Vec<u8>)], code: u16) -> Option<Vec<u8>> {
    o.iter().find(|(c, _)| *c == code).map(|(_, d)| d.clone())
}

fn codes(o: &[(u16, Vec<u8>)]) -> Vec<u16> {
    o.iter().map(|(c, _)| *c).collect()
}

/// An IA_NA answer: IAID, T1, T2, (address, preferred, valid), status.
type IaAnswer = (u32, u32, u32, Vec<(Ipv6Addr, u32, u32)>, Option<u16>);

fn read_ia(d: &[u8]) -> IaAnswer {
    let inner = opts(&d[12..]);
    let addrs = inner
        .iter()
        .filter(|(c, _)| *c == opt::IAADDR)
        .map(|(_, a)| (ipv6_at(a, 0), u32_at(a, 16), u32_at(a, 20)))
        .collect();
    let st = get(&inner, opt::STATUS_CODE).map(|s| u16::from_be_bytes([s[0], s[1]]));
    (u32_at(d, 0), u32_at(d, 4), u32_at(d, 8), addrs, st)
}

fn status_of(o: &[(u16, Vec<u8>)]) -> Option<u16> {
    get(o, opt::STATUS_CODE).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

// ---- Router Solicitation -> Router Advertisement ----

#[test]
fn a_solicitation_gets_an_advertisement_with_flags_mtu_and_prefixes() {
    let mut h = harness();
    let out = run(&mut h, &[rs(client_ll(), 255, true)], 5, 1);
    let p = one_reply(&out);
    assert_eq!(p.reg(h.reg(DESTINATION_PORT_KEY)), 5);
    let (eth, ip6, ra) = open_ra(p);
    assert_eq!((eth.src_addr, eth.dst_addr), (ROUTER_MAC, CLIENT));
    assert_eq!(
        (ip6.src_addr, ip6.dst_addr, ip6.hop_limit),
        (ip("fe80::f816:3eff:fe00:1"), client_ll(), 255)
    );
    let NdiscRepr::RouterAdvert {
        hop_limit,
        managed,
        other_config,
        router_lifetime,
        reachable_time,
        retrans_time,
        options,
    } = ra
    else {
        unreachable!()
    };
    assert_eq!((hop_limit, managed, other_config), (64, true, true));
    assert_eq!(
        (router_lifetime, reachable_time, retrans_time),
        (1800, 0, 0)
    );
    assert_eq!(options.source_lladdr, Some(ROUTER_MAC));
    assert_eq!(options.mtu, Some(1450));
    let prefix = |p: &str, autonomous| PrefixInfo {
        prefix_len: 64,
        on_link: true,
        autonomous,
        valid_lifetime: 86_400,
        preferred_lifetime: 14_400,
        prefix: ip(p),
    };
    assert_eq!(
        options.prefixes.iter().collect::<Vec<_>>(),
        vec![prefix("2001:db8:1::", true), prefix("2001:db8:2::", false)]
    );
}

#[test]
fn flags_follow_the_ra_modes() {
    let mut h = harness();
    // (network, port, M, O, A, MTU)
    for (net, port, m, o, a) in [(2, 20, false, false, true), (3, 30, false, true, true)] {
        let out = run(&mut h, &[rs(client_ll(), 255, true)], port, net);
        let (_, _, ra) = open_ra(one_reply(&out));
        let NdiscRepr::RouterAdvert {
            managed,
            other_config,
            options,
            ..
        } = ra
        else {
            unreachable!()
        };
        assert_eq!((managed, other_config), (m, o), "network {net}");
        assert_eq!(options.prefixes.len(), 1);
        assert_eq!(options.prefixes.get(0).unwrap().autonomous, a);
        assert_eq!(
            options.mtu, None,
            "network {net} has no IPv4 entry with an MTU"
        );
    }
}

#[test]
fn a_solicitation_from_the_unspecified_address_goes_to_all_nodes() {
    let mut h = harness();
    let out = run(&mut h, &[rs(Ipv6Addr::UNSPECIFIED, 255, false)], 6, 1);
    let (eth, ip6, _) = open_ra(one_reply(&out));
    assert_eq!(ip6.dst_addr, ip("ff02::1"));
    assert_eq!(eth.dst_addr, CLIENT, "still unicast to the soliciting MAC");
}

#[test]
fn solicitations_without_an_advertisement_pass() {
    let mut h = harness();
    let frames = [rs(client_ll(), 255, true)];
    for net in [4, 5, 7] {
        let port = [0, 0, 0, 0, 40, 50, 0, 0][net as usize];
        let out = run(&mut h, &frames, port, net);
        assert_eq!(out.by_exit("pass").len(), 1, "network {net}");
        assert_eq!(out.by_exit("pass")[0].data(), &frames[0][..], "unchanged");
    }
    // To some other address than ff02::2 or the router.
    let mut f = rs(client_ll(), 255, true);
    f[38 + 15] = 0x99;
    let out = run(&mut h, &[f], 5, 1);
    assert_eq!(out.by_exit("pass").len(), 1);
}

#[test]
fn bad_or_unknown_solicitations_are_counted_drops() {
    let mut h = harness();
    let mut bad_sum = rs(client_ll(), 255, true);
    bad_sum[56] ^= 0xff;
    let frames = [
        rs(client_ll(), 64, true),
        rs(Ipv6Addr::UNSPECIFIED, 255, true),
        bad_sum,
        rs(client_ll(), 255, true)[..58].to_vec(),
    ];
    let out = run(&mut h, &frames, 5, 1);
    assert_eq!(out.dropped("rs-invalid"), 4, "{:?}", out.drops);
    let out = run(&mut h, &[rs(client_ll(), 255, true)], 77, 1);
    assert_eq!(out.dropped("no-port"), 1);
    let out = run(&mut h, &[rs(client_ll(), 255, true)], 20, 1);
    assert_eq!(out.dropped("no-port"), 1, "a port of another network");
}

/// Router Solicitations take no token from the port's DHCP budget (a host
/// sends a few at link up, before its DHCPv6 exchange), but a port blocked
/// for flooding DHCP gets no advertisements either.
#[test]
fn solicitations_do_not_spend_the_dhcp_budget_but_respect_a_block() {
    let mut h = harness_with(true);
    h.set_now(10_000);
    let sol = request(
        msg::SOLICIT,
        &[(opt::CLIENTID, CLIENT_DUID), (opt::IA_NA, &ia(1, &[]))],
    );
    let frames = [
        rs(client_ll(), 255, true),
        rs(client_ll(), 255, true),
        rs(client_ll(), 255, true),
        sol.clone(),
        sol.clone(),
        sol.clone(),
        sol,
        rs(client_ll(), 255, true),
    ];
    let out = run(&mut h, &frames, 5, 1);
    assert_eq!(out.by_exit("reply").len(), 6, "3 RAs and 3 advertises");
    assert_eq!(
        out.dropped("rate-limited"),
        2,
        "the 4th DHCPv6 message in a second blocks the port, and the RS after it"
    );
}

// ---- Fixtures written by hand, as real clients send them ----

/// ISC dhclient -6 SOLICIT: Client ID (DUID-LLT), ORO (23, 24), Elapsed
/// Time, IA_NA with T1 = T2 = 0 (RFC 8415 §18.2.1).
const DHCLIENT_SOLICIT: &[u8] = &[
    0x01, 0x5d, 0x31, 0x7c, // SOLICIT, xid
    0x00, 0x01, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x01, 0x2c, 0x9a, 0x0b, 0x1e, 0xfa, 0x16, 0x3e, 0x00,
    0x00, 0x05, // Client ID: DUID-LLT, time, MAC
    0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18, // ORO: 23, 24
    0x00, 0x08, 0x00, 0x02, 0x00, 0x00, // Elapsed Time: 0
    0x00, 0x03, 0x00, 0x0c, 0x3e, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, // IA_NA: IAID, T1 0, T2 0
];

/// ISC dhclient -6 -S INFORMATION-REQUEST.
const DHCLIENT_INFO_REQUEST: &[u8] = &[
    0x0b, 0x11, 0x22, 0x33, // INFORMATION-REQUEST, xid
    0x00, 0x01, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x01, 0x2c, 0x9a, 0x0b, 0x1e, 0xfa, 0x16, 0x3e, 0x00,
    0x00, 0x05, // Client ID
    0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18, // ORO
    0x00, 0x08, 0x00, 0x02, 0x00, 0x00, // Elapsed Time
];

/// rdisc6's Router Solicitation: type 133, code 0, checksum (filled in),
/// reserved, source link-layer address option (RFC 4861 §4.1).
const RDISC6_RS: &[u8] = &[
    0x85, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // type, code, checksum, reserved
    0x01, 0x01, 0xfa, 0x16, 0x3e, 0x00, 0x00, 0x05, // SLLA
];

#[test]
fn real_client_messages_parse_and_are_answered() {
    let mut h = harness();
    let f = dhcp_frame(client_ll(), ip("ff02::1:2"), DHCLIENT_SOLICIT);
    let out = run(&mut h, &[f], 5, 1);
    let p = one_reply(&out);
    let body = &p.data()[62..];
    assert_eq!(&body[..4], &[msg::ADVERTISE, 0x5d, 0x31, 0x7c]);
    let o = opts(&body[4..]);
    assert_eq!(get(&o, opt::CLIENTID).unwrap(), &DHCLIENT_SOLICIT[8..22]);
    let (iaid, _, _, addrs, _) = read_ia(&get(&o, opt::IA_NA).unwrap());
    assert_eq!((iaid, addrs[0].0), (0x3e00_0005, ip("2001:db8:2::5")));

    let f = dhcp_frame(client_ll(), ip("ff02::1:2"), DHCLIENT_INFO_REQUEST);
    let out = run(&mut h, &[f], 5, 1);
    let body = &one_reply(&out).data()[62..];
    assert_eq!(&body[..4], &[msg::REPLY, 0x11, 0x22, 0x33]);
    assert_eq!(
        codes(&opts(&body[4..])),
        vec![opt::CLIENTID, opt::SERVERID, 23, 24]
    );

    let (src, dst) = (client_ll(), ip("ff02::2"));
    let mut icmp = RDISC6_RS.to_vec();
    Icmpv6Packet::new_unchecked(&mut icmp[..]).fill_checksum(&src, &dst);
    let mac = EthernetAddress([0x33, 0x33, 0, 0, 0, 2]);
    let f = ipv6_frame((CLIENT, mac), (src, dst), IpProtocol::Icmpv6, 255, &icmp);
    let out = run(&mut h, &[f], 5, 1);
    let (_, ip6, _) = open_ra(one_reply(&out));
    assert_eq!(ip6.dst_addr, client_ll());
}

mod dhcpv6;
