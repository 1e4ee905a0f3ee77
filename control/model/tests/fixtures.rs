//! Every table's fixture decodes, validates, re-encodes and decodes equal;
//! the schema text lists exactly the fields the structs serialise; TABLES is
//! in dependency order.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{fixture_id, FIXTURES};
use df_model::{decode, encode, schema_text, table_info, type_schema, Object, SCHEMA, TABLES};
use serde_json::Value;

#[test]
fn every_table_has_a_fixture() {
    for t in TABLES {
        assert!(FIXTURES.iter().any(|(f, _)| f == t), "no fixture for {t}");
    }
    assert_eq!(TABLES.len(), 24);
}

#[test]
fn fixtures_round_trip() {
    for (table, json) in FIXTURES {
        let id = fixture_id(json);
        let obj = decode(table, &id, json.as_bytes()).unwrap_or_else(|e| panic!("{table}: {e}"));
        assert_eq!(obj.table(), *table);
        assert_eq!(obj.id(), id);
        obj.validate_stored().unwrap();
        let bytes = encode(&obj);
        assert!(!bytes.contains(&b'\n'), "encode is compact");
        let again = decode(table, &id, &bytes).unwrap();
        assert_eq!(again, obj, "{table}");
        // Every field of the fixture survives (nothing silently dropped).
        let original: Value = serde_json::from_str(json).unwrap();
        let encoded: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            keys(&original),
            keys(&encoded),
            "{table}: encode keeps every field the fixture sets"
        );
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// The schema section of `name` in the text, as its field names.
fn text_fields(text: &str, name: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("table ") || line.starts_with("embedded ") {
            let head = line.split_whitespace().nth(1).unwrap_or("");
            let head = head.trim_end_matches(':');
            inside = head == name;
        } else if inside && line.starts_with("  ") {
            out.insert(line.split_whitespace().next().unwrap().to_owned());
        }
    }
    out
}

/// Embedded types and where their objects sit in a table's JSON.
const EMBEDDED: &[(&str, &str, &str)] = &[
    ("qospolicy", "rules", "QosPolicyRule"),
    ("lsubnet", "host_routes", "HostRoute"),
    ("lrouter", "routes", "HostRoute"),
    ("bgp_speaker", "host_routes", "HostRoute"),
    ("bgp_speaker", "prefix_routes", "HostRoute"),
    ("secgroup", "rules", "SecurityGroupRule"),
    ("lport", "binding", "PortBinding"),
    ("lport", "allowed_address_pairs", "AddressPair"),
    ("lport", "dhcp_params", "DhcpParams"),
    ("lrouter", "ports", "LogicalRouterPort"),
];

#[test]
fn schema_matches_structs() {
    let text = schema_text();
    // Struct -> schema: every key an encoded object has is documented, in
    // the structured schema and in the text section of its table.
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (table, json) in FIXTURES {
        let obj = decode(table, &fixture_id(json), json.as_bytes()).unwrap();
        let v: Value = serde_json::from_slice(&encode(&obj)).unwrap();
        let schema = type_schema(table).unwrap();
        let in_text = text_fields(&text, table);
        for k in keys(&v) {
            assert!(
                schema.fields.iter().any(|f| f.name == k),
                "{table}.{k} missing from SCHEMA"
            );
            assert!(
                in_text.contains(&k),
                "{table}.{k} missing from schema_text()"
            );
            seen.insert((table.to_string(), k));
        }
        for (owner, field, ty) in EMBEDDED.iter().filter(|(o, _, _)| o == table) {
            let items: Vec<&Value> = match &v[*field] {
                Value::Array(a) => a.iter().collect(),
                Value::Null => vec![],
                one => vec![one],
            };
            let schema = type_schema(ty).unwrap();
            let in_text = text_fields(&text, ty);
            for item in items {
                for k in keys(item) {
                    assert!(
                        schema.fields.iter().any(|f| f.name == k),
                        "{ty}.{k} ({owner})"
                    );
                    assert!(in_text.contains(&k), "{ty}.{k} missing from schema_text()");
                    seen.insert((ty.to_string(), k));
                }
            }
        }
    }
    // Schema -> struct: every documented field appears in some fixture, so
    // a field renamed or removed in a struct cannot linger in the schema.
    for t in SCHEMA {
        for f in t.fields {
            assert!(
                seen.contains(&(t.name.to_owned(), f.name.to_owned())),
                "{}.{} is in SCHEMA but in no fixture",
                t.name,
                f.name
            );
        }
    }
    // Every table has a section.
    for t in TABLES {
        assert!(text.contains(&format!("table {t}")), "{t}");
    }
}

#[test]
fn tables_are_in_dependency_order() {
    for (i, t) in TABLES.iter().enumerate() {
        let info = table_info(t).unwrap();
        for target in info.references_to {
            let j = TABLES.iter().position(|x| x == target).unwrap();
            assert!(j < i, "{t} references {target}, which comes later");
        }
    }
    // And references() only ever points where REFERENCES_TO says.
    for (table, json) in FIXTURES {
        let obj = decode(table, &fixture_id(json), json.as_bytes()).unwrap();
        let info = table_info(table).unwrap();
        for r in obj.references() {
            assert!(
                info.references_to.contains(&r.table),
                "{table}.{} -> {}",
                r.field,
                r.table
            );
        }
    }
}

#[test]
fn table_info_flags() {
    let with_keys: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| table_info(t).unwrap().has_unique_key)
        .collect();
    assert_eq!(
        with_keys,
        [
            "lswitch",
            "secgroup",
            "lport",
            "lrouter",
            "sfc_flowclassifier",
            "firewall_group"
        ]
    );
    let local: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| !table_info(t).unwrap().stored)
        .collect();
    assert_eq!(local, ["switch_port"]);
    assert!(table_info("unique_key").is_none());
}

#[test]
fn unique_keys_can_be_set_through_object() {
    let mut o: Object = common::fixture("lport");
    assert_eq!(o.unique_key(), Some(12));
    o.set_unique_key(99);
    assert_eq!(o.unique_key(), Some(99));
    let mut c = common::fixture("chassis");
    c.set_unique_key(5);
    assert_eq!(c.unique_key(), None);
    assert_eq!(o.version(), Some(9));
    assert_eq!(o.topic(), Some("1d5e4c0c6a2f4c7e9b0d5f8a3c2b1e0f"));
    assert_eq!(o.key(), "/dragonflow/lport/p1");
}

#[test]
fn stored_objects_need_their_unique_key() {
    let mut o = common::fixture("lport");
    o.get_mut::<df_model::LogicalPort>().unwrap().unique_key = None;
    o.validate().unwrap();
    assert_eq!(
        o.validate_stored().unwrap_err().to_string(),
        "lport `p1`: field `unique_key`: missing; the store allocates it when the object is created"
    );
}
