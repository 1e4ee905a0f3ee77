//! `sg`'s drop reasons. Each says what was refused and what to check
//! (the port's groups and rules in `dfctl show tables sg`, the trace).

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "unknown-port",
        doc: "the port key (source_port_key at in.egress, destination_port_key at in.ingress) has no entry in the sg table: control has not configured the port yet, or the layout sends traffic of ports sg does not know (list them, with port_security_enabled: false if they are not to be checked)",
    },
    DropSpec {
        name: "not-ip",
        doc: "an EtherType other than IPv4, IPv6 and ARP (VLAN-tagged frames included) from or to a port with port security (Neutron admits only ARP and IP); disable port security on ports that must carry other protocols",
    },
    DropSpec {
        name: "no-rule",
        doc: "a new connection that no rule of the port's groups allows in this direction, or any IP packet of a port with port security and no groups (check the port's security_groups and their rules: protocol, port range, remote prefix or remote group members)",
    },
    DropSpec {
        name: "invalid",
        doc: "a TCP packet that does not fit the connection's state: a first packet that is not a bare SYN (e.g. mid-stream traffic after a rule was removed or the entry expired), an ACK before the SYN-ACK, a SYN on an open connection, an invalid flag combination; or an ICMP reply with no request tracked",
    },
    DropSpec {
        name: "related-not-tracked",
        doc: "an ICMP error (unreachable, time exceeded, too big, parameter problem) whose quoted packet belongs to no tracked connection of the port: a stale or forged error, or the connection expired",
    },
    DropSpec {
        name: "ct-full",
        doc: "a new connection while this worker's conntrack table is full and holds no expired entry; existing connections keep working (raise conntrack.capacity, shorten timeouts, or look for a flow flood)",
    },
    DropSpec {
        name: "malformed",
        doc: "a truncated or inconsistent header (Ethernet, IPv4, IPv6 extension chain, TCP, UDP/SCTP/DCCP, ICMP, or the packet quoted in an ICMP error)",
    },
    DropSpec {
        name: "fragment",
        doc: "a non-first IP fragment whose first fragment was not accepted here within conntrack.fragment_secs (sg does not reassemble: fragments out of order, or the first one was dropped)",
    },
];

/// See [`DROPS`].
pub(crate) const UNKNOWN_PORT: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const NOT_IP: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const NO_RULE: DropId = DropId(2);
/// See [`DROPS`].
pub(crate) const INVALID: DropId = DropId(3);
/// See [`DROPS`].
pub(crate) const RELATED_NOT_TRACKED: DropId = DropId(4);
/// See [`DROPS`].
pub(crate) const CT_FULL: DropId = DropId(5);
/// See [`DROPS`].
pub(crate) const MALFORMED: DropId = DropId(6);
/// See [`DROPS`].
pub(crate) const FRAGMENT: DropId = DropId(7);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_names() {
        let ids = [
            (UNKNOWN_PORT, "unknown-port"),
            (NOT_IP, "not-ip"),
            (NO_RULE, "no-rule"),
            (INVALID, "invalid"),
            (RELATED_NOT_TRACKED, "related-not-tracked"),
            (CT_FULL, "ct-full"),
            (MALFORMED, "malformed"),
            (FRAGMENT, "fragment"),
        ];
        assert_eq!(ids.len(), DROPS.len());
        for (id, name) in ids {
            assert_eq!(DROPS[id.0 as usize].name, name);
        }
    }
}
