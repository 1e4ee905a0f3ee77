//! Tables: what a good config resolves to, and the error each bad one names.

use super::*;
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "tsc_hz": 1000,
        "dns_nameservers": ["8.8.8.8"],
        "domain_name": "openstacklocal",
        "networks": [{
            "network_key": 1,
            "mtu": 1450,
            "dhcp_ports": [{"mac": "fa:16:3e:00:00:02", "ips": ["10.0.0.2", "10.1.0.2"]}],
            "subnets": [
                {"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1",
                 "host_routes": [{"destination": "172.16.0.0/16", "nexthop": "10.0.0.254"}]},
                {"cidr": "10.1.0.0/24", "dns_nameservers": ["10.1.0.53"], "lease_time": 600,
                 "domain_name": "b.example"}
            ],
            "ports": [
                {"port_key": 5, "mac": "fa:16:3e:00:00:05", "ip": "10.0.0.5"},
                {"port_key": 6, "mac": "fa:16:3e:00:00:06", "ip": "10.1.0.6",
                 "dhcp_options": [
                    {"tag": 3, "ips": ["10.1.0.254"]},
                    {"tag": 121, "routes": [{"destination": "192.168.7.9/24", "nexthop": "10.1.0.9"}]},
                    {"tag": 66, "text": "tftp.example"},
                    {"tag": 43, "hex": "01:04:c0:a8"}
                 ],
                 "siaddr": "10.1.0.99", "boot_file": "pxelinux.0",
                 "rate_limit": {"per_sec": 10, "burst": 5, "block_secs": 2}}
            ]
        }]
    })
}

fn build(v: &Value) -> Result<DhcpTables, String> {
    let cfg: DhcpConfig = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    DhcpTables::build(&cfg)
}

fn err(v: Value) -> String {
    build(&v).unwrap_err()
}

fn route(d: [u8; 4], p: u8, g: [u8; 4]) -> StaticRoute {
    StaticRoute {
        destination: Ipv4Addr::from(d),
        prefix_len: p,
        gateway: Ipv4Addr::from(g),
    }
}

#[test]
fn resolves_each_port_answer() {
    let t = build(&base()).unwrap();
    assert_ne!(t.generation, 0);
    let p5 = &t.ports[t.port(5).unwrap()];
    assert_eq!(p5.server.unwrap().ip, Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(p5.mask, Ipv4Addr::new(255, 255, 255, 0));
    assert_eq!(p5.router, Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(
        p5.dns.iter().collect::<Vec<_>>(),
        vec![Ipv4Addr::new(8, 8, 8, 8)]
    );
    assert_eq!(p5.domain.as_deref(), Some(&b"openstacklocal"[..]));
    assert_eq!((p5.mtu, p5.lease), (Some(1450), 86_400));
    assert_eq!(
        p5.routes.iter().collect::<Vec<_>>(),
        vec![
            route([172, 16, 0, 0], 16, [10, 0, 0, 254]),
            route([0, 0, 0, 0], 0, [10, 0, 0, 1])
        ]
    );
    assert_eq!(
        p5.siaddr,
        Ipv4Addr::new(10, 0, 0, 2),
        "siaddr defaults to the server"
    );
    assert_eq!(
        p5.limit,
        Limit {
            per_token: 333,
            capacity: 999,
            block: 100_000
        }
    );

    let p6 = &t.ports[t.port(6).unwrap()];
    assert_eq!(p6.server.unwrap().ip, Ipv4Addr::new(10, 1, 0, 2));
    assert_eq!(
        p6.router,
        Some(Ipv4Addr::new(10, 1, 0, 254)),
        "extra option 3"
    );
    assert_eq!(
        p6.dns.iter().collect::<Vec<_>>(),
        vec![Ipv4Addr::new(10, 1, 0, 53)]
    );
    assert_eq!(p6.domain.as_deref(), Some(&b"b.example"[..]));
    assert_eq!(p6.lease, 600);
    assert_eq!(
        p6.routes.iter().collect::<Vec<_>>(),
        vec![
            route([192, 168, 7, 0], 24, [10, 1, 0, 9]),
            route([0, 0, 0, 0], 0, [10, 1, 0, 254])
        ],
        "port routes (host bits cleared), then the default route"
    );
    assert_eq!(
        &*p6.extras,
        &[
            (66, b"tftp.example"[..].into()),
            (43, vec![1, 4, 0xc0, 0xa8].into())
        ]
    );
    assert_eq!(p6.siaddr, Ipv4Addr::new(10, 1, 0, 99));
    assert_eq!(p6.boot_file.as_deref(), Some(&b"pxelinux.0"[..]));
    assert_eq!(p6.limit.per_token, 100);

    let n = &t.net_list[t.nets.get(1).unwrap() as usize];
    assert_eq!(n.servers.len(), 2);
    let d = t.describe();
    assert_eq!(d["ports"][1]["extra_tags"], json!([66, 43]));
    assert_eq!(d["networks"][0]["servers"], json!(["10.0.0.2", "10.1.0.2"]));

    let again = build(&base()).unwrap();
    assert_ne!(
        again.generation, t.generation,
        "every build is a new generation"
    );
}

#[test]
fn metadata_route_modes() {
    let with = |mode: &str| {
        let mut v = base();
        v["metadata_route"] = json!(mode);
        let t = build(&v).unwrap();
        let p = &t.ports[t.port(5).unwrap()];
        p.routes.get(1).unwrap()
    };
    let md = [169, 254, 169, 254];
    assert_eq!(with("port"), route(md, 32, [10, 0, 0, 5]));
    assert_eq!(with("dhcp-server"), route(md, 32, [10, 0, 0, 2]));
    assert_eq!(with("on-link"), route(md, 32, [0, 0, 0, 0]));
    assert_eq!(with("off"), route([0, 0, 0, 0], 0, [10, 0, 0, 1]));
}

#[test]
fn networks_without_a_server_are_not_served() {
    let mut v = base();
    v["networks"][0]["dhcp_ports"] = json!([]);
    let t = build(&v).unwrap();
    assert!(t.nets.get(1).is_none());
    assert!(t.ports[0].server.is_none());
    assert_eq!(t.ports[0].siaddr, Ipv4Addr::UNSPECIFIED);
    let t = build(
        &json!({"rate_limit": {"per_sec": 0}, "networks": [{"network_key": 2,
        "subnets": [{"cidr": "10.0.0.0/8"}],
        "ports": [{"port_key": 1, "mac": "02:00:00:00:00:01", "ip": "10.2.3.4"}]}]}),
    )
    .unwrap();
    assert_eq!(
        t.ports[0].limit,
        Limit::default(),
        "per_sec 0: no limit, no TSC needed"
    );
    assert!(t.ports[0].routes.is_empty() && t.ports[0].router.is_none());
}

#[test]
fn pinned_errors() {
    type Case = (fn(&mut Value), &'static str);
    let cases: Vec<Case> = vec![
        (
            |v| v["networks"][0]["subnets"][0]["gateway_ip"] = json!("10.9.0.1"),
            "networks[0].subnets[0].gateway_ip: 10.9.0.1 is outside 10.0.0.0/24",
        ),
        (
            |v| v["networks"][0]["ports"][0]["ip"] = json!("10.7.0.5"),
            "networks[0].ports[0].ip: 10.7.0.5 is outside every subnet of network 1",
        ),
        (
            |v| {
                let d = json!({"mac": "fa:16:3e:00:00:03", "ips": ["10.0.0.3"]});
                v["networks"][0]["dhcp_ports"].as_array_mut().unwrap().push(d);
            },
            "networks[0].dhcp_ports[1].ips[0]: subnet 10.0.0.0/24 has two DHCP servers (10.0.0.2 and 10.0.0.3)",
        ),
        (
            |v| v["networks"][0]["dhcp_ports"][0]["ips"][1] = json!("10.5.0.2"),
            "networks[0].dhcp_ports[0].ips[1]: 10.5.0.2 is in no subnet of network 1",
        ),
        (
            |v| v["networks"][0]["subnets"][1]["cidr"] = json!("10.0.0.128/25"),
            "networks[0].subnets[1].cidr: 10.0.0.128/25 overlaps 10.0.0.0/24 (subnets[0])",
        ),
        (
            |v| v["networks"][0]["subnets"][1]["cidr"] = json!("10.1.0.1/24"),
            "networks[0].subnets[1].cidr: 10.1.0.1/24 has host bits set (did you mean 10.1.0.0/24?)",
        ),
        (
            |v| v["networks"][0]["ports"][1]["port_key"] = json!(5),
            "networks[0].ports[1]: port key 5 is listed twice (also networks[0].ports[0])",
        ),
        (
            |v| {
                let n = v["networks"][0].clone();
                v["networks"].as_array_mut().unwrap().push(n);
            },
            "networks[1]: network key 1 is listed twice (also networks[0])",
        ),
        (
            |v| v["networks"][0]["ports"][1]["ip"] = json!("10.0.0.5"),
            "networks[0].ports[1].ip: 10.0.0.5 is also port 5's address",
        ),
        (
            |v| v["networks"][0]["ports"][0]["ip"] = json!("10.0.0.2"),
            "networks[0].ports[0].ip: 10.0.0.2 is the subnet's DHCP server or gateway address",
        ),
        (
            |v| v["networks"][0]["ports"][0]["ip"] = json!("10.0.0.255"),
            "networks[0].ports[0].ip: 10.0.0.255 is the network or broadcast address of 10.0.0.0/24",
        ),
        (
            |v| v["networks"][0]["ports"][0]["mac"] = json!("01:00:5e:00:00:01"),
            "networks[0].ports[0].mac: 01:00:5e:00:00:01 is not a unicast address",
        ),
        (
            |v| v["networks"][0]["ports"][1]["dhcp_options"][2] = json!({"tag": 1, "ips": ["1.2.3.4"]}),
            "networks[0].ports[1].dhcp_options[2]: tag 1 is set by the server (subnet mask: it comes from the subnet's cidr)",
        ),
        (
            |v| v["networks"][0]["ports"][1]["dhcp_options"][0] = json!({"tag": 3, "text": "x"}),
            "networks[0].ports[1].dhcp_options[0]: tag 3 (router) takes `ips` with one address",
        ),
        (
            |v| v["networks"][0]["ports"][1]["dhcp_options"][2] = json!({"tag": 66, "text": "a", "hex": "01"}),
            "networks[0].ports[1].dhcp_options[2]: give exactly one of `text`, `ips`, `hex`, `routes`",
        ),
        (
            |v| v["networks"][0]["ports"][1]["dhcp_options"][3] = json!({"tag": 66, "text": "b"}),
            "networks[0].ports[1].dhcp_options[3]: tag 66 is given twice",
        ),
        (
            |v| v["networks"][0]["ports"][1]["dhcp_options"][3] = json!({"tag": 43, "hex": "123"}),
            "networks[0].ports[1].dhcp_options[3].hex: `123` is not an even number of hex digits",
        ),
        (
            |v| v["networks"][0]["ports"][1]["dhcp_options"][3] = json!({"tag": 43, "routes": []}),
            "networks[0].ports[1].dhcp_options[3]: `routes` is for tag 121 only",
        ),
        (
            |v| {
                let extras: Vec<Value> = (200..207).map(|t| json!({"tag": t, "text": "x"})).collect();
                v["networks"][0]["ports"][0]["dhcp_options"] = json!(extras);
            },
            "networks[0].ports[0].dhcp_options[6]: at most 6 extra options (besides 3, 6, 15 and 121) fit a reply",
        ),
        (
            |v| {
                let r: Vec<Value> = (0..16)
                    .map(|i| json!({"destination": format!("192.168.{i}.0/24"), "nexthop": "10.0.0.1"}))
                    .collect();
                v["networks"][0]["subnets"][0]["host_routes"] = json!(r);
            },
            "networks[0].ports[0]: 17 classless static routes (subnet host routes, metadata, port routes and the default route) exceed the 16 a reply holds",
        ),
        (
            |v| v["dns_nameservers"] = json!(vec!["1.1.1.1"; 9]),
            "dns_nameservers: 9 DNS servers, a reply holds at most 8",
        ),
        (
            |v| v["rate_limit"] = json!({"per_sec": 3, "burst": 0}),
            "rate_limit.burst: must be at least 1 when per_sec > 0",
        ),
        (
            |v| v["networks"][0]["mtu"] = json!(40),
            "networks[0].mtu: 40 is below the IPv4 minimum of 68",
        ),
        (
            |v| v["networks"][0]["subnets"][1]["lease_time"] = json!(0),
            "networks[0].subnets[1].lease_time: must be at least 1 second",
        ),
        (
            |v| v["networks"][0]["ports"][1]["boot_file"] = json!("x".repeat(128)),
            "networks[0].ports[1].boot_file: must be at most 127 bytes without NUL",
        ),
        (
            |v| v["tsc_hz"] = json!(0),
            "tsc_hz: must be non-zero (omit it to measure the TSC)",
        ),
        (
            |v| v["networks"][0]["network_key"] = json!(0),
            "networks[0].network_key: must be non-zero",
        ),
    ];
    for (edit, want) in cases {
        let mut v = base();
        edit(&mut v);
        assert_eq!(err(v), want);
    }
}

#[test]
fn serde_errors_name_the_value() {
    let mut v = base();
    v["networks"][0]["subnets"][0]["cidr"] = json!("10.0.0.0/33");
    assert!(err(v).contains("`10.0.0.0/33` is not an IPv4 prefix"));
    let mut v = base();
    v["networks"][0]["ports"][0]["mac"] = json!("zz");
    assert!(err(v).contains("`zz` is not a MAC address"));
    let mut v = base();
    v["networks"][0]["ports"][0]["extra"] = json!(1);
    assert!(err(v).contains("unknown field `extra`"));
    let mut v = base();
    v["metadata_route"] = json!("sideways");
    assert!(err(v).contains("unknown variant `sideways`"));
}
