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
    assert_eq!(
        t.time_exceeded,
        df_dp::ratelimit::Rate::per_sec(3, 3, 1_000_000_000),
        "time exceeded: 3/s, burst 3"
    );
    assert_eq!(t.time_exceeded.per_token, 333_333_333);

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

/// GOOD plus a `snat` section with `fields` (after the required ones).
fn with_snat(fields: &str) -> String {
    let snat = format!(
        r#""snat": {{"external_ip": "198.18.0.2", "mac": "fa:16:3e:00:00:99", "port_key": 99,
            "external_network_key": 100{fields}}},
    "floating_ips":"#
    );
    GOOD.replacen(r#""floating_ips":"#, &snat, 1)
}

#[test]
fn snat_builds_with_defaults() {
    let t = build(&with_snat(r#", "snat_networks": [1, 2]"#)).unwrap();
    let s = t.snat().unwrap();
    assert_eq!(s.own.ip, Ipv4Addr::new(198, 18, 0, 2));
    assert_eq!(s.own.port_key, 99);
    assert_eq!(s.own.ext.key, 100);
    assert_eq!(s.map.range(), (32768, 60999));
    assert!(s.networks.contains(&1) && s.networks.contains(&2) && !s.networks.contains(&3));
    assert_eq!(
        [
            s.timeout(Class::Tcp),
            s.timeout(Class::Udp),
            s.timeout(Class::Icmp)
        ],
        [600_000_000_000, 60_000_000_000, 30_000_000_000]
    );
    let d = t.describe();
    assert_eq!(d["snat"]["external_ip"], "198.18.0.2");
    assert_eq!(d["snat"]["snat_networks"], serde_json::json!([1, 2]));
    assert_eq!(d["snat"]["port_max"], 60999);
    assert_eq!(
        build(GOOD).unwrap().describe()["snat"],
        serde_json::Value::Null
    );

    // The TSC is measured for SNAT alone too.
    let mut cfg: NatConfig = serde_json::from_str(&with_snat("")).unwrap();
    cfg.floating_ips.clear();
    cfg.tsc_hz = None;
    let t = NatTables::build(&cfg, || 2_000_000_000).unwrap();
    assert_eq!(t.snat().unwrap().timeout(Class::Icmp), 60_000_000_000);
}

#[test]
fn snat_map_survives_a_rebuild_unless_address_or_range_change() {
    let cfg = |f: &str| -> NatConfig { serde_json::from_str(&with_snat(f)).unwrap() };
    let a = NatTables::build(&cfg(""), || 0).unwrap();
    let prev = a.snat();
    let same = NatTables::build_reusing(
        &cfg(r#", "snat_networks": [4], "udp_timeout_secs": 5"#),
        || 0,
        prev,
    )
    .unwrap();
    assert!(Arc::ptr_eq(&same.snat().unwrap().map, &prev.unwrap().map));
    let range = NatTables::build_reusing(&cfg(r#", "port_max": 40000"#), || 0, prev).unwrap();
    assert!(!Arc::ptr_eq(&range.snat().unwrap().map, &prev.unwrap().map));
    let mut moved = cfg("");
    if let Some(s) = moved.snat.as_mut() {
        s.external_ip = Ipv4Addr::new(198, 18, 0, 3);
    }
    let moved = NatTables::build_reusing(&moved, || 0, prev).unwrap();
    assert!(!Arc::ptr_eq(&moved.snat().unwrap().map, &prev.unwrap().map));
}

#[test]
fn snat_describes_live_mappings() {
    let t = build(&with_snat(r#", "port_min": 1000, "port_max": 1001"#)).unwrap();
    let s = t.snat().unwrap();
    let m = crate::snat::Mapping {
        flow: crate::snat::Flow {
            vm_ip: Ipv4Addr::new(10, 0, 0, 7),
            vm_port: 5000,
            remote_ip: Ipv4Addr::new(8, 8, 8, 8),
            remote_port: 53,
            port_key: 7,
            network_key: 1,
        },
        vm_mac: EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 7]),
        router_mac: EthernetAddress([0xfa, 0x16, 0x3e, 0, 0, 1]),
    };
    let udp = s.timeout(Class::Udp);
    let port = s.map.acquire(Class::Udp, &m, 100, udp).unwrap();
    let d = t.describe_mappings(150);
    assert_eq!(d["count"], 1);
    assert_eq!(
        d["mappings"][0],
        serde_json::json!({
            "protocol": "udp", "external_port": port, "vm_ip": "10.0.0.7", "vm_port": 5000,
            "remote_ip": "8.8.8.8", "remote_port": 53, "port_key": 7, "network_key": 1,
            "vm_mac": "fa:16:3e:00:00:07", "router_mac": "fa:16:3e:00:00:01", "idle_tsc": 50,
        })
    );
    assert_eq!(t.describe_mappings(101 + udp)["count"], 0, "expired");
    assert_eq!(
        build(GOOD).unwrap().describe_mappings(0),
        serde_json::Value::Null
    );
}

#[test]
fn snat_errors_name_the_field() {
    let cases: Vec<(String, &str)> = vec![
        (
            with_snat("").replacen(
                r#""external_network_key": 100}"#,
                r#""external_network_key": 7}"#,
                1,
            ),
            "snat.external_network_key: 7 is not in external_networks",
        ),
        (
            with_snat("").replacen(
                r#""external_network_key": 100}"#,
                r#""external_network_key": 0}"#,
                1,
            ),
            "snat.external_network_key: must not be 0",
        ),
        (
            with_snat("").replacen(r#""port_key": 99"#, r#""port_key": 0"#, 1),
            "snat.port_key: must not be 0",
        ),
        (
            with_snat("").replacen(r#""port_key": 99"#, r#""port_key": 60"#, 1),
            "snat.port_key: 60 is also floating_ips[1].floating_port_key",
        ),
        (
            with_snat("").replacen(
                r#""external_ip": "198.18.0.2""#,
                r#""external_ip": "198.18.0.10""#,
                1,
            ),
            "snat.external_ip: 198.18.0.10 is also floating_ips[0].floating_ip",
        ),
        (
            with_snat("").replacen(
                r#""external_ip": "198.18.0.2""#,
                r#""external_ip": "255.255.255.255""#,
                1,
            ),
            "snat.external_ip: 255.255.255.255 is not a unicast IPv4 address",
        ),
        (
            with_snat("").replacen(
                r#""mac": "fa:16:3e:00:00:99""#,
                r#""mac": "33:33:00:00:00:01""#,
                1,
            ),
            "snat.mac: 33:33:00:00:00:01 is not a unicast MAC address",
        ),
        (
            with_snat(r#", "port_min": 61000"#),
            "snat.port_min: 61000 is above port_max 60999",
        ),
        (
            with_snat(r#", "port_min": 0"#),
            "snat.port_min: must not be 0",
        ),
        (
            with_snat(r#", "tcp_timeout_secs": 0"#),
            "snat.tcp_timeout_secs: must not be 0",
        ),
        (
            with_snat(r#", "icmp_timeout_secs": 0"#),
            "snat.icmp_timeout_secs: must not be 0",
        ),
        (
            with_snat(r#", "snat_networks": [1, 0]"#),
            "snat.snat_networks[1]: must not be 0",
        ),
        (
            with_snat(r#", "snat_networks": [1, 2, 1]"#),
            "snat.snat_networks[2]: 1 is listed twice",
        ),
    ];
    for (json, want) in cases {
        assert_eq!(build(&json).unwrap_err(), want, "{json}");
    }
    let e = build(&with_snat(r#", "ports": 1"#)).unwrap_err();
    assert!(e.starts_with("unknown field `ports`"), "{e}");
}
