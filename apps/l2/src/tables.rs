//! `l2`'s tables: the forwarding database (network, MAC) -> port key, and
//! each network's flood list.

use df_dp::table::KeyMap;
use df_wire::EthernetAddress;
use hashbrown::HashMap;

use crate::config::L2Config;

/// The FDB key: network key in the high bits, MAC in the low 48.
#[inline]
pub(crate) fn fdb_key(network: u32, mac: &[u8; 6]) -> u128 {
    let m = u64::from_be_bytes([0, 0, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]]);
    ((network as u128) << 48) | m as u128
}

/// Lookup-ready forwarding state.
#[derive(Debug, Clone, Default)]
pub struct L2Tables {
    pub(crate) fdb: HashMap<u128, u32>,
    pub(crate) flood: KeyMap<u32>,
    pub(crate) flood_lists: Vec<Box<[u32]>>,
}

impl L2Tables {
    /// Builds the tables.
    ///
    /// # Errors
    /// A zero key, a network listed twice, a multicast MAC on a port, or a
    /// MAC used twice in one network, naming the entry.
    pub fn build(cfg: &L2Config) -> Result<L2Tables, String> {
        let mut t = L2Tables::default();
        for (i, n) in cfg.networks.iter().enumerate() {
            if n.network_key == 0 {
                return Err(format!("networks[{i}]: network_key must be non-zero"));
            }
            if t.flood.get(n.network_key).is_some() {
                return Err(format!(
                    "networks[{i}]: network key {} is listed twice",
                    n.network_key
                ));
            }
            let mut list = Vec::with_capacity(n.ports.len());
            for (j, p) in n.ports.iter().enumerate() {
                let at = format!("networks[{i}].ports[{j}]");
                if p.port_key == 0 {
                    return Err(format!("{at}: port_key must be non-zero"));
                }
                if !p.mac.is_unicast() {
                    return Err(format!("{at}: MAC {} is not a unicast address", p.mac));
                }
                if let Some(old) = t.fdb.insert(fdb_key(n.network_key, &p.mac.0), p.port_key) {
                    return Err(format!(
                        "{at}: MAC {} is used twice in network {} (port keys {old} and {})",
                        p.mac, n.network_key, p.port_key
                    ));
                }
                if !list.contains(&p.port_key) {
                    list.push(p.port_key);
                }
            }
            t.flood.insert(n.network_key, t.flood_lists.len() as u32);
            t.flood_lists.push(list.into_boxed_slice());
        }
        Ok(t)
    }

    /// The port key of `mac` in `network`.
    pub fn lookup(&self, network: u32, mac: &EthernetAddress) -> Option<u32> {
        self.fdb.get(&fdb_key(network, &mac.0)).copied()
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let mut fdb: Vec<(u32, String, u32)> = self
            .fdb
            .iter()
            .map(|(k, p)| {
                let b = (*k as u64).to_be_bytes();
                let mac = EthernetAddress([b[2], b[3], b[4], b[5], b[6], b[7]]);
                ((*k >> 48) as u32, mac.to_string(), *p)
            })
            .collect();
        fdb.sort();
        serde_json::json!({
            "fdb": fdb.iter().map(|(n, m, p)| serde_json::json!({"network_key": n, "mac": m, "port_key": p})).collect::<Vec<_>>(),
            "networks": self.flood.iter().map(|(n, i)| serde_json::json!({
                "network_key": n,
                "flood": self.flood_lists.get(i as usize).map(|l| l.to_vec()).unwrap_or_default(),
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> L2Config {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn builds_and_looks_up() {
        let t = L2Tables::build(&cfg(
            r#"{"networks":[{"network_key":1,"ports":[{"port_key":1,"mac":"02:00:00:00:00:01"},{"port_key":2,"mac":"02:00:00:00:00:02"}]}]}"#,
        ))
        .unwrap();
        assert_eq!(t.lookup(1, &"02:00:00:00:00:02".parse().unwrap()), Some(2));
        assert_eq!(t.lookup(2, &"02:00:00:00:00:02".parse().unwrap()), None);
        assert_eq!(&*t.flood_lists[0], &[1, 2]);
    }

    #[test]
    fn bad_configs_name_the_entry() {
        let e = L2Tables::build(&cfg(
            r#"{"networks":[{"network_key":1,"ports":[{"port_key":1,"mac":"02:00:00:00:00:01"},{"port_key":2,"mac":"02:00:00:00:00:01"}]}]}"#,
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "networks[0].ports[1]: MAC 02:00:00:00:00:01 is used twice in network 1 (port keys 1 and 2)"
        );
        let e = L2Tables::build(&cfg(
            r#"{"networks":[{"network_key":1,"ports":[{"port_key":1,"mac":"01:00:5e:00:00:01"}]}]}"#,
        ))
        .unwrap_err();
        assert!(e.contains("not a unicast"), "{e}");
        let e = serde_json::from_str::<L2Config>(
            r#"{"networks":[{"network_key":1,"ports":[{"port_key":1,"mac":"zz"}]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`zz` is not a MAC address"), "{e}");
    }
}
