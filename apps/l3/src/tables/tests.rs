//! Tables: what a good config resolves to, and the error each bad one names.

use super::*;
use serde_json::{json, Value};

/// Router 7: networks 1 and 2 (dual stack) and transit network 3 with two
/// next hops; router 8 on network 4, IPv4 only.
pub(crate) fn base() -> Value {
    json!({
        "tsc_hz": 1000,
        "routers": [
            {"router_key": 7,
             "ports": [
                {"port_key": 11, "network_key": 1, "mac": "fa:16:3e:00:01:01", "ip": "10.0.1.1", "prefix_len": 24},
                {"port_key": 11, "network_key": 1, "mac": "fa:16:3e:00:01:01", "ip": "2001:db8:1::1", "prefix_len": 64},
                {"port_key": 12, "network_key": 2, "mac": "fa:16:3e:00:02:01", "ip": "10.0.2.1", "prefix_len": 24},
                {"port_key": 12, "network_key": 2, "mac": "fa:16:3e:00:02:01", "ip": "2001:db8:2::1", "prefix_len": 64},
                {"port_key": 13, "network_key": 3, "mac": "fa:16:3e:00:03:01", "ip": "10.0.3.1", "prefix_len": 24}
             ],
             "routes": [
                {"destination": "172.16.0.0/16", "nexthop": "10.0.3.254"},
                {"destination": "172.16.5.0/24", "nexthop": "10.0.3.253"},
                {"destination": "192.168.0.0/16", "nexthop": "10.0.3.250"},
                {"destination": "2001:db8:99::/48", "nexthop": "2001:db8:2::99"}
             ]},
            {"router_key": 8,
             "ports": [
                {"port_key": 21, "network_key": 4, "mac": "fa:16:3e:00:04:01", "ip": "10.0.4.1", "prefix_len": 24}
             ]}
        ],
        "networks": [
            {"network_key": 1, "ports": [
                {"port_key": 5, "mac": "fa:16:3e:00:00:05", "ips": ["10.0.1.5", "2001:db8:1::5"]},
                {"port_key": 11, "mac": "fa:16:3e:00:01:01", "ips": ["10.0.1.1"]}
            ]},
            {"network_key": 2, "ports": [
                {"port_key": 6, "mac": "fa:16:3e:00:00:06", "ips": ["10.0.2.6", "2001:db8:2::6"],
                 "allowed_address_pairs": [{"ip": "10.0.2.100", "mac": "fa:16:3e:00:00:99"},
                                           {"ip": "10.0.2.7"}]},
                {"port_key": 10, "mac": "fa:16:3e:00:00:10", "ips": ["2001:db8:2::99"],
                 "allowed_address_pairs": [{"ip": "10.0.2.100"}, {"ip": "10.0.2.6"}]}
            ]},
            {"network_key": 3, "ports": [
                {"port_key": 8, "mac": "fa:16:3e:00:00:08", "ips": ["10.0.3.254"]},
                {"port_key": 9, "mac": "fa:16:3e:00:00:09", "ips": ["10.0.3.253"]}
            ]},
            {"network_key": 4, "ports": [
                {"port_key": 31, "mac": "fa:16:3e:00:00:31", "ips": ["10.0.4.5"]}
            ]}
        ]
    })
}

fn build(v: &Value) -> Result<L3Tables, String> {
    let cfg: L3Config = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    L3Tables::build(&cfg)
}

fn ip4(s: &str) -> u32 {
    u32::from(s.parse::<Ipv4Addr>().unwrap())
}

fn ip6(s: &str) -> u128 {
    u128::from(s.parse::<Ipv6Addr>().unwrap())
}

fn mac(s: &str) -> EthernetAddress {
    s.parse().unwrap()
}

fn host(m: &str, port_key: u32) -> Option<Host> {
    Some(Host {
        mac: mac(m),
        port_key,
    })
}

#[test]
fn resolves_routers_routes_and_hosts() {
    let t = build(&base()).unwrap();
    assert_ne!(t.generation, 0);
    assert_eq!(t.router_ports.get(11), Some(7));
    assert_eq!(t.router_ports.get(13), Some(7));
    assert_eq!(t.router_ports.get(21), Some(8));
    assert_eq!(t.router_ports.get(5), None);
    let (i, r) = t.router(7).unwrap();
    assert_eq!((i, r.key), (0, 7));
    assert!(t.router(9).is_none());
    assert!(r.is_local_v4(ip4("10.0.2.1")) && !r.is_local_v4(ip4("10.0.2.6")));
    assert!(r.is_local_v6(ip6("2001:db8:1::1")) && !r.is_local_v6(ip6("2001:db8:1::5")));

    // Hosts: fixed IPs, router interfaces, pairs (with their own MAC or the port's).
    assert_eq!(t.host_v4(1, ip4("10.0.1.5")), host("fa:16:3e:00:00:05", 5));
    assert_eq!(
        t.host_v6(1, ip6("2001:db8:1::5")),
        host("fa:16:3e:00:00:05", 5)
    );
    assert_eq!(t.host_v4(1, ip4("10.0.1.1")), host("fa:16:3e:00:01:01", 11));
    assert_eq!(
        t.host_v4(2, ip4("10.0.2.100")),
        host("fa:16:3e:00:00:99", 6)
    );
    assert_eq!(t.host_v4(2, ip4("10.0.2.7")), host("fa:16:3e:00:00:06", 6));
    assert_eq!(
        t.host_v4(2, ip4("10.0.2.6")),
        host("fa:16:3e:00:00:06", 6),
        "a pair never takes a fixed IP"
    );
    assert_eq!(t.host_v4(1, ip4("10.0.2.6")), None, "hosts are per network");

    // Routes: connected and extra, longest prefix first.
    let r4 = |a: &str| r.route_v4(ip4(a)).copied();
    let c = r4("10.0.2.77").unwrap();
    assert_eq!(
        (c.prefix.to_string(), c.network_key, c.hop),
        ("10.0.2.0/24".into(), 2, Hop::Connected)
    );
    assert_eq!(c.mac, mac("fa:16:3e:00:02:01"));
    let via = |x: Route| match x.hop {
        Hop::Via { host, .. } => host.map(|h| h.port_key),
        Hop::Connected => panic!("connected"),
    };
    assert_eq!(via(r4("172.16.9.9").unwrap()), Some(8));
    assert_eq!(via(r4("172.16.5.9").unwrap()), Some(9), "longest prefix");
    assert_eq!(r4("172.16.5.9").unwrap().network_key, 3);
    assert_eq!(
        via(r4("192.168.1.1").unwrap()),
        None,
        "next hop not known yet"
    );
    assert!(r4("8.8.8.8").is_none());
    let v6 = r.route_v6(ip6("2001:db8:99:1::1")).copied().unwrap();
    assert_eq!((via(v6), v6.network_key), (Some(10), 2));
    assert!(r.route_v6(ip6("2001:db8:77::1")).is_none());

    // Rate limits in cycles (tsc_hz 1000, Dragonflow's 3/s, burst 3).
    let l = Limit {
        per_token: 333,
        capacity: 999,
    };
    assert_eq!(t.limits, [l, l]);

    let d = t.describe();
    assert_eq!(d["routers"][0]["ports"][1]["ip"], "2001:db8:1::1/64");
    assert_eq!(d["routers"][0]["routes"][6]["destination"], "172.16.5.0/24");
    assert_eq!(d["routers"][0]["routes"][6]["next_hop_port_key"], 9);
    assert_eq!(
        d["routers"][0]["routes"][7]["next_hop_port_key"],
        Value::Null
    );
    assert_eq!(
        d["hosts"][0],
        json!({"network_key": 1, "ip": "10.0.1.1", "mac": "fa:16:3e:00:01:01", "port_key": 11})
    );
    assert_ne!(build(&base()).unwrap().generation, t.generation);
}

#[test]
fn icmp_source_is_the_ingress_interface() {
    let t = build(&base()).unwrap();
    let (_, r) = t.router(7).unwrap();
    let a = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(r.source_for(1, a("10.0.1.5")), Some(a("10.0.1.1")));
    assert_eq!(r.source_for(2, a("10.0.1.5")), Some(a("10.0.2.1")));
    assert_eq!(
        r.source_for(2, a("2001:db8:1::5")),
        Some(a("2001:db8:2::1"))
    );
    assert_eq!(
        r.source_for(3, a("2001:db8:3::5")),
        Some(a("2001:db8:1::1")),
        "no IPv6 address in network 3: any of the router's"
    );
    let (_, r8) = t.router(8).unwrap();
    assert_eq!(r8.source_for(4, a("2001:db8:4::5")), None);
}

#[test]
fn an_extra_route_for_a_connected_subnet_wins() {
    let mut v = base();
    v["routers"][0]["routes"] = json!([{"destination": "10.0.2.0/24", "nexthop": "10.0.3.254"}]);
    let t = build(&v).unwrap();
    let (_, r) = t.router(7).unwrap();
    let x = r.route_v4(ip4("10.0.2.6")).unwrap();
    assert!(matches!(x.hop, Hop::Via { .. }), "{x:?}");
}

#[test]
fn rates_and_unlimited() {
    let mut v = base();
    v["time_exceeded_rate"] = json!({"per_sec": 0});
    v["unreachable_rate"] = json!({"per_sec": 10, "burst": 5});
    let t = build(&v).unwrap();
    assert_eq!(t.limits[TIME_EXCEEDED], Limit::default());
    assert_eq!(
        t.limits[UNREACHABLE],
        Limit {
            per_token: 100,
            capacity: 500
        }
    );
    assert!(L3Tables::build(&L3Config::default()).is_ok());
}

/// A change to the base config.
type Edit = Box<dyn FnOnce(&mut Value)>;

/// Adds an interface to router 7.
fn push(v: &mut Value, port: Value) {
    if let Some(a) = v["routers"][0]["ports"].as_array_mut() {
        a.push(port);
    }
}

#[test]
fn bad_configs_name_the_field() {
    let port = |ip: &str, len: u8| json!({"port_key": 14, "network_key": 5, "mac": "fa:16:3e:00:05:01", "ip": ip, "prefix_len": len});
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| v["routers"][1]["router_key"] = json!(7)),
            "routers[1]: router key 7 is listed twice (also routers[0])",
        ),
        (
            Box::new(|v| v["routers"][1]["router_key"] = json!(0)),
            "routers[1].router_key: must be non-zero",
        ),
        (
            Box::new(|v| v["routers"][1]["ports"][0]["port_key"] = json!(12)),
            "routers[1].ports[0].port_key: 12 is already an interface of router 7 (routers[0].ports[2])",
        ),
        (
            Box::new(|v| v["routers"][0]["ports"][1]["network_key"] = json!(9)),
            "routers[0].ports[1]: port key 11 is listed twice with another network or MAC (also routers[0].ports[0])",
        ),
        (
            Box::new(move |v| push(v, port("10.0.5.0", 24))),
            "routers[0].ports[5].ip: 10.0.5.0 is not a host address (it is the network address of 10.0.5.0/24)",
        ),
        (
            Box::new(move |v| push(v, port("10.0.5.255", 24))),
            "routers[0].ports[5].ip: 10.0.5.255 is not a host address (it is the broadcast address of 10.0.5.0/24)",
        ),
        (
            Box::new(move |v| push(v, port("224.0.0.1", 4))),
            "routers[0].ports[5].ip: 224.0.0.1 is not a host address (multicast)",
        ),
        (
            Box::new(move |v| push(v, port("2001:db8:5::", 64))),
            "routers[0].ports[5].ip: 2001:db8:5:: is not a host address (it is the subnet-router anycast address of 2001:db8:5::/64)",
        ),
        (
            Box::new(move |v| push(v, port("fe80::1", 64))),
            "routers[0].ports[5].ip: fe80::1 is link-local; a router interface needs a global or unique-local address",
        ),
        (
            Box::new(move |v| push(v, port("10.0.5.1", 33))),
            "routers[0].ports[5].prefix_len: 33 is longer than an address of 10.0.5.1's family (32 bits)",
        ),
        (
            Box::new(move |v| push(v, port("10.0.5.1/24", 24))),
            "routers[0].ports[5].ip: `10.0.5.1/24` is a CIDR; list host addresses",
        ),
        (
            Box::new(move |v| push(v, port("10.0.0.1", 16))),
            "routers[0].ports[5]: subnet 10.0.0.0/16 overlaps 10.0.1.0/24 (routers[0].ports[0]); a router has one interface per subnet",
        ),
        (
            Box::new(|v| v["routers"][0]["ports"][0]["mac"] = json!("01:00:5e:00:00:01")),
            "routers[0].ports[0].mac: MAC 01:00:5e:00:00:01 is not a unicast address",
        ),
        (
            Box::new(|v| {
                v["routers"][1]["ports"][0]["network_key"] = json!(1);
                v["routers"][1]["ports"][0]["ip"] = json!("10.0.1.1");
            }),
            "routers[1].ports[0].ip: 10.0.1.1 is already the address of port 11 in network 1 (router 7)",
        ),
        (
            Box::new(|v| v["routers"][0]["routes"][0]["nexthop"] = json!("10.9.9.9")),
            "routers[0].routes[0].nexthop: 10.9.9.9 is on no interface subnet of router 7",
        ),
        (
            Box::new(|v| v["routers"][0]["routes"][0]["nexthop"] = json!("10.0.2.1")),
            "routers[0].routes[0].nexthop: 10.0.2.1 is router 7's own address",
        ),
        (
            Box::new(|v| v["routers"][0]["routes"][0]["nexthop"] = json!("2001:db8:2::5")),
            "routers[0].routes[0].nexthop: 2001:db8:2::5 and the destination 172.16.0.0/16 are of different families",
        ),
        (
            Box::new(|v| v["routers"][0]["routes"][1]["destination"] = json!("172.16.0.0/16")),
            "routers[0].routes[1].destination: 172.16.0.0/16 is listed twice (also routers[0].routes[0])",
        ),
        (
            Box::new(|v| v["routers"][0]["routes"][0]["destination"] = json!("172.16.1.0/16")),
            "routers[0].routes[0].destination: 172.16.1.0/16 has host bits set (did you mean 172.16.0.0/16?)",
        ),
        (
            Box::new(|v| v["routers"][0]["routes"][0]["destination"] = json!("172.16.0.0")),
            "routers[0].routes[0].destination: `172.16.0.0` is not an IP prefix (expected e.g. 10.1.0.0/16 or 2001:db8:1::/48)",
        ),
        (
            Box::new(|v| v["networks"][1]["network_key"] = json!(1)),
            "networks[1]: network key 1 is listed twice (also networks[0])",
        ),
        (
            Box::new(|v| v["networks"][1]["ports"][1]["port_key"] = json!(5)),
            "networks[1].ports[1]: port key 5 is listed twice (also networks[0].ports[0])",
        ),
        (
            Box::new(|v| v["networks"][1]["ports"][1]["ips"] = json!(["10.0.2.6"])),
            "networks[1].ports[1].ips[0]: 10.0.2.6 is already the address of port 6 in network 2",
        ),
        (
            Box::new(|v| v["networks"][1]["ports"][1]["ips"] = json!(["10.0.2.1"])),
            "networks[1].ports[1].ips[0]: 10.0.2.1 is already the address of port 12 (router 7's interface) in network 2",
        ),
        (
            Box::new(|v| v["networks"][1]["ports"][1]["ips"] = json!(["255.255.255.255"])),
            "networks[1].ports[1].ips[0]: 255.255.255.255 is not a host address (broadcast or reserved (240.0.0.0/4))",
        ),
        (
            Box::new(|v| v["networks"][1]["ports"][0]["allowed_address_pairs"][0]["ip"] = json!("10.0.2.0/24")),
            "networks[1].ports[0].allowed_address_pairs[0].ip: `10.0.2.0/24` is a CIDR; list host addresses",
        ),
        (
            Box::new(|v| v["networks"][1]["ports"][0]["allowed_address_pairs"][0]["mac"] = json!("x")),
            "networks[1].ports[0].allowed_address_pairs[0].mac: `x` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)",
        ),
        (
            Box::new(|v| v["networks"][0]["ports"][0]["port_key"] = json!(0)),
            "networks[0].ports[0].port_key: must be non-zero",
        ),
        (
            Box::new(|v| v["tsc_hz"] = json!(0)),
            "tsc_hz: must be non-zero (omit it to measure the TSC)",
        ),
        (
            Box::new(|v| v["unreachable_rate"] = json!({"per_sec": 3, "burst": 0})),
            "unreachable_rate.burst: must be at least 1 when per_sec > 0",
        ),
    ];
    for (edit, want) in cases {
        let mut v = base();
        edit(&mut v);
        assert_eq!(build(&v).unwrap_err(), want);
    }
}

#[test]
fn unknown_fields_are_refused() {
    let mut v = base();
    v["routers"][0]["ports"][0]["cidr"] = json!("10.0.1.0/24");
    let e = build(&v).unwrap_err();
    assert!(e.contains("unknown field `cidr`"), "{e}");
}
