//! `provider`'s tables: switch port -> uplink (its flat network, if any),
//! and (switch port, VLAN id) -> network key.
//!
//! The port table is direct-indexed like `input`'s (switch port ids are
//! small and dense); VLAN networks are one hash map keyed by port and VID
//! together, so an uplink without VLANs costs nothing and a lookup is one
//! probe.

use hashbrown::HashMap;

use crate::config::ProviderConfig;

/// Highest VLAN id a network may use (4095 is reserved, 0 means
/// "priority tag only").
pub(crate) const VID_MAX: u16 = 4094;

/// The key of a VLAN network: switch port in the high bits, VID in the low 12.
#[inline]
pub(crate) fn vlan_key(port: u16, vid: u16) -> u32 {
    (u32::from(port) << 12) | u32::from(vid & 0x0fff)
}

/// A network on an uplink: its key and the uplink's port key in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) network: u32,
    pub(crate) port_key: u32,
}

/// One uplink as the stage needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UplinkEntry {
    /// The flat (untagged) network.
    pub(crate) flat: Option<Segment>,
}

/// Lookup-ready uplink state.
#[derive(Debug, Clone, Default)]
pub struct ProviderTables {
    pub(crate) by_port: Vec<Option<UplinkEntry>>,
    pub(crate) vlans: HashMap<u32, Segment>,
    /// (switch port, physical network), for `describe`.
    names: Vec<(u16, String)>,
}

impl ProviderTables {
    /// Builds the tables.
    ///
    /// # Errors
    /// An empty physical network name, a switch port or physical network
    /// listed twice, a zero network key, a VLAN id out of range, a second
    /// flat network or a repeated VLAN id on one uplink, or a network
    /// carried twice, naming the entry.
    pub fn build(cfg: &ProviderConfig) -> Result<ProviderTables, String> {
        let mut t = ProviderTables::default();
        // network key -> switch port carrying it.
        let mut carried: HashMap<u32, u16> = HashMap::new();
        for (i, u) in cfg.uplinks.iter().enumerate() {
            let at = format!("uplinks[{i}]");
            if u.physical_network.is_empty() {
                return Err(format!("{at}: physical_network must not be empty"));
            }
            if let Some((_, name)) = t.names.iter().find(|(p, _)| *p == u.port) {
                return Err(format!(
                    "{at}: switch port {} is listed twice (physical networks `{name}` and `{}`)",
                    u.port, u.physical_network
                ));
            }
            if let Some((p, _)) = t.names.iter().find(|(_, n)| *n == u.physical_network) {
                return Err(format!(
                    "{at}: physical network `{}` has two uplinks (switch ports {p} and {})",
                    u.physical_network, u.port
                ));
            }
            let mut entry = UplinkEntry { flat: None };
            for (j, n) in u.networks.iter().enumerate() {
                let at = format!("{at}.networks[{j}]");
                if n.network_key == 0 {
                    return Err(format!("{at}: network_key must be non-zero"));
                }
                if let Some(p) = carried.insert(n.network_key, u.port) {
                    return Err(format!(
                        "{at}: network key {} is listed twice (on switch ports {p} and {}); a provider network has one segment",
                        n.network_key, u.port
                    ));
                }
                let seg = Segment {
                    network: n.network_key,
                    port_key: n.port_key,
                };
                match n.vlan {
                    None => {
                        if let Some(old) = entry.flat.replace(seg) {
                            return Err(format!(
                                "{at}: switch port {} has two flat networks (network keys {} and {}); an uplink carries at most one untagged network",
                                u.port, old.network, n.network_key
                            ));
                        }
                    }
                    Some(vid) if vid == 0 || vid > VID_MAX => {
                        return Err(format!(
                            "{at}: VLAN id {vid} is out of range (1..={VID_MAX}; omit `vlan` for a flat network)"
                        ));
                    }
                    Some(vid) => {
                        if let Some(old) = t.vlans.insert(vlan_key(u.port, vid), seg) {
                            return Err(format!(
                                "{at}: VLAN id {vid} is used twice on switch port {} (network keys {} and {})",
                                u.port, old.network, n.network_key
                            ));
                        }
                    }
                }
            }
            let k = usize::from(u.port);
            if t.by_port.len() <= k {
                t.by_port.resize(k + 1, None);
            }
            t.by_port[k] = Some(entry);
            t.names.push((u.port, u.physical_network.clone()));
        }
        Ok(t)
    }

    /// The network of a frame received on switch port `port`: `vid` is the
    /// VLAN id of its 802.1Q tag, `None` when untagged (or priority-tagged).
    /// `None` when the port is no uplink or carries no such network.
    pub fn lookup(&self, port: u16, vid: Option<u16>) -> Option<u32> {
        let up = self.by_port.get(usize::from(port)).copied().flatten()?;
        match vid {
            None => up.flat.map(|s| s.network),
            Some(v) => self.vlans.get(&vlan_key(port, v)).map(|s| s.network),
        }
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let mut names = self.names.clone();
        names.sort();
        let uplinks: Vec<serde_json::Value> = names
            .iter()
            .map(|(port, name)| {
                let flat = self
                    .by_port
                    .get(usize::from(*port))
                    .copied()
                    .flatten()
                    .and_then(|u| u.flat)
                    .map(|s| s.network);
                let mut vlans: Vec<(u16, u32)> = self
                    .vlans
                    .iter()
                    .filter(|(k, _)| *k >> 12 == u32::from(*port))
                    .map(|(k, s)| ((*k & 0x0fff) as u16, s.network))
                    .collect();
                vlans.sort();
                serde_json::json!({
                    "port": port,
                    "physical_network": name,
                    "flat": flat,
                    "vlans": vlans.iter().map(|(v, n)| serde_json::json!({"vlan": v, "network_key": n})).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({ "uplinks": uplinks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(json: &str) -> Result<ProviderTables, String> {
        ProviderTables::build(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn builds_and_looks_up() {
        let t = build(
            r#"{"uplinks":[
                {"port":3,"physical_network":"physnet1","networks":[
                    {"network_key":10},{"network_key":11,"vlan":100},{"network_key":12,"vlan":4094}]},
                {"port":4,"physical_network":"physnet2","networks":[{"network_key":20,"vlan":100}]}]}"#,
        )
        .unwrap();
        assert_eq!(t.lookup(3, None), Some(10));
        assert_eq!(t.lookup(3, Some(100)), Some(11));
        assert_eq!(t.lookup(3, Some(4094)), Some(12));
        assert_eq!(t.lookup(4, Some(100)), Some(20), "VIDs are per uplink");
        assert_eq!(t.lookup(4, None), None, "no flat network on port 4");
        assert_eq!(t.lookup(3, Some(101)), None);
        assert_eq!(t.lookup(2, None), None, "not an uplink");
        assert_eq!(t.lookup(400, None), None);
        let d = t.describe();
        assert_eq!(d["uplinks"][0]["physical_network"], "physnet1");
        assert_eq!(d["uplinks"][0]["flat"], 10);
        assert_eq!(d["uplinks"][0]["vlans"][1]["vlan"], 4094);
        assert_eq!(d["uplinks"][1]["flat"], serde_json::Value::Null);
    }

    #[test]
    fn bad_configs_name_the_entry() {
        let cases = [
            (
                r#"{"uplinks":[{"port":1,"physical_network":"","networks":[]}]}"#,
                "uplinks[0]: physical_network must not be empty",
            ),
            (
                r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[]},
                              {"port":1,"physical_network":"b","networks":[]}]}"#,
                "uplinks[1]: switch port 1 is listed twice (physical networks `a` and `b`)",
            ),
            (
                r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[]},
                              {"port":2,"physical_network":"a","networks":[]}]}"#,
                "uplinks[1]: physical network `a` has two uplinks (switch ports 1 and 2)",
            ),
            (
                r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[{"network_key":0}]}]}"#,
                "uplinks[0].networks[0]: network_key must be non-zero",
            ),
            (
                r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[{"network_key":5},{"network_key":6}]}]}"#,
                "uplinks[0].networks[1]: switch port 1 has two flat networks (network keys 5 and 6); an uplink carries at most one untagged network",
            ),
            (
                r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[{"network_key":5,"vlan":7},{"network_key":6,"vlan":7}]}]}"#,
                "uplinks[0].networks[1]: VLAN id 7 is used twice on switch port 1 (network keys 5 and 6)",
            ),
            (
                r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[{"network_key":5,"vlan":0}]}]}"#,
                "uplinks[0].networks[0]: VLAN id 0 is out of range (1..=4094; omit `vlan` for a flat network)",
            ),
            (
                r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[{"network_key":5,"vlan":4095}]}]}"#,
                "uplinks[0].networks[0]: VLAN id 4095 is out of range (1..=4094; omit `vlan` for a flat network)",
            ),
            (
                r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[{"network_key":5}]},
                              {"port":2,"physical_network":"b","networks":[{"network_key":5,"vlan":9}]}]}"#,
                "uplinks[1].networks[0]: network key 5 is listed twice (on switch ports 1 and 2); a provider network has one segment",
            ),
        ];
        for (json, want) in cases {
            assert_eq!(build(json).unwrap_err(), want, "{json}");
        }
        let e = serde_json::from_str::<ProviderConfig>(
            r#"{"uplinks":[{"port":1,"physical_network":"a","networks":[],"mtu":1500}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field `mtu`"), "{e}");
    }
}
