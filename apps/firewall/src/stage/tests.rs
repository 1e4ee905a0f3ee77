//! Stage tests: a router (key 1) with networks 10 (A's, router port 100,
//! group 7), 20 (B's, router port 200, group 8) and 30 (port 300, no
//! group). Packets from A to B cross `in.egress` with network 10, then
//! `in.ingress` with network 20; replies the other way round.

mod frames;
mod reject;
mod state;

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, ROUTER_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_dp::trace::TraceEvent;
use df_dp::Packet;
use df_wire::{Ipv4Packet, ETHERNET_HEADER_LEN as ETH};

use crate::trace;
use crate::FirewallApp;
use frames::{arp, echo, frame, syn, syn_ack, udp, L4, MAC_A, MAC_B, MAC_R10, MAC_R20};

const A: &str = "10.0.1.5";
const B: &str = "10.0.2.7";
const A6: &str = "2001:db8:1::5";
const B6: &str = "2001:db8:2::7";

type H = StageHarness<FirewallApp>;

/// tsc_hz 1000: one reject token per 100 cycles, burst 2; idle 300 s =
/// 300 000 cycles.
fn config(groups: &str) -> String {
    format!(
        r#"{{"tsc_hz": 1000, "reject_rate": {{"per_sec": 10, "burst": 2}},
        "conntrack": {{"capacity": 64, "idle_secs": 300}},
        "routers": [{{"router_key": 1, "ports": [
            {{"network_key": 10, "port_key": 100, "firewall_group": 7}},
            {{"network_key": 20, "port_key": 200, "firewall_group": 8}},
            {{"network_key": 30, "port_key": 300}}]}}],
        "groups": {groups}}}"#
    )
}

fn harness(groups: &str) -> H {
    let mut h = H::new("").unwrap();
    h.configure_json(&config(groups)).unwrap();
    h.set_now(1_000);
    h
}

/// A group 7 (A's port) and 8 (B's port) with these policies.
fn groups(g7_egress: &str, g7_ingress: &str, g8_egress: &str, g8_ingress: &str) -> String {
    format!(
        r#"[{{"key": 7, "egress": {g7_egress}, "ingress": {g7_ingress}}},
            {{"key": 8, "egress": {g8_egress}, "ingress": {g8_ingress}}}]"#
    )
}

const ALLOW_ALL: &str = r#"[{"id": "all4", "action": "allow", "ip_version": 4},
                            {"id": "all6", "action": "allow", "ip_version": 6}]"#;

/// A to B, entering the router from network 10.
fn a_out(h: &mut H, l4: L4<'_>) -> Packet {
    let f = frame(MAC_A, MAC_R10, A, B, l4);
    egress_a(h, &f)
}

fn egress_a(h: &mut H, f: &[u8]) -> Packet {
    h.packet(
        f,
        0,
        &[
            (SOURCE_PORT_KEY, 1),
            (DESTINATION_PORT_KEY, 100),
            (ROUTER_KEY, 1),
            (NETWORK_KEY, 10),
        ],
    )
}

/// A to B, routed into network 20.
fn b_in(h: &mut H, l4: L4<'_>) -> Packet {
    let f = frame(MAC_R20, MAC_B, A, B, l4);
    ingress_b(h, &f)
}

fn ingress_b(h: &mut H, f: &[u8]) -> Packet {
    h.packet(
        f,
        0,
        &[
            (SOURCE_PORT_KEY, 1),
            (DESTINATION_PORT_KEY, 2),
            (ROUTER_KEY, 1),
            (NETWORK_KEY, 20),
        ],
    )
}

/// B to A, entering the router from network 20.
fn b_out(h: &mut H, l4: L4<'_>) -> Packet {
    let f = frame(MAC_B, MAC_R20, B, A, l4);
    h.packet(
        &f,
        0,
        &[
            (SOURCE_PORT_KEY, 2),
            (DESTINATION_PORT_KEY, 200),
            (ROUTER_KEY, 1),
            (NETWORK_KEY, 20),
        ],
    )
}

/// B to A, routed into network 10.
fn a_in(h: &mut H, l4: L4<'_>) -> Packet {
    let f = frame(MAC_R10, MAC_A, B, A, l4);
    ingress_a(h, &f)
}

fn ingress_a(h: &mut H, f: &[u8]) -> Packet {
    h.packet(
        f,
        0,
        &[
            (SOURCE_PORT_KEY, 2),
            (DESTINATION_PORT_KEY, 1),
            (ROUTER_KEY, 1),
            (NETWORK_KEY, 10),
        ],
    )
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

/// Runs one packet; asserts it left by `exit` unchanged (or was dropped
/// for `exit` when it names a drop reason).
fn expect(h: &mut H, entry: &str, pkt: Packet, exit: &str) -> Outcome {
    let bytes = pkt.data().to_vec();
    let out = h.run(entry, vec![pkt]);
    if exit.ends_with("-accept") {
        let sent = out.by_exit(exit);
        assert_eq!(sent.len(), 1, "{exit}: {:?} {:?}", out.drops, out.trace);
        assert_eq!(sent[0].data(), &bytes[..], "accepted packets are unchanged");
        assert_eq!(out.sent.len(), 1);
    } else {
        assert_eq!(
            out.dropped(exit),
            1,
            "{exit}: {:?} {:?}",
            out.drops,
            out.trace
        );
    }
    out
}

#[test]
fn allow_deny_and_default_deny() {
    let g7e = r#"[
        {"id": "ssh", "action": "deny", "ip_version": 4, "protocol": "tcp",
         "destination_port": [22, 22]},
        {"id": "web", "action": "allow", "ip_version": 4, "protocol": "tcp",
         "destination_prefix": "10.0.2.0/24", "destination_port": [80, 80]}]"#;
    let mut h = harness(&groups(g7e, "null", "null", "null"));
    let p = a_out(&mut h, syn(40000, 80));
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(notes(&out, trace::PORT), vec![100]);
    assert_eq!(notes(&out, trace::RULE_ALLOW), vec![1]);
    let p = a_out(&mut h, syn(40000, 22));
    let out = expect(&mut h, "egress", p, "denied");
    assert_eq!(notes(&out, trace::RULE_DENY), vec![0]);
    // No rule matches: the implicit deny.
    let p = a_out(&mut h, syn(40000, 443));
    let out = expect(&mut h, "egress", p, "denied");
    assert_eq!(notes(&out, trace::DEFAULT_DENY), vec![7]);
    let p = a_out(&mut h, udp(5000, 80));
    expect(&mut h, "egress", p, "denied");
    // A destination outside the allowed prefix.
    let f = frame(MAC_A, MAC_R10, A, "10.0.3.1", syn(40000, 80));
    let p = egress_a(&mut h, &f);
    expect(&mut h, "egress", p, "denied");
}

#[test]
fn first_match_decides() {
    let g7e = r#"[
        {"id": "allow-22", "action": "allow", "ip_version": 4, "protocol": "tcp",
         "destination_port": [22, 22]},
        {"id": "deny-tcp", "action": "deny", "ip_version": 4, "protocol": "tcp"},
        {"id": "allow-all", "action": "allow", "ip_version": 4}]"#;
    let mut h = harness(&groups(g7e, "null", "null", "null"));
    let p = a_out(&mut h, syn(40000, 22));
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(notes(&out, trace::RULE_ALLOW), vec![0]);
    let p = a_out(&mut h, syn(40000, 80));
    let out = expect(&mut h, "egress", p, "denied");
    assert_eq!(notes(&out, trace::RULE_DENY), vec![1]);
    let p = a_out(&mut h, udp(5000, 53));
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(notes(&out, trace::RULE_ALLOW), vec![2]);
}

#[test]
fn disabled_rules_are_skipped() {
    let g7e = r#"[
        {"id": "off", "action": "deny", "ip_version": 4, "protocol": "tcp", "enabled": false},
        {"id": "on", "action": "allow", "ip_version": 4, "protocol": "tcp"}]"#;
    let mut h = harness(&groups(g7e, "null", "null", "null"));
    let p = a_out(&mut h, syn(40000, 80));
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(
        notes(&out, trace::RULE_ALLOW),
        vec![1],
        "positions count disabled rules"
    );
}

#[test]
fn unfiltered_ports_and_directions_pass() {
    // Group 7 has no egress policy and an empty ingress policy.
    let mut h = harness(&groups("null", "[]", "[]", "[]"));
    let p = a_out(&mut h, syn(40000, 80));
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(notes(&out, trace::NO_POLICY), vec![7]);
    // An empty policy denies everything but the replies of flows the
    // port accepted (an unfiltered direction is cached too).
    let p = a_in(&mut h, syn_ack(80, 40000));
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::CT_REPLY), vec![100]);
    let p = a_in(&mut h, syn(80, 40001));
    expect(&mut h, "ingress", p, "denied");
    // Network 30's router port has no group.
    let f = frame(MAC_A, MAC_R10, A, B, syn(1, 2));
    let p = h.packet(
        &f,
        0,
        &[(SOURCE_PORT_KEY, 3), (ROUTER_KEY, 1), (NETWORK_KEY, 30)],
    );
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(notes(&out, trace::NO_GROUP), vec![300]);
    // No router port for (router 2, network 10), nor for (router 1, 99).
    for (router, net) in [(2, 10), (1, 99)] {
        let p = h.packet(&f, 0, &[(ROUTER_KEY, router), (NETWORK_KEY, net)]);
        let out = expect(&mut h, "ingress", p, "ingress-accept");
        assert_eq!(notes(&out, trace::UNKNOWN_PORT), vec![u64::from(net)]);
    }
    // Before any config, nothing is filtered.
    let mut empty = H::new("").unwrap();
    let p = a_out(&mut empty, syn(1, 2));
    expect(&mut empty, "egress", p, "egress-accept");
    // Known before any packet: with no group anywhere, every packet passes
    // whatever it is (the worker passes the stage over); with groups, it
    // depends on the packet.
    assert_eq!(
        empty.route("egress", None, &[]),
        Some(("exit:egress-accept".to_string(), vec![]))
    );
    assert_eq!(
        empty.route("ingress", None, &[]),
        Some(("exit:ingress-accept".to_string(), vec![]))
    );
    assert_eq!(h.route("egress", None, &[]), None);
}

#[test]
fn non_ip_passes_and_malformed_is_dropped() {
    let mut h = harness(&groups("[]", "[]", "[]", "[]"));
    let p = egress_a(&mut h, &arp());
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(notes(&out, trace::NOT_IP), vec![0x0806]);
    // A runt, a truncated IPv4 header, a truncated TCP header, a short UDP
    // header, a short ICMP header, a bad IPv6 version.
    let good = frame(MAC_A, MAC_R10, A, B, syn(1, 2));
    let mut bad_tcp = good.clone();
    bad_tcp.truncate(ETH + 20 + 10);
    bad_tcp[ETH + 3] = 30; // total length
    let mut short_udp = frame(MAC_A, MAC_R10, A, B, udp(1, 2));
    short_udp.truncate(ETH + 20 + 6);
    short_udp[ETH + 3] = 26;
    let mut short_icmp = frame(MAC_A, MAC_R10, A, B, echo(8, 1));
    short_icmp.truncate(ETH + 20 + 4);
    short_icmp[ETH + 3] = 24;
    let mut bad_v6 = frame(MAC_A, MAC_R10, A6, B6, syn(1, 2));
    bad_v6[ETH] = 0x40;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (good[..10].to_vec(), trace::MALFORMED_ETHERNET),
        (good[..ETH + 12].to_vec(), trace::MALFORMED_IP),
        (bad_tcp, trace::MALFORMED_IP),
        (short_udp, trace::MALFORMED_IP),
        (short_icmp, trace::MALFORMED_IP),
        (bad_v6, trace::MALFORMED_IP),
    ];
    for (f, why) in cases {
        let p = egress_a(&mut h, &f);
        let out = expect(&mut h, "egress", p, "malformed");
        assert_eq!(notes(&out, why), vec![0], "{why}");
    }
    // An SCTP header too short for its ports (parse_frame does not read
    // SCTP; the firewall does).
    let mut sctp = frame(MAC_A, MAC_R10, A, B, udp(1, 2));
    sctp[ETH + 9] = 132;
    sctp.truncate(ETH + 20 + 3);
    sctp[ETH + 3] = 23;
    fix_ipv4_checksum(&mut sctp);
    let p = egress_a(&mut h, &sctp);
    let out = expect(&mut h, "egress", p, "malformed");
    assert_eq!(notes(&out, trace::MALFORMED_L4), vec![0]);
}

fn fix_ipv4_checksum(f: &mut [u8]) {
    Ipv4Packet::new_unchecked(&mut f[ETH..]).fill_checksum();
}

#[test]
fn port_ranges() {
    let g7e = r#"[
        {"id": "range", "action": "allow", "ip_version": 4, "protocol": "tcp",
         "source_port": [30000, 39999], "destination_port": [1000, 2000]},
        {"id": "udp-src", "action": "allow", "ip_version": 4, "protocol": 17,
         "source_port": [53, 53]}]"#;
    let mut h = harness(&groups(g7e, "null", "null", "null"));
    for (sport, dport, exit) in [
        (30000, 999, "denied"),
        (30000, 1000, "egress-accept"),
        (39999, 2000, "egress-accept"),
        (30000, 2001, "denied"),
        (29999, 1500, "denied"),
        (40000, 1500, "denied"),
    ] {
        let p = a_out(&mut h, syn(sport, dport));
        expect(&mut h, "egress", p, exit);
    }
    let p = a_out(&mut h, udp(53, 9999));
    expect(&mut h, "egress", p, "egress-accept");
    let p = a_out(&mut h, udp(54, 9999));
    expect(&mut h, "egress", p, "denied");
}

#[test]
fn ipv6_rules() {
    let g8i = r#"[
        {"id": "v4-any", "action": "allow", "ip_version": 4},
        {"id": "from-a", "action": "allow", "ip_version": 6, "protocol": "tcp",
         "source_prefix": "2001:db8:1::/64", "destination_prefix": "2001:db8:2::7/128"},
        {"id": "ping6", "action": "allow", "ip_version": 6, "protocol": "icmpv6"}]"#;
    let mut h = harness(&groups("null", "null", "null", g8i));
    let f = frame(MAC_R20, MAC_B, A6, B6, syn(40000, 80));
    let p = ingress_b(&mut h, &f);
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(
        notes(&out, trace::RULE_ALLOW),
        vec![1],
        "v4 rules never match v6"
    );
    let f = frame(MAC_R20, MAC_B, "2001:db8:9::5", B6, syn(40000, 80));
    let p = ingress_b(&mut h, &f);
    expect(&mut h, "ingress", p, "denied");
    let f = frame(MAC_R20, MAC_B, "2001:db8:9::5", B6, echo(128, 9));
    let p = ingress_b(&mut h, &f);
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::RULE_ALLOW), vec![2]);
    let f = frame(MAC_R20, MAC_B, "2001:db8:9::5", B6, udp(1, 2));
    let p = ingress_b(&mut h, &f);
    expect(&mut h, "ingress", p, "denied");
}

#[test]
fn params_and_unknown_fields_are_refused() {
    let e = H::new("{a: 1}").unwrap_err();
    assert_eq!(
        e,
        "firewall takes no params (its settings come with its config)"
    );
    let mut h = H::new("").unwrap();
    let e = h
        .configure_json(r#"{"routers": [], "rate": 1}"#)
        .unwrap_err();
    assert!(e.contains("unknown field `rate`"), "{e}");
    let e = h
        .configure_json(
            &config(&groups("[]", "[]", "[]", "[]"))
                .replace("firewall_group\": 8", "firewall_group\": 9"),
        )
        .unwrap_err();
    assert_eq!(
        e,
        "routers[0].ports[1].firewall_group: group 9 is not in `groups`"
    );
}
