//! `input`'s table: switch port id -> (source port key, network key), or
//! "uplink to a physical network"; and (switch port, VLAN id) -> the trunk
//! child port's keys.

use hashbrown::HashMap;

use crate::config::InputConfig;

/// What a switch port carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    /// A logical VM port: (port key, network key).
    Vm(u32, u32),
    /// A VM port with trunk children: (port key, network key) of the
    /// parent, for untagged frames; tagged ones look up `vlans`.
    Trunk(u32, u32),
    /// An uplink to a physical network.
    Uplink,
}

/// The key of a trunk child: switch port in the high bits, VLAN id low.
#[inline]
pub(crate) fn vlan_key(port: u16, vid: u16) -> u32 {
    (u32::from(port) << 12) | u32::from(vid & 0x0fff)
}

/// Lookup-ready bindings, indexed by switch port id.
#[derive(Debug, Clone, Default)]
pub struct InputTables {
    pub(crate) by_port: Vec<Option<Binding>>,
    /// [`vlan_key`] -> (child port key, child network key).
    pub(crate) vlans: HashMap<u32, (u32, u32)>,
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
            if let Some(Binding::Vm(old, _) | Binding::Trunk(old, _)) = *s {
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
                Some(Binding::Vm(key, _) | Binding::Trunk(key, _)) => {
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
        let mut vlans = HashMap::new();
        for (i, v) in cfg.vlans.iter().enumerate() {
            let at = format!("vlans[{i}]");
            if v.port_key == 0 || v.network_key == 0 {
                return Err(format!("{at}: port_key and network_key must be non-zero"));
            }
            if !(1..=4094).contains(&v.vlan) {
                return Err(format!("{at}.vlan: {} is not a VLAN id (1..=4094)", v.vlan));
            }
            let Some(b) = by_port
                .get_mut(usize::from(v.port))
                .and_then(|b| b.as_mut())
            else {
                return Err(format!(
                    "{at}: switch port {} carries no parent port (list it in `ports`)",
                    v.port
                ));
            };
            match *b {
                Binding::Vm(pk, nk) | Binding::Trunk(pk, nk) => *b = Binding::Trunk(pk, nk),
                Binding::Uplink => {
                    return Err(format!(
                        "{at}: switch port {} is an uplink, not a VM port",
                        v.port
                    ))
                }
            }
            if let Some((old, _)) =
                vlans.insert(vlan_key(v.port, v.vlan), (v.port_key, v.network_key))
            {
                return Err(format!(
                    "{at}: VLAN {} on switch port {} is given twice (port keys {old} and {})",
                    v.vlan, v.port, v.port_key
                ));
            }
        }
        Ok(InputTables { by_port, vlans })
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let ports: Vec<serde_json::Value> = self
            .by_port
            .iter()
            .enumerate()
            .filter_map(|(i, b)| match b {
                Some(Binding::Vm(pk, nk) | Binding::Trunk(pk, nk)) => {
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
        let mut vlans: Vec<(u32, u32, u32)> = self
            .vlans
            .iter()
            .map(|(k, (pk, nk))| (*k, *pk, *nk))
            .collect();
        vlans.sort_unstable();
        let vlans: Vec<serde_json::Value> = vlans
            .iter()
            .map(|(k, pk, nk)| serde_json::json!({"port": k >> 12, "vlan": k & 0xfff, "port_key": pk, "network_key": nk}))
            .collect();
        serde_json::json!({ "ports": ports, "uplinks": uplinks, "vlans": vlans })
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
            vlans: vec![],
        })
        .unwrap_err();
        assert_eq!(
            e,
            "ports[1]: switch port 1 is bound twice (to port keys 5 and 7)"
        );
        let e = InputTables::build(&InputConfig {
            ports: vec![p(0, 0)],
            uplinks: vec![],
            vlans: vec![],
        })
        .unwrap_err();
        assert!(e.contains("non-zero"), "{e}");
        let e = InputTables::build(&InputConfig {
            ports: vec![p(1, 5)],
            uplinks: vec![2, 1],
            vlans: vec![],
        })
        .unwrap_err();
        assert_eq!(
            e,
            "uplinks[1]: switch port 1 carries port key 5; a port is either a VM port or an uplink"
        );
        let e = InputTables::build(&InputConfig {
            ports: vec![],
            uplinks: vec![2, 2],
            vlans: vec![],
        })
        .unwrap_err();
        assert_eq!(e, "uplinks[1]: switch port 2 is listed twice");
    }
}
