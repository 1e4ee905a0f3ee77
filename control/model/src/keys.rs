//! Table names and store keys.
//!
//! Why here, as plain functions: every store (embedded, etcd) and the
//! controller must agree byte for byte on where an object lives. Dragonflow's
//! layout is kept: `/dragonflow/<table>/<id>` for objects and
//! `/dragonflow/unique_key/<table>` for each table's unique-key counter
//! (advanced by compare-and-swap in the store layer, not here).

use crate::check::id_ok;
use crate::object::TABLES;

/// Prefix of every key.
pub const PREFIX: &str = "/dragonflow/";

/// The directory holding the unique-key counters. Not a table.
pub const UNIQUE_KEY_DIR: &str = "unique_key";

/// Table names, for references and matches.
pub mod table {
    /// `chassis`.
    pub const CHASSIS: &str = "chassis";
    /// `publisher`.
    pub const PUBLISHER: &str = "publisher";
    /// `listener`.
    pub const LISTENER: &str = "listener";
    /// `service`.
    pub const SERVICE: &str = "service";
    /// `qospolicy`.
    pub const QOSPOLICY: &str = "qospolicy";
    /// `lswitch`.
    pub const LSWITCH: &str = "lswitch";
    /// `lsubnet`.
    pub const LSUBNET: &str = "lsubnet";
    /// `secgroup`.
    pub const SECGROUP: &str = "secgroup";
    /// `lport`.
    pub const LPORT: &str = "lport";
    /// `lrouter`.
    pub const LROUTER: &str = "lrouter";
    /// `floatingip`.
    pub const FLOATINGIP: &str = "floatingip";
    /// `activeport`.
    pub const ACTIVEPORT: &str = "activeport";
    /// `migration`.
    pub const MIGRATION: &str = "migration";
    /// `child_port_segmentation`.
    pub const CHILD_PORT_SEGMENTATION: &str = "child_port_segmentation";
    /// `switch_port` (local only, never stored).
    pub const SWITCH_PORT: &str = "switch_port";
    /// `sfc_portpair`.
    pub const SFC_PORTPAIR: &str = "sfc_portpair";
    /// `sfc_portpairgroup`.
    pub const SFC_PORTPAIRGROUP: &str = "sfc_portpairgroup";
    /// `sfc_flowclassifier`.
    pub const SFC_FLOWCLASSIFIER: &str = "sfc_flowclassifier";
    /// `sfc_portchain`.
    pub const SFC_PORTCHAIN: &str = "sfc_portchain";
    /// `bgp_peer`.
    pub const BGP_PEER: &str = "bgp_peer";
    /// `bgp_speaker`.
    pub const BGP_SPEAKER: &str = "bgp_speaker";
    /// `firewall_rule`.
    pub const FIREWALL_RULE: &str = "firewall_rule";
    /// `firewall_policy`.
    pub const FIREWALL_POLICY: &str = "firewall_policy";
    /// `firewall_group`.
    pub const FIREWALL_GROUP: &str = "firewall_group";
}

/// `/dragonflow/<table>/<id>`.
pub fn key(table: &str, id: &str) -> String {
    format!("{PREFIX}{table}/{id}")
}

/// `/dragonflow/<table>/`, the prefix to list or watch a whole table.
pub fn table_prefix(table: &str) -> String {
    format!("{PREFIX}{table}/")
}

/// `/dragonflow/unique_key/<table>`, the table's unique-key counter.
pub fn unique_key_counter(table: &str) -> String {
    format!("{PREFIX}{UNIQUE_KEY_DIR}/{table}")
}

/// Splits an object key into (table, id). `None` for anything else: another
/// prefix, an unknown table (including the `unique_key` counters), an empty
/// id or one with `/`.
pub fn parse_key(key: &str) -> Option<(&'static str, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let (table, id) = rest.split_once('/')?;
    let table = TABLES.iter().copied().find(|t| *t == table)?;
    id_ok(id).then_some((table, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        assert_eq!(key("lport", "p1"), "/dragonflow/lport/p1");
        assert_eq!(parse_key("/dragonflow/lport/p1"), Some(("lport", "p1")));
        assert_eq!(table_prefix("lport"), "/dragonflow/lport/");
        assert_eq!(unique_key_counter("lport"), "/dragonflow/unique_key/lport");
        assert_eq!(parse_key("/dragonflow/unique_key/lport"), None);
        assert_eq!(parse_key("/dragonflow/lport/"), None);
        assert_eq!(parse_key("/dragonflow/lport/a/b"), None);
        assert_eq!(parse_key("/dragonflow/nope/x"), None);
        assert_eq!(parse_key("/other/lport/x"), None);
        assert_eq!(parse_key("/dragonflow/lport"), None);
    }
}
