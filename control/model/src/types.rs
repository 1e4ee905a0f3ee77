//! Field types of the NB model: [`Mac`], [`IpNetwork`], [`PortRange`].
//!
//! Why our own: these are tiny, and owning them lets the serialised form be
//! exactly Dragonflow's (`"fa:16:3e:00:00:01"`, `"10.0.0.0/24"`, `[80, 90]`)
//! while parse errors quote the input and say what was expected. Addresses are
//! `std::net::IpAddr`. Each type parses strictly at the boundary (rule 8): a
//! value of one of these types is always well-formed; rules that depend on
//! where the value is used (a subnet's cidr may not have host bits, a router
//! port's network must) are checked by the owning model's `validate()`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

// ---------------------------------------------------------------- Mac

/// A 48-bit Ethernet address, written `fa:16:3e:00:00:01` (lowercase).
/// Parsing accepts either case and `:` or `-` as separator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

/// `input` is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)")]
pub struct MacParseError(pub String);

impl Mac {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    /// The all-zero address.
    pub const ZERO: Mac = Mac([0; 6]);

    /// The six bytes.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// The group bit is set (this includes broadcast).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// The group bit is clear.
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// `ff:ff:ff:ff:ff:ff`.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// `00:00:00:00:00:00`.
    pub fn is_zero(&self) -> bool {
        *self == Self::ZERO
    }
}

impl FromStr for Mac {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Self, MacParseError> {
        let bad = || MacParseError(s.to_owned());
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut parts = s.split(sep);
        for byte in out.iter_mut() {
            let part = parts.next().ok_or_else(bad)?;
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        match parts.next() {
            None => Ok(Mac(out)),
            Some(_) => Err(bad()),
        }
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({self})")
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(FromStrVisitor::<Mac>::new("a MAC address string"))
    }
}

// ---------------------------------------------------------------- IpNetwork

/// An IPv4 or IPv6 prefix written `address/length`, e.g. `10.0.0.0/24`.
///
/// The address is kept as written, host bits included: a router port's
/// `network` is `10.0.0.1/24`, the interface address plus its subnet. Use
/// [`IpNetwork::network`] for the masked prefix and
/// [`IpNetwork::has_host_bits`] to enforce a pure prefix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string or pair is not an [`IpNetwork`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpNetworkError {
    /// Not `address/length`.
    #[error("`{0}` is not an IP network (expected address/prefix-length, e.g. 10.0.0.0/24 or fd00::/64)")]
    Syntax(String),
    /// The prefix length exceeds the address width.
    #[error("`{input}` is not an IP network: prefix length {len} is longer than {max} bits")]
    PrefixTooLong {
        /// What was given.
        input: String,
        /// The prefix length.
        len: u32,
        /// 32 or 128.
        max: u8,
    },
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn width(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// The `prefix` leading bits of a `width`-bit address, as a mask.
fn mask(prefix: u8, width: u8) -> u128 {
    let all = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    // `checked_shr` because a /128 shifts a u128 by its full width.
    all & !all.checked_shr(u32::from(prefix)).unwrap_or(0)
}

fn from_bits(template: IpAddr, v: u128) -> IpAddr {
    match template {
        // Truncation is intended: v has at most 32 significant bits here.
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(v as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

impl IpNetwork {
    /// `addr/prefix`.
    ///
    /// # Errors
    /// [`IpNetworkError::PrefixTooLong`] when `prefix` exceeds 32 (IPv4) or
    /// 128 (IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, IpNetworkError> {
        let max = width(addr);
        if prefix > max {
            return Err(IpNetworkError::PrefixTooLong {
                input: format!("{addr}/{prefix}"),
                len: u32::from(prefix),
                max,
            });
        }
        Ok(IpNetwork { addr, prefix })
    }

    /// The address as written (may have host bits).
    pub const fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub const fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// 32 or 128.
    pub fn max_prefix_len(&self) -> u8 {
        width(self.addr)
    }

    /// IPv4 prefix.
    pub const fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// IPv6 prefix.
    pub const fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// The address with its host bits cleared.
    pub fn network_address(&self) -> IpAddr {
        from_bits(
            self.addr,
            bits(self.addr) & mask(self.prefix, width(self.addr)),
        )
    }

    /// The masked prefix (`10.0.0.1/24` -> `10.0.0.0/24`).
    pub fn network(&self) -> IpNetwork {
        IpNetwork {
            addr: self.network_address(),
            prefix: self.prefix,
        }
    }

    /// The address has bits set past the prefix length.
    pub fn has_host_bits(&self) -> bool {
        self.network_address() != self.addr
    }

    /// `ip` is of the same family and inside the prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let m = mask(self.prefix, width(self.addr));
        bits(ip) & m == bits(self.addr) & m
    }

    /// The two prefixes share at least one address.
    pub fn overlaps(&self, other: &IpNetwork) -> bool {
        if self.prefix <= other.prefix {
            self.contains(other.addr)
        } else {
            other.contains(self.addr)
        }
    }
}

impl FromStr for IpNetwork {
    type Err = IpNetworkError;

    fn from_str(s: &str) -> Result<Self, IpNetworkError> {
        let syntax = || IpNetworkError::Syntax(s.to_owned());
        let (addr, len) = s.split_once('/').ok_or_else(syntax)?;
        let addr: IpAddr = addr.parse().map_err(|_| syntax())?;
        if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        let len: u32 = len.parse().map_err(|_| syntax())?;
        let max = width(addr);
        if len > u32::from(max) {
            return Err(IpNetworkError::PrefixTooLong {
                input: s.to_owned(),
                len,
                max,
            });
        }
        // len <= 128 here.
        IpNetwork::new(addr, len as u8)
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl fmt::Debug for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IpNetwork({self})")
    }
}

impl Serialize for IpNetwork {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpNetwork {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(FromStrVisitor::<IpNetwork>::new("a CIDR string"))
    }
}

// ---------------------------------------------------------------- PortRange

/// An inclusive range of L4 ports, `min <= max`, serialised as Dragonflow's
/// `PortRangeField` did: a two-element array `[min, max]`.
///
/// Not `Ord` on purpose: `Ord::min`/`Ord::max` would shadow the bounds'
/// accessors in method calls.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    min: u16,
    max: u16,
}

/// `min > max`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`[{min}, {max}]` is not a port range (min {min} is greater than max {max})")]
pub struct PortRangeError {
    /// The lower bound given.
    pub min: u16,
    /// The upper bound given.
    pub max: u16,
}

impl PortRange {
    /// Every port, `[0, 65535]`.
    pub const ALL: PortRange = PortRange { min: 0, max: 65535 };

    /// `[min, max]`.
    ///
    /// # Errors
    /// [`PortRangeError`] when `min > max`.
    pub const fn new(min: u16, max: u16) -> Result<Self, PortRangeError> {
        if min > max {
            Err(PortRangeError { min, max })
        } else {
            Ok(PortRange { min, max })
        }
    }

    /// The one-port range `[port, port]`.
    pub const fn single(port: u16) -> Self {
        PortRange {
            min: port,
            max: port,
        }
    }

    /// Lower bound (inclusive).
    pub const fn min(&self) -> u16 {
        self.min
    }

    /// Upper bound (inclusive).
    pub const fn max(&self) -> u16 {
        self.max
    }

    /// `min <= port <= max`.
    pub const fn contains(&self, port: u16) -> bool {
        self.min <= port && port <= self.max
    }
}

impl fmt::Debug for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortRange[{}, {}]", self.min, self.max)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.min, self.max].serialize(s)
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (min, max) = <(u16, u16)>::deserialize(d)?;
        PortRange::new(min, max).map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------- helpers

/// Deserialises any `FromStr` type from a JSON string, keeping its error text.
pub(crate) struct FromStrVisitor<T> {
    expecting: &'static str,
    _t: std::marker::PhantomData<T>,
}

impl<T> FromStrVisitor<T> {
    pub(crate) fn new(expecting: &'static str) -> Self {
        FromStrVisitor {
            expecting,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T> de::Visitor<'_> for FromStrVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parses_either_case_and_prints_lowercase() {
        let m: Mac = "FA:16:3E:00:0A:01".parse().unwrap();
        assert_eq!(m.to_string(), "fa:16:3e:00:0a:01");
        assert_eq!("fa-16-3e-00-0a-01".parse::<Mac>().unwrap(), m);
        assert!(m.is_unicast() && !m.is_multicast());
        assert!("01:00:5e:00:00:01".parse::<Mac>().unwrap().is_multicast());
        assert!(Mac::BROADCAST.is_multicast() && Mac::BROADCAST.is_broadcast());
        for bad in [
            "zz",
            "",
            "fa:16:3e:00:00",
            "fa:16:3e:00:00:01:02",
            "fa:16:3e:0:00:01",
            "fa:16-3e:00:00:01",
            "+a:16:3e:00:00:01",
        ] {
            let e = bad.parse::<Mac>().unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "`{bad}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)"
                )
            );
        }
    }

    #[test]
    fn ip_network_prefixes_and_host_bits() {
        let n: IpNetwork = "10.0.0.1/24".parse().unwrap();
        assert!(n.has_host_bits());
        assert_eq!(n.network().to_string(), "10.0.0.0/24");
        assert!(n.contains("10.0.0.200".parse().unwrap()));
        assert!(!n.contains("10.0.1.1".parse().unwrap()));
        assert!(!n.contains("::1".parse().unwrap()));
        let z: IpNetwork = "0.0.0.0/0".parse().unwrap();
        assert!(z.contains("1.2.3.4".parse().unwrap()) && !z.has_host_bits());
        let h: IpNetwork = "10.0.0.5/32".parse().unwrap();
        assert!(!h.has_host_bits() && h.contains("10.0.0.5".parse().unwrap()));
        let v6: IpNetwork = "fd00:1::5/64".parse().unwrap();
        assert_eq!(v6.network().to_string(), "fd00:1::/64");
        assert!(v6.contains("fd00:1::ffff".parse().unwrap()));
        let host6: IpNetwork = "fd00::1/128".parse().unwrap();
        assert!(!host6.has_host_bits() && host6.contains("fd00::1".parse().unwrap()));
        assert!(!host6.contains("fd00::2".parse().unwrap()));
        let all6: IpNetwork = "::/0".parse().unwrap();
        assert!(all6.contains("fd00::1".parse().unwrap()));
        assert!(n.overlaps(&"10.0.0.128/25".parse().unwrap()));
        assert!(!n.overlaps(&"10.0.1.0/24".parse().unwrap()));
    }

    #[test]
    fn ip_network_errors() {
        assert_eq!(
            "10.0.0.0/33".parse::<IpNetwork>().unwrap_err().to_string(),
            "`10.0.0.0/33` is not an IP network: prefix length 33 is longer than 32 bits"
        );
        for bad in [
            "10.0.0.0",
            "10.0.0/24",
            "10.0.0.0/",
            "10.0.0.0/+4",
            "x/1",
            "10.0.0.0/24/1",
        ] {
            assert_eq!(
                bad.parse::<IpNetwork>().unwrap_err(),
                IpNetworkError::Syntax(bad.to_owned()),
                "{bad}"
            );
        }
        assert!(IpNetwork::new("::".parse().unwrap(), 129).is_err());
    }

    #[test]
    fn port_range_serde_is_a_pair() {
        let r = PortRange::new(80, 90).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "[80,90]");
        assert_eq!(serde_json::from_str::<PortRange>("[80,90]").unwrap(), r);
        let e = serde_json::from_str::<PortRange>("[90,80]").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("`[90, 80]` is not a port range (min 90 is greater than max 80)"));
        assert!(PortRange::new(2, 1).is_err());
        assert!(r.contains(85) && !r.contains(91));
    }
}
