//! Property tests: field types print and parse back; generated lswitch,
//! lsubnet and lport objects are valid and survive encode -> decode.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use df_model::{
    decode, decode_model, encode, encode_model, AddressPair, BindingType, DhcpParams, HostRoute,
    IpNetwork, LogicalPort, LogicalSwitch, Mac, Model, NetworkType, PortBinding, PortRange, Subnet,
};
use proptest::prelude::*;

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        any::<u128>().prop_map(|v| IpAddr::V6(Ipv6Addr::from(v))),
    ]
}

fn network() -> impl Strategy<Value = IpNetwork> {
    ip().prop_flat_map(|a| {
        let max = if a.is_ipv4() { 32u8 } else { 128 };
        (Just(a), 0..=max).prop_map(|(a, p)| IpNetwork::new(a, p).unwrap())
    })
}

fn id() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,35}"
}

fn unicast_mac() -> impl Strategy<Value = Mac> {
    any::<[u8; 6]>().prop_map(|mut b| {
        b[0] = (b[0] & 0xfe) | 0x02; // unicast, locally administered: never zero
        Mac(b)
    })
}

/// A private host address: 10.0.0.0/8 or fd00::/8, never the network or
/// broadcast address.
fn host_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (1u32..0x00ff_fffe).prop_map(|v| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | v))),
        (1u128..u128::MAX >> 8).prop_map(|v| IpAddr::V6(Ipv6Addr::from((0xfdu128 << 120) | v))),
    ]
}

/// A subnet prefix without host bits, and a host inside it.
fn subnet_and_host() -> impl Strategy<Value = (IpNetwork, IpAddr)> {
    prop_oneof![
        (any::<u32>(), 8u8..=30, any::<u32>()).prop_map(|(bits, p, h)| {
            let base = 0x0a00_0000 | (bits & 0x00ff_ffff);
            let net = IpNetwork::new(IpAddr::V4(Ipv4Addr::from(base)), p)
                .unwrap()
                .network();
            let hosts = (1u32 << (32 - p)) - 2;
            let IpAddr::V4(n) = net.addr() else {
                unreachable!()
            };
            (
                net,
                IpAddr::V4(Ipv4Addr::from(u32::from(n) + 1 + h % hosts)),
            )
        }),
        (any::<u128>(), 16u8..=120, any::<u128>()).prop_map(|(bits, p, h)| {
            let base = (0xfdu128 << 120) | (bits >> 8);
            let net = IpNetwork::new(IpAddr::V6(Ipv6Addr::from(base)), p)
                .unwrap()
                .network();
            let hosts = (1u128 << (128 - p)) - 1;
            let IpAddr::V6(n) = net.addr() else {
                unreachable!()
            };
            (
                net,
                IpAddr::V6(Ipv6Addr::from(u128::from(n) + 1 + h % hosts)),
            )
        }),
    ]
}

fn lswitch() -> impl Strategy<Value = LogicalSwitch> {
    let seg = prop_oneof![
        Just((None, None, None)),
        Just((Some(NetworkType::Local), None, None)),
        Just((Some(NetworkType::Flat), None, Some("physnet1".to_owned()))),
        (1u32..=4094).prop_map(|s| (
            Some(NetworkType::Vlan),
            Some(s),
            Some("physnet2".to_owned())
        )),
        (0u32..1 << 24).prop_map(|s| (Some(NetworkType::Vxlan), Some(s), None)),
        (0u32..1 << 24).prop_map(|s| (Some(NetworkType::Geneve), Some(s), None)),
        any::<u32>().prop_map(|s| (Some(NetworkType::Gre), Some(s), None)),
    ];
    (
        (
            id(),
            id(),
            proptest::option::of(".{0,20}"),
            proptest::option::of(any::<u64>()),
        ),
        (
            proptest::option::of(1u32..),
            any::<bool>(),
            proptest::option::of(68u32..=65535),
        ),
        seg,
        proptest::option::of(id()),
    )
        .prop_map(
            |((id, topic, name, version), (unique_key, is_external, mtu), seg, qos)| {
                let (network_type, segmentation_id, physical_network) = seg;
                LogicalSwitch {
                    id,
                    topic,
                    name,
                    version,
                    unique_key,
                    is_external,
                    mtu,
                    segmentation_id,
                    network_type,
                    physical_network,
                    qos_policy: qos,
                }
            },
        )
}

fn lsubnet() -> impl Strategy<Value = Subnet> {
    (
        (
            id(),
            id(),
            proptest::option::of(any::<u64>()),
            any::<bool>(),
        ),
        subnet_and_host(),
        proptest::bool::ANY,
        proptest::collection::btree_set(host_ip(), 0..3),
        proptest::collection::vec((subnet_and_host(), host_ip()), 0..3),
        id(),
    )
        .prop_map(
            |((id, topic, version, dhcp), (cidr, gw), with_gw, dns, routes, sw)| Subnet {
                id,
                topic,
                name: None,
                version,
                enable_dhcp: dhcp,
                dhcp_ip: None,
                cidr,
                gateway_ip: with_gw.then_some(gw),
                dns_nameservers: dns.into_iter().collect(),
                host_routes: routes
                    .into_iter()
                    .filter(|((dest, _), hop)| {
                        dest.is_ipv4() == hop.is_ipv4() && hop.is_ipv4() == cidr.is_ipv4()
                    })
                    .map(|((destination, _), nexthop)| HostRoute {
                        destination,
                        nexthop,
                    })
                    .collect(),
                lswitch: sw,
                ipv6_ra_mode: None,
                ipv6_address_mode: None,
            },
        )
}

fn lport() -> impl Strategy<Value = LogicalPort> {
    (
        (
            id(),
            id(),
            proptest::option::of(any::<u64>()),
            proptest::option::of(1u32..),
        ),
        (
            proptest::collection::btree_set(host_ip(), 0..4),
            proptest::collection::btree_set(id(), 0..3),
            proptest::collection::vec(unicast_mac(), 0..3),
        ),
        (any::<bool>(), proptest::option::of(id()), id()),
        (proptest::collection::btree_set(id(), 0..3), any::<bool>()),
        proptest::collection::vec((host_ip(), unicast_mac()), 0..3),
        (
            proptest::option::of(prop_oneof![
                Just("compute:nova".to_owned()),
                Just("network:dhcp".to_owned())
            ]),
            proptest::option::of(id()),
            proptest::option::of(proptest::collection::btree_map(1u8..=254, ".{0,12}", 0..3)),
        ),
    )
        .prop_map(
            |(
                (id, topic, version, unique_key),
                (ips, subnets, macs),
                (enabled, chassis, sw),
                (sgs, psec),
                aaps,
                (owner, qos, opts),
            )| {
                let security_groups: Vec<String> = if psec {
                    sgs.into_iter().collect()
                } else {
                    vec![]
                };
                LogicalPort {
                    id,
                    topic,
                    name: Some("port".into()),
                    version,
                    unique_key,
                    ips: ips.into_iter().collect(),
                    subnets: subnets.into_iter().collect(),
                    macs,
                    enabled,
                    binding: chassis.map(|c| PortBinding {
                        kind: BindingType::Chassis,
                        chassis: Some(c),
                        vtep_address: None,
                    }),
                    lswitch: sw,
                    security_groups,
                    allowed_address_pairs: aaps
                        .into_iter()
                        .map(|(ip_address, mac_address)| AddressPair {
                            ip_address,
                            mac_address,
                        })
                        .collect(),
                    port_security_enabled: psec,
                    device_owner: owner,
                    device_id: None,
                    qos_policy: qos,
                    dhcp_params: opts.map(|o: BTreeMap<u8, String>| DhcpParams {
                        opts: o,
                        siaddr: None,
                    }),
                    binding_vnic_type: Some("normal".into()),
                }
            },
        )
}

fn round_trip<T: Model>(m: &T) {
    m.validate()
        .unwrap_or_else(|e| panic!("generated object invalid: {e}"));
    let bytes = encode_model(m);
    let back: T = decode_model(m.id(), &bytes).unwrap();
    assert_eq!(&back, m);
    let obj = decode(T::TABLE, m.id(), &bytes).unwrap();
    assert_eq!(obj.get::<T>(), Some(m));
    assert_eq!(encode(&obj), bytes);
}

proptest! {
    #[test]
    fn mac_round_trip(b in any::<[u8; 6]>()) {
        let m = Mac(b);
        let s = m.to_string();
        prop_assert_eq!(s.parse::<Mac>().unwrap(), m);
        prop_assert_eq!(s.to_uppercase().parse::<Mac>().unwrap(), m);
        let j = serde_json::to_string(&m).unwrap();
        prop_assert_eq!(serde_json::from_str::<Mac>(&j).unwrap(), m);
        prop_assert_eq!(m.is_unicast(), b[0] & 1 == 0);
    }

    #[test]
    fn ip_network_round_trip(n in network(), probe in ip()) {
        prop_assert_eq!(n.to_string().parse::<IpNetwork>().unwrap(), n);
        let j = serde_json::to_string(&n).unwrap();
        prop_assert_eq!(serde_json::from_str::<IpNetwork>(&j).unwrap(), n);
        prop_assert!(!n.network().has_host_bits());
        prop_assert!(n.contains(n.addr()) && n.contains(n.network_address()));
        prop_assert_eq!(n.contains(probe), n.network().contains(probe));
        if n.contains(probe) {
            prop_assert!(n.overlaps(&IpNetwork::new(probe, n.max_prefix_len()).unwrap()));
        }
    }

    #[test]
    fn port_range_round_trip(a in any::<u16>(), b in any::<u16>()) {
        prop_assert_eq!(PortRange::new(a, b).is_ok(), a <= b);
        let r = PortRange::new(a.min(b), a.max(b)).unwrap();
        let j = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(serde_json::from_str::<PortRange>(&j).unwrap(), r);
        prop_assert!(r.contains(r.min()) && r.contains(r.max()));
    }

    #[test]
    fn lswitch_round_trip(sw in lswitch()) {
        round_trip(&sw);
    }

    #[test]
    fn lsubnet_round_trip(s in lsubnet()) {
        round_trip(&s);
    }

    #[test]
    fn lport_round_trip(p in lport()) {
        round_trip(&p);
    }

    /// Garbage never panics the decoder.
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode("lport", "p1", &bytes);
    }
}

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|v| json!(v)),
        any::<u64>().prop_map(|v| json!(v)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|v| json!(v)),
        prop_oneof![
            Just("10.0.0.0/0".to_owned()),
            Just("::/128".to_owned()),
            Just("255.255.255.255/32".to_owned()),
            Just("10.0.0.1/31".to_owned()),
            Just("fa:16:3e:00:00:01".to_owned()),
            Just("tcp".to_owned()),
            ".{0,8}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const MUTATED: &[(&str, &str)] = &[
    ("lport", include_str!("fixtures/lport.json")),
    ("lrouter", include_str!("fixtures/lrouter.json")),
    ("lswitch", include_str!("fixtures/lswitch.json")),
    ("lsubnet", include_str!("fixtures/lsubnet.json")),
    ("secgroup", include_str!("fixtures/secgroup.json")),
    ("firewall_rule", include_str!("fixtures/firewall_rule.json")),
    ("bgp_speaker", include_str!("fixtures/bgp_speaker.json")),
];

proptest! {
    /// Any value in any field of a real object is decoded or rejected with
    /// an error, never a panic, and what decodes re-encodes faithfully.
    #[test]
    fn decode_survives_any_field_value(which in 0..MUTATED.len(), field in 0usize..32, value in json_value()) {
        let (table, json) = MUTATED[which];
        let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
        let obj = v.as_object_mut().unwrap();
        let keys: Vec<String> = obj.keys().filter(|k| *k != "id").cloned().collect();
        let key = keys[field % keys.len()].clone();
        obj.insert(key, value);
        let id = obj["id"].as_str().unwrap().to_owned();
        let bytes = serde_json::to_vec(&v).unwrap();
        if let Ok(o) = decode(table, &id, &bytes) {
            prop_assert_eq!(decode(table, &id, &encode(&o)).unwrap(), o);
        }
    }
}
