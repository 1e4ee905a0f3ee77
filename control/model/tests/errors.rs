//! Every user-facing error message, pinned: decode failures (syntax, shape,
//! unknown field, id mismatch, bad field values) and validation rules.

#![allow(clippy::unwrap_used)]

mod common;

use common::edited;
use df_model::{decode, ModelError};
use serde_json::{json, Value};

fn err(table: &str, id: &str, json: &[u8]) -> String {
    decode(table, id, json).unwrap_err().to_string()
}

/// Decodes the fixture of `table` edited by `f`; returns the error text.
fn edit_err(table: &str, f: impl FnOnce(&mut Value)) -> String {
    let bytes = edited(table, f);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    err(table, v["id"].as_str().unwrap_or("x"), &bytes)
}

fn set<'a>(path: &'a [&'a str], value: Value) -> impl FnOnce(&mut Value) + 'a {
    move |v: &mut Value| {
        let mut cur = v;
        for p in &path[..path.len() - 1] {
            cur = match p.parse::<usize>() {
                Ok(i) => &mut cur[i],
                Err(_) => &mut cur[*p],
            };
        }
        cur[path[path.len() - 1]] = value;
    }
}

#[test]
fn bad_mac() {
    assert_eq!(
        edit_err("lport", set(&["macs"], json!(["zz"]))),
        "lport `p1`: field `macs[0]`: `zz` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)"
    );
}

#[test]
fn unknown_field_keeps_serdes_text() {
    let e = edit_err("lport", set(&["colour"], json!("red")));
    assert_eq!(
        e,
        "lport `p1`: unknown field `colour`, expected one of `id`, `topic`, `name`, `version`, \
         `unique_key`, `ips`, `subnets`, `macs`, `enabled`, `binding`, `lswitch`, \
         `security_groups`, `allowed_address_pairs`, `port_security_enabled`, `device_owner`, \
         `device_id`, `qos_policy`, `dhcp_params`, `binding_vnic_type`"
    );
    let e = decode(
        "lport",
        "p1",
        &edited("lport", set(&["binding", "host"], json!("x"))),
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("binding"));
    assert_eq!(
        e.to_string(),
        "lport `p1`: field `binding`: unknown field `host`, expected one of `type`, `chassis`, `vtep_address`"
    );
}

#[test]
fn key_id_mismatch() {
    let bytes = edited("lport", set(&["id"], json!("p2")));
    assert_eq!(
        err("lport", "p1", &bytes),
        "lport key says id `p1` but the object's id is `p2`"
    );
    let e = decode("lport", "p1", &bytes).unwrap_err();
    assert!(matches!(e, ModelError::IdMismatch { .. }));
    assert_eq!((e.table(), e.id()), (Some("lport"), Some("p1")));
}

#[test]
fn gateway_outside_cidr() {
    let bytes = edited("lsubnet", |v| {
        v["id"] = json!("s1");
        v["gateway_ip"] = json!("10.0.1.1");
    });
    assert_eq!(
        err("lsubnet", "s1", &bytes),
        "lsubnet `s1`: field `gateway_ip`: 10.0.1.1 is not inside cidr 10.0.0.0/24"
    );
}

#[test]
fn malformed_json_has_line_and_column() {
    let e = decode("lport", "p1", b"{\"id\": \"p1\",\n  \"macs\": [}").unwrap_err();
    let ModelError::Syntax { line, column, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!((*line, *column), (2, 12));
    assert_eq!(
        e.to_string(),
        "lport `p1`: malformed JSON at line 2 column 12: expected value"
    );
    assert_eq!(
        err("lport", "p1", b""),
        "lport `p1`: malformed JSON at line 1 column 0: EOF while parsing a value"
    );
    assert_eq!(
        err("lport", "p1", b"[1]"),
        "lport `p1`: expected a JSON object, found an array"
    );
}

#[test]
fn unknown_table() {
    let e = err("ports", "p1", b"{}");
    assert!(
        e.starts_with("unknown table `ports` (known tables: chassis, publisher,"),
        "{e}"
    );
}

#[test]
fn missing_and_mistyped_fields() {
    assert_eq!(
        edit_err("lport", |v| {
            v.as_object_mut().unwrap().remove("lswitch");
        }),
        "lport `p1`: missing field `lswitch`"
    );
    assert_eq!(
        edit_err("lport", set(&["enabled"], json!("yes"))),
        "lport `p1`: field `enabled`: invalid type: string \"yes\", expected a boolean"
    );
    assert_eq!(
        edit_err("lport", set(&["ips"], json!(["10.0.0.5", "10.0.0.300"]))),
        "lport `p1`: field `ips[1]`: `10.0.0.300` is not an IP address (expected e.g. 10.0.0.5 or fd00::5)"
    );
    assert_eq!(
        edit_err("lport", set(&["binding"], json!(["chassis"]))),
        "lport `p1`: field `binding`: invalid type: sequence, expected struct PortBinding"
    );
    assert_eq!(
        edit_err("lswitch", set(&["network_type"], json!("vlan2"))),
        "lswitch `3f1a6c2e-7b0d-4e5f-9a8b-1c2d3e4f5a6b`: field `network_type`: unknown variant `vlan2`, \
         expected one of `local`, `flat`, `vlan`, `vxlan`, `geneve`, `gre`"
    );
    assert_eq!(
        edit_err("lswitch", set(&["unique_key"], json!(-1))),
        "lswitch `3f1a6c2e-7b0d-4e5f-9a8b-1c2d3e4f5a6b`: field `unique_key`: invalid value: integer `-1`, expected u32"
    );
}

#[test]
fn bad_cidr() {
    assert_eq!(
        edit_err("lsubnet", set(&["cidr"], json!("10.0.0.0/33"))),
        "lsubnet `a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d`: field `cidr`: \
         `10.0.0.0/33` is not an IP network: prefix length 33 is longer than 32 bits"
    );
    assert_eq!(
        edit_err("lsubnet", set(&["cidr"], json!("10.0.0.0"))),
        "lsubnet `a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d`: field `cidr`: `10.0.0.0` is not an IP network \
         (expected address/prefix-length, e.g. 10.0.0.0/24 or fd00::/64)"
    );
    assert_eq!(
        edit_err("lsubnet", set(&["cidr"], json!("10.0.0.1/24"))),
        "lsubnet `a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d`: field `cidr`: 10.0.0.1/24 has host bits set \
         (did you mean 10.0.0.0/24?)"
    );
}

#[test]
fn vlan_id_out_of_range() {
    let sw = "lswitch `3f1a6c2e-7b0d-4e5f-9a8b-1c2d3e4f5a6b`";
    assert_eq!(
        edit_err("lswitch", set(&["segmentation_id"], json!(5000))),
        format!("{sw}: field `segmentation_id`: 5000 is not a valid VLAN id (expected 1..=4094 for network_type vlan)")
    );
    assert_eq!(
        edit_err("lswitch", |v| {
            v["network_type"] = json!("vxlan");
            v.as_object_mut().unwrap().remove("physical_network");
            v["segmentation_id"] = json!(1 << 24);
        }),
        format!("{sw}: field `segmentation_id`: 16777216 is not a valid VNI (expected 0..=16777215 for network_type vxlan)")
    );
    assert_eq!(
        edit_err("lswitch", |v| {
            v.as_object_mut().unwrap().remove("segmentation_id");
        }),
        format!("{sw}: field `segmentation_id`: a vlan network needs a segmentation_id (VLAN id)")
    );
    assert_eq!(
        edit_err("lswitch", |v| {
            v.as_object_mut().unwrap().remove("physical_network");
        }),
        format!("{sw}: field `physical_network`: a vlan network needs a physical_network")
    );
    assert_eq!(
        edit_err("lswitch", set(&["mtu"], json!(20))),
        format!("{sw}: field `mtu`: 20 is not a valid MTU (expected 68..=65535)")
    );
    assert_eq!(
        edit_err(
            "child_port_segmentation",
            set(&["segmentation_id"], json!(0))
        ),
        "child_port_segmentation `c5f0b7a2-9d7e-5f1c-8b3a-2e4d6f8a0b1c`: field `segmentation_id`: \
         0 is not a valid VLAN id (expected 1..=4094 for segmentation_type vlan)"
    );
}

#[test]
fn lport_rules() {
    let p = "lport `p1`";
    assert_eq!(
        edit_err("lport", set(&["macs"], json!(["01:00:5e:00:00:01"]))),
        format!("{p}: field `macs[0]`: 01:00:5e:00:00:01 is a multicast MAC address; a port needs a unicast one (first byte even)")
    );
    assert_eq!(
        edit_err("lport", set(&["id"], json!("a/b"))),
        "lport `a/b`: field `id`: `a/b` is not a valid id (it must be non-empty, without `/` or control characters)"
    );
    assert_eq!(
        edit_err("lport", set(&["security_groups"], json!(["sg", "sg"]))),
        format!("{p}: field `security_groups[1]`: `sg` is listed twice")
    );
    assert_eq!(
        edit_err("lport", set(&["port_security_enabled"], json!(false))),
        format!("{p}: field `security_groups`: a port with port_security_enabled false cannot have security groups")
    );
    assert_eq!(
        edit_err("lport", set(&["binding"], json!({"type": "chassis"}))),
        format!("{p}: field `binding.chassis`: a chassis binding needs a chassis")
    );
    assert_eq!(
        edit_err("lport", set(&["dhcp_params", "opts"], json!({"255": "x"}))),
        format!("{p}: field `dhcp_params.opts`: 255 is not a DHCP option tag (expected 1..=254; 0 is pad, 255 is end)")
    );
    assert_eq!(
        edit_err("lport", set(&["dhcp_params", "opts"], json!({"300": "x"}))),
        format!("{p}: field `dhcp_params.opts`: invalid value: integer `300`, expected u8")
    );
    assert_eq!(
        edit_err("lport", set(&["unique_key"], json!(0))),
        format!("{p}: field `unique_key`: 0 is reserved for \"no object\" in the datapath registers (keys start at 1)")
    );
    assert_eq!(
        edit_err("lport", set(&["binding_vnic_type"], json!("fast"))),
        format!("{p}: field `binding_vnic_type`: `fast` is not a vnic type (expected one of: normal, direct, macvtap, \
                 baremetal, direct-physical, virtio-forwarder, smart-nic, vdpa, accelerator-direct, \
                 accelerator-direct-physical, remote-managed)")
    );
    assert_eq!(
        edit_err("lport", set(&["topic"], json!(""))),
        format!("{p}: field `topic`: the topic (project id) must be non-empty")
    );
}

#[test]
fn subnet_rules() {
    let s = "lsubnet `a7b8c9d0-1e2f-4a3b-8c4d-5e6f7a8b9c0d`";
    assert_eq!(
        edit_err("lsubnet", set(&["dns_nameservers"], json!(["0.0.0.0"]))),
        format!("{s}: field `dns_nameservers[0]`: 0.0.0.0 is not a host address")
    );
    assert_eq!(
        edit_err("lsubnet", set(&["host_routes", "0", "nexthop"], json!("fd00::1"))),
        format!("{s}: field `host_routes[0].nexthop`: fd00::1 is not of the same IP version as destination 192.168.50.0/24")
    );
    assert_eq!(
        edit_err("lsubnet", set(&["host_routes", "0", "destination"], json!("192.168.50.1/24"))),
        format!("{s}: field `host_routes[0].destination`: 192.168.50.1/24 has host bits set (did you mean 192.168.50.0/24?)")
    );
    assert_eq!(
        edit_err("lsubnet", set(&["dhcp_ip"], json!("10.9.0.2"))),
        format!("{s}: field `dhcp_ip`: 10.9.0.2 is not inside cidr 10.0.0.0/24")
    );
}

#[test]
fn secgroup_rules() {
    let g = "secgroup `sg-default`";
    assert_eq!(
        edit_err(
            "secgroup",
            set(&["rules", "2", "remote_ip_prefix"], json!("fd00::/64"))
        ),
        format!("{g}: field `rules[2].remote_ip_prefix`: fd00::/64 does not match ethertype IPv4")
    );
    assert_eq!(
        edit_err("secgroup", set(&["rules", "2", "protocol"], json!(300))),
        format!("{g}: field `rules[2].protocol`: 300 is not an IP protocol (expected 0..=255 or a protocol name such as tcp, udp, icmp, icmpv6, sctp)")
    );
    assert_eq!(
        edit_err("secgroup", set(&["rules", "2", "port_range_min"], json!(80))),
        format!("{g}: field `rules[2].port_range_min`: port_range_min 80 is greater than port_range_max 22")
    );
    assert_eq!(
        edit_err(
            "secgroup",
            set(&["rules", "3", "port_range_min"], json!(256))
        ),
        format!(
            "{g}: field `rules[3].port_range_min`: 256 is not an ICMP type/code (expected 0..=255)"
        )
    );
    assert_eq!(
        edit_err("secgroup", set(&["rules", "2", "protocol"], json!("gre"))),
        format!("{g}: field `rules[2].port_range_min`: protocol 47 has no ports")
    );
    assert_eq!(
        edit_err("secgroup", set(&["rules", "2", "remote_group_id"], json!("sg-x"))),
        format!("{g}: field `rules[2].remote_ip_prefix`: remote_ip_prefix and remote_group_id are mutually exclusive")
    );
    assert_eq!(
        edit_err("secgroup", set(&["rules", "0", "security_group_id"], json!("sg-x"))),
        format!("{g}: field `rules[0].security_group_id`: the rule says it belongs to `sg-x` but it is embedded in `sg-default`")
    );
    assert_eq!(
        edit_err("secgroup", set(&["rules", "1", "id"], json!("sgr-1"))),
        format!("{g}: field `rules[1].id`: `sgr-1` is used by two entries")
    );
}

#[test]
fn router_rules() {
    let r = "lrouter `router-1`";
    assert_eq!(
        edit_err("lrouter", set(&["ports", "0", "network"], json!("10.0.0.0/24"))),
        format!("{r}: field `ports[0].network`: 10.0.0.0/24 is the subnet, not an interface address (expected address/prefix, e.g. 10.0.0.1/24)")
    );
    assert_eq!(
        edit_err(
            "lrouter",
            set(&["ports", "0", "network"], json!("10.0.0.255/24"))
        ),
        format!(
            "{r}: field `ports[0].network`: 10.0.0.255 is the broadcast address of 10.0.0.0/24"
        )
    );
    assert_eq!(
        edit_err("lrouter", set(&["ports", "1", "network"], json!("10.0.0.9/16"))),
        format!("{r}: field `ports[1].network`: 10.0.0.9/16 overlaps ports[0].network 10.0.0.1/24; a router cannot have two interfaces on overlapping subnets")
    );
    assert_eq!(
        edit_err("lrouter", set(&["ports", "1", "mac"], json!("ff:ff:ff:ff:ff:ff"))),
        format!("{r}: field `ports[1].mac`: ff:ff:ff:ff:ff:ff is a multicast MAC address; a port needs a unicast one (first byte even)")
    );
}

#[test]
fn floating_ip_rules() {
    let f = "floatingip `fip-1`";
    assert_eq!(
        edit_err("floatingip", set(&["floating_ip_address"], json!("2001:db8::10"))),
        format!("{f}: field `floating_ip_address`: 2001:db8::10 is not an IPv4 address (floating IPs are IPv4 only)")
    );
    assert_eq!(
        edit_err("floatingip", set(&["fixed_ip_address"], json!("fd00::5"))),
        format!("{f}: field `fixed_ip_address`: fd00::5 is not of the IP version of floating_ip_address 172.24.4.10")
    );
    assert_eq!(
        edit_err("floatingip", |v| {
            v.as_object_mut().unwrap().remove("lport");
        }),
        format!("{f}: field `lport`: fixed_ip_address 10.0.0.5 is set but lport (the fixed port) is not")
    );
}

#[test]
fn firewall_rules() {
    let r = "firewall_rule `fwr-1`";
    assert_eq!(
        edit_err("firewall_rule", set(&["ip_version"], json!(6))),
        format!("{r}: field `source_ip_address`: 192.168.0.4/32 does not match ip_version 6")
    );
    assert_eq!(
        edit_err("firewall_rule", set(&["protocol"], json!("icmp"))),
        format!("{r}: field `source_port`: protocol icmp has no ports")
    );
    assert_eq!(
        edit_err("firewall_rule", set(&["destination_port"], json!([443, 80]))),
        format!("{r}: field `destination_port`: `[443, 80]` is not a port range (min 443 is greater than max 80)")
    );
    assert_eq!(
        edit_err("firewall_rule", set(&["action"], json!("drop"))),
        format!("{r}: field `action`: unknown variant `drop`, expected one of `allow`, `deny`, `reject`")
    );
    assert_eq!(
        edit_err(
            "firewall_policy",
            set(&["firewall_rules"], json!(["a", "a"]))
        ),
        "firewall_policy `fwp-1`: field `firewall_rules[1]`: `a` is listed twice"
    );
}

#[test]
fn other_table_rules() {
    assert_eq!(
        edit_err("sfc_flowclassifier", set(&["dest_port"], json!("p2"))),
        "sfc_flowclassifier `fc-1`: source_port and dest_port cannot both be set"
    );
    assert_eq!(
        edit_err(
            "sfc_flowclassifier",
            set(&["source_cidr"], json!("fd00::/64"))
        ),
        "sfc_flowclassifier `fc-1`: field `source_cidr`: fd00::/64 does not match ether_type IPv4"
    );
    assert_eq!(
        edit_err("qospolicy", set(&["rules", "1", "dscp_mark"], json!(47))),
        "qospolicy `qos-7e3a`: field `rules[1].dscp_mark`: 47 is not a valid DSCP mark (expected one of \
         [0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56])"
    );
    assert_eq!(
        edit_err("chassis", set(&["tunnel_types"], json!([]))),
        "chassis `compute-1`: field `tunnel_types`: at least one tunnel type is required (vxlan, geneve or gre)"
    );
    assert_eq!(
        edit_err("bgp_speaker", set(&["host_routes", "0", "destination"], json!("172.24.4.0/24"))),
        "bgp_speaker `speaker-1`: field `host_routes[0].destination`: 172.24.4.0/24 is not a host prefix (expected /32)"
    );
    assert_eq!(
        edit_err("bgp_peer", set(&["password"], Value::Null)),
        "bgp_peer `peer-1`: field `password`: auth_type md5 needs a password"
    );
    assert_eq!(
        edit_err("migration", set(&["lport"], json!("p9"))),
        "migration `p1`: field `lport`: `p9` differs from the id; a migration's id is its lport's id"
    );
    assert_eq!(
        edit_err("publisher", set(&["uri"], json!("192.168.100.2:8866"))),
        "publisher `9c1d7d8e-2a57-4c43-9a3b-3f4c7f0e5b21`: field `uri`: `192.168.100.2:8866` is not a URI \
         (expected scheme://address, e.g. tcp://10.0.0.2:8866)"
    );
}

#[test]
fn password_is_not_in_debug_output() {
    let o = common::fixture("bgp_peer");
    let d = format!("{o:?}");
    assert!(!d.contains("s3cret") && d.contains("<redacted>"), "{d}");
}
