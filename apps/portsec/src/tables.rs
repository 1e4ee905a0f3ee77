//! `portsec`'s table: port key -> what the port may send from.
//!
//! One [`KeyMap`] lookup per packet finds the port; its allowed MACs and
//! (MAC, IP) pairs are short boxed slices scanned linearly: a port has one
//! or two MACs and a handful of addresses, where a scan of a few cache lines
//! beats hashing. Fixed IPs are bound to every MAC of the port, an allowed
//! address pair's IP to its own MAC (Dragonflow's (IP, MAC) pairs), and each
//! port MAC brings its EUI-64 IPv6 link-local address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use df_dp::table::KeyMap;
use df_wire::EthernetAddress;

use crate::config::{PortsecConfig, PortsecPort};

/// Most MACs (own and allowed-address-pair) one port may have.
pub const MAX_MACS: usize = 16;
/// Most (MAC, IP) pairs of one family one port may have (fixed IPs times
/// port MACs, plus pairs and link-locals).
pub const MAX_PAIRS: usize = 128;

pub(crate) type Mac = [u8; 6];

/// What one port may send from.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortEntry {
    /// `false`: port security disabled, everything is accepted.
    pub(crate) secured: bool,
    /// Allowed source MACs, with `true` for the port's own (not a pair's).
    pub(crate) macs: Box<[(Mac, bool)]>,
    /// Allowed (source MAC, IPv4 source) pairs.
    pub(crate) v4: Box<[(Mac, [u8; 4])]>,
    /// Allowed (source MAC, IPv6 source) pairs, link-locals included.
    pub(crate) v6: Box<[(Mac, [u8; 16])]>,
}

impl PortEntry {
    /// `Some(own)` if `mac` may be a source MAC of the port.
    #[inline]
    pub(crate) fn mac(&self, mac: &Mac) -> Option<bool> {
        self.macs
            .iter()
            .find(|(m, _)| m == mac)
            .map(|&(_, own)| own)
    }

    /// Whether `ip` may be sent from `mac`.
    #[inline]
    pub(crate) fn v4(&self, mac: &Mac, ip: &[u8; 4]) -> bool {
        self.v4.iter().any(|(m, i)| i == ip && m == mac)
    }

    /// Whether `ip` may be sent from `mac`.
    #[inline]
    pub(crate) fn v6(&self, mac: &Mac, ip: &[u8; 16]) -> bool {
        self.v6.iter().any(|(m, i)| i == ip && m == mac)
    }
}

/// Lookup-ready port security state.
#[derive(Debug, Clone, Default)]
pub struct PortsecTables {
    index: KeyMap<u32>,
    ports: Vec<PortEntry>,
}

/// The IPv6 link-local address of `mac` (RFC 4291 appendix A, EUI-64).
pub fn link_local(mac: &EthernetAddress) -> Ipv6Addr {
    let m = mac.0;
    let mut a = [0u8; 16];
    a[0] = 0xfe;
    a[1] = 0x80;
    a[8..16].copy_from_slice(&[m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
    Ipv6Addr::from(a)
}

fn parse_mac(at: &str, s: &str) -> Result<EthernetAddress, String> {
    let mac: EthernetAddress = s.parse().map_err(|_| {
        format!("{at}: `{s}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)")
    })?;
    if !mac.is_unicast() {
        return Err(format!("{at}: MAC {mac} is not a unicast address"));
    }
    Ok(mac)
}

fn parse_ip(at: &str, s: &str) -> Result<IpAddr, String> {
    let ip: IpAddr = s.parse().map_err(|_| {
        if s.contains('/') {
            format!("{at}: `{s}` is a CIDR; list host addresses (one pair per address)")
        } else {
            format!("{at}: `{s}` is not an IP address")
        }
    })?;
    let bad = match ip {
        IpAddr::V4(v4) => v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast(),
        IpAddr::V6(v6) => v6.is_unspecified() || v6.is_multicast(),
    };
    if bad {
        return Err(format!(
            "{at}: {ip} is not a unicast host address (unspecified, broadcast or multicast)"
        ));
    }
    Ok(ip)
}

fn parse_v4(at: &str, s: &str) -> Result<Ipv4Addr, String> {
    match parse_ip(at, s)? {
        IpAddr::V4(v4) => Ok(v4),
        IpAddr::V6(_) => Err(format!(
            "{at}: `{s}` is an IPv6 address (list it under ipv6)"
        )),
    }
}

fn parse_v6(at: &str, s: &str) -> Result<Ipv6Addr, String> {
    match parse_ip(at, s)? {
        IpAddr::V6(v6) => Ok(v6),
        IpAddr::V4(_) => Err(format!(
            "{at}: `{s}` is an IPv4 address (list it under ipv4)"
        )),
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn build_port(at: &str, p: &PortsecPort) -> Result<PortEntry, String> {
    let mut own = Vec::new();
    for (j, s) in p.macs.iter().enumerate() {
        push_unique(&mut own, parse_mac(&format!("{at}.macs[{j}]"), s)?);
    }
    let mut v4 = Vec::new();
    for (j, s) in p.ipv4.iter().enumerate() {
        push_unique(&mut v4, parse_v4(&format!("{at}.ipv4[{j}]"), s)?);
    }
    let mut v6 = Vec::new();
    for (j, s) in p.ipv6.iter().enumerate() {
        push_unique(&mut v6, parse_v6(&format!("{at}.ipv6[{j}]"), s)?);
    }
    let mut pairs = Vec::new();
    for (j, pair) in p.allowed_address_pairs.iter().enumerate() {
        let at = format!("{at}.allowed_address_pairs[{j}]");
        let ip = parse_ip(&format!("{at}.ip"), &pair.ip)?;
        let mac = match &pair.mac {
            Some(s) => parse_mac(&format!("{at}.mac"), s)?,
            None => match own.first() {
                Some(m) => *m,
                None => {
                    return Err(format!(
                        "{at}: no mac given and the port has no MAC to default to"
                    ))
                }
            },
        };
        pairs.push((ip, mac));
    }
    if !p.port_security_enabled {
        return Ok(PortEntry::default());
    }
    if own.is_empty() {
        return Err(format!(
            "{at}.macs: a port with port security needs at least one MAC \
             (or set port_security_enabled: false)"
        ));
    }
    let mut e = Entry::default();
    for m in &own {
        push_unique(&mut e.macs, (m.0, true));
        push_unique(&mut e.v6, (m.0, link_local(m).octets()));
        for ip in &v4 {
            push_unique(&mut e.v4, (m.0, ip.octets()));
        }
        for ip in &v6 {
            push_unique(&mut e.v6, (m.0, ip.octets()));
        }
    }
    for (ip, m) in &pairs {
        if !e.macs.iter().any(|(x, _)| *x == m.0) {
            e.macs.push((m.0, false));
        }
        match ip {
            IpAddr::V4(v4) => push_unique(&mut e.v4, (m.0, v4.octets())),
            IpAddr::V6(v6) => push_unique(&mut e.v6, (m.0, v6.octets())),
        }
    }
    if e.macs.len() > MAX_MACS {
        return Err(format!(
            "{at}: {} MACs (own and allowed-address-pair) exceed the limit of {MAX_MACS}",
            e.macs.len()
        ));
    }
    if e.v4.len() > MAX_PAIRS || e.v6.len() > MAX_PAIRS {
        return Err(format!(
            "{at}: {} IPv4 and {} IPv6 (MAC, IP) pairs; the limit is {MAX_PAIRS} per family",
            e.v4.len(),
            e.v6.len()
        ));
    }
    Ok(PortEntry {
        secured: true,
        macs: e.macs.into_boxed_slice(),
        v4: e.v4.into_boxed_slice(),
        v6: e.v6.into_boxed_slice(),
    })
}

/// A port entry under construction.
#[derive(Default)]
struct Entry {
    macs: Vec<(Mac, bool)>,
    v4: Vec<(Mac, [u8; 4])>,
    v6: Vec<(Mac, [u8; 16])>,
}

impl PortsecTables {
    /// Builds the table.
    ///
    /// # Errors
    /// A zero or repeated port key, an address that does not parse, is not
    /// a unicast host address or is in the wrong family's list, a secured
    /// port without a MAC, or a port past [`MAX_MACS`] / [`MAX_PAIRS`],
    /// naming the field (`ports[3].ipv4[0]: ...`).
    pub fn build(cfg: &PortsecConfig) -> Result<PortsecTables, String> {
        let mut t = PortsecTables::default();
        for (i, p) in cfg.ports.iter().enumerate() {
            let at = format!("ports[{i}]");
            if p.port_key == 0 {
                return Err(format!("{at}: port_key must be non-zero"));
            }
            // Entries are pushed in config order, so the index is the position.
            if let Some(first) = t.index.get(p.port_key) {
                return Err(format!(
                    "{at}: port key {} is listed twice (also ports[{first}])",
                    p.port_key
                ));
            }
            let entry = build_port(&at, p)?;
            t.index.insert(p.port_key, t.ports.len() as u32);
            t.ports.push(entry);
        }
        Ok(t)
    }

    /// The entry of port `key`.
    #[inline]
    pub(crate) fn port(&self, key: u32) -> Option<&PortEntry> {
        self.ports.get(self.index.get(key)? as usize)
    }

    /// Number of ports.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// True when no port is configured.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// JSON summary: per port, whether it is secured, its MACs and its
    /// (MAC, IP) pairs.
    pub fn describe(&self) -> serde_json::Value {
        let mac = |m: &Mac| EthernetAddress(*m).to_string();
        let ports: Vec<serde_json::Value> = self
            .index
            .iter()
            .filter_map(|(key, i)| self.ports.get(i as usize).map(|p| (key, p)))
            .map(|(key, p)| {
                serde_json::json!({
                    "port_key": key,
                    "port_security_enabled": p.secured,
                    "macs": p.macs.iter().map(|(m, own)| serde_json::json!({"mac": mac(m), "own": own})).collect::<Vec<_>>(),
                    "ipv4": p.v4.iter().map(|(m, ip)| serde_json::json!({"mac": mac(m), "ip": Ipv4Addr::from(*ip).to_string()})).collect::<Vec<_>>(),
                    "ipv6": p.v6.iter().map(|(m, ip)| serde_json::json!({"mac": mac(m), "ip": Ipv6Addr::from(*ip).to_string()})).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({ "ports": ports })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(json: &str) -> Result<PortsecTables, String> {
        PortsecTables::build(&serde_json::from_str(json).unwrap())
    }

    fn err(json: &str) -> String {
        build(json).unwrap_err()
    }

    const MAC1: Mac = [0xfa, 0x16, 0x3e, 0, 0, 1];
    const MAC2: Mac = [0xfa, 0x16, 0x3e, 0, 0, 2];
    const VIP: Mac = [0xfa, 0x16, 0x3e, 0, 0, 0x99];

    #[test]
    fn link_local_is_eui64() {
        let mac: EthernetAddress = "fa:16:3e:11:22:33".parse().unwrap();
        assert_eq!(
            link_local(&mac),
            "fe80::f816:3eff:fe11:2233".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn binds_fixed_ips_to_every_port_mac_and_pairs_to_their_mac() {
        let t = build(
            r#"{"ports":[{"port_key":7,"macs":["fa:16:3e:00:00:01","fa:16:3e:00:00:02"],
                "ipv4":["10.0.0.5","10.0.0.5"],"ipv6":["2001:db8::5"],
                "allowed_address_pairs":[{"ip":"10.0.0.100","mac":"fa:16:3e:00:00:99"},
                                         {"ip":"10.0.0.101"},{"ip":"2001:db8::100"}]}]}"#,
        )
        .unwrap();
        assert_eq!(t.len(), 1);
        let p = t.port(7).unwrap();
        assert!(p.secured);
        assert_eq!(p.mac(&MAC1), Some(true));
        assert_eq!(p.mac(&MAC2), Some(true));
        assert_eq!(
            p.mac(&VIP),
            Some(false),
            "a pair's MAC is allowed but not the port's own"
        );
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap().octets();
        assert!(p.v4(&MAC1, &ip("10.0.0.5")) && p.v4(&MAC2, &ip("10.0.0.5")));
        assert!(p.v4(&VIP, &ip("10.0.0.100")));
        assert!(
            !p.v4(&MAC1, &ip("10.0.0.100")),
            "a pair IP is bound to the pair MAC"
        );
        assert!(!p.v4(&VIP, &ip("10.0.0.5")));
        assert!(
            p.v4(&MAC1, &ip("10.0.0.101")),
            "a pair without mac takes the first port MAC"
        );
        assert_eq!(p.v4.len(), 4, "duplicates are merged");
        let ip6 = |s: &str| s.parse::<Ipv6Addr>().unwrap().octets();
        assert!(p.v6(&MAC1, &ip6("2001:db8::5")));
        assert!(p.v6(&MAC1, &ip6("fe80::f816:3eff:fe00:1")));
        assert!(p.v6(&MAC2, &ip6("fe80::f816:3eff:fe00:2")));
        assert!(
            !p.v6(&MAC1, &ip6("fe80::f816:3eff:fe00:2")),
            "link-local is per MAC"
        );
        assert!(p.v6(&MAC1, &ip6("2001:db8::100")));
        assert!(t.port(8).is_none());
        let d = t.describe();
        assert_eq!(d["ports"][0]["port_key"], 7);
        assert_eq!(d["ports"][0]["macs"][2]["mac"], "fa:16:3e:00:00:99");
        assert_eq!(d["ports"][0]["ipv6"][0]["ip"], "fe80::f816:3eff:fe00:1");
    }

    #[test]
    fn disabled_port_security_needs_no_mac() {
        let t = build(r#"{"ports":[{"port_key":3,"port_security_enabled":false}]}"#).unwrap();
        let p = t.port(3).unwrap();
        assert!(!p.secured);
        assert!(p.macs.is_empty());
    }

    #[test]
    fn bad_configs_name_the_field() {
        let cases = [
            (
                r#"{"ports":[{"port_key":1,"macs":["fa:16:3e:00:00:01"]},{"port_key":1,"macs":["fa:16:3e:00:00:02"]}]}"#,
                "ports[1]: port key 1 is listed twice (also ports[0])",
            ),
            (
                r#"{"ports":[{"port_key":0,"macs":["fa:16:3e:00:00:01"]}]}"#,
                "ports[0]: port_key must be non-zero",
            ),
            (
                r#"{"ports":[{"port_key":1,"macs":["fa:16:3e:00:00:01","fa:16:3e:00:00"]}]}"#,
                "ports[0].macs[1]: `fa:16:3e:00:00` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)",
            ),
            (
                r#"{"ports":[{"port_key":1,"macs":["01:00:5e:00:00:01"]}]}"#,
                "ports[0].macs[0]: MAC 01:00:5e:00:00:01 is not a unicast address",
            ),
            (
                r#"{"ports":[{"port_key":1,"macs":["fa:16:3e:00:00:01"],"ipv4":["10.0.0.1","2001:db8::1"]}]}"#,
                "ports[0].ipv4[1]: `2001:db8::1` is an IPv6 address (list it under ipv6)",
            ),
            (
                r#"{"ports":[{"port_key":1,"macs":["fa:16:3e:00:00:01"],"ipv6":["10.0.0.1"]}]}"#,
                "ports[0].ipv6[0]: `10.0.0.1` is an IPv4 address (list it under ipv4)",
            ),
            (
                r#"{"ports":[{"port_key":1,"macs":["fa:16:3e:00:00:01"],"ipv4":["10.0.0"]}]}"#,
                "ports[0].ipv4[0]: `10.0.0` is not an IP address",
            ),
            (
                r#"{"ports":[{"port_key":1,"macs":["fa:16:3e:00:00:01"],"ipv4":["0.0.0.0"]}]}"#,
                "ports[0].ipv4[0]: 0.0.0.0 is not a unicast host address (unspecified, broadcast or multicast)",
            ),
            (
                r#"{"ports":[{"port_key":1,"macs":["fa:16:3e:00:00:01"],"allowed_address_pairs":[{"ip":"10.0.0.0/24"}]}]}"#,
                "ports[0].allowed_address_pairs[0].ip: `10.0.0.0/24` is a CIDR; list host addresses (one pair per address)",
            ),
            (
                r#"{"ports":[{"port_key":1,"macs":["fa:16:3e:00:00:01"],"allowed_address_pairs":[{"ip":"10.0.0.9","mac":"x"}]}]}"#,
                "ports[0].allowed_address_pairs[0].mac: `x` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)",
            ),
            (
                r#"{"ports":[{"port_key":1,"ipv4":["10.0.0.1"]}]}"#,
                "ports[0].macs: a port with port security needs at least one MAC (or set port_security_enabled: false)",
            ),
        ];
        for (json, want) in cases {
            assert_eq!(err(json), want, "{json}");
        }
    }

    #[test]
    fn limits() {
        let pairs: Vec<String> = (0..MAX_MACS)
            .map(|i| format!(r#"{{"ip":"10.0.1.{i}","mac":"fa:16:3e:00:01:{i:02x}"}}"#))
            .collect();
        let json = format!(
            r#"{{"ports":[{{"port_key":1,"macs":["fa:16:3e:00:00:01"],"allowed_address_pairs":[{}]}}]}}"#,
            pairs.join(",")
        );
        assert_eq!(
            err(&json),
            "ports[0]: 17 MACs (own and allowed-address-pair) exceed the limit of 16"
        );
        let ips: Vec<String> = (0..MAX_PAIRS + 1)
            .map(|i| format!(r#""10.1.{}.{}""#, i / 200, i % 200 + 1))
            .collect();
        let json = format!(
            r#"{{"ports":[{{"port_key":1,"macs":["fa:16:3e:00:00:01"],"ipv4":[{}]}}]}}"#,
            ips.join(",")
        );
        assert_eq!(
            err(&json),
            "ports[0]: 129 IPv4 and 1 IPv6 (MAC, IP) pairs; the limit is 128 per family"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = serde_json::from_str::<PortsecConfig>(
            r#"{"ports":[{"port_key":1,"macs":[],"ips":["10.0.0.1"]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field `ips`"), "{e}");
    }
}
