//! Stage tests: real DHCP frames built with df-wire, replies parsed back
//! with df-wire (checksums verified), every exit and drop reason.

use std::net::Ipv4Addr;

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_dp::trace::TraceEvent;
use df_dp::Packet;
use df_wire::{
    ChecksumPolicy, DhcpMessageType, DhcpOpCode, DhcpOptionCode, DhcpPacket, DhcpRepr, EtherType,
    EthernetAddress, EthernetFrame, EthernetRepr, IpProtocol, Ipv4OptionBytes, Ipv4Packet,
    Ipv4Repr, PseudoHeader, StaticRoute, StaticRoutes, UdpPacket, UdpRepr,
};

use crate::trace::{BLOCKED_UNTIL, YIADDR};
use crate::DhcpApp;

const CFG: &str = r#"{
  "tsc_hz": 1000,
  "dns_nameservers": ["8.8.8.8", "8.8.4.4"],
  "domain_name": "openstacklocal",
  "metadata_route": "dhcp-server",
  "networks": [
    {"network_key": 1, "mtu": 1450,
     "dhcp_ports": [{"mac": "fa:16:3e:00:00:02", "ips": ["10.0.0.2"]}],
     "subnets": [
       {"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1",
        "host_routes": [{"destination": "172.16.0.0/16", "nexthop": "10.0.0.254"}]},
       {"cidr": "10.1.0.0/24", "enable_dhcp": false},
       {"cidr": "10.2.0.0/24"}],
     "ports": [
       {"port_key": 5, "mac": "fa:16:3e:00:00:05", "ip": "10.0.0.5",
        "dhcp_options": [{"tag": 66, "text": "tftp.example"}, {"tag": 150, "ips": ["10.0.0.69"]}],
        "boot_file": "pxelinux.0"},
       {"port_key": 6, "mac": "fa:16:3e:00:00:06", "ip": "10.1.0.6"},
       {"port_key": 7, "mac": "fa:16:3e:00:00:07", "ip": "10.2.0.7"}]},
    {"network_key": 2, "subnets": [{"cidr": "10.0.0.0/24"}],
     "ports": [{"port_key": 8, "mac": "fa:16:3e:00:00:08", "ip": "10.0.0.8"}]}
  ]
}"#;

const CLIENT: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 5]);
const SERVER_MAC: EthernetAddress = EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 2]);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const ALL: &[u8] = &[1, 3, 6, 15, 26, 121, 66, 150];
const CLIENT_ID: &[u8] = &[1, 0xfa, 0x16, 0x3e, 0, 0, 5];

/// The test config, without a rate limit unless `limited` (then Dragonflow's
/// defaults: 3/s, burst 3, 100 s block).
fn config(limited: bool) -> serde_json::Value {
    let mut cfg: serde_json::Value = serde_json::from_str(CFG).unwrap();
    if !limited {
        cfg["rate_limit"] = serde_json::json!({"per_sec": 0});
    }
    cfg
}

fn harness_with(cfg: &serde_json::Value) -> StageHarness<DhcpApp> {
    let mut h = StageHarness::<DhcpApp>::new("").unwrap();
    h.configure_json(&cfg.to_string()).unwrap();
    h
}

fn harness() -> StageHarness<DhcpApp> {
    harness_with(&config(false))
}

/// Ethernet / IPv4 / UDP around `payload`.
fn udp_frame(
    src: EthernetAddress,
    ips: (Ipv4Addr, Ipv4Addr),
    ports: (u16, u16),
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![0u8; 42 + payload.len()];
    let dst = if ips.1 == Ipv4Addr::BROADCAST {
        EthernetAddress::BROADCAST
    } else {
        SERVER_MAC
    };
    EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    ipv4(ips.0, ips.1, 8 + payload.len()).emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
    f[42..].copy_from_slice(payload);
    UdpRepr {
        src_port: ports.0,
        dst_port: ports.1,
        payload_len: payload.len(),
    }
    .emit(
        &mut UdpPacket::new_unchecked(&mut f[34..]),
        &PseudoHeader::V4 {
            src: ips.0,
            dst: ips.1,
        },
    );
    f
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, payload_len: usize) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: IpProtocol::Udp,
        payload_len,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 1,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionBytes::default(),
    }
}

/// A client message from port 5's MAC, broadcast, edited by `edit`.
fn request(msg: DhcpMessageType, edit: impl FnOnce(&mut DhcpRepr<'static>)) -> Vec<u8> {
    request_to(Ipv4Addr::BROADCAST, msg, edit)
}

fn request_to(
    dst: Ipv4Addr,
    msg: DhcpMessageType,
    edit: impl FnOnce(&mut DhcpRepr<'static>),
) -> Vec<u8> {
    let mut r = DhcpRepr::new(DhcpOpCode::BootRequest, msg, 0x1234_5678, CLIENT);
    r.broadcast = true;
    r.parameter_request_list = Some(ALL);
    r.client_identifier = Some(CLIENT_ID);
    edit(&mut r);
    let mut d = vec![0u8; r.buffer_len()];
    r.emit(&mut DhcpPacket::new_unchecked(&mut d[..]));
    let src = if r.client_ip.is_unspecified() {
        Ipv4Addr::UNSPECIFIED
    } else {
        r.client_ip
    };
    udp_frame(CLIENT, (src, dst), (68, 67), &d)
}

fn run(h: &mut StageHarness<DhcpApp>, frames: &[Vec<u8>], port: u32, net: u32) -> Outcome {
    let pkts = frames
        .iter()
        .map(|f| h.packet(f, 3, &[(SOURCE_PORT_KEY, port), (NETWORK_KEY, net)]))
        .collect();
    h.run("default", pkts)
}

/// Parses a reply, verifying the IPv4 and UDP checksums; returns the
/// Ethernet and IP headers and the DHCP message bytes.
fn open(p: &Packet) -> (EthernetRepr, Ipv4Repr, Vec<u8>) {
    let d = p.data();
    let eth = EthernetRepr::parse(&EthernetFrame::new_checked(d).unwrap()).unwrap();
    let ipp = Ipv4Packet::new_checked(&d[14..]).unwrap();
    let ip = Ipv4Repr::parse(&ipp, ChecksumPolicy::Verify).unwrap();
    assert_eq!(d.len(), 14 + ip.buffer_len(), "no trailing bytes");
    let udp = UdpPacket::new_checked(ipp.payload()).unwrap();
    assert_ne!(udp.checksum(), 0, "the UDP checksum is computed");
    let ph = PseudoHeader::V4 {
        src: ip.src_addr,
        dst: ip.dst_addr,
    };
    let u = UdpRepr::parse(&udp, &ph, ChecksumPolicy::Verify).unwrap();
    assert_eq!((u.src_port, u.dst_port), (67, 68));
    (eth, ip, udp.payload().to_vec())
}

fn dhcp(bytes: &[u8]) -> DhcpRepr<'_> {
    DhcpRepr::parse(&DhcpPacket::new_checked(bytes).unwrap()).unwrap()
}

fn extra(r: &DhcpRepr<'_>, tag: u8) -> Option<Vec<u8>> {
    r.extra_options
        .iter()
        .find(|o| o.code == DhcpOptionCode::from(tag))
        .map(|o| o.data.to_vec())
}

fn route(d: [u8; 4], p: u8, g: [u8; 4]) -> StaticRoute {
    StaticRoute {
        destination: Ipv4Addr::from(d),
        prefix_len: p,
        gateway: Ipv4Addr::from(g),
    }
}

fn one_reply(out: &Outcome) -> &Packet {
    let r = out.by_exit("reply");
    assert_eq!(r.len(), 1, "{:?}", out.drops);
    r[0]
}

#[test]
fn discover_gets_an_offer_with_every_option() {
    let mut h = harness();
    let out = run(&mut h, &[request(DhcpMessageType::Discover, |_| {})], 5, 1);
    let p = one_reply(&out);
    assert_eq!(
        p.reg(h.reg(DESTINATION_PORT_KEY)),
        5,
        "back to the requesting port"
    );
    assert_eq!(p.reg(h.reg(SOURCE_PORT_KEY)), 5, "other registers kept");
    assert_eq!(p.meta().in_port, 3);
    let (eth, ip, bytes) = open(p);
    assert_eq!((eth.src_addr, eth.dst_addr), (SERVER_MAC, CLIENT));
    assert_eq!(
        (ip.src_addr, ip.dst_addr, ip.ttl),
        (SERVER, Ipv4Addr::BROADCAST, 64)
    );
    let r = dhcp(&bytes);
    assert_eq!(
        (r.op, r.message_type),
        (DhcpOpCode::BootReply, DhcpMessageType::Offer)
    );
    assert_eq!(
        (r.transaction_id, r.client_hardware_addr, r.broadcast),
        (0x1234_5678, CLIENT, true)
    );
    assert_eq!(
        (r.your_ip, r.client_ip, r.server_ip),
        (PORT_IP, Ipv4Addr::UNSPECIFIED, SERVER)
    );
    assert_eq!(r.server_identifier, Some(SERVER));
    assert_eq!(r.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
    assert_eq!(r.router, Some(Ipv4Addr::new(10, 0, 0, 1)));
    let dns: Vec<_> = r.dns_servers.iter().collect();
    assert_eq!(
        dns,
        vec![Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(8, 8, 4, 4)]
    );
    assert_eq!(r.domain_name, Some(&b"openstacklocal"[..]));
    assert_eq!(r.interface_mtu, Some(1450), "requested in option 55");
    assert_eq!(r.lease_duration, Some(86_400));
    assert_eq!(
        extra(&r, 58),
        Some(43_200u32.to_be_bytes().to_vec()),
        "T1 = lease / 2"
    );
    assert_eq!(
        extra(&r, 59),
        Some(75_600u32.to_be_bytes().to_vec()),
        "T2 = 7/8 lease"
    );
    let routes: Vec<_> = r.classless_routes.iter().collect();
    assert_eq!(
        routes,
        vec![
            route([172, 16, 0, 0], 16, [10, 0, 0, 254]),
            route([169, 254, 169, 254], 32, [10, 0, 0, 2]),
            route([0, 0, 0, 0], 0, [10, 0, 0, 1]),
        ]
    );
    assert_eq!(extra(&r, 66), Some(b"tftp.example".to_vec()));
    assert_eq!(extra(&r, 150), Some(vec![10, 0, 0, 69]));
    assert_eq!(r.client_identifier, Some(CLIENT_ID), "RFC 6842: echoed");
    assert_eq!(&bytes[108..119], b"pxelinux.0\0", "boot file");
    assert!(out
        .trace
        .iter()
        .any(|t| t.event == TraceEvent::Note(YIADDR, u64::from(u32::from(PORT_IP)))));
}

#[test]
fn option_121_is_encoded_per_rfc_3442() {
    let mut h = harness();
    let out = run(&mut h, &[request(DhcpMessageType::Discover, |_| {})], 5, 1);
    let (_, _, bytes) = open(one_reply(&out));
    let raw = DhcpPacket::new_checked(&bytes[..])
        .unwrap()
        .options_iter()
        .map(|o| o.unwrap())
        .find(|o| o.code == DhcpOptionCode::ClasslessStaticRoute)
        .unwrap()
        .data
        .to_vec();
    assert_eq!(
        raw,
        vec![16, 172, 16, 10, 0, 0, 254, 32, 169, 254, 169, 254, 10, 0, 0, 2, 0, 10, 0, 0, 1]
    );
    assert_eq!(StaticRoutes::new(&raw).count(), 3);
}

#[test]
fn the_parameter_request_list_is_honoured() {
    let mut h = harness();
    let frames = [
        request(DhcpMessageType::Discover, |r| {
            r.parameter_request_list = Some(&[1, 3, 6])
        }),
        request(DhcpMessageType::Discover, |r| {
            r.parameter_request_list = None
        }),
    ];
    let out = run(&mut h, &frames, 5, 1);
    let replies = out.by_exit("reply");
    let (_, _, few) = open(replies[0]);
    let r = dhcp(&few);
    assert!(r.subnet_mask.is_some() && r.router.is_some() && !r.dns_servers.is_empty());
    assert!(r.lease_duration.is_some() && r.server_identifier.is_some());
    assert!(extra(&r, 58).is_some() && extra(&r, 59).is_some());
    assert_eq!(
        (r.domain_name, r.interface_mtu),
        (None, None),
        "not requested"
    );
    assert!(r.classless_routes.is_empty() && extra(&r, 66).is_none());
    let (_, _, all) = open(replies[1]);
    let r = dhcp(&all);
    assert!(r.domain_name.is_some() && r.interface_mtu.is_some() && !r.classless_routes.is_empty());
    assert!(extra(&r, 66).is_some(), "no list: everything");
}

#[test]
fn request_gets_ack_or_nak() {
    let mut h = harness();
    let frames = [
        // SELECTING: requested IP and our server id; MTU always in an ACK.
        request(DhcpMessageType::Request, |r| {
            r.requested_ip = Some(PORT_IP);
            r.server_identifier = Some(SERVER);
            r.parameter_request_list = Some(&[1, 3]);
        }),
        // INIT-REBOOT for an address that is not the port's.
        request(DhcpMessageType::Request, |r| {
            r.requested_ip = Some(Ipv4Addr::new(10, 0, 0, 99))
        }),
        // RENEWING: unicast to the server, ciaddr set, no broadcast flag.
        request_to(SERVER, DhcpMessageType::Request, |r| {
            r.client_ip = PORT_IP;
            r.broadcast = false;
        }),
        // RENEWING with a wrong ciaddr.
        request_to(SERVER, DhcpMessageType::Request, |r| {
            r.client_ip = Ipv4Addr::new(10, 0, 0, 77);
            r.broadcast = false;
        }),
    ];
    let out = run(&mut h, &frames, 5, 1);
    let replies = out.by_exit("reply");
    assert_eq!(replies.len(), 4);

    let (_, ip, b) = open(replies[0]);
    let ack = dhcp(&b);
    assert_eq!(
        (ack.message_type, ack.your_ip),
        (DhcpMessageType::Ack, PORT_IP)
    );
    assert_eq!(
        (ack.interface_mtu, ip.dst_addr),
        (Some(1450), Ipv4Addr::BROADCAST)
    );

    let (eth, ip, b) = open(replies[1]);
    let nak = dhcp(&b);
    assert_eq!(nak.message_type, DhcpMessageType::Nak);
    assert_eq!(
        (nak.your_ip, nak.server_ip),
        (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)
    );
    assert_eq!(
        (nak.server_identifier, nak.lease_duration, nak.subnet_mask),
        (Some(SERVER), None, None)
    );
    assert!(extra(&nak, 56).is_some(), "a message says why");
    assert_eq!((eth.dst_addr, ip.dst_addr), (CLIENT, Ipv4Addr::BROADCAST));

    let (eth, ip, b) = open(replies[2]);
    let renew = dhcp(&b);
    assert_eq!(
        (renew.message_type, renew.client_ip, renew.your_ip),
        (DhcpMessageType::Ack, PORT_IP, PORT_IP)
    );
    assert_eq!(
        (eth.dst_addr, ip.dst_addr),
        (CLIENT, PORT_IP),
        "unicast to ciaddr"
    );

    let (_, ip, b) = open(replies[3]);
    assert_eq!(dhcp(&b).message_type, DhcpMessageType::Nak);
    assert_eq!(
        ip.dst_addr,
        Ipv4Addr::BROADCAST,
        "a NAK is always broadcast"
    );
}

#[test]
fn inform_gets_an_ack_without_address_or_lease() {
    let mut h = harness();
    let frames = [request_to(SERVER, DhcpMessageType::Inform, |r| {
        r.client_ip = PORT_IP;
        r.broadcast = false;
    })];
    let out = run(&mut h, &frames, 5, 1);
    let (_, ip, b) = open(one_reply(&out));
    let r = dhcp(&b);
    assert_eq!(r.message_type, DhcpMessageType::Ack);
    assert_eq!(
        (r.your_ip, r.client_ip, r.lease_duration),
        (Ipv4Addr::UNSPECIFIED, PORT_IP, None)
    );
    assert!(extra(&r, 58).is_none() && extra(&r, 59).is_none());
    assert!(r.subnet_mask.is_some() && r.router.is_some() && r.interface_mtu.is_some());
    assert_eq!(ip.dst_addr, PORT_IP);
}

#[test]
fn silent_messages_and_refusals() {
    let mut h = harness();
    let frames = [
        request(DhcpMessageType::Release, |r| r.client_ip = PORT_IP),
        request(DhcpMessageType::Decline, |r| r.requested_ip = Some(PORT_IP)),
        request(DhcpMessageType::Request, |r| {
            r.requested_ip = Some(PORT_IP);
            r.server_identifier = Some(Ipv4Addr::new(10, 0, 0, 3));
        }),
        request(DhcpMessageType::Offer, |_| {}),
        request(DhcpMessageType::Unknown(42), |_| {}),
    ];
    let out = run(&mut h, &frames, 5, 1);
    assert!(out.sent.is_empty());
    for reason in ["release", "decline", "other-server"] {
        assert_eq!(out.dropped(reason), 1, "{reason}");
    }
    assert_eq!(out.dropped("unknown-message"), 2);
}

#[test]
fn subnet_states_decide() {
    let mut h = harness();
    let d = request(DhcpMessageType::Discover, |_| {});
    assert_eq!(
        run(&mut h, std::slice::from_ref(&d), 6, 1).dropped("dhcp-disabled"),
        1
    );
    assert_eq!(
        run(&mut h, std::slice::from_ref(&d), 7, 1).dropped("no-server"),
        1
    );
    assert_eq!(
        run(&mut h, std::slice::from_ref(&d), 99, 1).dropped("no-port"),
        1
    );
    assert_eq!(
        run(&mut h, &[d], 8, 1).dropped("no-port"),
        1,
        "port 8 is in network 2"
    );
}

#[test]
fn everything_else_passes_untouched() {
    let mut h = harness();
    let arp = {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&CLIENT.0);
        f.extend_from_slice(&[0x08, 0x06]);
        f.resize(60, 0);
        f
    };
    let discover = request(DhcpMessageType::Discover, |_| {});
    let mut tagged = discover[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    tagged.extend_from_slice(&discover[12..]);
    let frames = vec![
        arp,
        udp_frame(
            CLIENT,
            (PORT_IP, Ipv4Addr::new(8, 8, 8, 8)),
            (5353, 53),
            b"dns?",
        ),
        udp_frame(CLIENT, (SERVER, PORT_IP), (67, 68), &[0; 300]),
        request_to(Ipv4Addr::new(10, 0, 0, 50), DhcpMessageType::Request, |r| {
            r.client_ip = PORT_IP
        }),
        tagged,
        vec![1, 2, 3],
    ];
    let out = run(&mut h, &frames, 5, 1);
    let passed = out.by_exit("pass");
    assert_eq!(passed.len(), frames.len(), "{:?}", out.drops);
    for (p, f) in passed.iter().zip(&frames) {
        assert_eq!(p.data(), &f[..]);
    }
    // A network without a DHCP server here: its DHCP goes on, unchanged.
    let out = run(&mut h, std::slice::from_ref(&discover), 8, 2);
    assert_eq!(out.by_exit("pass").len(), 1);
    // Empty tables: nothing is served.
    let mut empty = StageHarness::<DhcpApp>::new("").unwrap();
    assert_eq!(run(&mut empty, &[discover], 5, 1).by_exit("pass").len(), 1);
}

#[test]
fn malformed_requests_are_dropped() {
    let mut h = harness();
    let good = request(DhcpMessageType::Discover, |_| {});
    let dhcp_of = |f: &Vec<u8>| f[42..].to_vec();
    let mut bad_cookie = dhcp_of(&good);
    bad_cookie[236] = 0;
    let mut reply_op = dhcp_of(&good);
    reply_op[0] = 2;
    let mut no_type = dhcp_of(&good);
    no_type[240..243].copy_from_slice(&[0, 0, 0]); // option 53 padded out
    let mut bad_len = dhcp_of(&good);
    bad_len[241] = 250; // option 53 runs past the end
    let mut fragment = good.clone();
    fragment[20] = 0x20; // MF
    let ip = |d: &[u8]| {
        udp_frame(
            CLIENT,
            (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST),
            (68, 67),
            d,
        )
    };
    let mut short_udp = good.clone();
    short_udp[38..40].copy_from_slice(&[0, 4]); // UDP length < 8
    let frames = [
        ip(&dhcp_of(&good)[..200]),
        ip(&bad_cookie),
        ip(&reply_op),
        ip(&no_type),
        ip(&bad_len),
        fragment,
        short_udp,
    ];
    let out = run(&mut h, &frames, 5, 1);
    assert_eq!(
        out.dropped("malformed"),
        frames.len() as u64,
        "{:?}",
        out.drops
    );
    assert!(out.sent.is_empty());
}

#[test]
fn rate_limit_blocks_then_recovers() {
    let mut h = harness_with(&config(true));
    let d = request(DhcpMessageType::Discover, |_| {});
    // tsc_hz 1000, 3/s, burst 3, block 100 s = 100_000 cycles; now = 1.
    let out = run(&mut h, &vec![d.clone(); 10], 5, 1);
    assert_eq!(out.by_exit("reply").len(), 3);
    assert_eq!(out.dropped("rate-limited"), 7);
    assert!(out
        .trace
        .iter()
        .any(|t| t.event == TraceEvent::Note(BLOCKED_UNTIL, 100_001)));
    // Other ports are not affected.
    assert_eq!(
        run(&mut h, std::slice::from_ref(&d), 6, 1).dropped("dhcp-disabled"),
        1
    );
    // Still blocked though the bucket has refilled.
    h.set_now(50_000);
    assert_eq!(
        run(&mut h, std::slice::from_ref(&d), 5, 1).dropped("rate-limited"),
        1
    );
    // A reconfiguration keeps the port's state (by key, at a new index).
    let mut cfg = config(true);
    cfg["networks"][0]["ports"]
        .as_array_mut()
        .unwrap()
        .reverse();
    h.configure_json(&cfg.to_string()).unwrap();
    assert_eq!(
        run(&mut h, std::slice::from_ref(&d), 5, 1).dropped("rate-limited"),
        1
    );
    h.set_now(100_001);
    let out = run(&mut h, &vec![d; 4], 5, 1);
    assert_eq!(
        out.by_exit("reply").len(),
        3,
        "answered again after the block"
    );
    assert_eq!(out.dropped("rate-limited"), 1);
}

#[test]
fn replies_fit_the_clients_maximum_message_size() {
    let mut cfg = config(false);
    cfg["domain_name"] = serde_json::json!("d".repeat(255));
    let mut h = harness_with(&cfg);
    let small = request(DhcpMessageType::Discover, |_| {});
    let large = request(DhcpMessageType::Discover, |r| {
        r.extra_options
            .push(df_wire::DhcpOption {
                code: DhcpOptionCode::MaxMessageSize,
                data: &[5, 220],
            })
            .unwrap();
    });
    let out = run(&mut h, &[small, large], 5, 1);
    let replies = out.by_exit("reply");
    let (_, ip, b) = open(replies[0]);
    assert!(ip.buffer_len() <= 576, "{}", ip.buffer_len());
    let r = dhcp(&b);
    assert!(
        r.domain_name.is_none(),
        "a 255-byte domain does not fit 576 bytes"
    );
    assert!(
        r.interface_mtu.is_some() && !r.classless_routes.is_empty(),
        "higher priority"
    );
    let (_, _, b) = open(replies[1]);
    assert_eq!(
        dhcp(&b).domain_name.map(|d| d.len()),
        Some(255),
        "fits 1500 (option 57)"
    );
}
