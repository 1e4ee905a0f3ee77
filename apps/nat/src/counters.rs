//! `nat`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "no-floating-ip",
        doc: "egress: no floating IP for (source_port_key, source IP) (check the nat config's `floating_ips[].port_key` and `fixed_ip`, and that the layout sends only routed traffic from ports with a floating IP here); ingress: the destination_port_key is not a floating IP's `floating_port_key`",
    },
    DropSpec {
        name: "ttl-expired",
        doc: "the IPv4 TTL was 0 or 1: the packet cannot cross the floating IP's router hop (no ICMP time-exceeded is generated in this version)",
    },
    DropSpec {
        name: "icmp-error",
        doc: "an ICMP error (destination unreachable, time exceeded, parameter problem, redirect) to or from a floating IP: its embedded header would need translating too, not done in this version",
    },
    DropSpec {
        name: "no-gateway",
        doc: "egress: the destination is outside the external network's cidr and the network has no `gateway` (check `external_networks[].cidr` and `gateway`)",
    },
    DropSpec {
        name: "neighbour-unresolved",
        doc: "egress: the next hop's MAC is not in the neighbour cache yet; an ARP request was sent (at most one per next hop per 100 ms). Expected for the first packets to a next hop; if it persists, check that ARP replies from the external network reach nat.in.ingress (delivered to the floating port) and that the next hop answers",
    },
    DropSpec {
        name: "arp-consumed",
        doc: "ingress: an ARP message to a floating IP's port, learned from (sender on-link in the external network) and consumed; not an error",
    },
    DropSpec {
        name: "not-for-floating-ip",
        doc: "ingress: neither ARP nor IPv4 to the floating IP of the destination port (check what l2 delivers to floating ports: IPv6, or IPv4 to another address)",
    },
    DropSpec {
        name: "not-ipv4",
        doc: "egress: not an IPv4 frame (floating IPs are IPv4 only; check that the layout sends only IPv4 here)",
    },
    DropSpec {
        name: "malformed",
        doc: "a truncated or invalid frame: bad IPv4 version, lengths or header checksum, a TCP/UDP/ICMP header cut short in a first fragment, or a truncated ARP packet",
    },
];

/// See [`DROPS`].
pub(crate) const NO_FLOATING_IP: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const TTL_EXPIRED: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const ICMP_ERROR: DropId = DropId(2);
/// See [`DROPS`].
pub(crate) const NO_GATEWAY: DropId = DropId(3);
/// See [`DROPS`].
pub(crate) const NEIGHBOUR_UNRESOLVED: DropId = DropId(4);
/// See [`DROPS`].
pub(crate) const ARP_CONSUMED: DropId = DropId(5);
/// See [`DROPS`].
pub(crate) const NOT_FOR_FLOATING_IP: DropId = DropId(6);
/// See [`DROPS`].
pub(crate) const NOT_IPV4: DropId = DropId(7);
/// See [`DROPS`].
pub(crate) const MALFORMED: DropId = DropId(8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_names() {
        let ids = [
            (NO_FLOATING_IP, "no-floating-ip"),
            (TTL_EXPIRED, "ttl-expired"),
            (ICMP_ERROR, "icmp-error"),
            (NO_GATEWAY, "no-gateway"),
            (NEIGHBOUR_UNRESOLVED, "neighbour-unresolved"),
            (ARP_CONSUMED, "arp-consumed"),
            (NOT_FOR_FLOATING_IP, "not-for-floating-ip"),
            (NOT_IPV4, "not-ipv4"),
            (MALFORMED, "malformed"),
        ];
        assert_eq!(ids.len(), DROPS.len());
        for (id, name) in ids {
            assert_eq!(DROPS[id.0 as usize].name, name);
        }
    }
}
