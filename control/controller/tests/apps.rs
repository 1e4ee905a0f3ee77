//! The per-app configs (`portsec`, `sg`, `dhcp`, `l3-proactive`) compiled
//! from a small model decoded from JSON, and all configs published into the
//! seed layout's graph, where each app validates its own.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::net::Ipv4Addr;
use std::sync::Arc;

use df_app_dhcp::{DhcpServerPort, ExtraOption, HostRoute, Ipv4Cidr};
use df_app_l3::{AddressPair, ExtraRoute, L3Port, RouterPort};
use df_app_portsec::{AllowedAddressPair, PortsecPort};
use df_app_sg::{Direction, EtherType, Protocol, SgPort, SgRule};
use df_controller::{compile, Cache, Change, Compiled, Local, Publisher, SwitchPortBinding};
use df_dp::RcuDomain;
use df_wire::EthernetAddress;

fn put(c: &mut Cache, table: &str, json: &str) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let ch = c.put(&format!("/dragonflow/{table}/{id}"), json.as_bytes());
    assert!(matches!(ch, Change::Stored { .. }), "{table}/{id}: {ch:?}");
}

fn local(ports: &[(u16, &str)]) -> Local {
    Local {
        chassis: "host1".into(),
        ports: ports
            .iter()
            .map(|(p, id)| SwitchPortBinding {
                port: *p,
                name: format!("sp{p}"),
                iface_id: id.to_string(),
            })
            .collect(),
        uplinks: Vec::new(),
        underlay: None,
    }
}

/// Two networks joined by a router; vm1 and vm3 are local, vm2 remote.
fn model() -> Cache {
    let mut c = Cache::new();
    for j in [
        r#"{"id":"n1","topic":"t1","unique_key":5,"mtu":1450}"#,
        r#"{"id":"n2","topic":"t1","unique_key":6}"#,
    ] {
        put(&mut c, "lswitch", j);
    }
    for j in [
        r#"{"id":"s1","topic":"t1","lswitch":"n1","cidr":"10.0.0.0/24","gateway_ip":"10.0.0.1",
            "dhcp_ip":"10.0.0.2","dns_nameservers":["8.8.8.8"],
            "host_routes":[{"destination":"10.9.0.0/16","nexthop":"10.0.0.254"}]}"#,
        r#"{"id":"s1v6","topic":"t1","lswitch":"n1","cidr":"fd00::/64"}"#,
        r#"{"id":"s2","topic":"t1","lswitch":"n2","cidr":"10.1.0.0/24","gateway_ip":"10.1.0.1","enable_dhcp":false}"#,
    ] {
        put(&mut c, "lsubnet", j);
    }
    for j in [
        r#"{"id":"web","topic":"t1","unique_key":40,"rules":[
            {"id":"r1","direction":"ingress","ethertype":"IPv4","protocol":"tcp",
             "port_range_min":80,"port_range_max":80,"remote_ip_prefix":"0.0.0.0/0"},
            {"id":"r2","direction":"ingress","ethertype":"IPv4","remote_group_id":"db"},
            {"id":"r3","direction":"egress","ethertype":"IPv6","protocol":132}]}"#,
        r#"{"id":"db","topic":"t1","unique_key":41,"rules":[
            {"id":"r4","direction":"ingress","ethertype":"IPv4","protocol":"udp",
             "port_range_min":53,"port_range_max":53,"remote_group_id":"web"}]}"#,
    ] {
        put(&mut c, "secgroup", j);
    }
    for j in [
        r#"{"id":"dhcp1","topic":"t1","unique_key":20,"lswitch":"n1","device_owner":"network:dhcp",
            "macs":["02:00:00:00:00:20"],"ips":["10.0.0.2"]}"#,
        r#"{"id":"vm1","topic":"t1","unique_key":11,"lswitch":"n1","macs":["02:00:00:00:00:01"],
            "ips":["10.0.0.5","fd00::5"],"security_groups":["web"],
            "allowed_address_pairs":[{"ip_address":"10.0.0.100","mac_address":"02:00:00:00:00:aa"}],
            "dhcp_params":{"opts":{"6":"1.1.1.1, 8.8.4.4","66":"tftp.example"},"siaddr":"10.0.0.9"}}"#,
        r#"{"id":"vm2","topic":"t1","unique_key":12,"lswitch":"n1","macs":["02:00:00:00:00:02"],
            "ips":["10.0.0.6"],"security_groups":["db"]}"#,
        r#"{"id":"vm3","topic":"t1","unique_key":13,"lswitch":"n1","macs":["02:00:00:00:00:03"],
            "ips":["10.0.0.7"],"port_security_enabled":false}"#,
    ] {
        put(&mut c, "lport", j);
    }
    put(
        &mut c,
        "lrouter",
        r#"{"id":"r1","topic":"t1","unique_key":70,
            "ports":[{"id":"rp1","unique_key":30,"mac":"02:00:00:00:01:01","lswitch":"n1","network":"10.0.0.1/24"},
                     {"id":"rp2","unique_key":31,"mac":"02:00:00:00:01:02","lswitch":"n2","network":"10.1.0.1/24"}],
            "routes":[{"destination":"10.9.0.0/16","nexthop":"10.0.0.254"}]}"#,
    );
    c
}

fn compiled() -> Compiled {
    let out = compile(model().snapshot(), &local(&[(0, "vm1"), (1, "vm3")]));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    out
}

#[test]
fn portsec_lists_the_local_ports_addresses() {
    let cfg = compiled().configs.portsec;
    assert_eq!(
        cfg.ports,
        vec![
            PortsecPort {
                port_key: 11,
                port_security_enabled: true,
                macs: vec!["02:00:00:00:00:01".into()],
                ipv4: vec!["10.0.0.5".into()],
                ipv6: vec!["fd00::5".into()],
                allowed_address_pairs: vec![AllowedAddressPair {
                    ip: "10.0.0.100".into(),
                    mac: Some("02:00:00:00:00:aa".into()),
                }],
            },
            PortsecPort {
                port_key: 13,
                port_security_enabled: false,
                macs: vec!["02:00:00:00:00:03".into()],
                ipv4: vec!["10.0.0.7".into()],
                ipv6: vec![],
                allowed_address_pairs: vec![],
            },
        ]
    );
}

#[test]
fn sg_has_local_ports_their_groups_and_remote_groups() {
    let cfg = compiled().configs.sg;
    assert_eq!(
        cfg.ports,
        vec![
            SgPort {
                port_key: 11,
                port_security_enabled: true,
                security_groups: vec![40],
            },
            SgPort {
                port_key: 13,
                port_security_enabled: false,
                security_groups: vec![],
            },
        ]
    );
    assert_eq!(cfg.groups.len(), 2);
    let web = &cfg.groups[0];
    assert_eq!(web.group_key, 40);
    assert_eq!(web.member_ips, vec!["10.0.0.5", "10.0.0.100", "fd00::5"]);
    let rule = |id: &str, direction, ethertype| SgRule {
        id: id.into(),
        direction,
        ethertype,
        protocol: None,
        port_range_min: None,
        port_range_max: None,
        remote_ip_prefix: None,
        remote_group: None,
    };
    assert_eq!(
        web.rules,
        vec![
            SgRule {
                protocol: Some(Protocol::Name("tcp".into())),
                port_range_min: Some(80),
                port_range_max: Some(80),
                remote_ip_prefix: Some("0.0.0.0/0".into()),
                ..rule("r1", Direction::Ingress, EtherType::Ipv4)
            },
            SgRule {
                remote_group: Some(41),
                ..rule("r2", Direction::Ingress, EtherType::Ipv4)
            },
            SgRule {
                protocol: Some(Protocol::Number(132)),
                ..rule("r3", Direction::Egress, EtherType::Ipv6)
            },
        ]
    );
    // db is here only as r2's remote group: its members, not its rules.
    let db = &cfg.groups[1];
    assert_eq!(
        (db.group_key, db.member_ips.clone(), db.rules.len()),
        (41, vec!["10.0.0.6".to_string()], 0)
    );
}

#[test]
fn dhcp_serves_the_local_networks() {
    let cfg = compiled().configs.dhcp;
    assert_eq!(cfg.networks.len(), 1, "only n1 has local ports");
    let n = &cfg.networks[0];
    assert_eq!((n.network_key, n.mtu), (5, Some(1450)));
    assert_eq!(
        n.dhcp_ports,
        vec![DhcpServerPort {
            mac: EthernetAddress([2, 0, 0, 0, 0, 0x20]),
            ips: vec![Ipv4Addr::new(10, 0, 0, 2)],
        }]
    );
    assert_eq!(n.subnets.len(), 1, "the IPv6 subnet is not DHCPv4's");
    let s = &n.subnets[0];
    assert_eq!(s.cidr, "10.0.0.0/24".parse::<Ipv4Cidr>().unwrap());
    assert_eq!(s.gateway_ip, Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(s.dns_nameservers, vec![Ipv4Addr::new(8, 8, 8, 8)]);
    assert_eq!(
        s.host_routes,
        vec![HostRoute {
            destination: "10.9.0.0/16".parse().unwrap(),
            nexthop: Ipv4Addr::new(10, 0, 0, 254),
        }]
    );
    assert!(s.enable_dhcp);
    let ports: Vec<_> = n.ports.iter().map(|p| (p.port_key, p.mac, p.ip)).collect();
    assert_eq!(
        ports,
        vec![
            (
                11,
                EthernetAddress([2, 0, 0, 0, 0, 1]),
                Ipv4Addr::new(10, 0, 0, 5)
            ),
            (
                13,
                EthernetAddress([2, 0, 0, 0, 0, 3]),
                Ipv4Addr::new(10, 0, 0, 7)
            ),
        ]
    );
    let vm1 = &n.ports[0];
    assert_eq!(vm1.siaddr, Some(Ipv4Addr::new(10, 0, 0, 9)));
    let none = ExtraOption {
        tag: 0,
        text: None,
        ips: None,
        hex: None,
        routes: None,
    };
    assert_eq!(
        vm1.dhcp_options,
        vec![
            ExtraOption {
                tag: 6,
                ips: Some(vec![Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(8, 8, 4, 4)]),
                ..none.clone()
            },
            ExtraOption {
                tag: 66,
                text: Some("tftp.example".into()),
                ..none
            },
        ]
    );
}

#[test]
fn l3_has_routers_and_the_ports_of_their_networks() {
    let cfg = compiled().configs.l3;
    assert_eq!(cfg.routers.len(), 1);
    let r = &cfg.routers[0];
    assert_eq!(r.router_key, 70);
    assert_eq!(
        r.ports,
        vec![
            RouterPort {
                port_key: 30,
                network_key: 5,
                mac: "02:00:00:00:01:01".into(),
                ip: "10.0.0.1".into(),
                prefix_len: 24,
            },
            RouterPort {
                port_key: 31,
                network_key: 6,
                mac: "02:00:00:00:01:02".into(),
                ip: "10.1.0.1".into(),
                prefix_len: 24,
            },
        ]
    );
    assert_eq!(
        r.routes,
        vec![ExtraRoute {
            destination: "10.9.0.0/16".into(),
            nexthop: "10.0.0.254".into(),
        }]
    );
    let nets: Vec<_> = cfg
        .networks
        .iter()
        .map(|n| {
            (
                n.network_key,
                n.ports.iter().map(|p| p.port_key).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(nets, vec![(5, vec![20, 11, 12, 13]), (6, vec![])]);
    let vm1 = cfg.networks[0]
        .ports
        .iter()
        .find(|p| p.port_key == 11)
        .unwrap();
    assert_eq!(
        vm1,
        &L3Port {
            port_key: 11,
            mac: "02:00:00:00:00:01".into(),
            ips: vec!["10.0.0.5".into(), "fd00::5".into()],
            allowed_address_pairs: vec![AddressPair {
                ip: "10.0.0.100".into(),
                mac: Some("02:00:00:00:00:aa".into()),
            }],
        }
    );
}

#[test]
fn unconvertible_objects_warn_and_are_left_out() {
    let mut c = model();
    // A local port with port security and no MAC; one outside every subnet.
    put(
        &mut c,
        "lport",
        r#"{"id":"vm4","topic":"t1","unique_key":14,"lswitch":"n1","macs":[],"ips":["10.0.0.4"]}"#,
    );
    put(
        &mut c,
        "lport",
        r#"{"id":"vm6","topic":"t1","unique_key":16,"lswitch":"n1","macs":["02:00:00:00:00:06"],"ips":["10.5.0.1"]}"#,
    );
    // A local port whose group's rule names a group that does not exist.
    put(
        &mut c,
        "secgroup",
        r#"{"id":"lost","topic":"t1","unique_key":42,"rules":[
            {"id":"r9","direction":"ingress","ethertype":"IPv4","remote_group_id":"ghost"}]}"#,
    );
    put(
        &mut c,
        "lport",
        r#"{"id":"vm5","topic":"t1","unique_key":15,"lswitch":"n1","macs":["02:00:00:00:00:05"],
            "ips":["10.0.0.1"],"security_groups":["lost"],"dhcp_params":{"opts":{"3":"nowhere"}}}"#,
    );
    // A router without a key.
    put(&mut c, "lrouter", r#"{"id":"r2","topic":"t1"}"#);
    let out = compile(
        c.snapshot(),
        &local(&[(0, "vm1"), (1, "vm4"), (2, "vm5"), (3, "vm6")]),
    );
    let cfg = &out.configs;
    assert_eq!(
        cfg.portsec
            .ports
            .iter()
            .map(|p| p.port_key)
            .collect::<Vec<_>>(),
        vec![11, 15, 16]
    );
    let lost = cfg.sg.groups.iter().find(|g| g.group_key == 42).unwrap();
    assert!(lost.rules.is_empty());
    assert_eq!(
        cfg.dhcp.networks[0]
            .ports
            .iter()
            .map(|p| p.port_key)
            .collect::<Vec<_>>(),
        vec![11]
    );
    assert_eq!(cfg.l3.routers.len(), 1);
    let w = &out.warnings;
    let has = |s: &str| assert!(w.iter().any(|x| x.contains(s)), "no `{s}` in {w:#?}");
    has("lport `vm4` has port security enabled but no MAC");
    has("secgroup `lost` rule `r9` names remote group `ghost`");
    has("lport `vm4` has no MAC: it gets no DHCP answers");
    has("lport `vm6` has address 10.5.0.1, outside every IPv4 subnet");
    has("lport `vm5` has address 10.0.0.1, its subnet's gateway");
    has("lrouter `r2` has no unique_key");
    has("lport `vm4` has no unique_key or no MAC: it is left out of l3");
    assert_eq!(w.len(), 7, "{w:#?}");
}

#[test]
fn all_configs_publish_into_the_seed_graph() {
    let graph = df_catalog::compile_layout(df_catalog::SEED_LAYOUT, &RcuDomain::new()).unwrap();
    let mut p = Publisher::new(Arc::new(graph));
    let cfg = compiled().configs;
    assert!(!cfg.portsec.ports.is_empty() && !cfg.sg.groups.is_empty());
    assert!(!cfg.l3.routers.is_empty() && !cfg.dhcp.networks.is_empty());
    let errors = p.publish(&cfg);
    assert!(errors.is_empty(), "{errors:#?}");
    // input, l2, portsec, sg, l3-proactive, firewall, provider, and the
    // output, dhcp, tunnel and nat vertices the catalog's default edges add
    // to the seed's layout.
    assert_eq!(p.graph().vertices_of_type("dhcp").count(), 1);
    assert_eq!(p.graph().vertices_of_type("tunnel").count(), 1);
    assert_eq!(p.graph().vertices_of_type("nat").count(), 1);
    assert_eq!(p.publishes(), 11);
    // Nothing changed: nothing is published again.
    assert!(p.publish(&cfg).is_empty());
    assert_eq!(p.publishes(), 11);
}

#[test]
fn dhcp_config_publishes_into_a_layout_with_a_dhcp_vertex() {
    const LAYOUT: &str = "vertices:
  input:
    type: input
  dhcp:
    type: dhcp
edges:
  input.out.vm-egress: dhcp.in.default
";
    let graph = df_catalog::compile_layout(LAYOUT, &RcuDomain::new()).unwrap();
    let mut p = Publisher::new(Arc::new(graph));
    let errors = p.publish(&compiled().configs);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(p.graph().vertices_of_type("dhcp").count(), 1);
}
