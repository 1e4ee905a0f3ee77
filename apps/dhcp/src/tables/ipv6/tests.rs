//! IPv6 tables: what a good config resolves to, and the error each bad one
//! names.

use std::net::Ipv6Addr;

use serde_json::{json, Value};

use super::*;
use crate::config::DhcpConfig;

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn base() -> Value {
    json!({
        "tsc_hz": 1000,
        "domain_name": "openstacklocal",
        "lease_time": 600,
        "networks": [
            {"network_key": 1, "mtu": 1450, "subnets": [{"cidr": "10.0.0.0/24"}],
             "ports": [{"port_key": 5, "mac": "fa:16:3e:00:00:05", "ip": "10.0.0.5"},
                       {"port_key": 6, "mac": "fa:16:3e:00:00:06", "ip": "10.0.0.6"}]}
        ],
        "ipv6_networks": [{
            "network_key": 1,
            "router": {"mac": "fa:16:3e:00:00:01", "link_local": "fe80::f816:3eff:fe00:1"},
            "server_mac": "fa:16:3e:00:00:02",
            "subnets": [
                {"cidr": "2001:db8:1::/64", "ra_mode": "slaac", "address_mode": "slaac"},
                {"cidr": "2001:db8:2::/64", "ra_mode": "dhcpv6-stateful",
                 "address_mode": "dhcpv6-stateful", "dns_nameservers": ["2001:db8::53"]},
                {"cidr": "2001:db8:3::/64", "address_mode": "dhcpv6-stateless",
                 "dns_nameservers": ["2001:db8::53", "2001:db8::54"]},
                {"cidr": "2001:db8:4::/64"}
            ],
            "ports": [
                {"port_key": 5, "ips": ["2001:db8:1::5", "2001:db8:2::5"]},
                {"port_key": 9, "ips": ["2001:db8:2::9", "2001:db8:4::9"]}
            ]
        }]
    })
}

fn build(v: &Value) -> Result<DhcpTables, String> {
    let cfg: DhcpConfig = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    DhcpTables::build(&cfg)
}

fn err(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = base();
    edit(&mut v);
    build(&v).unwrap_err()
}

#[test]
fn resolves_the_advertisement_the_server_and_each_port() {
    let t = build(&base()).unwrap();
    let n = t.v6.net(1).unwrap();
    let ra = n.ra.unwrap();
    assert_eq!(ra.src, ip("fe80::f816:3eff:fe00:1"));
    assert_eq!((ra.managed, ra.other), (true, true), "a stateful subnet");
    assert_eq!((ra.lifetime, ra.mtu), (1800, Some(1450)));
    let p: Vec<_> = ra
        .prefixes
        .iter()
        .map(|p| (p.prefix, p.prefix_len, p.on_link, p.autonomous))
        .collect();
    assert_eq!(
        p,
        vec![
            (ip("2001:db8:1::"), 64, true, true),
            (ip("2001:db8:2::"), 64, true, false)
        ],
        "subnets without ra_mode are not advertised; stateful ones without A"
    );
    assert!(ra
        .prefixes
        .iter()
        .all(|p| (p.valid_lifetime, p.preferred_lifetime) == (86_400, 14_400)));

    let s = n.server.unwrap();
    assert_eq!(s.ip, ip("fe80::f816:3eff:fe00:2"), "EUI-64 of server_mac");
    assert_eq!(s.duid, [0, 3, 0, 1, 0xfa, 0x16, 0x3e, 0, 0, 2]);
    assert!(n.dhcp);
    assert_eq!(
        n.dns.iter().collect::<Vec<_>>(),
        vec![ip("2001:db8::53"), ip("2001:db8::54")],
        "the DHCPv6 subnets' servers, without repeats"
    );
    assert_eq!(n.domain.as_deref(), Some(&b"\x0eopenstacklocal\x00"[..]));
    assert_eq!((n.lease, n.on_link.len()), (600, 4));

    let p5 = t.v6.port(5, 1).unwrap();
    assert_eq!(
        p5.addrs.iter().collect::<Vec<_>>(),
        vec![ip("2001:db8:2::5")],
        "stateful only"
    );
    assert_eq!(
        p5.bucket as usize,
        t.port(5).unwrap(),
        "shares its IPv4 bucket"
    );
    let p6 = t.v6.port(6, 1).unwrap();
    assert!(
        p6.addrs.is_empty(),
        "an IPv4-only port of the network is a client too"
    );
    let p9 = t.v6.port(9, 1).unwrap();
    assert_eq!(
        p9.addrs.iter().collect::<Vec<_>>(),
        vec![ip("2001:db8:2::9")]
    );
    assert_eq!(
        t.bucket_keys,
        vec![5, 6, 9],
        "an IPv6-only port's bucket comes last"
    );
    assert_eq!(t.bucket(9), Some(2));
    assert_eq!(p9.limit.per_token, 333, "the default rate limit");
    assert!(t.v6.port(9, 2).is_none(), "wrong network");

    let d = t.describe();
    assert_eq!(d["ipv6_networks"][0]["ra"]["mtu"], 1450);
    assert_eq!(d["ipv6_ports"][1]["ia_na"][0], "2001:db8:2::9");
    assert_eq!(
        d["ipv6_ports"][2]["port_key"], 6,
        "implicit clients come after the listed ones"
    );
}

#[test]
fn without_router_or_ra_mode_there_is_no_advertisement() {
    let mut v = base();
    v["ipv6_networks"][0]["router"] = Value::Null;
    let t = build(&v).unwrap();
    let n = t.v6.net(1).unwrap();
    assert!(n.ra.is_none());
    assert_eq!(n.server.unwrap().ip, ip("fe80::f816:3eff:fe00:2"));

    // No server_mac: the router serves DHCPv6.
    let mut v = base();
    v["ipv6_networks"][0]["server_mac"] = Value::Null;
    let t = build(&v).unwrap();
    let s = t.v6.net(1).unwrap().server.unwrap();
    assert_eq!((s.ip, s.mac.0[5]), (ip("fe80::f816:3eff:fe00:1"), 1));

    // Only SLAAC: flags off, no DHCPv6; no IPv4 entry: no MTU option.
    let t = build(&json!({"ipv6_networks": [{"network_key": 3,
        "router": {"mac": "fa:16:3e:00:00:01", "link_local": "fe80::1"},
        "subnets": [{"cidr": "2001:db8:1::/64", "ra_mode": "slaac"}, {"cidr": "2001:db8:9::/64"}]}]}))
    .unwrap();
    let n = t.v6.net(3).unwrap();
    let ra = n.ra.unwrap();
    assert_eq!(
        (ra.managed, ra.other, ra.mtu, ra.prefixes.len()),
        (false, false, None, 1)
    );
    assert!(!n.dhcp && n.server.is_none());

    // Neither server_mac nor router with a DHCPv6 subnet: no server.
    let t = build(&json!({"ipv6_networks": [{"network_key": 3,
        "subnets": [{"cidr": "2001:db8:1::/64", "address_mode": "dhcpv6-stateless"}]}]}))
    .unwrap();
    let n = t.v6.net(3).unwrap();
    assert!(n.dhcp && n.server.is_none() && n.ra.is_none());

    // A network MTU below the IPv6 minimum is not advertised.
    let mut v = base();
    v["networks"][0]["mtu"] = json!(1200);
    assert_eq!(build(&v).unwrap().v6.net(1).unwrap().ra.unwrap().mtu, None);
}

#[test]
fn configs_without_ipv6_still_parse() {
    let mut v = base();
    v.as_object_mut().unwrap().remove("ipv6_networks");
    let t = build(&v).unwrap();
    assert!(t.v6.ports.is_empty());
    assert_eq!(t.bucket_keys, vec![5, 6]);
    assert_eq!(
        link_local(EthernetAddress([0x02, 0, 0, 0, 0, 1])),
        ip("fe80::ff:fe00:1")
    );
}

/// An edit of the base config.
type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn bad_configs_name_the_field() {
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| v["ipv6_networks"][0]["network_key"] = json!(0)),
            "ipv6_networks[0].network_key: must be non-zero",
        ),
        (
            Box::new(|v| {
                let n = v["ipv6_networks"][0].clone();
                v["ipv6_networks"].as_array_mut().unwrap().push(n);
            }),
            "ipv6_networks[1]: network key 1 is listed twice (also ipv6_networks[0])",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["subnets"][0]["cidr"] = json!("2001:db8:1::1/64")),
            "ipv6_networks[0].subnets[0].cidr: 2001:db8:1::1/64 has host bits set (did you mean 2001:db8:1::/64?)",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["subnets"][3]["cidr"] = json!("2001:db8::/32")),
            "ipv6_networks[0].subnets[3].cidr: 2001:db8::/32 overlaps 2001:db8:1::/64 (subnets[0])",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["subnets"][0]["address_mode"] = json!("dhcpv6-stateful")),
            "ipv6_networks[0].subnets[0].address_mode: `dhcpv6-stateful` differs from ra_mode `slaac` (Neutron requires them equal when both are set)",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["subnets"][0]["cidr"] = json!("2001:db8:1::/80")),
            "ipv6_networks[0].subnets[0].cidr: 2001:db8:1::/80 must be a /64 for SLAAC (ra_mode or address_mode slaac or dhcpv6-stateless)",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["subnets"][1]["dns_nameservers"] = json!(["ff02::1"])),
            "ipv6_networks[0].subnets[1].dns_nameservers[0]: ff02::1 is not a unicast address",
        ),
        (
            Box::new(|v| {
                let many: Vec<String> = (1..=9).map(|i| format!("2001:db8::{i}")).collect();
                v["ipv6_networks"][0]["subnets"][2]["dns_nameservers"] = json!(many);
            }),
            "ipv6_networks[0].subnets[2].dns_nameservers: more than 8 DNS servers across the network's DHCPv6 subnets; a reply holds at most 8",
        ),
        (
            Box::new(|v| {
                let subnets: Vec<Value> = (1..=5)
                    .map(|i| json!({"cidr": format!("2001:db8:{i}::/64"), "ra_mode": "slaac"}))
                    .collect();
                v["ipv6_networks"][0]["subnets"] = json!(subnets);
                v["ipv6_networks"][0]["ports"] = json!([]);
            }),
            "ipv6_networks[0].subnets[4].ra_mode: more than 4 subnets with ra_mode set; an RA holds at most 4 prefixes",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["router"]["mac"] = json!("01:00:5e:00:00:01")),
            "ipv6_networks[0].router.mac: 01:00:5e:00:00:01 is not a unicast address",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["router"]["link_local"] = json!("2001:db8:1::1")),
            "ipv6_networks[0].router.link_local: 2001:db8:1::1 is not a link-local address (fe80::/10)",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["server_mac"] = json!("ff:ff:ff:ff:ff:ff")),
            "ipv6_networks[0].server_mac: ff:ff:ff:ff:ff:ff is not a unicast address",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["ports"][1]["port_key"] = json!(0)),
            "ipv6_networks[0].ports[1].port_key: must be non-zero",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["ports"][1]["port_key"] = json!(5)),
            "ipv6_networks[0].ports[1]: port key 5 is listed twice (also ipv6_networks[0].ports[0])",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["network_key"] = json!(2)),
            "ipv6_networks[0].ports[0].port_key: port 5 is a client of network 1 in `networks`, not of network 2",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["ports"][1]["ips"][0] = json!("2001:db8:7::9")),
            "ipv6_networks[0].ports[1].ips[0]: 2001:db8:7::9 is outside every IPv6 subnet of network 1",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["ports"][1]["ips"][0] = json!("2001:db8:2::")),
            "ipv6_networks[0].ports[1].ips[0]: 2001:db8:2:: is the subnet-router anycast address of 2001:db8:2::/64",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["ports"][1]["ips"][0] = json!("2001:db8:2::5")),
            "ipv6_networks[0].ports[1].ips[0]: 2001:db8:2::5 is also port 5's address",
        ),
        (
            Box::new(|v| {
                v["ipv6_networks"][0]["ports"][1]["ips"] =
                    json!(["2001:db8:2::a", "2001:db8:2::b", "2001:db8:2::c", "2001:db8:2::d", "2001:db8:2::e"]);
            }),
            "ipv6_networks[0].ports[1].ips: more than 4 addresses in dhcpv6-stateful subnets; an IA_NA here holds at most 4",
        ),
        (
            Box::new(|v| v["domain_name"] = json!("a..example")),
            "domain_name: `a..example` has a label of 0 bytes (each dot-separated label takes 1 to 63)",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["subnets"][0]["ra_mode"] = json!("slaacc")),
            "unknown variant `slaacc`",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["subnets"][0]["cidr"] = json!("10.0.0.0/24")),
            "`10.0.0.0/24` is not an IPv6 prefix (expected e.g. 2001:db8:1::/64)",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["server_mac"] = json!("nope")),
            "`nope` is not a MAC address",
        ),
        (
            Box::new(|v| v["ipv6_networks"][0]["mtu"] = json!(1500)),
            "unknown field `mtu`",
        ),
    ];
    for (edit, want) in cases {
        let e = err(edit);
        assert!(e.contains(want), "got: {e}\nwant: {want}");
    }
}
