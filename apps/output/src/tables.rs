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
        for (i, &key) in cfg.remote.iter().enumerate() {
            if key == 0 {
                return Err(format!("remote[{i}]: port key must be non-zero"));
            }
            let out = Out {
                port: 0,
                vlan: REMOTE,
            };
            if let Some(old) = port.insert(key, out) {
                return Err(format!(
                    "remote[{i}]: port key {key} is also {}",
                    if old.vlan == REMOTE {
                        "listed earlier in remote".to_string()
                    } else {
                        format!("a local port (switch port {})", old.port)
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
                v => serde_json::json!({"port_key": k, "port": o.port, "vlan": v}),
            })
            .collect();
        serde_json::json!({ "ports": ports })
    }
}
