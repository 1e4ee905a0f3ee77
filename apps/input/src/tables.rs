//! `input`'s table: switch port id -> (source port key, network key).

use crate::config::InputConfig;

/// Lookup-ready bindings, indexed by switch port id.
#[derive(Debug, Clone, Default)]
pub struct InputTables {
    pub(crate) by_port: Vec<Option<(u32, u32)>>,
}

impl InputTables {
    /// Builds the table.
    ///
    /// # Errors
    /// A zero key or a switch port bound twice, naming the entry.
    pub fn build(cfg: &InputConfig) -> Result<InputTables, String> {
        let mut by_port: Vec<Option<(u32, u32)>> = Vec::new();
        for (i, p) in cfg.ports.iter().enumerate() {
            if p.port_key == 0 || p.network_key == 0 {
                return Err(format!(
                    "ports[{i}]: port_key and network_key must be non-zero (got {} and {})",
                    p.port_key, p.network_key
                ));
            }
            let k = p.port as usize;
            if by_port.len() <= k {
                by_port.resize(k + 1, None);
            }
            if let Some((old, _)) = by_port[k] {
                return Err(format!(
                    "ports[{i}]: switch port {} is bound twice (to port keys {old} and {})",
                    p.port, p.port_key
                ));
            }
            by_port[k] = Some((p.port_key, p.network_key));
        }
        Ok(InputTables { by_port })
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let ports: Vec<serde_json::Value> = self
            .by_port
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                b.map(|(pk, nk)| serde_json::json!({"port": i, "port_key": pk, "network_key": nk}))
            })
            .collect();
        serde_json::json!({ "ports": ports })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::InputPort;

    #[test]
    fn rejects_double_binding_and_zero_keys() {
        let p = |port, port_key| InputPort {
            port,
            port_key,
            network_key: 1,
        };
        let e = InputTables::build(&InputConfig {
            ports: vec![p(1, 5), p(1, 7)],
        })
        .unwrap_err();
        assert_eq!(
            e,
            "ports[1]: switch port 1 is bound twice (to port keys 5 and 7)"
        );
        let e = InputTables::build(&InputConfig {
            ports: vec![p(0, 0)],
        })
        .unwrap_err();
        assert!(e.contains("non-zero"), "{e}");
    }
}
