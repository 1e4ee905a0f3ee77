//! Table building: good configs compile as intended, bad ones are refused
//! with the field named.

use super::*;
use crate::rules::{list_index, v4_addr, Query};

fn build(json: &str) -> Result<SgTables, String> {
    SgTables::build(&serde_json::from_str(json).unwrap())
}

fn err(json: &str) -> String {
    build(json).unwrap_err()
}

fn q(proto: u8, dport: u16, remote: u128) -> Query {
    Query {
        proto,
        dport,
        icmp_type: 0,
        icmp_code: 0,
        remote,
    }
}

fn ip4(s: &str) -> u128 {
    v4_addr(s.parse().unwrap())
}

#[test]
fn ports_with_the_same_groups_share_a_rule_set() {
    let t = build(
        r#"{"tsc_hz":1000,"conntrack":{"capacity":64,"udp_secs":2},
            "ports":[{"port_key":1,"security_groups":[10,20]},
                     {"port_key":2,"security_groups":[20,10]},
                     {"port_key":3,"security_groups":[10]},
                     {"port_key":4,"port_security_enabled":false},
                     {"port_key":5}],
            "groups":[{"group_key":10,"member_ips":["10.0.0.1","2001:db8::1"],"rules":[
                        {"id":"a","direction":"egress","ethertype":"IPv4"},
                        {"id":"b","direction":"ingress","ethertype":"IPv4","protocol":"tcp",
                         "port_range_min":22,"port_range_max":22,"remote_group":20}]},
                      {"group_key":20,"member_ips":["10.0.0.2"],"rules":[
                        {"id":"a","direction":"ingress","ethertype":"IPv6","protocol":"icmp",
                         "port_range_min":128},
                        {"id":"c","direction":"ingress","ethertype":"IPv4","protocol":6,
                         "remote_ip_prefix":"192.168.0.0/16"}]}]}"#,
    )
    .unwrap();
    assert_eq!(t.len(), 5);
    assert_eq!(t.rulesets.len(), 2);
    let (p1, p2, p3) = (t.port(1).unwrap(), t.port(2).unwrap(), t.port(3).unwrap());
    assert!(p1.secured && p1.ruleset == p2.ruleset && p1.ruleset != p3.ruleset);
    assert_eq!(
        t.port(4),
        Some(PortEntry {
            secured: false,
            ruleset: None
        })
    );
    assert_eq!(
        t.port(5),
        Some(PortEntry {
            secured: true,
            ruleset: None
        })
    );
    assert_eq!(t.capacity, 64);
    assert_eq!(t.timeouts.udp, 2000);
    assert_eq!(t.timeouts.tcp_established, 7_200_000);
    assert_eq!(t.rules.len(), 4);
    assert_eq!(
        t.rules[2],
        RuleMeta {
            group_key: 20,
            id: "a".into()
        }
    );

    let set = &t.rulesets[p1.ruleset.unwrap() as usize];
    let m = &t.members;
    let ing4 = &set.lists[list_index(true, false)];
    assert_eq!(
        ing4.first_match(&q(6, 22, ip4("10.0.0.2")), false, m),
        Some(1)
    );
    assert_eq!(ing4.first_match(&q(6, 22, ip4("10.0.0.1")), false, m), None);
    assert_eq!(
        ing4.first_match(&q(6, 80, ip4("192.168.3.4")), false, m),
        Some(3)
    );
    assert_eq!(
        ing4.first_match(&q(17, 80, ip4("192.168.3.4")), false, m),
        None
    );
    // IPv6 `icmp` is ICMPv6; type 128 of any code.
    let ing6 = &set.lists[list_index(true, true)];
    let echo = Query {
        icmp_type: 128,
        icmp_code: 3,
        ..q(58, 0, 1)
    };
    assert_eq!(ing6.first_match(&echo, true, m), Some(2));
    let other = Query {
        icmp_type: 129,
        ..echo
    };
    assert_eq!(ing6.first_match(&other, true, m), None);
    let egr4 = &set.lists[list_index(false, false)];
    assert_eq!(
        egr4.first_match(&q(47, 0, ip4("8.8.8.8")), false, m),
        Some(0)
    );
    assert!(set.lists[list_index(false, true)]
        .first_match(&q(6, 1, 1), true, m)
        .is_none());

    let d = t.describe();
    assert_eq!(d["conntrack_capacity"], 64);
    assert_eq!(d["groups"][1]["rules"][1]["id"], "c");
    assert_eq!(d["groups"][1]["rules"][1]["index"], 3);
    assert_eq!(d["rulesets"][0]["ingress_ipv4"], 2);
    assert_eq!(d["ports"][3]["port_security_enabled"], false);
}

#[test]
fn generations_differ_between_builds() {
    let a = build(r#"{"tsc_hz":1}"#).unwrap();
    let b = build(r#"{"tsc_hz":1}"#).unwrap();
    assert_ne!(a.generation, b.generation);
    assert_eq!(SgTables::default().capacity, 0);
}

#[test]
fn prefixes_compile_to_masks() {
    let p = |s: &str, v6: bool| prefix("x", s, v6);
    assert_eq!(p("0.0.0.0/0", false), Ok(Remote::Any));
    assert_eq!(p("::/0", true), Ok(Remote::Any));
    let Ok(Remote::Prefix { net, mask }) = p("10.1.0.0/16", false) else {
        panic!()
    };
    assert_eq!(ip4("10.1.200.3") & mask, net);
    assert_ne!(ip4("10.2.0.3") & mask, net);
    assert_ne!(
        0x0a01_0000 & mask,
        net,
        "an IPv6 address with the same low bits"
    );
    let Ok(Remote::Prefix { net, mask }) = p("10.0.0.7", false) else {
        panic!()
    };
    assert_eq!(ip4("10.0.0.7") & mask, net);
    assert_ne!(ip4("10.0.0.8") & mask, net);
    let Ok(Remote::Prefix { net, mask }) = p("2001:db8::/32", true) else {
        panic!()
    };
    let a: u128 = "2001:db8:1::9"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .into();
    assert_eq!(a & mask, net);
}

#[test]
fn neutron_default_group_compiles() {
    let mut cfg = SgConfig::neutron_default(7);
    cfg.tsc_hz = Some(1);
    cfg.groups[0].member_ips = vec!["10.0.0.1".into()];
    cfg.ports.push(crate::SgPort {
        port_key: 1,
        port_security_enabled: true,
        security_groups: vec![7],
    });
    let t = SgTables::build(&cfg).unwrap();
    let set = &t.rulesets[0];
    let m = &t.members;
    assert_eq!(
        set.lists[list_index(false, true)].first_match(&q(6, 80, 5), true, m),
        Some(1)
    );
    let ing4 = &set.lists[list_index(true, false)];
    assert_eq!(
        ing4.first_match(&q(6, 80, ip4("10.0.0.1")), false, m),
        Some(2)
    );
    assert_eq!(ing4.first_match(&q(6, 80, ip4("10.0.0.2")), false, m), None);
}

#[test]
fn bad_configs_name_the_field() {
    let g = |rule: &str| {
        format!(
            r#"{{"tsc_hz":1,"groups":[{{"group_key":1,"rules":[
                {{"id":"ok","direction":"egress","ethertype":"IPv4"}},{rule}]}}]}}"#
        )
    };
    let cases = [
        (
            r#"{"conntrack":{"capacity":0}}"#.to_string(),
            "conntrack.capacity: 0 is out of range (1..=268435456)",
        ),
        (
            r#"{"conntrack":{"udp_secs":0}}"#.to_string(),
            "conntrack.udp_secs: must be at least 1",
        ),
        (r#"{"tsc_hz":0}"#.to_string(), "tsc_hz: must be non-zero (omit it to measure the TSC)"),
        (
            r#"{"tsc_hz":1,"ports":[{"port_key":0}]}"#.to_string(),
            "ports[0].port_key: must be non-zero",
        ),
        (
            r#"{"tsc_hz":1,"ports":[{"port_key":3},{"port_key":3}]}"#.to_string(),
            "ports[1].port_key: port 3 is listed twice (also ports[0])",
        ),
        (
            r#"{"tsc_hz":1,"ports":[{"port_key":3,"security_groups":[9]}]}"#.to_string(),
            "ports[0].security_groups[0]: group 9 is not in groups",
        ),
        (
            r#"{"tsc_hz":1,"ports":[{"port_key":3,"security_groups":[1,1]}],"groups":[{"group_key":1}]}"#.to_string(),
            "ports[0].security_groups[1]: group 1 is listed twice",
        ),
        (
            r#"{"tsc_hz":1,"ports":[{"port_key":3,"port_security_enabled":false,"security_groups":[1]}],"groups":[{"group_key":1}]}"#.to_string(),
            "ports[0].security_groups: a port without port security cannot have security groups (Neutron refuses it too)",
        ),
        (
            r#"{"tsc_hz":1,"groups":[{"group_key":0}]}"#.to_string(),
            "groups[0].group_key: must be non-zero",
        ),
        (
            r#"{"tsc_hz":1,"groups":[{"group_key":4},{"group_key":4}]}"#.to_string(),
            "groups[1].group_key: group 4 is listed twice (also groups[0])",
        ),
        (
            r#"{"tsc_hz":1,"groups":[{"group_key":4,"member_ips":["10.0.0.1","10.0.0"]}]}"#.to_string(),
            "groups[0].member_ips[1]: `10.0.0` is not an IP address",
        ),
        (
            g(r#"{"id":"ok","direction":"egress","ethertype":"IPv6"}"#),
            "groups[0].rules[1].id: `ok` is used twice in group 1 (also rules[0])",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":"bogus"}"#),
            "groups[0].rules[1].protocol: `bogus` is not a protocol (expected 0..=255 or a name such as tcp, udp, icmp, icmpv6, sctp)",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":300}"#),
            "groups[0].rules[1].protocol: 300 is not a protocol (expected 0..=255 or a name such as tcp, udp, icmp, icmpv6, sctp)",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":"icmpv6"}"#),
            "groups[0].rules[1].protocol: icmpv6 does not match ethertype IPv4",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","port_range_min":1,"port_range_max":2}"#),
            "groups[0].rules[1].port_range_min: a port range needs a protocol",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":"tcp","port_range_min":90,"port_range_max":80}"#),
            "groups[0].rules[1].port_range_min: port_range_min 90 is greater than port_range_max 80",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":"udp","port_range_min":1,"port_range_max":70000}"#),
            "groups[0].rules[1].port_range_min: [1, 70000] is not a port range (ports are 0..=65535)",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":"udp","port_range_min":1}"#),
            "groups[0].rules[1].port_range_min: protocol 17 needs both port_range_min and port_range_max, or neither",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":"icmp","port_range_max":1}"#),
            "groups[0].rules[1].port_range_min: an ICMP code (port_range_max) needs an ICMP type (port_range_min)",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":"icmp","port_range_min":8,"port_range_max":256}"#),
            "groups[0].rules[1].port_range_max: 256 is not an ICMP type/code (expected 0..=255)",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","protocol":"gre","port_range_min":1,"port_range_max":1}"#),
            "groups[0].rules[1].port_range_min: protocol 47 has no ports",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","remote_ip_prefix":"10.0.0.0/8","remote_group":1}"#),
            "groups[0].rules[1].remote_ip_prefix: remote_ip_prefix and remote_group are mutually exclusive",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","remote_ip_prefix":"10.0.0.1/8"}"#),
            "groups[0].rules[1].remote_ip_prefix: 10.0.0.1/8 has host bits set (the network is 10.0.0.0/8)",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","remote_ip_prefix":"10.0.0.0/33"}"#),
            "groups[0].rules[1].remote_ip_prefix: `10.0.0.0/33` has a bad prefix length (0..=32)",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","remote_ip_prefix":"2001:db8::/32"}"#),
            "groups[0].rules[1].remote_ip_prefix: 2001:db8::/32 does not match ethertype IPv4",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv6","remote_ip_prefix":"fe80::x/64"}"#),
            "groups[0].rules[1].remote_ip_prefix: `fe80::x/64` is not an IP prefix (e.g. 10.0.0.0/8)",
        ),
        (
            g(r#"{"id":"r","direction":"egress","ethertype":"IPv4","remote_group":2}"#),
            "groups[0].rules[1].remote_group: group 2 is not in groups (list it with its member_ips even when no local port is in it)",
        ),
    ];
    for (json, want) in cases {
        assert_eq!(err(&json), want, "{json}");
    }
}

#[test]
fn serde_refuses_unknown_fields_and_values() {
    let e = serde_json::from_str::<SgConfig>(r#"{"ports":[{"port_key":1,"groups":[1]}]}"#)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("unknown field `groups`"), "{e}");
    let e = serde_json::from_str::<SgConfig>(
        r#"{"groups":[{"group_key":1,"rules":[{"id":"r","direction":"in","ethertype":"IPv4"}]}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("unknown variant `in`"), "{e}");
}
