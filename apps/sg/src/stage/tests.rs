//! Stage tests: real frames built with df-wire Reprs, sent through the
//! stage at `in.egress` / `in.ingress` as the layout would, each checked
//! for its exit or drop reason and its trace notes.
//!
//! The scene: network 100; VM A (port 1, 10.0.0.1, 2001:db8::1) in group
//! 10, VM B (port 2, 10.0.0.2, 2001:db8::2) in group 20, port 3 without
//! port security, port 4 with port security and no groups. The TSC runs at
//! 1000 Hz, so a tick is a millisecond.

use std::net::{Ipv4Addr, Ipv6Addr};

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::StageHarness;
use df_dp::trace::TraceEvent;
use df_wire::{
    EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Icmpv4Message, Icmpv4Packet,
    Icmpv4Repr, Icmpv6Message, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4OptionBytes, Ipv4Packet,
    Ipv4Repr, Ipv6Packet, Ipv6Repr, PseudoHeader, TcpFlags, TcpPacket, TcpRepr, UdpPacket, UdpRepr,
};

use crate::{trace, SgApp};

const NET: u32 = 100;
const A: u32 = 1;
const B: u32 = 2;
const OPEN: u32 = 3;
const NO_GROUPS: u32 = 4;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const SYN_ACK: u8 = 0x12;
const FIN_ACK: u8 = 0x11;
const RST: u8 = 0x04;
const PSH_ACK: u8 = 0x18;

const GROUPS: &str = r#"[
  {"group_key":10,"member_ips":["10.0.0.1","2001:db8::1"],"rules":[
    {"id":"e4","direction":"egress","ethertype":"IPv4"},
    {"id":"e6","direction":"egress","ethertype":"IPv6"},
    {"id":"ssh","direction":"ingress","ethertype":"IPv4","protocol":"tcp",
     "port_range_min":22,"port_range_max":22,"remote_ip_prefix":"192.168.0.0/16"},
    {"id":"from-b4","direction":"ingress","ethertype":"IPv4","protocol":"udp","remote_group":20},
    {"id":"from-b6","direction":"ingress","ethertype":"IPv6","protocol":"udp","remote_group":20},
    {"id":"ping","direction":"ingress","ethertype":"IPv4","protocol":"icmp","port_range_min":8}]},
  {"group_key":20,"member_ips":["10.0.0.2","2001:db8::2"],"rules":[
    {"id":"web","direction":"ingress","ethertype":"IPv4","protocol":"tcp",
     "port_range_min":80,"port_range_max":88,"remote_ip_prefix":"10.0.0.0/24"},
    {"id":"web6","direction":"ingress","ethertype":"IPv6","protocol":"tcp",
     "port_range_min":80,"port_range_max":88,"remote_ip_prefix":"2001:db8::/64"},
    {"id":"dns","direction":"egress","ethertype":"IPv4","protocol":"udp",
     "port_range_min":53,"port_range_max":53},
    {"id":"tcp-out","direction":"egress","ethertype":"IPv4","protocol":"tcp"},
    {"id":"icmp6-out","direction":"egress","ethertype":"IPv6","protocol":"icmpv6"}]}]"#;

fn config(capacity: u32, groups: &str) -> String {
    format!(
        r#"{{"tsc_hz":1000,"conntrack":{{"capacity":{capacity}}},
            "ports":[{{"port_key":1,"security_groups":[10]}},
                     {{"port_key":2,"security_groups":[20]}},
                     {{"port_key":3,"port_security_enabled":false}},
                     {{"port_key":4}}],
            "groups":{groups}}}"#
    )
}

fn harness(capacity: u32) -> StageHarness<SgApp> {
    let mut h = StageHarness::<SgApp>::new("").unwrap();
    h.configure_json(&config(capacity, GROUPS)).unwrap();
    h.set_now(1_000_000);
    h
}

/// What happened to one packet: the exit or drop reason, and the notes.
#[derive(Debug)]
struct Res {
    result: &'static str,
    notes: Vec<(&'static str, u64)>,
}

impl Res {
    fn noted(&self, what: &str) -> bool {
        self.notes.iter().any(|(n, _)| *n == what)
    }

    fn note(&self, what: &str) -> u64 {
        self.notes
            .iter()
            .find(|(n, _)| *n == what)
            .unwrap_or_else(|| panic!("no note `{what}` in {self:?}"))
            .1
    }
}

fn send(h: &mut StageHarness<SgApp>, entry: &str, port: u32, frame: &[u8]) -> Res {
    let reg = if entry == "egress" {
        SOURCE_PORT_KEY
    } else {
        DESTINATION_PORT_KEY
    };
    let p = h.packet(frame, 0, &[(reg, port), (NETWORK_KEY, NET)]);
    let out = h.run(entry, vec![p]);
    let result = match (out.sent.first(), out.drops.first()) {
        (Some((exit, _)), None) => *exit,
        (None, Some((reason, 1))) => reason,
        _ => panic!("not one packet out: {out:?}"),
    };
    let notes = out
        .trace
        .iter()
        .filter_map(|r| match r.event {
            TraceEvent::Note(w, v) => Some((w, v)),
            _ => None,
        })
        .collect();
    for (_, p) in out.sent {
        h.free(p);
    }
    Res { result, notes }
}

fn egress(h: &mut StageHarness<SgApp>, port: u32, frame: &[u8]) -> Res {
    send(h, "egress", port, frame)
}

fn ingress(h: &mut StageHarness<SgApp>, port: u32, frame: &[u8]) -> Res {
    send(h, "ingress", port, frame)
}

const EG: &str = "egress-accept";
const IN: &str = "ingress-accept";

// ---- frames ----

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn eth(ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 14 + payload.len()];
    EthernetRepr {
        src_addr: EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 1]),
        dst_addr: EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 2]),
        ethertype,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    f[14..].copy_from_slice(payload);
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

/// An IPv4 packet; `frag` is (ident, more fragments, offset in bytes).
fn ip4(src: &str, dst: &str, proto: IpProtocol, l4: &[u8], frag: (u16, bool, u16)) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: v4(src),
        dst_addr: v4(dst),
        protocol: proto,
        payload_len: l4.len(),
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: frag.0,
        dont_frag: false,
        more_frags: frag.1,
        frag_offset: frag.2,
        options: Ipv4OptionBytes::default(),
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b[20..].copy_from_slice(l4);
    b
}

fn ip6(src: &str, dst: &str, next: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv6Repr {
        src_addr: v6(src),
        dst_addr: v6(dst),
        next_header: next,
        payload_len: payload.len(),
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut b = vec![0u8; 40 + payload.len()];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut b[..]));
    b[40..].copy_from_slice(payload);
    b
}

fn tcp_seg(ph: &PseudoHeader, sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let repr = TcpRepr {
        src_port: sport,
        dst_port: dport,
        seq_number: 1,
        ack_number: 0,
        flags: TcpFlags::from_bits(flags),
        window_len: 1000,
        urgent_at: 0,
        max_seg_size: None,
        window_scale: None,
        sack_permitted: false,
        timestamps: None,
        payload_len: 0,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut b[..]), ph);
    b
}

fn udp_seg(ph: &PseudoHeader, sport: u16, dport: u16) -> Vec<u8> {
    let repr = UdpRepr {
        src_port: sport,
        dst_port: dport,
        payload_len: 4,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut UdpPacket::new_unchecked(&mut b[..]), ph);
    b
}

fn ph4(src: &str, dst: &str) -> PseudoHeader {
    PseudoHeader::V4 {
        src: v4(src),
        dst: v4(dst),
    }
}

fn ph6(src: &str, dst: &str) -> PseudoHeader {
    PseudoHeader::V6 {
        src: v6(src),
        dst: v6(dst),
    }
}

fn tcp4(src: &str, sport: u16, dst: &str, dport: u16, flags: u8) -> Vec<u8> {
    let seg = tcp_seg(&ph4(src, dst), sport, dport, flags);
    eth(
        EtherType::Ipv4,
        &ip4(src, dst, IpProtocol::Tcp, &seg, (1, false, 0)),
    )
}

fn tcp6(src: &str, sport: u16, dst: &str, dport: u16, flags: u8) -> Vec<u8> {
    let seg = tcp_seg(&ph6(src, dst), sport, dport, flags);
    eth(EtherType::Ipv6, &ip6(src, dst, IpProtocol::Tcp, &seg))
}

/// The IPv4 packet of a UDP datagram (for quoting in ICMP errors too).
fn udp4_ip(src: &str, sport: u16, dst: &str, dport: u16) -> Vec<u8> {
    let seg = udp_seg(&ph4(src, dst), sport, dport);
    ip4(src, dst, IpProtocol::Udp, &seg, (7, false, 0))
}

fn udp4(src: &str, sport: u16, dst: &str, dport: u16) -> Vec<u8> {
    eth(EtherType::Ipv4, &udp4_ip(src, sport, dst, dport))
}

fn udp6_ip(src: &str, sport: u16, dst: &str, dport: u16) -> Vec<u8> {
    let seg = udp_seg(&ph6(src, dst), sport, dport);
    ip6(src, dst, IpProtocol::Udp, &seg)
}

fn udp6(src: &str, sport: u16, dst: &str, dport: u16) -> Vec<u8> {
    eth(EtherType::Ipv6, &udp6_ip(src, sport, dst, dport))
}

fn icmp4(src: &str, dst: &str, repr: Icmpv4Repr<'_>) -> Vec<u8> {
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
    eth(
        EtherType::Ipv4,
        &ip4(src, dst, IpProtocol::Icmp, &b, (9, false, 0)),
    )
}

fn echo4(src: &str, dst: &str, ident: u16, reply: bool) -> Vec<u8> {
    let repr = if reply {
        Icmpv4Repr::EchoReply {
            ident,
            seq_no: 1,
            data: b"ping",
        }
    } else {
        Icmpv4Repr::EchoRequest {
            ident,
            seq_no: 1,
            data: b"ping",
        }
    };
    icmp4(src, dst, repr)
}

fn unreachable4(src: &str, dst: &str, quoted: &[u8]) -> Vec<u8> {
    icmp4(
        src,
        dst,
        Icmpv4Repr::DstUnreachable {
            reason: df_wire::Icmpv4DstUnreachable::PortUnreachable,
            next_hop_mtu: 0,
            data: quoted,
        },
    )
}

fn icmp6(src: &str, dst: &str, repr: Icmpv6Repr<'_>) -> Vec<u8> {
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(
        &mut Icmpv6Packet::new_unchecked(&mut b[..]),
        &v6(src),
        &v6(dst),
    );
    eth(EtherType::Ipv6, &ip6(src, dst, IpProtocol::Icmpv6, &b))
}

fn icmp6_type(src: &str, dst: &str, ty: u8) -> Vec<u8> {
    icmp6(
        src,
        dst,
        Icmpv6Repr::Other {
            msg_type: Icmpv6Message::from(ty),
            code: 0,
            rest: [0; 4],
            data: &[0; 16],
        },
    )
}

// ---- tests ----

#[test]
fn tcp_handshake_is_allowed_at_egress_and_ingress_and_replies_pass() {
    let mut h = harness(64);
    let syn = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, SYN);
    // A's egress: rule e4 (group 10, index 0).
    let r = egress(&mut h, A, &syn);
    assert_eq!(r.result, EG);
    assert_eq!(r.note(trace::NEW), 10 << 32);
    // B's ingress (both VMs local): its own entry, rule web (index 6).
    let r = ingress(&mut h, B, &syn);
    assert_eq!(r.result, IN);
    assert_eq!(r.note(trace::NEW), 20 << 32 | 6);
    // The SYN-ACK: B's egress and A's ingress find their entries.
    let syn_ack = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, SYN_ACK);
    let r = egress(&mut h, B, &syn_ack);
    assert_eq!(r.result, EG);
    assert_eq!(r.note(trace::ESTABLISHED), 2 << 8, "SYN_RECV, reply");
    let r = ingress(&mut h, A, &syn_ack);
    assert_eq!(r.result, IN);
    assert!(r.noted(trace::ESTABLISHED));
    // The ACK and data both ways.
    let ack = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, ACK);
    assert_eq!(egress(&mut h, A, &ack).note(trace::ESTABLISHED), 3 << 8 | 1);
    assert_eq!(
        ingress(&mut h, B, &ack).note(trace::ESTABLISHED),
        3 << 8 | 1
    );
    let data = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, PSH_ACK);
    assert_eq!(egress(&mut h, B, &data).result, EG);
    assert_eq!(ingress(&mut h, A, &data).result, IN);
    // Orderly close.
    let fin_a = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, FIN_ACK);
    let fin_b = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, FIN_ACK);
    assert_eq!(
        egress(&mut h, A, &fin_a).note(trace::ESTABLISHED),
        4 << 8 | 1
    );
    assert_eq!(ingress(&mut h, A, &fin_b).note(trace::ESTABLISHED), 6 << 8);
    assert_eq!(egress(&mut h, A, &ack).result, EG, "last ACK");
}

#[test]
fn ipv6_tcp_with_a_prefix_rule() {
    let mut h = harness(64);
    let syn = tcp6("2001:db8::99", 5000, "2001:db8::2", 88, SYN);
    let r = ingress(&mut h, B, &syn);
    assert_eq!(r.result, IN);
    assert_eq!(r.note(trace::NEW), 20 << 32 | 7);
    let syn_ack = tcp6("2001:db8::2", 88, "2001:db8::99", 5000, SYN_ACK);
    assert_eq!(egress(&mut h, B, &syn_ack).result, EG);
    let other_net = tcp6("2001:db9::1", 5000, "2001:db8::2", 88, SYN);
    assert_eq!(ingress(&mut h, B, &other_net).result, "no-rule");
}

#[test]
fn unsolicited_inbound_syn_is_dropped() {
    let mut h = harness(64);
    let r = ingress(&mut h, A, &tcp4("10.0.0.2", 1234, "10.0.0.1", 80, SYN));
    assert_eq!(r.result, "no-rule");
    assert_eq!(r.note(trace::NO_RULE), 6 << 16 | 80);
    // B's egress allows it, but that does not open A.
    assert_eq!(
        egress(&mut h, B, &tcp4("10.0.0.2", 1234, "10.0.0.1", 80, SYN)).result,
        EG
    );
    let r = ingress(&mut h, A, &tcp4("10.0.0.2", 1234, "10.0.0.1", 80, SYN));
    assert_eq!(r.result, "no-rule");
}

#[test]
fn tcp_first_packet_must_be_a_bare_syn() {
    let mut h = harness(64);
    for flags in [ACK, SYN_ACK, PSH_ACK, FIN_ACK, RST] {
        let r = egress(&mut h, A, &tcp4("10.0.0.1", 40000, "10.0.0.2", 80, flags));
        assert_eq!(r.result, "invalid", "flags {flags:#x}");
        assert_eq!(r.note(trace::INVALID_TCP), u64::from(flags));
    }
    let bad = egress(
        &mut h,
        A,
        &tcp4("10.0.0.1", 40000, "10.0.0.2", 80, SYN | RST),
    );
    assert_eq!(bad.result, "invalid");
}

#[test]
fn tcp_state_violations_and_reset() {
    let mut h = harness(64);
    let out = |f| tcp4("10.0.0.1", 40001, "10.0.0.2", 80, f);
    let back = |f| tcp4("10.0.0.2", 80, "10.0.0.1", 40001, f);
    assert_eq!(egress(&mut h, A, &out(SYN)).result, EG);
    let r = egress(&mut h, A, &out(ACK));
    assert_eq!(r.result, "invalid", "ACK before the SYN-ACK");
    assert_eq!(r.note(trace::INVALID_TCP), 1 << 8 | u64::from(ACK));
    assert_eq!(
        egress(&mut h, A, &out(SYN)).result,
        EG,
        "SYN retransmission"
    );
    assert_eq!(ingress(&mut h, A, &back(SYN_ACK)).result, IN);
    assert_eq!(egress(&mut h, A, &out(ACK)).result, EG);
    assert_eq!(
        egress(&mut h, A, &out(SYN)).result,
        "invalid",
        "SYN when open"
    );
    assert_eq!(
        egress(&mut h, A, &out(SYN | 0x01)).result,
        "invalid",
        "bad flags"
    );
    // B resets; after that only a new SYN passes.
    assert_eq!(ingress(&mut h, A, &back(RST)).result, IN);
    assert_eq!(egress(&mut h, A, &out(PSH_ACK)).result, "invalid");
    let r = egress(&mut h, A, &out(SYN));
    assert_eq!(r.result, EG);
    assert_eq!(r.note(trace::REOPEN), 7);
    assert!(r.noted(trace::NEW));
}

#[test]
fn udp_request_and_response() {
    let mut h = harness(64);
    // B may send DNS only.
    let q = udp4("10.0.0.2", 5353, "8.8.8.8", 53);
    assert_eq!(egress(&mut h, B, &q).note(trace::NEW), 20 << 32 | 8);
    let a = udp4("8.8.8.8", 53, "10.0.0.2", 5353);
    let r = ingress(&mut h, B, &a);
    assert_eq!(r.result, IN);
    assert_eq!(r.note(trace::ESTABLISHED), 0, "reply direction");
    assert_eq!(egress(&mut h, B, &q).note(trace::ESTABLISHED), 1);
    // Out of the rule's port range (53..53) and unsolicited inbound.
    assert_eq!(
        egress(&mut h, B, &udp4("10.0.0.2", 5353, "8.8.8.8", 54)).result,
        "no-rule"
    );
    assert_eq!(
        ingress(&mut h, B, &udp4("8.8.8.8", 53, "10.0.0.2", 5354)).result,
        "no-rule"
    );
}

#[test]
fn icmp_echo_and_its_reply() {
    let mut h = harness(64);
    // A pings B: A's egress, B's ingress has no ICMP rule.
    let req = echo4("10.0.0.1", "10.0.0.2", 77, false);
    assert_eq!(egress(&mut h, A, &req).result, EG);
    assert_eq!(ingress(&mut h, B, &req).result, "no-rule");
    let reply = echo4("10.0.0.2", "10.0.0.1", 77, true);
    let r = ingress(&mut h, A, &reply);
    assert_eq!(r.result, IN);
    assert!(r.noted(trace::ESTABLISHED));
    // A reply with another identifier matches nothing and opens nothing.
    let r = ingress(&mut h, A, &echo4("10.0.0.2", "10.0.0.1", 78, true));
    assert_eq!(r.result, "invalid");
    assert_eq!(r.note(trace::INVALID_ICMP), 0);
    // Anyone may ping A (rule ping: ICMP type 8).
    let r = ingress(&mut h, A, &echo4("172.16.0.9", "10.0.0.1", 5, false));
    assert_eq!(r.note(trace::NEW), 10 << 32 | 5);
    assert_eq!(
        egress(&mut h, A, &echo4("10.0.0.1", "172.16.0.9", 5, true)).result,
        EG
    );
    // ICMPv6 echo from B (rule icmp6-out) and its reply.
    let req6 = icmp6(
        "2001:db8::2",
        "2001:db8::1",
        Icmpv6Repr::EchoRequest {
            ident: 9,
            seq_no: 1,
            data: b"ping",
        },
    );
    assert_eq!(egress(&mut h, B, &req6).note(trace::NEW), 20 << 32 | 10);
    let reply6 = icmp6(
        "2001:db8::1",
        "2001:db8::2",
        Icmpv6Repr::EchoReply {
            ident: 9,
            seq_no: 1,
            data: b"ping",
        },
    );
    assert!(ingress(&mut h, B, &reply6).noted(trace::ESTABLISHED));
}

#[test]
fn icmp_errors_pass_only_for_tracked_connections() {
    let mut h = harness(64);
    assert_eq!(
        egress(&mut h, A, &udp4("10.0.0.1", 4000, "8.8.8.8", 53)).result,
        EG
    );
    let quoted = udp4_ip("10.0.0.1", 4000, "8.8.8.8", 53);
    let r = ingress(&mut h, A, &unreachable4("10.0.0.254", "10.0.0.1", &quoted));
    assert_eq!(r.result, IN);
    assert_eq!(r.note(trace::RELATED), 3);
    let other = udp4_ip("10.0.0.1", 4000, "8.8.4.4", 53);
    let r = ingress(&mut h, A, &unreachable4("10.0.0.254", "10.0.0.1", &other));
    assert_eq!(r.result, "related-not-tracked");
    assert_eq!(r.note(trace::NOT_RELATED), 3);
    // An error quoting an ICMP echo request A sent.
    let ping = echo4("10.0.0.1", "192.0.2.1", 33, false);
    assert_eq!(egress(&mut h, A, &ping).result, EG);
    let ttl = icmp4(
        "10.0.0.254",
        "10.0.0.1",
        Icmpv4Repr::TimeExceeded {
            code: 0,
            data: &ping[14..42],
        },
    );
    assert_eq!(ingress(&mut h, A, &ttl).result, IN);
    // IPv6: packet too big for a tracked flow, unreachable for another.
    assert_eq!(
        egress(&mut h, A, &udp6("2001:db8::1", 4000, "2001:db8:9::9", 443)).result,
        EG
    );
    let q6 = udp6_ip("2001:db8::1", 4000, "2001:db8:9::9", 443);
    let big = icmp6(
        "2001:db8::fe",
        "2001:db8::1",
        Icmpv6Repr::PktTooBig {
            mtu: 1280,
            data: &q6,
        },
    );
    assert_eq!(ingress(&mut h, A, &big).note(trace::RELATED), 2);
    let q6x = udp6_ip("2001:db8::1", 4001, "2001:db8:9::9", 443);
    let unreach = icmp6(
        "2001:db8::fe",
        "2001:db8::1",
        Icmpv6Repr::DstUnreachable {
            code: 4,
            data: &q6x,
        },
    );
    assert_eq!(ingress(&mut h, A, &unreach).result, "related-not-tracked");
    // A quote cut before the ports is malformed.
    let r = ingress(
        &mut h,
        A,
        &unreachable4("10.0.0.254", "10.0.0.1", &quoted[..22]),
    );
    assert_eq!(r.result, "malformed");
    assert!(r.noted(trace::MALFORMED_QUOTED));
}

#[test]
fn remote_groups_match_member_ips() {
    let mut h = harness(64);
    let r = ingress(&mut h, A, &udp4("10.0.0.2", 9, "10.0.0.1", 7000));
    assert_eq!(r.note(trace::NEW), 10 << 32 | 3);
    assert_eq!(
        ingress(&mut h, A, &udp4("10.0.0.3", 9, "10.0.0.1", 7000)).result,
        "no-rule"
    );
    let r = ingress(&mut h, A, &udp6("2001:db8::2", 9, "2001:db8::1", 7000));
    assert_eq!(r.note(trace::NEW), 10 << 32 | 4);
    assert_eq!(
        ingress(&mut h, A, &udp6("2001:db8::3", 9, "2001:db8::1", 7000)).result,
        "no-rule"
    );
    // The IPv4 rule does not admit TCP from the same member.
    assert_eq!(
        ingress(&mut h, A, &tcp4("10.0.0.2", 9, "10.0.0.1", 7000, SYN)).result,
        "no-rule"
    );
}

#[test]
fn remote_prefixes_and_port_ranges() {
    let mut h = harness(64);
    let ssh = |src| tcp4(src, 5000, "10.0.0.1", 22, SYN);
    assert_eq!(ingress(&mut h, A, &ssh("192.168.1.1")).result, IN);
    assert_eq!(ingress(&mut h, A, &ssh("172.16.0.1")).result, "no-rule");
    for (port, ok) in [(79, false), (80, true), (84, true), (88, true), (89, false)] {
        let r = ingress(&mut h, B, &tcp4("10.0.0.1", 5000, "10.0.0.2", port, SYN));
        assert_eq!(r.result == IN, ok, "port {port}: {r:?}");
    }
    let r = ingress(&mut h, B, &tcp4("10.0.1.1", 5000, "10.0.0.2", 80, SYN));
    assert_eq!(r.result, "no-rule", "outside 10.0.0.0/24");
}

#[test]
fn removing_a_rule_cuts_its_connections_on_the_next_packet() {
    let mut h = harness(64);
    let syn = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, SYN);
    let syn_ack = tcp4("10.0.0.2", 80, "10.0.0.1", 40000, SYN_ACK);
    let ack = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, PSH_ACK);
    assert_eq!(egress(&mut h, A, &syn).result, EG);
    assert_eq!(ingress(&mut h, B, &syn).result, IN);
    assert_eq!(egress(&mut h, B, &syn_ack).result, EG);
    assert_eq!(ingress(&mut h, A, &syn_ack).result, IN);
    assert_eq!(ingress(&mut h, B, &ack).result, IN);
    let dns = udp4("10.0.0.2", 5353, "8.8.8.8", 53);
    assert_eq!(egress(&mut h, B, &dns).result, EG);

    // Group 20 loses rules web and dns.
    let without = GROUPS
        .replace(
            r#"{"id":"web","direction":"ingress","ethertype":"IPv4","protocol":"tcp",
     "port_range_min":80,"port_range_max":88,"remote_ip_prefix":"10.0.0.0/24"},"#,
            "",
        )
        .replace(
            r#"{"id":"dns","direction":"egress","ethertype":"IPv4","protocol":"udp",
     "port_range_min":53,"port_range_max":53},"#,
            "",
        );
    assert_ne!(without, GROUPS);
    h.configure_json(&config(64, &without)).unwrap();

    let r = ingress(&mut h, B, &ack);
    assert_eq!(r.result, "invalid", "{r:?}");
    assert_eq!(r.note(trace::CUT), 6, "the rule's old index");
    assert_eq!(ingress(&mut h, B, &ack).result, "invalid", "stays cut");
    // A's side is still allowed by its egress rule (re-checked once).
    let r = egress(&mut h, A, &ack);
    assert_eq!(r.result, EG);
    assert_eq!(r.note(trace::RECHECKED), 10 << 32);
    assert!(!egress(&mut h, A, &ack).noted(trace::RECHECKED));
    // The UDP flow is checked as new and no rule allows it any more.
    let r = egress(&mut h, B, &dns);
    assert_eq!(r.result, "no-rule");
    assert!(r.noted(trace::CUT));
    // Nor does the flow's reply find it.
    assert_eq!(
        ingress(&mut h, B, &udp4("8.8.8.8", 53, "10.0.0.2", 5353)).result,
        "no-rule"
    );
}

#[test]
fn a_full_table_refuses_new_connections_and_keeps_the_old() {
    let mut h = harness(4);
    let flow = |i: u16| udp4("10.0.0.1", 1000 + i, "8.8.8.8", 53);
    for i in 0..4 {
        assert_eq!(egress(&mut h, A, &flow(i)).result, EG);
    }
    let r = egress(&mut h, A, &flow(4));
    assert_eq!(r.result, "ct-full");
    assert_eq!(r.note(trace::CT_FULL), 4);
    for i in 0..4 {
        let r = egress(&mut h, A, &flow(i));
        assert_eq!(r.result, EG);
        assert!(r.noted(trace::ESTABLISHED));
    }
    // Untracked traffic is not affected.
    assert_eq!(egress(&mut h, OPEN, &flow(9)).result, EG);
}

#[test]
fn expired_entries_are_freed() {
    let mut h = harness(4);
    let flow = |i: u16| udp4("10.0.0.1", 1000 + i, "8.8.8.8", 53);
    for i in 0..4 {
        assert_eq!(egress(&mut h, A, &flow(i)).result, EG);
    }
    assert_eq!(egress(&mut h, A, &flow(4)).result, "ct-full");
    // UDP seen one way lives 30 s: 30 s later it is still there.
    h.set_now(1_000_000 + 30_000);
    assert!(egress(&mut h, A, &flow(0)).noted(trace::ESTABLISHED));
    // 31 s after their last packet the others have expired: room again.
    h.set_now(1_000_000 + 31_001);
    assert_eq!(egress(&mut h, A, &flow(4)).result, EG);
    assert_eq!(egress(&mut h, A, &flow(5)).result, EG);
    // A reply now finds nothing: A's ingress has no rule for it.
    let r = ingress(&mut h, A, &udp4("8.8.8.8", 53, "10.0.0.1", 1001));
    assert_eq!(r.result, "no-rule");
    // An expired entry met by its own next packet is checked as new.
    h.set_now(1_000_000 + 70_000);
    let r = egress(&mut h, A, &flow(0));
    assert_eq!(r.result, EG);
    assert!(r.noted(trace::EXPIRED));
    assert!(r.noted(trace::NEW));
    // A replied UDP flow lives 180 s.
    assert_eq!(
        ingress(&mut h, A, &udp4("8.8.8.8", 53, "10.0.0.1", 1000)).result,
        IN
    );
    h.set_now(1_000_000 + 70_000 + 179_000);
    assert!(egress(&mut h, A, &flow(0)).noted(trace::ESTABLISHED));
}

#[test]
fn established_tcp_outlives_udp_timeouts() {
    let mut h = harness(8);
    assert_eq!(
        egress(&mut h, A, &tcp4("10.0.0.1", 1, "10.0.0.2", 80, SYN)).result,
        EG
    );
    // A half-open connection expires after 120 s.
    h.set_now(1_000_000 + 121_000);
    let r = ingress(&mut h, A, &tcp4("10.0.0.2", 80, "10.0.0.1", 1, SYN_ACK));
    assert_eq!(r.result, "invalid", "a SYN-ACK cannot open a connection");
    assert!(r.noted(trace::EXPIRED));
    assert_eq!(
        egress(&mut h, A, &tcp4("10.0.0.1", 1, "10.0.0.2", 80, SYN)).result,
        EG
    );
    assert_eq!(
        ingress(&mut h, A, &tcp4("10.0.0.2", 80, "10.0.0.1", 1, SYN_ACK)).result,
        IN
    );
    assert_eq!(
        egress(&mut h, A, &tcp4("10.0.0.1", 1, "10.0.0.2", 80, ACK)).result,
        EG
    );
    h.set_now(1_000_000 + 121_000 + 3_600_000);
    assert_eq!(
        ingress(&mut h, A, &tcp4("10.0.0.2", 80, "10.0.0.1", 1, PSH_ACK)).result,
        IN
    );
}

#[test]
fn ports_without_port_security_pass_untracked() {
    let mut h = harness(4);
    for frame in [
        tcp4("10.0.0.3", 1, "10.0.0.9", 2, ACK),
        eth(EtherType::from(0x8137), &[0; 46]),
        vec![1, 2, 3],
    ] {
        let r = egress(&mut h, OPEN, &frame);
        assert_eq!(r.result, EG);
        assert_eq!(r.note(trace::BYPASS), 3);
        assert_eq!(ingress(&mut h, OPEN, &frame).result, IN);
    }
    // Known before any packet: on egress, such a port's packets all pass
    // (the worker skips the stage for them); not a tracked port's, not on
    // ingress (the destination is known only from the packet).
    let src = |k| [(SOURCE_PORT_KEY, k)];
    assert_eq!(
        h.route("egress", Some(0), &src(OPEN)),
        Some(("exit:egress-accept".to_string(), vec![]))
    );
    assert_eq!(h.route("egress", Some(0), &src(A)), None);
    assert_eq!(h.route("egress", Some(0), &[]), None);
    assert_eq!(
        h.route("ingress", Some(0), &[(DESTINATION_PORT_KEY, OPEN)]),
        None
    );
}

#[test]
fn ports_with_port_security_and_no_groups_drop_ip() {
    let mut h = harness(4);
    let r = egress(&mut h, NO_GROUPS, &udp4("10.0.0.4", 1, "10.0.0.1", 2));
    assert_eq!(r.result, "no-rule");
    assert_eq!(r.note(trace::NO_GROUPS), 4);
    assert_eq!(
        ingress(&mut h, NO_GROUPS, &tcp4("10.0.0.1", 1, "10.0.0.4", 2, SYN)).result,
        "no-rule"
    );
    // What Neutron admits regardless of groups.
    let arp = eth(EtherType::Arp, &[0; 28]);
    assert_eq!(egress(&mut h, NO_GROUPS, &arp).note(trace::ARP), 4);
    assert_eq!(ingress(&mut h, NO_GROUPS, &arp).result, IN);
    let dhcp = udp4("0.0.0.0", 68, "255.255.255.255", 67);
    assert_eq!(
        egress(&mut h, NO_GROUPS, &dhcp).note(trace::SERVICE),
        17 << 16 | 67
    );
    let offer = udp4("10.0.0.254", 67, "10.0.0.4", 68);
    assert_eq!(ingress(&mut h, NO_GROUPS, &offer).result, IN);
    assert_eq!(
        ingress(&mut h, NO_GROUPS, &dhcp).result,
        "no-rule",
        "a client request is not a reply"
    );
    let dhcp6 = udp6("fe80::4", 546, "ff02::1:2", 547);
    assert_eq!(egress(&mut h, NO_GROUPS, &dhcp6).result, EG);
    let ns = icmp6_type("fe80::4", "ff02::1:ff00:1", 135);
    assert_eq!(
        egress(&mut h, NO_GROUPS, &ns).note(trace::SERVICE),
        58 << 16 | 135
    );
    assert_eq!(ingress(&mut h, NO_GROUPS, &ns).result, IN);
    let ra = icmp6_type("fe80::1", "ff02::1", 134);
    assert_eq!(ingress(&mut h, NO_GROUPS, &ra).result, IN);
    assert_eq!(egress(&mut h, NO_GROUPS, &ra).result, "no-rule", "RA out");
    let rs = icmp6_type("fe80::4", "ff02::2", 133);
    assert_eq!(egress(&mut h, NO_GROUPS, &rs).result, EG);
    assert_eq!(ingress(&mut h, NO_GROUPS, &rs).result, "no-rule", "RS in");
}

#[test]
fn non_ip_and_unknown_ports() {
    let mut h = harness(4);
    let ipx = eth(EtherType::from(0x8137), &[0; 46]);
    let r = egress(&mut h, A, &ipx);
    assert_eq!(r.result, "not-ip");
    assert_eq!(r.note(trace::NOT_IP), 0x8137);
    let mut tagged = eth(EtherType::Vlan, &[0, 5, 0x08, 0x00]);
    tagged.resize(60, 0);
    assert_eq!(ingress(&mut h, A, &tagged).result, "not-ip");
    assert_eq!(egress(&mut h, A, &eth(EtherType::Arp, &[0; 28])).result, EG);
    let r = egress(&mut h, 99, &udp4("10.0.0.1", 1, "10.0.0.2", 2));
    assert_eq!(r.result, "unknown-port");
    assert_eq!(r.note(trace::UNKNOWN_PORT), 99);
    // Before any config every port is unknown.
    let mut empty = StageHarness::<SgApp>::new("").unwrap();
    assert_eq!(
        ingress(&mut empty, A, &udp4("10.0.0.2", 1, "10.0.0.1", 2)).result,
        "unknown-port"
    );
}

#[test]
fn malformed_headers() {
    let mut h = harness(4);
    let tcp = tcp4("10.0.0.1", 1, "10.0.0.2", 80, SYN);
    let cases: [(Vec<u8>, &str); 5] = [
        (tcp[..10].to_vec(), trace::MALFORMED_ETHERNET),
        (tcp[..30].to_vec(), trace::MALFORMED_IPV4),
        (
            eth(
                EtherType::Ipv4,
                &ip4(
                    "10.0.0.1",
                    "10.0.0.2",
                    IpProtocol::Tcp,
                    &[0; 8],
                    (1, false, 0),
                ),
            ),
            trace::MALFORMED_TCP,
        ),
        (
            eth(
                EtherType::Ipv4,
                &ip4(
                    "10.0.0.1",
                    "10.0.0.2",
                    IpProtocol::Udp,
                    &[0; 4],
                    (1, false, 0),
                ),
            ),
            trace::MALFORMED_L4,
        ),
        (
            eth(
                EtherType::Ipv4,
                &ip4(
                    "10.0.0.1",
                    "10.0.0.2",
                    IpProtocol::Icmp,
                    &[8, 0],
                    (1, false, 0),
                ),
            ),
            trace::MALFORMED_ICMP,
        ),
    ];
    for (frame, note) in cases {
        let r = egress(&mut h, A, &frame);
        assert_eq!(r.result, "malformed");
        assert!(r.noted(note), "{note}: {r:?}");
    }
    let mut v6 = udp6("2001:db8::1", 1, "2001:db8::2", 2);
    v6[14 + 6] = 0; // next header: hop-by-hop, reading the UDP header as one
    v6[14 + 4..14 + 6].copy_from_slice(&[0, 4]);
    let r = egress(&mut h, A, &v6);
    assert_eq!(r.result, "malformed");
    assert!(r.noted(trace::MALFORMED_IPV6));
}

#[test]
fn later_fragments_follow_an_accepted_first_fragment() {
    let mut h = harness(16);
    let ph = ph4("10.0.0.1", "8.8.8.8");
    let seg = udp_seg(&ph, 4000, 53);
    let first = eth(
        EtherType::Ipv4,
        &ip4("10.0.0.1", "8.8.8.8", IpProtocol::Udp, &seg, (42, true, 0)),
    );
    let later = |ident| {
        eth(
            EtherType::Ipv4,
            &ip4(
                "10.0.0.1",
                "8.8.8.8",
                IpProtocol::Udp,
                &[0; 16],
                (ident, false, 16),
            ),
        )
    };
    assert_eq!(
        egress(&mut h, A, &later(42)).result,
        "fragment",
        "before the first"
    );
    assert_eq!(egress(&mut h, A, &first).result, EG);
    let r = egress(&mut h, A, &later(42));
    assert_eq!(r.result, EG);
    assert_eq!(r.note(trace::FRAGMENT_OK), 42);
    let r = egress(&mut h, A, &later(43));
    assert_eq!(r.result, "fragment");
    assert_eq!(r.note(trace::FRAGMENT), 43);
    h.set_now(1_000_000 + 31_000);
    assert_eq!(egress(&mut h, A, &later(42)).result, "fragment", "too late");
    // A first fragment no rule allows lets no later fragment through.
    let seg = udp_seg(&ph4("10.0.0.2", "8.8.8.8"), 4000, 99);
    let first_b = eth(
        EtherType::Ipv4,
        &ip4("10.0.0.2", "8.8.8.8", IpProtocol::Udp, &seg, (50, true, 0)),
    );
    assert_eq!(egress(&mut h, B, &first_b).result, "no-rule");
    let later_b = eth(
        EtherType::Ipv4,
        &ip4(
            "10.0.0.2",
            "8.8.8.8",
            IpProtocol::Udp,
            &[0; 16],
            (50, false, 16),
        ),
    );
    assert_eq!(egress(&mut h, B, &later_b).result, "fragment");
    // IPv6: a Fragment header.
    let udp = udp_seg(&ph6("2001:db8::1", "2001:db8::9"), 4000, 53);
    let frag6 = |offset_m: u16, body: &[u8]| {
        let mut p = vec![17, 0];
        p.extend_from_slice(&offset_m.to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        p.extend_from_slice(body);
        eth(
            EtherType::Ipv6,
            &ip6("2001:db8::1", "2001:db8::9", IpProtocol::Ipv6Frag, &p),
        )
    };
    assert_eq!(egress(&mut h, A, &frag6(1, &udp)).result, EG);
    assert_eq!(egress(&mut h, A, &frag6(16, &[0; 8])).result, EG);
}

#[test]
fn a_new_capacity_resizes_and_keeps_connections() {
    let mut h = harness(2);
    let flow = |i: u16| udp4("10.0.0.1", 1000 + i, "8.8.8.8", 53);
    assert_eq!(egress(&mut h, A, &flow(0)).result, EG);
    assert_eq!(egress(&mut h, A, &flow(1)).result, EG);
    assert_eq!(egress(&mut h, A, &flow(2)).result, "ct-full");
    h.configure_json(&config(8, GROUPS)).unwrap();
    let r = egress(&mut h, A, &flow(0));
    assert!(
        r.noted(trace::ESTABLISHED) && r.noted(trace::RECHECKED),
        "{r:?}"
    );
    assert_eq!(egress(&mut h, A, &flow(2)).result, EG);
}

#[test]
fn a_batch_is_decided_packet_by_packet() {
    let mut h = harness(16);
    let pkts = vec![
        h.packet(
            &tcp4("10.0.0.1", 7, "10.0.0.2", 80, SYN),
            0,
            &[(SOURCE_PORT_KEY, A), (NETWORK_KEY, NET)],
        ),
        h.packet(
            &tcp4("10.0.0.1", 7, "10.0.0.2", 80, SYN),
            0,
            &[(SOURCE_PORT_KEY, A), (NETWORK_KEY, NET)],
        ),
        h.packet(
            &tcp4("10.0.0.1", 8, "10.0.0.2", 80, ACK),
            0,
            &[(SOURCE_PORT_KEY, A), (NETWORK_KEY, NET)],
        ),
        h.packet(
            &udp4("10.0.0.1", 7, "10.0.0.2", 80),
            0,
            &[(SOURCE_PORT_KEY, 77), (NETWORK_KEY, NET)],
        ),
    ];
    let out = h.run("egress", pkts);
    assert_eq!(out.by_exit(EG).len(), 2);
    assert_eq!(out.dropped("invalid"), 1);
    assert_eq!(out.dropped("unknown-port"), 1);
    assert!(out.by_exit(IN).is_empty());
}

#[test]
fn the_neutron_default_group_works_end_to_end() {
    let mut cfg = crate::SgConfig::neutron_default(5);
    cfg.tsc_hz = Some(1000);
    cfg.conntrack.capacity = 16;
    cfg.groups[0].member_ips = vec!["10.0.0.1".into(), "10.0.0.2".into()];
    for key in [A, B] {
        cfg.ports.push(crate::SgPort {
            port_key: key,
            port_security_enabled: true,
            security_groups: vec![5],
        });
    }
    let mut h = StageHarness::<SgApp>::new("").unwrap();
    h.configure(&cfg).unwrap();
    let syn = tcp4("10.0.0.1", 3, "10.0.0.2", 22, SYN);
    assert_eq!(egress(&mut h, A, &syn).result, EG);
    assert_eq!(ingress(&mut h, B, &syn).result, IN, "from a member");
    let outsider = tcp4("192.0.2.1", 3, "10.0.0.2", 22, SYN);
    assert_eq!(ingress(&mut h, B, &outsider).result, "no-rule");
    let out6 = udp6("2001:db8::1", 3, "2001:db8:ffff::1", 53);
    assert_eq!(egress(&mut h, A, &out6).result, EG, "egress anywhere");
}

#[test]
fn icmp_types_are_matched_by_rules() {
    let mut h = harness(16);
    // A's ingress admits ICMP type 8 only: a timestamp request is refused.
    let ts = icmp4(
        "172.16.0.9",
        "10.0.0.1",
        Icmpv4Repr::Other {
            msg_type: Icmpv4Message::Timestamp,
            code: 0,
            rest: [0, 1, 0, 1],
            data: &[0; 12],
        },
    );
    let r = ingress(&mut h, A, &ts);
    assert_eq!(r.result, "no-rule");
    assert_eq!(r.note(trace::NO_RULE), 1 << 16 | 13 << 8);
}

/// Rough per-packet cost of `decide` (no executor): run with
/// `cargo test --release -- --ignored --nocapture decide_cost`.
#[test]
#[ignore = "a timing measurement, run by hand: cargo test --release -p df-app-sg -- --ignored --nocapture decide_cost"]
fn decide_cost() {
    use std::time::Instant;

    use crate::stage::{FragSlot, Tracker, FRAG_SLOTS};
    use crate::tables::SgTables;

    // 50 egress rules; the flows match the last one (UDP 1024..=65535).
    let mut rules: Vec<String> = (0..49)
        .map(|i| {
            format!(
                r#"{{"id":"r{i}","direction":"egress","ethertype":"IPv4","protocol":"udp",
                    "port_range_min":{p},"port_range_max":{p},"remote_ip_prefix":"172.{i}.0.0/16"}}"#,
                p = 100 + i
            )
        })
        .collect();
    rules.push(
        r#"{"id":"last","direction":"egress","ethertype":"IPv4","protocol":"udp",
            "port_range_min":1024,"port_range_max":65535,"remote_ip_prefix":"198.18.0.0/15"}"#
            .into(),
    );
    let only: Option<usize> = std::env::var("SG_FLOWS").ok().and_then(|v| v.parse().ok());
    for flows in [1_000usize, 100_000] {
        if only.is_some_and(|o| o != flows) {
            continue;
        }
        let cfg = format!(
            r#"{{"tsc_hz":1000000000,"conntrack":{{"capacity":{cap}}},
                "ports":[{{"port_key":1,"security_groups":[1]}}],
                "groups":[{{"group_key":1,"rules":[{rules}]}}]}}"#,
            cap = 2 * flows,
            rules = rules.join(",")
        );
        let t = SgTables::build(&serde_json::from_str(&cfg).unwrap()).unwrap();
        let mut tr = Tracker {
            ct: crate::ct::Conntrack::with_capacity(t.capacity),
            frags: vec![FragSlot::default(); FRAG_SLOTS].into_boxed_slice(),
        };
        let frames: Vec<Vec<u8>> = (0..flows)
            .map(|i| {
                let dst = format!("198.{}.{}.{}", 18 + i / 65536, i / 256 % 256, i % 256);
                udp4(
                    "10.0.0.1",
                    1024 + (i % 60000) as u16,
                    &dst,
                    1024 + (i / 60000) as u16,
                )
            })
            .collect();
        let mut now = 1u64;
        let t0 = Instant::now();
        for f in &frames {
            now += 1;
            let v = tr.decide(&t, false, (1, 1), f, now, None);
            assert!(v.drop.is_none());
        }
        let new_ns = t0.elapsed().as_nanos() as f64 / flows as f64;
        let rounds = (20_000_000 / flows).max(1);
        let t0 = Instant::now();
        for _ in 0..rounds {
            for f in &frames {
                now += 1;
                let v = tr.decide(&t, false, (1, 1), f, now, None);
                assert!(v.drop.is_none());
            }
        }
        let est_ns = t0.elapsed().as_nanos() as f64 / (rounds * flows) as f64;
        println!("{flows} flows: new {new_ns:.1} ns/pkt, established {est_ns:.1} ns/pkt");
    }
}

/// The warm-up's fixed-offset reader agrees with the parser on every frame
/// it reads (plain IPv4 TCP/UDP), and refuses the rest.
#[test]
fn warm_up_tuple_agrees_with_the_parser() {
    use crate::flow::{fast_v4_tuple, parse, Frag, Ip};
    let first_fragment = eth(
        EtherType::Ipv4,
        &ip4(
            "10.0.0.1",
            "10.0.0.2",
            IpProtocol::Udp,
            &udp_seg(&ph4("10.0.0.1", "10.0.0.2"), 1000, 53)[..8],
            (7, true, 0),
        ),
    );
    let frames = [
        udp4("10.0.0.1", 1000, "198.19.3.4", 53),
        tcp4("10.0.0.1", 40000, "10.0.0.2", 80, SYN),
        udp6("2001:db8::1", 1000, "2001:db8::2", 53),
        echo4("10.0.0.1", "10.0.0.2", 7, false),
        first_fragment,
    ];
    for (i, f) in frames.iter().enumerate() {
        let mut ip = Ip::default();
        let parsed = parse(f, &mut ip).is_ok();
        match fast_v4_tuple(f) {
            Some(t) => {
                assert!(parsed && !ip.v6 && ip.frag == Frag::Whole, "frame {i}");
                assert_eq!(t, ip.tuple, "frame {i}");
            }
            None => assert!(i >= 2, "frame {i} should be read"),
        }
    }
    assert!(fast_v4_tuple(&frames[0][..37]).is_none(), "too short");
}

/// With more connections than `WARM_MIN`, batches are warmed up first;
/// every packet is decided exactly as without: a second pass finds every
/// connection tracked, a reply in a mixed batch is still matched.
#[test]
fn warmed_batches_decide_as_single_packets() {
    let mut h = harness(1 << 14);
    let n = crate::stage::WARM_MIN as u32 + 500;
    let frame = |i: u32| {
        udp4(
            "10.0.0.1",
            1024 + (i % 50_000) as u16,
            &format!("198.19.{}.{}", i >> 8 & 255, i & 255),
            2000 + (i >> 16) as u16,
        )
    };
    for pass in 0..2 {
        for chunk in (0..n).collect::<Vec<_>>().chunks(32) {
            let pkts = chunk
                .iter()
                .map(|&i| h.packet(&frame(i), 0, &[(SOURCE_PORT_KEY, A), (NETWORK_KEY, NET)]))
                .collect();
            let out = h.run("egress", pkts);
            assert!(out.drops.is_empty(), "pass {pass}: {:?}", out.drops);
            assert_eq!(out.sent.len(), chunk.len());
            let notes: Vec<&str> = out
                .trace
                .iter()
                .filter_map(|r| match r.event {
                    TraceEvent::Note(w, _) => Some(w),
                    _ => None,
                })
                .collect();
            let want = if pass == 0 {
                trace::NEW
            } else {
                trace::ESTABLISHED
            };
            assert_eq!(
                notes.iter().filter(|w| **w == want).count(),
                chunk.len(),
                "pass {pass}: {notes:?}"
            );
            for (_, p) in out.sent {
                h.free(p);
            }
        }
    }
    // Tracked: an established packet of flow 7 in the same batch as a
    // reply to it (ingress) and an unrelated new flow.
    let reply = udp4("198.19.0.7", 2000, "10.0.0.1", 1024 + 7);
    let p = vec![
        h.packet(&frame(7), 0, &[(SOURCE_PORT_KEY, A), (NETWORK_KEY, NET)]),
        h.packet(
            &frame(n + 1),
            0,
            &[(SOURCE_PORT_KEY, A), (NETWORK_KEY, NET)],
        ),
    ];
    let out = h.run("egress", p);
    assert_eq!(out.sent.len(), 2, "{:?}", out.drops);
    for (_, p) in out.sent {
        h.free(p);
    }
    assert_eq!(ingress(&mut h, A, &reply).result, IN);
}

#[test]
fn untraced_batches_of_unsecured_ports_pass_in_one_go() {
    let mut h = harness(64);
    let f = tcp4("10.0.0.3", 1, "10.0.0.9", 2, ACK);
    let regs = |port| {
        [
            (SOURCE_PORT_KEY, port),
            (DESTINATION_PORT_KEY, port),
            (NETWORK_KEY, NET),
        ]
    };
    for entry in ["egress", "ingress"] {
        let pkts = (0..4)
            .map(|_| h.packet_untraced(&f, 0, &regs(OPEN)))
            .collect();
        let out = h.run(entry, pkts);
        let exit = if entry == "egress" { EG } else { IN };
        assert_eq!(out.by_exit(exit).len(), 4, "{entry}");
        assert!(out.trace.is_empty());
    }
    // With a tracked port among them, each packet is decided: the ACK of
    // no connection on port A is invalid, the unsecured ones pass.
    let pkts = vec![
        h.packet_untraced(&f, 0, &regs(OPEN)),
        h.packet_untraced(&f, 0, &regs(A)),
        h.packet_untraced(&f, 0, &regs(OPEN)),
    ];
    let out = h.run("egress", pkts);
    assert_eq!(out.by_exit(EG).len(), 2);
    assert_eq!(
        out.drops.iter().map(|d| d.1).sum::<u64>(),
        1,
        "{:?}",
        out.drops
    );
}
