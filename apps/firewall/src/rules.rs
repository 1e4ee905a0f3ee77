//! Compiled firewall rules and first-match evaluation of a policy.
//!
//! Why this shape: an FWaaS policy is an ordered list in which the first
//! matching rule decides, and policies are short (tens of rules), so a
//! linear scan of plain `Copy` rules is the honest structure: one
//! cache-friendly pass, no precomputation that could reorder rules. A
//! policy keeps one list per IP version (a rule matches one version only,
//! so splitting keeps the order of the rules that can match a packet) and
//! drops disabled rules when it is built. Addresses are `u128` with IPv4
//! in the low 32 bits; a prefix is (address, mask), so "any" is mask 0.

use crate::config::RuleAction;

/// Protocols whose rules may carry port ranges and whose packets give
/// ports to match: TCP, UDP, DCCP, SCTP, UDP-Lite.
#[inline]
pub(crate) fn has_ports(proto: u8) -> bool {
    matches!(proto, 6 | 17 | 33 | 132 | 136)
}

/// One enabled rule, ready to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) action: RuleAction,
    /// `None`: any protocol.
    pub(crate) proto: Option<u8>,
    pub(crate) src: u128,
    pub(crate) src_mask: u128,
    pub(crate) dst: u128,
    pub(crate) dst_mask: u128,
    pub(crate) sport: Option<(u16, u16)>,
    pub(crate) dport: Option<(u16, u16)>,
    /// Position in the policy as configured (disabled rules counted), for
    /// trace notes and `dfctl show tables`.
    pub(crate) pos: u32,
}

/// What a rule is matched against: a packet's addresses, protocol and,
/// when `ports` is set, its L4 ports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) proto: u8,
    pub(crate) src: u128,
    pub(crate) dst: u128,
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    /// False for protocols without ports and for non-first fragments: a
    /// rule with a port range never matches such a packet.
    pub(crate) ports: bool,
}

#[inline]
fn in_range(r: Option<(u16, u16)>, ports: bool, p: u16) -> bool {
    match r {
        None => true,
        Some((lo, hi)) => ports && lo <= p && p <= hi,
    }
}

impl Rule {
    /// True if the rule matches `q`.
    #[inline]
    pub(crate) fn matches(&self, q: &Query) -> bool {
        self.proto.is_none_or(|p| p == q.proto)
            && q.src & self.src_mask == self.src
            && q.dst & self.dst_mask == self.dst
            && in_range(self.sport, q.ports, q.sport)
            && in_range(self.dport, q.ports, q.dport)
    }
}

/// One policy: its enabled rules, per IP version, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `[IPv4 rules, IPv6 rules]`.
    pub(crate) lists: [Box<[Rule]>; 2],
    /// Rule ids by configured position (for `describe`).
    pub(crate) ids: Box<[String]>,
}

/// What a policy says about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The rule at this position matched with this action.
    Rule(RuleAction, u32),
    /// No rule matched: FWaaS's implicit deny at the end of a policy.
    DefaultDeny,
}

impl Policy {
    /// The first rule of `v6`'s list that matches `q`.
    #[inline]
    pub(crate) fn decide(&self, v6: bool, q: &Query) -> Decision {
        let list = &self.lists[usize::from(v6)];
        match list.iter().find(|r| r.matches(q)) {
            Some(r) => Decision::Rule(r.action, r.pos),
            None => Decision::DefaultDeny,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(action: RuleAction, proto: Option<u8>, dport: Option<(u16, u16)>, pos: u32) -> Rule {
        Rule {
            action,
            proto,
            src: 0,
            src_mask: 0,
            dst: 0x0a00_0000,
            dst_mask: 0xff00_0000,
            sport: None,
            dport,
            pos,
        }
    }

    #[test]
    fn first_match_and_ranges() {
        let p = Policy {
            lists: [
                vec![
                    rule(RuleAction::Deny, Some(6), Some((22, 22)), 0),
                    rule(RuleAction::Allow, Some(6), Some((1, 1024)), 1),
                    rule(RuleAction::Reject, None, None, 2),
                ]
                .into(),
                Box::new([]),
            ],
            ids: Box::new([]),
        };
        let q = |proto, dst, dport, ports| Query {
            proto,
            src: 1,
            dst,
            sport: 40000,
            dport,
            ports,
        };
        let ten = 0x0a01_0203;
        assert_eq!(
            p.decide(false, &q(6, ten, 22, true)),
            Decision::Rule(RuleAction::Deny, 0)
        );
        assert_eq!(
            p.decide(false, &q(6, ten, 80, true)),
            Decision::Rule(RuleAction::Allow, 1)
        );
        // A later fragment has no ports: only the port-less rule matches.
        assert_eq!(
            p.decide(false, &q(6, ten, 80, false)),
            Decision::Rule(RuleAction::Reject, 2)
        );
        assert_eq!(
            p.decide(false, &q(17, 0x0b00_0001, 80, true)),
            Decision::DefaultDeny
        );
        assert_eq!(p.decide(true, &q(6, ten, 22, true)), Decision::DefaultDeny);
    }
}
