//! `output`'s table: destination port key -> switch port id and the VLAN
//! id to push (0: none).

use df_dp::table::KeyMap;

use crate::config::OutputConfig;

/// Where a port key leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Out {
    pub(crate) port: u16,
    /// VLAN id to push; 0: untagged; [`REMOTE`]: by the overlay.
    pub(crate) vlan: u16,
}

/// `Out::vlan` of a port key reached through the overlay (no VLAN id is
/// this large).
pub(crate) const REMOTE: u16 = u16::MAX;
/// `Out::vlan` of a floating IP's port: translated by `nat`.
pub(crate) const NAT: u16 = u16::MAX - 1;

/// Lookup-ready local ports.
#[derive(Debug, Clone, Default)]
pub struct OutputTables {
    pub(crate) port: KeyMap<Out>,
}

impl OutputTables {
    /// Builds the table.
    ///
    /// # Errors
    /// A zero key, one port key given two switch ports, or a VLAN id
    /// outside 1..=4094.
    pub fn build(cfg: &OutputConfig) -> Result<OutputTables, String> {
        let mut port = KeyMap::new();
        for (i, p) in cfg.ports.iter().enumerate() {
            if p.port_key == 0 {
                return Err(format!("ports[{i}]: port_key must be non-zero"));
            }
            let vlan = match p.vlan {
                None => 0,
                Some(v @ 1..=4094) => v,
                Some(v) => return Err(format!("ports[{i}].vlan: {v} is not a VLAN id (1..=4094)")),
            };
            if let Some(old) = port.insert(p.port_key, Out { port: p.port, vlan }) {
                return Err(format!(
                    "ports[{i}]: port key {} is given two switch ports ({} and {})",
                    p.port_key, old.port, p.port
                ));
            }
        }
        let special = cfg
            .remote
            .iter()
            .map(|&k| ("remote", k, REMOTE))
            .chain(cfg.nat.iter().map(|&k| ("nat", k, NAT)));
        let mut index = (0, "");
        for (list, key, vlan) in special {
            if index.1 != list {
                index = (0, list);
            }
            let i = index.0;
            index.0 += 1;
            if key == 0 {
                return Err(format!("{list}[{i}]: port key must be non-zero"));
            }
            if let Some(old) = port.insert(key, Out { port: 0, vlan }) {
                return Err(format!(
                    "{list}[{i}]: port key {key} is also {}",
                    match old.vlan {
                        REMOTE => "listed in remote".to_string(),
                        NAT => "listed in nat".to_string(),
                        _ => format!("a local port (switch port {})", old.port),
                    }
                ));
            }
        }
        Ok(OutputTables { port })
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let ports: Vec<_> = self
            .port
            .iter()
            .map(|(k, o)| match o.vlan {
                0 => serde_json::json!({"port_key": k, "port": o.port}),
                REMOTE => serde_json::json!({"port_key": k, "remote": true}),
                NAT => serde_json::json!({"port_key": k, "nat": true}),
                v => serde_json::json!({"port_key": k, "port": o.port, "vlan": v}),
            })
            .collect();
        serde_json::json!({ "ports": ports })
    }
}
