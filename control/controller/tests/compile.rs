//! The compiler and the cache on model objects decoded from JSON, as the
//! store delivers them.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use df_controller::{compile, Cache, Change, Local, SwitchPortBinding};

fn put(c: &mut Cache, table: &str, json: &str) -> Change {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    c.put(&format!("/dragonflow/{table}/{id}"), json.as_bytes())
}

fn net(id: &str, key: u32) -> String {
    format!(r#"{{"id":"{id}","topic":"t1","unique_key":{key},"version":1}}"#)
}

fn port(id: &str, key: u32, net: &str, mac: &str) -> String {
    format!(
        r#"{{"id":"{id}","topic":"t1","unique_key":{key},"version":1,"lswitch":"{net}","macs":["{mac}"],"ips":[]}}"#
    )
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

#[test]
fn objects_wait_for_their_references_then_compile() {
    let mut c = Cache::new();
    // The port arrives before its network: parked.
    let ch = put(&mut c, "lport", &port("p1", 11, "n1", "02:00:00:00:00:01"));
    assert!(matches!(ch, Change::Parked { .. }), "{ch:?}");
    assert_eq!(c.parked().len(), 1);
    assert_eq!(
        put(&mut c, "lswitch", &net("n1", 5)),
        Change::Stored { released: 1 }
    );
    put(&mut c, "lport", &port("p2", 12, "n1", "02:00:00:00:00:02"));
    put(&mut c, "lport", &port("p3", 13, "n1", "02:00:00:00:00:03"));
    let out = compile(c.snapshot(), &local(&[(0, "p1"), (1, "p2")]));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let cfg = &out.configs;
    assert_eq!(cfg.input.ports.len(), 2);
    assert_eq!(
        (cfg.input.ports[0].port_key, cfg.input.ports[0].network_key),
        (11, 5)
    );
    assert_eq!(
        cfg.output
            .ports
            .iter()
            .map(|p| (p.port_key, p.port))
            .collect::<Vec<_>>(),
        vec![(11, 0), (12, 1)]
    );
    assert_eq!(cfg.l2.networks.len(), 1);
    assert_eq!(
        cfg.l2.networks[0].ports.len(),
        3,
        "the remote-less p3 is in the FDB too"
    );
}

#[test]
fn bad_records_are_reported_and_good_state_survives() {
    let mut c = Cache::new();
    put(&mut c, "lswitch", &net("n1", 5));
    put(&mut c, "lport", &port("p1", 11, "n1", "02:00:00:00:00:01"));
    // A malformed update of p1 keeps the good p1.
    let ch = c.put("/dragonflow/lport/p1", b"{not json");
    let Change::Rejected(msg) = ch else {
        panic!("{ch:?}")
    };
    assert!(msg.starts_with("/dragonflow/lport/p1: "), "{msg}");
    assert!(c.snapshot().get::<df_model::LogicalPort>("p1").is_some());
    // Unknown field.
    let ch = c.put(
        "/dragonflow/lport/p2",
        br#"{"id":"p2","topic":"t","lswitch":"n1","colour":"red"}"#,
    );
    let Change::Rejected(msg) = ch else {
        panic!("{ch:?}")
    };
    assert!(msg.contains("unknown field `colour`"), "{msg}");
    // Unknown table.
    let Change::Rejected(msg) = c.put("/dragonflow/nosuch/x", b"{}") else {
        panic!()
    };
    assert!(msg.contains("not a key of a known table"), "{msg}");
    assert_eq!(c.errors().len(), 3);
    // Counters are not objects.
    assert_eq!(c.put("/dragonflow/unique_key/lport", b"7"), Change::Ignored);
    // Fixing the record clears its error.
    put(&mut c, "lport", &port("p2", 12, "n1", "02:00:00:00:00:02"));
    assert_eq!(c.errors().len(), 2);
    // Stale versions are ignored.
    let old = r#"{"id":"n1","topic":"t1","unique_key":5,"version":0}"#;
    put(
        &mut c,
        "lswitch",
        &net("n1", 5).replace("\"version\":1", "\"version\":3"),
    );
    assert_eq!(put(&mut c, "lswitch", old), Change::Stale);
}

#[test]
fn dangling_and_unkeyed_objects_warn_and_the_rest_applies() {
    let mut c = Cache::new();
    put(&mut c, "lswitch", &net("n1", 5));
    put(&mut c, "lport", &port("p1", 11, "n1", "02:00:00:00:00:01"));
    let out = compile(c.snapshot(), &local(&[(0, "p1"), (1, "ghost")]));
    assert_eq!(out.configs.input.ports.len(), 1);
    assert_eq!(
        out.warnings,
        vec!["switch port `sp1` carries lport `ghost`, which is not in the NB database (create it, or fix the port's iface_id)"]
    );
    // Deleting the network leaves p1 dangling: compile warns, nothing panics.
    assert_eq!(c.delete("/dragonflow/lswitch/n1"), Change::Removed);
    let out = compile(c.snapshot(), &local(&[(0, "p1")]));
    assert!(out.configs.input.ports.is_empty());
    assert!(
        out.warnings[0].contains("refers to lswitch `n1`, which is not in the NB database"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn reset_sweeps_what_vanished() {
    let mut c = Cache::new();
    put(&mut c, "lswitch", &net("n1", 5));
    put(&mut c, "lswitch", &net("n2", 6));
    let n1 = net("n1", 5);
    let gone = c.reset([("/dragonflow/lswitch/n1", n1.as_bytes())]);
    assert_eq!(gone, vec!["lswitch/n2".to_string()]);
    assert_eq!(c.snapshot().len(), 1);
}

/// Provider networks (Dragonflow's bridge mappings): a flat and a VLAN
/// network on `physnet1`, whose uplink is switch port 5, get the uplink as a
/// port; a network on a physical network without an uplink here is
/// reported and stays local (a VLAN network without a VLAN id never gets
/// this far: the model rejects it).
#[test]
fn provider_networks_get_their_uplink() {
    use df_controller::{UplinkBinding, UPLINK_KEY_BIT};
    let mut c = Cache::new();
    let pnet = |id: &str, key: u32, extra: &str| {
        format!(r#"{{"id":"{id}","topic":"t1","unique_key":{key},"version":1,{extra}}}"#)
    };
    put(
        &mut c,
        "lswitch",
        &pnet(
            "flat",
            5,
            r#""network_type":"flat","physical_network":"physnet1""#,
        ),
    );
    put(
        &mut c,
        "lswitch",
        &pnet(
            "v100",
            6,
            r#""network_type":"vlan","physical_network":"physnet1","segmentation_id":100"#,
        ),
    );
    put(
        &mut c,
        "lswitch",
        &pnet(
            "other",
            7,
            r#""network_type":"flat","physical_network":"physnet2""#,
        ),
    );
    put(&mut c, "lswitch", &net("tenant", 9));
    for (i, n) in ["flat", "v100", "other", "tenant"].iter().enumerate() {
        put(
            &mut c,
            "lport",
            &port(
                &format!("p{i}"),
                11 + i as u32,
                n,
                &format!("02:00:00:00:00:0{i}"),
            ),
        );
    }
    let mut l = local(&[(0, "p0"), (1, "p1"), (2, "p2"), (3, "p3")]);
    l.uplinks.push(UplinkBinding {
        port: 5,
        name: "uplink".into(),
        physical_network: "physnet1".into(),
    });
    let out = compile(c.snapshot(), &l);
    let cfg = &out.configs;
    assert_eq!(cfg.input.uplinks, vec![5]);
    assert_eq!(cfg.provider.uplinks.len(), 1);
    let up = &cfg.provider.uplinks[0];
    assert_eq!((up.port, up.physical_network.as_str()), (5, "physnet1"));
    let nets: Vec<(u32, Option<u16>, u32)> = up
        .networks
        .iter()
        .map(|n| (n.network_key, n.vlan, n.port_key))
        .collect();
    assert_eq!(
        nets,
        vec![
            (5, None, UPLINK_KEY_BIT | 5),
            (6, Some(100), UPLINK_KEY_BIT | 6)
        ]
    );
    let outs: Vec<(u32, u16, Option<u16>)> = cfg
        .output
        .ports
        .iter()
        .filter(|p| p.port == 5)
        .map(|p| (p.port_key, p.port, p.vlan))
        .collect();
    assert_eq!(
        outs,
        vec![
            (UPLINK_KEY_BIT | 5, 5, None),
            (UPLINK_KEY_BIT | 6, 5, Some(100))
        ]
    );
    let uplink_of = |k: u32| {
        cfg.l2
            .networks
            .iter()
            .find(|n| n.network_key == k)
            .unwrap()
            .uplink
    };
    assert_eq!(uplink_of(5), Some(UPLINK_KEY_BIT | 5));
    assert_eq!(uplink_of(6), Some(UPLINK_KEY_BIT | 6));
    assert_eq!(uplink_of(7), None);
    assert_eq!(uplink_of(9), None, "a tenant network has no uplink");
    let sg = cfg
        .sg
        .ports
        .iter()
        .find(|p| p.port_key == UPLINK_KEY_BIT | 5)
        .unwrap();
    assert!(
        !sg.port_security_enabled,
        "the physical network is not checked by sg"
    );
    let w = out.warnings.join("\n");
    assert!(
        w.contains("lswitch `other` is on physical network `physnet2`, which has no uplink on chassis `host1`"),
        "{w}"
    );
    assert_eq!(out.warnings.len(), 1, "{w}");
}

/// The overlay: a Geneve and a VXLAN network with a port here and ports
/// bound to host2 and host3 get a tunnel config (remote ports, chassis with
/// their tunnel IP and MAC, one flood key per network with the chassis that
/// have ports in it); l2 floods once to the flood key and no longer to the
/// remote ports themselves; output and sg know the remote keys. A port on
/// a chassis without a record waits for it.
#[test]
fn overlay_networks_reach_ports_on_other_chassis() {
    use df_app_tunnel::TunnelKind;
    use df_controller::{UnderlayBinding, FLOOD_KEY_BIT};
    let mut c = Cache::new();
    let tnet = |id: &str, key: u32, kind: &str| {
        format!(
            r#"{{"id":"{id}","topic":"t1","unique_key":{key},"version":1,"network_type":"{kind}","segmentation_id":{}}}"#,
            key + 1000
        )
    };
    put(&mut c, "lswitch", &tnet("g", 5, "geneve"));
    put(&mut c, "lswitch", &tnet("v", 6, "vxlan"));
    for (h, ip, types) in [
        ("host2", "172.16.0.2", r#"["geneve","vxlan"]"#),
        ("host3", "172.16.0.3", r#"["geneve"]"#),
    ] {
        put(
            &mut c,
            "chassis",
            &format!(
                r#"{{"id":"{h}","ip":"{ip}","tunnel_types":{types},"tunnel_mac":"02:df:00:00:00:0{}"}}"#,
                &h[4..]
            ),
        );
    }
    let bound = |id: &str, key: u32, net: &str, mac: &str, host: &str| {
        format!(
            r#"{{"id":"{id}","topic":"t1","unique_key":{key},"version":1,"lswitch":"{net}","macs":["{mac}"],"ips":[],"binding":{{"type":"chassis","chassis":"{host}"}}}}"#
        )
    };
    put(&mut c, "lport", &port("a", 11, "g", "02:00:00:00:00:0a"));
    put(
        &mut c,
        "lport",
        &bound("b", 12, "g", "02:00:00:00:00:0b", "host2"),
    );
    put(
        &mut c,
        "lport",
        &bound("c", 13, "g", "02:00:00:00:00:0c", "host3"),
    );
    put(
        &mut c,
        "lport",
        &bound("d", 14, "g", "02:00:00:00:00:0d", "host9"),
    );
    put(&mut c, "lport", &port("e", 15, "v", "02:00:00:00:00:0e"));
    put(
        &mut c,
        "lport",
        &bound("f", 16, "v", "02:00:00:00:00:0f", "host2"),
    );
    put(
        &mut c,
        "lport",
        &bound("h", 17, "v", "02:00:00:00:00:11", "host3"),
    );
    let mut l = local(&[(0, "a"), (1, "e")]);
    l.underlay = Some(UnderlayBinding {
        port: 2,
        ip: "172.16.0.1".parse().unwrap(),
        mac: [2, 0xdf, 0, 0, 0, 1],
    });
    let out = compile(c.snapshot(), &l);
    let t = &out.configs.tunnel;
    let local_end = t.local.as_ref().unwrap();
    assert_eq!(
        (local_end.port, local_end.ip.to_string()),
        (2, "172.16.0.1".into())
    );
    let chassis: Vec<(String, String)> = t
        .chassis
        .iter()
        .map(|c| (c.id.clone(), c.ip.to_string()))
        .collect();
    assert_eq!(
        chassis,
        vec![
            ("host2".into(), "172.16.0.2".into()),
            ("host3".into(), "172.16.0.3".into())
        ]
    );
    let nets: Vec<(u32, u32, TunnelKind, u32, Vec<u32>)> = t
        .networks
        .iter()
        .map(|n| (n.network_key, n.vni, n.kind, n.flood_key, n.chassis.clone()))
        .collect();
    assert_eq!(
        nets,
        vec![
            (5, 1005, TunnelKind::Geneve, FLOOD_KEY_BIT | 5, vec![0, 1]),
            (6, 1006, TunnelKind::Vxlan, FLOOD_KEY_BIT | 6, vec![0]),
        ]
    );
    let ports: Vec<(u32, u32)> = t.ports.iter().map(|p| (p.port_key, p.chassis)).collect();
    assert_eq!(ports, vec![(12, 0), (13, 1), (16, 0)]);
    let w = out.warnings.join("\n");
    // A port bound to an unknown chassis waits in the cache (parked) until
    // the chassis registers.
    assert_eq!(c.parked().len(), 1, "{:?}", c.parked());
    assert!(
        w.contains(
            "lport `h` is on vxlan network `v`, but its chassis `host3` does not terminate vxlan"
        ),
        "{w}"
    );
    let g = out
        .configs
        .l2
        .networks
        .iter()
        .find(|n| n.network_key == 5)
        .unwrap();
    assert_eq!(g.remote_flood, Some(FLOOD_KEY_BIT | 5));
    let flood: Vec<u32> = g
        .ports
        .iter()
        .filter(|p| p.flood)
        .map(|p| p.port_key)
        .collect();
    assert_eq!(
        flood,
        vec![11],
        "only the local port is a flood target itself"
    );
    assert!(
        g.ports.iter().any(|p| p.port_key == 12),
        "remote ports stay in the FDB"
    );
    let mut remote = out.configs.output.remote.clone();
    remote.sort_unstable();
    assert_eq!(
        remote,
        vec![12, 13, 16, FLOOD_KEY_BIT | 5, FLOOD_KEY_BIT | 6]
    );
    for k in remote {
        let p = out
            .configs
            .sg
            .ports
            .iter()
            .find(|p| p.port_key == k)
            .unwrap();
        assert!(!p.port_security_enabled, "remote key {k} passes sg here");
    }

    // Without an underlay port the remote ports are reported, not reached.
    l.underlay = None;
    let out = compile(c.snapshot(), &l);
    assert!(out.configs.tunnel.networks.is_empty());
    assert!(out.configs.output.remote.is_empty());
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("this chassis has no underlay port")),
        "{:?}",
        out.warnings
    );
}

/// Trunk subports: a VLAN child of a local parent is local on the
/// parent's switch port under its VLAN id; a macvlan child is reported.
#[test]
fn trunk_children_ride_their_parents_switch_port() {
    let mut c = Cache::new();
    put(&mut c, "lswitch", &net("n1", 5));
    put(&mut c, "lswitch", &net("n2", 6));
    put(
        &mut c,
        "lport",
        &port("parent", 11, "n1", "02:00:00:00:00:01"),
    );
    put(
        &mut c,
        "lport",
        &port("child", 12, "n2", "02:00:00:00:00:02"),
    );
    put(&mut c, "lport", &port("mac", 13, "n2", "02:00:00:00:00:03"));
    for (id, child, kind, vid) in [("s1", "child", "vlan", 100), ("s2", "mac", "macvlan", 0)] {
        put(
            &mut c,
            "child_port_segmentation",
            &format!(
                r#"{{"id":"{id}","topic":"t1","parent":"parent","port":"{child}","segmentation_type":"{kind}","segmentation_id":{vid}}}"#
            ),
        );
    }
    let out = compile(c.snapshot(), &local(&[(3, "parent")]));
    let v = &out.configs.input.vlans;
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].port, v[0].vlan, v[0].port_key, v[0].network_key),
        (3, 100, 12, 6)
    );
    let o = out
        .configs
        .output
        .ports
        .iter()
        .find(|p| p.port_key == 12)
        .unwrap();
    assert_eq!((o.port, o.vlan), (3, Some(100)));
    assert!(
        out.configs.sg.ports.iter().any(|p| p.port_key == 12),
        "the child has its own security"
    );
    assert_eq!(out.local_ports.get("child"), Some(&3));
    assert_eq!(
        out.warnings,
        vec!["trunk subport `mac` of `parent` is macvlan: only vlan subports are supported; it is left out".to_string()]
    );
}

/// On a provider network, ports bound to another chassis and floating IPs
/// served elsewhere are not in this chassis' FDB (nor answered for by its
/// ARP responder): they are reached through the physical network, where
/// their own chassis answers. Router interfaces stay.
#[test]
fn provider_networks_leave_remote_ports_to_the_fabric() {
    use df_controller::UplinkBinding;
    let mut c = Cache::new();
    put(
        &mut c,
        "lswitch",
        r#"{"id":"ext","topic":"t1","unique_key":5,"version":1,"network_type":"flat","physical_network":"physnet1"}"#,
    );
    put(
        &mut c,
        "chassis",
        r#"{"id":"host2","ip":"172.16.0.2","tunnel_types":["geneve"]}"#,
    );
    put(
        &mut c,
        "lport",
        &port("here", 11, "ext", "02:00:00:00:00:0a"),
    );
    put(
        &mut c,
        "lport",
        r#"{"id":"there","topic":"t1","unique_key":12,"version":1,"lswitch":"ext","macs":["02:00:00:00:00:0b"],"ips":["198.18.0.12"],"binding":{"type":"chassis","chassis":"host2"}}"#,
    );
    put(
        &mut c,
        "lport",
        r#"{"id":"fip","topic":"t1","unique_key":13,"version":1,"lswitch":"ext","macs":["02:00:00:00:00:0c"],"ips":["198.18.0.100"],"device_owner":"network:floatingip"}"#,
    );
    put(
        &mut c,
        "lport",
        r#"{"id":"rtr","topic":"t1","unique_key":14,"version":1,"lswitch":"ext","macs":["02:00:00:00:00:0d"],"ips":["198.18.0.1"],"device_owner":"network:router_interface"}"#,
    );
    let mut l = local(&[(0, "here")]);
    l.uplinks.push(UplinkBinding {
        port: 1,
        name: "uplink".into(),
        physical_network: "physnet1".into(),
    });
    let out = compile(c.snapshot(), &l);
    let n = out
        .configs
        .l2
        .networks
        .iter()
        .find(|n| n.network_key == 5)
        .unwrap();
    let mut keys: Vec<u32> = n.ports.iter().map(|p| p.port_key).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec![11, 14],
        "the local VM and the router interface only"
    );
}
