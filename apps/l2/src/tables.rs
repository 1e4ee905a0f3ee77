//! `l2`'s tables: the forwarding database (network, MAC) -> port key, each
//! network's flood list, and the responders' address maps (network, IPv4)
//! and (network, IPv6) -> the owning port's MAC and key.

use std::net::IpAddr;

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

/// The ARP responder's key: network key in the high 32 bits, IPv4 in the low.
#[inline]
pub(crate) fn arp_key(network: u32, ip: u32) -> u64 {
    (u64::from(network) << 32) | u64::from(ip)
}

/// The port that owns an address: what a reply advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) mac: EthernetAddress,
    pub(crate) port_key: u32,
}

/// Lookup-ready forwarding state.
#[derive(Debug, Clone, Default)]
pub struct L2Tables {
    pub(crate) fdb: HashMap<u128, u32>,
    pub(crate) flood: KeyMap<u32>,
    pub(crate) flood_lists: Vec<Box<[u32]>>,
    /// The uplink port key of the network at the same index as its flood
    /// list (0: none).
    pub(crate) uplinks: Vec<u32>,
    /// (network, IPv4) -> owner, keyed by [`arp_key`].
    pub(crate) arp: HashMap<u64, Owner>,
    /// (network, IPv6) -> owner.
    pub(crate) nd: HashMap<(u32, u128), Owner>,
}

impl L2Tables {
    /// Builds the tables.
    ///
    /// # Errors
    /// A zero key, a network listed twice, a multicast MAC on a port, a
    /// MAC used twice in one network, an IP that is not unicast, or an IP
    /// owned by two ports of one network, naming the entry.
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
                for (k, ip) in p.ips.iter().enumerate() {
                    let owner = Owner {
                        mac: p.mac,
                        port_key: p.port_key,
                    };
                    t.add_ip(n.network_key, *ip, owner)
                        .map_err(|e| format!("{at}.ips[{k}]: {e}"))?;
                }
                if p.flood && !list.contains(&p.port_key) {
                    list.push(p.port_key);
                }
            }
            let uplink = match n.uplink {
                Some(0) => return Err(format!("networks[{i}].uplink: must be non-zero")),
                Some(u) if list.contains(&u) => {
                    return Err(format!(
                        "networks[{i}].uplink: port key {u} is also a port of the network"
                    ))
                }
                Some(u) => {
                    list.push(u);
                    u
                }
                None => 0,
            };
            t.uplinks.push(uplink);
            match n.remote_flood {
                Some(0) => return Err(format!("networks[{i}].remote_flood: must be non-zero")),
                Some(r) if list.contains(&r) => {
                    return Err(format!(
                        "networks[{i}].remote_flood: key {r} is also a port (or the uplink) of the network"
                    ))
                }
                Some(r) => list.push(r),
                None => {}
            }
            t.flood.insert(n.network_key, t.flood_lists.len() as u32);
            t.flood_lists.push(list.into_boxed_slice());
        }
        Ok(t)
    }

    /// Records that `owner` has `ip` in `network`.
    fn add_ip(&mut self, network: u32, ip: IpAddr, owner: Owner) -> Result<(), String> {
        let unicast = match ip {
            IpAddr::V4(a) => !(a.is_unspecified() || a.is_broadcast() || a.is_multicast()),
            IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast()),
        };
        if !unicast {
            return Err(format!("{ip} is not a unicast address"));
        }
        let old = match ip {
            IpAddr::V4(a) => *self
                .arp
                .entry(arp_key(network, u32::from(a)))
                .or_insert(owner),
            IpAddr::V6(a) => *self.nd.entry((network, u128::from(a))).or_insert(owner),
        };
        if old != owner {
            return Err(format!(
                "IP {ip} is used twice in network {network} (port key {} with MAC {} and port key {} with MAC {})",
                old.port_key, old.mac, owner.port_key, owner.mac
            ));
        }
        Ok(())
    }

    /// The MAC and port key owning `ip` in `network`, as the responders
    /// see them.
    pub fn owner(&self, network: u32, ip: IpAddr) -> Option<(EthernetAddress, u32)> {
        let o = match ip {
            IpAddr::V4(a) => self.arp.get(&arp_key(network, u32::from(a))),
            IpAddr::V6(a) => self.nd.get(&(network, u128::from(a))),
        }?;
        Some((o.mac, o.port_key))
    }

    /// The uplink port key of `network`, if it has one.
    pub fn uplink(&self, network: u32) -> Option<u32> {
        let i = self.flood.get(network)?;
        self.uplinks.get(i as usize).copied().filter(|&u| u != 0)
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
        let mut ips: Vec<(u32, IpAddr, String, u32)> = self
            .arp
            .iter()
            .map(|(k, o)| {
                (
                    (*k >> 32) as u32,
                    IpAddr::from((*k as u32).to_be_bytes()),
                    o,
                )
            })
            .chain(
                self.nd
                    .iter()
                    .map(|((n, a), o)| (*n, IpAddr::from(a.to_be_bytes()), o)),
            )
            .map(|(n, ip, o)| (n, ip, o.mac.to_string(), o.port_key))
            .collect();
        ips.sort();
        serde_json::json!({
            "responder": ips.iter().map(|(n, ip, m, p)| serde_json::json!({"network_key": n, "ip": ip.to_string(), "mac": m, "port_key": p})).collect::<Vec<_>>(),
            "fdb": fdb.iter().map(|(n, m, p)| serde_json::json!({"network_key": n, "mac": m, "port_key": p})).collect::<Vec<_>>(),
            "networks": self.flood.iter().map(|(n, i)| serde_json::json!({
                "network_key": n,
                "flood": self.flood_lists.get(i as usize).map(|l| l.to_vec()).unwrap_or_default(),
                "uplink": self.uplinks.get(i as usize).copied().filter(|&u| u != 0),
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

    #[test]
    fn ips_build_the_responder_maps() {
        let t = L2Tables::build(&cfg(r#"{"networks":[
                {"network_key":1,"ports":[
                    {"port_key":1,"mac":"02:00:00:00:00:01","ips":["10.0.0.1","fd00::1"]},
                    {"port_key":2,"mac":"02:00:00:00:00:02","ips":["10.0.0.2"]},
                    {"port_key":3,"mac":"02:00:00:00:00:03"}]},
                {"network_key":2,"ports":[
                    {"port_key":4,"mac":"02:00:00:00:00:04","ips":["10.0.0.1"]}]}]}"#))
        .unwrap();
        let mac = |s: &str| s.parse::<EthernetAddress>().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            t.owner(1, ip("10.0.0.1")),
            Some((mac("02:00:00:00:00:01"), 1))
        );
        assert_eq!(
            t.owner(1, ip("fd00::1")),
            Some((mac("02:00:00:00:00:01"), 1))
        );
        assert_eq!(
            t.owner(2, ip("10.0.0.1")),
            Some((mac("02:00:00:00:00:04"), 4)),
            "the same IP in another network is another address"
        );
        assert_eq!(t.owner(1, ip("10.0.0.3")), None);
        assert_eq!(t.owner(1, ip("fd00::2")), None);
        let d = t.describe();
        assert_eq!(d["responder"][0]["ip"], "10.0.0.1");
        assert_eq!(d["responder"][2]["ip"], "fd00::1");
        assert_eq!(d["responder"][3]["port_key"], 4);
    }

    #[test]
    fn bad_ips_name_the_entry_and_both_owners() {
        let e = L2Tables::build(&cfg(r#"{"networks":[{"network_key":1,"ports":[
                {"port_key":1,"mac":"02:00:00:00:00:01","ips":["10.0.0.1"]},
                {"port_key":2,"mac":"02:00:00:00:00:02","ips":["10.0.0.2","10.0.0.1"]}]}]}"#))
        .unwrap_err();
        assert_eq!(
            e,
            "networks[0].ports[1].ips[1]: IP 10.0.0.1 is used twice in network 1 (port key 1 with MAC 02:00:00:00:00:01 and port key 2 with MAC 02:00:00:00:00:02)"
        );
        let e = L2Tables::build(&cfg(r#"{"networks":[{"network_key":1,"ports":[
                {"port_key":1,"mac":"02:00:00:00:00:01","ips":["fd00::1"]},
                {"port_key":2,"mac":"02:00:00:00:00:02","ips":["fd00::1"]}]}]}"#))
        .unwrap_err();
        assert!(
            e.starts_with("networks[0].ports[1].ips[0]: IP fd00::1 is used twice"),
            "{e}"
        );
        let e = L2Tables::build(&cfg(r#"{"networks":[{"network_key":1,"ports":[
                {"port_key":1,"mac":"02:00:00:00:00:01","ips":["10.0.0.1","224.0.0.1"]}]}]}"#))
        .unwrap_err();
        assert_eq!(
            e,
            "networks[0].ports[0].ips[1]: 224.0.0.1 is not a unicast address"
        );
        for bad in ["0.0.0.0", "255.255.255.255", "::", "ff02::1"] {
            let json = format!(
                r#"{{"networks":[{{"network_key":1,"ports":[{{"port_key":1,"mac":"02:00:00:00:00:01","ips":["{bad}"]}}]}}]}}"#
            );
            let e = L2Tables::build(&cfg(&json)).unwrap_err();
            assert!(e.ends_with("is not a unicast address"), "{e}");
        }
        // The same port listing an address twice is not a conflict.
        L2Tables::build(&cfg(r#"{"networks":[{"network_key":1,"ports":[
                {"port_key":1,"mac":"02:00:00:00:00:01","ips":["10.0.0.1","10.0.0.1"]}]}]}"#))
        .unwrap();
        let e = serde_json::from_str::<L2Config>(
            r#"{"networks":[{"network_key":1,"ports":[{"port_key":1,"mac":"02:00:00:00:00:01","ips":["10.0.0.1","10.0.0"]}]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("ips[1]: `10.0.0` is not an IP address (expected IPv4 like 10.0.0.5 or IPv6 like fd00::5)"),
            "{e}"
        );
    }
}
