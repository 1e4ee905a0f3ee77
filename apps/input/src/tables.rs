//! `input`'s table: switch port id -> (source port key, network key), or
//! "uplink to a physical network".

use crate::config::InputConfig;

/// What a switch port carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    /// A logical VM port: (port key, network key).
    Vm(u32, u32),
    /// An uplink to a physical network.
    Uplink,
}

/// Lookup-ready bindings, indexed by switch port id.
#[derive(Debug, Clone, Default)]
pub struct InputTables {
    pub(crate) by_port: Vec<Option<Binding>>,
}

/// Makes room for switch port `k`.
fn slot(by_port: &mut Vec<Option<Binding>>, k: u16) -> &mut Option<Binding> {
    let k = usize::from(k);
    if by_port.len() <= k {
        by_port.resize(k + 1, None);
    }
    &mut by_port[k]
}

impl InputTables {
    /// Builds the table.
    ///
    /// # Errors
    /// A zero key or a switch port bound twice (or both bound and an
    /// uplink), naming the entry.
    pub fn build(cfg: &InputConfig) -> Result<InputTables, String> {
        let mut by_port: Vec<Option<Binding>> = Vec::new();
        for (i, p) in cfg.ports.iter().enumerate() {
            if p.port_key == 0 || p.network_key == 0 {
                return Err(format!(
                    "ports[{i}]: port_key and network_key must be non-zero (got {} and {})",
                    p.port_key, p.network_key
                ));
            }
            let s = slot(&mut by_port, p.port);
            if let Some(Binding::Vm(old, _)) = *s {
                return Err(format!(
                    "ports[{i}]: switch port {} is bound twice (to port keys {old} and {})",
                    p.port, p.port_key
                ));
            }
            *s = Some(Binding::Vm(p.port_key, p.network_key));
        }
        for (i, &port) in cfg.uplinks.iter().enumerate() {
            let s = slot(&mut by_port, port);
            match *s {
                Some(Binding::Vm(key, _)) => {
                    return Err(format!(
                        "uplinks[{i}]: switch port {port} carries port key {key}; a port is either a VM port or an uplink"
                    ))
                }
                Some(Binding::Uplink) => {
                    return Err(format!("uplinks[{i}]: switch port {port} is listed twice"))
                }
                None => *s = Some(Binding::Uplink),
            }
        }
        Ok(InputTables { by_port })
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let ports: Vec<serde_json::Value> = self
            .by_port
            .iter()
            .enumerate()
            .filter_map(|(i, b)| match b {
                Some(Binding::Vm(pk, nk)) => {
                    Some(serde_json::json!({"port": i, "port_key": pk, "network_key": nk}))
                }
                _ => None,
            })
            .collect();
        let uplinks: Vec<usize> = self
            .by_port
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == Some(Binding::Uplink))
            .map(|(i, _)| i)
            .collect();
        serde_json::json!({ "ports": ports, "uplinks": uplinks })
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
            uplinks: vec![],
        })
        .unwrap_err();
        assert_eq!(
            e,
            "ports[1]: switch port 1 is bound twice (to port keys 5 and 7)"
        );
        let e = InputTables::build(&InputConfig {
            ports: vec![p(0, 0)],
            uplinks: vec![],
        })
        .unwrap_err();
        assert!(e.contains("non-zero"), "{e}");
        let e = InputTables::build(&InputConfig {
            ports: vec![p(1, 5)],
            uplinks: vec![2, 1],
        })
        .unwrap_err();
        assert_eq!(
            e,
            "uplinks[1]: switch port 1 carries port key 5; a port is either a VM port or an uplink"
        );
        let e = InputTables::build(&InputConfig {
            ports: vec![],
            uplinks: vec![2, 2],
        })
        .unwrap_err();
        assert_eq!(e, "uplinks[1]: switch port 2 is listed twice");
    }
}
