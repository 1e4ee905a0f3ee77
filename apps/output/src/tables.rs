//! `output`'s table: destination port key -> switch port id.

use df_dp::table::KeyMap;

use crate::config::OutputConfig;

/// Lookup-ready local ports.
#[derive(Debug, Clone, Default)]
pub struct OutputTables {
    pub(crate) port: KeyMap<u16>,
}

impl OutputTables {
    /// Builds the table.
    ///
    /// # Errors
    /// A zero key, or one port key given two switch ports.
    pub fn build(cfg: &OutputConfig) -> Result<OutputTables, String> {
        let mut port = KeyMap::new();
        for (i, p) in cfg.ports.iter().enumerate() {
            if p.port_key == 0 {
                return Err(format!("ports[{i}]: port_key must be non-zero"));
            }
            if let Some(old) = port.insert(p.port_key, p.port) {
                return Err(format!(
                    "ports[{i}]: port key {} is given two switch ports ({old} and {})",
                    p.port_key, p.port
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
            .map(|(k, p)| serde_json::json!({"port_key": k, "port": p}))
            .collect();
        serde_json::json!({ "ports": ports })
    }
}
