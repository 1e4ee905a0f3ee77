use super::*;
use crate::config::RuleAction;
use crate::rules::{Decision, Query};

fn cfg(json: &str) -> FirewallConfig {
    serde_json::from_str(json).unwrap()
}

fn build(json: &str) -> Result<FirewallTables, String> {
    FirewallTables::build(&cfg(json))
}

const GOOD: &str = r#"{
    "tsc_hz": 1000,
    "reject_rate": {"per_sec": 5, "burst": 3},
    "conntrack": {"capacity": 100, "idle_secs": 60},
    "routers": [{"router_key": 1, "ports": [
        {"network_key": 10, "port_key": 100, "firewall_group": 7},
        {"network_key": 20, "port_key": 200}]},
        {"router_key": 2, "ports": [{"network_key": 10, "port_key": 101, "firewall_group": 7}]}],
    "groups": [{"key": 7,
        "egress": [
            {"id": "a", "action": "allow", "ip_version": 4, "protocol": "TCP",
             "source_prefix": "10.0.0.0/8", "destination_prefix": "192.168.1.1",
             "destination_port": [80, 90]},
            {"id": "b", "action": "reject", "ip_version": 6, "protocol": "icmpv6",
             "source_prefix": "2001:db8::/32"},
            {"id": "c", "action": "deny", "ip_version": 4, "enabled": false}],
        "ingress": null}]
}"#;

#[test]
fn builds_and_looks_up() {
    let t = build(GOOD).unwrap();
    let (i, p) = t.port(1, 10).unwrap();
    assert_eq!((i, p.port_key, p.group), (0, 100, Some(0)));
    assert_eq!(t.port(1, 20).unwrap().1.group, None);
    assert_eq!(t.port(2, 10).unwrap().1.port_key, 101);
    assert!(t.port(2, 20).is_none());
    assert_eq!(t.port_by_key(200), Some(1));
    assert_eq!(
        t.reject_limit,
        Limit {
            per_token: 200,
            capacity: 600
        }
    );
    assert_eq!((t.ct_capacity, t.ct_idle), (128, 60_000));
    let g = &t.groups[0];
    assert!(g.policies[INGRESS].is_none());
    let p = g.policies[EGRESS].as_ref().unwrap();
    assert_eq!(
        (p.lists[0].len(), p.lists[1].len()),
        (1, 1),
        "c is disabled"
    );
    let r = &p.lists[0][0];
    assert_eq!(
        (r.proto, r.src, r.src_mask),
        (Some(6), 0x0a00_0000, 0xff00_0000)
    );
    assert_eq!((r.dst, r.dst_mask), (0xc0a8_0101, 0xffff_ffff));
    assert_eq!((r.sport, r.dport), (None, Some((80, 90))));
    let q = Query {
        proto: 6,
        src: 0x0a01_0101,
        dst: 0xc0a8_0101,
        sport: 1,
        dport: 85,
        ports: true,
    };
    assert_eq!(p.decide(false, &q), Decision::Rule(RuleAction::Allow, 0));
    let r6 = &p.lists[1][0];
    assert_eq!(
        (r6.proto, r6.pos, r6.action),
        (Some(58), 1, RuleAction::Reject)
    );
    assert_eq!(r6.src_mask, u128::MAX << 96);
    let d = t.describe();
    assert_eq!(
        d["groups"][0]["egress"]["rules"],
        serde_json::json!(["a", "b", "c"])
    );
    assert_eq!(d["groups"][0]["ingress"], serde_json::Value::Null);
    assert_eq!(d["ports"][1]["firewall_group"], serde_json::Value::Null);
    assert_eq!(d["conntrack_capacity"], 128);
    // Every build is a new generation.
    assert_ne!(build(GOOD).unwrap().generation, t.generation);
    // Defaults: 10/s burst 10, 16384 flows, 300 s.
    let t = build(r#"{"tsc_hz": 100}"#).unwrap();
    assert_eq!(
        t.reject_limit,
        Limit {
            per_token: 10,
            capacity: 100
        }
    );
    assert_eq!((t.ct_capacity, t.ct_idle), (16384, 30_000));
    let t = build(r#"{"tsc_hz": 100, "reject_rate": {"per_sec": 0}}"#).unwrap();
    assert_eq!(t.reject_limit, Limit::default(), "0: no limit");
}

/// A config with one group whose egress policy is `rule`.
fn one_rule(rule: &str) -> String {
    format!(r#"{{"tsc_hz": 1, "groups": [{{"key": 7, "egress": [{rule}]}}]}}"#)
}

#[test]
fn bad_rules_name_the_field() {
    let cases = [
        (
            r#"{"id": "r", "action": "allow", "ip_version": 5}"#,
            "groups[0].egress[0].ip_version: 5 is not 4 or 6",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "protocol": "tcpp"}"#,
            "groups[0].egress[0].protocol: `tcpp` is not a protocol (expected tcp, udp, icmp, \
             icmpv6, any or a number 0..=255)",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 6, "protocol": "icmp"}"#,
            "groups[0].egress[0].protocol: icmp does not match ip_version 6 (use icmpv6)",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "protocol": 58}"#,
            "groups[0].egress[0].protocol: icmpv6 does not match ip_version 4",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "source_prefix": "10.0.0/8"}"#,
            "groups[0].egress[0].source_prefix: `10.0.0/8` is not an address or prefix",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "destination_prefix": "2001:db8::/32"}"#,
            "groups[0].egress[0].destination_prefix: 2001:db8::/32 does not match ip_version 4",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 6, "source_prefix": "10.0.0.0/8"}"#,
            "groups[0].egress[0].source_prefix: 10.0.0.0/8 does not match ip_version 6",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "source_prefix": "10.0.0.1/8"}"#,
            "groups[0].egress[0].source_prefix: 10.0.0.1/8 has host bits set (give the network \
             address of the prefix)",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "source_prefix": "10.0.0.0/33"}"#,
            "groups[0].egress[0].source_prefix: `10.0.0.0/33` has a bad prefix length (0..=32)",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "destination_port": [80, 80]}"#,
            "groups[0].egress[0].destination_port: a port range needs a protocol with ports \
             (tcp, udp, ...)",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "protocol": "icmp", "source_port": [1, 2]}"#,
            "groups[0].egress[0].source_port: protocol 1 has no ports",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4, "protocol": "udp", "source_port": [9, 2]}"#,
            "groups[0].egress[0].source_port: `[9, 2]` is not a port range (min is greater than \
             max)",
        ),
        (
            r#"{"id": "", "action": "allow", "ip_version": 4}"#,
            "groups[0].egress[0].id: must not be empty",
        ),
        (
            r#"{"id": "r", "action": "allow", "ip_version": 4}, {"id": "r", "action": "deny", "ip_version": 4}"#,
            "groups[0].egress[1].id: rule `r` appears twice in the policy",
        ),
        (
            // Disabled rules are checked too.
            r#"{"id": "r", "action": "allow", "ip_version": 4, "enabled": false, "protocol": "x"}"#,
            "groups[0].egress[0].protocol: `x` is not a protocol (expected tcp, udp, icmp, \
             icmpv6, any or a number 0..=255)",
        ),
    ];
    for (rule, want) in cases {
        assert_eq!(build(&one_rule(rule)).unwrap_err(), want, "{rule}");
    }
    // Names, numbers and `any` all work; `/0` is any.
    for ok in [
        r#"{"id": "r", "action": "allow", "ip_version": 4, "protocol": "any"}"#,
        r#"{"id": "r", "action": "allow", "ip_version": 6, "protocol": "ipv6-icmp"}"#,
        r#"{"id": "r", "action": "allow", "ip_version": 4, "protocol": "sctp", "source_port": [1, 1]}"#,
        r#"{"id": "r", "action": "allow", "ip_version": 4, "protocol": "47"}"#,
        r#"{"id": "r", "action": "allow", "ip_version": 6, "source_prefix": "::/0"}"#,
    ] {
        build(&one_rule(ok)).unwrap();
    }
    let e = serde_json::from_str::<FirewallConfig>(&one_rule(
        r#"{"id": "r", "action": "drop", "ip_version": 4}"#,
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown variant `drop`"), "{e}");
    let e = serde_json::from_str::<FirewallConfig>(&one_rule(
        r#"{"id": "r", "action": "allow", "ip_version": 4, "port": 1}"#,
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown field `port`"), "{e}");
}

#[test]
fn bad_ports_groups_and_settings_name_the_field() {
    let router = |ports: &str| {
        format!(
            r#"{{"tsc_hz": 1, "groups": [{{"key": 7}}],
                "routers": [{{"router_key": 1, "ports": [{ports}]}}]}}"#
        )
    };
    let cases = [
        (
            r#"{"tsc_hz": 1, "routers": [{"router_key": 0}]}"#.to_string(),
            "routers[0].router_key: must be non-zero",
        ),
        (
            r#"{"tsc_hz": 1, "routers": [{"router_key": 1}, {"router_key": 1}]}"#.to_string(),
            "routers[1].router_key: router 1 is listed twice",
        ),
        (
            router(r#"{"network_key": 0, "port_key": 1}"#),
            "routers[0].ports[0].network_key: must be non-zero",
        ),
        (
            router(r#"{"network_key": 1, "port_key": 0}"#),
            "routers[0].ports[0].port_key: must be non-zero",
        ),
        (
            router(r#"{"network_key": 1, "port_key": 5}, {"network_key": 2, "port_key": 5}"#),
            "routers[0].ports[1].port_key: port 5 is listed twice (routers 1 and 1)",
        ),
        (
            router(r#"{"network_key": 1, "port_key": 5}, {"network_key": 1, "port_key": 6}"#),
            "routers[0].ports[1].network_key: router 1 has two ports in network 1",
        ),
        (
            router(r#"{"network_key": 1, "port_key": 5, "firewall_group": 8}"#),
            "routers[0].ports[0].firewall_group: group 8 is not in `groups`",
        ),
        (
            r#"{"tsc_hz": 1, "groups": [{"key": 0}]}"#.to_string(),
            "groups[0].key: must be non-zero",
        ),
        (
            r#"{"tsc_hz": 1, "groups": [{"key": 3}, {"key": 3}]}"#.to_string(),
            "groups[1].key: group 3 is listed twice",
        ),
        (
            r#"{"tsc_hz": 0}"#.to_string(),
            "tsc_hz: must be non-zero (omit it to measure the TSC)",
        ),
        (
            r#"{"tsc_hz": 1, "reject_rate": {"per_sec": 1, "burst": 0}}"#.to_string(),
            "reject_rate.burst: must be at least 1 when per_sec > 0",
        ),
        (
            r#"{"tsc_hz": 1, "conntrack": {"capacity": 0}}"#.to_string(),
            "conntrack.capacity: 0 is out of range (1..=16777216)",
        ),
        (
            r#"{"tsc_hz": 1, "conntrack": {"idle_secs": 0}}"#.to_string(),
            "conntrack.idle_secs: must be at least 1",
        ),
    ];
    for (json, want) in cases {
        assert_eq!(build(&json).unwrap_err(), want, "{json}");
    }
}
