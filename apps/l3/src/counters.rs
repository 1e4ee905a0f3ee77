//! `l3-proactive`'s drop reasons. A packet the router answers with an ICMP
//! error is counted under the error's reason (`ttl-expired`, `no-route`,
//! `host-unreachable`, `port-unreachable`) whether or not the error could be
//! sent: the trace says which (sent, rate-limited, suppressed by RFC 1812 /
//! RFC 4443, or no buffer).

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "not-ip",
        doc: "a frame to the router's MAC that is neither IPv4 nor IPv6 (ARP and ND are answered \
              before l3; VLAN-tagged frames are not routed): capture it with `dfctl trace`",
    },
    DropSpec {
        name: "malformed",
        doc: "a truncated or inconsistent Ethernet, IPv4 (length, version, header checksum) or \
              IPv6 header (or extension chain, when l3 needs to read it): the sender's stack or \
              a crafted frame",
    },
    DropSpec {
        name: "unknown-router",
        doc: "router_key names no router in the l3 tables: control has not configured it yet, \
              or the l2 and l3 configs disagree (check `dfctl show tables` for both)",
    },
    DropSpec {
        name: "to-router",
        doc: "a packet for one of the router's own addresses that the router does not answer \
              (only ICMP echo is answered, and TCP/UDP get port unreachable)",
    },
    DropSpec {
        name: "fragment-to-router",
        doc: "a fragment addressed to a router interface: the router does not reassemble \
              (a ping larger than the MTU to the router's address)",
    },
    DropSpec {
        name: "rate-limited",
        doc: "a packet the router would have answered with an ICMP error, over the per-router \
              rate (time_exceeded_rate / unreachable_rate, 3/s by default): a traceroute, a \
              scan or a routing loop; look at ttl-expired / no-route / host-unreachable too",
    },
    DropSpec {
        name: "ttl-expired",
        doc: "TTL or hop limit <= 1 on a packet to route; ICMP time exceeded was sent unless \
              rate-limited or suppressed (traceroute, or a routing loop between routers)",
    },
    DropSpec {
        name: "no-route",
        doc: "no connected subnet or extra route of the router covers the destination; ICMP net \
              unreachable was sent (check the router's interfaces and routes)",
    },
    DropSpec {
        name: "host-unreachable",
        doc: "the destination (or the extra route's next hop) is in a connected subnet but no \
              port has that address: the port is missing from the l3 config of its network, \
              or the VM is gone; ICMP host/address unreachable was sent",
    },
    DropSpec {
        name: "port-unreachable",
        doc: "TCP or UDP to a router address (the router runs no services); ICMP port \
              unreachable was sent",
    },
    DropSpec {
        name: "martian",
        doc: "an address a router must not route (RFC 1812 5.3.7, RFC 4291): multicast, \
              broadcast, loopback, unspecified or reserved source or destination, a subnet's \
              directed broadcast, or an IPv6 link-local address to forward",
    },
];

/// See [`DROPS`].
pub(crate) const NOT_IP: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const MALFORMED: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const UNKNOWN_ROUTER: DropId = DropId(2);
/// See [`DROPS`].
pub(crate) const TO_ROUTER: DropId = DropId(3);
/// See [`DROPS`].
pub(crate) const FRAGMENT_TO_ROUTER: DropId = DropId(4);
/// See [`DROPS`].
pub(crate) const RATE_LIMITED: DropId = DropId(5);
/// See [`DROPS`].
pub(crate) const TTL_EXPIRED: DropId = DropId(6);
/// See [`DROPS`].
pub(crate) const NO_ROUTE: DropId = DropId(7);
/// See [`DROPS`].
pub(crate) const HOST_UNREACHABLE: DropId = DropId(8);
/// See [`DROPS`].
pub(crate) const PORT_UNREACHABLE: DropId = DropId(9);
/// See [`DROPS`].
pub(crate) const MARTIAN: DropId = DropId(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_names() {
        let by = |name: &str| crate::CONTRACT.drop_reason(name);
        assert_eq!(by("not-ip"), Some(NOT_IP));
        assert_eq!(by("malformed"), Some(MALFORMED));
        assert_eq!(by("unknown-router"), Some(UNKNOWN_ROUTER));
        assert_eq!(by("to-router"), Some(TO_ROUTER));
        assert_eq!(by("fragment-to-router"), Some(FRAGMENT_TO_ROUTER));
        assert_eq!(by("rate-limited"), Some(RATE_LIMITED));
        assert_eq!(by("ttl-expired"), Some(TTL_EXPIRED));
        assert_eq!(by("no-route"), Some(NO_ROUTE));
        assert_eq!(by("host-unreachable"), Some(HOST_UNREACHABLE));
        assert_eq!(by("port-unreachable"), Some(PORT_UNREACHABLE));
        assert_eq!(by("martian"), Some(MARTIAN));
    }
}
