//! `nat`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "no-floating-ip",
        doc: "egress: no floating IP for (source_port_key, source IP) and SNAT does not apply (no `snat`, or the packet's network_key is not in `snat.snat_networks`) (check the nat config's `floating_ips[].port_key` and `fixed_ip`, `snat.snat_networks`, and that the layout sends only routed traffic here); ingress: the destination_port_key is neither a floating IP's `floating_port_key` nor `snat.port_key`",
    },
    DropSpec {
        name: "ttl-expired",
        doc: "the IPv4 TTL was 0 or 1: the packet cannot cross the floating IP's router hop. Ingress to a floating IP: an ICMP time exceeded from the floating IP goes back to the sender (at most 3/s per worker, burst 3; none about an ICMP error, a non-first fragment or a non-unicast source; the trace says which); to the SNAT address: none",
    },
    DropSpec {
        name: "icmp-error",
        doc: "an ICMP redirect to or from a floating IP or the SNAT address (never translated); or, egress, an ICMP error (destination unreachable, time exceeded, parameter problem) from a VM with a floating IP whose quoted packet is not addressed to the VM's fixed IP (the trace's `nat: icmp error quoted destination`), i.e. not about a packet it received through its floating IP",
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
        doc: "ingress: neither ARP nor IPv4 to the address of the destination port (the floating IP, or `snat.external_ip` for the SNAT pseudo-port) (check what l2 delivers to those ports: IPv6, or IPv4 to another address); or an ICMP error to the floating IP whose quoted packet's source is not the floating IP (the trace's `nat: icmp error quoted source`): not about a packet sent through it",
    },
    DropSpec {
        name: "not-ipv4",
        doc: "egress: not an IPv4 frame (floating IPs are IPv4 only; check that the layout sends only IPv4 here)",
    },
    DropSpec {
        name: "malformed",
        doc: "a truncated or invalid frame: bad IPv4 version, lengths or header checksum, a TCP/UDP/ICMP header cut short in a first fragment, a truncated ARP packet, or an ICMP error whose quote is not an IPv4 header followed (in a first fragment of TCP, UDP or ICMP) by 8 bytes (RFC 792)",
    },
    DropSpec {
        name: "fragment",
        doc: "SNAT: a non-first IPv4 fragment (offset > 0) from a SNAT source or to the SNAT address: it carries no port to map, and SNAT does no reassembly (the first fragment is translated; expect this for large UDP datagrams; lower the VMs' MTU or use a floating IP)",
    },
    DropSpec {
        name: "snat-exhausted",
        doc: "SNAT egress: the 32 external ports probed from the connection's hash are all held by live connections of the same protocol. Widen `snat.port_min..=port_max` (each of TCP, UDP, ICMP has the whole range), shorten the `*_timeout_secs`, or give busy VMs floating IPs; `describe` shows the live mappings",
    },
    DropSpec {
        name: "snat-no-mapping",
        doc: "SNAT ingress: no live mapping for the destination port (ICMP: echo identifier), or the packet's source is not the mapping's remote address and port: a reply after the idle timeout (`snat.*_timeout_secs`), an unsolicited packet, or a port scan; `describe` shows the live mappings. ICMP errors: ingress, the quoted packet's source is not `snat.external_ip`, or no live mapping holds its protocol and source port (echo request: identifier) for its destination; egress, the quoted packet is not addressed to the sending VM, or no live mapping holds its connection (from that VM port; echo reply: identifier); the trace's `nat: icmp error quoted ...` notes show what was looked up. Errors never refresh a mapping",
    },
    DropSpec {
        name: "snat-unsupported",
        doc: "SNAT: a protocol SNAT cannot map: not TCP, UDP or ICMP echo (egress: echo request; ingress: echo reply), e.g. GRE, ESP, or a ping to the chassis' external address. Give the VM a floating IP for such traffic",
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
/// See [`DROPS`].
pub(crate) const FRAGMENT: DropId = DropId(9);
/// See [`DROPS`].
pub(crate) const SNAT_EXHAUSTED: DropId = DropId(10);
/// See [`DROPS`].
pub(crate) const SNAT_NO_MAPPING: DropId = DropId(11);
/// See [`DROPS`].
pub(crate) const SNAT_UNSUPPORTED: DropId = DropId(12);

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
            (FRAGMENT, "fragment"),
            (SNAT_EXHAUSTED, "snat-exhausted"),
            (SNAT_NO_MAPPING, "snat-no-mapping"),
            (SNAT_UNSUPPORTED, "snat-unsupported"),
        ];
        assert_eq!(ids.len(), DROPS.len());
        for (id, name) in ids {
            assert_eq!(DROPS[id.0 as usize].name, name);
        }
    }
}
