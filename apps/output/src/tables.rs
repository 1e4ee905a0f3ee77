//! `output`'s table: destination port key -> switch port id and the VLAN
//! id to push (0: none).

use df_dp::table::KeyMap;

use crate::config::OutputConfig;

/// Where a port key leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Out {
    pub(crate) port: u16,
    /// VLAN id to push; 0: untagged.
    pub(crate) vlan: u16,
}

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
        Ok(OutputTables { port })
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let ports: Vec<_> = self
            .port
            .iter()
            .map(|(k, o)| match o.vlan {
                0 => serde_json::json!({"port_key": k, "port": o.port}),
                v => serde_json::json!({"port_key": k, "port": o.port, "vlan": v}),
            })
            .collect();
        serde_json::json!({ "ports": ports })
    }
}
