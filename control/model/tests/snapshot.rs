//! References and the `Snapshot` helper: what an lport references, missing
//! references (parking), dangling references and referrers.

#![allow(clippy::unwrap_used)]

mod common;

use common::fixture;
use df_model::{
    Chassis, LogicalPort, LogicalSwitch, Model, Object, QosPolicy, Ref, SecurityGroup, Snapshot,
    Subnet, TABLES,
};

const NET: &str = "3f1a6c2e-7b0d-4e5f-9a8b-1c2d3e4f5a6b";
const SUBNET: &str = "a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d";

#[test]
fn lport_references_name_every_field() {
    let refs = fixture("lport").references();
    assert_eq!(
        refs,
        vec![
            Ref::new("lswitch", NET, "lswitch"),
            Ref::new("lsubnet", SUBNET, "subnets[0]"),
            Ref::new("lsubnet", "v6-subnet", "subnets[1]"),
            Ref::new("secgroup", "sg-default", "security_groups[0]"),
            Ref::new("secgroup", "sg-web", "security_groups[1]"),
            Ref::new("qospolicy", "qos-7e3a", "qos_policy"),
            Ref::new("chassis", "compute-1", "binding.chassis"),
        ]
    );
}

#[test]
fn embedded_and_optional_references() {
    let refs = fixture("lrouter").references();
    assert_eq!(
        refs,
        vec![
            Ref::new("lswitch", NET, "ports[0].lswitch"),
            Ref::new("lswitch", "net-2", "ports[1].lswitch"),
        ]
    );
    let fc = fixture("sfc_flowclassifier").references();
    assert_eq!(fc, vec![Ref::new("lport", "p1", "source_port")]);
    assert!(
        fixture("secgroup").references().is_empty(),
        "remote_group_id is not a reference"
    );
}

#[test]
fn an_object_waits_until_its_references_arrive() {
    let mut snap = Snapshot::new();
    let port = fixture("lport");
    assert_eq!(snap.missing_refs(&port).len(), 7);
    for t in ["lswitch", "lsubnet", "secgroup", "qospolicy", "chassis"] {
        snap.insert(fixture(t));
    }
    let missing: Vec<String> = snap
        .missing_refs(&port)
        .into_iter()
        .map(|r| r.field)
        .collect();
    assert_eq!(missing, ["subnets[1]", "security_groups[1]"]);
    let mut web = snap.get::<SecurityGroup>("sg-default").unwrap().clone();
    web.id = "sg-web".into();
    web.unique_key = Some(3);
    snap.insert_model(web);
    let mut v6 = snap.get::<Subnet>(SUBNET).unwrap().clone();
    v6.id = "v6-subnet".into();
    v6.cidr = "fd00::/64".parse().unwrap();
    v6.gateway_ip = Some("fd00::1".parse().unwrap());
    v6.dhcp_ip = None;
    v6.host_routes.clear();
    v6.dns_nameservers.clear();
    v6.validate().unwrap();
    snap.insert(v6.into());
    assert!(snap.missing_refs(&port).is_empty());
    assert!(snap.insert(port.clone()).is_none());
    assert_eq!(
        snap.insert(port.clone()),
        Some(port),
        "insert returns the replaced object"
    );
    assert!(snap.dangling().is_empty());
}

#[test]
fn get_iter_remove() {
    let snap: Snapshot = [
        "chassis",
        "qospolicy",
        "lswitch",
        "lsubnet",
        "lport",
        "lrouter",
    ]
    .into_iter()
    .map(fixture)
    .collect();
    assert_eq!(snap.len(), 6);
    assert_eq!(
        snap.get::<LogicalPort>("p1")
            .unwrap()
            .mac()
            .unwrap()
            .to_string(),
        "fa:16:3e:8c:12:34"
    );
    assert!(snap.get::<LogicalSwitch>("p1").is_none());
    assert!(snap.get::<Chassis>("compute-1").is_some());
    assert_eq!(snap.iter::<LogicalPort>().count(), 1);
    assert_eq!(
        snap.iter::<QosPolicy>()
            .map(|q| q.id.as_str())
            .collect::<Vec<_>>(),
        ["qos-7e3a"]
    );

    // objects() follows dependency order.
    let order: Vec<usize> = snap
        .objects()
        .map(|o| TABLES.iter().position(|t| *t == o.table()).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");

    // Who points at the network?
    let mut who: Vec<(String, String)> = snap
        .referrers("lswitch", NET)
        .into_iter()
        .map(|(o, r)| (o.table().to_owned(), r.field))
        .collect();
    who.sort();
    assert_eq!(
        who,
        [
            ("lport".to_owned(), "lswitch".to_owned()),
            ("lrouter".to_owned(), "ports[0].lswitch".to_owned()),
            ("lsubnet".to_owned(), "lswitch".to_owned()),
        ]
    );

    let mut snap = snap;
    let removed = snap.remove("lswitch", NET).unwrap();
    assert_eq!(removed.table(), "lswitch");
    assert!(snap.remove("lswitch", NET).is_none());
    let dangling: Vec<(String, String, String)> = snap
        .dangling()
        .into_iter()
        .filter(|d| d.reference.table == "lswitch")
        .map(|d| (d.owner_table.to_owned(), d.owner_id, d.reference.field))
        .collect();
    assert_eq!(
        dangling,
        [
            (
                "lsubnet".to_owned(),
                SUBNET.to_owned(),
                "lswitch".to_owned()
            ),
            ("lport".to_owned(), "p1".to_owned(), "lswitch".to_owned()),
            (
                "lrouter".to_owned(),
                "router-1".to_owned(),
                "ports[0].lswitch".to_owned()
            ),
            (
                "lrouter".to_owned(),
                "router-1".to_owned(),
                "ports[1].lswitch".to_owned()
            ),
        ]
    );
}

#[test]
fn object_downcasts() {
    let mut o: Object = fixture("lport");
    assert!(o.get::<LogicalPort>().is_some());
    assert!(o.get::<LogicalSwitch>().is_none());
    o.get_mut::<LogicalPort>().unwrap().enabled = false;
    assert!(!o.get::<LogicalPort>().unwrap().enabled);
    assert_eq!(<LogicalPort as Model>::TABLE, "lport");
}
