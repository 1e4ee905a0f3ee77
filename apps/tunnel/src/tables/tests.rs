//! Table tests: good configs, lookups, templates, and every error pinned.

use super::*;
use df_wire::ChecksumPolicy;

/// Parses a template back: (IPv4 repr, UDP dst port).
fn parse_template(t: &[u8; ENCAP_LEN]) -> (Ipv4Repr, u16) {
    let ip = Ipv4Repr::parse(
        &Ipv4Packet::new_unchecked(&t[IP_OFF..UDP_OFF]),
        ChecksumPolicy::Verify,
    )
    .unwrap();
    (
        ip,
        UdpPacket::new_unchecked(&t[UDP_OFF..TUN_OFF]).dst_port(),
    )
}

const GOOD: &str = r#"{
    "local": {"port": 1, "ip": "172.16.0.1", "mac": "52:54:00:00:00:01"},
    "chassis": [
        {"id": "h2", "ip": "172.16.0.2", "mac": "52:54:00:00:00:02"},
        {"id": "h3", "ip": "172.16.0.3", "mac": "52:54:00:00:00:03"}],
    "networks": [
        {"network_key": 10, "vni": 100, "type": "geneve", "flood_key": 900, "chassis": [0, 1]},
        {"network_key": 11, "vni": 100, "type": "vxlan", "flood_key": 901, "chassis": [1]},
        {"network_key": 12, "vni": 16777215, "flood_key": 902}],
    "ports": [
        {"port_key": 5, "network_key": 10, "chassis": 0},
        {"port_key": 6, "network_key": 11, "chassis": 1}]
}"#;

fn build(json: &str) -> Result<TunnelTables, String> {
    TunnelTables::build(&serde_json::from_str(json).map_err(|e| e.to_string())?)
}

#[test]
fn builds_and_looks_up() {
    let t = build(GOOD).unwrap();
    assert_eq!(t.network(TunnelKind::Geneve, 100), Some(10));
    assert_eq!(t.network(TunnelKind::Vxlan, 100), Some(11));
    assert_eq!(
        t.network(TunnelKind::Geneve, 16_777_215),
        Some(12),
        "type defaults to geneve"
    );
    assert_eq!(t.network(TunnelKind::Vxlan, 16_777_215), None);
    assert_eq!(t.network(TunnelKind::Geneve, 101), None);
    assert_eq!(t.network(TunnelKind::Geneve, 100 + VNI_LIMIT), None);
    assert_eq!(t.destination(5), Some((10, vec!["h2"])));
    assert_eq!(t.destination(6), Some((11, vec!["h3"])));
    assert_eq!(t.destination(900), Some((10, vec!["h2", "h3"])));
    assert_eq!(t.destination(902), Some((12, vec![])));
    assert_eq!(t.destination(7), None);
    assert_eq!(t.ttl, 64, "ttl defaults to 64");
    let d = t.describe();
    assert_eq!(d["local"]["ip"], "172.16.0.1");
    assert_eq!(d["networks"][0]["flood_to"][1], "h3");
    assert_eq!(d["networks"][1]["type"], "vxlan");
    assert_eq!(d["ports"][1]["chassis"], "h3");
}

#[test]
fn templates_hold_the_outer_headers() {
    let t = build(GOOD).unwrap();
    let h3 = &t.chassis[1];
    for (kind, port) in [(TunnelKind::Geneve, 6081), (TunnelKind::Vxlan, 4789)] {
        let tpl = &h3.templates[kind as usize];
        assert_eq!(
            &tpl[..14],
            &[0x52, 0x54, 0, 0, 0, 3, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00]
        );
        let (ip, dport) = parse_template(tpl);
        assert_eq!(dport, port);
        assert_eq!(ip.src_addr, Ipv4Addr::new(172, 16, 0, 1));
        assert_eq!(ip.dst_addr, Ipv4Addr::new(172, 16, 0, 3));
        assert_eq!((ip.ttl, ip.dont_frag, ip.payload_len), (64, true, 0));
    }
    assert_eq!(&h3.templates[0][TUN_OFF..], &[0, 0, 0x65, 0x58, 0, 0, 0, 0]);
    assert_eq!(&h3.templates[1][TUN_OFF..], &[0x08, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn no_local_end_is_allowed() {
    let t = build(r#"{"networks": [{"network_key": 1, "vni": 1, "flood_key": 2}]}"#).unwrap();
    assert!(t.local.is_none());
    assert_eq!(
        build("{}").unwrap().describe()["local"],
        serde_json::Value::Null
    );
}

#[test]
fn bad_configs_name_the_field() {
    const L: &str = r#""local": {"port": 1, "ip": "172.16.0.1", "mac": "52:54:00:00:00:01"}"#;
    const C: &str = r#""chassis": [{"id": "h2", "ip": "172.16.0.2", "mac": "52:54:00:00:00:02"},
                                   {"id": "h3", "ip": "172.16.0.3", "mac": "52:54:00:00:00:03"}]"#;
    const N: &str = r#""networks": [{"network_key": 10, "vni": 100, "flood_key": 900},
                                    {"network_key": 11, "vni": 100, "type": "vxlan", "flood_key": 901}]"#;
    let ports = |p: &str| format!("{{{L}, {C}, {N}, \"ports\": [{p}]}}");
    let nets = |n: &str| format!("{{{L}, {C}, \"networks\": [{n}]}}");
    let chassis = |c: &str| format!("{{{L}, \"chassis\": [{c}]}}");
    let cases = [
        (
            r#"{"local": {"port": 1, "ip": "172.16.0.1", "mac": "52:54:00:00:00:01", "ttl": 0}}"#.to_string(),
            "local.ttl: 0 is not a TTL (1..=255; 64 when omitted)",
        ),
        (
            r#"{"local": {"port": 1, "ip": "172.16.0.1", "mac": "01:00:5e:00:00:01"}}"#.to_string(),
            "local.mac: 01:00:5e:00:00:01 is not a unicast MAC address",
        ),
        (
            r#"{"local": {"port": 1, "ip": "0.0.0.0", "mac": "52:54:00:00:00:01"}}"#.to_string(),
            "local.ip: 0.0.0.0 is not a unicast IPv4 address",
        ),
        (
            chassis(r#"{"id": "", "ip": "172.16.0.2", "mac": "52:54:00:00:00:02"}"#),
            "chassis[0].id: must not be empty",
        ),
        (
            chassis(
                r#"{"id": "h2", "ip": "172.16.0.2", "mac": "52:54:00:00:00:02"},
                   {"id": "h2", "ip": "172.16.0.3", "mac": "52:54:00:00:00:03"}"#,
            ),
            "chassis[1].id: `h2` is listed twice (chassis[0] and chassis[1])",
        ),
        (
            chassis(
                r#"{"id": "h2", "ip": "172.16.0.2", "mac": "52:54:00:00:00:02"},
                   {"id": "h3", "ip": "172.16.0.2", "mac": "52:54:00:00:00:03"}"#,
            ),
            "chassis[1].ip: 172.16.0.2 is also chassis `h2`'s; each chassis has its own tunnel IP",
        ),
        (
            chassis(r#"{"id": "h2", "ip": "172.16.0.1", "mac": "52:54:00:00:00:02"}"#),
            "chassis[0].ip: 172.16.0.1 is the local tunnel IP (local.ip); list only other chassis",
        ),
        (
            chassis(r#"{"id": "h2", "ip": "224.0.0.1", "mac": "52:54:00:00:00:02"}"#),
            "chassis[0].ip: 224.0.0.1 is not a unicast IPv4 address",
        ),
        (
            chassis(r#"{"id": "h2", "ip": "172.16.0.2", "mac": "00:00:00:00:00:00"}"#),
            "chassis[0].mac: 00:00:00:00:00:00 is not a unicast MAC address",
        ),
        (
            nets(r#"{"network_key": 0, "vni": 1, "flood_key": 900}"#),
            "networks[0].network_key: must be non-zero",
        ),
        (
            nets(
                r#"{"network_key": 10, "vni": 1, "flood_key": 900},
                   {"network_key": 10, "vni": 2, "flood_key": 901}"#,
            ),
            "networks[1].network_key: 10 is listed twice (networks[0] and networks[1])",
        ),
        (
            nets(
                r#"{"network_key": 10, "vni": 1, "flood_key": 900},
                   {"network_key": 11, "vni": 16777216, "flood_key": 901}"#,
            ),
            "networks[1].vni: 16777216 is not a VNI (< 2^24)",
        ),
        (
            nets(
                r#"{"network_key": 10, "vni": 7, "type": "vxlan", "flood_key": 900},
                   {"network_key": 11, "vni": 7, "type": "vxlan", "flood_key": 901}"#,
            ),
            "networks[1].vni: vxlan VNI 7 is used twice (networks 10 and 11); a VNI names one network per encapsulation",
        ),
        (
            nets(r#"{"network_key": 10, "vni": 1, "flood_key": 0}"#),
            "networks[0].flood_key: must be non-zero",
        ),
        (
            nets(
                r#"{"network_key": 10, "vni": 1, "flood_key": 900},
                   {"network_key": 11, "vni": 2, "flood_key": 900}"#,
            ),
            "networks[1].flood_key: 900 is used twice (networks 10 and 11)",
        ),
        (
            nets(r#"{"network_key": 10, "vni": 1, "flood_key": 900, "chassis": [1, 2]}"#),
            "networks[0].chassis[1]: 2 is out of range (2 chassis)",
        ),
        (
            nets(r#"{"network_key": 10, "vni": 1, "flood_key": 900, "chassis": [1, 0, 1]}"#),
            "networks[0].chassis[2]: chassis 1 (`h3`) is listed twice; a flood sends one copy per chassis",
        ),
        (
            ports(r#"{"port_key": 0, "network_key": 10, "chassis": 0}"#),
            "ports[0].port_key: must be non-zero",
        ),
        (
            ports(r#"{"port_key": 5, "network_key": 12, "chassis": 0}"#),
            "ports[0].network_key: 12 is not one of `networks`",
        ),
        (
            ports(
                r#"{"port_key": 5, "network_key": 10, "chassis": 0},
                   {"port_key": 6, "network_key": 10, "chassis": 1},
                   {"port_key": 7, "network_key": 11, "chassis": 1},
                   {"port_key": 8, "network_key": 11, "chassis": 7}"#,
            ),
            "ports[3].chassis: 7 is out of range (2 chassis)",
        ),
        (
            ports(r#"{"port_key": 901, "network_key": 10, "chassis": 0}"#),
            "ports[0].port_key: 901 is network 11's flood_key; port keys and flood keys must differ",
        ),
        (
            ports(
                r#"{"port_key": 5, "network_key": 10, "chassis": 0},
                   {"port_key": 5, "network_key": 11, "chassis": 1}"#,
            ),
            "ports[1].port_key: 5 is listed twice (ports[0] and ports[1])",
        ),
    ];
    for (json, want) in cases {
        assert_eq!(build(&json).unwrap_err(), want, "{json}");
    }
    for (json, want) in [
        (r#"{"networks": [], "mtu": 1500}"#, "unknown field `mtu`"),
        (
            r#"{"networks": [{"network_key": 1, "vni": 1, "flood_key": 2, "type": "gre"}]}"#,
            "unknown variant `gre`",
        ),
        (
            r#"{"local": {"port": 1, "ip": "172.16.0.1", "mac": "nope"}}"#,
            "`nope` is not a MAC address",
        ),
        (
            r#"{"local": {"port": 1, "ip": "172.16.0", "mac": "52:54:00:00:00:01"}}"#,
            "invalid IPv4 address syntax",
        ),
    ] {
        let e = build(json).unwrap_err();
        assert!(e.contains(want), "{json}: {e}");
    }
}
