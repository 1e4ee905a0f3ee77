//! Fixtures shared by the integration tests: one realistic object per table,
//! plus a second where one object cannot show every field (an lport bound to
//! a VTEP; a flow classifier on its destination port).

#![allow(dead_code, clippy::unwrap_used)]

pub const FIXTURES: &[(&str, &str)] = &[
    ("chassis", include_str!("../fixtures/chassis.json")),
    ("publisher", include_str!("../fixtures/publisher.json")),
    ("listener", include_str!("../fixtures/listener.json")),
    ("service", include_str!("../fixtures/service.json")),
    ("qospolicy", include_str!("../fixtures/qospolicy.json")),
    ("lswitch", include_str!("../fixtures/lswitch.json")),
    ("lsubnet", include_str!("../fixtures/lsubnet.json")),
    ("secgroup", include_str!("../fixtures/secgroup.json")),
    ("lport", include_str!("../fixtures/lport.json")),
    ("lport", include_str!("../fixtures/lport_vtep.json")),
    ("lrouter", include_str!("../fixtures/lrouter.json")),
    ("floatingip", include_str!("../fixtures/floatingip.json")),
    ("activeport", include_str!("../fixtures/activeport.json")),
    ("migration", include_str!("../fixtures/migration.json")),
    (
        "child_port_segmentation",
        include_str!("../fixtures/child_port_segmentation.json"),
    ),
    ("switch_port", include_str!("../fixtures/switch_port.json")),
    (
        "sfc_portpair",
        include_str!("../fixtures/sfc_portpair.json"),
    ),
    (
        "sfc_portpairgroup",
        include_str!("../fixtures/sfc_portpairgroup.json"),
    ),
    (
        "sfc_flowclassifier",
        include_str!("../fixtures/sfc_flowclassifier.json"),
    ),
    (
        "sfc_flowclassifier",
        include_str!("../fixtures/sfc_flowclassifier_dest.json"),
    ),
    (
        "sfc_portchain",
        include_str!("../fixtures/sfc_portchain.json"),
    ),
    ("bgp_peer", include_str!("../fixtures/bgp_peer.json")),
    ("bgp_speaker", include_str!("../fixtures/bgp_speaker.json")),
    (
        "firewall_rule",
        include_str!("../fixtures/firewall_rule.json"),
    ),
    (
        "firewall_policy",
        include_str!("../fixtures/firewall_policy.json"),
    ),
    (
        "firewall_group",
        include_str!("../fixtures/firewall_group.json"),
    ),
];

/// The fixture's id, read from its JSON.
pub fn fixture_id(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// The first fixture of `table`, decoded.
pub fn fixture(table: &str) -> df_model::Object {
    let (_, json) = FIXTURES.iter().find(|(t, _)| *t == table).unwrap();
    df_model::decode(table, &fixture_id(json), json.as_bytes()).unwrap()
}

/// The fixture JSON of the lport, edited by `f`, as bytes.
pub fn edited(table: &str, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (_, json) = FIXTURES.iter().find(|(t, _)| *t == table).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}
