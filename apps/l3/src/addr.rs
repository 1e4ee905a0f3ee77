//! Address helpers for building the tables: parsing with the field's path in
//! every error, prefixes of either family, and what counts as a host
//! address. Nothing here runs on the hot path.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use df_wire::EthernetAddress;

/// An IPv4 or IPv6 prefix; `addr` has its host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Prefix {
    pub(crate) addr: IpAddr,
    pub(crate) len: u8,
}

/// Netmask of an IPv4 prefix of `len` bits (`len` <= 32).
pub(crate) fn mask4(len: u8) -> u32 {
    match len {
        0 => 0,
        n => u32::MAX << (32 - u32::from(n.min(32))),
    }
}

/// Netmask of an IPv6 prefix of `len` bits (`len` <= 128).
pub(crate) fn mask6(len: u8) -> u128 {
    match len {
        0 => 0,
        n => u128::MAX << (128 - u32::from(n.min(128))),
    }
}

/// Address width of `ip`'s family in bits.
pub(crate) fn width(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

impl Prefix {
    /// The prefix of `len` bits containing `ip` (host bits cleared).
    pub(crate) fn of(ip: IpAddr, len: u8) -> Prefix {
        let addr = match ip {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask4(len))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask6(len))),
        };
        Prefix { addr, len }
    }

    /// True if `ip` is inside the prefix (same family).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => u32::from(a) & mask4(self.len) == u32::from(n),
            (IpAddr::V6(n), IpAddr::V6(a)) => u128::from(a) & mask6(self.len) == u128::from(n),
            _ => false,
        }
    }

    /// True if the two prefixes share an address.
    pub(crate) fn overlaps(&self, other: &Prefix) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// The last address of an IPv4 prefix (directed broadcast).
    pub(crate) fn broadcast4(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(n) => Some(Ipv4Addr::from(u32::from(n) | !mask4(self.len))),
            IpAddr::V6(_) => None,
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Parses a unicast MAC.
pub(crate) fn parse_mac(at: &str, s: &str) -> Result<EthernetAddress, String> {
    let mac: EthernetAddress = s.parse().map_err(|_| {
        format!("{at}: `{s}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)")
    })?;
    if !mac.is_unicast() {
        return Err(format!("{at}: MAC {mac} is not a unicast address"));
    }
    Ok(mac)
}

/// Parses an IP address; a CIDR gets its own message.
pub(crate) fn parse_ip(at: &str, s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| {
        if s.contains('/') {
            format!("{at}: `{s}` is a CIDR; list host addresses")
        } else {
            format!("{at}: `{s}` is not an IP address")
        }
    })
}

/// Parses a prefix `addr/len` whose host bits are clear.
pub(crate) fn parse_prefix(at: &str, s: &str) -> Result<Prefix, String> {
    let bad = || {
        format!("{at}: `{s}` is not an IP prefix (expected e.g. 10.1.0.0/16 or 2001:db8:1::/48)")
    };
    let (a, l) = s.split_once('/').ok_or_else(bad)?;
    let ip: IpAddr = a.parse().map_err(|_| bad())?;
    let len: u8 = l.parse().map_err(|_| bad())?;
    if len > width(ip) {
        return Err(bad());
    }
    let p = Prefix::of(ip, len);
    if p.addr != ip {
        return Err(format!("{at}: {s} has host bits set (did you mean {p}?)"));
    }
    Ok(p)
}

/// Why `ip` cannot be a port's or host's address, if it cannot: the
/// addresses no unicast packet is ever routed to.
pub(crate) fn not_unicast(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets()[0];
            if o == 0 {
                Some("unspecified (0.0.0.0/8)")
            } else if a.is_loopback() {
                Some("loopback")
            } else if a.is_multicast() {
                Some("multicast")
            } else if o >= 240 {
                Some("broadcast or reserved (240.0.0.0/4)")
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            if a.is_unspecified() {
                Some("unspecified")
            } else if a.is_loopback() {
                Some("loopback")
            } else if a.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

/// True for an IPv6 link-local unicast address (fe80::/10).
pub(crate) fn is_link_local6(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p = parse_prefix("x", "10.1.0.0/16").unwrap();
        assert!(p.contains("10.1.200.3".parse().unwrap()));
        assert!(!p.contains("10.2.0.0".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        assert_eq!(p.broadcast4(), Some(Ipv4Addr::new(10, 1, 255, 255)));
        assert_eq!(
            parse_prefix("x", "10.1.2.3/16").unwrap_err(),
            "x: 10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)"
        );
        assert!(parse_prefix("x", "10.1.0.0/33").is_err());
        assert!(parse_prefix("x", "10.1.0.0").is_err());
        let q = parse_prefix("x", "2001:db8::/32").unwrap();
        assert!(q.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(q.overlaps(&parse_prefix("x", "2001:db8:1::/48").unwrap()));
        assert!(parse_prefix("x", "::/0")
            .unwrap()
            .contains("ff02::1".parse().unwrap()));
        assert_eq!(
            Prefix::of("10.0.0.9".parse().unwrap(), 0).to_string(),
            "0.0.0.0/0"
        );
        assert!(is_link_local6(&"fe80::1".parse().unwrap()));
        assert!(!is_link_local6(&"fec0::1".parse().unwrap()));
    }
}
