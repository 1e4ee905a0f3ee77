//! Tests of the ARP and ND responders with real frames built by df-wire.

use std::net::{Ipv4Addr, Ipv6Addr};

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_dp::trace::TraceEvent;
use df_dp::Packet;
use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, ChecksumPolicy, EtherType, EthernetAddress, EthernetFrame,
    EthernetRepr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv6Packet, Ipv6Repr, NdOptionsRepr,
    NdiscRepr,
};

use crate::L2App;

const CFG: &str = r#"{"networks":[{"network_key":1,"ports":[
    {"port_key":1,"mac":"02:00:00:00:00:01","ips":["10.0.0.1","fd00::1"]},
    {"port_key":2,"mac":"02:00:00:00:00:02","ips":["10.0.0.2","fd00::2"]},
    {"port_key":3,"mac":"02:00:00:00:00:03"}]}]}"#;

const MAC1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const MAC2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const MAC3: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 3]);
const BCAST: EthernetAddress = EthernetAddress::BROADCAST;

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn harness() -> StageHarness<L2App> {
    let mut h = StageHarness::<L2App>::new("").unwrap();
    h.configure_json(CFG).unwrap();
    h
}

/// Runs one packet from logical port `src` (network 1).
fn run(h: &mut StageHarness<L2App>, frame: &[u8], src: u32) -> Outcome {
    let p = h.packet(frame, 0, &[(NETWORK_KEY, 1), (SOURCE_PORT_KEY, src)]);
    h.run("default", vec![p])
}

/// The flood targets of an outcome, sorted, after checking every copy is
/// the unchanged `frame` and nothing was answered.
fn flooded(h: &StageHarness<L2App>, out: &Outcome, frame: &[u8]) -> Vec<u32> {
    assert!(out.by_exit("reply").is_empty(), "answered: {:?}", out.trace);
    let dst = h.reg(DESTINATION_PORT_KEY);
    let copies = out.by_exit("flood");
    assert!(copies.iter().all(|p| p.data() == frame), "frame changed");
    let mut v: Vec<u32> = copies.iter().map(|p| p.reg(dst)).collect();
    v.sort();
    v
}

/// The one reply of an outcome, after checking its destination port.
fn reply<'a>(h: &StageHarness<L2App>, out: &'a Outcome, to_port: u32) -> &'a Packet {
    let r = out.by_exit("reply");
    assert_eq!(r.len(), 1, "{:?} {:?}", out.drops, out.trace);
    assert_eq!(r[0].reg(h.reg(DESTINATION_PORT_KEY)), to_port);
    assert_eq!(r[0].reg(h.reg(NETWORK_KEY)), 1);
    assert!(out.by_exit("flood").is_empty() && out.by_exit("unicast").is_empty());
    r[0]
}

/// The value of the note starting with `what`, if the stage made one.
fn note(out: &Outcome, what: &str) -> Option<u64> {
    out.trace.iter().find_map(|r| match r.event {
        TraceEvent::Note(n, v) if n.starts_with(what) => Some(v),
        _ => None,
    })
}

const ARP_PASS: &str = "arp responder: not answered";
const ND_PASS: &str = "nd responder: not answered";

fn arp(
    op: ArpOperation,
    eth_dst: EthernetAddress,
    sha: EthernetAddress,
    spa: Ipv4Addr,
    tpa: Ipv4Addr,
) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    let mut eth = EthernetFrame::new_unchecked(&mut f[..]);
    EthernetRepr {
        src_addr: sha,
        dst_addr: eth_dst,
        ethertype: EtherType::Arp,
    }
    .emit(&mut eth);
    ArpRepr {
        operation: op,
        source_hardware_addr: sha,
        source_protocol_addr: spa,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: tpa,
    }
    .emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
    f
}

fn arp_request(eth_dst: EthernetAddress, tpa: &str) -> Vec<u8> {
    arp(
        ArpOperation::Request,
        eth_dst,
        MAC1,
        v4("10.0.0.1"),
        v4(tpa),
    )
}

#[test]
fn arp_request_is_answered_in_place_with_the_owners_mac() {
    let mut h = harness();
    #[rustfmt::skip]
    let want: [u8; 42] = [
        2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x06, // to the requester, from the owner
        0, 1, 0x08, 0, 6, 4, 0, 2, // Ethernet/IPv4, reply
        2, 0, 0, 0, 0, 2, 10, 0, 0, 2, // 10.0.0.2 is at 02:..:02
        2, 0, 0, 0, 0, 1, 10, 0, 0, 1, // to 10.0.0.1 at 02:..:01
    ];
    for dst in [BCAST, MAC2, MAC3] {
        let out = run(&mut h, &arp_request(dst, "10.0.0.2"), 1);
        assert_eq!(reply(&h, &out, 1).data(), &want[..], "request to {dst}");
        assert!(out.drops.is_empty(), "{:?}", out.drops);
    }
}

#[test]
fn arp_requests_nobody_here_answers_take_the_normal_path() {
    let mut h = harness();
    let req = ArpOperation::Request;
    let group = EthernetAddress([1, 0, 0x5e, 0, 0, 1]);
    // (what, frame, source port, flood targets, why not answered)
    let cases = [
        (
            "unknown target",
            arp_request(BCAST, "10.0.0.9"),
            1,
            vec![2, 3],
            4,
        ),
        (
            "gratuitous ARP (sender == target)",
            arp(req, BCAST, MAC2, v4("10.0.0.2"), v4("10.0.0.2")),
            2,
            vec![1, 3],
            1,
        ),
        (
            "probe (sender 0.0.0.0)",
            arp(req, BCAST, MAC3, v4("0.0.0.0"), v4("10.0.0.2")),
            3,
            vec![1, 2],
            1,
        ),
        (
            "a reply is no request",
            arp(
                ArpOperation::Reply,
                BCAST,
                MAC1,
                v4("10.0.0.1"),
                v4("10.0.0.2"),
            ),
            1,
            vec![2, 3],
            2,
        ),
        (
            "truncated ARP body",
            arp_request(BCAST, "10.0.0.2")[..30].to_vec(),
            1,
            vec![2, 3],
            2,
        ),
        (
            "multicast (not broadcast) destination",
            arp_request(group, "10.0.0.2"),
            1,
            vec![2, 3],
            3,
        ),
        (
            "not from a logical port (physical network, tunnel)",
            arp_request(BCAST, "10.0.0.2"),
            0,
            vec![1, 2, 3],
            5,
        ),
    ];
    for (what, f, src, targets, why) in cases {
        let out = run(&mut h, &f, src);
        assert_eq!(flooded(&h, &out, &f), targets, "{what}");
        assert_eq!(note(&out, ARP_PASS), Some(why), "{what}");
        assert!(out.drops.is_empty(), "{what}: {:?}", out.drops);
    }
    // A unicast request for an unknown address goes by the FDB.
    let f = arp_request(MAC2, "10.0.0.9");
    let out = run(&mut h, &f, 1);
    assert_eq!(out.by_exit("unicast").len(), 1);
    assert_eq!(out.by_exit("unicast")[0].data(), &f[..]);
}

struct Ns {
    eth_src: EthernetAddress,
    eth_dst: EthernetAddress,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    target: Ipv6Addr,
    slla: Option<EthernetAddress>,
    hop_limit: u8,
}

impl Ns {
    /// A solicitation from port 1 (fd00::1) for `target`, to its
    /// solicited-node group.
    fn to_group(target: &str) -> Ns {
        let target = v6(target);
        let o = target.octets();
        Ns {
            eth_src: MAC1,
            eth_dst: EthernetAddress([0x33, 0x33, 0xff, o[13], o[14], o[15]]),
            src: v6("fd00::1"),
            dst: Ipv6Addr::from([
                0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, o[13], o[14], o[15],
            ]),
            target,
            slla: Some(MAC1),
            hop_limit: 255,
        }
    }

    /// A DAD probe from `eth_src` for `target`.
    fn dad(eth_src: EthernetAddress, target: &str) -> Ns {
        Ns {
            eth_src,
            src: Ipv6Addr::UNSPECIFIED,
            slla: None,
            ..Ns::to_group(target)
        }
    }

    fn frame(&self) -> Vec<u8> {
        let icmp = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
            target: self.target,
            options: NdOptionsRepr {
                source_lladdr: self.slla,
                ..NdOptionsRepr::default()
            },
        });
        let n = icmp.buffer_len();
        let mut f = vec![0u8; 14 + 40 + n];
        EthernetRepr {
            src_addr: self.eth_src,
            dst_addr: self.eth_dst,
            ethertype: EtherType::Ipv6,
        }
        .emit(&mut EthernetFrame::new_unchecked(&mut f[..14]));
        Ipv6Repr {
            src_addr: self.src,
            dst_addr: self.dst,
            next_header: IpProtocol::Icmpv6,
            payload_len: n,
            hop_limit: self.hop_limit,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(&mut Ipv6Packet::new_unchecked(&mut f[14..54]));
        icmp.emit(
            &mut Icmpv6Packet::new_unchecked(&mut f[54..]),
            &self.src,
            &self.dst,
        );
        f
    }
}

/// Checks an advertisement frame field by field, the checksum included.
fn check_na(
    d: &[u8],
    eth_dst: EthernetAddress,
    ip_dst: Ipv6Addr,
    target: Ipv6Addr,
    mac: EthernetAddress,
    solicited: bool,
) {
    assert_eq!(d.len(), 14 + 40 + 32);
    let eth = EthernetRepr::parse(&EthernetFrame::new_checked(d).unwrap()).unwrap();
    assert_eq!(
        eth,
        EthernetRepr {
            src_addr: mac,
            dst_addr: eth_dst,
            ethertype: EtherType::Ipv6
        }
    );
    let ip = Ipv6Packet::new_checked(&d[14..]).unwrap();
    let ipr = Ipv6Repr::parse(&ip).unwrap();
    assert_eq!(
        ipr,
        Ipv6Repr {
            src_addr: target,
            dst_addr: ip_dst,
            next_header: IpProtocol::Icmpv6,
            payload_len: 32,
            hop_limit: 255,
            traffic_class: 0,
            flow_label: 0,
        }
    );
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    let r = Icmpv6Repr::parse(&icmp, &target, &ip_dst, ChecksumPolicy::Verify)
        .expect("a valid advertisement, checksum included");
    assert_eq!(
        r,
        Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
            router: false,
            solicited,
            override_cache: true,
            target,
            options: NdOptionsRepr {
                target_lladdr: Some(mac),
                ..NdOptionsRepr::default()
            },
        })
    );
    // The raw bytes a host reads: type 136, flags, TLLA option (2, 1, MAC).
    assert_eq!(d[54], 136);
    assert_eq!(d[58], if solicited { 0x60 } else { 0x20 });
    assert_eq!(&d[78..80], &[2, 1]);
    assert_eq!(&d[80..86], &mac.0);
}

#[test]
fn neighbour_solicitation_is_answered_with_a_valid_advertisement() {
    let mut h = harness();
    // To the solicited-node group, with a source link-layer option.
    let out = run(&mut h, &Ns::to_group("fd00::2").frame(), 1);
    let na = reply(&h, &out, 1);
    check_na(na.data(), MAC1, v6("fd00::1"), v6("fd00::2"), MAC2, true);
    assert_eq!(note(&out, "nd responder: advert for port key"), Some(2));
    // Unicast (neighbour unreachability detection), in a padded frame that
    // is longer than the advertisement.
    let mut f = Ns {
        eth_dst: MAC2,
        dst: v6("fd00::2"),
        ..Ns::to_group("fd00::2")
    }
    .frame();
    f.resize(100, 0xee);
    let out = run(&mut h, &f, 1);
    let na = reply(&h, &out, 1);
    check_na(na.data(), MAC1, v6("fd00::1"), v6("fd00::2"), MAC2, true);
}

#[test]
fn solicitations_nobody_here_answers_take_the_normal_path() {
    let mut h = harness();
    let mut bad_checksum = Ns::to_group("fd00::2").frame();
    bad_checksum[56] ^= 0xff;
    // (what, frame, source port, flood targets, why not answered)
    let cases = [
        (
            "unknown target",
            Ns::to_group("fd00::9").frame(),
            1,
            vec![2, 3],
            2,
        ),
        (
            "hop limit not 255",
            Ns {
                hop_limit: 64,
                ..Ns::to_group("fd00::2")
            }
            .frame(),
            1,
            vec![2, 3],
            1,
        ),
        ("bad checksum", bad_checksum, 1, vec![2, 3], 1),
        (
            "multicast destination that is not the target's group",
            Ns {
                dst: v6("ff02::1"),
                eth_dst: EthernetAddress([0x33, 0x33, 0, 0, 0, 1]),
                ..Ns::to_group("fd00::2")
            }
            .frame(),
            1,
            vec![2, 3],
            1,
        ),
        (
            "DAD with a source link-layer option",
            Ns {
                slla: Some(MAC3),
                ..Ns::dad(MAC3, "fd00::2")
            }
            .frame(),
            3,
            vec![1, 2],
            1,
        ),
        (
            "not from a logical port",
            Ns::to_group("fd00::2").frame(),
            0,
            vec![1, 2, 3],
            5,
        ),
    ];
    for (what, f, src, targets, why) in cases {
        let out = run(&mut h, &f, src);
        assert_eq!(flooded(&h, &out, &f), targets, "{what}");
        assert_eq!(note(&out, ND_PASS), Some(why), "{what}");
        assert!(out.drops.is_empty(), "{what}: {:?}", out.drops);
    }
    // Other ICMPv6 is not looked at: an advertisement to a group is flooded.
    let mut f = Ns::to_group("fd00::2").frame();
    f[54] = 136;
    let out = run(&mut h, &f, 1);
    assert_eq!(flooded(&h, &out, &f), vec![2, 3]);
    assert_eq!(note(&out, "nd responder"), None);
}

#[test]
fn dad_is_answered_only_for_another_ports_address() {
    let mut h = harness();
    // Port 3 probes fd00::2, which port 2 owns: the duplicate is reported to
    // all nodes (S clear), delivered to port 3 only.
    let f = Ns::dad(MAC3, "fd00::2").frame();
    assert_eq!(f.len(), 78, "no options: the advertisement is longer");
    let out = run(&mut h, &f, 3);
    let na = reply(&h, &out, 3);
    let all_nodes = EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);
    check_na(
        na.data(),
        all_nodes,
        v6("ff02::1"),
        v6("fd00::2"),
        MAC2,
        false,
    );
    // The owner probing its own address is not answered (flooded as
    // before), recognised by its port key or by its MAC.
    let cases = [
        ("the owner", MAC2, 2, vec![1, 3]),
        ("the owner's MAC from another port", MAC2, 3, vec![1, 2]),
        ("the owner's port with another MAC", MAC3, 2, vec![1, 3]),
    ];
    for (what, mac, src, targets) in cases {
        let f = Ns::dad(mac, "fd00::2").frame();
        let out = run(&mut h, &f, src);
        assert_eq!(flooded(&h, &out, &f), targets, "{what}");
        assert_eq!(note(&out, ND_PASS), Some(3), "{what}");
    }
    // An address nobody owns: the probe goes on (flooded) and succeeds.
    let f = Ns::dad(MAC3, "fd00::3").frame();
    let out = run(&mut h, &f, 3);
    assert_eq!(flooded(&h, &out, &f), vec![1, 2]);
    assert_eq!(note(&out, ND_PASS), Some(2));
}

#[test]
fn without_addresses_the_responders_are_skipped() {
    let mut h = StageHarness::<L2App>::new("").unwrap();
    h.configure_json(
        r#"{"networks":[{"network_key":1,"ports":[
            {"port_key":1,"mac":"02:00:00:00:00:01"},{"port_key":2,"mac":"02:00:00:00:00:02"}]}]}"#,
    )
    .unwrap();
    for f in [
        arp_request(BCAST, "10.0.0.2"),
        Ns::to_group("fd00::2").frame(),
    ] {
        let out = run(&mut h, &f, 1);
        assert_eq!(flooded(&h, &out, &f), vec![2]);
        assert_eq!(note(&out, "arp responder"), None);
        assert_eq!(note(&out, "nd responder"), None);
    }
}
