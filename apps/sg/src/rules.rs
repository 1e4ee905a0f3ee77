//! The compiled rule matcher: what decides whether a new connection is
//! allowed.
//!
//! Ports with the same set of groups share one [`RuleSet`]; a rule set has
//! one [`RuleList`] per (direction, IP version), and a rule list keeps its
//! rules in one contiguous slice cut into four buckets by protocol (TCP,
//! UDP, ICMP of that version, everything else), each bucket holding the
//! rules of that protocol and the any-protocol rules, in config order. A
//! new connection scans one bucket linearly: a compiled rule is 48 bytes
//! and checks a protocol, a port range, an ICMP type/code and the remote
//! side (a prefix as a masked compare on a 128-bit address, or a hash-set
//! probe of the remote group's members). Fifty rules are a few cache lines
//! and no branches that depend on data beyond the compares; the scan stops
//! at the first rule that allows, and that rule's dense index is what the
//! connection remembers.
//!
//! Addresses are `u128`: IPv6 as is, IPv4 as its IPv4-mapped IPv6 address
//! (`::ffff:a.b.c.d`), so one code path serves both and an IPv4 prefix can
//! never match an IPv6 address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hashbrown::HashSet;

/// A protocol or ICMP field value meaning "any".
pub(crate) const ANY: u16 = 0x100;

/// Bucket of TCP, UDP, ICMP (the list's version) and other protocols.
pub(crate) const TCP: usize = 0;
/// See [`TCP`].
pub(crate) const UDP: usize = 1;
/// See [`TCP`].
pub(crate) const ICMP: usize = 2;
/// See [`TCP`].
pub(crate) const OTHER: usize = 3;

/// The bucket of protocol `proto` in a list of IP version `v6`.
#[inline]
pub(crate) fn bucket(proto: u8, v6: bool) -> usize {
    match proto {
        6 => TCP,
        17 => UDP,
        1 if !v6 => ICMP,
        58 if v6 => ICMP,
        _ => OTHER,
    }
}

/// An IPv4 address as the `u128` the tables use (IPv4-mapped).
#[inline]
pub(crate) fn v4_addr(a: Ipv4Addr) -> u128 {
    0xffff_u128 << 32 | u128::from(u32::from(a))
}

/// An IPv6 address as the `u128` the tables use.
#[inline]
pub(crate) fn v6_addr(a: Ipv6Addr) -> u128 {
    u128::from(a)
}

/// Any address as the `u128` the tables use.
pub(crate) fn addr(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => v4_addr(a),
        IpAddr::V6(a) => v6_addr(a),
    }
}

/// The remote side of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Remote {
    /// Anywhere (no prefix, or a /0).
    Any,
    /// `addr & mask == net`.
    Prefix {
        /// Network address (host bits zero).
        net: u128,
        /// The mask (for IPv4, the mapped prefix's upper 96 bits are set).
        mask: u128,
    },
    /// A member of the group at this index of `SgTables::members`.
    Group(u32),
}

/// One compiled rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CRule {
    /// Protocol number or [`ANY`].
    pub(crate) proto: u16,
    /// Destination port range (the whole range when the rule has none).
    pub(crate) lo: u16,
    /// See `lo`.
    pub(crate) hi: u16,
    /// ICMP type or [`ANY`].
    pub(crate) icmp_type: u16,
    /// ICMP code or [`ANY`].
    pub(crate) icmp_code: u16,
    /// The remote side.
    pub(crate) remote: Remote,
    /// The rule's dense index (`SgTables::rules`).
    pub(crate) index: u32,
}

/// What a new connection is checked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Query {
    /// Protocol number.
    pub(crate) proto: u8,
    /// Destination port (0 for protocols without ports).
    pub(crate) dport: u16,
    /// ICMP type and code (0 for other protocols; never compared then).
    pub(crate) icmp_type: u8,
    /// See `icmp_type`.
    pub(crate) icmp_code: u8,
    /// The remote address: the destination at egress, the source at ingress.
    pub(crate) remote: u128,
}

impl CRule {
    #[inline]
    fn matches(&self, q: &Query, members: &[HashSet<u128>]) -> bool {
        (self.proto == ANY || self.proto == u16::from(q.proto))
            && self.lo <= q.dport
            && q.dport <= self.hi
            && (self.icmp_type == ANY || self.icmp_type == u16::from(q.icmp_type))
            && (self.icmp_code == ANY || self.icmp_code == u16::from(q.icmp_code))
            && match self.remote {
                Remote::Any => true,
                Remote::Prefix { net, mask } => q.remote & mask == net,
                Remote::Group(g) => members
                    .get(g as usize)
                    .is_some_and(|m| m.contains(&q.remote)),
            }
    }
}

/// The rules of one (direction, IP version) of a rule set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RuleList {
    rules: Box<[CRule]>,
    /// `(start, end)` of each bucket in `rules`.
    buckets: [(u32, u32); 4],
}

impl RuleList {
    /// Compiles `rules` (config order) for IP version `v6`.
    pub(crate) fn new(rules: &[CRule], v6: bool) -> RuleList {
        let mut all = Vec::new();
        let mut buckets = [(0u32, 0u32); 4];
        for (b, range) in buckets.iter_mut().enumerate() {
            let start = all.len() as u32;
            all.extend(rules.iter().filter(|r| {
                r.proto == ANY || u8::try_from(r.proto).is_ok_and(|p| bucket(p, v6) == b)
            }));
            *range = (start, all.len() as u32);
        }
        RuleList {
            rules: all.into_boxed_slice(),
            buckets,
        }
    }

    /// The first rule allowing `q` (its dense index).
    #[inline]
    pub(crate) fn first_match(
        &self,
        q: &Query,
        v6: bool,
        members: &[HashSet<u128>],
    ) -> Option<u32> {
        let (start, end) = self.buckets[bucket(q.proto, v6)];
        self.rules
            .get(start as usize..end as usize)?
            .iter()
            .find(|r| r.matches(q, members))
            .map(|r| r.index)
    }

    /// Number of distinct rules (any-protocol rules count once).
    pub(crate) fn len(&self) -> usize {
        let mut n: Vec<u32> = self.rules.iter().map(|r| r.index).collect();
        n.sort_unstable();
        n.dedup();
        n.len()
    }
}

/// The rules of the ports that share one set of groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RuleSet {
    /// Indexed by [`list_index`].
    pub(crate) lists: [RuleList; 4],
}

/// Index of the (direction, version) list in a [`RuleSet`].
#[inline]
pub(crate) fn list_index(ingress: bool, v6: bool) -> usize {
    usize::from(ingress) << 1 | usize::from(v6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(proto: u16, lo: u16, hi: u16, remote: Remote, index: u32) -> CRule {
        CRule {
            proto,
            lo,
            hi,
            icmp_type: ANY,
            icmp_code: ANY,
            remote,
            index,
        }
    }

    fn q(proto: u8, dport: u16, remote: u128) -> Query {
        Query {
            proto,
            dport,
            icmp_type: 0,
            icmp_code: 0,
            remote,
        }
    }

    #[test]
    fn buckets_keep_order_and_share_any_protocol_rules() {
        let net = v4_addr(Ipv4Addr::new(10, 0, 0, 0));
        let mask = v4_addr(Ipv4Addr::new(255, 0, 0, 0)) | (u128::MAX << 32);
        let rules = [
            rule(6, 22, 22, Remote::Any, 0),
            rule(ANY, 0, 65535, Remote::Prefix { net, mask }, 1),
            rule(17, 53, 53, Remote::Any, 2),
            rule(47, 0, 65535, Remote::Any, 3),
        ];
        let l = RuleList::new(&rules, false);
        let members = [];
        let inside = v4_addr(Ipv4Addr::new(10, 1, 2, 3));
        let outside = v4_addr(Ipv4Addr::new(11, 1, 2, 3));
        assert_eq!(l.first_match(&q(6, 22, outside), false, &members), Some(0));
        assert_eq!(l.first_match(&q(6, 23, inside), false, &members), Some(1));
        assert_eq!(l.first_match(&q(6, 23, outside), false, &members), None);
        assert_eq!(l.first_match(&q(17, 53, outside), false, &members), Some(2));
        assert_eq!(l.first_match(&q(47, 0, outside), false, &members), Some(3));
        assert_eq!(l.first_match(&q(50, 0, outside), false, &members), None);
        assert_eq!(l.first_match(&q(50, 0, inside), false, &members), Some(1));
        assert_eq!(l.len(), 4);
    }

    #[test]
    fn remote_groups_probe_member_sets() {
        let a = v4_addr(Ipv4Addr::new(10, 0, 0, 5));
        let members = [HashSet::from_iter([a])];
        let l = RuleList::new(&[rule(ANY, 0, 65535, Remote::Group(0), 7)], false);
        assert_eq!(l.first_match(&q(6, 80, a), false, &members), Some(7));
        assert_eq!(l.first_match(&q(6, 80, a + 1), false, &members), None);
        // An IPv6 address with the same low bits is not the IPv4 member.
        assert_eq!(
            l.first_match(&q(6, 80, a & 0xffff_ffff), false, &members),
            None
        );
    }
}
