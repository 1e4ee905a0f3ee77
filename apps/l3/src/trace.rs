//! What a traced packet records in `l3-proactive`: one note per decision.
//! Values are numbers: an IPv4 address as its `u32`, an IPv6 address as
//! its low 64 bits (prefixes: the high 64 bits), ICMP as type << 8 | code.

/// `ingress-filter`: the destination port is a router interface; value: router key.
pub(crate) const ROUTER_PORT: &str = "l3: destination is a router interface, router key";
/// `ingress-filter`: not a router interface, forwarded unchanged; value: port key.
pub(crate) const NOT_ROUTER_PORT: &str = "l3: destination is not a router interface, port key";
/// No router with that key; value: the key.
pub(crate) const UNKNOWN_ROUTER: &str = "l3: no router with key";
/// Not IPv4/IPv6; value: the EtherType.
pub(crate) const NOT_IP: &str = "l3: not IP, ethertype";

/// The IPv4 route chosen; value: prefix << 8 | length.
pub(crate) const ROUTE_V4: &str = "l3: route {ipv4/len}";
/// The IPv6 route chosen; value: the prefix's high 64 bits.
pub(crate) const ROUTE_V6: &str = "l3: route (IPv6 prefix, high 64 bits)";
/// The IPv6 route's prefix length.
pub(crate) const ROUTE_V6_LEN: &str = "l3: route prefix length";
/// The route is an extra route; value: its next hop.
pub(crate) const VIA: &str = "l3: extra route via";
/// The port the packet goes to; value: its key.
pub(crate) const NEXT_HOP_PORT: &str = "l3: next hop port key";
/// TTL or hop limit after the decrement.
pub(crate) const TTL_AFTER: &str = "l3: ttl after";
/// No route; value: the destination.
pub(crate) const NO_ROUTE: &str = "l3: no route to";
/// No east-west route, and the router has an external network: handed to
/// NAT; value: the destination IPv4.
pub(crate) const TO_EXTERNAL: &str = "l3: no east-west route, to the external network: {ipv4}";
/// A route but no port with the address; value: the address looked up.
pub(crate) const NO_HOST: &str = "l3: no port has address";
/// TTL or hop limit too small to forward; value: it.
pub(crate) const TTL_EXPIRED: &str = "l3: ttl expired, ttl";

/// Echo request to a router address answered; value: the port key replied to.
pub(crate) const ECHO_REPLY: &str = "l3: echo reply to port key";
/// A packet to a router address the router does not answer; value: IP protocol.
pub(crate) const TO_ROUTER: &str = "l3: to a router address, protocol";
/// A fragment to a router address; value: IP protocol.
pub(crate) const FRAGMENT_TO_ROUTER: &str = "l3: fragment to a router address, protocol";
/// An ICMP error was built; value: type << 8 | code.
pub(crate) const ICMP_SENT: &str = "l3: icmp error sent (type {hi8}, code {lo8})";
/// An ICMP error was due but is over the router's rate; value: type << 8 | code.
pub(crate) const ICMP_RATE_LIMITED: &str = "l3: icmp error rate-limited (type {hi8}, code {lo8})";
/// An ICMP error was due but RFC 1812 / 4443 forbid it (the packet is an
/// ICMP error itself, or a non-first IPv4 fragment); value: type << 8 | code.
pub(crate) const ICMP_SUPPRESSED: &str =
    "l3: icmp error not sent: about an icmp error or a non-first fragment (type << 8 | code)";
/// An ICMP error was due but the router has no address of the packet's
/// family to send it from; value: type << 8 | code.
pub(crate) const ICMP_NO_SOURCE: &str =
    "l3: icmp error not sent: router has no address of this family (type << 8 | code)";
/// An ICMP error was due but the pool was empty; value: type << 8 | code.
pub(crate) const ICMP_NO_BUFFER: &str =
    "l3: icmp error not sent: no buffer (type {hi8}, code {lo8})";

/// Martian source; value: the address.
pub(crate) const MARTIAN_SRC: &str = "l3: martian source";
/// Martian destination (incl. directed broadcast, link-local); value: the address.
pub(crate) const MARTIAN_DST: &str = "l3: martian destination";

/// Malformed notes; value: 0.
pub(crate) const MALFORMED_ETHERNET: &str = "l3: malformed: Ethernet header truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_IPV4: &str =
    "l3: malformed: IPv4 header truncated, bad version/length or bad checksum";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_IPV6: &str =
    "l3: malformed: IPv6 header truncated, bad version or bad extension chain";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_L4: &str = "l3: malformed: ICMP header truncated";
