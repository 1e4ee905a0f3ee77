//! Table tests: a good config, lookups, CIDRs, and every error pinned.

use super::*;

pub(crate) const GOOD: &str = r#"{
    "tsc_hz": 1000000000,
    "external_networks": [
        {"network_key": 100, "cidr": "198.18.0.0/24", "gateway": "198.18.0.1"},
        {"network_key": 101, "cidr": "203.0.113.0/28"}],
    "floating_ips": [
        {"floating_ip": "198.18.0.10", "fixed_ip": "10.0.0.5", "port_key": 5, "network_key": 1,
         "mac": "fa:16:3e:00:00:05", "router_mac": "fa:16:3e:00:00:01",
         "floating_port_key": 50, "floating_mac": "fa:16:3e:00:00:50",
         "external_network_key": 100},
        {"floating_ip": "203.0.113.3", "fixed_ip": "10.0.0.6", "port_key": 6, "network_key": 1,
         "mac": "fa:16:3e:00:00:06", "router_mac": "fa:16:3e:00:00:01",
         "floating_port_key": 60, "floating_mac": "fa:16:3e:00:00:60",
         "external_network_key": 101}]
}"#;

fn build(json: &str) -> Result<NatTables, String> {
    let cfg: NatConfig = serde_json::from_str(json).map_err(|e| e.to_string())?;
    NatTables::build(&cfg, || 3_000_000_000)
}

fn ip(s: &str) -> u32 {
    u32::from(s.parse::<Ipv4Addr>().unwrap())
}

#[test]
fn builds_and_looks_up() {
    let t = build(GOOD).unwrap();
    let f = t.by_source(5, ip("10.0.0.5")).unwrap();
    assert_eq!(f.floating_ip, Ipv4Addr::new(198, 18, 0, 10));
    assert_eq!(f.ext.key, 100);
    assert_eq!(t.by_floating_port(50), Some(f));
    assert_eq!(t.by_source(5, ip("10.0.0.6")), None, "keyed by port and IP");
    assert_eq!(t.by_source(6, ip("10.0.0.5")), None);
    assert_eq!(t.by_floating_port(5), None);
    let g = t.by_floating_port(60).unwrap();
    assert_eq!(g.fixed_ip, Ipv4Addr::new(10, 0, 0, 6));
    assert_eq!(t.arp_interval, 100_000_000, "100 ms of the configured TSC");

    // Next hops: on-link, via gateway, none.
    assert_eq!(f.ext.next_hop(ip("198.18.0.77")), Some(ip("198.18.0.77")));
    assert_eq!(f.ext.next_hop(ip("8.8.8.8")), Some(ip("198.18.0.1")));
    assert_eq!(g.ext.next_hop(ip("203.0.113.15")), Some(ip("203.0.113.15")));
    assert_eq!(g.ext.next_hop(ip("203.0.113.16")), None);

    let d = t.describe();
    assert_eq!(d["external_networks"][0]["cidr"], "198.18.0.0/24");
    assert_eq!(d["external_networks"][0]["gateway"], "198.18.0.1");
    assert_eq!(
        d["external_networks"][1]["gateway"],
        serde_json::Value::Null
    );
    assert_eq!(d["floating_ips"][1]["floating_ip"], "203.0.113.3");
    assert_eq!(d["floating_ips"][0]["floating_mac"], "fa:16:3e:00:00:50");
}

#[test]
fn tsc_is_measured_only_when_needed() {
    let mut cfg: NatConfig = serde_json::from_str(GOOD).unwrap();
    cfg.tsc_hz = None;
    let t = NatTables::build(&cfg, || 2_000_000_000).unwrap();
    assert_eq!(t.arp_interval, 200_000_000);
    let empty = NatTables::build(&NatConfig::default(), || panic!("measured")).unwrap();
    assert_eq!(empty.arp_interval, 0);
    assert!(empty.fips.is_empty());
}

#[test]
fn cidrs() {
    assert_eq!(parse_cidr("0.0.0.0/0"), Ok((Ipv4Addr::UNSPECIFIED, 0)));
    assert_eq!(
        parse_cidr("192.0.2.7/32"),
        Ok((Ipv4Addr::new(192, 0, 2, 7), 32))
    );
    for bad in [
        "198.18.0.0",
        "198.18.0.0/33",
        "198.18.0/24",
        "x/24",
        "198.18.0.0/-1",
    ] {
        assert_eq!(
            parse_cidr(bad),
            Err(format!(
                "`{bad}` is not an IPv4 CIDR (expected e.g. 198.18.0.0/24)"
            ))
        );
    }
    assert_eq!(
        parse_cidr("198.18.0.5/24"),
        Err("`198.18.0.5/24` has host bits set (did you mean 198.18.0.0/24?)".into())
    );
}

/// GOOD with `from` replaced by `to` (which must occur).
fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn errors_name_the_field() {
    let fip1 = r#"{"floating_ip": "203.0.113.3", "fixed_ip": "10.0.0.6", "port_key": 6"#;
    let cases: Vec<(String, &str)> = vec![
        (
            with(r#""external_network_key": 101"#, r#""external_network_key": 9"#),
            "floating_ips[1].external_network_key: 9 is not in external_networks",
        ),
        (
            with(r#""floating_ip": "203.0.113.3""#, r#""floating_ip": "198.18.0.10""#),
            "floating_ips[1].floating_ip: 198.18.0.10 is listed twice (floating_ips[0] and floating_ips[1])",
        ),
        (
            with(r#""floating_port_key": 60"#, r#""floating_port_key": 50"#),
            "floating_ips[1].floating_port_key: 50 is listed twice (floating_ips[0] and floating_ips[1])",
        ),
        (
            with(fip1, r#"{"floating_ip": "203.0.113.3", "fixed_ip": "10.0.0.5", "port_key": 5"#),
            "floating_ips[1].fixed_ip: port 5 with fixed IP 10.0.0.5 already has a floating IP (floating_ips[0])",
        ),
        (
            with(r#""port_key": 6"#, r#""port_key": 0"#),
            "floating_ips[1].port_key: must not be 0",
        ),
        (
            with(r#""network_key": 1,"#, r#""network_key": 0,"#),
            "floating_ips[0].network_key: must not be 0",
        ),
        (
            with(r#""floating_port_key": 60"#, r#""floating_port_key": 0"#),
            "floating_ips[1].floating_port_key: must not be 0",
        ),
        (
            with(r#""external_network_key": 100"#, r#""external_network_key": 0"#),
            "floating_ips[0].external_network_key: must not be 0",
        ),
        (
            with(r#""mac": "fa:16:3e:00:00:05""#, r#""mac": "01:00:5e:00:00:05""#),
            "floating_ips[0].mac: 01:00:5e:00:00:05 is not a unicast MAC address",
        ),
        (
            with(r#""router_mac": "fa:16:3e:00:00:01""#, r#""router_mac": "00:00:00:00:00:00""#),
            "floating_ips[0].router_mac: 00:00:00:00:00:00 is not a unicast MAC address",
        ),
        (
            with(r#""floating_mac": "fa:16:3e:00:00:60""#, r#""floating_mac": "ff:ff:ff:ff:ff:ff""#),
            "floating_ips[1].floating_mac: ff:ff:ff:ff:ff:ff is not a unicast MAC address",
        ),
        (
            with(r#""floating_ip": "198.18.0.10""#, r#""floating_ip": "224.0.0.1""#),
            "floating_ips[0].floating_ip: 224.0.0.1 is not a unicast IPv4 address",
        ),
        (
            with(r#""fixed_ip": "10.0.0.5""#, r#""fixed_ip": "0.0.0.0""#),
            "floating_ips[0].fixed_ip: 0.0.0.0 is not a unicast IPv4 address",
        ),
        (
            with(r#""network_key": 101"#, r#""network_key": 100"#),
            "external_networks[1].network_key: 100 is listed twice (external_networks[0] and external_networks[1])",
        ),
        (
            with(r#""network_key": 100,"#, r#""network_key": 0,"#),
            "external_networks[0].network_key: must not be 0",
        ),
        (
            with(r#""cidr": "203.0.113.0/28""#, r#""cidr": "203.0.113.1/28""#),
            "external_networks[1].cidr: `203.0.113.1/28` has host bits set (did you mean 203.0.113.0/28?)",
        ),
        (
            with(r#""cidr": "203.0.113.0/28""#, r#""cidr": "2001:db8::/64""#),
            "external_networks[1].cidr: `2001:db8::/64` is not an IPv4 CIDR (expected e.g. 198.18.0.0/24)",
        ),
        (
            with(r#""gateway": "198.18.0.1""#, r#""gateway": "198.18.1.1""#),
            "external_networks[0].gateway: 198.18.1.1 is not a unicast address inside cidr 198.18.0.0/24",
        ),
        (
            with(r#""tsc_hz": 1000000000"#, r#""tsc_hz": 0"#),
            "tsc_hz: 0 is not a frequency (omit it to measure the TSC)",
        ),
    ];
    for (json, want) in cases {
        assert_eq!(build(&json).unwrap_err(), want, "{json}");
    }
}

#[test]
fn serde_rejects_unknown_fields_and_bad_macs() {
    let e = build(&with(r#""tsc_hz": 1000000000"#, r#""tsc": 1"#)).unwrap_err();
    assert!(e.starts_with("unknown field `tsc`"), "{e}");
    let e = build(&with(r#""gateway": "198.18.0.1""#, r#""gw": "198.18.0.1""#)).unwrap_err();
    assert!(e.starts_with("unknown field `gw`"), "{e}");
    let e = build(&with(r#""mac": "fa:16:3e:00:00:05""#, r#""mac": "fa:16""#)).unwrap_err();
    assert!(
        e.starts_with("`fa:16` is not a MAC address (expected six hex bytes"),
        "{e}"
    );
}
